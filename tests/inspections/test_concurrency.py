"""Two tablets at once, with real threads against a database file of its own (not the rolled-back
test transaction): the same observation sent twice at the same moment is stored once, and of two saves
based on the same version one wins and the other gets 412, nothing lost."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inspection import create_app
from inspection.auth.models import Organisation, User
from inspection.extensions import db
from inspection.inspections.models import Inspection, InspectionParticipant, Observation
from inspection.venues.models import Venue
from tests.conftest import _HASH, PASSWORD, IsolatedClient

pytestmark = pytest.mark.slow


@pytest.fixture
def world(tmp_path):
    """An app on its own SQLite file, with a kommun, a police area, an inspector, a police officer and
    a joint inspection starting now."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/c.db",
            "TESTING": True,
            "SECRET_KEY": "concurrency-test",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        kommun = Organisation(name="Östersunds kommun", kind="kommun")
        police_org = Organisation(name="Polisområde Jämtland", kind="polis")
        inspector = User(
            email="anna@example.se", name="Anna", role="inspector", organisation=kommun, password_hash=_HASH
        )
        police = User(
            email="peter@example.se", name="Peter", role="police", organisation=police_org, password_hash=_HASH
        )
        venue = Venue(
            kommun=kommun,
            name="Krogen",
            address="Storgatan 1",
            permit_holder="Krogen AB",
            org_number="556016-0680",
            permit_number="T-1",
            permit_scope="allmanheten",
            permit_kind="stadigvarande",
            serving_hours="11:00-01:00",
            max_guests=100,
            risk_class=2,
        )
        start = datetime.now(UTC).replace(microsecond=0)
        inspection = Inspection(
            kommun=kommun,
            venue=venue,
            kind="samordnad",
            planned_start=start,
            planned_end=start + timedelta(hours=2),
        )
        db.session.add_all([kommun, police_org, inspector, police, venue, inspection])
        db.session.flush()
        for user in (inspector, police):
            inspection.participants.append(
                InspectionParticipant(user=user, organisation_id=user.organisation_id, response="accepted")
            )
        db.session.commit()
        ids = {"inspection": inspection.id, "start": start, "inspector": inspector.email, "police": police.email}
    try:
        yield app, ids
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _token(app, email):
    response = app.test_client().post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _at_once(calls):
    """Run the calls in threads released together; their answers in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # a crash must show in the test, not vanish with the thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_same_observation_sent_twice_at_once_is_stored_once(world):
    app, ids = world
    headers = [_token(app, ids["inspector"]), _token(app, ids["police"])]
    path = f"/api/v1/inspections/{ids['inspection']}/observations"
    body = {
        "client_id": str(uuid.uuid4()),
        "observed_at": (ids["start"] + timedelta(minutes=10)).isoformat(),
        "category": "overservering",
        "intoxication_level": "kraftigt_berusad",
        "description": "Stor stark till kraftigt berusad gäst.",
    }
    clients = [app.test_client() for _ in range(6)]
    calls = [(lambda c=c, h=headers[i % 2]: c.post(path, json=body, headers=h)) for i, c in enumerate(clients)]
    results = _at_once(calls)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 200, 200, 200, 201], [r.get_json() for r in results]
    assert len({r.get_json()["id"] for r in results}) == 1
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Observation.inspection_id == ids["inspection"]))
    assert count == 1


def test_two_saves_on_the_same_version_one_wins_one_is_stale_nothing_lost(world):
    app, ids = world
    anna, peter = _token(app, ids["inspector"]), _token(app, ids["police"])
    path = f"/api/v1/inspections/{ids['inspection']}"
    first = app.test_client().get(path, headers=anna)
    etag = first.headers["ETag"]

    bodies = [
        (anna, {"protocol": {"summary": "Annas sammanfattning"}}),
        (peter, {"protocol": {"guest_count": 87}}),
    ]
    clients = [app.test_client() for _ in bodies]
    calls = [
        (lambda c=c, h=h, b=b: c.patch(path, json=b, headers={**h, "If-Match": etag}))
        for c, (h, b) in zip(clients, bodies, strict=True)
    ]
    results = _at_once(calls)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 412], [r.get_json() for r in results]

    winner = next(r for r in results if r.status_code == 200)
    loser_index = next(i for i, r in enumerate(results) if r.status_code == 412)
    current = results[loser_index].get_json()["error"]["current"]
    assert current["version"] == winner.get_json()["version"]
    assert current["protocol"] == winner.get_json()["protocol"]

    # The loser merges onto the current version and saves again.
    headers, body = bodies[loser_index]
    again = app.test_client().patch(path, json=body, headers={**headers, "If-Match": f'"{current["version"]}"'})
    assert again.status_code == 200, again.get_json()
    protocol = again.get_json()["protocol"]
    assert protocol["summary"] == "Annas sammanfattning"
    assert protocol["guest_count"] == 87


def test_observations_and_saves_at_once_never_fail(world):
    """Observations do not touch the version: a burst of them alongside a save all succeed (and SQLite
    waits for its write lock instead of answering "database is locked")."""
    app, ids = world
    anna, peter = _token(app, ids["inspector"]), _token(app, ids["police"])
    base = f"/api/v1/inspections/{ids['inspection']}"
    etag = app.test_client().get(base, headers=anna).headers["ETag"]
    # The visit has begun (the first change moves it to in_progress, which is a new version).
    started = app.test_client().patch(base, json={"protocol": {"guest_count": 40}}, headers={**anna, "If-Match": etag})
    etag = started.headers["ETag"]

    def observe(headers, n):
        body = {
            "client_id": str(uuid.uuid4()),
            "observed_at": (ids["start"] + timedelta(minutes=n)).isoformat(),
            "category": "ordning",
            "description": f"observation {n}",
        }
        return app.test_client().post(f"{base}/observations", json=body, headers=headers)

    calls = [(lambda n=n: observe(anna if n % 2 else peter, n)) for n in range(10)]
    calls.append(
        lambda: app.test_client().patch(
            base, json={"protocol": {"summary": "Sparad mitt i"}}, headers={**anna, "If-Match": etag}
        )
    )
    results = _at_once(calls)
    assert [r.status_code for r in results] == [201] * 10 + [200], [r.get_json() for r in results]
    data = app.test_client().get(base, headers=peter).get_json()
    assert len(data["observations"]) == 10
    assert data["protocol"]["summary"] == "Sparad mitt i"
