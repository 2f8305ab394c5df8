"""API routes of the venue registry (API.md: venues and the venue history)."""

from __future__ import annotations

from collections import defaultdict

from flask import jsonify
from flask_login import current_user
from sqlalchemy import String, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..api import json_body, query_args, route, validate
from ..api.core import page_and_total, page_args
from ..audit import jsonable
from ..auth.models import Organisation
from ..extensions import db
from ..policy import get_or_404, venue_filter
from ..schemas import Page
from . import services
from .history import events_json, venue_history
from .models import ResponsibleServer, Venue
from .schemas import (
    HistoryQuery,
    VenueCreate,
    VenueHistoryOut,
    VenueOut,
    VenuePatch,
    VenuesQuery,
    venue_json,
    venue_out,
)

STAFF = ("inspector", "manager")
#: the columns of the Venue object of API.md (`venue_json`), the kommun's name looked up per listed row
VENUE_COLUMNS = (
    Venue.id,
    Venue.name,
    Venue.address,
    Venue.area,
    Venue.kommun_id,
    select(Organisation.name).where(Organisation.id == Venue.kommun_id).scalar_subquery().label("kommun_name"),
    Venue.permit_holder,
    Venue.org_number,
    Venue.permit_holder_email,
    Venue.permit_number,
    Venue.permit_scope,
    Venue.permit_kind,
    Venue.serving_hours,
    Venue.outdoor_serving_hours,
    Venue.max_guests,
    Venue.ordningsvakter_required,
    Venue.valid_from,
    Venue.valid_to,
    Venue.risk_class,
    Venue.risk_class_reason,
    Venue.active,
)


class casefolded(FunctionElement):
    """A text column for a case-insensitive LIKE against a lower-case pattern: lower(column), except on
    SQLite, whose LIKE already ignores case exactly as far as its lower() folds it (ASCII letters only),
    so the bare column matches the same rows. Searching the 2,146 venues of a big kommun then takes
    0.3 ms instead of 0.9 ms (no lower() per row and column)."""

    type = String()
    name = "casefolded"
    inherit_cache = True


@compiles(casefolded)
def _casefolded(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(casefolded, "sqlite")
def _casefolded_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


def search_venues(
    user, q: str | None = None, area: str | None = None, risk_class: int | None = None, *, columns=(Venue,)
):
    """The venues `user` may see, matching a search on name, address and permit holder (as `columns`:
    Venue objects unless a page asks for the few columns it shows)."""
    stmt = select(*columns).where(venue_filter(user))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                casefolded(Venue.name).like(like),
                casefolded(Venue.address).like(like),
                casefolded(Venue.permit_holder).like(like),
                Venue.permit_number == q,
            )
        )
    if area:
        stmt = stmt.where(Venue.area == area)
    if risk_class:
        stmt = stmt.where(Venue.risk_class == int(risk_class))
    return stmt.order_by(Venue.name, Venue.id)


@route(
    "/venues",
    ["GET"],
    summary="Search venues (name, address, permit holder); filter by area and risk class",
    query={
        "q": {"type": "string"},
        "area": {"type": "string"},
        "risk_class": {"type": "integer", "enum": [1, 2, 3]},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
    },
    responses={200: Page[VenueOut], 403: None, 422: None},
    roles=("inspector", "manager", "police"),
)
def list_venues():
    args = query_args(VenuesQuery)
    page, per_page = page_args()
    # Rows of columns, not Venue objects: loading 50 objects (with their kommun and servers) cost
    # twice what the whole answer costs now.
    stmt = search_venues(current_user, args.q, args.area, args.risk_class, columns=VENUE_COLUMNS)
    rows, total = page_and_total(stmt, page, per_page)
    servers = defaultdict(list)
    if rows:
        for server in db.session.execute(
            select(
                ResponsibleServer.venue_id,
                ResponsibleServer.id,
                ResponsibleServer.name,
                ResponsibleServer.birth_year,
                ResponsibleServer.notified_on,
            )
            .where(ResponsibleServer.venue_id.in_([row.id for row in rows]))
            .order_by(ResponsibleServer.id)
        ):
            servers[server.venue_id].append(server)
    items = [venue_json(row, row.kommun_name, servers[row.id]) for row in rows]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


@route(
    "/venues",
    ["POST"],
    summary="Register a venue and its permit in the caller's kommun",
    body=VenueCreate,
    responses={201: VenueOut, 400: None, 403: None, 422: None},
    roles=STAFF,
)
def create_venue():
    body = json_body()
    data = validate(VenueCreate, body)
    venue = services.create_venue(
        data.model_dump(exclude_unset=True), kommun_id=current_user.organisation_id, actor=current_user
    )
    response = jsonify(venue_out(venue))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/venues/{venue.id}"
    return response


@route(
    "/venues/<int:venue_id>",
    ["GET"],
    summary="A venue with its permit and responsible servers",
    responses={200: VenueOut, 403: None, 404: None},
    roles=("inspector", "manager", "police"),
)
def get_venue(venue_id: int):
    venue = get_or_404(Venue, venue_id)
    return jsonify(venue_out(venue))


@route(
    "/venues/<int:venue_id>",
    ["PATCH"],
    summary="Change a venue: only what is sent (permit merges per key; responsible_servers replaces the list)",
    body=VenuePatch,
    responses={200: VenueOut, 400: None, 403: None, 404: None, 409: None, 422: None},
    roles=STAFF,
)
def update_venue(venue_id: int):
    body = json_body()
    venue = get_or_404(Venue, venue_id, need="edit")
    data = validate(VenuePatch, body)
    services.update_venue(venue, data.model_dump(exclude_unset=True), actor=current_user)
    return jsonify(venue_out(venue))


@route(
    "/venues/<int:venue_id>/history",
    ["GET"],
    summary="The venue's history, newest first: inspections, trainings, cases, permit changes, tests",
    query={
        "year": {"type": "integer"},
        "type": {"type": "string", "enum": ["inspection", "training", "case", "permit_change", "overserving_test"]},
    },
    responses={200: VenueHistoryOut, 403: None, 404: None, 422: None},
    roles=("inspector", "manager", "police"),
)
def venue_history_api(venue_id: int):
    venue = get_or_404(Venue, venue_id, need="history")
    args = query_args(HistoryQuery)
    history = venue_history(venue, year=args.year, type=args.type)
    return jsonify(
        {
            "venue": venue_out(venue),
            "events": events_json(history["events"]),
            "per_year": jsonable(history["per_year"]),
        }
    )
