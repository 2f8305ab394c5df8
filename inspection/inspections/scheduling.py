"""Scheduling rules: planning inspections and evening rounds, invitations and answers, changes,
cancellation, conflict warnings, and what is due under the kommun's tillsynsplan.

Services take the acting user and domain objects, check the rules, change objects, write the audit
entry and flush; they never commit. Planned times are aware datetimes; "an evening" is reckoned in
Europe/Stockholm (a round from 21:00 to 03:00 belongs to the evening it starts on).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import aliased, selectinload

from .. import audit
from ..auth.models import User
from ..errors import ServiceError, conflict, forbidden, locked, not_found, validation_error
from ..extensions import db
from ..types import STOCKHOLM, fmt_date, fmt_time, local_today, utcnow
from ..validation import NAME_MAX, TEXT_MAX, parse_serving_hours, text_error
from ..venues.models import Venue
from .models import KINDS, Inspection, InspectionParticipant, InspectionPlan, OtherParticipant, Round


class _Unchanged:
    """Marks an argument that was not given (the field stays as it is)."""

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


UNCHANGED: Any = _Unchanged()

#: statuses in which the schedule may still change
OPEN_STATUSES = ("planned", "in_progress")
#: statuses at which the protocol carries a signature (participant and schedule changes are locked)
SIGNED_STATUSES = ("awaiting_signatures", "signed")
#: kinds whose visit happens while the venue serves (checked against the serving hours)
ON_SITE_SERVING_KINDS = ("yttre", "samordnad")
#: kinds that count as a visit under the tillsynsplan
PLAN_VISIT_KINDS = ("yttre", "samordnad")
#: the longest visit that may be scheduled (the start page relies on it to bound its window)
MAX_VISIT_LENGTH = timedelta(hours=24)
#: an evening round's times before noon belong to the night after the evening
EVENING_SPLIT = time(12, 0)
#: how far ahead the due list looks ("due soon")
DUE_SOON_DAYS = 30


# ---------------------------------------------------------------------------------------------
# Time helpers


def evening_datetime(evening: date, clock: time) -> datetime:
    """The instant of a clock time during an evening that runs past midnight (Stockholm): times
    before noon belong to the next calendar day. DST-aware (zoneinfo, never a fixed offset)."""
    day = evening + timedelta(days=1) if clock < EVENING_SPLIT else evening
    return _local(day, clock)


def _local(day: date, clock: time) -> datetime:
    """A Stockholm wall-clock time as an aware UTC instant. A time skipped in spring (02:30 on the
    last Sunday of March) reads as the same time after the gap (03:30); a time that occurs twice in
    autumn reads as the first (summer time) occurrence."""
    return datetime.combine(day, clock, tzinfo=STOCKHOLM).astimezone(UTC)


def stop_times(evening: date, start: time, end: time) -> tuple[datetime, datetime]:
    """Start and end instants of one stop in an evening round; an end at or before its start is
    the next day (a visit 23:30–00:15)."""
    planned_start = evening_datetime(evening, start)
    planned_end = evening_datetime(evening, end)
    if end <= start:  # past midnight (an equal or later clock time in a DST gap stays: end before start)
        planned_end = _local((planned_start.astimezone(STOCKHOLM) + timedelta(days=1)).date(), end)
    return planned_start, planned_end


def evening_of(moment: datetime) -> date:
    """The Stockholm evening a moment belongs to (00:00–11:59 counts to the evening before)."""
    local = moment.astimezone(STOCKHOLM)
    return (local - timedelta(days=1)).date() if local.time() < EVENING_SPLIT else local.date()


# ---------------------------------------------------------------------------------------------
# Checks


def _require_staff(actor: User) -> int:
    if actor is None or not actor.is_kommun_staff:
        raise forbidden("Bara kommunens handläggare kan planera tillsyner.")
    return actor.organisation_id


def _venue_of_kommun(venue: Venue | int | None, kommun_id: int) -> Venue:
    if not isinstance(venue, Venue):
        try:
            venue = db.session.get(Venue, int(venue)) if venue is not None else None
        except (TypeError, ValueError):
            venue = None
    if venue is None or venue.kommun_id != kommun_id:
        raise not_found()
    return venue


def _check_times(start: Any, end: Any, errors: dict[str, list[str]], prefix: str = "") -> None:
    for name, value in (("planned_start", start), ("planned_end", end)):
        if not isinstance(value, datetime):
            errors.setdefault(prefix + name, []).append("Ange en tidpunkt.")
        elif value.tzinfo is None or value.utcoffset() is None:
            errors.setdefault(prefix + name, []).append("Tidpunkten måste ha en tidszon.")
    if prefix + "planned_start" in errors or prefix + "planned_end" in errors:
        return
    if end <= start:
        errors.setdefault(prefix + "planned_end", []).append("Sluttiden måste vara efter starttiden.")
    elif end - start > MAX_VISIT_LENGTH:
        errors.setdefault(prefix + "planned_end", []).append("Ett besök kan vara högst 24 timmar.")


def _check_text(value: Any, name: str, max_len: int, errors: dict[str, list[str]], required: bool = False) -> None:
    if value is None or value == "":
        if required:
            errors.setdefault(name, []).append("Obligatoriskt fält.")
        return
    if not isinstance(value, str):
        errors.setdefault(name, []).append("Ska vara text.")
        return
    if required and not value.strip():
        errors.setdefault(name, []).append("Obligatoriskt fält.")
        return
    if message := text_error(value, max_len):
        errors.setdefault(name, []).append(message)


def _check_others(others: Iterable[Any], errors: dict[str, list[str]]) -> list[dict]:
    result = []
    for i, other in enumerate(others or []):
        if isinstance(other, dict):
            name, org = other.get("name"), other.get("organisation")
        else:
            name, org = getattr(other, "name", None), getattr(other, "organisation", None)
        _check_text(name, f"other_participants.{i}.name", NAME_MAX, errors, required=True)
        _check_text(org, f"other_participants.{i}.organisation", NAME_MAX, errors, required=True)
        result.append({"name": name, "organisation": org})
    return result


def _participant_users(ids: Iterable[Any], kommun_id: int, errors: dict[str, list[str]]) -> list[User]:
    """The users behind participant ids: active kommun staff of this kommun or police officers."""
    unique: list[int] = []
    for raw in ids or []:
        try:
            uid = int(raw)
        except (TypeError, ValueError):
            errors.setdefault("participant_ids", []).append(f"Ogiltigt id: {raw!r}.")
            continue
        if uid not in unique:
            unique.append(uid)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(unique)))} if unique else {}
    result = []
    for uid in unique:
        user = users.get(uid)
        if user is None:
            errors.setdefault("participant_ids", []).append(f"Användare {uid} finns inte.")
        elif not user.active:
            errors.setdefault("participant_ids", []).append(f"{user.name} är inaktiverad och kan inte delta.")
        elif not (
            (user.is_kommun_staff and user.organisation_id == kommun_id)
            or (user.is_police and user.organisation.kind == "polis")
        ):
            errors.setdefault("participant_ids", []).append(
                f"{user.name} kan inte delta: bara kommunens handläggare och poliser kan bjudas in."
            )
        else:
            result.append(user)
    return result


def _new_participant(user: User) -> InspectionParticipant:
    # Kommun staff take part when added; police officers are asked.
    response = "accepted" if user.is_kommun_staff else "invited"
    return InspectionParticipant(
        user=user,
        user_id=user.id,
        organisation=user.organisation,
        organisation_id=user.organisation_id,
        response=response,
        responded_at=utcnow() if response == "accepted" else None,
    )


def _snapshot(inspection: Inspection) -> dict:
    return {
        "venue_id": inspection.venue_id,
        "kind": inspection.kind,
        "status": inspection.status,
        "planned_start": inspection.planned_start,
        "planned_end": inspection.planned_end,
        "diarienummer": inspection.diarienummer,
        "participants": sorted(f"{p.user_id}:{p.response}" for p in inspection.participants),
        "other_participants": [[o.name, o.organisation] for o in inspection.other_participants],
    }


# ---------------------------------------------------------------------------------------------
# Scheduling


def _validate_schedule(
    actor: User,
    venue: Venue | int | None,
    kind: str,
    planned_start: datetime,
    planned_end: datetime,
    participant_ids: Sequence[Any],
    other_participants: Iterable[Any],
    diarienummer: str | None,
) -> tuple[Venue, list[User], list[dict]]:
    kommun_id = _require_staff(actor)
    venue_obj = _venue_of_kommun(venue, kommun_id)
    errors: dict[str, list[str]] = {}
    if kind not in KINDS:
        errors["kind"] = ["Välj en tillsynstyp."]
    _check_times(planned_start, planned_end, errors)
    users = _participant_users(participant_ids, kommun_id, errors)
    others = _check_others(other_participants, errors)
    _check_text(diarienummer, "diarienummer", NAME_MAX, errors)
    if errors:
        raise validation_error(errors)
    return venue_obj, users, others


def _build(
    actor: User, venue: Venue, kind: str, start: datetime, end: datetime, users, others, diarienummer
) -> Inspection:
    inspection = Inspection(
        kommun_id=venue.kommun_id,
        venue=venue,
        venue_id=venue.id,
        kind=kind,
        status="planned",
        planned_start=start.astimezone(UTC),
        planned_end=end.astimezone(UTC),
        diarienummer=diarienummer or None,
        created_by_id=actor.id,
    )
    for user in users:
        inspection.participants.append(_new_participant(user))
    for i, other in enumerate(others):
        inspection.other_participants.append(
            OtherParticipant(name=other["name"], organisation=other["organisation"], position=i)
        )
    return inspection


def schedule_inspection(
    actor: User,
    venue: Venue | int | None,
    kind: str,
    planned_start: datetime,
    planned_end: datetime,
    participant_ids: Sequence[Any] = (),
    other_participants: Iterable[Any] = (),
    diarienummer: str | None = None,
) -> Inspection:
    """Plan one inspection. Kommun staff only (403); a venue outside the own kommun is 404; bad
    times or participants are 422. Kommun participants are accepted, police invited."""
    venue_obj, users, others = _validate_schedule(
        actor, venue, kind, planned_start, planned_end, participant_ids, other_participants, diarienummer
    )
    inspection = _build(actor, venue_obj, kind, planned_start, planned_end, users, others, diarienummer)
    db.session.add(inspection)
    db.session.flush()
    audit.record("inspection.schedule", inspection, user=actor, details=audit.jsonable(_snapshot(inspection)))
    return inspection


@dataclass
class RoundStop:
    venue: Venue | int | None
    planned_start: datetime
    planned_end: datetime


def schedule_round(
    actor: User,
    evening: date,
    title: str,
    kind: str,
    participant_ids: Sequence[Any],
    stops: Sequence[RoundStop | tuple],
    other_participants: Iterable[Any] = (),
    diarienummer: str | None = None,
) -> Round:
    """Plan an evening round: several venues in order, each its own inspection with its position.
    Nothing is saved unless every stop is valid (errors name `stops.N.field`)."""
    kommun_id = _require_staff(actor)
    errors: dict[str, list[str]] = {}
    _check_text(title, "title", NAME_MAX, errors, required=True)
    if not isinstance(evening, date):
        errors["evening"] = ["Ange kvällens datum."]
    if kind not in KINDS:
        errors["kind"] = ["Välj en tillsynstyp."]
    users = _participant_users(participant_ids, kommun_id, errors)
    others = _check_others(other_participants, errors)
    _check_text(diarienummer, "diarienummer", NAME_MAX, errors)
    stops = [s if isinstance(s, RoundStop) else RoundStop(*s) for s in stops]
    if not stops:
        errors["stops"] = ["Lägg till minst ett serveringsställe."]
    venues: list[Venue] = []
    seen: set[int] = set()
    for i, stop in enumerate(stops):
        try:
            venue = _venue_of_kommun(stop.venue, kommun_id)
        except ServiceError:
            errors.setdefault(f"stops.{i}.venue_id", []).append("Serveringsstället finns inte.")
            continue
        if venue.id in seen:
            errors.setdefault(f"stops.{i}.venue_id", []).append("Serveringsstället finns redan i rundan.")
        seen.add(venue.id)
        venues.append(venue)
        _check_times(stop.planned_start, stop.planned_end, errors, prefix=f"stops.{i}.")
    if errors:
        raise validation_error(errors)
    the_round = Round(kommun_id=kommun_id, title=title, evening=evening, created_by_id=actor.id)
    db.session.add(the_round)
    for position, (stop, venue) in enumerate(zip(stops, venues, strict=True), start=1):
        inspection = _build(actor, venue, kind, stop.planned_start, stop.planned_end, users, others, diarienummer)
        inspection.round = the_round
        inspection.round_position = position
        db.session.add(inspection)
    db.session.flush()
    audit.record(
        "round.schedule",
        the_round,
        user=actor,
        details={
            "title": title,
            "evening": evening.isoformat(),
            "inspections": [i.id for i in the_round.inspections],
        },
    )
    for inspection in the_round.inspections:
        audit.record("inspection.schedule", inspection, user=actor, details=audit.jsonable(_snapshot(inspection)))
    return the_round


def _check_changeable(inspection: Inspection) -> None:
    if inspection.status in SIGNED_STATUSES or inspection.first_signed_at is not None:
        raise locked()
    if inspection.status not in OPEN_STATUSES:
        raise conflict("Tillsynen är inställd och kan inte ändras.")


def reschedule(
    actor: User,
    inspection: Inspection,
    *,
    planned_start: Any = UNCHANGED,
    planned_end: Any = UNCHANGED,
    participant_ids: Any = UNCHANGED,
    other_participants: Any = UNCHANGED,
    diarienummer: Any = UNCHANGED,
    venue: Any = UNCHANGED,
) -> bool:
    """Change the schedule fields given (a missing argument means "unchanged"). Kommun staff of the
    inspection's kommun only (403); from the first signature on 409 `locked`; a cancelled one 409
    `conflict`. A new time or venue asks the police participants again (back to `invited`).
    Participants not in `participant_ids` are removed. Returns whether anything changed."""
    if not (actor.is_kommun_staff and actor.organisation_id == inspection.kommun_id):
        raise forbidden("Bara kommunens handläggare kan ändra planeringen.")
    _check_changeable(inspection)
    kommun_id = inspection.kommun_id
    errors: dict[str, list[str]] = {}
    new_venue = inspection.venue
    if venue is not UNCHANGED:
        try:
            new_venue = _venue_of_kommun(venue, kommun_id)
        except ServiceError:
            errors["venue_id"] = ["Serveringsstället finns inte."]
    start = inspection.planned_start if planned_start is UNCHANGED else planned_start
    end = inspection.planned_end if planned_end is UNCHANGED else planned_end
    if planned_start is not UNCHANGED or planned_end is not UNCHANGED:
        _check_times(start, end, errors)
    users = None
    if participant_ids is not UNCHANGED:
        if participant_ids is None:
            participant_ids = []
        known = {p.user_id for p in inspection.participants}
        # People already taking part stay even if they have since left the kommun; new ones are checked.
        wanted_ids = []
        for raw in participant_ids:
            try:
                wanted_ids.append(int(raw))
            except (TypeError, ValueError):
                errors.setdefault("participant_ids", []).append(f"Ogiltigt id: {raw!r}.")
        new_users = _participant_users([u for u in wanted_ids if u not in known], kommun_id, errors)
        users = (wanted_ids, {u.id: u for u in new_users})
    others = None
    if other_participants is not UNCHANGED:
        others = _check_others(other_participants or [], errors)
    if diarienummer is not UNCHANGED:
        _check_text(diarienummer, "diarienummer", NAME_MAX, errors)
    if errors:
        raise validation_error(errors)

    before = _snapshot(inspection)
    time_moved = (start.astimezone(UTC) != inspection.planned_start) or (end.astimezone(UTC) != inspection.planned_end)
    venue_moved = new_venue.id != inspection.venue_id
    if time_moved:
        inspection.planned_start = start.astimezone(UTC)
        inspection.planned_end = end.astimezone(UTC)
    if venue_moved:
        inspection.venue = new_venue
        inspection.venue_id = new_venue.id
    if diarienummer is not UNCHANGED and (diarienummer or None) != inspection.diarienummer:
        inspection.diarienummer = diarienummer or None
    if users is not None:
        wanted_ids, new_users = users
        for p in list(inspection.participants):
            if p.user_id not in wanted_ids:
                inspection.participants.remove(p)
        present = {p.user_id for p in inspection.participants}
        for uid in wanted_ids:
            if uid not in present and uid in new_users:
                inspection.participants.append(_new_participant(new_users[uid]))
                present.add(uid)
    if others is not None:
        current = [[o.name, o.organisation] for o in inspection.other_participants]
        if current != [[o["name"], o["organisation"]] for o in others]:
            inspection.other_participants.clear()
            for i, other in enumerate(others):
                inspection.other_participants.append(
                    OtherParticipant(name=other["name"], organisation=other["organisation"], position=i)
                )
    if time_moved or venue_moved:
        # The police answered for another time or place: ask them again.
        for p in inspection.participants:
            if p.organisation.kind == "polis" and p.response != "invited":
                p.response = "invited"
                p.responded_at = None
                p.comment = None
                p.invited_at = utcnow()
    after = _snapshot(inspection)
    changes = audit.diff(before, after)
    if not changes:
        return False
    inspection.updated_at = utcnow()  # the row updates, so the version grows
    db.session.flush()
    audit.record("inspection.reschedule", inspection, user=actor, details=changes)
    return True


def check_can_respond(actor: User, inspection: Inspection) -> InspectionParticipant:
    """The actor's participation, or 403 (not a participant) / 409 (signed: `locked`; cancelled)."""
    participant = next((p for p in inspection.participants if p.user_id == actor.id), None)
    if participant is None:
        raise forbidden("Du är inte inbjuden till denna tillsyn.")
    if inspection.status in SIGNED_STATUSES or inspection.first_signed_at is not None:
        raise locked()
    if inspection.status not in OPEN_STATUSES:
        raise conflict("Tillsynen är inställd.")
    return participant


