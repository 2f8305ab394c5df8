"""CSV exports for a period, as Swedish Excel opens them: UTF-8 with a BOM, semicolons, Swedish
headers. Each export holds only what the user may see (the policy's list filters): police get the
inspections they take part in and the trainings organised with the police, never cases."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..cases.models import CASE_STATUSES, SANCTIONS, Case
from ..errors import ServiceError, validation_error
from ..extensions import db
from ..inspections.models import (
    CHECKLIST_ITEMS,
    INTOXICATION_LEVELS,
    KINDS,
    OBSERVATION_CATEGORIES,
    STATUSES,
    Inspection,
    Observation,
)
from ..policy import inspection_filter, kommun_filter, training_filter
from ..trainings.models import TRAINING_KINDS, Training
from ..types import fmt_datetime
from .services import period_bounds

EXPORT_TYPES = {
    "inspektioner": "Tillsynsbesök",
    "observationer": "Observationer",
    "utbildningar": "Utbildningar",
    "arenden": "Tillsynsärenden",
}

# Cells starting with these would be run as formulas by a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _inspections(user, date_from: date, date_to: date) -> tuple[list[str], list[list]]:
    start, end = period_bounds(date_from, date_to)
    stmt = (
        select(Inspection)
        .where(inspection_filter(user), Inspection.planned_start >= start, Inspection.planned_start < end)
        .options(selectinload(Inspection.signatures))
        .order_by(Inspection.planned_start, Inspection.id)
    )
    header = [
        "ID",
        "Serveringsställe",
        "Typ",
        "Status",
        "Planerad start",
        "Planerad slut",
        "Ankomst",
        "Avfärd",
        "Diarienummer",
        "Berusningsnivå",
        "Antal gäster",
        "Antal anmärkningar",
        "Anmärkningar",
        "Signerad av polis",
        "Signerad",
    ]
    rows = []
    for i in db.session.scalars(stmt):
        remarks = [
            CHECKLIST_ITEMS.get(code, code)
            for code, item in (i.checklist or {}).items()
            if isinstance(item, dict) and item.get("status") == "anmarkning"
        ]
        rows.append(
            [
                i.id,
                i.venue.name,
                KINDS.get(i.kind, i.kind),
                STATUSES.get(i.status, i.status),
                fmt_datetime(i.planned_start),
                fmt_datetime(i.planned_end),
                fmt_datetime(i.arrived_at),
                fmt_datetime(i.left_at),
                i.diarienummer,
                INTOXICATION_LEVELS.get(i.intoxication_level or "", i.intoxication_level),
                i.guest_count,
                len(remarks),
                ", ".join(remarks),
                any(s.organisation.kind == "polis" for s in i.signatures),
                fmt_datetime(i.signed_at),
            ]
        )
    return header, rows


def _observations(user, date_from: date, date_to: date) -> tuple[list[str], list[list]]:
    start, end = period_bounds(date_from, date_to)
    stmt = (
        select(Observation, Inspection)
        .join(Inspection, Inspection.id == Observation.inspection_id)
        .where(inspection_filter(user), Observation.observed_at >= start, Observation.observed_at < end)
        .order_by(Observation.observed_at, Observation.id)
    )
    header = [
        "Tillsyn-ID",
        "Serveringsställe",
        "Tidpunkt",
        "Kategori",
        "Berusningsnivå",
        "Beskrivning",
        "Antecknad av",
        "Återkallad",
    ]
    rows = [
        [
            i.id,
            i.venue.name,
            fmt_datetime(o.observed_at),
            OBSERVATION_CATEGORIES.get(o.category, o.category),
            INTOXICATION_LEVELS.get(o.intoxication_level or "", o.intoxication_level),
            o.description,
            o.author.name,
            o.retracted,
        ]
        for o, i in db.session.execute(stmt)
    ]
    return header, rows


def _trainings(user, date_from: date, date_to: date) -> tuple[list[str], list[list]]:
    stmt = (
        select(Training)
        .where(training_filter(user), Training.starts_on >= date_from, Training.starts_on <= date_to)
        .options(selectinload(Training.participants), selectinload(Training.venues))
        .order_by(Training.starts_on, Training.id)
    )
    header = [
        "ID",
        "Kommun",
        "Typ",
        "Titel",
        "Startdatum",
        "Slutdatum",
        "Plats",
        "Arrangörer",
        "Serveringsställen",
        "Deltagare",
        "Närvarande",
        "Godkända",
    ]
    rows = [
        [
            t.id,
            t.kommun.name,
            TRAINING_KINDS.get(t.kind, t.kind),
            t.title,
            t.starts_on,
            t.ends_on,
            t.place,
            ", ".join({"kommun": "Kommun", "polis": "Polis"}[o] for o in t.organisers),
            ", ".join(v.name for v in t.venues),
            len(t.participants),
            sum(1 for p in t.participants if p.attended),
            sum(1 for p in t.participants if p.passed),
        ]
        for t in db.session.scalars(stmt)
    ]
    return header, rows


def _cases(user, date_from: date, date_to: date) -> tuple[list[str], list[list]]:
    if not user.is_kommun_staff:
        raise ServiceError("forbidden", "Tillsynsärenden är kommunens interna handläggning.")
    start, end = period_bounds(date_from, date_to)
    stmt = (
        select(Case)
        .where(kommun_filter(user, Case.kommun_id), Case.opened_at >= start, Case.opened_at < end)
        .options(selectinload(Case.steps))
        .order_by(Case.opened_at, Case.id)
    )
    header = ["ID", "Serveringsställe", "Status", "Diarienummer", "Öppnat", "Beslut", "Beslutsdatum", "Sammanfattning"]
    rows = []
    for c in db.session.scalars(stmt):
        decision = next((s for s in reversed(c.steps) if s.kind == "decision"), None)
        rows.append(
            [
                c.id,
                c.venue.name,
                CASE_STATUSES.get(c.status, c.status),
                c.diarienummer,
                fmt_datetime(c.opened_at),
                SANCTIONS.get(decision.sanction or "", decision.sanction) if decision else None,
                decision.date if decision else None,
                c.summary,
            ]
        )
    return header, rows


_BUILDERS: dict[str, Callable] = {
    "inspektioner": _inspections,
    "observationer": _observations,
    "utbildningar": _trainings,
    "arenden": _cases,
}


def export(user, typ: str, date_from: date, date_to: date) -> tuple[str, bytes]:
    """(file name, CSV bytes) of one export; the download is written to the audit log."""
    if not (user.is_kommun_staff or user.is_police):
        raise ServiceError("forbidden", "Din roll får inte exportera.")
    builder = _BUILDERS.get(typ)
    if builder is None:
        raise validation_error({"typ": "Välj vad som ska exporteras."})
    header, rows = builder(user, date_from, date_to)
    audit.record(
        "report.export",
        kommun_id=user.kommun_id,
        details={"type": typ, "from": date_from, "to": date_to, "rows": len(rows)},
    )
    return f"{typ}_{date_from.isoformat()}_{date_to.isoformat()}.csv", to_csv(header, rows)
