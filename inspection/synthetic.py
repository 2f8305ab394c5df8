"""`flask seed-synthetic`: a large, deterministic data set for benchmarks (API.md "Command line").

Realistic shape: risk classes 1/2/3 (55/30/15 %) visited about 1/2/4 times a year, 2–40 observations
a visit (skewed low), signed protocols with remarks, joint visits with the police, trainings and some
cases, so that after 10 years the busiest venues have 40 and more history events. Written with bulk
inserts of plain rows (ids assigned here), so 13,700 venues × 10 years takes minutes, not hours.

To keep the database a sensible size, the frozen `signed_content` (what a signature approved) is
stored only for the last year's protocols; older synthetic protocols keep their content hash.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import click
from flask import Flask
from sqlalchemy import func, insert, select, text

from .auth.models import Organisation, User
from .auth.passwords import hash_password
from .cases.models import Case, CaseStep, case_inspection
from .extensions import db
from .inspections.content import content_hash
from .inspections.models import (
    CHECKLIST_FOR_KIND,
    Inspection,
    InspectionParticipant,
    InspectionPlan,
    Observation,
    Signature,
)
from .trainings.models import Training, TrainingParticipant, training_venue
from .types import STOCKHOLM, iso_utc, local_today
from .venues.models import ResponsibleServer, Venue

SYNTHETIC_PASSWORD = "syntetiskt-lösenord-2026"  # noqa: S105 - printed for benchmark logins
VENUES_PER_KOMMUN = 47  # 13,700 permits / 290 kommuner
BATCH = 5000
#: the tables whose ids are handed out here (and whose PostgreSQL sequences are moved on afterwards)
GENERATED = (
    Organisation,
    User,
    Venue,
    ResponsibleServer,
    Inspection,
    InspectionParticipant,
    Observation,
    Signature,
    Training,
    TrainingParticipant,
    Case,
    CaseStep,
    InspectionPlan,
)

DESCRIPTIONS = [
    "Man ca {a} år, sluddrar, får en stor stark serverad {t}.",
    "Kvinna ca {a} år vinglar vid baren, personalen nekar servering.",
    "Sällskap om {n} personer högljutt vid entrén, ordningsvakt ingriper.",
    "Gäst ca {a} år somnar vid bord {n}, personal hjälper ut gästen.",
    "Legitimation kontrolleras vid entrén, {n} gäster visas bort.",
    "Kö utanför på ca {n} personer, lugnt.",
    "Ung gäst ser yngre ut än 18, ingen leg. kontrollerad i baren.",
    "Matutbud: {n} rätter tillgängliga i köket.",
    "Två gäster bråkar vid garderoben, vakter skiljer dem åt.",
    "Personalen vägrar servera berusad gäst, bra hantering.",
]
CATEGORIES = ["berusning", "berusning", "overservering", "ordning", "alderskontroll", "mat", "ovrigt", "narkotika"]
LEVELS = ["nykter", "salongsberusad", "salongsberusad", "markbart_paverkad", "kraftigt_berusad"]
NAMES = ["Ali", "Emma", "Oskar", "Fatima", "Lukas", "Sofia", "Mohammed", "Elin", "Johan", "Sara", "Ahmed", "Maja"]
SURNAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Hassan"]


def _org_number(rng: random.Random) -> str:
    digits = [5, 5, 6] + [rng.randint(0, 9) for _ in range(6)]
    total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(digits))
    s = "".join(map(str, digits)) + str((10 - total % 10) % 10)
    return f"{s[:6]}-{s[6:]}"


class _Ids:
    """Ids handed out here so that rows can refer to each other before they are written."""

    def __init__(self):
        self.next: dict[str, int] = {}

    def start(self, model) -> None:
        self.next[model.__tablename__] = (db.session.scalar(select(func.max(model.id))) or 0) + 1

    def take(self, model) -> int:
        n = self.next[model.__tablename__]
        self.next[model.__tablename__] = n + 1
        return n


class _Writer:
    def __init__(self):
        self.rows: dict[str, list[dict]] = {}
        self.tables = {}
        self.written = 0

    def add(self, table, row: dict) -> None:
        self.tables[table.name] = table
        bucket = self.rows.setdefault(table.name, [])
        bucket.append(row)
        if len(bucket) >= BATCH:
            self.flush(table.name)

    def flush(self, name: str | None = None) -> None:
        # Parents before children: the order tables were first seen in is the dependency order.
        for key in [name] if name else list(self.rows):
            rows = self.rows.get(key)
            if rows:
                if name:  # a child batch may refer to parents still waiting in their buckets
                    self.flush_parents(key)
                db.session.execute(insert(self.tables[key]), rows)
                self.written += len(rows)
                self.rows[key] = []

    def flush_parents(self, child: str) -> None:
        for key in list(self.rows):
            if key == child:
                return
            rows = self.rows.get(key)
            if rows:
                db.session.execute(insert(self.tables[key]), rows)
                self.written += len(rows)
                self.rows[key] = []


def kommun_sizes(venues: int, n_kommuner: int) -> list[int]:
    """Venues per kommun, largest first, shaped like Sweden's: sizes fall off as 1/rank (Zipf), so
    with 290 kommuner the first holds about 16 % (Stockholm: 2,200 of 13,700 permits), the second
    8 % and the smallest a handful. Every kommun gets at least one venue when there are enough."""
    weights = [1 / (rank + 1) for rank in range(n_kommuner)]
    floor = 1 if venues >= n_kommuner else 0
    spare = venues - floor * n_kommuner
    exact = [spare * w / sum(weights) for w in weights]
    sizes = [floor + int(x) for x in exact]
    # Largest remainder: hand out what rounding down left over, biggest fractions first.
    for k in sorted(range(n_kommuner), key=lambda k: int(exact[k]) - exact[k])[: venues - sum(sizes)]:
        sizes[k] += 1
    return sizes


def seed_synthetic(venues: int, years: int, seed: int, kommun_name: str | None = None, echo=print) -> dict:
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
    started = time.perf_counter()
    ids = _Ids()
    for model in GENERATED:
        ids.start(model)
    out = _Writer()
    password_hash = hash_password(SYNTHETIC_PASSWORD)
    today = local_today()
    first_year = today.year - years + 1
    tag = f"s{seed}"

    # Organisations and people.
    kommuner: list[dict] = []
    if kommun_name:
        org = db.session.scalar(
            select(Organisation).where(Organisation.name == kommun_name, Organisation.kind == "kommun")
        )
        if org is None:
            raise click.ClickException(f"Ingen kommun heter {kommun_name!r}.")
        kommuner.append({"id": org.id, "name": org.name, "venues": venues})
    else:
        n_kommuner = max(1, round(venues / VENUES_PER_KOMMUN))
        shares = kommun_sizes(venues, n_kommuner)
        for k in range(n_kommuner):
            kid = ids.take(Organisation)
            out.add(
                Organisation.__table__,
                {
                    "id": kid,
                    "name": f"Syntetisk kommun {tag}-{k + 1:03d}",
                    "kind": "kommun",
                    "created_at": datetime.now(UTC),
                },
            )
            share = shares[k]
            kommuner.append({"id": kid, "name": f"Syntetisk kommun {tag}-{k + 1:03d}", "venues": share})
    police_areas = []
    for p in range(max(1, len(kommuner) // 10)):
        pid = ids.take(Organisation)
        out.add(
            Organisation.__table__,
            {
                "id": pid,
                "name": f"Syntetiskt polisområde {tag}-{p + 1:02d}",
                "kind": "polis",
                "created_at": datetime.now(UTC),
            },
        )
        police_areas.append(pid)

    def add_user(org_id: int, role: str, label: str) -> dict:
        uid = ids.take(User)
        name = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}"
        out.add(
            User.__table__,
            {
                "id": uid,
                "email": f"{label}-{uid}@{tag}.synthetic.example",
                "name": name,
                "role": role,
                "organisation_id": org_id,
                "password_hash": password_hash,
                "active": True,
                "calendar_token": uuid.UUID(int=rng.getrandbits(128)).hex,
                "password_changed_at": datetime.now(UTC),
                "created_at": datetime.now(UTC),
            },
        )
        return {"id": uid, "name": name, "org": org_id}

    police_by_area = {pid: [add_user(pid, "police", "polis") for _ in range(6)] for pid in police_areas}
    logins = []
    counts = {"venues": 0, "inspections": 0, "observations": 0, "trainings": 0, "cases": 0}
    for k_index, kommun in enumerate(kommuner):
        # About one inspector per 200 venues, at least three (Stockholm: about a dozen).
        staff = [add_user(kommun["id"], "inspector", "handlaggare") for _ in range(max(3, kommun["venues"] // 200))]
        manager = add_user(kommun["id"], "manager", "chef")
        police = police_by_area[police_areas[k_index % len(police_areas)]]
        if k_index == 0:
            logins = [("inspector", staff[0]["id"]), ("manager", manager["id"]), ("police", police[0]["id"])]
        for year in range(first_year, today.year + 1):
            out.add(
                InspectionPlan.__table__,
                {
                    "id": ids.take(InspectionPlan),
                    "kommun_id": kommun["id"],
                    "year": year,
                    "visits_class_1": 1,
                    "visits_class_2": 2,
                    "visits_class_3": 4,
                    "joint_rounds": 12,
                },
            )
        kommun_venues = []
        for _ in range(kommun["venues"]):
            vid = ids.take(Venue)
            risk = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
            late = risk == 3 or rng.random() < 0.3
            out.add(
                Venue.__table__,
                {
                    "id": vid,
                    "kommun_id": kommun["id"],
                    "name": f"{rng.choice(['Restaurang', 'Bar', 'Pub', 'Krog', 'Nattklubb', 'Bistro'])} {rng.choice(SURNAMES)} {vid}",
                    "address": f"Storgatan {rng.randint(1, 120)}",
                    "area": f"Område {rng.randint(1, 6)}",
                    "permit_holder": f"Krog {vid} AB",
                    "org_number": _org_number(rng),
                    "permit_holder_email": None,
                    "permit_number": f"{tag}-{vid}",
                    "permit_scope": "allmanheten",
                    "permit_kind": "tillfalligt" if rng.random() < 0.05 else "stadigvarande",
                    "serving_hours": "11:00-03:00" if risk == 3 else ("11:00-02:00" if late else "11:00-01:00"),
                    "outdoor_serving_hours": "11:00-23:00" if rng.random() < 0.4 else None,
                    "max_guests": rng.choice([40, 80, 120, 200, 400, 800]),
                    "ordningsvakter_required": risk == 3,
                    "valid_from": date(first_year, 1, 1),
                    "valid_to": None,
                    "risk_class": risk,
                    "risk_class_override": False,
                    "risk_class_reason": None,
                    "active": True,
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                },
            )
            servers = []
            for _ in range(rng.randint(1, 3)):
                name = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}"
                servers.append(name)
                out.add(
                    ResponsibleServer.__table__,
                    {
                        "id": ids.take(ResponsibleServer),
                        "venue_id": vid,
                        "name": name,
                        "birth_year": rng.randint(1960, today.year - 21),
                        "notified_on": date(first_year, 1, 1),
                    },
                )
            kommun_venues.append((vid, risk, servers))
            counts["venues"] += 1
            visits_per_year = {1: 1, 2: 2, 3: 4}[risk]
            for year in range(first_year, today.year + 1):
                for _ in range(visits_per_year):
                    day = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
                    if day > today - timedelta(days=2):
                        continue
                    _add_inspection(
                        out, ids, rng, kommun["id"], vid, day, staff, police, counts, store_content=year == today.year
                    )
        # Trainings: a few courses a year with staff of the kommun's venues.
        for year in range(first_year, today.year + 1):
            for _ in range(max(1, len(kommun_venues) // 15)):
                tid = ids.take(Training)
                start = date(year, rng.randint(1, 11), rng.randint(1, 27))
                chosen = rng.sample(kommun_venues, k=min(len(kommun_venues), rng.randint(2, 6)))
                out.add(
                    Training.__table__,
                    {
                        "id": tid,
                        "kommun_id": kommun["id"],
                        "kind": "ansvarsfull_alkoholservering",
                        "title": f"Ansvarsfull alkoholservering {year}",
                        "starts_on": start,
                        "ends_on": start + timedelta(days=1),
                        "place": "Stadshuset",
                        "organised_by_kommun": True,
                        "organised_by_police": rng.random() < 0.7,
                        "created_by_id": staff[0]["id"],
                        "created_at": datetime.now(UTC),
                    },
                )
                for position, (vid, _risk, servers) in enumerate(chosen):
                    out.add(training_venue, {"training_id": tid, "venue_id": vid})
                    out.add(
                        TrainingParticipant.__table__,
                        {
                            "id": ids.take(TrainingParticipant),
                            "training_id": tid,
                            "position": position,
                            "name": rng.choice(servers),
                            "role": "serveringsansvarig",
                            "venue_id": vid,
                            "attended": True,
                            "passed": rng.random() < 0.9,
                            "diploma_on": start + timedelta(days=1),
                        },
                    )
                counts["trainings"] += 1
        echo(f"  {kommun['name']}: {counts['venues']} serveringsställen, {counts['inspections']} tillsyner hittills")
    out.flush()
    _add_cases(rng, ids, out, counts)
    out.flush()
    if db.engine.dialect.name == "postgresql":
        for model in GENERATED:  # move each id sequence past the ids handed out here
            sequence = func.pg_get_serial_sequence(model.__tablename__, "id")
            db.session.execute(
                select(func.setval(sequence, select(func.coalesce(func.max(model.id), 1)).scalar_subquery()))
            )
    # Fresh statistics for the query planners after a bulk load (PostgreSQL's autovacuum would get
    # there by itself, later; SQLite keeps none until asked).
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    counts["rows"] = out.written
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["logins"] = [(role, uid) for role, uid in logins]
    return counts


def _add_inspection(out, ids, rng, kommun_id, venue_id, day, staff, police, counts, *, store_content: bool) -> None:
    iid = ids.take(Inspection)
    joint = rng.random() < 0.35
    kind = "samordnad" if joint else rng.choices(["yttre", "inre", "forebyggande"], weights=[80, 12, 8])[0]
    start_local = datetime(
        day.year, day.month, day.day, rng.choice([21, 22, 23]), rng.choice([0, 15, 30, 45]), tzinfo=STOCKHOLM
    )
    start = start_local.astimezone(UTC)
    end = start + timedelta(minutes=rng.choice([30, 45, 60]))
    inspector = rng.choice(staff)
    officer = rng.choice(police) if joint else None
    items = CHECKLIST_FOR_KIND[kind]
    checklist = {}
    for code in items:
        roll = rng.random()
        if roll < 0.08:
            checklist[code] = {"status": "anmarkning", "note": "Brist noterad och påtalad för serveringsansvarig."}
        elif roll < 0.9:
            checklist[code] = {"status": "ok", "note": None}
        else:
            checklist[code] = {"status": "ej_kontrollerad", "note": None}
    level = rng.choice(LEVELS)
    protocol = {
        "arrived_at": start,
        "left_at": end,
        "contact_person": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
        "responsible_server_present": True,
        "responsible_server_name": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
        "guest_count": rng.randint(10, 300),
        "intoxication_level": level,
        "summary": "Besöket genomfördes utan större anmärkningar.",
        "feedback_given": "Muntlig återkoppling gavs.",
    }
    participants = [(inspector["id"], inspector["org"])] + ([(officer["id"], officer["org"])] if officer else [])
    n_obs = min(40, max(2, int(rng.expovariate(1 / 8)) + 2)) if kind != "inre" else 0
    observations = []
    authors = [inspector] + ([officer] if officer else [])
    for _ in range(n_obs):
        oid = ids.take(Observation)
        at = start + timedelta(minutes=rng.randint(0, max(1, int((end - start).total_seconds() // 60))))
        author = rng.choice(authors)
        row = {
            "id": oid,
            "inspection_id": iid,
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "observed_at": at,
            "received_at": at + timedelta(seconds=rng.randint(1, 90)),
            "category": rng.choice(CATEGORIES),
            "intoxication_level": rng.choice(LEVELS) if rng.random() < 0.6 else None,
            "description": rng.choice(DESCRIPTIONS).format(
                a=rng.randint(18, 60), n=rng.randint(2, 12), t=at.astimezone(STOCKHOLM).strftime("%H:%M")
            ),
            "author_id": author["id"],
            "retracted": False,
            "retracted_reason": None,
            "retracted_at": None,
            "retracted_by_id": None,
        }
        observations.append((row, author))
    content = {
        "protocol": {
            **{k: iso_utc(v) if isinstance(v, datetime) else v for k, v in protocol.items()},
            "checklist": checklist,
        },
        "observations": [
            {
                "id": r["id"],
                "client_id": r["client_id"],
                "observed_at": iso_utc(r["observed_at"]),
                "received_at": iso_utc(r["received_at"]),
                "category": r["category"],
                "intoxication_level": r["intoxication_level"],
                "description": r["description"],
                "author": {"id": a["id"], "name": a["name"]},
                "retracted": False,
                "retracted_reason": None,
            }
            for r, a in sorted(observations, key=lambda pair: (pair[0]["observed_at"], pair[0]["id"]))
        ],
        "participants": sorted([list(p) for p in participants]),
    }
    digest = content_hash(content)
    signed_at = end + timedelta(hours=rng.randint(1, 48))
    from .inspections.verification import make_code

    out.add(
        Inspection.__table__,
        {
            "id": iid,
            "kommun_id": kommun_id,
            "venue_id": venue_id,
            "round_id": None,
            "round_position": None,
            "kind": kind,
            "status": "signed",
            "planned_start": start,
            "planned_end": end,
            "diarienummer": None,
            "cancel_reason": None,
            "cancelled_at": None,
            "version": 5,
            "created_by_id": inspector["id"],
            "created_at": start - timedelta(days=7),
            "updated_at": signed_at,
            **protocol,
            "checklist": checklist,
            "content_hash": digest,
            "signed_content": content if store_content else None,
            "first_signed_at": signed_at,
            "signed_at": signed_at,
            "verification_code": make_code(digest),
            "sent_to_holder_on": (signed_at + timedelta(days=3)).date(),
        },
    )
    for user_id, org_id in participants:
        out.add(
            InspectionParticipant.__table__,
            {
                "id": ids.take(InspectionParticipant),
                "inspection_id": iid,
                "user_id": user_id,
                "organisation_id": org_id,
                "response": "accepted",
                "comment": None,
                "responded_at": start - timedelta(days=3),
                "invited_at": start - timedelta(days=7),
            },
        )
        out.add(
            Signature.__table__,
            {
                "id": ids.take(Signature),
                "inspection_id": iid,
                "amendment_id": None,
                "user_id": user_id,
                "organisation_id": org_id,
                "signed_at": signed_at,
                "content_hash": digest,
                "voided_at": None,
                "void_reason": None,
            },
        )
    for row, _author in observations:
        out.add(Observation.__table__, row)
    counts["inspections"] += 1
    counts["observations"] += len(observations)


def _add_cases(rng, ids, out, counts) -> None:
    """About 1 % of the signed inspections with remarks become a case, at various steps."""
    rows = db.session.execute(
        select(
            Inspection.id, Inspection.kommun_id, Inspection.venue_id, Inspection.planned_start, Inspection.created_by_id
        )
        .where(Inspection.status == "signed")
        .order_by(Inspection.id)
    ).all()
    for iid, kommun_id, venue_id, start, author in rows:
        if rng.random() > 0.01:
            continue
        cid = ids.take(Case)
        opened = start + timedelta(days=5)
        out.add(
            Case.__table__,
            {
                "id": cid,
                "kommun_id": kommun_id,
                "venue_id": venue_id,
                "status": "decided",
                "summary": "Överservering vid upprepade tillfällen.",
                "diarienummer": f"SYN-{cid}",
                "opened_by_id": author,
                "opened_at": opened,
            },
        )
        out.add(case_inspection, {"case_id": cid, "inspection_id": iid})
        sanction = rng.choices(["erinran", "varning", "aterkallelse", "ingen_atgard"], weights=[50, 30, 5, 15])[0]
        day = opened.date()
        steps = [
            ("proposal", {"sanction": sanction, "legal_ground": "9 kap. 17 § alkohollagen"}),
            ("kommunicering", {"deadline": day + timedelta(days=21)}),
            ("decision", {"sanction": sanction, "decided_by": "delegat"}),
            ("notification", {}),
        ]
        for n, (kind, fields) in enumerate(steps):
            step_day = day + timedelta(days=7 + 14 * n)
            out.add(
                CaseStep.__table__,
                {
                    "id": ids.take(CaseStep),
                    "case_id": cid,
                    "kind": kind,
                    "date": step_day,
                    "by_id": author,
                    "created_at": datetime.combine(step_day, datetime.min.time(), UTC),
                    "sanction": fields.get("sanction"),
                    "legal_ground": fields.get("legal_ground"),
                    "deadline": fields.get("deadline"),
                    "decided_by": fields.get("decided_by"),
                    "filed_on": None,
                    "outcome": None,
                    "text": None,
                },
            )
        counts["cases"] += 1


def register(app: Flask) -> None:
    @app.cli.command("seed-synthetic")
    @click.option("--venues", type=click.IntRange(1, 50_000), required=True)
    @click.option("--years", type=click.IntRange(1, 30), required=True)
    @click.option("--seed", type=int, required=True)
    @click.option("--kommun", "kommun_name", default=None, help="put everything in this existing kommun")
    def seed_synthetic_command(venues: int, years: int, seed: int, kommun_name: str | None):
        """A large deterministic data set for benchmarks."""
        counts = seed_synthetic(venues, years, seed, kommun_name, echo=click.echo)
        db.session.commit()
        click.echo(
            f"Klart på {counts['seconds']} s: {counts['venues']} serveringsställen, {counts['inspections']} tillsyner, "
            f"{counts['observations']} observationer, {counts['trainings']} utbildningar, {counts['cases']} ärenden "
            f"({counts['rows']} rader)."
        )
        users = dict(
            db.session.execute(
                select(User.id, User.email).where(User.id.in_([uid for _, uid in counts["logins"]]))
            ).all()
        )
        for role, uid in counts["logins"]:
            click.echo(f"  {role:<10} {users.get(uid)}  lösenord: {SYNTHETIC_PASSWORD}")
