"""Scheduling pages: calendar, my inspections, new inspection or round, invitations, cancelling, the
tillsynsplan and the due list. Thin views: parse the form, call one service in scheduling.py, render."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from ..auth.models import KOMMUN_ROLES, Organisation, User
from ..errors import ServiceError, forbidden, not_found
from ..extensions import db
from ..forms import apply_errors
from ..policy import get_or_404, inspection_filter
from ..types import STOCKHOLM, local_day_bounds, local_today, utcnow
from ..venues.models import Venue
from . import scheduling
from .forms import (
    PlanForm,
    RoundForm,
    ScheduleCancelForm,
    ScheduleEditForm,
    ScheduleForm,
    ScheduleResponseForm,
    format_others,
    parse_others,
)
from .models import KINDS, STATUSES, Inspection, InspectionParticipant, Round
from .views import bp

#: visits that start before this hour count to the evening before in the calendar (a night round)
NIGHT_ENDS = time(6, 0)
WEEKDAYS = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"]
MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]


# ---------------------------------------------------------------------------------------------
# Helpers


def _staff_only() -> None:
    if not current_user.is_kommun_staff:
        raise forbidden("Sidan är till för kommunens handläggare.")


def calendar_day(moment: datetime) -> date:
    """The day a visit shows on: night visits (before 06:00) belong to the evening before."""
    local = moment.astimezone(STOCKHOLM)
    return (local - timedelta(days=1)).date() if local.time() < NIGHT_ENDS else local.date()


def _people_choices() -> list[tuple[int, str]]:
    """Who can take part: the own kommun's active staff and active police officers."""
    users = db.session.scalars(
        select(User)
        .join(User.organisation)
        .where(
            User.active.is_(True),
            or_(
                (User.organisation_id == current_user.organisation_id) & User.role.in_(KOMMUN_ROLES),
                (Organisation.kind == "polis") & (User.role == "police"),
            ),
        )
        .order_by(Organisation.kind, User.name)
    ).all()
    return [(u.id, f"{u.name} ({u.organisation.name})") for u in users]


def _venue_choices() -> list[tuple[int | str, str]]:
    venues = db.session.scalars(
        select(Venue)
        .where(Venue.kommun_id == current_user.organisation_id, Venue.active.is_(True))
        .order_by(Venue.name)
    ).all()
    return [("", "– välj –")] + [(v.id, f"{v.name}, {v.address}") for v in venues]


