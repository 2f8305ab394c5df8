"""The protocol through the API: the whole life of a joint inspection, autosave with If-Match and
merging, bad input, and who may see and change what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from inspection.audit import AuditEntry
from inspection.inspections import protocol as protocol_module
from inspection.inspections.models import Inspection
from tests.conftest import PASSWORD
from tests.inspections.test_protocol_support import Caller, recomputed_hash


@pytest.fixture
def joint(make_inspection, inspector, police):
    """A samordnad tillsyn tonight with an inspector (accepted) and a police officer (invited)."""
    return make_inspection(participants=[inspector, police], police_response="invited")


def test_the_life_of_a_joint_inspection(client, db_session, joint, inspector, police):
    anna, peter = Caller(client, inspector), Caller(client, police)
    iid = joint.id
    start = joint.planned_start

    # The police officer accepts the invitation.
    response = peter.post(f"/api/v1/inspections/{iid}/responses", json={"response": "accepted"})
    assert response.status_code == 200, response.get_json()

    # Both open the protocol.
    data, etag_anna = anna.inspection(iid)
    _, etag_peter = peter.inspection(iid)
    assert etag_anna == etag_peter == f'"{data["version"]}"'
    assert data["status"] == "planned"

    # The inspector fills in fields as she goes.
    response = anna.save(
        iid,
        etag_anna,
        {
            "protocol": {
                "arrived_at": (start + timedelta(minutes=5)).isoformat(),
                "contact_person": "Kim Krögare",
                "guest_count": 140,
                "checklist": {"mat": {"status": "ok", "note": None}},
            }
        },
    )
    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert saved["status"] == "in_progress"
    assert saved["version"] > data["version"]
    assert response.headers["ETag"] == f'"{saved["version"]}"'
    assert saved["protocol"]["contact_person"] == "Kim Krögare"
    assert saved["protocol"]["checklist"] == {"mat": {"status": "ok", "note": None}}

    # Observations from both tablets; they do not change the version.
    first = anna.observe(iid, start + timedelta(minutes=20), "stor stark serverad till berusad man 23:41")
    second = peter.observe(iid, start + timedelta(minutes=10), "kö utanför, lugnt", category="ordning")
    assert first.status_code == 201, first.get_json()
    assert second.status_code == 201, second.get_json()
    assert first.get_json()["author"]["id"] == inspector.id
    assert second.get_json()["author"]["id"] == police.id

    # The police officer saves on the version he opened: stale, and he gets the state as it is now.
    stale = peter.save(iid, etag_peter, {"protocol": {"intoxication_level": "salongsberusad"}})
    assert stale.status_code == 412
    error = stale.get_json()["error"]
    assert error["code"] == "stale"
    current = error["current"]
    assert current["protocol"]["contact_person"] == "Kim Krögare"
    assert current["version"] == saved["version"]
    assert [o["description"] for o in current["observations"]] == [
        "kö utanför, lugnt",
        "stor stark serverad till berusad man 23:41",
    ]

    # He merges and saves again on the current version: both people's work is kept.
    merged = peter.save(
        iid,
        f'"{current["version"]}"',
        {
            "protocol": {
                "intoxication_level": "salongsberusad",
                "checklist": {"overservering": {"status": "anmarkning", "note": "Servering till märkbart påverkad."}},
            }
        },
    )
    assert merged.status_code == 200, merged.get_json()
    protocol = merged.get_json()["protocol"]
    assert protocol["intoxication_level"] == "salongsberusad"
    assert protocol["contact_person"] == "Kim Krögare"
    assert protocol["guest_count"] == 140
    assert protocol["checklist"] == {
        "mat": {"status": "ok", "note": None},
        "overservering": {"status": "anmarkning", "note": "Servering till märkbart påverkad."},
    }

    # The inspector signs first; the content is frozen with its hash.
    signed = anna.sign(iid)
    assert signed.status_code == 201, signed.get_json()
    body = signed.get_json()
    assert body["inspection"]["status"] == "awaiting_signatures"
    frozen_hash = body["content_hash"]
    assert len(frozen_hash) == 64
    assert frozen_hash == recomputed_hash(body["inspection"])

    # Then the police officer: signed, with the same hash and a verification code.
    signed = peter.sign(iid)
    assert signed.status_code == 201, signed.get_json()
    final = signed.get_json()["inspection"]
    assert final["status"] == "signed"
    assert [s["content_hash"] for s in final["signatures"]] == [frozen_hash, frozen_hash]
    assert {s["user"]["id"] for s in final["signatures"]} == {inspector.id, police.id}
    assert final["verification_code"]

    # Frozen: no more edits or observations.
    data, etag = anna.inspection(iid)
    response = anna.save(iid, etag, {"protocol": {"summary": "Ändrat i efterhand"}})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"
    response = peter.observe(iid, start + timedelta(minutes=30))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"
    assert anna.inspection(iid)[0]["protocol"]["summary"] is None

    # A correction is an amendment, signed by both.
    response = anna.post(f"/api/v1/inspections/{iid}/amendments", json={"text": "Antalet gäster var 104, inte 140."})
    assert response.status_code == 201, response.get_json()
    amendment = response.get_json()
    assert amendment["status"] == "awaiting_signatures"
    aid = amendment["id"]
    response = anna.post(f"/api/v1/inspections/{iid}/amendments/{aid}/signatures", json={"password": "fel"})
    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["fields"]
    response = anna.post(f"/api/v1/inspections/{iid}/amendments/{aid}/signatures", json={"password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["amendment"]["status"] == "awaiting_signatures"
    response = peter.post(f"/api/v1/inspections/{iid}/amendments/{aid}/signatures", json={"password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    done = response.get_json()["amendment"]
    assert done["status"] == "signed"
    assert done["verification_code"]
    assert len(done["signatures"]) == 2

    data, _ = anna.inspection(iid)
    assert data["protocol"]["guest_count"] == 140  # the protocol itself never changes
    assert data["amendments"][0]["text"] == "Antalet gäster var 104, inte 140."

    actions = [
        e.action
        for e in db_session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "inspection", AuditEntry.object_id == iid)
        )
    ]
    for action in (
        "inspection.protocol_update",
        "observation.create",
        "inspection.sign",
        "amendment.create",
        "amendment.sign",
    ):
        assert action in actions


def test_get_answers_etag_and_the_full_object(client, joint, inspector):
    anna = Caller(client, inspector)
    data, etag = anna.inspection(joint.id)
    assert etag == f'"{data["version"]}"'
    for key in ("protocol", "observations", "signatures", "amendments", "participants", "warnings", "venue"):
        assert key in data
    assert set(data["protocol"]) >= {
        "arrived_at",
        "left_at",
        "contact_person",
        "responsible_server_present",
        "responsible_server_name",
        "guest_count",
        "intoxication_level",
        "summary",
        "feedback_given",
        "checklist",
    }


@pytest.mark.parametrize("if_match", ['"{v}"', "{v}", 'W/"{v}"'])
def test_if_match_forms(client, joint, inspector, if_match):
    anna = Caller(client, inspector)
    data, _ = anna.inspection(joint.id)
    response = anna.save(joint.id, if_match.format(v=data["version"]), {"protocol": {"summary": "Lugnt."}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["protocol"]["summary"] == "Lugnt."


def test_missing_if_match_is_428_and_nothing_saved(client, joint, inspector):
    anna = Caller(client, inspector)
    response = anna.patch(f"/api/v1/inspections/{joint.id}", json={"protocol": {"summary": "x"}})
    assert response.status_code == 428
    assert response.get_json()["error"]["code"] == "precondition_required"
    assert anna.inspection(joint.id)[0]["protocol"]["summary"] is None


def test_only_the_fields_sent_change_and_null_clears(client, joint, inspector):
    anna = Caller(client, inspector)
    data, etag = anna.inspection(joint.id)
    response = anna.save(
        joint.id,
        etag,
        {
            "protocol": {
                "summary": "Lugnt",
                "feedback_given": "Återkoppling given.",
                "checklist": {"mat": {"status": "ok"}, "narkotika": {"status": "ej_kontrollerad"}},
            }
        },
    )
    assert response.status_code == 200
    etag = response.headers["ETag"]
    response = anna.save(
        joint.id, etag, {"protocol": {"summary": None, "checklist": {"mat": None, "narkotika": {"status": "ok"}}}}
    )
    assert response.status_code == 200, response.get_json()
    protocol = response.get_json()["protocol"]
    assert protocol["summary"] is None
    assert protocol["feedback_given"] == "Återkoppling given."
    assert protocol["checklist"] == {"narkotika": {"status": "ok", "note": None}}


def test_a_save_that_changes_nothing_keeps_the_version(client, joint, inspector):
    anna = Caller(client, inspector)
    data, etag = anna.inspection(joint.id)
    response = anna.save(joint.id, etag, {"protocol": {"summary": None}})
    assert response.status_code == 200
    assert response.get_json()["version"] == data["version"]
    assert response.get_json()["status"] == "planned"


def test_each_save_is_audited_with_before_and_after(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    _, etag = anna.inspection(joint.id)
    anna.save(joint.id, etag, {"protocol": {"guest_count": 80, "checklist": {"mat": {"status": "ok"}}}})
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "inspection.protocol_update", AuditEntry.object_id == joint.id)
    ).one()
    assert entry.user_id == inspector.id
    assert entry.details["guest_count"] == [None, 80]
    assert entry.details["checklist.mat"] == [None, {"status": "ok", "note": None}]


@pytest.mark.parametrize(
    ("protocol", "field"),
    [
        ({"checklist": {"hemligt": {"status": "ok"}}}, "protocol.checklist.hemligt"),
        ({"checklist": {"mat": {"status": "kanske"}}}, "protocol.checklist.mat.status"),
        ({"intoxication_level": "packad"}, "protocol.intoxication_level"),
        ({"arrived_at": "2026-12-04T21:00:00"}, "protocol.arrived_at"),
        ({"guest_count": -1}, "protocol.guest_count"),
        ({"summary": "ok\x00"}, "protocol.summary"),
        ({"contact_person": "x" * 201}, "protocol.contact_person"),
        ({"summary": "x" * 10_001}, "protocol.summary"),
    ],
)
def test_bad_protocol_input_is_422_and_nothing_saved(client, joint, inspector, protocol, field):
    anna = Caller(client, inspector)
    before, etag = anna.inspection(joint.id)
    response = anna.save(joint.id, etag, {"protocol": {"contact_person": "Kim", **protocol}})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert field in error["fields"]
    after, etag_after = anna.inspection(joint.id)
    assert after["protocol"] == before["protocol"]
    assert etag_after == etag


def test_left_before_arrived_is_422(client, joint, inspector):
    anna = Caller(client, inspector)
    _, etag = anna.inspection(joint.id)
    start = joint.planned_start
    response = anna.save(
        joint.id,
        etag,
        {"protocol": {"arrived_at": start.isoformat(), "left_at": (start - timedelta(hours=1)).isoformat()}},
    )
    assert response.status_code == 422
    assert "protocol.left_at" in response.get_json()["error"]["fields"]


def test_markup_is_kept_exactly_as_typed(client, joint, inspector):
    anna = Caller(client, inspector)
    _, etag = anna.inspection(joint.id)
    text = '  <script>alert("x")</script> & <b>fet</b>\n\tradbrytning  '
    response = anna.save(joint.id, etag, {"protocol": {"summary": text, "contact_person": "<i>Kim</i>"}})
    assert response.status_code == 200
    data, _ = anna.inspection(joint.id)
    assert data["protocol"]["summary"] == text
    assert data["protocol"]["contact_person"] == "<i>Kim</i>"


def test_malformed_json_is_400(client, joint, inspector):
    anna = Caller(client, inspector)
    response = anna.patch(
        f"/api/v1/inspections/{joint.id}",
        data="{not json",
        headers={"If-Match": "1", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


# ---- schedule fields through PATCH ---------------------------------------------------------------


def test_schedule_fields_are_saved_by_kommun_staff(client, joint, inspector):
    anna = Caller(client, inspector)
    _, etag = anna.inspection(joint.id)
    response = anna.save(joint.id, etag, {"diarienummer": "KS 2026/99", "protocol": {"summary": "Plan"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["diarienummer"] == "KS 2026/99"
    assert response.get_json()["protocol"]["summary"] == "Plan"


def test_police_may_fill_the_protocol_but_not_the_schedule(client, joint, police):
    peter = Caller(client, police)
    _, etag = peter.inspection(joint.id)
    response = peter.save(joint.id, etag, {"protocol": {"guest_count": 90}})
    assert response.status_code == 200, response.get_json()
    etag = response.headers["ETag"]
    response = peter.save(joint.id, etag, {"planned_start": joint.planned_start.isoformat()})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    # checked before the inspection is looked up
    response = peter.save(999_999, etag, {"diarienummer": "x"})
    assert response.status_code == 403


def test_police_who_declined_cannot_edit(client, make_inspection, inspector, police):
    inspection = make_inspection(participants=[inspector, police], police_response="declined")
    peter = Caller(client, police)
    _, etag = peter.inspection(inspection.id)
    response = peter.save(inspection.id, etag, {"protocol": {"guest_count": 90}})
    assert response.status_code == 403


# ---- who may see what ----------------------------------------------------------------------------


def test_access_for_every_role(client, make_inspection, make_user, inspector, police, manager, admin, other_kommun):
    inspection = make_inspection(participants=[inspector])
    path = f"/api/v1/inspections/{inspection.id}"
    other_police = make_user("police")
    stranger = make_user("inspector", org=other_kommun)

    assert Caller(client, inspector).get(path).status_code == 200
    assert Caller(client, manager).get(path).status_code == 200  # own kommun, not a participant
    assert Caller(client, other_police).get(path).status_code == 404  # not taking part
    assert Caller(client, police).get(path).status_code == 404
    assert Caller(client, stranger).get(path).status_code == 404  # another kommun
    assert Caller(client, admin).get(path).status_code == 403  # no protocol content for admins
    assert client.get(path).status_code == 401

    data, etag = Caller(client, manager).inspection(inspection.id)
    response = Caller(client, stranger).save(inspection.id, etag, {"protocol": {"summary": "x"}})
    assert response.status_code == 404
    response = Caller(client, other_police).observe(inspection.id, inspection.planned_start)
    assert response.status_code == 404


def test_manager_of_the_kommun_may_save(client, joint, manager):
    boss = Caller(client, manager)
    _, etag = boss.inspection(joint.id)
    response = boss.save(joint.id, etag, {"protocol": {"summary": "Chefens kommentar"}})
    assert response.status_code == 200


def test_cancelled_inspection_cannot_be_filled(client, db_session, make_inspection, inspector):
    inspection = make_inspection(participants=[inspector], status="cancelled")
    anna = Caller(client, inspector)
    _, etag = anna.inspection(inspection.id)
    response = anna.save(inspection.id, etag, {"protocol": {"summary": "x"}})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert db_session.get(Inspection, inspection.id).summary is None


def test_a_write_that_loses_a_race_past_the_lock_is_412_not_500(client, db_session, joint, inspector, monkeypatch):
    """Should another writer change the row between our read and our UPDATE (the row lock makes this
    rare), the version counter refuses the UPDATE: the answer is 412 with the current state."""
    original = protocol_module.update_protocol

    def racing(actor, inspection, changes):
        db_session.execute(text("UPDATE inspection SET version = version + 1 WHERE id = :id"), {"id": inspection.id})
        return original(actor, inspection, changes)

    monkeypatch.setattr(protocol_module, "update_protocol", racing)
    anna = Caller(client, inspector)
    data, etag = anna.inspection(joint.id)
    response = anna.save(joint.id, etag, {"protocol": {"summary": "x"}})
    assert response.status_code == 412, response.get_json()
    assert response.get_json()["error"]["code"] == "stale"
    assert response.get_json()["error"]["current"]["protocol"]["summary"] is None


def test_openapi_describes_the_protocol_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    patch = paths["/api/v1/inspections/{inspection_id}"]["patch"]["responses"]
    assert {"200", "403", "404", "409", "412", "422", "428"} <= set(patch)
    observations = paths["/api/v1/inspections/{inspection_id}/observations"]["post"]["responses"]
    assert {"200", "201", "409", "422"} <= set(observations)
    photos = paths["/api/v1/inspections/{inspection_id}/photos"]["post"]
    assert "multipart/form-data" in photos["requestBody"]["content"]
    assert {"201", "413", "422"} <= set(photos["responses"])
    signatures = paths["/api/v1/inspections/{inspection_id}/signatures"]["post"]["responses"]
    assert {"200", "201", "403", "409", "422", "429"} <= set(signatures)
    for path in (
        "/api/v1/inspections/{inspection_id}/reopen",
        "/api/v1/inspections/{inspection_id}/amendments",
        "/api/v1/inspections/{inspection_id}/amendments/{amendment_id}/signatures",
        "/api/v1/inspections/{inspection_id}/observations/{observation_id}/retract",
        "/api/v1/inspections/{inspection_id}/photos/{photo_id}",
    ):
        assert path in paths
