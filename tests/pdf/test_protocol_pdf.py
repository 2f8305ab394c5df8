"""The protocol PDF read back: content, numbering, draft mark, verification code, literal text,
embedded fonts, pagination, determinism and who may download it."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from inspection.audit import AuditEntry
from inspection.inspections.models import Observation
from inspection.pdf.protocol import build_protocol_pdf, load_inspections, protocol_data

from .conftest import ARRIVED, pdf_pages, pdf_text

URL = "/tillsyn/{}/protokoll.pdf"
API_URL = "/api/v1/inspections/{}/protocol.pdf"


def render(inspection) -> bytes:
    [loaded] = load_inspections([inspection.id])
    return build_protocol_pdf(protocol_data(loaded, base_url="https://tillsyn.example.se"))


def test_download_shows_the_protocol(client, login, inspector, police, protocol):
    login(inspector)
    response = client.get(URL.format(protocol.id))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in (
        "Östersunds kommun",
        "Polisområde Jämtland",
        "Tillsynsprotokoll – yttre tillsyn, samordnad med Polisen",
        "Restaurang X",
        "Krogen X AB",
        "T-2026-042",
        "2026-11-21",
        "23:41",  # arrival, Stockholm time
        "00:52",  # departure after midnight
        "Anna Inspektör",
        "Peter Polis",
        "Rita Räddning",
        "Räddningstjänsten",
        "Kim Skiftledare",
        "Sara Serveringsansvarig",
        "85 (max 120)",
        "Salongsberusad",
        "Kön saknade ordningsvakt.",
        "Leg kontrollerades i entrén.",
        "Gäst vid baren sluddrade och vinglade.",
        "Bartendern serverade gästen en öl till.",
        "Märkbart påverkad",
        "Välskött ställe men kö utan ordningsvakt.",
        "Återkoppling till skiftledaren kl. 00:45.",
        "Kön vid entrén",  # the photo's caption
        "alkohollagen (2010:1622) 9 kap.",
    ):
        assert expected in text, expected
    reader = PdfReader(io.BytesIO(response.data))
    images = [name for page in reader.pages for name in page.images]
    assert images, "the photo is printed as a thumbnail"


def test_filename_and_attachment(client, login, inspector, protocol):
    login(inspector)
    response = client.get(URL.format(protocol.id))
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="tillsynsprotokoll-2026-11-21-restaurang-x.pdf"'
    )


def test_filename_is_ascii(client, login, inspector, make_venue, make_inspection):
    venue = make_venue(name="Åre Ölkällare & Café Żółć")
    inspection = make_inspection(venue=venue, participants=[inspector], start=ARRIVED)
    login(inspector)
    response = client.get(URL.format(inspection.id))
    assert (
        'filename="tillsynsprotokoll-2026-11-21-are-olkallare-cafe-zolc.pdf"' in response.headers["Content-Disposition"]
    )


def test_every_download_is_audited(client, login, db_session, inspector, protocol):
    login(inspector)
    assert client.get(URL.format(protocol.id)).status_code == 200
    entries = db_session.query(AuditEntry).filter_by(action="inspection.pdf_download", object_id=protocol.id).all()
    assert len(entries) == 1
    assert entries[0].user_id == inspector.id


def test_draft_is_marked_utkast_on_every_page(app, protocol):
    with app.test_request_context():
        pages = pdf_pages(render(protocol))
    assert all("UTKAST" in page for page in pages)
    assert "Kontrollkod" not in " ".join(pages)


def test_signed_carries_the_code_and_no_draft_mark(app, protocol, sign):
    sign(protocol)
    with app.test_request_context():
        pages = pdf_pages(render(protocol))
    text = " ".join(pages)
    code = protocol.verification_code
    assert len(code.replace("-", "")) >= 10
    assert "UTKAST" not in text
    assert f"Kontrollkod: {code}" in text
    assert f"Kontrollera äktheten på https://tillsyn.example.se/verify/{code}" in text
    assert all(code in page for page in pages), "the footer of every page carries the code"


def test_signed_prints_signatures_with_organisation_and_time(app, protocol, sign):
    sign(protocol)
    with app.test_request_context():
        text = pdf_text(render(protocol))
    assert "Signaturer" in text
    assert "Anna Inspektör Östersunds kommun 2026-11-22 10:52" in text
    assert "Peter Polis Polisområde Jämtland 2026-11-22 10:53" in text


def test_signed_protocol_prints_the_frozen_content(app, db_session, protocol, sign):
    sign(protocol)
    protocol.summary = "Ändrad efter signering"  # must never show: the signed content is frozen
    db_session.flush()
    with app.test_request_context():
        text = pdf_text(render(protocol))
    assert "Välskött ställe men kö utan ordningsvakt." in text
    assert "Ändrad efter signering" not in text


def test_amendments_print_with_their_own_code(app, protocol, sign, amend, inspector):
    sign(protocol)
    amendment = amend(protocol, inspector)
    with app.test_request_context():
        text = pdf_text(render(protocol))
    assert "Rättelse: gästantalet var 95." in text
    assert f"Tilläggets kontrollkod: {amendment.verification_code}" in text
    assert amendment.verification_code != protocol.verification_code


@pytest.mark.parametrize("via", ["web", "api"])
def test_same_signed_protocol_gives_identical_bytes(client, login, api, inspector, protocol, sign, via):
    sign(protocol)
    if via == "web":
        login(inspector)
        first, second = (client.get(URL.format(protocol.id)).data for _ in range(2))
    else:
        api.as_user(inspector)
        first, second = (api.get(API_URL.format(protocol.id)).data for _ in range(2))
    assert first[:4] == b"%PDF"
    assert first == second


def test_markup_and_names_print_literally(app, db_session, make_user, make_inspection, make_venue):
    names = ["Łukasz Żółć", "Şükrü Yılmaz", "Nguyễn Thị Minh Khai", "Ελένη"]
    users = [make_user("inspector", name=name) for name in names]
    inspection = make_inspection(venue=make_venue(name="<b>Bar</b> & Co"), participants=users, start=ARRIVED)
    markup = "<b>x</b> & <script>alert(1)</script> &amp; <font size=40>stor</font>"
    inspection.summary = markup
    inspection.contact_person = "Ελένη <i>"
    inspection.checklist = {"mat": {"status": "anmarkning", "note": "<br/>bara & chips"}}
    db_session.add(
        Observation(
            inspection=inspection,
            client_id=str(uuid.uuid4()),
            observed_at=ARRIVED,
            category="ovrigt",
            description="Nguyễn said: <para>hej</para> & Şükrü",
            author_id=users[0].id,
        )
    )
    db_session.flush()
    with app.test_request_context():
        text = pdf_text(render(inspection))
    for expected in (
        *names,
        markup,
        "<b>Bar</b> & Co",
        "Ελένη <i>",
        "<br/>bara & chips",
        "Nguyễn said: <para>hej</para> & Şükrü",
    ):
        assert expected in text, expected


def _fonts(obj, seen: set, found: list) -> None:
    """Every font dictionary reachable from the page resources (XObjects and Type0 descendants too)."""
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, dict):
        if obj.get("/Type") == "/Font":
            found.append(obj)
        for value in obj.values():
            _fonts(value, seen, found)
    elif isinstance(obj, list):
        for value in obj:
            _fonts(value, seen, found)


def test_every_font_is_embedded(app, protocol, sign):
    sign(protocol)
    with app.test_request_context():
        pdf = render(protocol)
    reader = PdfReader(io.BytesIO(pdf))
    found: list = []
    seen: set = set()
    for page in reader.pages:
        _fonts(page.get("/Resources"), seen, found)
    assert found
    for font in found:
        descendants = font.get("/DescendantFonts")
        targets = [d.get_object() for d in descendants] if descendants else [font]
        for target in targets:
            descriptor = target.get("/FontDescriptor")
            assert descriptor is not None, f"{font.get('/BaseFont')} has no descriptor (a standard font)"
            assert "/FontFile2" in descriptor.get_object(), f"{font.get('/BaseFont')} is not embedded"
        assert "Helvetica" not in str(font.get("/BaseFont"))


def test_metadata_and_language(app, protocol):
    with app.test_request_context():
        pdf = render(protocol)
    reader = PdfReader(io.BytesIO(pdf))
    meta = reader.metadata
    assert "Restaurang X" in meta.title
    assert meta.author == "Östersunds kommun"
    assert "alkohollagen" in meta.subject
    assert reader.trailer["/Root"]["/Lang"] == "sv"


def test_200_observations_paginate_with_numbers_on_every_page(app, db_session, protocol, inspector):
    for n in range(200):
        db_session.add(
            Observation(
                inspection=protocol,
                client_id=str(uuid.uuid4()),
                observed_at=ARRIVED + timedelta(seconds=30 * n),
                category="ordning",
                description=f"Observation nummer {n + 1:03d}: stökigt vid entrén, flera gäster högljudda.",
                author_id=inspector.id,
            )
        )
    db_session.flush()
    db_session.expire(protocol)
    with app.test_request_context():
        pages = pdf_pages(render(protocol))
    total = len(pages)
    assert total > 2
    for number, page in enumerate(pages, start=1):
        assert f"Sida {number} av {total}" in page
    text = " ".join(pages)
    assert "Observation nummer 001" in text
    assert "Observation nummer 200" in text
    # The table's header row repeats on the pages it continues on.
    continued = [page for page in pages if "Observation nummer" in page]
    assert len(continued) > 2
    assert all("Beskrivning" in page for page in continued)


def test_very_long_note_paginates(app, db_session, protocol):
    protocol.checklist = {"mat": {"status": "anmarkning", "note": "Lång anteckning. " * 600}}
    protocol.summary = "Sammanfattning. " * 600
    db_session.flush()
    with app.test_request_context():
        pages = pdf_pages(render(protocol))
    assert len(pages) >= 3
    assert all(f"av {len(pages)}" in page for page in pages)


def test_page_numbers_on_a_short_protocol(app, make_inspection, inspector):
    inspection = make_inspection(participants=[inspector], kind="yttre", start=ARRIVED)
    with app.test_request_context():
        pages = pdf_pages(render(inspection))
    assert all(f"Sida {n} av {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "Tillsynsprotokoll – yttre tillsyn" in pages[0]
    assert "samordnad" not in pages[0]


# ---- who may download ------------------------------------------------------------------------


def test_other_kommun_gets_404(client, login, api, make_user, other_kommun, protocol):
    stranger = make_user("inspector", org=other_kommun)
    login(stranger)
    assert client.get(URL.format(protocol.id)).status_code == 404
    api.as_user(stranger)
    response = api.get(API_URL.format(protocol.id))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_police_participant_may_download(api, police, protocol):
    api.as_user(police)
    response = api.get(API_URL.format(protocol.id))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('filename="tillsynsprotokoll-2026-11-21-restaurang-x.pdf"')
    assert "Restaurang X" in pdf_text(response.data)


def test_police_not_taking_part_gets_404(api, make_user, protocol):
    api.as_user(make_user("police"))
    assert api.get(API_URL.format(protocol.id)).status_code == 404


def test_api_without_token_is_401(client, protocol):
    assert client.get(API_URL.format(protocol.id)).status_code == 401


def test_same_kommun_manager_may_download(client, login, manager, protocol):
    login(manager)
    assert client.get(URL.format(protocol.id)).status_code == 200


def test_verify_address_uses_public_base_url(client, login, monkeypatch, app, inspector, protocol, sign):
    sign(protocol)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://krogtillsyn.ostersund.se/")
    login(inspector)
    text = pdf_text(client.get(URL.format(protocol.id)).data)
    assert f"Kontrollera äktheten på https://krogtillsyn.ostersund.se/verify/{protocol.verification_code}" in text
