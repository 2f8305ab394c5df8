"""Scheduling through the API: who may schedule, bad input, invitations and answers, cancelling,
warnings, and what each caller may list."""

from __future__ import annotations

from sqlalchemy import select

from inspection.audit import AuditEntry
from inspection.inspections.models import Inspection
from tests.conftest import stockholm


def _body(venue, *participants, start=None, end=None, **extra):
    start = start or stockholm(2026, 12, 4, 21)
    end = end or stockholm(2026, 12, 4, 23)
    return {
        "venue_id": venue.id,
        "kind": "samordnad",
        "planned_start": start.isoformat(),
        "planned_end": end.isoformat(),
        "participant_ids": [p.id for p in participants],
        **extra,
    }


def test_schedule_answers_201_with_etag_and_invites_police(api, inspector, police, make_venue):
    venue = make_venue()
    api.as_user(inspector)
    response = api.post(
        "/api/v1/inspections",
        json=_body(
            venue,
            inspector,
            police,
            other_participants=[{"name": "Kim Skatt", "organisation": "Skatteverket"}],
            diarienummer="KS 2026/17",
        ),
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["ETag"] == f'"{data["version"]}"'
    assert data["status"] == "planned"
    assert data["planned_start"] == "2026-12-04T20:00:00Z"
    responses = {p["user"]["id"]: p["response"] for p in data["participants"]}
    assert responses == {inspector.id: "accepted", police.id: "invited"}
    assert data["other_participants"] == [{"name": "Kim Skatt", "organisation": "Skatteverket"}]
    assert data["diarienummer"] == "KS 2026/17"
    assert data["warnings"] == []


def test_police_may_not_schedule_even_with_a_bad_body(api, police, make_venue):
    api.as_user(police)
    response = api.post("/api/v1/inspections", json={"venue_id": 999999})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_end_before_start_is_422(api, inspector, make_venue, db_session):
    venue = make_venue()
    api.as_user(inspector)
    response = api.post(
        "/api/v1/inspections",
        json=_body(venue, start=stockholm(2026, 12, 4, 23), end=stockholm(2026, 12, 4, 21)),
    )
    assert response.status_code == 422
    assert "planned_end" in response.get_json()["error"]["fields"]
    assert db_session.scalar(select(Inspection).where(Inspection.venue_id == venue.id)) is None


def test_time_without_offset_is_422(api, inspector, make_venue):
    venue = make_venue()
    api.as_user(inspector)
    body = _body(venue)
    body["planned_start"] = "2026-12-04T21:00:00"
    response = api.post("/api/v1/inspections", json=body)
    assert response.status_code == 422
    assert "planned_start" in response.get_json()["error"]["fields"]


def test_venue_of_another_kommun_is_404(api, inspector, make_venue, other_kommun):
    venue = make_venue(org=other_kommun)
    api.as_user(inspector)
    response = api.post("/api/v1/inspections", json=_body(venue))
    assert response.status_code == 404


def test_deactivated_admin_and_other_kommun_participants_are_422(
    api, inspector, make_user, make_venue, other_kommun, db_session
):
    venue = make_venue()
    gone = make_user("police", active=False)
    boss = make_user("admin")
    stranger = make_user("inspector", org=other_kommun)
    api.as_user(inspector)
    for user in (gone, boss, stranger):
        response = api.post("/api/v1/inspections", json=_body(venue, inspector, user))
        assert response.status_code == 422, user
        assert "participant_ids" in response.get_json()["error"]["fields"]
    assert db_session.scalar(select(Inspection).where(Inspection.venue_id == venue.id)) is None


def test_invited_officer_accepts_then_a_new_time_asks_again(api, inspector, police, make_venue, db_session):
    venue = make_venue()
    api.as_user(inspector)
    created = api.post("/api/v1/inspections", json=_body(venue, inspector, police)).get_json()
    api.as_user(police)
    answer = api.post(
        f"/api/v1/inspections/{created['id']}/responses", json={"response": "accepted", "comment": "Vi kommer två."}
    )
    assert answer.status_code == 200, answer.get_json()
    data = answer.get_json()
    mine = next(p for p in data["participants"] if p["user"]["id"] == police.id)
    assert mine["response"] == "accepted"
    assert mine["comment"] == "Vi kommer två."
    assert data["version"] > created["version"]

    from inspection.inspections import scheduling

    inspection = db_session.get(Inspection, created["id"])
    db_session.refresh(inspection)
    before = inspection.version
    assert scheduling.reschedule(inspector, inspection, planned_start=stockholm(2026, 12, 4, 22))
    db_session.flush()
    db_session.refresh(inspection)
    assert inspection.version > before
    by_user = {p.user_id: p.response for p in inspection.participants}
    assert by_user[police.id] == "invited"
    assert by_user[inspector.id] == "accepted"
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "inspection", AuditEntry.object_id == inspection.id)
    ).all()
    assert {"inspection.schedule", "inspection.respond", "inspection.reschedule"} <= set(actions)


