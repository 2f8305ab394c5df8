"""The benchmark of issue 12: builds a synthetic data set, serves it with gunicorn (2 workers) and
measures the hot pages and endpoints next to a bare authenticated endpoint (GET /api/v1/me), the
floor, measured in the same run. Prints a table (median, p95, requests/s, × floor, budget).

    make bench                                              # the national data set on SQLite
    .venv/bin/python bench/run.py --venues 2000             # a quicker, smaller one
    .venv/bin/python bench/run.py --database postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/run.py --existing sqlite:////tmp/x.db --only history   # re-measure

The national data set is 13,700 venues (Sweden's permanent permits) over 10 years in 291 kommuner
shaped like Sweden's (the largest, like Stockholm, holds about 2,100 venues); the users measured are
those of the largest kommun and its police area. Seeding it takes about 2 minutes on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import ROOT, Client, gunicorn, hammer

SYNTHETIC_PASSWORD = "syntetiskt-lösenord-2026"  # noqa: S105 - the synthetic data set's login


def flask(env: dict, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "inspection", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def prepare_database(args) -> tuple[str, str]:
    """A fresh database with the synthetic data; returns (DATABASE_URL, seed output)."""
    if args.database.startswith("postgres"):
        import psycopg

        name = f"kt_bench_{uuid.uuid4().hex[:6]}"
        admin_url = args.database.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin_url.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='kt-bench-')) / 'bench.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    flask(env, "db", "upgrade")
    out = flask(
        env, "seed-synthetic", "--venues", str(args.venues), "--years", str(args.years), "--seed", str(args.seed)
    )
    return url, out


def drop_database(url: str) -> None:
    """Remove the benchmark's data set (a national one takes 1.2 GB on SQLite)."""
    if url.startswith("postgres"):
        import psycopg

        admin_url, name = url.rsplit("/", 1)
        with psycopg.connect(admin_url + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        folder = Path(url[len("sqlite:///") :]).parent
        if folder.name.startswith("kt-bench-"):
            shutil.rmtree(folder, ignore_errors=True)


def machine(url: str) -> str:
    """The machine the numbers were measured on, for the README."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        gib = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration, ValueError):
        gib = float("nan")
    import sqlite3

    database = f"SQLite {sqlite3.sqlite_version}"
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            database = f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0].split()[0]}"
    return (
        f"{os.cpu_count()} cores ({cpu}), {gib:.0f} GiB, Python {sys.version.split()[0]}, {database}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def existing_logins(url: str) -> dict[str, str]:
    """The users seed-synthetic prints: the first inspector, manager and police officer it made
    (those of the largest kommun and its police area)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        logins = {
            role: conn.execute(
                sa.text(
                    "SELECT email FROM user_account WHERE role = :role AND email LIKE '%synthetic.example' ORDER BY id"
                ),
                {"role": role},
            ).scalar()
            for role in ("inspector", "manager", "police")
        }
    engine.dispose()
    return logins


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venues", type=int, default=13700)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--only", nargs="*", help="measure only the rows whose name contains one of these")
    parser.add_argument("--existing", help="benchmark this already seeded DATABASE_URL instead of seeding one")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (to re-measure with --existing)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent simulated users")
    parser.add_argument("--requests", type=int, default=40, help="requests per client and endpoint")
    args = parser.parse_args()

    if args.existing:
        url, emails = args.existing, existing_logins(args.existing)
        print(f"Using the synthetic data already in {url}", flush=True)
    else:
        print(f"Preparing {args.venues} venues × {args.years} years on {args.database.split(':')[0]} ...", flush=True)
        url, seed_out = prepare_database(args)
        print(seed_out.strip().splitlines()[-4], flush=True)
        emails = dict(re.findall(r"^\s+(inspector|manager|police)\s+(\S+)", seed_out, re.M))

    try:
        uploads = tempfile.mkdtemp(prefix="kt-bench-uploads-")
        with gunicorn(url, workers=2, upload_folder=uploads) as base:
            inspectors = []
            for _ in range(args.clients):
                c = Client(base)
                c.web_login(emails["inspector"], SYNTHETIC_PASSWORD)
                inspectors.append(c)
            api_clients = []
            for _ in range(args.clients):
                c = Client(base)
                c.token_login(emails["inspector"], SYNTHETIC_PASSWORD)
                api_clients.append(c)
            police = []
            for _ in range(args.clients):
                c = Client(base)
                c.token_login(emails["police"], SYNTHETIC_PASSWORD)
                police.append(c)

            probe = api_clients[0]
            venues = json.loads(probe.request("GET", "/api/v1/venues?per_page=200")[1])["items"]
            me = json.loads(probe.request("GET", "/api/v1/me")[1])
            # The busiest venue: the highest risk class has the most visits.
            venue = max(venues, key=lambda v: (v["risk_class"], -v["id"]))
            signed = json.loads(
                probe.request("GET", f"/api/v1/inspections?venue_id={venue['id']}&status=signed&per_page=1")[1]
            )
            inspection_id = signed["items"][0]["id"]
            now = datetime.now(UTC)
            police_me = json.loads(police[0].request("GET", "/api/v1/me")[1])
            status, body, _ = probe.request(
                "POST",
                "/api/v1/inspections",
                {
                    "venue_id": venue["id"],
                    "kind": "samordnad",
                    "planned_start": (now - timedelta(minutes=30)).isoformat(),
                    "planned_end": (now + timedelta(hours=2)).isoformat(),
                    "participant_ids": [me["id"], police_me["id"]],
                },
            )
            live_id = json.loads(body)["id"]
            year = date.today().year - 1
            today = date.today()

            def get(path):
                return lambda client, i: ("GET", path, None, None)

            def post_observation(client, i):
                return (
                    "POST",
                    f"/api/v1/inspections/{live_id}/observations",
                    {
                        "client_id": str(uuid.uuid4()),
                        "observed_at": datetime.now(UTC).isoformat(),
                        "category": "berusning",
                        "intoxication_level": "salongsberusad",
                        "description": f"Gäst vid baren, mätning {i}",
                    },
                    None,
                )

            cases = [
                ("GET /api/v1/me (floor)", api_clients, get("/api/v1/me"), None),
                ("Venue list, search (page)", inspectors, get("/serveringsstallen/?q=Bar"), 3),
                ("Venue list, search (API)", api_clients, get("/api/v1/venues?q=Bar"), 3),
                ("Venue history (page)", inspectors, get(f"/serveringsstallen/{venue['id']}/historik"), 3),
                ("Venue history (API)", api_clients, get(f"/api/v1/venues/{venue['id']}/history"), 3),
                ("Start page", inspectors, get("/"), 3),
                (
                    "Police: my inspections (API)",
                    police,
                    get(f"/api/v1/inspections?from={today - timedelta(days=365)}&to={today + timedelta(days=30)}"),
                    3,
                ),
                ("Protocol page", inspectors, get(f"/tillsyn/{inspection_id}"), 3),
                ("Protocol (API)", api_clients, get(f"/api/v1/inspections/{inspection_id}"), 3),
                ("Observation POST", api_clients, post_observation, 3),
                ("Protocol PDF", api_clients, get(f"/api/v1/inspections/{inspection_id}/protocol.pdf"), ("ms", 100)),
                ("Yearly report (page)", inspectors, get(f"/rapporter/arsstatistik?year={year}"), ("ms", 1000)),
                (
                    "Summary (API)",
                    api_clients,
                    get(f"/api/v1/reports/summary?from={year}-01-01&to={year}-12-31"),
                    ("ms", 1000),
                ),
            ]
            rows = []
            floor = None
            if args.only:
                cases = [cases[0]] + [c for c in cases[1:] if any(o.lower() in c[0].lower() for o in args.only)]
            for name, clients, make, budget in cases:
                hammer(name, clients[:1], make, 3)  # warm up
                result = hammer(name, clients, make, args.requests)
                if floor is None:
                    floor = result.median_ms
                ratio = result.median_ms / floor
                if budget is None:
                    verdict = "floor"
                elif isinstance(budget, tuple):
                    verdict = "ok" if result.median_ms < budget[1] else f"OVER {budget[1]} ms"
                else:
                    verdict = "ok" if ratio <= budget else f"OVER {budget}×"
                bad = {s: n for s, n in result.statuses.items() if s >= 400}
                rows.append((name, result.median_ms, result.p95_ms, result.rps, ratio, verdict, bad))

        print()
        print(
            f"{'existing data' if args.existing else f'{args.venues} venues × {args.years} years'}, "
            f"{url.split(':')[0]}, gunicorn 2 workers, {args.clients} concurrent clients × {args.requests} requests"
        )
        print(machine(url))
        print(f"| {'endpoint':<30} | median ms | p95 ms | req/s | × floor | budget | errors |")
        print(f"|{'-' * 32}|-----------|--------|-------|---------|--------|--------|")
        for name, med, p95, rps, ratio, verdict, bad in rows:
            print(f"| {name:<30} | {med:9.1f} | {p95:6.1f} | {rps:5.0f} | {ratio:7.1f} | {verdict:<6} | {bad or ''} |")

    finally:
        if not args.existing and not args.keep:
            drop_database(url)
        elif not args.existing:
            print(f"The data set is kept: --existing {url}")


if __name__ == "__main__":
    main()
