"""Verification page, archive ZIP, the date sent to the permit holder and the 10-working-day reminder."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta

from inspection.audit import AuditEntry
from inspection.inspections import verification
from inspection.inspections.documents import add_working_days, delivery_due, overdue_deliveries
from tests.conftest import csrf_token, stockholm

from .conftest import ARRIVED, pdf_text

# ---- /verify/<code> ----------------------------------------------------------------------------


def test_verify_genuine_signed_protocol(client, protocol, sign):
    sign(protocol)
    response = client.get(f"/verify/{protocol.verification_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Äkta" in html
    assert "2026-11-21" in html
    assert "Restaurang X" in html
    assert "Östersunds kommun" in html
    assert "Tillägg efter signering</dt><dd>Nej" in html
    # Nothing else about the visit is public.
    assert "Kön saknade ordningsvakt" not in html
    assert "Anna Inspektör" not in html


def test_verify_accepts_the_code_as_typed(client, protocol, sign):
    sign(protocol)
    typed = protocol.verification_code.lower().replace("-", " ")
    assert client.get(f"/verify/{typed}").status_code == 200


def test_verify_shows_a_later_amendment(client, protocol, sign, amend, inspector):
    sign(protocol)
    amendment = amend(protocol, inspector)
    html = client.get(f"/verify/{protocol.verification_code}").get_data(as_text=True)
    assert "Ja – det finns 1 signerade tillägg" in html
    response = client.get(f"/verify/{amendment.verification_code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "tillägg till tillsynsprotokoll" in html
    assert "Restaurang X" in html


def test_verify_unknown_code_is_404(client):
    response = client.get("/verify/AAAA-BBBB-CCCC")
    assert response.status_code == 404
    assert "hör inte till något signerat protokoll" in response.get_data(as_text=True)


def test_verify_draft_is_not_genuine(client, db_session, protocol):
    protocol.verification_code = verification.make_code("0" * 64)  # a code, but the protocol is unsigned
    db_session.flush()
    assert client.get(f"/verify/{protocol.verification_code}").status_code == 404


def test_verify_is_rate_limited(client):
    statuses = [client.get("/verify/AAAA-BBBB-CCCC").status_code for _ in range(verification.VERIFY_PER_MINUTE + 1)]
    assert statuses[:-1] == [404] * verification.VERIFY_PER_MINUTE
    assert statuses[-1] == 429


def test_verify_rate_limit_answers_retry_after(client, protocol, sign):
    sign(protocol)
    for _ in range(verification.VERIFY_PER_MINUTE):
        client.get("/verify/AAAA-BBBB-CCCC")
    response = client.get(f"/verify/{protocol.verification_code}")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61


def test_verify_lookups_do_not_lock_the_login(client, login, inspector):
    for _ in range(verification.VERIFY_PER_MINUTE):
        client.get("/verify/AAAA-BBBB-CCCC")
    login(inspector)  # still possible from the same address


# ---- archive ZIP -------------------------------------------------------------------------------


def _archive(client, start="2026-11-01", end="2026-11-30"):
    return client.get(f"/tillsyn/arkiv.zip?start={start}&end={end}")


def test_archive_zip_holds_the_periods_signed_protocols(
    client, login, db_session, inspector, protocol, sign, make_inspection, make_venue
):
    sign(protocol)
    make_inspection(venue=make_venue(name="Utkastbaren"), participants=[inspector], start=ARRIVED)
    sign(
        make_inspection(
            venue=make_venue(name="Decemberkrogen"), participants=[inspector], start=stockholm(2026, 12, 3, 22)
        )
    )
    login(inspector)
    page = client.get("/tillsyn/arkiv?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200
    assert "1 signerade protokoll" in page.get_data(as_text=True)
    response = _archive(client)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "Content-Length" not in response.headers  # streamed while it is made
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["tillsynsprotokoll-2026-11-21-restaurang-x.pdf"]
    text = pdf_text(archive.read("tillsynsprotokoll-2026-11-21-restaurang-x.pdf"))
    assert protocol.verification_code in text
    assert "UTKAST" not in text
    entries = db_session.query(AuditEntry).filter_by(action="inspection.pdf_download").all()
    assert [e.object_id for e in entries] == [protocol.id]


def test_archive_is_for_kommun_staff(client, login, police, protocol):
    login(police)
    assert _archive(client).status_code == 403
    assert client.get("/tillsyn/arkiv").status_code == 403


def test_archive_leaves_out_other_kommuns(client, login, make_user, other_kommun, protocol, sign):
    sign(protocol)
    login(make_user("inspector", org=other_kommun))
    archive = zipfile.ZipFile(io.BytesIO(_archive(client).data))
    assert archive.namelist() == []


def test_archive_refuses_a_reversed_period(client, login, inspector):
    login(inspector)
    response = client.get("/tillsyn/arkiv?start=2026-11-30&end=2026-11-01")
    assert response.status_code == 422
    assert "Slutdatum får inte vara före startdatum." in response.get_data(as_text=True)


# ---- sent to the permit holder ----------------------------------------------------------------


def _post_sent(client, inspection, day):
    return client.post(f"/tillsyn/{inspection.id}/dokument", data={"sent_on": day, "csrf_token": csrf_token(client)})


def test_record_sent_to_holder(client, login, db_session, inspector, protocol, sign):
    sign(protocol)
    login(inspector)
    page = client.get(f"/tillsyn/{protocol.id}/dokument")
    assert page.status_code == 200
    assert "Skicka senast" in page.get_data(as_text=True) or "Inte skickat" in page.get_data(as_text=True)
    response = _post_sent(client, protocol, "2026-11-25")
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(type(protocol), protocol.id).sent_to_holder_on == date(2026, 11, 25)
    assert "Skickat 2026-11-25" in client.get(f"/tillsyn/{protocol.id}/dokument").get_data(as_text=True)


def test_sent_date_before_signing_is_refused(client, login, inspector, protocol, sign):
    sign(protocol)
    login(inspector)
    response = _post_sent(client, protocol, "2026-11-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Protokollet signerades 2026-11-22" in html
    assert 'value="2026-11-01"' in html  # the user's input is kept


def test_sent_on_a_draft_is_refused(client, login, inspector, protocol):
    login(inspector)
    assert _post_sent(client, protocol, "2026-11-25").status_code == 409


def test_police_may_not_record_sending(client, login, police, protocol, sign):
    sign(protocol)
    login(police)
    assert _post_sent(client, protocol, "2026-11-25").status_code == 403


def test_working_days_skip_weekends_and_holidays():
    assert add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Friday → Monday
    assert add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 28)  # julafton, juldagen, annandag jul
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)  # långfredag, annandag påsk
    assert delivery_due(stockholm(2026, 11, 22, 10)) == date(2026, 12, 4)


def test_overdue_deliveries(db_session, kommun, protocol, sign, make_inspection, make_venue, inspector):
    sign(protocol)  # signed 2026-11-22 (a Sunday): due 2026-12-04
    assert overdue_deliveries(kommun.id, today=date(2026, 12, 4)) == []
    assert overdue_deliveries(kommun.id, today=date(2026, 12, 5)) == [protocol]
    protocol.sent_to_holder_on = date(2026, 12, 7)
    db_session.flush()
    assert overdue_deliveries(kommun.id, today=date(2026, 12, 8)) == []


def test_start_page_reminds_of_overdue_deliveries(client, login, db_session, inspector, protocol, sign):
    sign(protocol, when=datetime.now(UTC) - timedelta(days=30))
    login(inspector)
    html = client.get("/").get_data(as_text=True)
    assert "Protokoll att skicka till tillståndshavaren" in html
    assert "Restaurang X" in html


def test_protocol_signed_through_the_api_verifies(api, client, db_session, inspector, police, protocol):
    """End to end: both participants sign with the real signing endpoint; the PDF carries the code
    that /verify accepts, and two downloads give the same bytes."""
    from tests.conftest import PASSWORD

    for user in (inspector, police):
        response = api.as_user(user).post(f"/api/v1/inspections/{protocol.id}/signatures", json={"password": PASSWORD})
        assert response.status_code in (200, 201), response.get_json()
    db_session.expire_all()
    signed = db_session.get(type(protocol), protocol.id)
    assert signed.status == "signed"
    assert signed.verification_code
    first = api.get(f"/api/v1/inspections/{protocol.id}/protocol.pdf")
    second = api.get(f"/api/v1/inspections/{protocol.id}/protocol.pdf")
    assert first.data == second.data
    text = pdf_text(first.data)
    assert f"Kontrollkod: {signed.verification_code}" in text
    assert "UTKAST" not in text
    assert "Kön saknade ordningsvakt." in text
    assert client.get(f"/verify/{signed.verification_code}").status_code == 200


def test_archive_page_offers_last_month(client, login, inspector):
    login(inspector)
    response = client.get("/tillsyn/arkiv")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Signerade protokoll för arkivet" in html
    assert 'name="start"' in html
    assert "Arkiv</a>" in html  # the menu entry


def test_documents_page_of_a_draft(client, login, police, protocol):
    login(police)
    response = client.get(f"/tillsyn/{protocol.id}/dokument")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"/tillsyn/{protocol.id}/protokoll.pdf" in html
    assert "märkt UTKAST" in html
    assert "Spara datum" not in html


def test_signed_pdf_keeps_the_venue_as_it_was_at_signing(app, api, db_session, inspector, police, protocol):
    """A venue renamed or sold after the visit must not change the signed protocol's document."""
    from inspection.inspections import protocol as service
    from tests.conftest import PASSWORD

    api.as_user(inspector).post(f"/api/v1/inspections/{protocol.id}/signatures", json={"password": PASSWORD})
    api.as_user(police).post(f"/api/v1/inspections/{protocol.id}/signatures", json={"password": PASSWORD})
    before = api.get(f"/api/v1/inspections/{protocol.id}/protocol.pdf").data
    assert "Krogen X AB" in pdf_text(before)

    venue = protocol.venue
    venue.name, venue.permit_holder = "Nya Namnet", "Köparen AB"
    db_session.flush()
    after = api.get(f"/api/v1/inspections/{protocol.id}/protocol.pdf").data
    assert after == before
    assert "Köparen AB" not in pdf_text(after)

    # Reopening (here: a second protocol, signed by the inspector, not yet by the police) drops the snapshot with the
    # signed content; the draft prints the venue as it is now, and the next signature takes it anew.
    draft = type(protocol)(
        kommun_id=protocol.kommun_id,
        venue=venue,
        kind=protocol.kind,
        planned_start=protocol.planned_start,
        planned_end=protocol.planned_end,
        status="in_progress",
    )
    for user in (inspector, police):
        draft.participants.append(
            type(protocol.participants[0])(user=user, organisation_id=user.organisation_id, response="accepted")
        )
    db_session.add(draft)
    db_session.flush()
    with app.test_request_context():
        service.sign(inspector, service.load_inspection(inspector, draft.id, "sign"), PASSWORD)
        db_session.flush()
        assert draft.signed_venue["permit_holder"] == "Köparen AB"
        service.reopen(inspector, draft, "Fel gästantal")
        db_session.flush()
    assert draft.signed_venue is None
