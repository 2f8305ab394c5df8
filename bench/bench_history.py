"""Benchmark of the venue history (page and API) for venues with 10, 100 and 1,000 inspections.

    .venv/bin/python bench/bench_history.py [--sizes 10 100 1000] [--runs 7] [--observations 6]

Builds its own data in a temporary SQLite file (no fixtures, no network): one kommun, an inspector and
a police officer, one venue per size with that many signed inspections spread over the years (with a
checklist, participants and `--observations` observations each), a decided case every 25 visits, a
training and an överserveringstest every 50. Signs in through the login page (a real session) and
times `GET /serveringsstallen/<id>/historik` (the newest 200 events, and `?alla=1`: all) and `GET /api/v1/venues/<id>/history` through the test
client: the median and the slowest of `--runs` runs after one warm-up, in milliseconds, with the
number of SQL statements (which must not grow with the history).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert

from inspection import create_app
from inspection.auth.models import Organisation, User
from inspection.auth.passwords import hash_password
from inspection.cases.models import Case, CaseStep
from inspection.extensions import db
from inspection.inspections.models import (
    CHECKLIST_FOR_KIND,
    INTOXICATION_LEVELS,
    OBSERVATION_CATEGORIES,
    Inspection,
    InspectionParticipant,
    Observation,
)
from inspection.trainings.models import OverservingTest, Training, training_venue
from inspection.venues.models import Venue

PASSWORD = "bänk-mätning-historik-2026"  # noqa: S105 - a throwaway account in a temporary database


def seed(sizes: list[int], observations: int, rng: random.Random) -> tuple[str, dict[int, int]]:
    """The inspector's e-mail and {size: venue id}."""
    kommun = Organisation(name="Bänkens kommun", kind="kommun")
    police_org = Organisation(name="Bänkens polisområde", kind="polis")
    inspector = User(
        email="handlaggare@bench.example",
        name="Bänk Handläggare",
        role="inspector",
        organisation=kommun,
        password_hash=hash_password(PASSWORD),
    )
    police = User(
        email="polis@bench.example",
        name="Bänk Polis",
        role="police",
        organisation=police_org,
        password_hash="!",  # noqa: S106 - cannot sign in
    )
    db.session.add_all([kommun, police_org, inspector, police])
    db.session.flush()
    venues = {}
    items = CHECKLIST_FOR_KIND["yttre"]
    levels = list(INTOXICATION_LEVELS)
    categories = list(OBSERVATION_CATEGORIES)
    for size in sizes:
        venue = Venue(
            kommun_id=kommun.id,
            name=f"Krogen med {size} besök",
            address="Storgatan 1",
            permit_holder="Bänk AB",
            org_number="556016-0680",
            permit_number=f"B-{size}",
            permit_scope="allmanheten",
            permit_kind="stadigvarande",
            serving_hours="11:00-03:00",
            max_guests=400,
            risk_class=3,
        )
        db.session.add(venue)
        db.session.flush()
        venues[size] = venue.id
        # Spread the visits evenly back from yesterday, at most 20 years.
        span = min(20 * 365, max(size * 7, 30))
        inspection_rows, participant_rows, observation_rows = [], [], []
        first_id = (db.session.execute(db.text("SELECT COALESCE(MAX(id), 0) FROM inspection")).scalar() or 0) + 1
        for i in range(size):
            start = datetime.now(UTC).replace(hour=21, minute=0, second=0, microsecond=0) - timedelta(
                days=1 + i * span // size
            )
            checklist = {
                code: {"status": "anmarkning" if rng.random() < 0.1 else "ok", "note": "Brist noterad"}
                for code in items
            }
            iid = first_id + i
            inspection_rows.append(
                {
                    "id": iid,
                    "kommun_id": kommun.id,
                    "venue_id": venue.id,
                    "kind": "samordnad" if i % 3 == 0 else "yttre",
                    "status": "signed",
                    "planned_start": start,
                    "planned_end": start + timedelta(hours=2),
                    "arrived_at": start + timedelta(minutes=10),
                    "left_at": start + timedelta(minutes=50),
                    "intoxication_level": rng.choice(levels),
                    "checklist": checklist,
                    "signed_at": start + timedelta(hours=3),
                    "version": 3,
                }
            )
            participant_rows.append(
                {"inspection_id": iid, "user_id": inspector.id, "organisation_id": kommun.id, "response": "accepted"}
            )
            if i % 3 == 0:
                participant_rows.append(
                    {
                        "inspection_id": iid,
                        "user_id": police.id,
                        "organisation_id": police_org.id,
                        "response": "accepted",
                    }
                )
            for k in range(observations):
                observation_rows.append(
                    {
                        "inspection_id": iid,
                        "client_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "observed_at": start + timedelta(minutes=15 + k),
                        "received_at": start + timedelta(minutes=15 + k),
                        "category": rng.choice(categories),
                        "intoxication_level": rng.choice(levels + [None]),
                        "description": "Gäst vinglar vid baren och beställer.",
                        "author_id": inspector.id,
                        "retracted": False,
                    }
                )
            if i % 25 == 24:
                case = Case(kommun_id=kommun.id, venue_id=venue.id, status="decided", summary="Överservering")
                case.steps.append(
                    CaseStep(
                        kind="decision",
                        date=start.date() + timedelta(days=30),
                        by_id=inspector.id,
                        sanction=rng.choice(["erinran", "varning"]),
                        decided_by="delegat",
                    )
                )
                db.session.add(case)
            if i % 50 == 49:
                training = Training(
                    kommun_id=kommun.id,
                    kind="ansvarsfull_alkoholservering",
                    title="Ansvarsfull alkoholservering",
                    starts_on=start.date(),
                    ends_on=start.date() + timedelta(days=1),
                )
                db.session.add(training)
                db.session.flush()
                db.session.execute(insert(training_venue).values(training_id=training.id, venue_id=venue.id))
                db.session.add(
                    OverservingTest(kommun_id=kommun.id, venue_id=venue.id, tested_on=start.date(), refused=i % 2 == 0)
                )
        db.session.execute(insert(Inspection), inspection_rows)
        db.session.execute(insert(InspectionParticipant), participant_rows)
        if observation_rows:
            db.session.execute(insert(Observation), observation_rows)
    db.session.commit()
    return inspector.email, venues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--observations", type=int, default=6, help="observations per inspection")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="krogtillsyn-bench-history-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "SECRET_KEY": "bench-history",
                "UPLOAD_FOLDER": str(Path(tmp) / "uploads"),
                "WTF_CSRF_ENABLED": False,  # the benchmark signs in with a plain form post
            }
        )
        with app.app_context():
            db.create_all()
            t0 = time.perf_counter()
            email, venues = seed(args.sizes, args.observations, random.Random(2026))
            print(f"Seeded {sum(args.sizes)} inspections in {time.perf_counter() - t0:.1f} s")

            statements = {"n": 0}

            def count(*_):
                statements["n"] += 1

            event.listen(db.engine, "before_cursor_execute", count)

        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"sign-in failed: {response.status_code}")

        rows = []
        for size, venue_id in venues.items():
            for label, url in (
                ("page", f"/serveringsstallen/{venue_id}/historik"),
                ("page, all events", f"/serveringsstallen/{venue_id}/historik?alla=1"),
                ("API", f"/api/v1/venues/{venue_id}/history"),
            ):
                client.get(url)  # warm-up
                times, queries, length = [], 0, 0
                for _ in range(args.runs):
                    statements["n"] = 0
                    t0 = time.perf_counter()
                    response = client.get(url)
                    times.append((time.perf_counter() - t0) * 1000)
                    queries = statements["n"]
                    length = len(response.data)
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: {response.status_code}")
                rows.append((size, label, statistics.median(times), max(times), queries, length))

        print()
        print(f"{'inspections':>11}  {'what':<16}  {'median ms':>9}  {'max ms':>8}  {'queries':>7}  {'bytes':>9}")
        for size, label, median, slowest, queries, length in rows:
            print(f"{size:>11}  {label:<16}  {median:>9.1f}  {slowest:>8.1f}  {queries:>7}  {length:>9}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
