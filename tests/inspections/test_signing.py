"""Signing the protocol: the password again, the kommun signs first, notes on every anmärkning, the
content frozen by its hash, reopening, amendments, and who may do each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inspection.audit import AuditEntry
from inspection.inspections.models import Inspection, Signature
from tests.conftest import PASSWORD
from tests.inspections.test_protocol_support import Caller, recomputed_hash


@pytest.fixture
def joint(make_inspection, inspector, police):
    return make_inspection(participants=[inspector, police])


def _active_signatures(db_session, inspection_id):
    return db_session.scalar(
        select(func.count()).where(
            Signature.inspection_id == inspection_id, Signature.amendment_id.is_(None), Signature.voided_at.is_(None)
        )
    )


def test_wrong_password_is_422_and_nothing_signed(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    response = anna.sign(joint.id, password="fel lösenord")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert "password" in error["fields"]
    data, _ = anna.inspection(joint.id)
    assert data["status"] == "planned"
    assert data["signatures"] == []
    assert _active_signatures(db_session, joint.id) == 0


def test_repeated_wrong_passwords_are_throttled(client, joint, inspector):
    anna = Caller(client, inspector)
    for _ in range(5):
        assert anna.sign(joint.id, password="fel").status_code == 422
    response = anna.sign(joint.id)  # even the right one, for a while
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_police_may_not_sign_first(client, joint, police):
    peter = Caller(client, police)
    response = peter.sign(joint.id)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert peter.inspection(joint.id)[0]["signatures"] == []


def test_every_anmarkning_needs_a_note_before_the_first_signature(client, joint, inspector):
    anna = Caller(client, inspector)
    _, etag = anna.inspection(joint.id)
    checklist = {
        "mat": {"status": "anmarkning", "note": "  "},
        "overservering": {"status": "anmarkning"},
        "alderskontroll": {"status": "anmarkning", "note": "Ingen leg-kontroll i baren."},
        "narkotika": {"status": "ok"},
    }
    assert anna.save(joint.id, etag, {"protocol": {"checklist": checklist}}).status_code == 200
    response = anna.sign(joint.id)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"protocol.checklist.mat.note", "protocol.checklist.overservering.note"}
    assert anna.inspection(joint.id)[0]["status"] == "in_progress"


def test_signature_freezes_the_content_with_its_hash(client, db_session, joint, inspector, police):
    anna, peter = Caller(client, inspector), Caller(client, police)
    _, etag = anna.inspection(joint.id)
    anna.save(joint.id, etag, {"protocol": {"summary": "Åäö – ”citat” 🍺", "guest_count": 55}})
    anna.observe(joint.id, joint.planned_start + timedelta(minutes=3), "observation")
    response = anna.sign(joint.id)
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["id"] == inspector.id
    assert body["organisation"]["kind"] == "kommun"
    assert body["signed_at"].endswith("Z")
    inspection = body["inspection"]
    assert inspection["status"] == "awaiting_signatures"
    assert body["content_hash"] == recomputed_hash(inspection)
    assert response.headers["ETag"] == f'"{inspection["version"]}"'

    stored = db_session.get(Inspection, joint.id)
    db_session.refresh(stored)
    assert stored.content_hash == body["content_hash"]
    assert stored.signed_content["protocol"]["summary"] == "Åäö – ”citat” 🍺"
    assert stored.first_signed_at is not None

    # the police officer's signature carries the same hash
    response = peter.sign(joint.id)
    assert response.status_code == 201
    assert response.get_json()["content_hash"] == body["content_hash"]
    assert response.get_json()["inspection"]["status"] == "signed"


def test_signing_twice_answers_the_first(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    first = anna.sign(joint.id)
    again = anna.sign(joint.id)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["signed_at"] == first.get_json()["signed_at"]
    assert _active_signatures(db_session, joint.id) == 1


def test_an_invited_participant_who_signs_has_accepted(client, make_inspection, inspector, police):
    inspection = make_inspection(participants=[inspector, police], police_response="invited")
    first = Caller(client, inspector).sign(inspection.id).get_json()["inspection"]
    # only the inspector had accepted: she alone makes it signed
    assert first["status"] == "signed"


def test_invited_police_signing_before_all_accepted_have_signed(client, make_inspection, make_user, inspector, police):
    colleague = make_user("inspector", name="Bo Kollega")
    inspection = make_inspection(participants=[inspector, colleague, police], police_response="invited")
    anna, bo, peter = Caller(client, inspector), Caller(client, colleague), Caller(client, police)
    assert anna.sign(inspection.id).get_json()["inspection"]["status"] == "awaiting_signatures"
    before = anna.inspection(inspection.id)[0]["version"]
    response = peter.sign(inspection.id)
    assert response.status_code == 201
    data = response.get_json()["inspection"]
    assert {p["user"]["id"]: p["response"] for p in data["participants"]}[police.id] == "accepted"
    assert data["version"] > before  # a participant's response is part of the version
    assert data["status"] == "awaiting_signatures"  # Bo has not signed yet
    data = bo.sign(inspection.id).get_json()["inspection"]
    assert data["status"] == "signed"
    assert data["verification_code"]


def test_declined_participants_are_not_waited_for(client, make_inspection, inspector, police):
    inspection = make_inspection(participants=[inspector, police], police_response="declined")
    anna = Caller(client, inspector)
    assert anna.sign(inspection.id).get_json()["inspection"]["status"] == "signed"
    response = Caller(client, police).sign(inspection.id)
    assert response.status_code == 409


def test_who_may_sign(client, joint, make_user, manager, admin, other_kommun):
    assert Caller(client, manager).sign(joint.id).status_code == 403  # sees it, not a participant
    assert Caller(client, make_user("police")).sign(joint.id).status_code == 404
    assert Caller(client, make_user("inspector", org=other_kommun)).sign(joint.id).status_code == 404
    assert Caller(client, admin).sign(joint.id).status_code == 403
    assert client.post(f"/api/v1/inspections/{joint.id}/signatures", json={"password": "x"}).status_code == 401


def test_cancelled_visit_cannot_be_signed(client, make_inspection, inspector):
    inspection = make_inspection(participants=[inspector], status="cancelled")
    assert Caller(client, inspector).sign(inspection.id).status_code == 409


def test_frozen_protocol_refuses_changes_but_not_reading(client, joint, inspector, police):
    anna = Caller(client, inspector)
    anna.sign(joint.id)
    data, etag = anna.inspection(joint.id)
    assert data["status"] == "awaiting_signatures"
    for body in (
        {"protocol": {"summary": "x"}},
        {"participant_ids": [inspector.id]},
        {"diarienummer": "KS 1"},
    ):
        response = anna.save(joint.id, etag, body)
        assert response.status_code == 409, body
        assert response.get_json()["error"]["code"] == "locked"


# ---- reopen ---------------------------------------------------------------------------------------


def test_reopen_voids_the_signatures_and_unfreezes(client, db_session, joint, inspector, police):
    anna = Caller(client, inspector)
    signed = anna.sign(joint.id).get_json()
    path = f"/api/v1/inspections/{joint.id}/reopen"

    assert Caller(client, police).post(path, json={"reason": "x"}).status_code == 403
    response = anna.post(path, json={"reason": ""})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["fields"]

    response = anna.post(path, json={"reason": "Glömde ange antal gäster."})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "in_progress"
    assert data["signatures"] == []
    assert response.headers["ETag"] == f'"{data["version"]}"'
    voided = db_session.scalars(select(Signature).where(Signature.inspection_id == joint.id)).all()
    assert len(voided) == 1
    assert voided[0].voided_at is not None
    assert voided[0].void_reason == "Glömde ange antal gäster."
    assert db_session.get(Inspection, joint.id).content_hash is None
    assert db_session.scalar(
        select(func.count()).where(AuditEntry.action == "inspection.reopen", AuditEntry.object_id == joint.id)
    )

    # editable again, and a new signature fixes a new hash
    response = anna.save(joint.id, f'"{data["version"]}"', {"protocol": {"guest_count": 75}})
    assert response.status_code == 200
    resigned = anna.sign(joint.id)
    assert resigned.status_code == 201
    assert resigned.get_json()["content_hash"] != signed["content_hash"]


@pytest.mark.parametrize(("status", "code"), [("in_progress", "conflict"), ("planned", "conflict")])
def test_reopen_only_from_awaiting_signatures(client, make_inspection, inspector, status, code):
    inspection = make_inspection(participants=[inspector], status=status)
    response = Caller(client, inspector).post(f"/api/v1/inspections/{inspection.id}/reopen", json={"reason": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == code


def test_reopen_of_a_signed_protocol_is_locked(client, make_inspection, inspector):
    inspection = make_inspection(participants=[inspector])
    anna = Caller(client, inspector)
    assert anna.sign(inspection.id).get_json()["inspection"]["status"] == "signed"
    response = anna.post(f"/api/v1/inspections/{inspection.id}/reopen", json={"reason": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"


# ---- amendments -----------------------------------------------------------------------------------


def test_amendment_rules(client, db_session, joint, inspector, police, manager):
    anna, peter = Caller(client, inspector), Caller(client, police)
    path = f"/api/v1/inspections/{joint.id}/amendments"
    response = anna.post(path, json={"text": "För tidigt"})
    assert response.status_code == 409  # not signed yet
    anna.sign(joint.id)
    peter.sign(joint.id)

    assert peter.post(path, json={"text": "Polisens tillägg"}).status_code == 403
    response = anna.post(path, json={"text": ""})
    assert response.status_code == 422
    assert "text" in response.get_json()["error"]["fields"]
    assert anna.post(path, json={"text": "nul\x00"}).status_code == 422

    text = "<b>Rättelse:</b> ordningsvakterna var två."
    response = Caller(client, manager).post(path, json={"text": text})
    assert response.status_code == 201, response.get_json()
    amendment = response.get_json()
    assert amendment["text"] == text
    assert amendment["author"]["id"] == manager.id
    assert len(amendment["content_hash"]) == 64

    # the manager is not a participant: only the participants sign it
    sign_path = f"{path}/{amendment['id']}/signatures"
    assert Caller(client, manager).post(sign_path, json={"password": "x"}).status_code == 403
    first = anna.post(sign_path, json={"password": PASSWORD})
    again = anna.post(sign_path, json={"password": PASSWORD})
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.get_json()["content_hash"] == amendment["content_hash"]
    assert peter.post(sign_path, json={"password": PASSWORD}).get_json()["amendment"]["status"] == "signed"
    assert anna.post(f"{path}/999999/signatures", json={"password": PASSWORD}).status_code == 404


def test_signature_is_audited(client, db_session, joint, inspector):
    Caller(client, inspector).sign(joint.id)
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "inspection.sign", AuditEntry.object_id == joint.id)
    ).one()
    assert entry.user_id == inspector.id
    assert len(entry.details["content_hash"]) == 64


def test_two_visits_with_identical_content_get_different_codes(client, make_inspection, inspector):
    one = make_inspection(participants=[inspector], kind="inre")
    two = make_inspection(participants=[inspector], kind="inre")
    anna = Caller(client, inspector)
    first = anna.sign(one.id).get_json()
    second = anna.sign(two.id).get_json()
    assert first["content_hash"] == second["content_hash"]  # nothing tells them apart but the venue
    assert first["inspection"]["status"] == second["inspection"]["status"] == "signed"
    assert first["inspection"]["verification_code"] != second["inspection"]["verification_code"]
