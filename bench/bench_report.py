"""Benchmark of the reports on a large kommun: the summary, the yearly statistics, the dashboard, the
half-year report (with the year-earlier comparison) and its PDF.

    .venv/bin/python bench/bench_report.py [--venues 2000] [--visits 4000] [--runs 7] [--keep PATH]

Builds its own data in a temporary SQLite file with bulk inserts (no fixtures, no network): one
kommun with `--venues` venues (risk classes 1/2/3), `--visits` signed inspections over the last full
year plus the year before (for the comparison), 2–40 observations each, a third of the visits signed
by the police, trainings with participants, överserveringstest and decided cases. Prints the median
and the slowest of `--runs` runs per report, in milliseconds, and the number of SQL statements.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert

from inspection import create_app
from inspection.auth.models import Organisation, User
from inspection.cases.models import Case, CaseStep
from inspection.extensions import db
from inspection.inspections.models import (
    CHECKLIST_FOR_KIND,
    INTOXICATION_LEVELS,
    OBSERVATION_CATEGORIES,
    Inspection,
    InspectionParticipant,
    InspectionPlan,
    Observation,
    Signature,
)
from inspection.reports import pdf, services
from inspection.trainings.models import OverservingTest, Training, TrainingParticipant
from inspection.types import STOCKHOLM
from inspection.venues.models import Venue

#: a password hash that matches no password: the benchmark signs nobody in
NO_LOGIN = "!"
HOURS = ["11:00-23:00", "11:00-01:00", "16:00-02:00", "22:00-03:00", "11:00-22:00"]


def build(venues: int, visits: int, seed: int = 7) -> tuple[int, int]:
    """Fill the database; answer (kommun id, the report year)."""
    rng = random.Random(seed)
    year = date.today().year - 1
    kommun = Organisation(name="Storstads kommun", kind="kommun")
    polis = Organisation(name="Polisområde Storstad", kind="polis")
    db.session.add_all([kommun, polis])
    db.session.flush()
    inspector = User(
        email="i@example.se", name="I", role="inspector", organisation_id=kommun.id, password_hash=NO_LOGIN
    )
    officer = User(email="p@example.se", name="P", role="police", organisation_id=polis.id, password_hash=NO_LOGIN)
    manager = User(email="m@example.se", name="M", role="manager", organisation_id=kommun.id, password_hash=NO_LOGIN)
    db.session.add_all([inspector, officer, manager])
    db.session.add(InspectionPlan(kommun_id=kommun.id, year=year))
    db.session.flush()

    now = datetime.now(UTC)
    db.session.execute(
        insert(Venue),
        [
            {
                "id": n,
                "kommun_id": kommun.id,
                "name": f"Restaurang {n}",
                "address": f"Storgatan {n}",
                "permit_holder": f"Krog {n} AB",
                "org_number": "556016-0680",
                "permit_number": f"T-{n}",
                "permit_scope": "allmanheten",
                "permit_kind": "tillfalligt" if n % 25 == 0 else "stadigvarande",
                "serving_hours": HOURS[n % len(HOURS)],
                "risk_class": rng.choices([1, 2, 3], weights=[5, 3, 2])[0],
                "active": n % 40 != 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(1, venues + 1)
        ],
    )

    inspections, participants, signatures, observations = [], [], [], []
    obs_id = 0
    for n in range(1, 2 * visits + 1):
        y = year if n <= visits else year - 1
        start = datetime(y, 1, 1, 21, tzinfo=STOCKHOLM) + timedelta(days=rng.randrange(365), minutes=rng.randrange(300))
        kind = rng.choices(["yttre", "samordnad", "inre", "forebyggande"], weights=[5, 3, 1, 1])[0]
        joint = kind == "samordnad" or rng.random() < 0.1
        checklist = {
            code: {"status": rng.choices(["ok", "anmarkning", "ej_kontrollerad"], weights=[8, 1, 1])[0], "note": "x"}
            for code in CHECKLIST_FOR_KIND[kind]
        }
        inspections.append(
            {
                "id": n,
                "kommun_id": kommun.id,
                "venue_id": rng.randrange(1, venues + 1),
                "kind": kind,
                "status": "signed" if rng.random() < 0.95 else "cancelled",
                "planned_start": start.astimezone(UTC),
                "planned_end": (start + timedelta(hours=1)).astimezone(UTC),
                "arrived_at": (start + timedelta(minutes=5)).astimezone(UTC) if rng.random() < 0.8 else None,
                "intoxication_level": rng.choice(list(INTOXICATION_LEVELS)),
                "checklist": checklist,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        people = [inspector, officer] if joint else [inspector]
        for person in people:
            participants.append(
                {
                    "inspection_id": n,
                    "user_id": person.id,
                    "organisation_id": person.organisation_id,
                    "response": "accepted",
                    "invited_at": now,
                }
            )
            signatures.append(
                {
                    "inspection_id": n,
                    "user_id": person.id,
                    "organisation_id": person.organisation_id,
                    "signed_at": now,
                    "content_hash": "0" * 64,
                }
            )
        for k in range(rng.randint(2, 40)):
            obs_id += 1
            observations.append(
                {
                    "id": obs_id,
                    "inspection_id": n,
                    "client_id": f"{n:08d}-0000-0000-0000-{k:012d}",
                    "observed_at": (start + timedelta(minutes=k)).astimezone(UTC),
                    "received_at": now,
                    "category": rng.choice(list(OBSERVATION_CATEGORIES)),
                    "description": "Gäst vid baren.",
                    "author_id": inspector.id,
                    "retracted": False,
                }
            )
    db.session.execute(insert(Inspection), inspections)
    db.session.execute(insert(InspectionParticipant), participants)
    db.session.execute(insert(Signature), signatures)
    db.session.execute(insert(Observation), observations)

    trainings, people = [], []
    for n in range(1, 81):
        starts = date(year - (n % 2), 1, 1) + timedelta(days=rng.randrange(360))
        trainings.append(
            {
                "id": n,
                "kommun_id": kommun.id,
                "kind": "ansvarsfull_alkoholservering" if n % 2 else "krogar_mot_knark",
                "title": f"Kurs {n}",
                "starts_on": starts,
                "ends_on": starts + timedelta(days=1),
                "created_at": now,
            }
        )
        for k in range(25):
            people.append(
                {
                    "training_id": n,
                    "position": k,
                    "name": f"Deltagare {n}-{k}",
                    "role": "serveringspersonal",
                    "venue_id": rng.randrange(1, venues + 1),
                    "attended": rng.random() < 0.9,
                    "passed": rng.random() < 0.8,
                }
            )
    db.session.execute(insert(Training), trainings)
    db.session.execute(insert(TrainingParticipant), people)
    db.session.execute(
        insert(OverservingTest),
        [
            {
                "kommun_id": kommun.id,
                "venue_id": rng.randrange(1, venues + 1),
                "tested_on": date(year - (n % 2), 1, 1) + timedelta(days=rng.randrange(365)),
                "refused": rng.random() < 0.7,
                "created_at": now,
            }
            for n in range(400)
        ],
    )
    db.session.execute(
        insert(Case),
        [
            {
                "id": n,
                "kommun_id": kommun.id,
                "venue_id": rng.randrange(1, venues + 1),
                "status": rng.choice(["open", "awaiting_reply", "decided", "closed"]),
                "summary": "Överservering",
                "opened_at": now,
            }
            for n in range(1, 301)
        ],
    )
    db.session.execute(
        insert(CaseStep),
        [
            {
                "case_id": n,
                "kind": "decision",
                "date": date(year - (n % 2), 1, 1) + timedelta(days=rng.randrange(365)),
                "by_id": manager.id,
                "sanction": rng.choice(["erinran", "varning", "aterkallelse", "ingen_atgard"]),
                "created_at": now,
            }
            for n in range(1, 301)
        ],
    )
    db.session.commit()
    return kommun.id, year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venues", type=int, default=2000)
    parser.add_argument("--visits", type=int, default=4000, help="signed visits in the report year")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the SQLite database at this path")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="krogtillsyn-bench-") as tmp:
        path = args.keep or Path(tmp) / "bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "UPLOAD_FOLDER": str(Path(tmp) / "uploads")})
        with app.app_context():
            db.drop_all()
            db.create_all()
            t0 = time.perf_counter()
            kommun_id, year = build(args.venues, args.visits)
            print(
                f"data: {args.venues} venues, {args.visits} signed visits a year over two years, "
                f"built in {time.perf_counter() - t0:.1f} s ({path})"
            )
            statements = {"n": 0}

            def count(*_):
                statements["n"] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            year_from, year_to = date(year, 1, 1), date(year, 12, 31)
            half = (date(year, 7, 1), date(year, 12, 31))
            cases = [
                ("summary, a whole year", lambda: services.summary(kommun_id, year_from, year_to)),
                ("yearly statistics", lambda: services.yearly_statistics(kommun_id, year)),
                ("dashboard (year)", lambda: services.dashboard(kommun_id, year)),
                ("half-year report (+ year earlier)", lambda: services.half_year_report(kommun_id, *half)),
                ("half-year report PDF", lambda: pdf.half_year_pdf(services.half_year_report(kommun_id, *half))),
            ]
            print(f"\n{'report':<36}{'median ms':>12}{'max ms':>10}{'queries':>9}")
            print("-" * 67)
            for name, run in cases:
                times = []
                for _ in range(args.runs):
                    db.session.expire_all()
                    statements["n"] = 0
                    t = time.perf_counter()
                    run()
                    times.append((time.perf_counter() - t) * 1000)
                print(f"{name:<36}{statistics.median(times):>12.1f}{max(times):>10.1f}{statements['n']:>9}")
            event.remove(db.engine, "before_cursor_execute", count)
            figures = services.summary(kommun_id, year_from, year_to)
            print(
                f"\nchecked: {sum(figures['visits'].values())} signed visits counted in {year}, "
                f"{figures['joint_visits']} joint, {figures['venues_visited']} venues"
            )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
