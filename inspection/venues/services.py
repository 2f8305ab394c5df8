"""The rules of the venue registry: creating and changing venues and permits, closing, risk class.

Services take plain data keyed as the API's Venue object (`permit` nested), check the rules, change
the objects, write the audit entry and flush; they never commit.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from .. import audit
from ..errors import ServiceError, validation_error
from ..extensions import db
from ..types import local_today, utcnow
from ..validation import (
    NAME_MAX,
    TEXT_MAX,
    birth_year_error,
    normalise_org_number,
    normalise_serving_hours,
    parse_serving_hours,
    serving_hours_error,
    text_error,
)
from .models import PERMIT_KINDS, SCOPES, PermitChange, ResponsibleServer, Venue

#: API key -> model column, for the top level and for `permit`
TOP_FIELDS = {
    "name": "name",
    "address": "address",
    "area": "area",
    "permit_holder": "permit_holder",
    "org_number": "org_number",
    "permit_holder_email": "permit_holder_email",
}
PERMIT_FIELDS = {
    "number": "permit_number",
    "scope": "permit_scope",
    "kind": "permit_kind",
    "serving_hours": "serving_hours",
    "outdoor_serving_hours": "outdoor_serving_hours",
    "max_guests": "max_guests",
    "ordningsvakter_required": "ordningsvakter_required",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
}
REQUIRED_TOP = ("name", "address", "permit_holder", "org_number")
REQUIRED_PERMIT = ("number", "scope", "kind", "serving_hours")
#: changes to these (API paths) are kept as PermitChange rows for the venue history
PERMIT_HISTORY_PATHS = ("permit_holder", "org_number") + tuple(f"permit.{k}" for k in PERMIT_FIELDS)

#: how many guests make a venue "large" in the risk computation
LARGE_VENUE_GUESTS = 300
SANCTION_POINTS = {"erinran": 1, "varning": 2, "aterkallelse": 2}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

REQUIRED = "Obligatoriskt fält."


# ---- reading a venue as API data -----------------------------------------------------------------


def venue_values(venue: Venue) -> dict[str, Any]:
    """The venue's editable values keyed by API path ("permit.number"), for diffs and audit."""
    values = {key: getattr(venue, column) for key, column in TOP_FIELDS.items()}
    values.update({f"permit.{key}": getattr(venue, column) for key, column in PERMIT_FIELDS.items()})
    values["risk_class"] = venue.risk_class
    values["risk_class_reason"] = venue.risk_class_reason
    values["risk_class_override"] = venue.risk_class_override
    values["active"] = venue.active
    values["responsible_servers"] = [
        [s.name, s.birth_year, s.notified_on.isoformat() if s.notified_on else None] for s in venue.responsible_servers
    ]
    return values


# ---- validation ------------------------------------------------------------------------------------


def _flatten(data: dict) -> dict[str, Any]:
    """{"name": .., "permit": {"number": ..}} -> {"name": .., "permit.number": ..} (only what is given)."""
    flat = {key: data[key] for key in TOP_FIELDS if key in data}
    for key in PERMIT_FIELDS:
        if key in (data.get("permit") or {}):
            flat[f"permit.{key}"] = data["permit"][key]
    return flat


def _text_rule(errors: dict, path: str, value: Any, required: bool, max_len: int = NAME_MAX) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[path] = [REQUIRED]
        return
    if not isinstance(value, str):
        errors[path] = ["Ska vara text."]
    elif message := text_error(value, max_len):
        errors[path] = [message]