def check_cancellable(actor: User, inspection: Inspection) -> None:
    """403 unless kommun staff of the inspection's kommun; 409 unless planned or in progress."""
    if not (actor.is_kommun_staff and actor.organisation_id == inspection.kommun_id):
        raise forbidden("Bara kommunens handläggare kan ställa in en tillsyn.")
    if inspection.status in SIGNED_STATUSES or inspection.first_signed_at is not None:
        raise locked("Protokollet har signerats; tillsynen kan inte ställas in.")
    if inspection.status not in OPEN_STATUSES:
        raise conflict("Tillsynen är redan inställd.")


def respond(actor: User, inspection: Inspection, response: str, comment: str | None = None) -> InspectionParticipant:
    """An invited participant accepts or declines (with an optional comment). Someone who is not a
    participant gets 403 (the view has already answered 404 to those who cannot see it)."""
    errors: dict[str, list[str]] = {}
    if response not in ("accepted", "declined"):
        errors["response"] = ["Svara accepted eller declined."]
    _check_text(comment, "comment", TEXT_MAX, errors)
    participant = check_can_respond(actor, inspection)
    if errors:
        raise validation_error(errors)
    before = {"response": participant.response, "comment": participant.comment}
    if before == {"response": response, "comment": comment or None}:
        return participant
    participant.response = response
    participant.comment = comment or None
    participant.responded_at = utcnow()
    inspection.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "inspection.respond",
        inspection,
        user=actor,
        details={"user_id": actor.id, **audit.diff(before, {"response": response, "comment": comment or None})},
    )
    return participant


