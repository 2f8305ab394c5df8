"""The case pages: list, open, the case page with its forms, documents, queue, start page, nav."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from tests.conftest import csrf_token

from .conftest import DAY0

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post_step(client, cid, kind, **fields):
    data = {f"{kind}-csrf_token": csrf_token(client)}
    data.update({f"{kind}-{k}": v for k, v in fields.items()})
    return client.post(f"/arenden/{cid}/steg/{kind}", data=data)


def test_nav_shows_cases_to_kommun_staff_only(web_as, client, login, inspector, police):
    login(inspector)
    assert 'href="/arenden/">Ärenden</a>' in client.get("/").get_data(as_text=True)
    web_as(police)
    assert 'href="/arenden/">Ärenden</a>' not in client.get("/").get_data(as_text=True)


def test_list_filters_and_visibility(web_as, today, client, login, make_venue, open_case, step, inspector, police):
    a = open_case(make_venue(name="Pub Ankaret"))["id"]
    open_case(make_venue(name="Vinkällaren"))
    step(a, inspector, "proposal", DAY0, sanction="ingen_atgard")
    login(inspector)
    html = client.get("/arenden/").get_data(as_text=True)
    assert "Pub Ankaret" in html
    assert "Vinkällaren" in html
    html = client.get("/arenden/?status=ready_for_decision").get_data(as_text=True)
    assert "Pub Ankaret" in html
    assert "Vinkällaren" not in html
    html = client.get("/arenden/?q=vink").get_data(as_text=True)
    assert "Vinkällaren" in html
    assert "Pub Ankaret" not in html
    web_as(police)
    assert client.get("/arenden/").status_code == 403
    assert client.get(f"/arenden/{a}").status_code == 404
    assert client.get("/arenden/ko").status_code == 403


def test_another_kommun_gets_404_on_the_page(today, client, login, venue, open_case, make_user, other_kommun):
    cid = open_case(venue)["id"]
    login(make_user("inspector", org=other_kommun))
    assert client.get(f"/arenden/{cid}").status_code == 404
    assert client.get(f"/arenden/ny?venue_id={venue.id}").status_code == 404


def test_open_a_case_from_a_venue(today, client, login, venue, signed, inspector):
    inspection = signed(venue)
    login(inspector)
    page = client.get(f"/arenden/ny?venue_id={venue.id}")
    assert page.status_code == 200
    assert f'value="{inspection.id}"' in page.get_data(as_text=True)
    token = csrf_token(client)
    r = client.post(
        f"/arenden/ny?venue_id={venue.id}",
        data={"csrf_token": token, "inspection_ids": [str(inspection.id)], "summary": "", "diarienummer": "D-1"},
    )
    assert r.status_code == 422
    assert "Beskriv kort vad ärendet gäller." in r.get_data(as_text=True)
    assert 'value="D-1"' in r.get_data(as_text=True)
    r = client.post(
        f"/arenden/ny?venue_id={venue.id}",
        data={
            "csrf_token": token,
            "inspection_ids": [str(inspection.id)],
            "summary": "Överservering",
            "diarienummer": "",
        },
    )
    assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Överservering" in html
    assert f"protokoll {inspection.id}" in html
    assert f"/tillsyn/ny?venue_id={venue.id}" in html  # plan a follow-up visit


def test_case_page_steps_forms_and_ladder_notice(today, client, login, venue, open_case, step, inspector):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="varning", text="Upprepade brister.")
    login(inspector)
    html = client.get(f"/arenden/{cid}").get_data(as_text=True)
    assert "Observera:" in html
    assert "Varning föreslås utan en tidigare erinran" in html
    assert "Förslag till beslut" in html
    assert "Upprepade brister." in html
    assert 'id="steg-kommunicering"' in html
    assert (today.value + timedelta(days=14)).isoformat() in html  # the deadline is pre-filled
    assert 'id="steg-decision"' not in html  # not before kommunicering, and not for an inspector
    assert "/kommunicering.pdf" in html


def test_steps_through_the_forms(web_as, today, client, login, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    login(inspector)
    r = _post_step(client, cid, "proposal", date=DAY0.isoformat(), sanction="erinran", legal_ground="", text="")
    assert r.status_code == 302
    today.set(DAY0 + timedelta(days=3))
    r = _post_step(client, cid, "kommunicering", date=DAY0.isoformat(), deadline="", text="")
    assert r.status_code == 422
    assert "Ange sista dag för yttrande" in r.get_data(as_text=True)
    r = _post_step(
        client, cid, "kommunicering", date=DAY0.isoformat(), deadline=(DAY0 + timedelta(days=14)).isoformat(), text=""
    )
    assert r.status_code == 302
    html = client.get(f"/arenden/{cid}").get_data(as_text=True)
    assert "Kommunicering skickad" in html
    assert "Beslut kan fattas när yttrandet har kommit in eller från och med 2026-03-17" in html

    r = _post_step(client, cid, "decision", date=today.value.isoformat(), sanction="erinran", decided_by="delegat")
    assert r.status_code == 403
    assert "Bara en enhetschef" in r.get_data(as_text=True)

    web_as(manager)
    r = _post_step(client, cid, "decision", date=today.value.isoformat(), sanction="erinran", decided_by="delegat")
    assert r.status_code == 409
    assert "2026-03-16" in r.get_data(as_text=True)
    today.set(DAY0 + timedelta(days=15))
    html = client.get(f"/arenden/{cid}").get_data(as_text=True)
    assert "Klart för beslut" in html
    assert 'id="steg-decision"' in html
    r = _post_step(client, cid, "decision", date=today.value.isoformat(), sanction="erinran", decided_by="namnd")
    assert r.status_code == 302
    html = client.get(f"/arenden/{cid}").get_data(as_text=True)
    assert "Beslutat" in html
    assert "/beslut.pdf" in html
    assert "Nämnden" in html


def test_documents_are_attached_and_served_safely(
    web_as, today, client, login, venue, open_case, inspector, police, app
):
    cid = open_case(venue)["id"]
    login(inspector)
    token = csrf_token(client)
    r = client.post(
        f"/arenden/{cid}/dokument",
        data={
            "csrf_token": token,
            "title": "Polisrapport 2026-03-01",
            "file": (io.BytesIO(PDF), "r.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    html = client.get(f"/arenden/{cid}").get_data(as_text=True)
    url = re.search(rf'href="(/arenden/{cid}/dokument/\d+)"', html).group(1)
    r = client.get(url)
    assert r.status_code == 200
    assert r.data == PDF
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("attachment")
    r = client.post(
        f"/arenden/{cid}/dokument",
        data={
            "csrf_token": token,
            "title": "Skript",
            "file": (io.BytesIO(b"<script>x</script>"), "x.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    assert "Bara PDF, JPEG och PNG" in r.get_data(as_text=True)
    web_as(police)
    assert client.get(url).status_code == 404


def test_queue_puts_overdue_cases_first(today, client, login, make_venue, open_case, step, inspector, manager):
    waiting = open_case(make_venue(name="Pub Väntar"))["id"]
    late = open_case(make_venue(name="Bar Försenad"))["id"]
    today.set(DAY0 + timedelta(days=20))
    step(waiting, inspector, "proposal", DAY0 + timedelta(days=18), sanction="erinran")
    step(waiting, inspector, "kommunicering", DAY0 + timedelta(days=19))
    step(late, inspector, "proposal", DAY0, sanction="erinran")
    step(late, inspector, "kommunicering", DAY0)  # deadline DAY0 + 14: passed
    login(manager)
    html = client.get("/arenden/ko").get_data(as_text=True)
    assert html.index("Bar Försenad") < html.index("Pub Väntar")
    assert "Försenat" in html
    start = client.get("/").get_data(as_text=True)
    assert "Ärenden som väntar på dig" in start
    assert "FÖRSENAT – Bar Försenad: beslut" in start


def test_steps_are_in_the_audit_log(today, client, login, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    step(cid, manager, "decision", DAY0, sanction="ingen_atgard", decided_by="delegat")
    login(manager)
    html = client.get("/admin/audit?action=case.").get_data(as_text=True)
    for action in ("case.open", "case.step.proposal", "case.step.decision"):
        assert action in html


def test_a_bad_date_in_a_form_is_refused_in_swedish(today, client, login, venue, open_case, inspector):
    cid = open_case(venue)["id"]
    login(inspector)
    r = _post_step(client, cid, "note", date="igår", text="Samtal med tillståndshavaren.")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Ange ett datum ÅÅÅÅ-MM-DD." in html
    assert "Samtal med tillståndshavaren." in html  # the input is kept