def clean(
    data: dict, *, kommun_id: int, venue: Venue | None = None, today: date | None = None
) -> tuple[dict[str, Any], list[dict] | None, dict[str, list[str]]]:
    """Check and normalise the given values.

    Returns (values by API path, responsible servers or None when not given, errors by field). On
    create (`venue` None) the required fields must be given; on change only what is given is checked.
    """
    today = today or local_today()
    creating = venue is None
    flat = _flatten(data)
    errors: dict[str, list[str]] = {}
    if data.get("permit") is None and "permit" in data and not creating:
        errors["permit"] = ["Ska vara ett objekt."]
    if creating:
        for key in REQUIRED_TOP:
            flat.setdefault(key, None)
        for key in REQUIRED_PERMIT:
            flat.setdefault(f"permit.{key}", None)

    for key in ("name", "address", "permit_holder"):
        if key in flat:
            _text_rule(errors, key, flat[key], required=True)
    if "area" in flat:
        _text_rule(errors, "area", flat["area"], required=False)
        if not flat["area"]:
            flat["area"] = None
    if "permit.number" in flat:
        _text_rule(errors, "permit.number", flat["permit.number"], required=True)

    if "org_number" in flat:
        raw = flat["org_number"]
        if raw is None or not str(raw).strip():
            errors["org_number"] = [REQUIRED]
        else:
            normal = normalise_org_number(str(raw))
            if normal is None:
                errors["org_number"] = ["Ogiltigt organisationsnummer (kontrollsiffran stämmer inte)."]
            else:
                flat["org_number"] = normal

    if "permit_holder_email" in flat:
        email = flat["permit_holder_email"]
        if email in (None, ""):
            flat["permit_holder_email"] = None
        elif not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email):
            errors["permit_holder_email"] = ["Ogiltig e-postadress."]

    for key, labels in (("permit.scope", SCOPES), ("permit.kind", PERMIT_KINDS)):
        if key in flat:
            if flat[key] in (None, ""):
                errors[key] = [REQUIRED]
            elif flat[key] not in labels:
                errors[key] = ["Ogiltigt värde."]

    for key, required in (("permit.serving_hours", True), ("permit.outdoor_serving_hours", False)):
        if key not in flat:
            continue
        value = flat[key]
        if value in (None, ""):
            if required:
                errors[key] = [REQUIRED]
            flat[key] = None
        elif not isinstance(value, str) or serving_hours_error(value):
            errors[key] = ["Ange serveringstid som TT:MM-TT:MM, t.ex. 11:00-01:00."]
        else:
            flat[key] = normalise_serving_hours(value)

    if "permit.max_guests" in flat and flat["permit.max_guests"] is not None:
        guests = flat["permit.max_guests"]
        if not isinstance(guests, int) or isinstance(guests, bool) or not 1 <= guests <= 100_000:
            errors["permit.max_guests"] = ["Ange ett antal mellan 1 och 100000."]
    if "permit.ordningsvakter_required" in flat:
        if flat["permit.ordningsvakter_required"] is None:
            flat["permit.ordningsvakter_required"] = False
        elif not isinstance(flat["permit.ordningsvakter_required"], bool):
            errors["permit.ordningsvakter_required"] = ["Ska vara sant eller falskt."]

    valid_from = flat.get("permit.valid_from", venue.valid_from if venue else None)
    valid_to = flat.get("permit.valid_to", venue.valid_to if venue else None)
    if valid_from and valid_to and valid_to < valid_from and ("permit.valid_to" in flat or "permit.valid_from" in flat):
        errors["permit.valid_to"] = ["Slutdatum kan inte ligga före startdatum."]

    if "risk_class" in data and data["risk_class"] is not None:
        rc = data["risk_class"]
        if not isinstance(rc, int) or isinstance(rc, bool) or not 1 <= rc <= 3:
            errors["risk_class"] = ["Riskklassen ska vara 1, 2 eller 3."]
    if data.get("risk_class_reason"):
        _text_rule(errors, "risk_class_reason", data["risk_class_reason"], required=False, max_len=TEXT_MAX)

    servers = None
    if "responsible_servers" in data:
        servers = []
        given = data["responsible_servers"]
        if given is None:
            given = []
        if not isinstance(given, list):
            errors["responsible_servers"] = ["Ska vara en lista."]
            given = []
        for i, server in enumerate(given):
            path = f"responsible_servers.{i}"
            name = server.get("name")
            _text_rule(errors, f"{path}.name", name, required=True)
            year = server.get("birth_year")
            if year is None:
                errors[f"{path}.birth_year"] = [REQUIRED]
            elif not isinstance(year, int) or isinstance(year, bool):
                errors[f"{path}.birth_year"] = ["Ska vara ett årtal."]
            elif message := birth_year_error(year, today):
                errors[f"{path}.birth_year"] = [message]
            notified = server.get("notified_on")
            if notified is not None and notified > today:
                errors[f"{path}.notified_on"] = ["Datumet kan inte ligga i framtiden."]
            servers.append({"id": server.get("id"), "name": name, "birth_year": year, "notified_on": notified})

    number = flat.get("permit.number")
    if number and "permit.number" not in errors and (venue is None or number != venue.permit_number):
        stmt = select(Venue.id).where(Venue.kommun_id == kommun_id, Venue.permit_number == number)
        if venue is not None:
            stmt = stmt.where(Venue.id != venue.id)
        if db.session.scalar(stmt.limit(1)) is not None:
            errors["permit.number"] = ["Tillståndsnumret finns redan i kommunen."]

    return flat, servers, errors


