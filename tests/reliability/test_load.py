"""Load and fault tests against gunicorn (slow: run by .ci/run).

- Four workers on SQLite under concurrent writes never fail with "database is locked" (WAL, busy
  timeout, BEGIN IMMEDIATE) and never answer 500.
- On PostgreSQL, a restart of the database server during the load loses no acknowledged write: the
  app answers 503 while the database is away, the clients resend (idempotent client ids), and every
  observation the server acknowledged is there afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from inspection import create_app
from inspection.auth.models import Organisation, User
from inspection.auth.passwords import hash_password
from inspection.config import database_url
from inspection.extensions import db
from inspection.inspections.models import Inspection, InspectionParticipant, Observation
from inspection.venues.models import Venue

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from server import Client, gunicorn

pytestmark = pytest.mark.slow
PASSWORD = "ett långt lösenord för lasttest"


def _seed(url: str, users: int) -> tuple[int, list[str]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        kommun = Organisation(name="Lastkommun", kind="kommun")
        polis = Organisation(name="Lastpolis", kind="polis")
        venue = Venue(
            kommun=kommun,
            name="Lastkrogen",
            address="Gatan 1",
            permit_holder="Last AB",
            org_number="556016-0680",
            permit_number="L-1",
            permit_scope="allmanheten",
            permit_kind="stadigvarande",
            serving_hours="11:00-03:00",
        )
        now = datetime.now(UTC)
        inspection = Inspection(
            kommun=kommun,
            venue=venue,
            kind="samordnad",
            planned_start=now - timedelta(hours=1),
            planned_end=now + timedelta(hours=2),
        )
        pw = hash_password(PASSWORD)
        emails = []
        for i in range(users):
            role, org = ("police", polis) if i % 2 else ("inspector", kommun)
            user = User(email=f"last{i}@example.se", name=f"Last {i}", role=role, organisation=org, password_hash=pw)
            inspection.participants.append(InspectionParticipant(user=user, organisation=org, response="accepted"))
            emails.append(user.email)
        db.session.add_all([kommun, polis, venue, inspection])
        db.session.flush()
        inspection_id = inspection.id  # read before the commit, which would expire it and reconnect
        db.session.commit()
        db.session.remove()  # give the connection back before the pool is closed
        db.engine.dispose()
    return inspection_id, emails


def _count_observations(url: str, client_ids: set[str]) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.scalars(select(Observation.client_id)))
    engine.dispose()
    return len(client_ids & found)


def _run_load(base, inspection_id, emails, seconds: float, on_the_way=None):
    """Each user posts observations (resending on failure with the same client id, as the tablet's
    outbox does) and, for inspectors, saves the protocol with If-Match. Returns the acknowledged ids
    and every status seen."""
    acknowledged: set[str] = set()
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    clients = []
    for email in emails:  # sign in first: Argon2 is slow on purpose and not what is measured
        client = Client(base)
        client.token_login(email, PASSWORD)
        clients.append(client)
    deadline = time.monotonic() + seconds

    def user(email: str, n: int):
        client = clients[n]
        i = 0
        while time.monotonic() < deadline:
            client_id = str(uuid.uuid4())
            body = {
                "client_id": client_id,
                "observed_at": datetime.now(UTC).isoformat(),
                "category": "berusning",
                "description": f"{email} iakttagelse {i}",
            }
            for _attempt in range(60):  # resend until acknowledged, like the outbox
                try:
                    status, _, _ = client.request("POST", f"/api/v1/inspections/{inspection_id}/observations", body)
                except OSError:
                    status = 0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                if status in (200, 201):
                    with lock:
                        acknowledged.add(client_id)
                    break
                time.sleep(0.5)
            if n % 2 == 0 and i % 3 == 0:
                try:
                    status, data, headers = client.request("GET", f"/api/v1/inspections/{inspection_id}")
                    if status == 200:
                        status, _, _ = client.request(
                            "PATCH",
                            f"/api/v1/inspections/{inspection_id}",
                            {"protocol": {"guest_count": i}},
                            {"If-Match": headers.get("ETag", '"0"')},
                        )
                        with lock:
                            statuses[status] = statuses.get(status, 0) + 1
                except OSError:
                    pass
            i += 1
        client.close()

    threads = [threading.Thread(target=user, args=(email, n)) for n, email in enumerate(emails)]
    for t in threads:
        t.start()
    if on_the_way:
        on_the_way()
    for t in threads:
        t.join()
    return acknowledged, statuses


def test_four_workers_on_sqlite_never_lock(tmp_path):
    url = f"sqlite:///{tmp_path / 'load.db'}"
    inspection_id, emails = _seed(url, users=8)
    with gunicorn(url, workers=4, upload_folder=str(tmp_path / "up")) as base:
        acknowledged, statuses = _run_load(base, inspection_id, emails, seconds=15)
    assert not any(s >= 500 or s == 0 for s in statuses), statuses
    assert set(statuses) <= {200, 201, 412}, statuses  # 412: a stale protocol save, refused as it must be
    assert len(acknowledged) > 20
    assert _count_observations(url, acknowledged) == len(acknowledged)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL")
@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs pg_ctlcluster to restart PostgreSQL")
def test_postgres_restart_during_load_loses_no_acknowledged_write(tmp_path):
    admin_url = database_url(os.environ["TEST_DATABASE_URL"])
    name = f"kt_fault_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    version = sorted(os.listdir("/etc/postgresql"))[0]
    try:
        inspection_id, emails = _seed(url, users=6)

        def restart():
            time.sleep(4)
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)  # noqa: S603,S607

        with gunicorn(url, workers=2, upload_folder=str(tmp_path / "up")) as base:
            acknowledged, statuses = _run_load(base, inspection_id, emails, seconds=20, on_the_way=restart)
            probe = Client(base)
            for _ in range(60):
                if probe.request("GET", "/healthz")[0] == 200:
                    break
                time.sleep(0.5)
            assert probe.request("GET", "/healthz")[0] == 200  # recovered by itself
            probe.close()
        assert 500 not in statuses, statuses  # a dropped connection fails cleanly (503), never a 500
        assert len(acknowledged) > 20
        assert _count_observations(url, acknowledged) == len(acknowledged)
        engine = create_engine(url)
        with engine.connect() as conn:
            duplicates = conn.execute(
                select(Observation.client_id).group_by(Observation.client_id).having(func.count() > 1)
            ).all()
        engine.dispose()
        assert duplicates == []
    finally:
        for _ in range(30):
            try:
                admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
                break
            except Exception:
                time.sleep(1)
