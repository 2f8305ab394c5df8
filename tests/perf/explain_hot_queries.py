"""Print the query plan of every SQL statement the hot pages run, against a synthetic data set, to
check that the filters and orderings on big tables use indexes (issue 12). Not a test: run it by hand.

    DATABASE_URL=sqlite:////tmp/kt.db flask --app inspection seed-synthetic --venues 300 --years 5 --seed 1
    DATABASE_URL=sqlite:////tmp/kt.db .venv/bin/python tests/perf/explain_hot_queries.py [--all]

Statements whose plan scans a big table ("SCAN inspection" on SQLite, "Seq Scan on inspection" on
PostgreSQL) are marked with !!; --all prints every plan.
"""

from __future__ import annotations

import contextvars
import re
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select

from inspection import create_app
from inspection.extensions import db

PASSWORD = "syntetiskt-lösenord-2026"  # the synthetic data set's login (seed-synthetic)
BIG = (
    "inspection",
    "observation",
    "signature",
    "inspection_participant",
    "case_step",
    "training_participant",
    "audit_entry",
    "venue",
    "training",
    "amendment",
    "other_participant",
    "photo",
    "tillsyn_case",
    "overserving_test",
    "training_venue",
    "case_inspection",
)


def main() -> None:
    show_all = "--all" in sys.argv
    app = create_app({"WTF_CSRF_ENABLED": False})
    from inspection.auth.models import User
    from inspection.inspections.models import Inspection
    from inspection.venues.models import Venue

    with app.app_context():
        users = {
            role: db.session.scalar(
                select(User).where(User.role == role, User.email.like("%synthetic%")).order_by(User.id)
            )
            for role in ("inspector", "manager", "police")
        }
        inspector = users["inspector"]
        venue = db.session.scalar(
            select(Venue)
            .where(Venue.kommun_id == inspector.organisation_id)
            .order_by(Venue.risk_class.desc(), Venue.id)
        )
        signed = db.session.scalar(
            select(Inspection)
            .where(Inspection.venue_id == venue.id, Inspection.status == "signed")
            .order_by(Inspection.planned_start.desc())
        )
        emails = {role: u.email for role, u in users.items()}
        calendar_token = inspector.calendar_token
        venue_id, signed_id = venue.id, signed.id

    year = date.today().year - 1
    today = date.today()
    web, api = {}, {}
    for role, email in emails.items():
        c = app.test_client()
        assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        web[role] = c
        token = app.test_client().post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        api[role] = {"Authorization": f"Bearer {token.get_json()['token']}"}
    now = datetime.now(UTC)
    live = (
        app.test_client()
        .post(
            "/api/v1/inspections",
            headers=api["inspector"],
            json={
                "venue_id": venue_id,
                "kind": "samordnad",
                "planned_start": (now - timedelta(minutes=30)).isoformat(),
                "planned_end": (now + timedelta(hours=2)).isoformat(),
                "participant_ids": [],
            },
        )
        .get_json()["id"]
    )

    pages = [
        ("start page (inspector)", "web", "inspector", "GET", "/", None),
        ("start page (manager)", "web", "manager", "GET", "/", None),
        ("start page (police)", "web", "police", "GET", "/", None),
        (
            "police inspection list",
            "api",
            "police",
            "GET",
            f"/api/v1/inspections?from={today - timedelta(days=365)}&to={today + timedelta(days=30)}",
            None,
        ),
        (
            "inspection list by venue",
            "api",
            "inspector",
            "GET",
            f"/api/v1/inspections?venue_id={venue_id}&status=signed&per_page=1",
            None,
        ),
        ("calendar month", "web", "inspector", "GET", "/tillsyn/kalender", None),
        ("calendar week", "web", "inspector", "GET", "/tillsyn/kalender?view=week", None),
        ("my inspections", "web", "police", "GET", "/tillsyn/mina", None),
        ("iCal feed", "web", "inspector", "GET", f"/tillsyn/kalender/{calendar_token}.ics", None),
        ("due list", "web", "inspector", "GET", "/tillsyn/forfallna", None),
        ("inspection (API)", "api", "inspector", "GET", f"/api/v1/inspections/{signed_id}", None),
        ("inspection page", "web", "inspector", "GET", f"/tillsyn/{signed_id}", None),
        (
            "observation POST",
            "api",
            "inspector",
            "POST",
            f"/api/v1/inspections/{live}/observations",
            lambda: {
                "client_id": str(uuid.uuid4()),
                "observed_at": datetime.now(UTC).isoformat(),
                "category": "berusning",
                "description": "Gäst vid baren.",
            },
        ),
        ("protocol PDF", "api", "inspector", "GET", f"/api/v1/inspections/{signed_id}/protocol.pdf", None),
        ("venue list (page)", "web", "inspector", "GET", "/serveringsstallen/?q=Bar", None),
        ("venue list (API)", "api", "inspector", "GET", "/api/v1/venues?q=Bar", None),
        ("venue card", "web", "inspector", "GET", f"/serveringsstallen/{venue_id}", None),
        ("venue history (page)", "web", "inspector", "GET", f"/serveringsstallen/{venue_id}/historik", None),
        ("venue history (API)", "api", "inspector", "GET", f"/api/v1/venues/{venue_id}/history", None),
        (
            "summary (API)",
            "api",
            "inspector",
            "GET",
            f"/api/v1/reports/summary?from={year}-01-01&to={year}-12-31",
            None,
        ),
        ("yearly statistics", "web", "inspector", "GET", f"/rapporter/arsstatistik?year={year}", None),
        ("reports start", "web", "manager", "GET", "/rapporter/", None),
        ("police report", "web", "police", "GET", f"/rapporter/polis?from={year}-01-01&to={year}-12-31", None),
        ("trainings list", "web", "inspector", "GET", "/utbildningar/", None),
        ("trainings (API)", "api", "police", "GET", "/api/v1/trainings", None),
        ("case list", "web", "manager", "GET", "/arenden/", None),
        ("case queue", "web", "manager", "GET", "/arenden/ko", None),
    ]

    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        for name, kind, role, method, path, body in pages:
            captured: list[tuple[str, object]] = []

            def before(conn, cursor, statement, parameters, context, executemany, captured=captured):
                if statement.lstrip().upper().startswith("SELECT"):
                    captured.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", before)
            try:
                # Each request in a fresh context, as in production (no `g` shared with this script).
                if kind == "web":
                    response = contextvars.Context().run(web[role].open, path, method=method)
                else:
                    response = contextvars.Context().run(
                        app.test_client().open, path, method=method, headers=api[role], json=body() if body else None
                    )
            finally:
                event.remove(engine, "before_cursor_execute", before)
            print(f"\n=== {name}: {method} {path} -> {response.status_code}, {len(captured)} SELECTs")
            if response.status_code >= 400:
                print(response.get_data(as_text=True)[:300])
            seen = set()
            with engine.connect() as conn:
                for statement, parameters in captured:
                    if statement in seen:
                        continue
                    seen.add(statement)
                    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
                    rows = conn.exec_driver_sql(prefix + statement, parameters).all()
                    plan = [r[-1] for r in rows]
                    scans = [
                        line
                        for line in plan
                        if (m := re.search(r"(?:^SCAN|Seq Scan on) (\w+)", line.strip())) and m.group(1) in BIG
                    ]
                    if scans or show_all:
                        flat = " ".join(statement.split())
                        print(f"{'!!' if scans else '  '} {flat[:110]} … {flat[-220:]}")
                        for line in plan:
                            print(f"      {line}")


if __name__ == "__main__":
    main()