# ---- risk class ------------------------------------------------------------------------------------


def _serves_past_one(hours: str | None) -> bool:
    """True when the serving hours end after 01:00 (the end lies past midnight)."""
    parsed = parse_serving_hours(hours) if hours else None
    if parsed is None:
        return False
    start, end = parsed
    return end < start and end > 60


def compliance_last_two_years(venue_id: int, today: date | None = None) -> tuple[int, list[str]]:
    """(remarks in signed protocols, sanctions decided) for the venue in the last two years."""
    from ..cases.models import Case, CaseStep
    from ..inspections.models import Inspection
    from ..types import local_day_bounds

    today = today or local_today()
    since_day = today - timedelta(days=730)
    since, _ = local_day_bounds(since_day)
    checklists = db.session.scalars(
        select(Inspection.checklist).where(
            Inspection.venue_id == venue_id, Inspection.status == "signed", Inspection.planned_start >= since
        )
    ).all()
    remarks = sum(
        1
        for checklist in checklists
        for item in (checklist or {}).values()
        if (item or {}).get("status") == "anmarkning"
    )
    sanctions = list(
        db.session.scalars(
            select(CaseStep.sanction)
            .join(Case, Case.id == CaseStep.case_id)
            .where(
                Case.venue_id == venue_id,
                CaseStep.kind == "decision",
                CaseStep.sanction.in_(tuple(SANCTION_POINTS)),
                CaseStep.date >= since_day,
            )
        ).all()
    )
    return remarks, sanctions


def compute_risk_class(
    *,
    serving_hours: str | None,
    outdoor_serving_hours: str | None,
    max_guests: int | None,
    remarks: int,
    sanctions: list[str],
) -> tuple[int, str]:
    """The default risk class 1–3 and a Swedish reason naming the factors.

    One point each for serving past 01:00 and for room for 300 guests or more; one point for any
    remark in the last two years, two for five or more; one point for an erinran, two for a varning
    or återkallelse in the last two years. 0 points is class 1, 1–2 class 2, 3 or more class 3.
    """
    points = 0
    factors = []
    if _serves_past_one(serving_hours) or _serves_past_one(outdoor_serving_hours):
        points += 1
        factors.append("servering efter 01:00")
    if max_guests is not None and max_guests >= LARGE_VENUE_GUESTS:
        points += 1
        factors.append(f"upp till {max_guests} gäster")
    if remarks:
        points += 2 if remarks >= 5 else 1
        factors.append(f"{remarks} {'anmärkning' if remarks == 1 else 'anmärkningar'} de senaste två åren")
    if sanctions:
        points += max(SANCTION_POINTS[s] for s in sanctions)
        factors.append(
            f"{len(sanctions)} {'sanktion' if len(sanctions) == 1 else 'sanktioner'} de senaste två åren"
            f" ({', '.join(sorted(set(sanctions)))})"
        )
    risk_class = 1 if points == 0 else (2 if points <= 2 else 3)
    reason = "Beräknad: " + (", ".join(factors) if factors else "inga särskilda riskfaktorer") + "."
    return risk_class, reason


def computed_risk_class(venue: Venue, today: date | None = None) -> tuple[int, str]:
    """The default risk class of a saved venue, from its permit and its last two years."""
    remarks, sanctions = compliance_last_two_years(venue.id, today) if venue.id else (0, [])
    return compute_risk_class(
        serving_hours=venue.serving_hours,
        outdoor_serving_hours=venue.outdoor_serving_hours,
        max_guests=venue.max_guests,
        remarks=remarks,
        sanctions=sanctions,
    )


def refresh_risk_class(venue: Venue, actor=None) -> bool:
    """Recompute a venue's class unless an inspector has set it by hand (call after a signed protocol
    or a decision). True when it changed."""
    if venue.risk_class_override:
        return False
    risk_class, reason = computed_risk_class(venue)
    if (risk_class, reason) == (venue.risk_class, venue.risk_class_reason):
        return False
    before = {"risk_class": venue.risk_class, "risk_class_reason": venue.risk_class_reason}
    venue.risk_class, venue.risk_class_reason = risk_class, reason
    audit.record(
        "venue.risk_class",
        venue,
        user=actor,
        details=audit.diff(before, {"risk_class": risk_class, "risk_class_reason": reason}),
    )
    db.session.flush()
    return True


# ---- create and change -----------------------------------------------------------------------------