def respond_round(actor: User, the_round: Round, response: str, comment: str | None = None) -> list[Inspection]:
    """Answer every open stop of a round the actor takes part in, in one go (403 when none)."""
    stops = [
        i
        for i in the_round.inspections
        if i.status in OPEN_STATUSES
        and i.first_signed_at is None
        and any(p.user_id == actor.id for p in i.participants)
    ]
    if not stops:
        raise forbidden("Du har inget att svara på i denna runda.")
    for inspection in stops:
        respond(actor, inspection, response, comment)
    return stops


def cancel(actor: User, inspection: Inspection, reason: str | None) -> Inspection:
    """Cancel a planned or ongoing inspection with a reason (kommun staff of its kommun)."""
    check_cancellable(actor, inspection)
    errors: dict[str, list[str]] = {}
    _check_text(reason, "reason", TEXT_MAX, errors, required=True)
    if errors:
        raise validation_error(errors)
    before = inspection.status
    inspection.status = "cancelled"
    inspection.cancel_reason = reason
    inspection.cancelled_at = utcnow()
    db.session.flush()
    audit.record(
        "inspection.cancel", inspection, user=actor, details={"status": [before, "cancelled"], "reason": reason}
    )
    return inspection


# ---------------------------------------------------------------------------------------------
# Warnings (never block)


