"""The case endpoints of API.md: the full path for each sanction, deadlines, order, roles, visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import DAY0


def _kinds(case):
    return [s["kind"] for s in case["steps"]]


def test_full_path_erinran_with_appeal(today, venue, open_case, step, inspector, manager):
    case = open_case(venue, diarienummer="ÖSD 2026/1")
    assert case["status"] == "open"
    assert case["venue"] == {"id": venue.id, "name": venue.name}
    assert case["diarienummer"] == "ÖSD 2026/1"
    assert len(case["inspections"]) == 1
    cid = case["id"]

    r = step(cid, inspector, "proposal", DAY0 + timedelta(days=1), sanction="erinran", text="Överservering.")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "open"
    assert body["steps"][0]["legal_ground"].startswith("9 kap. 17 §")
    assert body["steps"][0]["by"] == {"id": inspector.id, "name": inspector.name}

    r = step(cid, inspector, "kommunicering", DAY0 + timedelta(days=2))
    assert r.get_json()["status"] == "ready_for_decision"  # today is DAY0+60: the deadline has passed
    assert r.get_json()["steps"][-1]["deadline"] == (DAY0 + timedelta(days=16)).isoformat()

    r = step(cid, inspector, "reply", DAY0 + timedelta(days=10), text="Vi har utbildat personalen.")
    assert r.status_code == 201
    assert r.get_json()["status"] == "ready_for_decision"

    r = step(cid, manager, "decision", DAY0 + timedelta(days=11), sanction="erinran", decided_by="delegat")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "decided"

    r = step(cid, inspector, "notification", DAY0 + timedelta(days=13))
    assert r.get_json()["status"] == "decided"
    r = step(cid, inspector, "appeal", DAY0 + timedelta(days=20), filed_on=(DAY0 + timedelta(days=20)).isoformat())
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "appealed"
    assert r.get_json()["notices"] == []
    r = step(cid, manager, "appeal_outcome", DAY0 + timedelta(days=50), outcome="avslag")
    body = r.get_json()
    assert body["status"] == "closed"
    assert _kinds(body) == [
        "proposal",
        "kommunicering",
        "reply",
        "decision",
        "notification",
        "appeal",
        "appeal_outcome",
    ]
    decision = body["steps"][3]
    assert decision["sanction"] == "erinran"
    assert decision["decided_by"] == "delegat"
    assert "filed_on" not in decision  # a step carries only the fields of its kind
    assert body["steps"][5]["filed_on"] == (DAY0 + timedelta(days=20)).isoformat()
    assert body["steps"][6]["outcome"] == "avslag"

    assert body["next_steps"] == ["note"]


def test_full_path_varning_after_an_earlier_erinran_has_no_notice(
    today, make_venue, open_case, step, inspector, manager
):
    venue = make_venue()
    first = open_case(venue)["id"]
    step(first, inspector, "proposal", DAY0, sanction="ingen_atgard")
    step(first, manager, "decision", DAY0 + timedelta(days=1), sanction="erinran", decided_by="namnd")

    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", DAY0 + timedelta(days=10), sanction="varning")
    assert r.get_json()["notices"] == []
    assert r.get_json()["steps"][0]["legal_ground"].startswith("9 kap. 17 §")
    step(cid, inspector, "kommunicering", DAY0 + timedelta(days=11), deadline=(DAY0 + timedelta(days=21)).isoformat())
    step(cid, inspector, "reply", DAY0 + timedelta(days=20))
    r = step(cid, manager, "decision", DAY0 + timedelta(days=20), sanction="varning", decided_by="namnd")
    assert r.status_code == 201
    r = step(cid, inspector, "notification", DAY0 + timedelta(days=22))
    assert r.get_json()["status"] == "decided"
    assert r.get_json()["steps"][3]["sanction"] == "varning"


def test_full_path_aterkallelse_decided_after_the_deadline_without_reply(
    today, venue, open_case, step, inspector, manager
):
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", DAY0, sanction="aterkallelse")
    assert r.get_json()["steps"][0]["legal_ground"].startswith("9 kap. 18 §")
    step(cid, inspector, "kommunicering", DAY0, deadline=(DAY0 + timedelta(days=7)).isoformat())
    r = step(cid, manager, "decision", DAY0 + timedelta(days=8), sanction="aterkallelse", decided_by="namnd")
    assert r.status_code == 201, r.get_json()
    r = step(cid, manager, "notification", DAY0 + timedelta(days=9))
    assert r.get_json()["status"] == "decided"


def test_ingen_atgard_goes_straight_to_decision(today, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    assert r.get_json()["status"] == "ready_for_decision"
    assert "decision" not in r.get_json()["next_steps"]  # the inspector may not decide
    r = step(cid, manager, "decision", DAY0, sanction="ingen_atgard", decided_by="delegat")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "decided"
    assert r.get_json()["notices"] == []


def test_a_decision_may_differ_from_the_proposal(today, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    r = step(cid, manager, "decision", DAY0, sanction="erinran", decided_by="delegat")
    assert r.status_code == 201
    assert r.get_json()["steps"][-1]["sanction"] == "erinran"


# ---- deadlines ---------------------------------------------------------------------------------


def test_default_deadline_and_status_on_the_day_before_and_after(today, venue, open_case, step, inspector, as_user):
    cid = open_case(venue)["id"]
    today.set(DAY0)
    step(cid, inspector, "proposal", DAY0, sanction="erinran")
    r = step(cid, inspector, "kommunicering", DAY0)
    deadline = DAY0 + timedelta(days=14)
    assert r.get_json()["steps"][-1]["deadline"] == deadline.isoformat()
    assert r.get_json()["reply_deadline"] == deadline.isoformat()
    api = as_user(inspector)

    for day, expected in (
        (deadline - timedelta(days=1), "awaiting_reply"),
        (deadline, "awaiting_reply"),
        (deadline + timedelta(days=1), "ready_for_decision"),
    ):
        today.set(day)
        assert api.get(f"/api/v1/cases/{cid}").get_json()["status"] == expected, day
        listed = api.get(f"/api/v1/cases?status={expected}").get_json()
        assert [c["id"] for c in listed["items"]] == [cid], day
        other = "ready_for_decision" if expected == "awaiting_reply" else "awaiting_reply"
        assert api.get(f"/api/v1/cases?status={other}").get_json()["total"] == 0


def test_current_status_is_computed_for_the_day(today, venue, inspector, signed, db_session):
    from inspection.cases import services

    today.set(DAY0)
    case = services.open_case(inspector, venue, [signed(venue).id], "Test")
    services.add_step(inspector, case, "proposal", DAY0, sanction="varning")
    services.add_step(inspector, case, "kommunicering", DAY0, deadline=DAY0 + timedelta(days=3))
    assert services.current_status(case, DAY0 + timedelta(days=3)) == "awaiting_reply"
    assert services.current_status(case, DAY0 + timedelta(days=4)) == "ready_for_decision"


def test_a_decision_before_the_reply_deadline_needs_the_reply(today, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    today.set(DAY0 + timedelta(days=5))
    step(cid, inspector, "proposal", DAY0, sanction="varning")
    step(cid, inspector, "kommunicering", DAY0)  # deadline DAY0 + 14
    r = step(cid, manager, "decision", DAY0 + timedelta(days=5), sanction="varning", decided_by="delegat")
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert (DAY0 + timedelta(days=14)).isoformat() in r.get_json()["error"]["message"]

    assert step(cid, inspector, "reply", DAY0 + timedelta(days=5)).status_code == 201
    r = step(cid, manager, "decision", DAY0 + timedelta(days=5), sanction="varning", decided_by="delegat")
    assert r.status_code == 201, r.get_json()


def test_a_step_cannot_be_dated_in_the_future_or_before_the_previous_step(today, venue, open_case, step, inspector):
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", today.value + timedelta(days=1), sanction="erinran")
    assert r.status_code == 422
    assert "date" in r.get_json()["error"]["fields"]
    step(cid, inspector, "proposal", DAY0 + timedelta(days=5), sanction="erinran")
    r = step(cid, inspector, "kommunicering", DAY0 + timedelta(days=4))
    assert r.status_code == 422
    assert "date" in r.get_json()["error"]["fields"]
    r = step(cid, inspector, "kommunicering", DAY0 + timedelta(days=5), deadline=(DAY0 + timedelta(days=4)).isoformat())
    assert r.status_code == 422
    assert "deadline" in r.get_json()["error"]["fields"]


# ---- order and roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("done", "kind", "fields"),
    [
        ([], "decision", {"sanction": "erinran", "decided_by": "delegat"}),
        ([], "kommunicering", {}),
        ([], "reply", {}),
        (["proposal"], "reply", {}),
        (["proposal"], "proposal", {"sanction": "erinran"}),
        (["proposal"], "decision", {"sanction": "erinran", "decided_by": "delegat"}),
        (["proposal", "kommunicering"], "kommunicering", {}),
        (["proposal", "kommunicering"], "notification", {}),
        (["proposal", "kommunicering", "reply"], "appeal", {"filed_on": "2026-03-20"}),
        (["proposal", "kommunicering", "reply", "decision"], "appeal_outcome", {"outcome": "avslag"}),
        (["proposal", "kommunicering", "reply", "decision"], "reply", {}),
        (["proposal", "kommunicering", "reply", "decision", "notification"], "decision", {}),
    ],
)
def test_a_step_out_of_order_is_409(today, venue, open_case, step, inspector, manager, done, kind, fields):
    cid = open_case(venue)["id"]
    values = {
        "proposal": {"sanction": "erinran"},
        "kommunicering": {},
        "reply": {},
        "decision": {"sanction": "erinran", "decided_by": "delegat"},
        "notification": {},
    }
    for n, k in enumerate(done):
        r = step(cid, manager, k, DAY0 + timedelta(days=n), **values[k])
        assert r.status_code == 201, (k, r.get_json())
    r = step(cid, manager, kind, DAY0 + timedelta(days=10), **fields)
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "conflict"


def test_out_of_order_wins_over_bad_fields(today, venue, open_case, step, manager):
    cid = open_case(venue)["id"]
    r = step(cid, manager, "decision", None, sanction="strafe", date="igår")
    assert r.status_code == 409


def test_a_note_may_be_added_at_any_time_but_needs_text(today, venue, open_case, step, inspector):
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "note", DAY0, text="Ringde tillståndshavaren.")
    assert r.status_code == 201
    assert r.get_json()["steps"][0]["text"] == "Ringde tillståndshavaren."
    assert r.get_json()["status"] == "open"
    r = step(cid, inspector, "note", DAY0)
    assert r.status_code == 422
    assert "text" in r.get_json()["error"]["fields"]


def test_an_inspector_may_not_decide(today, venue, open_case, step, inspector):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    r = step(cid, inspector, "decision", DAY0, sanction="ingen_atgard", decided_by="delegat")
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"


def test_decision_fields_are_required(today, venue, open_case, step, inspector, manager):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    r = step(cid, manager, "decision", DAY0)
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"sanction", "decided_by"}


# ---- appeal ------------------------------------------------------------------------------------


def _to_notification(cid, step, inspector, manager):
    step(cid, inspector, "proposal", DAY0, sanction="ingen_atgard")
    step(cid, manager, "decision", DAY0 + timedelta(days=1), sanction="erinran", decided_by="delegat")
    step(cid, inspector, "notification", DAY0 + timedelta(days=2))


@pytest.mark.parametrize(
    "filed_on",
    ["inte ett datum", "2026-02-30", None, (DAY0 - timedelta(days=1)).isoformat(), "2099-01-01"],
)
def test_an_invalid_appeal_date_is_422(today, venue, open_case, step, inspector, manager, filed_on):
    cid = open_case(venue)["id"]
    _to_notification(cid, step, inspector, manager)
    fields = {} if filed_on is None else {"filed_on": filed_on}
    r = step(cid, inspector, "appeal", DAY0 + timedelta(days=10), **fields)
    assert r.status_code == 422, r.get_json()
    assert "filed_on" in r.get_json()["error"]["fields"]


def test_a_late_appeal_is_recorded_with_a_notice(today, venue, open_case, step, inspector, manager):
    """Decision: a late appeal is recorded (the kommun must then dismiss it, förvaltningslagen 45 §)."""
    cid = open_case(venue)["id"]
    _to_notification(cid, step, inspector, manager)  # notified DAY0+2 (a Wednesday): last day DAY0+23
    r = step(cid, inspector, "appeal", DAY0 + timedelta(days=23), filed_on=(DAY0 + timedelta(days=23)).isoformat())
    assert r.get_json()["notices"] == []
    cid2 = open_case(venue)["id"]
    _to_notification(cid2, step, inspector, manager)
    r = step(cid2, inspector, "appeal", DAY0 + timedelta(days=24), filed_on=(DAY0 + timedelta(days=24)).isoformat())
    assert r.status_code == 201
    assert [n["code"] for n in r.get_json()["notices"]] == ["appeal_late"]
    r = step(cid2, manager, "appeal_outcome", DAY0 + timedelta(days=25), outcome="avvisat")
    assert r.get_json()["status"] == "closed"


def test_appeal_last_day_moves_past_weekends_and_holidays():
    from datetime import date

    from inspection.cases.services import appeal_last_day

    assert appeal_last_day(date(2026, 3, 2)) == date(2026, 3, 23)  # Monday + 21 days
    assert appeal_last_day(date(2026, 2, 28)) == date(2026, 3, 23)  # Saturday: to Monday
    assert appeal_last_day(date(2026, 12, 4)) == date(2026, 12, 28)  # Christmas Day: to Monday


# ---- the ladder --------------------------------------------------------------------------------


def test_a_varning_without_an_earlier_erinran_carries_a_notice(today, venue, open_case, step, inspector, as_user):
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", DAY0, sanction="varning")
    assert r.status_code == 201
    assert [n["code"] for n in r.get_json()["notices"]] == ["ladder_no_erinran"]
    assert "erinran" in r.get_json()["notices"][0]["message"]
    # It never blocks: the case goes on.
    assert step(cid, inspector, "kommunicering", DAY0).status_code == 201
    body = as_user(inspector).get(f"/api/v1/cases/{cid}").get_json()
    assert [n["code"] for n in body["notices"]] == ["ladder_no_erinran"]


def test_an_aterkallelse_without_an_earlier_varning_carries_a_notice(
    today, make_venue, open_case, step, inspector, manager
):
    venue = make_venue()
    first = open_case(venue)["id"]
    step(first, inspector, "proposal", DAY0, sanction="ingen_atgard")
    step(first, manager, "decision", DAY0, sanction="erinran", decided_by="delegat")
    cid = open_case(venue)["id"]
    r = step(cid, inspector, "proposal", DAY0 + timedelta(days=3), sanction="aterkallelse")
    assert [n["code"] for n in r.get_json()["notices"]] == ["ladder_no_varning"]


# ---- opening a case ----------------------------------------------------------------------------


def test_open_needs_signed_protocols_of_the_venue(
    today, venue, make_venue, make_inspection, inspector, as_user, signed, other_kommun
):
    api = as_user(inspector)
    unsigned = make_inspection(venue=venue, participants=[inspector], status="in_progress")
    elsewhere = signed(make_venue())
    r = api.post(
        "/api/v1/cases", json={"venue_id": venue.id, "inspection_ids": [unsigned.id, elsewhere.id], "summary": "x"}
    )
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert "inspection_ids.0" in fields
    assert "inspection_ids.1" in fields
    foreign = make_venue(org=other_kommun)
    r = api.post("/api/v1/cases", json={"venue_id": foreign.id, "inspection_ids": [], "summary": "x"})
    assert r.status_code == 422
    assert "venue_id" in r.get_json()["error"]["fields"]
    r = api.post("/api/v1/cases", json={"venue_id": venue.id, "summary": "   "})
    assert r.status_code == 422
    assert "summary" in r.get_json()["error"]["fields"]
    r = api.post("/api/v1/cases", data="{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_open_from_a_venue_without_protocols(today, venue, inspector, as_user):
    r = as_user(inspector).post("/api/v1/cases", json={"venue_id": venue.id, "summary": "Polisrapport om bråk."})
    assert r.status_code == 201
    assert r.get_json()["inspections"] == []
    assert r.get_json()["next_steps"] == ["proposal", "note"]


# ---- visibility --------------------------------------------------------------------------------


def test_police_get_403_on_the_list_and_404_on_a_case(today, venue, open_case, police, admin, as_user):
    cid = open_case(venue)["id"]
    api = as_user(police)
    assert api.get("/api/v1/cases").status_code == 403
    assert api.get(f"/api/v1/cases/{cid}").status_code == 404
    assert api.post("/api/v1/cases", json={"venue_id": venue.id, "summary": "x"}).status_code == 403
    r = api.post(f"/api/v1/cases/{cid}/steps", json={"kind": "note", "text": "x"})
    assert r.status_code == 403
    api = as_user(admin)
    assert api.get(f"/api/v1/cases/{cid}").status_code == 404


def test_another_kommun_gets_404(today, venue, open_case, make_user, other_kommun, as_user):
    cid = open_case(venue)["id"]
    stranger = make_user("manager", org=other_kommun)
    api = as_user(stranger)
    assert api.get(f"/api/v1/cases/{cid}").status_code == 404
    r = api.post(f"/api/v1/cases/{cid}/steps", json={"kind": "note", "text": "x"})
    assert r.status_code == 404
    assert api.get("/api/v1/cases").get_json()["total"] == 0
    assert api.get("/api/v1/cases/999999").status_code == 404


def test_the_list_is_paginated_and_filtered(today, make_venue, open_case, inspector, as_user, step):
    venue = make_venue()
    ids = [open_case(venue)["id"] for _ in range(3)]
    step(ids[0], inspector, "proposal", DAY0, sanction="erinran")
    api = as_user(inspector)
    body = api.get("/api/v1/cases?per_page=2").get_json()
    assert body["total"] == 3
    assert len(body["items"]) == 2
    assert body["per_page"] == 2
    assert api.get("/api/v1/cases?page=0").status_code == 422
    assert api.get("/api/v1/cases?status=nonsense").status_code == 422
    assert api.get("/api/v1/cases?status=open").get_json()["total"] == 3
    assert api.get(f"/api/v1/cases?venue_id={venue.id}").get_json()["total"] == 3


def test_openapi_describes_the_case_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    steps = spec["paths"]["/api/v1/cases/{case_id}/steps"]["post"]["responses"]
    assert {"201", "403", "404", "409", "422"} <= set(steps)
    assert "403" in spec["paths"]["/api/v1/cases"]["get"]["responses"]


def test_error_precedence_for_steps(today, venue, open_case, as_user, inspector, police):
    cid = open_case(venue)["id"]
    api = as_user(inspector)
    bad_json = api.post(f"/api/v1/cases/{cid}/steps", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert api.post("/api/v1/cases/999999/steps", json={"kind": "nonsense"}).status_code == 404
    r = api.post(f"/api/v1/cases/{cid}/steps", json={"kind": "nonsense"})
    assert r.status_code == 422
    assert "kind" in r.get_json()["error"]["fields"]
    assert as_user(police).post("/api/v1/cases/999999/steps", json={"kind": "note"}).status_code == 403