def _apply_values(venue: Venue, flat: dict[str, Any]) -> None:
    for key, value in flat.items():
        if key.startswith("permit."):
            setattr(venue, PERMIT_FIELDS[key[len("permit.") :]], value)
        else:
            setattr(venue, TOP_FIELDS[key], value)


def _apply_servers(venue: Venue, servers: list[dict]) -> None:
    """Replace the list, keeping the rows (and ids) of people who stay."""
    by_id = {s.id: s for s in venue.responsible_servers}
    by_person = {(s.name, s.birth_year): s for s in venue.responsible_servers}
    keep = []
    for given in servers:
        row = by_id.get(given.get("id")) if given.get("id") else None
        row = row or by_person.get((given["name"], given["birth_year"]))
        if row is None or row in keep:
            row = ResponsibleServer(name=given["name"], birth_year=given["birth_year"])
        row.name, row.birth_year, row.notified_on = given["name"], given["birth_year"], given["notified_on"]
        keep.append(row)
    venue.responsible_servers[:] = keep


def _apply_risk(venue: Venue, data: dict) -> None:
    if "risk_class" in data and data["risk_class"] is not None:
        venue.risk_class = data["risk_class"]
        venue.risk_class_override = True
        venue.risk_class_reason = data.get("risk_class_reason") or None
        return
    if "risk_class" in data:  # null: back to the computed class
        venue.risk_class_override = False
    elif "risk_class_reason" in data and venue.risk_class_override:
        venue.risk_class_reason = data["risk_class_reason"] or None
        return
    if not venue.risk_class_override:
        venue.risk_class, venue.risk_class_reason = computed_risk_class(venue)


def create_venue(data: dict, *, kommun_id: int, actor=None) -> Venue:
    """Register a venue and its permit in the kommun; the risk class is computed unless given."""
    flat, servers, errors = clean(data, kommun_id=kommun_id)
    if errors:
        raise validation_error(errors)
    venue = Venue(kommun_id=kommun_id, active=True, ordningsvakter_required=False, risk_class_override=False)
    _apply_values(venue, flat)
    if servers:
        _apply_servers(venue, servers)
    db.session.add(venue)
    db.session.flush()
    _apply_risk(venue, data)
    db.session.flush()
    audit.record("venue.create", venue, user=actor, details={"after": venue_values(venue)})
    return venue


def planned_changes(venue: Venue, data: dict) -> tuple[dict[str, list], dict[str, list[str]]]:
    """What `update_venue` would change ({path: [old, new]}) and the errors, without changing anything."""
    flat, servers, errors = clean(data, kommun_id=venue.kommun_id, venue=venue)
    before = venue_values(venue)
    after = dict(before)
    after.update(flat)
    if servers is not None:
        after["responsible_servers"] = [
            [s["name"], s["birth_year"], s["notified_on"].isoformat() if s["notified_on"] else None] for s in servers
        ]
    return audit.diff(before, after), errors


def update_venue(venue: Venue, data: dict, *, actor=None) -> dict[str, list]:
    """Change only what is given (PATCH): `permit` merges per key, `responsible_servers` replaces the
    list, `risk_class` overrides the computed class (null returns to it). Returns the changes."""
    flat, servers, errors = clean(data, kommun_id=venue.kommun_id, venue=venue)
    if errors:
        raise validation_error(errors)
    before = venue_values(venue)
    _apply_values(venue, flat)
    if servers is not None:
        _apply_servers(venue, servers)
    _apply_risk(venue, data)
    db.session.flush()
    after = venue_values(venue)
    changes = audit.diff(before, after)
    if not changes:
        return changes
    venue.updated_at = utcnow()
    permit_changes = {path: change for path, change in changes.items() if path in PERMIT_HISTORY_PATHS}
    if permit_changes:
        db.session.add(
            PermitChange(venue_id=venue.id, changed_by_id=getattr(actor, "id", None), changes=permit_changes)
        )
    audit.record("venue.update", venue, user=actor, details=changes)
    db.session.flush()
    return changes


def close_venue(venue: Venue, *, actor=None) -> None:
    """Mark a venue closed (it stays in the registry with its history)."""
    if not venue.active:
        raise ServiceError("conflict", "Serveringsstället är redan stängt.")
    venue.active = False
    audit.record("venue.close", venue, user=actor, details={"active": [True, False]})
    db.session.flush()


def reopen_venue(venue: Venue, *, actor=None) -> None:
    if venue.active:
        raise ServiceError("conflict", "Serveringsstället är redan öppet.")
    venue.active = True
    audit.record("venue.reopen", venue, user=actor, details={"active": [False, True]})
    db.session.flush()
