"""API routes of scheduling: list and schedule inspections, answer an invitation, cancel."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import jsonify
from flask_login import current_user
from pydantic import AwareDatetime, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..api import json_body, paginate, query_args, route, validate, with_etag
from ..errors import forbidden, validation_error
from ..policy import get_or_404, inspection_filter
from ..schemas import In, Name, Page, Text
from ..types import local_day_bounds
from . import scheduling
from .models import Inspection
from .schemas import InspectionOut, InspectionSummaryOut, Status, inspection_out, summary_out


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
        select(Inspection)
        .where(inspection_filter(current_user))
        .options(selectinload(Inspection.participants), selectinload(Inspection.other_participants))
        .order_by(Inspection.planned_start, Inspection.id)
    )
    if q.from_:
        stmt = stmt.where(Inspection.planned_start >= local_day_bounds(q.from_)[0])
    if q.to:
        stmt = stmt.where(Inspection.planned_start < local_day_bounds(q.to)[1])
    if q.venue_id is not None:
        stmt = stmt.where(Inspection.venue_id == q.venue_id)
    if q.status:
        stmt = stmt.where(Inspection.status == q.status)
    return jsonify(paginate(stmt, lambda rows: [summary_out(i) for i in rows]))


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
