"""CSV exports: UTF-8 with BOM, semicolons, Swedish headers, only what the user may see."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from inspection.audit import AuditEntry
from inspection.types import local_today

PERIOD = "from=2025-01-01&to=2025-06-30"


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = response.data.decode("utf-8")[1:]
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_inspections_csv_for_kommun_staff(client, login, manager, dataset, db_session):
    login(manager)
    response = client.get(f"/rapporter/export?typ=inspektioner&{PERIOD}")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["ID", "Serveringsställe", "Typ", "Status"]
    assert b";" in response.data.split(b"\r\n")[0]
    venues = {row[1] for row in body}
    assert "Främmande krogen" not in venues  # another kommun's
    assert {"Krogen Alfa", "Baren Beta", "Puben Gamma", "Nattklubben Delta"} <= venues
    statuses = {row[3] for row in body}
    assert {"Signerad", "Inställd", "Pågår"} <= statuses
    alfa = next(row for row in body if row[0] == str(dataset["visits"][0].id))
    assert alfa[header.index("Antal anmärkningar")] == "2"
    assert alfa[header.index("Planerad start")] == "2025-03-10 21:00"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "report.export")).all()
    assert entry
    assert entry[-1].details["type"] == "inspektioner"


def test_police_export_only_their_inspections_and_no_cases(client, login, police, dataset):
    login(police)
    rows = _rows(client.get(f"/rapporter/export?typ=inspektioner&{PERIOD}"))[1:]
    ids = {int(row[0]) for row in rows}
    v = dataset["visits"]
    assert v[2].id in ids  # a joint visit they took part in
    assert v[0].id not in ids
    assert v[6].id not in ids
    assert all(row[1] != "Främmande krogen" for row in rows)
    assert len(rows) == 2  # the joint visit of 29 June and the one awaiting signatures
    observations = _rows(client.get(f"/rapporter/export?typ=observationer&{PERIOD}"))[1:]
    assert len(observations) == 3
    assert client.get(f"/rapporter/export?typ=arenden&{PERIOD}").status_code == 403
    assert "Tillsynsärenden" not in client.get("/rapporter/export").get_data(as_text=True)


def test_observations_and_trainings(client, login, inspector, dataset):
    login(inspector)
    observations = _rows(client.get(f"/rapporter/export?typ=observationer&{PERIOD}"))
    assert observations[0][:4] == ["Tillsyn-ID", "Serveringsställe", "Tidpunkt", "Kategori"]
    assert len(observations) == 4
    assert any("röd jacka" in row[5] for row in observations[1:])
    trainings = _rows(client.get(f"/rapporter/export?typ=utbildningar&{PERIOD}"))
    titles = [row[3] for row in trainings[1:]]
    assert titles == ["AAS vår", "KMK"]  # by start date; not the one started before, not another kommun's
    aas = trainings[1]
    assert aas[trainings[0].index("Deltagare")] == "3"
    assert aas[trainings[0].index("Närvarande")] == "2"
    assert aas[trainings[0].index("Godkända")] == "1"


def test_cases_csv_only_own_kommun(client, login, manager, dataset):
    login(manager)
    today = local_today().isoformat()
    rows = _rows(client.get(f"/rapporter/export?typ=arenden&from={local_today().year}-01-01&to={today}"))
    venues = [row[1] for row in rows[1:]]
    assert len(venues) == 6
    assert "Främmande krogen" not in venues
    assert "Erinran" in {row[5] for row in rows[1:]}


def test_formulas_are_not_run_by_excel(client, login, manager, make_venue, make_inspection, inspector):
    venue = make_venue(name='=HYPERLINK("http://x")')
    make_inspection(venue=venue, participants=[inspector], kind="yttre", start=None)
    login(manager)
    today = local_today().isoformat()
    rows = _rows(client.get(f"/rapporter/export?typ=inspektioner&from={today}&to={today}"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'


def test_export_form_and_bad_input(client, login, manager):
    login(manager)
    page = client.get("/rapporter/export")
    assert page.status_code == 200
    assert "Tillsynsärenden" in page.get_data(as_text=True)
    bad = client.get("/rapporter/export?typ=allt&from=2025-01-01&to=2025-02-01")
    assert bad.status_code == 422
    assert "Välj vad som ska exporteras." in bad.get_data(as_text=True)
    reversed_period = client.get("/rapporter/export?typ=inspektioner&from=2025-02-01&to=2025-01-01")
    assert reversed_period.status_code == 422
    assert "Perioden slutar innan den börjar." in reversed_period.get_data(as_text=True)
