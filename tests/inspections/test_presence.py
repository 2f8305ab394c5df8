"""Who else is in the protocol now (UX.md): each open protocol page says so every 30 seconds and is
told who else has had the protocol open within the last 90."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inspection.inspections.models import ProtocolPresence
from tests.inspections.test_protocol_support import Caller


def here(caller, inspection_id):
    response = caller.post(f"/api/v1/inspections/{inspection_id}/presence")
    assert response.status_code == 200, response.get_json()
    return [(p["user"]["name"], p["organisation"]["kind"]) for p in response.get_json()["present"]]


@pytest.fixture
def joint(make_inspection, inspector, police):
    return make_inspection(participants=[inspector, police], status="in_progress")


def test_each_sees_the_others_not_themselves(client, joint, inspector, police, manager):
    anna, per, chefen = Caller(client, inspector), Caller(client, police), Caller(client, manager)
    assert here(anna, joint.id) == []
    assert here(per, joint.id) == [(inspector.name, "kommun")]
    assert here(chefen, joint.id) == [(police.name, "polis"), (inspector.name, "kommun")]  # most recent first
    assert sorted(here(anna, joint.id)) == sorted([(police.name, "polis"), (manager.name, "kommun")])


def test_a_page_closed_for_more_than_90_seconds_is_gone(client, db_session, joint, inspector, police):
    anna, per = Caller(client, inspector), Caller(client, police)
    here(per, joint.id)
    row = db_session.scalars(select(ProtocolPresence).where(ProtocolPresence.user_id == police.id)).one()
    row.last_seen_at -= timedelta(seconds=91)
    db_session.flush()
    assert here(anna, joint.id) == []
    here(per, joint.id)  # the officer opens it again
    assert here(anna, joint.id) == [(police.name, "polis")]


def test_one_row_per_person_however_often(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    for _ in range(3):
        here(anna, joint.id)
    count = db_session.scalar(select(func.count()).select_from(ProtocolPresence))
    assert count == 1


def test_only_those_who_may_see_the_protocol(client, joint, make_user, other_kommun):
    outsider = Caller(client, make_user("police", name="Annan Polis"))
    other = Caller(client, make_user("inspector", org=other_kommun))
    assert outsider.post(f"/api/v1/inspections/{joint.id}/presence").status_code == 404
    assert other.post(f"/api/v1/inspections/{joint.id}/presence").status_code == 404
    assert client.post(f"/api/v1/inspections/{joint.id}/presence").status_code == 401


def test_the_protocol_page_has_a_place_for_it(client, login, joint, inspector):
    login(inspector)
    html = client.get(f"/tillsyn/{joint.id}").get_data(as_text=True)
    assert 'id="presence"' in html
    assert f'data-presence-url="/api/v1/inspections/{joint.id}/presence"' in html
