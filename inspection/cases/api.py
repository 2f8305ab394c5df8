"""API routes of cases (API.md "Case"): list, open, read, add a step."""

from __future__ import annotations

from typing import get_args

from flask import jsonify, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..api import json_body, paginate, query_args, route, validate
from ..policy import get_or_404
from ..schemas import Page
from . import services
from .models import Case, CaseStep
from .schemas import CaseIn, CaseOut, CasesQuery, CaseStatus, StepIn, StepKindIn

STEP_FIELDS = ("sanction", "legal_ground", "deadline", "decided_by", "filed_on", "outcome", "text")


def case_json(case: Case, user, history=None, on=None) -> dict:
    """The Case object of API.md (steps oldest first; a step carries only the fields of its kind)."""
    on = on or services.today()
    steps = []
    for s in services.ordered_steps(case.steps):
        item = {"id": s.id, "kind": s.kind, "date": s.date.isoformat(), "by": {"id": s.by.id, "name": s.by.name}}
        for name in STEP_FIELDS:
            value = getattr(s, name)
            if value is not None:
                item[name] = value.isoformat() if hasattr(value, "isoformat") else value
        steps.append(item)
    deadline = services.reply_deadline(case)
    data = {
        "id": case.id,
        "venue": {"id": case.venue.id, "name": case.venue.name},
        "status": services.current_status(case, on),
        "summary": case.summary,
        "inspections": [{"id": i.id} for i in case.inspections],
        "diarienummer": case.diarienummer,
        "steps": steps,
        "notices": [{"code": n.code, "message": n.message} for n in services.notices(case, history)],
        "reply_deadline": deadline.isoformat() if deadline else None,
        "next_steps": services.next_steps(case, user, on),
        "documents": [
            {
                "id": d.id,
                "title": d.title,
                "content_type": d.content_type,
                "size": d.size,
                "uploaded_at": d.uploaded_at,
                "url": url_for("cases.document", case_id=case.id, document_id=d.id, _external=False),
            }
            for d in case.documents
        ],
        "opened_at": case.opened_at,
    }
    return CaseOut.model_validate(data).model_dump(mode="json", exclude={"steps"}) | {"steps": steps}


def _load(case_id: int) -> Case:
    case = get_or_404(Case, case_id)
    return case


@route(
    "/cases",
    ["GET"],
    summary="Cases of the caller's kommun, newest first (status as on today)",
    query={
        "status": {"type": "string", "enum": list(get_args(CaseStatus))},
        "venue_id": {"type": "integer"},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    },
    responses={200: Page[CaseOut], 403: None, 422: None},
    roles=("inspector", "manager"),
)
def list_cases():
    q = query_args(CasesQuery)
    on = services.today()
    stmt = services.case_query(current_user).order_by(Case.opened_at.desc(), Case.id.desc())
    if q.status:
        stmt = stmt.where(services.status_filter(q.status, on))
    if q.venue_id is not None:
        stmt = stmt.where(Case.venue_id == q.venue_id)
    stmt = services.with_steps(stmt).options(selectinload(Case.steps).joinedload(CaseStep.by))

    def serialise(rows):
        history = services.earlier_decisions({c.venue_id for c in rows})
        return [case_json(c, current_user, history, on) for c in rows]

    return jsonify(paginate(stmt, serialise))


@route(
    "/cases",
    ["POST"],
    summary="Open a case from signed protocols of one venue",
    body=CaseIn,
    responses={201: CaseOut, 403: None, 422: None},
    roles=("inspector", "manager"),
)
def create_case():
    body = json_body()
    data = validate(CaseIn, body)
    venue = services.visible_venue(current_user, data.venue_id)
    case = services.open_case(current_user, venue, data.inspection_ids, data.summary, data.diarienummer)
    response = jsonify(case_json(case, current_user))
    response.status_code = 201
    return response


@route(
    "/cases/<int:case_id>",
    ["GET"],
    summary="A case with its steps, oldest first (police and other kommuner: 404)",
    responses={200: CaseOut, 404: None},
)
def get_case(case_id: int):
    case = _load(case_id)
    return jsonify(case_json(case, current_user))


@route(
    "/cases/<int:case_id>/steps",
    ["POST"],
    summary="Add a step (API.md 'Case steps'); answers the whole case",
    body=StepIn,
    responses={201: CaseOut, 403: None, 404: None, 409: None, 422: None},
    roles=("inspector", "manager"),
)
def add_step(case_id: int):
    body = json_body()
    case = _load(case_id)
    kind = validate(StepKindIn, body).kind
    # 403 (a decision by an inspector) and 409 (out of order) come before 422 (API.md's order).
    services.check_may_add(current_user, case, kind)
    data = validate(StepIn, body)
    fields = {name: getattr(data, name) for name in STEP_FIELDS}
    services.add_step(current_user, case, kind, data.date, **fields)
    response = jsonify(case_json(case, current_user))
    response.status_code = 201
    return response
