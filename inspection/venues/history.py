"""A venue's history: every visit, training, case, permit change and överserveringstest, newest first.

Built with a fixed number of queries whatever the length of the history: counts are aggregated in SQL
with GROUP BY, and related rows (participants, decisions) come in one query each, joined on the venue,
rather than per visit or in selectinload's batches of 500 ids. Visits are read as plain rows (not ORM
objects) because a venue with twenty years of history has hundreds of them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from ..extensions import db
from ..types import local_today, to_local
from .models import PermitChange, Venue

EVENT_TYPES = {
    "inspection": "Tillsynsbesök",
    "training": "Utbildning",
    "case": "Ärende",
    "permit_change": "Tillståndsändring",
    "overserving_test": "Överserveringstest",
}
#: labels of the permit fields in a permit change (API paths)
FIELD_LABELS = {
    "permit_holder": "Tillståndshavare",
    "org_number": "Organisationsnummer",
    "permit.number": "Tillståndsnummer",
    "permit.scope": "Omfattning",
    "permit.kind": "Typ",
    "permit.serving_hours": "Serveringstid",
    "permit.outdoor_serving_hours": "Serveringstid ute",
    "permit.max_guests": "Max antal gäster",
    "permit.ordningsvakter_required": "Ordningsvakter krävs",
    "permit.valid_from": "Giltigt från",
    "permit.valid_to": "Giltigt till",
}
LEVELS = ("nykter", "salongsberusad", "markbart_paverkad", "kraftigt_berusad")


def _local_date(value) -> date:
    return to_local(value).date()


#: how a checklist item marked anmärkning reads in the stored JSON (SQLAlchemy's json.dumps; a note's
#: own quotes are escaped, so a note cannot contain it)
REMARK_JSON = '"status": "anmarkning"'


def _remark_count(checklist):
    """SQL: the number of anmärkningar in a checklist, counted in the database (no JSON decoding of
    every protocol in Python; the same SQL on SQLite and PostgreSQL)."""
    text = cast(checklist, Text)
    return (func.length(text) - func.length(func.replace(text, REMARK_JSON, ""))) // len(REMARK_JSON)


def _inspection_events(venue: Venue) -> tuple[list[dict], dict[int, dict[str, Any]]]:
    """The inspections as events: one query for the visits, one each for participants, other
    participants and the observation counts (plain rows, not ORM objects: this is the hot path)."""
    from ..auth.models import Organisation, User
    from ..inspections.models import KINDS, STATUSES, Inspection, InspectionParticipant, Observation, OtherParticipant

    inspections = db.session.execute(
        select(
            Inspection.id,
            Inspection.kind,
            Inspection.status,
            Inspection.planned_start,
            Inspection.arrived_at,
            _remark_count(Inspection.checklist).label("remarks"),
            Inspection.intoxication_level,
            Inspection.signed_at,
        ).where(Inspection.venue_id == venue.id)
    ).all()
    people: dict[int, list[dict]] = defaultdict(list)
    for inspection_id, name, org_name, org_kind in db.session.execute(
        select(InspectionParticipant.inspection_id, User.name, Organisation.name, Organisation.kind)
        .join(Inspection, Inspection.id == InspectionParticipant.inspection_id)
        .join(User, User.id == InspectionParticipant.user_id)
        .join(Organisation, Organisation.id == InspectionParticipant.organisation_id)
        .where(Inspection.venue_id == venue.id, InspectionParticipant.response != "declined")
        .order_by(InspectionParticipant.id)
    ):
        people[inspection_id].append({"name": name, "organisation": org_name, "kind": org_kind})
    others: dict[int, list[dict]] = defaultdict(list)
    for inspection_id, name, organisation in db.session.execute(
        select(OtherParticipant.inspection_id, OtherParticipant.name, OtherParticipant.organisation)
        .join(Inspection, Inspection.id == OtherParticipant.inspection_id)
        .where(Inspection.venue_id == venue.id)
        .order_by(OtherParticipant.position, OtherParticipant.id)
    ):
        others[inspection_id].append({"name": name, "organisation": organisation})
    counts = db.session.execute(
        select(Observation.inspection_id, Observation.category, Observation.intoxication_level, func.count())
        .join(Inspection, Inspection.id == Observation.inspection_id)
        .where(Inspection.venue_id == venue.id, Observation.retracted.is_(False))
        .group_by(Observation.inspection_id, Observation.category, Observation.intoxication_level)
    ).all()
    by_inspection: dict[int, dict] = defaultdict(lambda: {"total": 0, "overservering": 0, "levels": defaultdict(int)})
    for inspection_id, category, level, n in counts:
        agg = by_inspection[inspection_id]
        agg["total"] += n
        if category == "overservering":
            agg["overservering"] += n
        if level:
            agg["levels"][level] += n

    per_year: dict[int, dict[str, Any]] = {}
    events = []
    for inspection in inspections:
        day = _local_date(inspection.arrived_at or inspection.planned_start)
        agg = by_inspection.get(inspection.id, {"total": 0, "overservering": 0, "levels": {}})
        signed = inspection.status == "signed"
        remarks = int(inspection.remarks or 0)
        if inspection.status == "cancelled":
            outcome = "Inställt"
        elif signed:
            outcome = (
                "Utan anmärkning" if remarks == 0 else f"{remarks} {'anmärkning' if remarks == 1 else 'anmärkningar'}"
            )
        else:
            outcome = STATUSES.get(inspection.status, inspection.status)
        events.append(
            {
                "type": "inspection",
                "date": day,
                "id": inspection.id,
                "title": KINDS.get(inspection.kind, inspection.kind),
                "kind": inspection.kind,
                "status": inspection.status,
                "planned_start": inspection.planned_start,
                "participants": people.get(inspection.id, []),
                "other_participants": others.get(inspection.id, []),
                "outcome": outcome,
                "remarks": remarks,
                "observations": agg["total"],
                "overservering_observations": agg["overservering"],
                "intoxication_level": inspection.intoxication_level,
                "signed": signed,
                "signed_at": inspection.signed_at,
                "pdf_url": None
                if inspection.status == "cancelled"
                else f"/api/v1/inspections/{inspection.id}/protocol.pdf",
                "_sort": inspection.arrived_at or inspection.planned_start,
            }
        )
        if inspection.status != "cancelled":
            year = per_year.setdefault(
                day.year, {"year": day.year, "inspections": 0, "remarks": 0, "levels": dict.fromkeys(LEVELS, 0)}
            )
            year["inspections"] += 1
            if signed:
                year["remarks"] += remarks
            for level, n in agg["levels"].items():
                if level in year["levels"]:
                    year["levels"][level] += n
    return events, per_year


def _training_events(venue: Venue) -> list[dict]:
    from ..trainings.models import TRAINING_KINDS, Training, TrainingParticipant, training_venue

    took_part = select(TrainingParticipant.training_id).where(TrainingParticipant.venue_id == venue.id)
    linked = select(training_venue.c.training_id).where(training_venue.c.venue_id == venue.id)
    trainings = db.session.execute(
        select(Training.id, Training.kind, Training.title, Training.starts_on, Training.ends_on).where(
            Training.kommun_id == venue.kommun_id, or_(Training.id.in_(linked), Training.id.in_(took_part))
        )
    ).all()
    people = dict(
        db.session.execute(
            select(TrainingParticipant.training_id, func.count())
            .where(TrainingParticipant.venue_id == venue.id, TrainingParticipant.attended.is_(True))
            .group_by(TrainingParticipant.training_id)
        ).all()
    )
    return [
        {
            "type": "training",
            "date": t.starts_on,
            "id": t.id,
            "title": t.title,
            "kind": t.kind,
            "kind_label": TRAINING_KINDS.get(t.kind, t.kind),
            "ends_on": t.ends_on,
            "participants_from_venue": people.get(t.id, 0),
            "_sort": t.starts_on,
        }
        for t in trainings
    ]


def _case_events(venue: Venue) -> list[dict]:
    from ..cases.models import CASE_STATUSES, SANCTIONS, Case, CaseStep
    from ..cases.services import status_on

    cases = db.session.execute(
        select(Case.id, Case.status, Case.diarienummer, Case.summary, Case.opened_at).where(Case.venue_id == venue.id)
    ).all()
    decisions: dict[int, tuple] = {}
    deadlines: dict[int, object] = {}
    for case_id, kind, day, sanction, deadline in db.session.execute(
        select(CaseStep.case_id, CaseStep.kind, CaseStep.date, CaseStep.sanction, CaseStep.deadline)
        .join(Case, Case.id == CaseStep.case_id)
        .where(Case.venue_id == venue.id, CaseStep.kind.in_(("decision", "kommunicering")))
        .order_by(CaseStep.date, CaseStep.id)
    ):
        if kind == "decision":
            decisions[case_id] = (day, sanction)  # the latest decision wins
        else:
            deadlines[case_id] = deadline
    events = []
    today = local_today()
    for case in cases:
        decided_on, sanction = decisions.get(case.id, (None, None))
        day = decided_on or _local_date(case.opened_at)
        status = status_on(case.status, deadlines.get(case.id), today)
        events.append(
            {
                "type": "case",
                "date": day,
                "id": case.id,
                "title": "Tillsynsärende" + (f" {case.diarienummer}" if case.diarienummer else ""),
                "status": status,
                "status_label": CASE_STATUSES.get(status, status),
                "diarienummer": case.diarienummer,
                "summary": case.summary,
                "opened_on": _local_date(case.opened_at),
                "sanction": sanction,
                "sanction_label": SANCTIONS.get(sanction) if sanction else None,
                "decided_on": decided_on,
                "_sort": day,
            }
        )
    return events


def _permit_events(venue: Venue) -> list[dict]:
    from ..auth.models import User

    rows = db.session.execute(
        select(PermitChange, User.name)
        .outerjoin(User, User.id == PermitChange.changed_by_id)
        .where(PermitChange.venue_id == venue.id)
    ).all()
    return [
        {
            "type": "permit_change",
            "date": _local_date(change.changed_at),
            "id": change.id,
            "title": "Tillståndet ändrat: "
            + ", ".join(FIELD_LABELS.get(path, path).lower() for path in sorted(change.changes or {})),
            "changes": change.changes,
            "by": name,
            "_sort": change.changed_at,
        }
        for change, name in rows
    ]


def _test_events(venue: Venue) -> list[dict]:
    from ..trainings.models import OverservingTest

    # Columns, not entities: an OverservingTest row would bring its venue (and that venue's servers).
    tests = db.session.execute(
        select(OverservingTest.id, OverservingTest.tested_on, OverservingTest.refused, OverservingTest.notes).where(
            OverservingTest.venue_id == venue.id
        )
    ).all()
    return [
        {
            "type": "overserving_test",
            "date": t.tested_on,
            "id": t.id,
            "title": "Överserveringstest: " + ("nekad servering" if t.refused else "serverades"),
            "refused": t.refused,
            "notes": t.notes,
            "_sort": t.tested_on,
        }
        for t in tests
    ]


def _sort_key(event: dict):
    # Newest first by date; within a day by time where there is one, then type and id.
    sort = event["_sort"]
    stamp = sort.timestamp() if hasattr(sort, "timestamp") else 0.0
    return (event["date"], stamp, event["type"], event["id"])


def venue_history(venue: Venue, *, year: int | None = None, type: str | None = None) -> dict[str, Any]:
    """{"events": newest first, filtered by type and year; "per_year": counts for the charts (all
    years, whatever the filters); "years": the years with events}."""
    inspection_events, per_year = _inspection_events(venue)
    events: list[dict] = []
    builders = {
        "inspection": lambda v: inspection_events,
        "training": _training_events,
        "case": _case_events,
        "permit_change": _permit_events,
        "overserving_test": _test_events,
    }
    for kind, build in builders.items():
        if type is None or type == kind:
            events.extend(build(venue))
    years = sorted({e["date"].year for e in events} | set(per_year), reverse=True)
    if year is not None:
        events = [e for e in events if e["date"].year == year]
    events.sort(key=_sort_key, reverse=True)
    for event in events:
        del event["_sort"]
    return {
        "events": events,
        "per_year": [per_year[y] for y in sorted(per_year)],
        "years": years,
    }


def chart(per_year: list[dict], key: str, width: int = 480, height: int = 160) -> dict[str, Any]:
    """Bar geometry for a small inline SVG chart of one number per year (no JavaScript)."""
    values = [(row["year"], row[key]) for row in per_year]
    top = max([v for _, v in values] + [1])
    slot = width / max(len(values), 1)
    bar = max(4.0, slot * 0.6)
    bars = []
    for i, (year, value) in enumerate(values):
        h = (height - 30) * value / top
        bars.append(
            {
                "year": year,
                "value": value,
                "x": round(i * slot + (slot - bar) / 2, 1),
                "y": round(height - 20 - h, 1),
                "w": round(bar, 1),
                "h": round(h, 1),
                "cx": round(i * slot + slot / 2, 1),
            }
        )
    return {"width": width, "height": height, "bars": bars, "max": top}


def level_chart(per_year: list[dict], width: int = 480, height: int = 160) -> dict[str, Any]:
    """Stacked bars of the intoxication levels observed per year."""
    totals = [sum(row["levels"].values()) for row in per_year]
    top = max(totals + [1])
    slot = width / max(len(per_year), 1)
    bar = max(4.0, slot * 0.6)
    columns = []
    for i, row in enumerate(per_year):
        y = height - 20
        parts = []
        for level in LEVELS:
            value = row["levels"][level]
            h = (height - 30) * value / top
            y -= h
            parts.append({"level": level, "value": value, "y": round(y, 1), "h": round(h, 1)})
        columns.append(
            {
                "year": row["year"],
                "x": round(i * slot + (slot - bar) / 2, 1),
                "w": round(bar, 1),
                "cx": round(i * slot + slot / 2, 1),
                "parts": parts,
                "total": totals[i],
            }
        )
    return {"width": width, "height": height, "columns": columns, "max": top, "levels": LEVELS}