def _single_times(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """One visit on a day; an end at or before the start is past midnight."""
    planned_start = datetime.combine(day, start, tzinfo=STOCKHOLM)
    end_day = day + timedelta(days=1) if end <= start else day
    return planned_start, datetime.combine(end_day, end, tzinfo=STOCKHOLM)


def _flash_warnings(inspections) -> None:
    for inspection in inspections:
        for warning in scheduling.warnings(inspection):
            flash(f"Varning – {inspection.venue.name}: {warning['message']}", "warning")


def _apply_time_errors(form, fields: dict | None) -> None:
    fields = dict(fields or {})
    if "planned_end" in fields:
        form.end_time.errors = list(form.end_time.errors) + fields.pop("planned_end")
    if "planned_start" in fields:
        form.start_time.errors = list(form.start_time.errors) + fields.pop("planned_start")
    others = [m for k in list(fields) if k.startswith("other_participants") for m in fields.pop(k)]
    if others:
        form.others.errors = list(form.others.errors) + others
    apply_errors(form, fields)


# ---------------------------------------------------------------------------------------------
# Calendar (kommun) and my inspections (everybody)


@bp.get("/kalender")
def calendar_page():
    """Month or week view of the kommun's inspections, with filters."""
    if not current_user.is_kommun_staff:
        return redirect(url_for("inspections.mine"))
    view = request.args.get("view", "month")
    if view not in ("month", "week"):
        view = "month"
    try:
        anchor = date.fromisoformat(request.args.get("date", "")) if request.args.get("date") else local_today()
    except ValueError:
        anchor = local_today()
    kind = request.args.get("kind") or ""
    status = request.args.get("status") or ""
    area = request.args.get("area") or ""
    participant = request.args.get("participant", type=int)

    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        prev_anchor, next_anchor = first - timedelta(days=7), first + timedelta(days=7)
        title = f"Vecka {first.isocalendar().week}, {first.isoformat()} – {last.isoformat()}"
    else:
        month_first = anchor.replace(day=1)
        month_last = anchor.replace(day=monthrange(anchor.year, anchor.month)[1])
        first = month_first - timedelta(days=month_first.weekday())
        last = month_last + timedelta(days=6 - month_last.weekday())
        prev_anchor = (month_first - timedelta(days=1)).replace(day=1)
        next_anchor = month_last + timedelta(days=1)
        title = f"{MONTHS[anchor.month - 1].capitalize()} {anchor.year}"

    range_start = local_day_bounds(first)[0]
    range_end = local_day_bounds(last + timedelta(days=1))[0] + timedelta(hours=6)
    stmt = (
        select(Inspection)
        .where(
            inspection_filter(current_user),
            Inspection.planned_start >= range_start,
            Inspection.planned_start < range_end,
        )
        .options(selectinload(Inspection.participants), selectinload(Inspection.other_participants))
        .order_by(Inspection.planned_start, Inspection.round_position, Inspection.id)
    )
    if kind in KINDS:
        stmt = stmt.where(Inspection.kind == kind)
    if status in STATUSES:
        stmt = stmt.where(Inspection.status == status)
    if area:
        stmt = stmt.where(Inspection.venue.has(Venue.area == area))
    if participant:
        stmt = stmt.where(Inspection.participants.any(InspectionParticipant.user_id == participant))
    by_day: dict[date, list[Inspection]] = {}
    for inspection in db.session.scalars(stmt).unique():
        day = calendar_day(inspection.planned_start)
        if first <= day <= last:
            by_day.setdefault(day, []).append(inspection)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    areas = db.session.scalars(
        select(Venue.area)
        .where(Venue.kommun_id == current_user.organisation_id, Venue.area.is_not(None))
        .distinct()
        .order_by(Venue.area)
    ).all()
    filters = {"kind": kind, "status": status, "area": area, "participant": participant or ""}
    return render_template(
        "inspections/schedule/calendar.html",
        view=view,
        anchor=anchor,
        title=title,
        weeks=weeks,
        by_day=by_day,
        today=local_today(),
        prev_anchor=prev_anchor,
        next_anchor=next_anchor,
        filters=filters,
        link_filters={k: v for k, v in filters.items() if v},
        areas=areas,
        people=_people_choices(),
        weekdays=WEEKDAYS,
    )


@bp.get("/mina")
def mine():
    """My inspections: upcoming and the last 30 days; invitations answered with one tap."""
    if current_user.is_admin:
        abort(404)
    now = utcnow()
    me = aliased(InspectionParticipant)
    stmt = (
        select(Inspection, me)
        .join(me, me.inspection_id == Inspection.id)
        .where(me.user_id == current_user.id, inspection_filter(current_user))
        .options(selectinload(Inspection.participants), selectinload(Inspection.other_participants))
        .order_by(Inspection.planned_start, Inspection.round_position, Inspection.id)
    )
    upcoming = db.session.execute(stmt.where(Inspection.planned_end >= now)).all()
    recent = db.session.execute(
        stmt.where(Inspection.planned_end < now, Inspection.planned_end >= now - timedelta(days=30))
    ).all()
    return render_template(
        "inspections/schedule/mine.html",
        upcoming=upcoming,
        recent=list(reversed(recent)),
        form=ScheduleResponseForm(),
    )


# ---------------------------------------------------------------------------------------------
# Scheduling one inspection or a round


@bp.route("/ny", methods=["GET", "POST"])
def new():
    _staff_only()
    form = ScheduleForm()
    form.venue_id.choices = _venue_choices()
    form.participant_ids.choices = _people_choices()
    if request.method == "GET":
        form.venue_id.data = request.args.get("venue", type=int)
        form.kind.data = request.args.get("kind") if request.args.get("kind") in KINDS else "yttre"
        form.day.data = local_today()
        form.start_time.data, form.end_time.data = time(21, 0), time(23, 0)
        form.participant_ids.data = [current_user.id]
        return render_template("inspections/schedule/new.html", form=form)
    if form.validate_on_submit():
        start, end = _single_times(form.day.data, form.start_time.data, form.end_time.data)
        try:
            inspection = scheduling.schedule_inspection(
                current_user,
                form.venue_id.data,
                form.kind.data,
                start,
                end,
                form.participant_ids.data or [],
                parse_others(form.others.data),
                form.diarienummer.data or None,
            )
        except ServiceError as err:
            if err.code == "not_found":
                form.venue_id.errors = list(form.venue_id.errors) + ["Serveringsstället finns inte."]
            else:
                _apply_time_errors(form, err.fields)
                if not err.fields:
                    form.form_errors.append(err.message)
        else:
            flash(f"Tillsynen på {inspection.venue.name} är planerad.", "success")
            _flash_warnings([inspection])
            return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return render_template("inspections/schedule/new.html", form=form), 422


@bp.route("/runda/ny", methods=["GET", "POST"])
def round_new():
    """An evening round: several venues in order, each with its own time (past midnight allowed)."""
    _staff_only()
    form = RoundForm()
    venue_choices = _venue_choices()
    for entry in form.stops:
        entry.venue_id.choices = venue_choices
    form.participant_ids.choices = _people_choices()
    if request.method == "GET":
        today = local_today()
        form.evening.data = today
        form.title.data = f"Tillsynsrunda {today.isoformat()}"
        form.participant_ids.data = [current_user.id]
        chosen = [v for v in request.args.getlist("venue", type=int) if v][:15]
        rows = min(max(len(chosen), request.args.get("rader", 8, type=int) or 8), 15)
        while len(form.stops) < rows:
            form.stops.append_entry()
            form.stops[-1].venue_id.choices = venue_choices
        clock = datetime.combine(today, time(21, 0))
        for i, entry in enumerate(form.stops):
            entry.venue_id.data = chosen[i] if i < len(chosen) else None
            if i < max(len(chosen), 1):
                entry.start_time.data = clock.time()
                entry.end_time.data = (clock + timedelta(minutes=40)).time()
            clock += timedelta(minutes=45)
        return render_template("inspections/schedule/round_new.html", form=form)
    if form.validate_on_submit():
        stops, index = [], []
        for i, entry in enumerate(form.stops):
            if not entry.venue_id.data:
                continue
            if entry.start_time.data is None or entry.end_time.data is None:
                entry.start_time.errors = list(entry.start_time.errors) + ["Ange tid för besöket."]
                continue
            start, end = scheduling.stop_times(form.evening.data, entry.start_time.data, entry.end_time.data)
            stops.append(scheduling.RoundStop(entry.venue_id.data, start, end))
            index.append(i)
        if not any(entry.start_time.errors for entry in form.stops):
            try:
                the_round = scheduling.schedule_round(
                    current_user,
                    form.evening.data,
                    form.title.data,
                    form.kind.data,
                    form.participant_ids.data or [],
                    stops,
                    parse_others(form.others.data),
                )
            except ServiceError as err:
                fields = dict(err.fields or {})
                for key in [k for k in fields if k.startswith("stops.")]:
                    parts = key.split(".")
                    messages = fields.pop(key)
                    if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(index):
                        entry = form.stops[index[int(parts[1])]]
                        target = {"venue_id": entry.venue_id, "planned_start": entry.start_time}.get(
                            parts[2], entry.end_time
                        )
                        target.errors = list(target.errors) + messages
                    else:
                        form.form_errors.extend(messages)
                others = [m for k in list(fields) if k.startswith("other_participants") for m in fields.pop(k)]
                if others:
                    form.others.errors = list(form.others.errors) + others
                if "stops" in fields:
                    form.form_errors.extend(fields.pop("stops"))
                apply_errors(form, fields, fallback=None if err.fields else err.message)
            else:
                flash(f"Rundan ”{the_round.title}” med {len(the_round.inspections)} ställen är planerad.", "success")
                _flash_warnings(the_round.inspections)
                return redirect(url_for("inspections.round_page", round_id=the_round.id))
    return render_template("inspections/schedule/round_new.html", form=form), 422


@bp.get("/runda/<int:round_id>")
def round_page(round_id: int):
    the_round = db.session.get(Round, round_id)
    if the_round is None:
        raise not_found()
    stops = [i for i in the_round.inspections if i.id is not None]
    visible = current_user.is_kommun_staff and current_user.organisation_id == the_round.kommun_id
    if not visible:
        stops = [i for i in stops if any(p.user_id == current_user.id for p in i.participants)]
        if not stops:
            raise not_found()
    return render_template(
        "inspections/schedule/round.html",
        round=the_round,
        stops=stops,
        warnings={i.id: scheduling.warnings(i) for i in stops},
        staff=visible,
        form=ScheduleResponseForm(),
    )


@bp.post("/runda/<int:round_id>/svar")
def round_respond(round_id: int):
    """Accept or decline every stop of a round at once."""
    the_round = db.session.get(Round, round_id)
    if the_round is None or not any(
        any(p.user_id == current_user.id for p in i.participants) for i in the_round.inspections
    ):
        raise not_found()
    form = ScheduleResponseForm()
    if not form.validate_on_submit():
        flash("Svaret kunde inte sparas. Försök igen.", "error")
        return redirect(url_for("inspections.round_page", round_id=round_id))
    try:
        stops = scheduling.respond_round(current_user, the_round, form.response.data, form.comment.data or None)
    except ServiceError as err:
        flash(err.message, "error")
        return render_template("errors/error.html", code=err.status, message=err.message), err.status
    word = "accepterat" if form.response.data == "accepted" else "avböjt"
    flash(f"Du har {word} rundan ”{the_round.title}” ({len(stops)} ställen).", "success")
    return redirect(url_for("inspections.round_page", round_id=round_id))


# ---------------------------------------------------------------------------------------------
# One inspection: answer, change, cancel


@bp.route("/<int:inspection_id>/svar", methods=["GET", "POST"])
def respond_page(inspection_id: int):
    """Accept or decline an invitation, with an optional comment."""
    inspection = get_or_404(Inspection, inspection_id)
    participant = next((p for p in inspection.participants if p.user_id == current_user.id), None)
    if participant is None:
        raise forbidden("Du är inte inbjuden till denna tillsyn.")
    form = ScheduleResponseForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                scheduling.respond(current_user, inspection, form.response.data, form.comment.data or None)
            except ServiceError as err:
                apply_errors(form, err.fields, fallback=err.message)
                status = err.status if err.code != "validation" else 422
            else:
                word = "accepterat" if form.response.data == "accepted" else "avböjt"
                flash(f"Du har {word} tillsynen på {inspection.venue.name}.", "success")
                target = request.args.get("next")
                if target == "mina":
                    return redirect(url_for("inspections.mine"))
                return redirect(url_for("inspections.respond_page", inspection_id=inspection.id))
        else:
            status = 422
    elif participant.comment:
        form.comment.data = participant.comment
    return render_template(
        "inspections/schedule/respond.html", inspection=inspection, participant=participant, form=form
    ), status


@bp.route("/<int:inspection_id>/planering", methods=["GET", "POST"])
def edit_schedule(inspection_id: int):
    """Change the time, participants or diarienummer (asks the police again after a new time)."""
    inspection = get_or_404(Inspection, inspection_id, need="schedule")
    form = ScheduleEditForm()
    choices = _people_choices()
    known = {c[0] for c in choices}
    choices += [
        (p.user_id, f"{p.user.name} ({p.organisation.name})") for p in inspection.participants if p.user_id not in known
    ]
    form.participant_ids.choices = choices
    if request.method == "GET":
        local_start = inspection.planned_start.astimezone(STOCKHOLM)
        form.day.data = local_start.date()
        form.start_time.data = local_start.time().replace(second=0, microsecond=0)
        form.end_time.data = inspection.planned_end.astimezone(STOCKHOLM).time().replace(second=0, microsecond=0)
        form.participant_ids.data = [p.user_id for p in inspection.participants]
        form.others.data = format_others(inspection.other_participants)
        form.diarienummer.data = inspection.diarienummer or ""
        return render_template("inspections/schedule/edit.html", form=form, inspection=inspection)
    status = 422
    if form.validate_on_submit():
        start, end = _single_times(form.day.data, form.start_time.data, form.end_time.data)
        try:
            scheduling.reschedule(
                current_user,
                inspection,
                planned_start=start,
                planned_end=end,
                participant_ids=form.participant_ids.data or [],
                other_participants=parse_others(form.others.data),
                diarienummer=form.diarienummer.data or None,
            )
        except ServiceError as err:
            _apply_time_errors(form, err.fields)
            if not err.fields:
                form.form_errors.append(err.message)
                status = err.status
        else:
            flash("Planeringen är ändrad.", "success")
            _flash_warnings([inspection])
            return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return render_template("inspections/schedule/edit.html", form=form, inspection=inspection), status


@bp.route("/<int:inspection_id>/installa", methods=["GET", "POST"])
def cancel_page(inspection_id: int):
    inspection = get_or_404(Inspection, inspection_id, need="cancel")
    form = ScheduleCancelForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                scheduling.cancel(current_user, inspection, form.reason.data)
            except ServiceError as err:
                apply_errors(form, err.fields, fallback=err.message)
                if err.code != "validation":
                    status = err.status
            else:
                flash(f"Tillsynen på {inspection.venue.name} är inställd.", "success")
                return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return render_template("inspections/schedule/cancel.html", form=form, inspection=inspection), status


# ---------------------------------------------------------------------------------------------
# Tillsynsplan and due list


def _year_arg() -> int:
    year = request.args.get("year", type=int) or local_today().year
    return year if 2000 <= year <= 2100 else local_today().year


@bp.route("/plan", methods=["GET", "POST"])
def plan():
    """The kommun's tillsynsplan for a year and the outcome so far; managers change it."""
    _staff_only()
    year = _year_arg()
    current = scheduling.plan_for(current_user.organisation_id, year)
    form = PlanForm(obj=current if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if current_user.role != "manager":
            raise forbidden("Bara enhetschefen kan ändra tillsynsplanen.")
        status = 422
        if form.validate_on_submit():
            try:
                scheduling.save_plan(
                    current_user,
                    year,
                    {
                        name: getattr(form, name).data
                        for name in ("visits_class_1", "visits_class_2", "visits_class_3", "joint_rounds")
                    },
                )
            except ServiceError as err:
                apply_errors(form, err.fields, fallback=err.message)
            else:
                flash(f"Tillsynsplanen för {year} är sparad.", "success")
                return redirect(url_for("inspections.plan", year=year))
    outcome = scheduling.plan_outcome(current_user.organisation_id, year)
    return render_template(
        "inspections/schedule/plan.html",
        year=year,
        outcome=outcome,
        form=form,
        saved=current.id is not None,
        can_edit=current_user.role == "manager",
    ), status


@bp.get("/forfallna")
def due():
    """Venues overdue or due soon under the plan, most urgent first; pick some and plan a round."""
    _staff_only()
    today = local_today()
    items = scheduling.due_list(current_user.organisation_id, today)
    outcome = scheduling.plan_outcome(current_user.organisation_id, today.year, today)
    return render_template(
        "inspections/schedule/due.html", items=items, outcome=outcome, today=today, horizon=scheduling.DUE_SOON_DAYS
    )
