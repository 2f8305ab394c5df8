"""The inspection page, the sign page and reopening, through the web client."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest

from inspection.inspections.models import Inspection, Observation
from tests.conftest import PASSWORD, csrf_token

SCRIPT_TEXT = '<script>alert("x")</script> & "citat" <b>fet</b>'


def embedded(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="inspection-data">(.*?)</script>', page, re.S)
    assert match, "the page embeds the inspection as JSON"
    return json.loads(match.group(1))


@pytest.fixture
def joint(make_inspection, make_venue, inspector, police):
    venue = make_venue(name="Källaren Bar", max_guests=150, serving_hours="11:00-03:00")
    return make_inspection(venue=venue, participants=[inspector, police], kind="samordnad")


def add_observation(db_session, inspection, author, text, **kw):
    obs = Observation(
        inspection_id=inspection.id,
        client_id=str(uuid.uuid4()),
        observed_at=kw.pop("observed_at", inspection.planned_start),
        category=kw.pop("category", "berusning"),
        description=text,
        author_id=author.id,
        **kw,
    )
    db_session.add(obs)
    db_session.flush()
    return obs


@pytest.mark.parametrize("who", ["inspector", "police", "manager"])
def test_page_renders_for_participants_and_own_kommun(client, login, joint, request, who):
    login(request.getfixturevalue(who))
    response = client.get(f"/tillsyn/{joint.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Källaren Bar" in page
    assert "11:00-03:00" in page  # permit hours
    assert "150" in page  # max guests
    assert "+ Observation" in page
    assert "Anmärkning" in page
    assert "Ej kontrollerad" in page
    data = embedded(page)
    assert data["id"] == joint.id
    assert data["version"] == joint.version
    assert data["protocol"]["checklist"] == {}


def test_page_is_404_for_another_kommun_and_for_police_not_taking_part(client, login, joint, make_user, other_kommun):
    login(make_user("inspector", org=other_kommun))
    assert client.get(f"/tillsyn/{joint.id}").status_code == 404
    assert client.get(f"/tillsyn/{joint.id}/signera").status_code == 404


def test_police_outside_the_visit_gets_404(client, login, joint, make_user):
    login(make_user("police"))
    assert client.get(f"/tillsyn/{joint.id}").status_code == 404


def test_signed_out_is_sent_to_login(client, joint):
    response = client.get(f"/tillsyn/{joint.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_page_shows_inre_checklist_only_for_inre(client, login, make_inspection, inspector):
    inre = make_inspection(participants=[inspector], kind="inre")
    login(inspector)
    page = client.get(f"/tillsyn/{inre.id}").get_data(as_text=True)
    assert "Restaurangrapport" in page
    assert "Fakturor" in page
    assert "Ålderskontroll" not in page


def test_markup_in_text_is_shown_escaped_exactly(client, login, db_session, joint, inspector):
    joint.summary = SCRIPT_TEXT
    add_observation(db_session, joint, inspector, SCRIPT_TEXT)
    db_session.flush()
    login(inspector)
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert SCRIPT_TEXT not in page  # never as markup
    assert '<script>alert("x")' not in page
    shown = [html.unescape(t) for t in re.findall(r'<p class="note-text">(.*?)</p>', page, re.S)]
    assert SCRIPT_TEXT in shown  # the timeline shows exactly what was typed
    summary = re.search(r'<textarea id="f-summary"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert html.unescape(summary) == SCRIPT_TEXT
    data = embedded(page)  # the JSON block keeps the text exactly, and cannot end the script element
    assert data["protocol"]["summary"] == SCRIPT_TEXT
    assert data["observations"][0]["description"] == SCRIPT_TEXT
    block = page.split('id="inspection-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block


def test_timeline_shows_newest_first_with_author_and_retraction(client, login, db_session, joint, inspector, police):
    from datetime import timedelta

    add_observation(db_session, joint, inspector, "Första iakttagelsen", observed_at=joint.planned_start)
    add_observation(
        db_session,
        joint,
        police,
        "Andra iakttagelsen",
        observed_at=joint.planned_start + timedelta(minutes=20),
        retracted=True,
        retracted_reason="Fel lokal",
    )
    login(inspector)
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert page.index("Andra iakttagelsen") < page.index("Första iakttagelsen")
    assert "Peter Polis" in page
    assert "Återkallad: Fel lokal" in page


def test_sign_page_shows_protocol_as_it_prints(client, login, db_session, joint, inspector):
    joint.contact_person = "Kalle Krögare"
    joint.guest_count = 87
    joint.checklist = {"mat": {"status": "anmarkning", "note": "Ingen mat efter 23"}}
    joint.status = "in_progress"
    add_observation(db_session, joint, inspector, "Stor stark till berusad man")
    db_session.flush()
    login(inspector)
    response = client.get(f"/tillsyn/{joint.id}/signera")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in ("Kalle Krögare", "87", "Ingen mat efter 23", "Stor stark till berusad man", "Peter Polis", "Lösenord"):
        assert text.lower() in page.lower(), text
    assert "Signera protokollet" in page


def test_sign_with_wrong_password_is_a_swedish_error_and_signs_nothing(client, login, db_session, joint, inspector):
    joint.status = "in_progress"
    db_session.flush()
    login(inspector)
    response = client.post(
        f"/tillsyn/{joint.id}/signera", data={"password": "fel-lösenord", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 422
    assert "Fel lösenord" in response.get_data(as_text=True)
    db_session.expire_all()
    inspection = db_session.get(Inspection, joint.id)
    assert inspection.status == "in_progress"
    assert inspection.signatures == []


def test_sign_with_correct_password_signs(client, login, db_session, joint, inspector, police):
    joint.status = "in_progress"
    db_session.flush()
    login(inspector)
    response = client.post(
        f"/tillsyn/{joint.id}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    db_session.expire_all()
    inspection = db_session.get(Inspection, joint.id)
    assert inspection.status == "awaiting_signatures"
    assert [s.user_id for s in inspection.signatures] == [inspector.id]
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert "Du har signerat protokollet." in page
    assert "Väntar på signaturer" in page
    assert "Peter Polis" in page
    assert 'id="f-summary"' not in page  # frozen: no form any more


def test_sign_needs_a_note_on_every_remark(client, login, db_session, joint, inspector):
    joint.status = "in_progress"
    joint.checklist = {"mat": {"status": "anmarkning", "note": None}}
    db_session.flush()
    login(inspector)
    response = client.post(
        f"/tillsyn/{joint.id}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Mat" in page
    assert "kommentar" in page


def test_police_cannot_sign_first(client, login, db_session, joint, police):
    joint.status = "in_progress"
    db_session.flush()
    login(police)
    response = client.post(
        f"/tillsyn/{joint.id}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 409
    assert "Kommunens handläggare signerar protokollet först" in response.get_data(as_text=True)


def test_reopen_needs_a_reason_and_voids_signatures(client, login, db_session, joint, inspector, police):
    joint.status = "in_progress"
    db_session.flush()
    login(inspector)
    client.post(f"/tillsyn/{joint.id}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)})
    page = client.get(f"/tillsyn/{joint.id}/signera").get_data(as_text=True)
    assert "Öppna protokollet igen" in page
    response = client.post(f"/tillsyn/{joint.id}/oppna-igen", data={"reason": "", "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "Skriv varför" in response.get_data(as_text=True)
    response = client.post(
        f"/tillsyn/{joint.id}/oppna-igen", data={"reason": "Fel antal gäster", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    db_session.expire_all()
    inspection = db_session.get(Inspection, joint.id)
    assert inspection.status == "in_progress"
    assert inspection.signatures == []


def test_police_cannot_reopen(client, login, db_session, joint, police):
    joint.status = "awaiting_signatures"
    db_session.flush()
    login(police)
    page = client.get(f"/tillsyn/{joint.id}/signera").get_data(as_text=True)
    assert "Öppna protokollet igen" not in page
    response = client.post(f"/tillsyn/{joint.id}/oppna-igen", data={"reason": "x", "csrf_token": csrf_token(client)})
    assert response.status_code == 403


def test_signed_protocol_is_read_only_with_amendments(client, login, db_session, joint, inspector):
    from inspection.inspections.models import Amendment

    joint.status = "signed"
    joint.summary = "Lugnt i lokalen"
    db_session.add(
        Amendment(inspection_id=joint.id, text="Rättelse: 90 gäster", author_id=inspector.id, content_hash="0" * 64)
    )
    db_session.flush()
    login(inspector)
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert "Lugnt i lokalen" in page
    assert "Rättelse: 90 gäster" in page
    assert 'id="f-summary"' not in page
    assert 'id="obs-open"' not in page
    assert 'data-can-amend="true"' in page


def test_offline_assets_are_served(client, login, inspector):
    login(inspector)
    with client.get("/sw.js") as sw:
        assert sw.status_code == 200
        assert "caches" in sw.get_data(as_text=True)
    for path in ("/static/js/outbox.js", "/static/js/protocol.js", "/static/css/protocol.css"):
        with client.get(path) as response:
            assert response.status_code == 200, path
    with client.get("/manifest.webmanifest") as response:
        assert response.get_json()["lang"] == "sv"


def test_page_without_observations_says_so(client, login, joint, inspector):
    login(inspector)
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert "Inga observationer ännu." in page


def test_police_is_told_the_kommun_signs_first(client, login, db_session, joint, police):
    joint.status = "in_progress"
    db_session.flush()
    login(police)
    page = client.get(f"/tillsyn/{joint.id}/signera").get_data(as_text=True)
    assert "Kommunens handläggare signerar protokollet först" in page
    assert 'id="sign-box"' not in page


def test_amendment_is_written_and_signed_through_the_pages(client, login, db_session, joint, inspector, police):
    joint.status = "in_progress"
    db_session.flush()
    login(inspector)
    client.post(f"/tillsyn/{joint.id}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)})
    db_session.expire_all()
    inspection = db_session.get(Inspection, joint.id)
    inspection.status = "signed"  # as if the police officer had signed too
    db_session.flush()

    response = client.post(f"/tillsyn/{joint.id}/tillagg", data={"text": "", "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "Skriv tillägget." in response.get_data(as_text=True)
    response = client.post(
        f"/tillsyn/{joint.id}/tillagg", data={"text": "Rättelse: <i>90</i> gäster", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    page = client.get(f"/tillsyn/{joint.id}/signera").get_data(as_text=True)
    assert "Rättelse: &lt;i&gt;90&lt;/i&gt; gäster" in page
    assert "Signera tillägget" in page
    aid = db_session.get(Inspection, joint.id).amendments[0].id

    wrong = client.post(
        f"/tillsyn/{joint.id}/tillagg/{aid}/signera", data={"password": "fel", "csrf_token": csrf_token(client)}
    )
    assert wrong.status_code == 422
    assert "Fel lösenord" in wrong.get_data(as_text=True)
    right = client.post(
        f"/tillsyn/{joint.id}/tillagg/{aid}/signera", data={"password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert right.status_code == 302
    db_session.expire_all()
    amendment = db_session.get(Inspection, joint.id).amendments[0]
    assert [s.user_id for s in amendment.signatures] == [inspector.id]


def test_police_cannot_write_an_amendment(client, login, db_session, joint, police):
    joint.status = "signed"
    db_session.flush()
    login(police)
    page = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert "Skriv ett tillägg" not in page
    response = client.post(f"/tillsyn/{joint.id}/tillagg", data={"text": "x", "csrf_token": csrf_token(client)})
    assert response.status_code == 403


def test_page_queries_do_not_grow_with_the_timeline(client, login, db_session, joint, inspector, police, query_counter):
    login(inspector)
    add_observation(db_session, joint, inspector, "En")
    with query_counter() as few:
        assert client.get(f"/tillsyn/{joint.id}").status_code == 200
    for n in range(15):
        add_observation(db_session, joint, police if n % 2 else inspector, f"Observation {n}")
    with query_counter() as many:
        assert client.get(f"/tillsyn/{joint.id}").status_code == 200
    assert many.count == few.count, many.statements
