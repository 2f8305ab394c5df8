"""CSV import: dry run, errors by row and column, all or nothing, idempotence, encodings and limits."""

from __future__ import annotations

import base64
import re
from io import BytesIO
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from inspection.venues.models import Venue
from tests.conftest import csrf_token

SAMPLE = (Path(__file__).parent / "data" / "import_sample.csv").read_bytes()
HEADER = "Namn;Adress;Område;Tillståndshavare;Organisationsnummer;Tillståndsnummer;Omfattning;Typ;Serveringstid;Serveringstid ute;Max antal gäster;Ordningsvakter"


def _count(db_session, kommun) -> int:
    return db_session.scalar(select(func.count(Venue.id)).where(Venue.kommun_id == kommun.id))


def _upload(client, raw: bytes, name="venues.csv"):
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(client), "step": "check", "file": FileStorage(BytesIO(raw), filename=name)}
    )
    return client.post("/serveringsstallen/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _confirm(client, html: str):
    content = re.search(r'name="content" value="([^"]*)"', html).group(1)
    return client.post(
        "/serveringsstallen/import", data={"csrf_token": csrf_token(client), "step": "apply", "content": content}
    )


def test_dry_run_then_import_then_nothing_changes(client, login, inspector, db_session, kommun):
    login(inspector)
    response = _upload(client, SAMPLE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "3 nya, 0 ändrade, 0 oförändrade" in html
    assert "Genomför import" in html
    assert _count(db_session, kommun) == 0  # the dry run saves nothing

    response = _confirm(client, html)
    assert response.status_code == 302
    venues = {v.permit_number: v for v in db_session.scalars(select(Venue).where(Venue.kommun_id == kommun.id))}
    assert set(venues) == {"ÖSD-2019-101", "ÖSD-2018-102", "ÖSD-2021-103"}
    club = venues["ÖSD-2018-102"]
    assert club.serving_hours == "21:00-03:00"
    assert club.org_number == "556016-0680"
    assert club.ordningsvakter_required is True
    assert club.max_guests == 600
    assert venues["ÖSD-2021-103"].permit_scope == "slutet_sallskap"
    assert venues["ÖSD-2021-103"].permit_kind == "tillfalligt"

    again = _upload(client, SAMPLE).get_data(as_text=True)
    assert "0 nya, 0 ändrade, 3 oförändrade" in again
    assert _confirm(client, again).status_code == 302
    assert _count(db_session, kommun) == 3


def test_changed_rows_are_updates(client, login, inspector, make_venue, db_session):
    venue = make_venue(permit_number="ÖSD-2019-101", name="Gamla namnet", serving_hours="11:00-23:00")
    login(inspector)
    html = _upload(client, SAMPLE).get_data(as_text=True)
    assert "2 nya, 1 ändrade, 0 oförändrade" in html
    assert "Uppdateras: Namn" in html
    assert "Serveringstid" in html
    _confirm(client, html)
    db_session.refresh(venue)
    assert venue.name == "Restaurang Storsjön"
    assert venue.serving_hours == "11:00-01:00"


def test_errors_name_row_and_column_and_nothing_is_imported(client, login, inspector, db_session, kommun):
    rows = [
        HEADER,
        "Bar A;Gatan 1;;A AB;556016-0681;T-1;Allmänheten;Stadigvarande;11:00-01:00;;80;Nej",
        "Bar B;Gatan 2;;B AB;556016-0680;T-2;Allmänheten;Stadigvarande;25:00-01:00;;många;Kanske",
        "Bar C;Gatan 3;;C AB;556016-0680;T-2;Allmänheten;Stadigvarande;11:00-01:00;;80;Nej",
        "Bar D;Gatan 4;;D AB;556016-0680;T-4;Allmänheten;Stadigvarande;11:00-01:00;;80;Nej",
    ]
    login(inspector)
    response = _upload(client, "\n".join(rows).encode())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Rad 2, kolumn Organisationsnummer" in html
    assert "Rad 3, kolumn Max antal gäster" in html
    assert "Rad 3, kolumn Ordningsvakter" in html
    assert "Genomför import" not in html
    # sending the content anyway imports nothing
    content = base64.b64encode("\n".join(rows).encode()).decode()
    response = client.post(
        "/serveringsstallen/import", data={"csrf_token": csrf_token(client), "step": "apply", "content": content}
    )
    assert response.status_code == 422
    assert "inget har importerats" in response.get_data(as_text=True)
    assert _count(db_session, kommun) == 0


def test_serving_hours_error_row_and_duplicate_in_file(client, login, inspector):
    rows = [
        HEADER,
        "Bar A;Gatan 1;;A AB;556016-0680;T-1;Allmänheten;Stadigvarande;25:00-01:00;;80;Nej",
        "Bar B;Gatan 2;;B AB;556016-0680;T-2;Allmänheten;Stadigvarande;11:00-01:00;;80;Nej",
        "Bar C;Gatan 3;;C AB;556016-0680;T-2;Allmänheten;Stadigvarande;11:00-01:00;;80;Nej",
    ]
    login(inspector)
    html = _upload(client, "\n".join(rows).encode()).get_data(as_text=True)
    assert "Rad 2, kolumn Serveringstid:" in html
    assert "Rad 4, kolumn Tillståndsnummer: Samma tillståndsnummer som rad 3." in html


def test_windows_1252_with_semicolons(client, login, inspector, db_session, kommun):
    text = SAMPLE.decode("utf-8").replace("–", "-")
    login(inspector)
    html = _upload(client, text.encode("cp1252")).get_data(as_text=True)
    assert "Windows-1252" in html
    assert "3 nya" in html
    _confirm(client, html)
    names = set(db_session.scalars(select(Venue.name).where(Venue.kommun_id == kommun.id)))
    assert "Bygdegårdens Festlokal" in names
    assert "Restaurang Storsjön" in names


def test_utf8_bom_with_commas(client, login, inspector):
    text = SAMPLE.decode("utf-8").replace(";", ",")
    login(inspector)
    html = _upload(client, b"\xef\xbb\xbf" + text.encode()).get_data(as_text=True)
    assert 'avgränsare ","' in html
    assert "3 nya" in html


def test_too_large_file(client, login, inspector):
    login(inspector)
    raw = SAMPLE + b"x" * (5 * 1024 * 1024)
    response = _upload(client, raw)
    assert response.status_code == 413
    assert "Filen är för stor: högst 5 MB." in response.get_data(as_text=True)


def test_not_csv(client, login, inspector):
    login(inspector)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    response = _upload(client, png, name="bild.png")
    assert response.status_code == 422
    assert "Filen är inte en CSV-fil" in response.get_data(as_text=True)
    response = _upload(client, b"hello world\nthis is not a table\n", name="notes.txt")
    assert response.status_code == 422
    assert "Rubrikraden saknar kolumnerna" in response.get_data(as_text=True)


def test_import_is_for_kommun_staff(client, login, police):
    login(police)
    assert client.get("/serveringsstallen/import").status_code == 403
    assert _upload(client, SAMPLE).status_code == 403


def test_a_file_past_the_request_limit_is_a_clear_413(client, login, inspector):
    login(inspector)
    response = _upload(client, b"Namn;Adress\n" + b"x" * (17 * 1024 * 1024))
    assert response.status_code == 413
    assert "för stor" in response.get_data(as_text=True)