def test_only_diarienummer_change_keeps_acceptance(db_session, inspector, police, make_inspection):
    from inspection.inspections import scheduling

    inspection = make_inspection(participants=[inspector, police])
    assert scheduling.reschedule(inspector, inspection, diarienummer="KS 1")
    assert {p.user_id: p.response for p in inspection.participants}[police.id] == "accepted"
    assert scheduling.reschedule(inspector, inspection, diarienummer="KS 1") is False


def test_removing_a_participant_bumps_the_version(db_session, inspector, police, make_inspection):
    from inspection.inspections import scheduling

    inspection = make_inspection(participants=[inspector, police])
    before = inspection.version
    assert scheduling.reschedule(inspector, inspection, participant_ids=[inspector.id])
    db_session.flush()
    db_session.refresh(inspection)
    assert [p.user_id for p in inspection.participants] == [inspector.id]
    assert inspection.version > before


def test_response_by_someone_not_invited_is_refused(api, inspector, police, make_user, make_inspection):
    other_officer = make_user("police")
    inspection = make_inspection(participants=[inspector, police], police_response="invited")
    api.as_user(other_officer)
    response = api.post(f"/api/v1/inspections/{inspection.id}/responses", json={"response": "accepted"})
    assert response.status_code == 404  # they cannot see it
    colleague = make_user("inspector")
    api.as_user(colleague)
    response = api.post(f"/api/v1/inspections/{inspection.id}/responses", json={"response": "accepted"})
    assert response.status_code == 403  # they can see it, but were not invited


def test_bad_response_value_is_422(api, police, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector, police], police_response="invited")
    api.as_user(police)
    response = api.post(f"/api/v1/inspections/{inspection.id}/responses", json={"response": "maybe"})
    assert response.status_code == 422


def test_cancel_needs_a_reason_and_an_open_inspection(api, inspector, make_inspection, db_session):
    inspection = make_inspection(participants=[inspector])
    api.as_user(inspector)
    response = api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": ""})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]
    response = api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": "Stängt för renovering"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["cancel_reason"] == "Stängt för renovering"
    again = api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": "igen"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


def test_signed_inspection_cannot_be_cancelled(api, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector], status="signed")
    api.as_user(inspector)
    response = api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": "för sent"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"


def test_police_may_not_cancel(api, inspector, police, make_inspection):
    inspection = make_inspection(participants=[inspector, police])
    api.as_user(police)
    response = api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": "x"})
    assert response.status_code == 403


def test_other_kommun_cannot_cancel_or_see(api, make_user, other_kommun, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector])
    stranger = make_user("inspector", org=other_kommun)
    api.as_user(stranger)
    assert api.post(f"/api/v1/inspections/{inspection.id}/cancel", json={"reason": "x"}).status_code == 404
    listed = api.get("/api/v1/inspections").get_json()
    assert inspection.id not in [i["id"] for i in listed["items"]]


def test_police_list_only_their_inspections(api, inspector, police, make_user, make_inspection):
    theirs = make_inspection(participants=[inspector, police], police_response="invited")
    declined = make_inspection(participants=[inspector, police], police_response="declined")
    not_theirs = make_inspection(participants=[inspector])
    api.as_user(police)
    data = api.get("/api/v1/inspections").get_json()
    ids = {i["id"] for i in data["items"]}
    assert ids == {theirs.id, declined.id}
    assert not_theirs.id not in ids
    assert all("observations" not in i and "version" in i for i in data["items"])
    api.as_user(inspector)
    ids = {i["id"] for i in api.get("/api/v1/inspections").get_json()["items"]}
    assert {theirs.id, declined.id, not_theirs.id} <= ids


def test_list_filters_by_stockholm_dates_and_status(api, inspector, make_inspection):
    # 00:30 on 5 December in Stockholm is 23:30 UTC on the 4th: it belongs to the 5th.
    late = make_inspection(participants=[inspector], start=stockholm(2026, 12, 5, 0, 30))
    early = make_inspection(participants=[inspector], start=stockholm(2026, 12, 4, 21))
    api.as_user(inspector)
    ids = [i["id"] for i in api.get("/api/v1/inspections?from=2026-12-05&to=2026-12-05").get_json()["items"]]
    assert ids == [late.id]
    ids = [i["id"] for i in api.get("/api/v1/inspections?from=2026-12-04&to=2026-12-04").get_json()["items"]]
    assert ids == [early.id]
    assert api.get("/api/v1/inspections?status=cancelled&from=2026-12-04").get_json()["items"] == []
    assert api.get("/api/v1/inspections?from=igår").status_code == 422
    assert api.get("/api/v1/inspections?per_page=0").status_code == 422


