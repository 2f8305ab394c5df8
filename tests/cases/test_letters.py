"""The kommunicering and decision letters, read back as text; the kommun's editable templates."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from tests.conftest import csrf_token

from .conftest import DAY0


def _text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _decided_case(open_case, step, venue, inspector, manager):
    cid = open_case(venue, diarienummer="ÖSD 2026/77")["id"]
    step(cid, inspector, "proposal", DAY0, sanction="varning", text="Servering till märkbart påverkad gäst.")
    step(cid, inspector, "kommunicering", DAY0 + timedelta(days=1))
    r = step(
        cid,
        manager,
        "decision",
        DAY0 + timedelta(days=20),
        sanction="varning",
        decided_by="delegat",
        text="Upprepad överservering.",
    )
    assert r.status_code == 201, r.get_json()
    return cid


def test_kommunicering_letter_has_venue_deadline_and_literal_markup(
    today, client, login, venue, open_case, step, inspector, manager
):
    cid = _decided_case(open_case, step, venue, inspector, manager)
    login(inspector)
    text = _flat(_text(client.get(f"/arenden/{cid}/kommunicering.pdf")))
    assert "Kommunicering inför beslut" in text
    assert "Bar Jämtlandia" in text
    assert "Krog <b>Bar</b> AB" in text  # printed as typed, not as markup
    assert (DAY0 + timedelta(days=15)).isoformat() in text  # the kommunicering's deadline
    assert "varning" in text
    assert "ÖSD 2026/77" in text
    assert "förvaltningslagen 25 §" in text


def test_decision_letter_carries_appeal_instructions(today, client, login, venue, open_case, step, inspector, manager):
    cid = _decided_case(open_case, step, venue, inspector, manager)
    login(manager)
    text = _flat(_text(client.get(f"/arenden/{cid}/beslut.pdf")))
    assert "Beslut: varning" in text
    assert "Krog <b>Bar</b> AB" in text
    assert "Upprepad överservering." in text
    assert "förvaltningsrätten" in text
    assert "tre veckor" in text
    assert "delgivning" in text
    assert "Östersunds kommun" in text  # sent to the kommun, which forwards it


def test_decision_letter_before_a_decision_is_409(today, client, login, venue, open_case, step, inspector):
    cid = open_case(venue)["id"]
    login(inspector)
    assert client.get(f"/arenden/{cid}/beslut.pdf").status_code == 409
    assert client.get(f"/arenden/{cid}/kommunicering.pdf").status_code == 409
    step(cid, inspector, "proposal", DAY0, sanction="erinran")
    # Before the kommunicering is recorded the letter is a draft with the default deadline.
    text = _flat(_text(client.get(f"/arenden/{cid}/kommunicering.pdf")))
    assert (today.value + timedelta(days=14)).isoformat() in text


def test_letters_are_not_for_police_or_other_kommuner(
    web_as, today, client, login, venue, open_case, step, inspector, manager, police, make_user, other_kommun
):
    cid = _decided_case(open_case, step, venue, inspector, manager)
    login(police)
    assert client.get(f"/arenden/{cid}/beslut.pdf").status_code == 404
    web_as(make_user("manager", org=other_kommun))
    assert client.get(f"/arenden/{cid}/kommunicering.pdf").status_code == 404


def test_a_kommun_edits_its_letter_template(today, client, login, venue, open_case, step, inspector, manager):
    cid = _decided_case(open_case, step, venue, inspector, manager)
    login(manager)
    page = client.get("/arenden/mallar")
    assert page.status_code == 200
    assert "{permit_holder}" in page.get_data(as_text=True)
    token = csrf_token(client)
    r = client.post(
        "/arenden/mallar",
        data={
            "csrf_token": token,
            "kommunicering_body": "Hej {permit_holder}! Svara senast {deadline} om {venue}. <i>Tack</i>",
            "decision_body": "Beslut om {sanction} för {venue}.",
        },
    )
    assert r.status_code == 302
    text = _flat(_text(client.get(f"/arenden/{cid}/kommunicering.pdf")))
    assert f"Hej Krog <b>Bar</b> AB! Svara senast {(DAY0 + timedelta(days=15)).isoformat()}" in text
    assert "<i>Tack</i>" in text
    text = _flat(_text(client.get(f"/arenden/{cid}/beslut.pdf")))
    assert "Beslut om varning för Bar Jämtlandia." in text
    assert "förvaltningsrätten" in text  # the appeal instructions stay

    r = client.post(
        "/arenden/mallar",
        data={"csrf_token": token, "kommunicering_body": "Svara senast {svarsdag", "decision_body": "{okänt}"},
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Svara senast {svarsdag" in html  # the input is kept
    assert "Okänt fält: {okänt}" in html


def test_inspectors_may_not_edit_templates(client, login, inspector):
    login(inspector)
    assert client.get("/arenden/mallar").status_code == 403


def test_template_rules():
    from inspection.cases.letters import template_error

    assert template_error("Hej {permit_holder}, svara senast {deadline}. {{klammer}}") is None
    assert "Okänt fält" in template_error("{venue.__class__}")
    assert template_error("{venue:>999999999}") is not None
    assert template_error("{venue!r}") is not None
    assert template_error("ensam {") is not None