def serving_windows(hours: str | None, around: datetime) -> list[tuple[datetime, datetime]]:
    """The serving periods (UTC) that could touch `around`: the one starting the day before and the
    one starting that day (the end may be past midnight). Empty when the hours are unknown."""
    parsed = parse_serving_hours(hours) if hours else None
    if parsed is None:
        return []
    start_min, end_min = parsed
    local_day = around.astimezone(STOCKHOLM).date()
    windows = []
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        open_at = _local(day, time(start_min // 60, start_min % 60))
        if end_min == 24 * 60:
            close_at = _local(day + timedelta(days=1), time(0))
        else:
            end_day = day if end_min > start_min else day + timedelta(days=1)
            close_at = _local(end_day, time(end_min // 60, end_min % 60))
        windows.append((open_at, close_at))
    return windows


def outside_serving_hours(venue: Venue, start: datetime, end: datetime) -> bool:
    """Whether a visit from `start` to `end` lies (partly) outside the venue's serving hours."""
    windows = serving_windows(venue.serving_hours, start)
    if not windows:
        return False
    parsed = parse_serving_hours(venue.serving_hours)
    if parsed and parsed[0] == parsed[1]:
        return False  # serving round the clock
    return not any(open_at <= start and end <= close_at for open_at, close_at in windows)


@cache
def _busy_statement():
    """The participants' other visits overlapping one (for warnings), built once with bound values.
    No visit is longer than MAX_VISIT_LENGTH, so an overlapping one starts within a day before this
    one: a range on planned_start drives the query (about 70 inspections nationally) instead of the
    participants' whole history (3,700 for a busy inspector). Plain columns, not Inspection objects."""
    window = aliased(Inspection)
    return (
        select(
            InspectionParticipant.user_id,
            Inspection.kommun_id,
            Inspection.planned_start,
            Inspection.planned_end,
            Venue.name.label("venue_name"),
        )
        .join(Inspection, Inspection.id == InspectionParticipant.inspection_id)
        .join(Venue, Venue.id == Inspection.venue_id)
        .where(
            InspectionParticipant.user_id.in_(bindparam("users", expanding=True)),
            InspectionParticipant.response != "declined",
            Inspection.status != "cancelled",
            Inspection.id != bindparam("inspection_id"),
            Inspection.planned_start < bindparam("end"),
            Inspection.planned_end > bindparam("start"),
            Inspection.id.in_(
                select(window.id).where(
                    window.planned_start > bindparam("window_start"), window.planned_start < bindparam("end")
                )
            ),
        )
        .order_by(Inspection.planned_start, Inspection.id)
    )


def warnings(inspection: Inspection) -> list[dict]:
    """Conflicts worth knowing, never blocking: a participant booked elsewhere at an overlapping
    time, a yttre or samordnad visit planned outside the venue's serving hours."""
    if inspection.status == "cancelled":
        return []
    out: list[dict] = []
    takers = {p.user_id: p.user for p in inspection.participants if p.response != "declined"}
    if takers:
        other = db.session.execute(
            _busy_statement(),
            {
                "users": list(takers),
                "inspection_id": inspection.id or 0,  # not saved yet: no row is this one
                "start": inspection.planned_start,
                "end": inspection.planned_end,
                "window_start": inspection.planned_start - MAX_VISIT_LENGTH,
            },
        ).all()
        for busy in other:
            user_id = busy.user_id
            # Another kommun's venue is not revealed.
            where = busy.venue_name if busy.kommun_id == inspection.kommun_id else "en annan kommuns tillsyn"
            day = fmt_date(busy.planned_start.astimezone(STOCKHOLM))
            span = f"{fmt_time(busy.planned_start)}–{fmt_time(busy.planned_end)}"
            out.append(
                {
                    "code": "participant_busy",
                    "message": f"{takers[user_id].name} är redan bokad {day} {span} ({where}).",
                }
            )
    if inspection.kind in ON_SITE_SERVING_KINDS and outside_serving_hours(
        inspection.venue, inspection.planned_start, inspection.planned_end
    ):
        out.append(
            {
                "code": "outside_serving_hours",
                "message": f"Den planerade tiden {fmt_time(inspection.planned_start)}–"
                f"{fmt_time(inspection.planned_end)} ligger utanför serveringstiden "
                f"{inspection.venue.serving_hours}.",
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# The tillsynsplan and the due list

DEFAULT_PLAN = {"visits_class_1": 1, "visits_class_2": 2, "visits_class_3": 4, "joint_rounds": 12}


def plan_for(kommun_id: int, year: int) -> InspectionPlan:
    """The kommun's plan for the year, or an unsaved one with the defaults."""
    plan = db.session.scalar(
        select(InspectionPlan).where(InspectionPlan.kommun_id == kommun_id, InspectionPlan.year == year)
    )
    return plan or InspectionPlan(kommun_id=kommun_id, year=year, **DEFAULT_PLAN)


def visits_per_year(plan: InspectionPlan, risk_class: int) -> int:
    return {1: plan.visits_class_1, 2: plan.visits_class_2, 3: plan.visits_class_3}.get(risk_class, 0) or 0


def save_plan(actor: User, year: int, values: dict[str, Any]) -> InspectionPlan:
    """Managers set the kommun's yearly plan: visits per risk class and joint rounds."""
    if not actor.is_kommun_staff:
        raise forbidden()
    if actor.role != "manager":
        raise forbidden("Bara enhetschefen kan ändra tillsynsplanen.")
    errors: dict[str, list[str]] = {}
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = ["Ange ett år 2000–2100."]
    clean = {}
    for key, high in (("visits_class_1", 52), ("visits_class_2", 52), ("visits_class_3", 52), ("joint_rounds", 365)):
        value = values.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
            errors[key] = [f"Ange ett heltal 0–{high}."]
        else:
            clean[key] = value
    if errors:
        raise validation_error(errors)
    plan = db.session.scalar(
        select(InspectionPlan).where(InspectionPlan.kommun_id == actor.organisation_id, InspectionPlan.year == year)
    )
    before = {k: getattr(plan, k) for k in clean} if plan else {}
    if plan is None:
        plan = InspectionPlan(kommun_id=actor.organisation_id, year=year, **DEFAULT_PLAN)
        db.session.add(plan)
    for key, value in clean.items():
        setattr(plan, key, value)
    db.session.flush()
    audit.record("plan.update", plan, user=actor, details={"year": year, **audit.diff(before, clean)})
    return plan


@dataclass
class DueVenue:
    venue: Venue
    visits_wanted: int
    done_this_year: int
    last_visit: date | None
    next_due: date
    next_planned: datetime | None
    days_overdue: int = field(default=0)

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


def _as_utc(moment: datetime) -> datetime:
    """An aggregate (max) of a UTC column comes back naive on some databases."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def due_list(kommun_id: int, today: date | None = None, horizon_days: int = DUE_SOON_DAYS) -> list[DueVenue]:
    """Active venues of the kommun that are overdue or due within `horizon_days` under this year's
    plan, most urgent first. A venue wanted n times a year is due 365/n days after its last visit
    (never visited: due now); a venue with a visit already planned ahead is not listed."""
    today = today or local_today()
    plan = plan_for(kommun_id, today.year)
    venues = db.session.scalars(
        select(Venue).where(Venue.kommun_id == kommun_id, Venue.active.is_(True)).order_by(Venue.name)
    ).all()
    if not venues:
        return []
    year_start = _local(date(today.year, 1, 1), time(0))
    now = utcnow()
    # Per venue in SQL (a kommun has tens of thousands of visits over the years): the last visit up
    # to today and the number of visits this year, by the visit's time (arrival, else planned start).
    visit_at = func.coalesce(Inspection.arrived_at, Inspection.planned_start)
    visited = db.session.execute(
        select(Inspection.venue_id, func.max(visit_at), func.sum(case((visit_at >= year_start, 1), else_=0)))
        .where(
            Inspection.kommun_id == kommun_id,
            Inspection.kind.in_(PLAN_VISIT_KINDS),
            Inspection.status.in_(SIGNED_STATUSES),
            visit_at < _local(today + timedelta(days=1), time(0)),
        )
        .group_by(Inspection.venue_id)
    ).all()
    last: dict[int, date] = {}
    done: dict[int, int] = {}
    for venue_id, latest, this_year in visited:
        last[venue_id] = _as_utc(latest).astimezone(STOCKHOLM).date()
        if this_year:
            done[venue_id] = int(this_year)
    planned = dict(
        db.session.execute(
            select(Inspection.venue_id, func.min(Inspection.planned_start))
            .where(
                Inspection.kommun_id == kommun_id,
                Inspection.status.in_(OPEN_STATUSES),
                Inspection.kind.in_(PLAN_VISIT_KINDS),
                Inspection.planned_end >= now,
            )
            .group_by(Inspection.venue_id)
        ).all()
    )
    result = []
    for venue in venues:
        wanted = visits_per_year(plan, venue.risk_class)
        if wanted <= 0:
            continue
        interval = timedelta(days=round(365 / wanted))
        last_visit = last.get(venue.id)
        next_due = last_visit + interval if last_visit else today
        next_planned = planned.get(venue.id)
        if next_planned is not None and next_planned.tzinfo is None:
            next_planned = next_planned.replace(tzinfo=UTC)
        if next_planned is not None:
            continue
        if next_due > today + timedelta(days=horizon_days):
            continue
        result.append(
            DueVenue(
                venue=venue,
                visits_wanted=wanted,
                done_this_year=done.get(venue.id, 0),
                last_visit=last_visit,
                next_due=next_due,
                next_planned=next_planned,
                days_overdue=(today - next_due).days,
            )
        )
    # Most overdue first; never-visited venues first among equals, higher risk first.
    result.sort(key=lambda d: (d.next_due, d.last_visit is not None, -d.venue.risk_class, d.venue.name))
    return result


def plan_outcome(kommun_id: int, year: int, today: date | None = None) -> dict:
    """The year's plan against what was done: per risk class venues, visits wanted and made; joint
    rounds planned and held."""
    today = today or local_today()
    plan = plan_for(kommun_id, year)
    start = _local(date(year, 1, 1), time(0))
    end = _local(date(year + 1, 1, 1), time(0))
    counts = dict(
        db.session.execute(
            select(Venue.risk_class, func.count())
            .where(Venue.kommun_id == kommun_id, Venue.active.is_(True))
            .group_by(Venue.risk_class)
        ).all()
    )
    visit_at = func.coalesce(Inspection.arrived_at, Inspection.planned_start)
    done = dict(
        db.session.execute(
            select(Venue.risk_class, func.count())
            .select_from(Inspection)
            .join(Venue, Venue.id == Inspection.venue_id)
            .where(
                Inspection.kommun_id == kommun_id,
                Inspection.kind.in_(PLAN_VISIT_KINDS),
                Inspection.status.in_(SIGNED_STATUSES),
                Inspection.planned_start >= start - timedelta(days=1),
                Inspection.planned_start < end + timedelta(days=1),
                # the visit's Stockholm date falls in the year
                visit_at >= start,
                visit_at < end,
            )
            .group_by(Venue.risk_class)
        ).all()
    )
    planned_ahead = dict(
        db.session.execute(
            select(Venue.risk_class, func.count())
            .select_from(Inspection)
            .join(Venue, Venue.id == Inspection.venue_id)
            .where(
                Inspection.kommun_id == kommun_id,
                Inspection.kind.in_(PLAN_VISIT_KINDS),
                Inspection.status.in_(OPEN_STATUSES),
                Inspection.planned_start >= start,
                Inspection.planned_start < end,
            )
            .group_by(Venue.risk_class)
        ).all()
    )
    classes = []
    for risk_class in (3, 2, 1):
        per_venue = visits_per_year(plan, risk_class)
        venues = counts.get(risk_class, 0)
        classes.append(
            {
                "risk_class": risk_class,
                "visits_per_venue": per_venue,
                "venues": venues,
                "wanted": per_venue * venues,
                "done": done.get(risk_class, 0),
                "planned": planned_ahead.get(risk_class, 0),
            }
        )
    rounds = db.session.scalars(
        select(Round)
        .where(Round.kommun_id == kommun_id, Round.evening >= date(year, 1, 1), Round.evening <= date(year, 12, 31))
        .options(selectinload(Round.inspections))
    ).all()
    held = planned_rounds = 0
    for r in rounds:
        live = [i for i in r.inspections if i.status != "cancelled"]
        if not live:
            continue
        if r.evening <= today and any(i.status in SIGNED_STATUSES for i in live):
            held += 1
        elif r.evening >= today:
            planned_rounds += 1
    return {
        "year": year,
        "plan": plan,
        "classes": classes,
        "joint_rounds": {"wanted": plan.joint_rounds, "held": held, "planned": planned_rounds},
    }


def upcoming_for(user: User, start: datetime, end: datetime) -> list[Inspection]:
    """Inspections a user takes part in (declined included) between two instants, in time order."""
    return list(
        db.session.scalars(
            select(Inspection)
            .join(InspectionParticipant, InspectionParticipant.inspection_id == Inspection.id)
            .where(
                and_(
                    InspectionParticipant.user_id == user.id,
                    Inspection.planned_end >= start,
                    Inspection.planned_start < end,
                )
            )
            .order_by(Inspection.planned_start)
        ).unique()
    )
