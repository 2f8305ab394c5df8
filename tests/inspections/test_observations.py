"""The observation timeline: idempotent on client_id, timestamps near the visit, retraction, roles."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inspection.audit import AuditEntry
from inspection.extensions import db
from inspection.inspections.models import InspectionParticipant, Observation
from tests.inspections.test_protocol_support import Caller


@pytest.fixture
def joint(make_inspection, inspector, police):
    return make_inspection(participants=[inspector, police])


def _count(db_session, inspection_id):
    return db_session.scalar(select(func.count()).where(Observation.inspection_id == inspection_id))


def test_observation_is_recorded_as_sent(client, joint, police):
    peter = Caller(client, police)
    client_id = str(uuid.uuid4())
    when = joint.planned_start + timedelta(minutes=41)
    response = peter.observe(joint.id, when, "man ca 30 år, sluddrar, får en stor stark serverad 23:41", client_id)
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["client_id"] == client_id
    assert data["observed_at"] == when.isoformat().replace("+00:00", "Z")
    assert data["received_at"].endswith("Z")
    assert data["category"] == "berusning"
    assert data["intoxication_level"] == "markbart_paverkad"
    assert data["description"] == "man ca 30 år, sluddrar, får en stor stark serverad 23:41"
    assert data["author"] == {"id": police.id, "name": police.name}
    assert data["retracted"] is False


def test_first_observation_starts_the_visit_later_ones_keep_the_version(client, joint, inspector):
    anna = Caller(client, inspector)
    before, _ = anna.inspection(joint.id)
    assert before["status"] == "planned"
    anna.observe(joint.id, joint.planned_start)
    started, _ = anna.inspection(joint.id)
    assert started["status"] == "in_progress"
    anna.observe(joint.id, joint.planned_start + timedelta(minutes=1))
    later, etag = anna.inspection(joint.id)
    assert later["version"] == started["version"]
    assert len(later["observations"]) == 2
    # an observation never makes a concurrent save stale
    response = anna.save(joint.id, f'"{started["version"]}"', {"protocol": {"summary": "ok"}})
    assert response.status_code == 200


def test_same_client_id_twice_answers_the_first(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    client_id = str(uuid.uuid4())
    first = anna.observe(joint.id, joint.planned_start, "först", client_id)
    again = anna.observe(joint.id, joint.planned_start + timedelta(minutes=5), "andra försöket", client_id)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _count(db_session, joint.id) == 1


def test_same_client_id_after_signing_still_answers_the_first(client, joint, inspector, police):
    """A tablet resending what already arrived before the signature gets its observation back."""
    anna = Caller(client, inspector)
    client_id = str(uuid.uuid4())
    first = anna.observe(joint.id, joint.planned_start, "före signering", client_id)
    assert anna.sign(joint.id).status_code == 201
    again = anna.observe(joint.id, joint.planned_start, "före signering", client_id)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]


def test_same_client_id_in_another_inspection_is_another_observation(client, make_inspection, inspector):
    one = make_inspection(participants=[inspector])
    two = make_inspection(participants=[inspector])
    anna = Caller(client, inspector)
    client_id = str(uuid.uuid4())
    assert anna.observe(one.id, one.planned_start, client_id=client_id).status_code == 201
    assert anna.observe(two.id, two.planned_start, client_id=client_id).status_code == 201


def test_observations_are_listed_oldest_first(client, joint, inspector, police):
    anna, peter = Caller(client, inspector), Caller(client, police)
    start = joint.planned_start
    anna.observe(joint.id, start + timedelta(minutes=30), "tre")
    peter.observe(joint.id, start + timedelta(minutes=10), "ett")
    anna.observe(joint.id, start + timedelta(minutes=20), "två")
    data, _ = anna.inspection(joint.id)
    assert [o["description"] for o in data["observations"]] == ["ett", "två", "tre"]


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (timedelta(hours=-11, minutes=-59), 201),
        (timedelta(hours=-12, minutes=-1), 422),
        (timedelta(days=3), 422),
        (timedelta(days=-2), 422),
    ],
)
def test_observed_at_must_lie_within_12_hours_of_the_visit(client, db_session, joint, inspector, offset, status):
    anna = Caller(client, inspector)
    when = joint.planned_start + offset
    response = anna.observe(joint.id, when)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "observed_at" in response.get_json()["error"]["fields"]
        assert _count(db_session, joint.id) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"observed_at": "2026-12-04T21:00:00"}, "observed_at"),  # no offset
        ({"client_id": "inte-ett-uuid"}, "client_id"),
        ({"category": "slagsmal"}, "category"),
        ({"intoxication_level": "full"}, "intoxication_level"),
        ({"description": "nul\x00tecken"}, "description"),
        ({"description": "x" * 10_001}, "description"),
    ],
)
def test_bad_observations_are_422(client, db_session, joint, inspector, change, field):
    anna = Caller(client, inspector)
    body = {
        "client_id": str(uuid.uuid4()),
        "observed_at": joint.planned_start.isoformat(),
        "category": "berusning",
        "description": "text",
        **change,
    }
    response = anna.post(f"/api/v1/inspections/{joint.id}/observations", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _count(db_session, joint.id) == 0


def test_description_with_markup_is_kept_exactly(client, joint, inspector):
    anna = Caller(client, inspector)
    text = "<script>alert(1)</script>\r\n  <img src=x onerror=alert(2)> \t"
    response = anna.observe(joint.id, joint.planned_start, text)
    assert response.status_code == 201
    data, _ = anna.inspection(joint.id)
    assert data["observations"][0]["description"] == text


def test_retract_keeps_the_observation_marked(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    oid = anna.observe(joint.id, joint.planned_start, "fel lokal").get_json()["id"]
    path = f"/api/v1/inspections/{joint.id}/observations/{oid}/retract"
    response = anna.post(path, json={"reason": ""})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]
    response = anna.post(path, json={"reason": "Gällde grannkrogen."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["retracted"] is True
    data, _ = anna.inspection(joint.id)
    assert data["observations"][0]["retracted"] is True
    assert data["observations"][0]["retracted_reason"] == "Gällde grannkrogen."
    assert data["observations"][0]["description"] == "fel lokal"
    assert db_session.scalar(
        select(func.count()).where(AuditEntry.action == "observation.retract", AuditEntry.object_id == joint.id)
    )


def test_retract_after_the_first_signature_is_locked(client, joint, inspector):
    anna = Caller(client, inspector)
    oid = anna.observe(joint.id, joint.planned_start).get_json()["id"]
    assert anna.sign(joint.id).status_code == 201
    response = anna.post(f"/api/v1/inspections/{joint.id}/observations/{oid}/retract", json={"reason": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"


def test_retract_an_observation_of_another_inspection_is_404(client, make_inspection, inspector):
    one = make_inspection(participants=[inspector])
    two = make_inspection(participants=[inspector])
    anna = Caller(client, inspector)
    oid = anna.observe(one.id, one.planned_start).get_json()["id"]
    response = anna.post(f"/api/v1/inspections/{two.id}/observations/{oid}/retract", json={"reason": "x"})
    assert response.status_code == 404


def test_who_may_add_observations(client, make_inspection, make_user, inspector, police, other_kommun, manager):
    invited = make_user("police")
    declined = make_user("police")
    inspection = make_inspection(participants=[inspector, police])
    for user, response in ((invited, "invited"), (declined, "declined")):
        inspection.participants.append(
            InspectionParticipant(user=user, organisation_id=user.organisation_id, response=response)
        )
    db.session.flush()
    when = inspection.planned_start
    assert Caller(client, police).observe(inspection.id, when).status_code == 201
    assert Caller(client, invited).observe(inspection.id, when).status_code == 201
    assert Caller(client, manager).observe(inspection.id, when).status_code == 201
    assert Caller(client, declined).observe(inspection.id, when).status_code == 403
    assert Caller(client, make_user("police")).observe(inspection.id, when).status_code == 404
    assert Caller(client, make_user("inspector", org=other_kommun)).observe(inspection.id, when).status_code == 404
    assert Caller(client, make_user("admin")).observe(inspection.id, when).status_code == 403


def test_observation_on_a_cancelled_visit_is_a_conflict(client, make_inspection, inspector):
    inspection = make_inspection(participants=[inspector], status="cancelled")
    response = Caller(client, inspector).observe(inspection.id, inspection.planned_start)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


def test_who_may_retract(client, joint, inspector, police, manager):
    anna, peter = Caller(client, inspector), Caller(client, police)
    by_anna = anna.observe(joint.id, joint.planned_start, "Annas").get_json()["id"]
    by_peter = peter.observe(joint.id, joint.planned_start, "Peters").get_json()["id"]
    path = f"/api/v1/inspections/{joint.id}/observations/{{}}/retract"
    response = peter.post(path.format(by_anna), json={"reason": "x"})
    assert response.status_code == 403
    assert peter.post(path.format(by_peter), json={"reason": "Fel bord."}).status_code == 200
    assert Caller(client, manager).post(path.format(by_anna), json={"reason": "Dubblett."}).status_code == 200
    data, _ = anna.inspection(joint.id)
    assert [o["retracted"] for o in data["observations"]] == [True, True]
