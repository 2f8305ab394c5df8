"""The Venue object of API.md as pydantic models (request bodies, answers and openapi.json)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from ..schemas import In, Name, Out, Text

Scope = Literal["allmanheten", "slutet_sallskap"]
PermitKind = Literal["stadigvarande", "tillfalligt"]
HistoryType = Literal["inspection", "training", "case", "permit_change", "overserving_test"]

#: serving hours are checked by the service (their message names the format); here only their length
Hours = str


class PermitIn(In):
    number: Name
    scope: Scope
    kind: PermitKind
    serving_hours: Hours = Field(max_length=40)
    outdoor_serving_hours: Hours | None = Field(default=None, max_length=40)
    max_guests: int | None = None
    ordningsvakter_required: bool | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class PermitPatch(In):
    number: Name | None = None
    scope: Scope | None = None
    kind: PermitKind | None = None
    serving_hours: Hours | None = Field(default=None, max_length=40)
    outdoor_serving_hours: Hours | None = Field(default=None, max_length=40)
    max_guests: int | None = None
    ordningsvakter_required: bool | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class ResponsibleServerIn(In):
    #: an existing server's id keeps that row (optional; name and birth year also match)
    id: int | None = None
    name: Name
    birth_year: int
    notified_on: date | None = None


class VenueCreate(In):
    name: Name
    address: Name
    area: Name | None = None
    permit_holder: Name
    org_number: str = Field(max_length=40)
    permit_holder_email: str | None = Field(default=None, max_length=254)
    permit: PermitIn
    risk_class: int | None = None
    risk_class_reason: Text | None = None
    responsible_servers: list[ResponsibleServerIn] = Field(default_factory=list, max_length=200)


class VenuePatch(In):
    name: Name | None = None
    address: Name | None = None
    area: Name | None = None
    permit_holder: Name | None = None
    org_number: str | None = Field(default=None, max_length=40)
    permit_holder_email: str | None = Field(default=None, max_length=254)
    permit: PermitPatch | None = None
    risk_class: int | None = None
    risk_class_reason: Text | None = None
    responsible_servers: list[ResponsibleServerIn] | None = Field(default=None, max_length=200)


class KommunRef(Out):
    id: int
    name: str


class PermitOut(Out):
    number: str
    scope: Scope
    kind: PermitKind
    serving_hours: str
    outdoor_serving_hours: str | None
    max_guests: int | None
    ordningsvakter_required: bool
    valid_from: date | None
    valid_to: date | None


class ResponsibleServerOut(Out):
    id: int
    name: str
    birth_year: int
    notified_on: date | None


class VenueOut(Out):
    id: int
    name: str
    address: str
    area: str | None
    kommun: KommunRef
    permit_holder: str
    org_number: str
    permit_holder_email: str | None
    permit: PermitOut
    risk_class: int
    risk_class_reason: str | None
    responsible_servers: list[ResponsibleServerOut]
    active: bool


class VenuesQuery(In):
    q: str | None = Field(default=None, max_length=200)
    area: str | None = Field(default=None, max_length=200)
    risk_class: Literal["1", "2", "3"] | None = None


class HistoryQuery(In):
    year: int | None = Field(default=None, ge=1900, le=2200)
    type: HistoryType | None = None


class HistoryEvent(Out):
    """One entry of the venue history; more keys follow by type (see API.md and history.py)."""

    model_config = {"extra": "allow"}

    type: HistoryType
    date: date
    id: int
    title: str


class VenueHistoryOut(Out):
    venue: VenueOut
    events: list[HistoryEvent]
    per_year: list[dict[str, Any]]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def venue_out(venue) -> dict:
    """The Venue object of API.md as JSON data."""
    return venue_json(venue, venue.kommun.name, venue.responsible_servers)


def venue_json(venue, kommun_name: str, servers) -> dict:
    """The Venue object of API.md from a Venue or a row of its columns, the name of its kommun and its
    responsible servers (objects or rows): VenueOut's fields as a plain dict (building the pydantic
    models cost 30 µs a venue, 1.5 ms for a page of 50; a test keeps the two equal)."""
    return {
        "id": venue.id,
        "name": venue.name,
        "address": venue.address,
        "area": venue.area,
        "kommun": {"id": venue.kommun_id, "name": kommun_name},
        "permit_holder": venue.permit_holder,
        "org_number": venue.org_number,
        "permit_holder_email": venue.permit_holder_email,
        "permit": {
            "number": venue.permit_number,
            "scope": venue.permit_scope,
            "kind": venue.permit_kind,
            "serving_hours": venue.serving_hours,
            "outdoor_serving_hours": venue.outdoor_serving_hours,
            "max_guests": venue.max_guests,
            "ordningsvakter_required": bool(venue.ordningsvakter_required),
            "valid_from": _iso(venue.valid_from),
            "valid_to": _iso(venue.valid_to),
        },
        "risk_class": venue.risk_class,
        "risk_class_reason": venue.risk_class_reason,
        "responsible_servers": [
            {"id": s.id, "name": s.name, "birth_year": s.birth_year, "notified_on": _iso(s.notified_on)}
            for s in servers
        ],
        "active": bool(venue.active),
    }
