"""API routes of the venue registry (API.md: venues and the venue history)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..api import json_body, paginate, query_args, route, validate
from ..audit import jsonable
from ..policy import get_or_404, venue_filter
from ..schemas import Page
from . import services
from .history import venue_history
from .models import Venue
from .schemas import HistoryQuery, VenueCreate, VenueHistoryOut, VenueOut, VenuePatch, VenuesQuery, venue_out

STAFF = ("inspector", "manager")


def search_venues(user, q: str | None = None, area: str | None = None, risk_class: int | None = None):
    """The venues `user` may see, matching a search on name, address and permit holder."""
    stmt = select(Venue).where(venue_filter(user))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Venue.name).like(like),
                func.lower(Venue.address).like(like),
                func.lower(Venue.permit_holder).like(like),
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
    stmt = search_venues(current_user, args.q, args.area, args.risk_class)
    return jsonify(paginate(stmt, lambda rows: [venue_out(v) for v in rows]))


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
            "events": jsonable(history["events"]),
            "per_year": jsonable(history["per_year"]),
        }
    )