def test_warning_for_a_participant_booked_elsewhere(api, inspector, police, make_venue, make_inspection):
    make_inspection(participants=[police], start=stockholm(2026, 12, 4, 22), hours=2)
    venue = make_venue()
    api.as_user(inspector)
    response = api.post("/api/v1/inspections", json=_body(venue, inspector, police))
    assert response.status_code == 201
    codes = [w["code"] for w in response.get_json()["warnings"]]
    assert codes == ["participant_busy"]
    assert police.name in response.get_json()["warnings"][0]["message"]


def test_warning_outside_serving_hours_never_blocks(api, inspector, make_venue):
    venue = make_venue(serving_hours="11:00-01:00")
    api.as_user(inspector)
    body = _body(venue, inspector, start=stockholm(2026, 12, 5, 1, 30), end=stockholm(2026, 12, 5, 2, 30))
    body["kind"] = "yttre"
    response = api.post("/api/v1/inspections", json=body)
    assert response.status_code == 201
    assert [w["code"] for w in response.get_json()["warnings"]] == ["outside_serving_hours"]


def test_error_order_for_police_and_bad_json(api, police, inspector, make_venue, other_kommun):
    api.as_user(police)
    bad_json = api.post("/api/v1/inspections", data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    foreign = make_venue(org=other_kommun)
    response = api.post("/api/v1/inspections", json=_body(foreign, police))
    assert response.status_code == 403  # the role may never schedule: before the 404 of the venue


def test_answer_to_a_cancelled_inspection_is_409_before_422(api, police, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector, police], police_response="invited", status="cancelled")
    api.as_user(police)
    response = api.post(f"/api/v1/inspections/{inspection.id}/responses", json={"response": "kanske"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


def test_session_caller_needs_csrf(client, login, inspector, make_venue):
    venue = make_venue()
    login(inspector)
    response = client.post("/api/v1/inspections", json=_body(venue, inspector))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"
    from tests.conftest import csrf_token

    response = client.post(
        "/api/v1/inspections", json=_body(venue, inspector), headers={"X-CSRFToken": csrf_token(client)}
    )
    assert response.status_code == 201


def test_list_items_are_the_summaries_of_the_inspections(
    api, inspector, police, make_user, make_inspection, db_session
):
    """The list reads plain columns (for speed); every item must still be exactly the summary that
    the full object starts with, participants and other participants in their order."""
    from inspection.inspections.models import OtherParticipant
    from inspection.inspections.schemas import summary_out

    colleague = make_user("inspector", name="Åsa Öberg")
    first = make_inspection(participants=[inspector, police, colleague], diarienummer="DNR 2026/17")
    first.other_participants.extend(
        [
            OtherParticipant(name="Räddningstjänst", organisation="Brandkåren", position=1),
            OtherParticipant(name="Skatteverket", organisation="SKV", position=0),
        ]
    )
    second = make_inspection(participants=[inspector], police_response="invited")
    make_inspection(participants=[colleague])  # another inspector's, same kommun: listed too
    db_session.flush()
    db_session.expire_all()

    items = api.as_user(inspector).get("/api/v1/inspections?per_page=200").get_json()["items"]
    by_id = {item["id"]: item for item in items}
    assert {first.id, second.id} <= set(by_id)
    for inspection in (first, second):
        assert by_id[inspection.id] == summary_out(db_session.get(type(inspection), inspection.id))
    assert [o["name"] for o in by_id[first.id]["other_participants"]] == ["Skatteverket", "Räddningstjänst"]

    police_items = api.as_user(police).get("/api/v1/inspections").get_json()["items"]
    assert [i["id"] for i in police_items] == [first.id]  # only where the officer takes part


def test_list_total_is_right_on_every_page_and_past_the_end(api, inspector, make_inspection):
    for _ in range(3):
        make_inspection(participants=[inspector])
    api.as_user(inspector)
    pages = [api.get(f"/api/v1/inspections?per_page=2&page={page}").get_json() for page in (1, 2, 3, 99)]
    assert [len(p["items"]) for p in pages] == [2, 1, 0, 0]
    assert [p["total"] for p in pages] == [3, 3, 3, 3]
