"""A venue's history: every visit, training, case, permit change and överserveringstest, newest first.

Built with a fixed number of queries whatever the length of the history: counts are aggregated in SQL
with GROUP BY, and related rows (participants, decisions) come in one query each, joined on the venue,
rather than per visit or in selectinload's batches of 500 ids. Visits are read as plain rows (not ORM
objects) because a venue with twenty years of history has hundreds of them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Text, and_, bindparam, case, cast, func, or_, select

from ..extensions import db
from ..types import iso_utc, local_today, to_local
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


@cache
def _statements() -> dict[str, Select]:
    """The history's statements, built once with the venue (and its kommun) as bound parameters:
    building a select and its cache key anew on every request cost more than running it."""
    from ..auth.models import Organisation, User
    from ..cases.models import Case, CaseStep
    from ..inspections.models import Inspection, InspectionParticipant, Observation, OtherParticipant
    from ..trainings.models import OverservingTest, Training, TrainingParticipant, training_venue

    venue_id, kommun_id = bindparam("venue_id"), bindparam("kommun_id")
    # The observation counts of every visit, one row per visit, joined to the visits.
    counts = (
        select(
            Observation.inspection_id,
            func.count().label("total"),
            func.count(case((Observation.category == "overservering", 1))).label("overservering"),
            *(func.count(case((Observation.intoxication_level == level, 1))).label(level) for level in LEVELS),
        )
        .join(Inspection, Inspection.id == Observation.inspection_id)
        .where(Inspection.venue_id == venue_id, Observation.retracted.is_(False))
        .group_by(Observation.inspection_id)
        .subquery()
    )
    attended = (
        select(func.count())
        .where(
            TrainingParticipant.training_id == Training.id,
            TrainingParticipant.venue_id == venue_id,
            TrainingParticipant.attended.is_(True),
        )
        .correlate(Training)
        .scalar_subquery()
    )
    return {
        "inspections": select(
            Inspection.id,
            Inspection.kind,
            Inspection.status,
            Inspection.planned_start,
            Inspection.arrived_at,
            _remark_count(Inspection.checklist).label("remarks"),
            Inspection.intoxication_level,
            Inspection.signed_at,
            counts.c.total,
            counts.c.overservering,
            *(counts.c[level] for level in LEVELS),  # last: _inspection_events reads them by position
        )
        .outerjoin(counts, counts.c.inspection_id == Inspection.id)
        .where(Inspection.venue_id == venue_id),
        "participants": select(InspectionParticipant.inspection_id, User.name, Organisation.name, Organisation.kind)
        .join(Inspection, Inspection.id == InspectionParticipant.inspection_id)
        .join(User, User.id == InspectionParticipant.user_id)
        .join(Organisation, Organisation.id == InspectionParticipant.organisation_id)
        .where(Inspection.venue_id == venue_id, InspectionParticipant.response != "declined")
        .order_by(InspectionParticipant.id),
        "others": select(OtherParticipant.inspection_id, OtherParticipant.name, OtherParticipant.organisation)
        .join(Inspection, Inspection.id == OtherParticipant.inspection_id)
        .where(Inspection.venue_id == venue_id)
        .order_by(OtherParticipant.position, OtherParticipant.id),
        "trainings": select(
            Training.id,
            Training.kind,
            Training.title,
            Training.starts_on,
            Training.ends_on,
            attended.label("attended"),
        ).where(
            Training.kommun_id == kommun_id,
            or_(
                Training.id.in_(select(training_venue.c.training_id).where(training_venue.c.venue_id == venue_id)),
                Training.id.in_(
                    select(TrainingParticipant.training_id).where(TrainingParticipant.venue_id == venue_id)
                ),
            ),
        ),
        "cases": select(
            Case.id,
            Case.status,
            Case.diarienummer,
            Case.summary,
            Case.opened_at,
            CaseStep.kind.label("step_kind"),
            CaseStep.date.label("step_date"),
            CaseStep.sanction,
            CaseStep.deadline,
        )
        # The steps that set a case's date, sanction and status; a case without any comes with NULLs.
        .outerjoin(CaseStep, and_(CaseStep.case_id == Case.id, CaseStep.kind.in_(("decision", "kommunicering"))))
        .where(Case.venue_id == venue_id)
        .order_by(CaseStep.date, CaseStep.id),
        "permit_changes": select(PermitChange.id, PermitChange.changed_at, PermitChange.changes, User.name.label("by"))
        .outerjoin(User, User.id == PermitChange.changed_by_id)
        .where(PermitChange.venue_id == venue_id),
        # Columns, not entities: an OverservingTest row would bring its venue (and that venue's servers).
        "tests": select(
            OverservingTest.id, OverservingTest.tested_on, OverservingTest.refused, OverservingTest.notes
        ).where(OverservingTest.venue_id == venue_id),
    }


def _rows(name: str, venue: Venue, **params) -> list:
    return db.session.execute(_statements()[name], {"venue_id": venue.id, **params}).all()


def _inspection_events(venue: Venue) -> tuple[list[dict], dict[int, dict[str, Any]]]:
    """The inspections as events: one query for the visits with their observation counts, one each
    for participants and other participants (plain rows, not ORM objects: this is the hot path)."""
    from ..inspections.models import KINDS, STATUSES

    inspections = _rows("inspections", venue)
    people: dict[int, list[dict]] = defaultdict(list)
    for inspection_id, name, org_name, org_kind in _rows("participants", venue):
        people[inspection_id].append({"name": name, "organisation": org_name, "kind": org_kind})
    others: dict[int, list[dict]] = defaultdict(list)
    for inspection_id, name, organisation in _rows("others", venue):
        others[inspection_id].append({"name": name, "organisation": organisation})

    per_year: dict[int, dict[str, Any]] = {}
    events = []
    for inspection in inspections:
        day = _local_date(inspection.arrived_at or inspection.planned_start)
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
                "observations": inspection.total or 0,
                "overservering_observations": inspection.overservering or 0,
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
            if inspection.total:
                for level, n in zip(LEVELS, inspection[-len(LEVELS) :], strict=True):
                    year["levels"][level] += n
    return events, per_year


def _training_events(venue: Venue) -> list[dict]:
    from ..trainings.models import TRAINING_KINDS

    return [
        {
            "type": "training",
            "date": t.starts_on,
            "id": t.id,
            "title": t.title,
            "kind": t.kind,
            "kind_label": TRAINING_KINDS.get(t.kind, t.kind),
            "ends_on": t.ends_on,
            "participants_from_venue": t.attended,
            "_sort": t.starts_on,
        }
        for t in _rows("trainings", venue, kommun_id=venue.kommun_id)
    ]


def _case_events(venue: Venue) -> list[dict]:
    from ..cases.models import CASE_STATUSES, SANCTIONS
    from ..cases.services import status_on

    cases: dict[int, Any] = {}
    decisions: dict[int, tuple] = {}
    deadlines: dict[int, object] = {}
    for row in _rows("cases", venue):  # steps oldest first
        cases[row.id] = row
        if row.step_kind == "decision":
            decisions[row.id] = (row.step_date, row.sanction)  # the latest decision wins
        elif row.step_kind == "kommunicering":
            deadlines[row.id] = row.deadline
    events = []
    today = local_today()
    for row in cases.values():
        decided_on, sanction = decisions.get(row.id, (None, None))
        day = decided_on or _local_date(row.opened_at)
        status = status_on(row.status, deadlines.get(row.id), today)
        events.append(
            {
                "type": "case",
                "date": day,
                "id": row.id,
                "title": "Tillsynsärende" + (f" {row.diarienummer}" if row.diarienummer else ""),
                "status": status,
                "status_label": CASE_STATUSES.get(status, status),
                "diarienummer": row.diarienummer,
                "summary": row.summary,
                "opened_on": _local_date(row.opened_at),
                "sanction": sanction,
                "sanction_label": SANCTIONS.get(sanction) if sanction else None,
                "decided_on": decided_on,
                "_sort": day,
            }
        )
    return events


def _permit_events(venue: Venue) -> list[dict]:
    return [
        {
            "type": "permit_change",
            "date": _local_date(change.changed_at),
            "id": change.id,
            "title": "Tillståndet ändrat: "
            + ", ".join(FIELD_LABELS.get(path, path).lower() for path in sorted(change.changes or {})),
            "changes": change.changes,
            "by": change.by,
            "_sort": change.changed_at,
        }
        for change in _rows("permit_changes", venue)
    ]


def _test_events(venue: Venue) -> list[dict]:
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
        for t in _rows("tests", venue)
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


def _json_value(value):
    if isinstance(value, datetime):
        return iso_utc(value)
    return value.isoformat() if isinstance(value, date) else value


def events_json(events: list[dict]) -> list[dict]:
    """The events as JSON data: what audit.jsonable makes of them, one level deep only. Below it is
    JSON already (participants are names, a permit change is stored JSON), and walking every nested
    value cost as much as building the events."""
    return [{key: _json_value(value) for key, value in event.items()} for event in events]


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
