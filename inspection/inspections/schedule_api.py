"""API routes of scheduling: list and schedule inspections, answer an invitation, cancel."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Literal

from flask import jsonify
from flask_login import current_user
from pydantic import AwareDatetime, Field
from sqlalchemy import bindparam, select

from ..api import json_body, paginate, query_args, route, validate, with_etag
from ..auth.models import Organisation, User
from ..errors import forbidden, validation_error
from ..extensions import db
from ..policy import get_or_404, inspection_filter
from ..schemas import In, Name, Page, Text
from ..types import iso_utc, local_day_bounds
from ..venues.models import Venue
from . import scheduling
from .models import Inspection, InspectionParticipant, OtherParticipant
from .schemas import InspectionOut, InspectionSummaryOut, Status, inspection_out


class OtherParticipantIn(In):
    name: Name
    organisation: Name


class ScheduleIn(In):
    venue_id: int
    kind: Literal["yttre", "inre", "samordnad", "forebyggande"]
    planned_start: AwareDatetime
    planned_end: AwareDatetime
    participant_ids: list[int] = Field(default_factory=list, max_length=100)
    other_participants: list[OtherParticipantIn] = Field(default_factory=list, max_length=50)
    diarienummer: Name | None = None


class ResponseIn(In):
    response: Literal["accepted", "declined"]
    comment: Text | None = None


class CancelIn(In):
    reason: Text


class InspectionsQuery(In):
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    venue_id: int | None = None
    status: Status | None = None
    page: int | None = None
    per_page: int | None = None


def _load(inspection_id: int) -> Inspection:
    return get_or_404(Inspection, inspection_id)


def full(inspection: Inspection, status: int = 200):
    """The full inspection with its warnings and ETag (the same answer as GET /inspections/{id})."""
    try:
        from .protocol_api import full_inspection
    except ImportError:  # pragma: no cover - the protocol module is another feature's
        payload = inspection_out(inspection, scheduling.warnings(inspection))
    else:
        payload = full_inspection(inspection)
    return with_etag(payload, inspection.version, status)


@route(
    "/inspections",
    ["GET"],
    summary="Inspections the caller may see (summaries); from/to are Stockholm dates on planned_start",
    query={
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "venue_id": {"type": "integer"},
        "status": {"type": "string", "enum": ["planned", "in_progress", "awaiting_signatures", "signed", "cancelled"]},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    },
    responses={200: Page[InspectionSummaryOut], 403: None, 422: None},
    roles=("inspector", "manager", "police"),  # admins read no inspections (API.md)
)
def inspections_list():
    q = query_args(InspectionsQuery)
    if q.from_ and q.to and q.to < q.from_:
        raise validation_error({"to": "Slutdatumet kan inte vara före startdatumet."})
    stmt = (
        select(Inspection.id).where(inspection_filter(current_user)).order_by(Inspection.planned_start, Inspection.id)
    )
    if q.from_:
        stmt = stmt.where(Inspection.planned_start >= local_day_bounds(q.from_)[0])
    if q.to:
        stmt = stmt.where(Inspection.planned_start < local_day_bounds(q.to)[1])
    if q.venue_id is not None:
        stmt = stmt.where(Inspection.venue_id == q.venue_id)
    if q.status:
        stmt = stmt.where(Inspection.status == q.status)
    return jsonify(paginate(stmt, summaries))


@cache
def _summary_statements() -> dict:
    """The three selects of `summaries`, built once with the ids as an expanding parameter."""
    ids = bindparam("ids", expanding=True)
    return {
        "rows": select(
            Inspection.id,
            Inspection.venue_id,
            Venue.name,
            Inspection.kind,
            Inspection.status,
            Inspection.planned_start,
            Inspection.planned_end,
            Inspection.diarienummer,
            Inspection.round_id,
            Inspection.version,
        )
        .join(Venue, Venue.id == Inspection.venue_id)
        .where(Inspection.id.in_(ids)),
        "people": select(
            InspectionParticipant.inspection_id,
            InspectionParticipant.response,
            InspectionParticipant.comment,
            User.id,
            User.name,
            Organisation.id,
            Organisation.name,
            Organisation.kind,
        )
        .join(User, User.id == InspectionParticipant.user_id)
        .join(Organisation, Organisation.id == InspectionParticipant.organisation_id)
        .where(InspectionParticipant.inspection_id.in_(ids))
        .order_by(InspectionParticipant.id),
        "others": select(OtherParticipant.inspection_id, OtherParticipant.name, OtherParticipant.organisation)
        .where(OtherParticipant.inspection_id.in_(ids))
        .order_by(OtherParticipant.position),
    }


def summaries(ids: list[int]) -> list[dict]:
    """InspectionSummaryOut of these inspections, in this order, read with three plain selects of
    the columns shown: loading whole Inspection, Venue, User and Organisation objects for a page of
    50 cost four times as much as the SQL (the police officer's list)."""
    if not ids:
        return []
    statements, params = _summary_statements(), {"ids": list(ids)}
    rows = db.session.execute(statements["rows"], params).all()
    people: dict[int, list[dict]] = {i: [] for i in ids}
    for inspection_id, response, comment, user_id, user_name, org_id, org_name, org_kind in db.session.execute(
        statements["people"], params
    ):
        people[inspection_id].append(
            {
                "user": {"id": user_id, "name": user_name},
                "organisation": {"id": org_id, "name": org_name, "kind": org_kind},
                "response": response,
                "comment": comment,
            }
        )
    others: dict[int, list[dict]] = {i: [] for i in ids}
    for inspection_id, name, organisation in db.session.execute(statements["others"], params):
        others[inspection_id].append({"name": name, "organisation": organisation})
    by_id = {row.id: row for row in rows}
    # Plain dicts in the shape of InspectionSummaryOut (a test holds them equal to summary_out):
    # validating 50 models only to dump them again was a fifth of the list's time.
    return [
        {
            "id": row.id,
            "venue": {"id": row.venue_id, "name": row.name},
            "kind": row.kind,
            "status": row.status,
            "planned_start": iso_utc(row.planned_start),
            "planned_end": iso_utc(row.planned_end),
            "diarienummer": row.diarienummer,
            "participants": people[row.id],
            "other_participants": others[row.id],
            "round_id": row.round_id,
            "version": row.version,
        }
        for row in (by_id[i] for i in ids if i in by_id)
    ]


@route(
    "/inspections",
    ["POST"],
    summary="Schedule an inspection (kommun staff); police participants are invited",
    body=ScheduleIn,
    responses={201: InspectionOut, 400: None, 403: None, 404: None, 422: None},
)
def inspections_create():
    body = json_body()  # 400 first (API.md's order), then 403 for a role that may never schedule
    if not current_user.is_kommun_staff:
        raise forbidden("Bara kommunens handläggare kan planera tillsyner.")
    data = validate(ScheduleIn, body)
    inspection = scheduling.schedule_inspection(
        current_user,
        data.venue_id,
        data.kind,
        data.planned_start,
        data.planned_end,
        data.participant_ids,
        [o.model_dump() for o in data.other_participants],
        data.diarienummer,
    )
    return full(inspection, 201)


@route(
    "/inspections/<int:inspection_id>/responses",
    ["POST"],
    summary="Accept or decline an invitation (an invited participant)",
    body=ResponseIn,
    responses={200: InspectionOut, 400: None, 403: None, 404: None, 409: None, 422: None},
)
def inspection_respond(inspection_id: int):
    body = json_body()
    inspection = _load(inspection_id)
    scheduling.check_can_respond(current_user, inspection)  # 403, 409 before 422
    data = validate(ResponseIn, body)
    scheduling.respond(current_user, inspection, data.response, data.comment)
    return full(inspection)


@route(
    "/inspections/<int:inspection_id>/cancel",
    ["POST"],
    summary="Cancel a planned or ongoing inspection with a reason",
    body=CancelIn,
    responses={200: InspectionOut, 400: None, 403: None, 404: None, 409: None, 422: None},
)
def inspection_cancel(inspection_id: int):
    body = json_body()
    if not current_user.is_kommun_staff:
        raise forbidden("Bara kommunens handläggare kan ställa in en tillsyn.")
    inspection = _load(inspection_id)
    scheduling.check_cancellable(current_user, inspection)  # 403, 409 before 422
    data = validate(CancelIn, body)
    scheduling.cancel(current_user, inspection, data.reason)
    return full(inspection)
