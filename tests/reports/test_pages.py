"""The report pages: the public half-year report (page and PDF), the texts, the yearly statistics,
the dashboard and the police view."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from inspection.inspections.models import InspectionPlan
from inspection.reports import services
from inspection.reports.models import ReportText
from inspection.types import local_today
from tests.conftest import csrf_token

PERIOD = "from=2025-01-01&to=2025-06-30"


def _main(html: str) -> str:
    """The page's own content (the header shows the signed-in user's name)."""
    return html[html.index('<main id="main"') : html.index("</main>")]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


PERSONAL = [
    "Anna Inspektör",  # the inspector
    "Peter Polis",  # the police officer
    "Maria Chef",  # the manager who decided
    "Conny Kontaktsson",  # the person met on site
    "Rolf Ansvarsson",  # the responsible server present
    "Sven Serveringsson",  # a notified responsible server
    "Bartendern Bosse",  # protocol summary
    "röd jacka",  # observation text
    "märkbart påverkad gäst",  # a remark's note
    "Kalle Deltagare",  # a training participant
    "Överservering vid två besök",  # case summary
]


def test_half_year_page_shows_the_figures(client, login, manager, dataset):
    login(manager)
    response = client.get(f"/rapporter/halvar?{PERIOD}")
    assert response.status_code == 200
    text = _text(_main(response.get_data(as_text=True)))
    assert "Tillsynsbesök totalt 8 2" in text  # this period, a year earlier
    assert "Besök tillsammans med polisen 2 1" in text
    assert "Besökta serveringsställen 4" in text
    assert "Utbildade personer 3" in text
    assert "Andel nekade vid överserveringstest 66,7 %" in text
    assert "Erinran 1 1" in text
    assert "Varning 1 0" in text
    assert "Återkallelse 0 0" in text
    assert "Överservering 2 0" in text  # remarks by item, in the table after the chart
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in response.get_data(as_text=True)


def test_public_report_holds_no_personal_data(client, login, manager, dataset):
    login(manager)
    html = _main(client.get(f"/rapporter/halvar?{PERIOD}").get_data(as_text=True))
    pdf = _pdf_text(client.get(f"/rapporter/halvar.pdf?{PERIOD}").data)
    for secret in PERSONAL:
        assert secret not in html, secret
        assert secret not in pdf, secret


def test_venue_names_only_next_to_a_decided_sanction(client, login, manager, dataset):
    login(manager)
    html = _main(client.get(f"/rapporter/halvar?{PERIOD}").get_data(as_text=True))
    pdf = _pdf_text(client.get(f"/rapporter/halvar.pdf?{PERIOD}").data)
    for page in (html, pdf):
        assert "Krogen Alfa" in page  # erinran in the period
        assert "Baren Beta" in page  # varning on the last day
        assert "Puben Gamma" not in page  # återkallelse after the period
        assert "Nattklubben Delta" not in page  # ingen åtgärd is not a sanction
        assert "Främmande krogen" not in page


def test_pdf_reads_back_with_the_figures(client, login, manager, dataset):
    login(manager)
    response = client.get(f"/rapporter/halvar.pdf?{PERIOD}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "Tillsyn och förebyggande arbete" in text
    assert "Östersunds kommun, 2025-01-01 – 2025-06-30" in text
    assert "Tillsynsbesök totalt 8 2" in text
    assert "Besök tillsammans med polisen 2 1" in text
    assert "Utbildningar 2 0" in text
    assert "Utbildade personer 3 0" in text
    assert "66,7 %" in text
    assert "Anmärkningar per kontrollpunkt" in text  # the chart's heading


def test_manager_edits_the_text_blocks(client, login, manager, kommun, db_session):
    login(manager)
    page = client.get(f"/rapporter/halvar?{PERIOD}").get_data(as_text=True)
    assert "Spara texterna" in page
    response = client.post(
        "/rapporter/halvar/texter",
        data={
            "csrf_token": csrf_token(client),
            "period_from": "2025-01-01",
            "period_to": "2025-06-30",
            "intro": "Vi har besökt krogarna\noch utbildat personalen.",
            "prevention": "AAS två gånger & <b>fler</b>.",
            "outlook": "",
        },
    )
    assert response.status_code == 302
    html = client.get(f"/rapporter/halvar?{PERIOD}").get_data(as_text=True)
    assert "Vi har besökt krogarna\noch utbildat personalen." in html
    assert "AAS två gånger & <b>fler</b>." in _pdf_text(client.get(f"/rapporter/halvar.pdf?{PERIOD}").data)
    rows = db_session.query(ReportText).filter_by(kommun_id=kommun.id).all()
    assert {r.key for r in rows} == {"intro", "prevention", "outlook"}


def test_texts_refuse_control_characters_and_keep_the_input(client, login, manager):
    login(manager)
    response = client.post(
        "/rapporter/halvar/texter",
        data={
            "csrf_token": csrf_token(client),
            "period_from": "2025-01-01",
            "period_to": "2025-06-30",
            "intro": "Hej\x00då",
        },
    )
    assert response.status_code == 422
    assert "otillåtna styrtecken" in response.get_data(as_text=True)


def test_inspectors_do_not_edit_the_texts(client, login, inspector):
    login(inspector)
    assert "Spara texterna" not in client.get(f"/rapporter/halvar?{PERIOD}").get_data(as_text=True)
    response = client.post(
        "/rapporter/halvar/texter",
        data={"csrf_token": csrf_token(client), "period_from": "2025-01-01", "period_to": "2025-06-30", "intro": "x"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2025-06-30&to=2025-01-01", "Perioden slutar innan den börjar."),
        ("from=2999-01-01&to=2999-02-01", "Perioden kan inte börja efter i dag."),
    ],
)
def test_half_year_bad_period_is_a_clear_message(client, login, manager, query, message):
    login(manager)
    response = client.get(f"/rapporter/halvar?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_half_year_for_police_needs_a_kommun_and_shows_any(client, login, police, kommun, other_kommun, dataset):
    login(police)
    page = client.get("/rapporter/halvar")
    assert page.status_code == 200
    assert "Välj en kommun" in page.get_data(as_text=True)
    response = client.get(f"/rapporter/halvar?kommun_id={kommun.id}&{PERIOD}")
    assert "Tillsynsbesök totalt 8 2" in _text(_main(response.get_data(as_text=True)))
    assert "Spara texterna" not in response.get_data(as_text=True)
    assert client.get(f"/rapporter/halvar?kommun_id={other_kommun.id}&{PERIOD}").status_code == 200
    assert client.get(f"/rapporter/halvar?kommun_id=999999&{PERIOD}").status_code == 404


def test_kommun_staff_cannot_read_another_kommuns_report(client, login, inspector, other_kommun):
    login(inspector)
    assert client.get(f"/rapporter/halvar?kommun_id={other_kommun.id}").status_code == 404
    assert client.get(f"/rapporter/halvar.pdf?kommun_id={other_kommun.id}").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/rapporter/", "/rapporter/halvar", "/rapporter/halvar.pdf", "/rapporter/arsstatistik", "/rapporter/export"],
)
def test_admins_see_no_reports(client, login, admin, path):
    login(admin)
    response = client.get(path)  # the gate sends admins to their own pages
    assert response.status_code == 302
    assert response.location.endswith("/admin/users")


def test_yearly_statistics_table_and_csv(client, login, manager, dataset, make_venue):
    make_venue(name="Sommarfesten", permit_kind="tillfalligt", serving_hours="12:00-02:00")
    make_venue(name="Stängd", active=False)
    login(manager)
    page = client.get("/rapporter/arsstatistik?year=2025")
    assert page.status_code == 200
    text = _text(_main(page.get_data(as_text=True)))
    # 2025: the eight visits of the first half plus the two just after 2025-06-30
    assert "Tillsynsbesök totalt 10" in text
    assert "Stadigvarande serveringstillstånd 4" in text
    assert "Tillfälliga serveringstillstånd 1" in text
    assert "Tillstånd med servering efter 01:00 1" in text
    assert "Restaurangrapporter mottagna (granskade vid inre tillsyn) 1" in text
    assert "Sanktion: Återkallelse 1" in text
    csv = client.get("/rapporter/arsstatistik.csv?year=2025")
    assert csv.status_code == 200
    assert csv.data.startswith("\ufeff".encode())
    body = csv.data.decode("utf-8-sig")
    assert body.splitlines()[0] == "Uppgift;2025"
    assert "Tillsynsbesök totalt;10" in body.splitlines()


def test_yearly_statistics_future_year_is_422(client, login, manager):
    login(manager)
    response = client.get(f"/rapporter/arsstatistik?year={local_today().year + 1}")
    assert response.status_code == 422
    assert "Året har inte börjat än." in response.get_data(as_text=True)


def test_dashboard_charts_and_tables(client, login, manager, kommun, dataset, db_session):
    db_session.add(InspectionPlan(kommun_id=kommun.id, year=2025, visits_class_1=1, visits_class_2=3, visits_class_3=6))
    db_session.flush()
    login(manager)
    response = client.get("/rapporter/?year=2025")
    assert response.status_code == 200
    html = _main(response.get_data(as_text=True))
    assert html.count('class="chart"') == 5
    assert " style=" not in html  # the CSP forbids inline styles; charts are styled by classes
    text = _text(html)
    # four active venues of risk class 2, three visits each in the plan
    assert "signerade besök av 12 enligt planen" in text
    assert "jan 2 1" in text  # visits in January (two), one expected a month
    assert "mar 1 1" in text
    # one of four venues has an attendee who passed AAS
    assert "1 av 4 aktiva serveringsställen" in text
    assert "Kommunicering skickad 1" in text  # open cases by status
    assert "Överservering 2" in text  # remarks by item


def test_police_see_the_joint_work_per_kommun(client, login, police, kommun, other_kommun, dataset):
    login(police)
    assert client.get("/rapporter/").status_code == 302
    response = client.get(f"/rapporter/polis?{PERIOD}")
    assert response.status_code == 200
    text = _text(_main(response.get_data(as_text=True)))
    assert "Östersunds kommun 2 2" in text  # two joint visits, two överservering observations
    assert "Krokoms kommun 0 0" in text
    assert "Överservering vid två besök" not in text


def test_kommun_staff_do_not_get_the_police_view(client, login, inspector):
    login(inspector)
    assert client.get("/rapporter/polis").status_code == 403


def test_nav_has_reports(client, login, inspector):
    login(inspector)
    assert 'href="/rapporter/"' in client.get("/").get_data(as_text=True)


def test_dates_are_accepted_in_any_year(db_session):
    assert services.year_earlier(date(2024, 2, 29)) == date(2023, 2, 28)


def test_dashboard_months_follow_stockholm(db_session, kommun, dataset):
    d = services.dashboard(kommun.id, 2025)
    # 00:15 on New Year's Day and 00:25 on 30 June, Stockholm: still 2024 / 29 June in UTC
    assert d["overservering"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert d["visits"][0] == 2  # v2 and v4, both just after midnight on 1 January
    assert d["visits"][6] == 2  # the two visits just after midnight on 1 July
    assert sum(d["visits"]) == 10
