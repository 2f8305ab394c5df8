"""The user's secret iCal feed (RFC 5545): their inspections from 30 days back onwards, so that a
phone calendar shows the evenings they take part in. The URL's token is the credential; rotating it
on the profile page kills the old URL. No e-mail addresses and no protocol content in the feed."""

from __future__ import annotations

from datetime import UTC, timedelta

import icalendar
from flask import Response, abort, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..extensions import db
from ..types import utcnow
from .models import KINDS, STATUSES, Inspection, InspectionParticipant
from .views import bp

#: how far back the feed reaches
FEED_DAYS_BACK = 30
UID_DOMAIN = "krogtillsyn"


def event_uid(inspection: Inspection) -> str:
    """Stable across updates, so that a calendar replaces the event instead of adding another."""
    return f"inspection-{inspection.id}@{UID_DOMAIN}"


def feed_for(user: User) -> bytes:
    """The iCal document of a user's inspections (declined ones left out)."""
    since = utcnow() - timedelta(days=FEED_DAYS_BACK)
    inspections = db.session.scalars(
        select(Inspection)
        .join(InspectionParticipant, InspectionParticipant.inspection_id == Inspection.id)
        .where(
            InspectionParticipant.user_id == user.id,
            InspectionParticipant.response != "declined",
            Inspection.planned_end >= since,
        )
        .options(
            selectinload(Inspection.participants),
            selectinload(Inspection.other_participants),
            selectinload(Inspection.round),
        )
        .order_by(Inspection.planned_start, Inspection.id)
    ).unique()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Krogtillsyn//Tillsyner//SV")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Krogtillsyn")
    cal.add("x-wr-timezone", "Europe/Stockholm")
    for inspection in inspections:
        cal.add_component(_event(inspection, user))
    return cal.to_ical()


def _event(inspection: Inspection, user: User) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", event_uid(inspection))
    event.add("dtstamp", (inspection.updated_at or inspection.created_at or utcnow()).astimezone(UTC))
    event.add("dtstart", inspection.planned_start.astimezone(UTC))
    event.add("dtend", inspection.planned_end.astimezone(UTC))
    event.add("sequence", max(0, (inspection.version or 1) - 1))
    event.add("summary", f"Tillsyn: {inspection.venue.name}")
    event.add("location", inspection.venue.address)
    # Names only (no e-mail addresses): who from which organisation.
    people = [f"{p.user.name} ({p.organisation.name})" for p in inspection.participants if p.response != "declined"]
    people += [f"{o.name} ({o.organisation})" for o in inspection.other_participants]
    lines = [KINDS.get(inspection.kind, inspection.kind), f"Status: {STATUSES.get(inspection.status)}"]
    if inspection.round is not None:
        lines.append(f"Runda: {inspection.round.title} (stopp {inspection.round_position})")
    if people:
        lines.append("Deltagare: " + ", ".join(people))
    event.add("description", "\n".join(lines))
    event.add("url", url_for("inspections.detail", inspection_id=inspection.id, _external=True))
    if inspection.status == "cancelled":
        event.add("status", "CANCELLED")
    elif any(p.user_id == user.id and p.response == "invited" for p in inspection.participants):
        event.add("status", "TENTATIVE")
    else:
        event.add("status", "CONFIRMED")
    return event


@bp.get("/kalender/<token>.ics")
def calendar_feed(token: str):
    """The user's secret iCal feed (public: the URL is the credential)."""
    if not token or len(token) > 64:
        abort(404)
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.active or user.is_admin:
        abort(404)
    response = Response(feed_for(user), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="krogtillsyn.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
