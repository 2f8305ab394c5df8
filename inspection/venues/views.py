"""Pages of the venue registry: list, card, create/edit, close/reopen, history and CSV import."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import distinct, func, or_, select
from werkzeug.exceptions import RequestEntityTooLarge

from ..api.core import page_and_total
from ..errors import ServiceError, forbidden
from ..extensions import db
from ..forms import EmptyForm, apply_errors
from ..policy import get_or_404, inspection_filter, venue_filter
from ..types import utcnow
from . import csv_import, services
from .api import search_venues
from .forms import SERVER_LINE_HINT, ImportConfirmForm, ImportUploadForm, VenueForm, format_servers
from .history import EVENT_TYPES, FIELD_LABELS, chart, level_chart, venue_history
from .models import Venue

bp = Blueprint("venues", __name__, url_prefix="/serveringsstallen")
PER_PAGE = 50
#: what the venue list shows of each venue
LIST_COLUMNS = (Venue.id, Venue.name, Venue.address, Venue.area, Venue.permit_holder, Venue.risk_class, Venue.active)
#: the history page shows this many newest events unless asked for all (a tablet gets a light page)
HISTORY_PAGE = 200


def _require_staff() -> None:
    if not current_user.is_kommun_staff:
        raise forbidden()


def _int_arg(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and low <= value <= high else None


@bp.get("/")
def index():
    from ..inspections.models import Inspection

    q = request.args.get("q", "")[:200]
    area = request.args.get("area", "")[:200]
    risk_class = _int_arg("risk_class", 1, 3)
    months = _int_arg("months", 1, 240)
    status = request.args.get("status", "active")
    page = _int_arg("page", 1, 10**6) or 1
    staff = current_user.is_kommun_staff

    # Correlated per listed venue (ix_inspection_venue_start), not grouped over every inspection.
    last_visit = (
        select(func.max(Inspection.planned_start))
        .where(
            Inspection.venue_id == Venue.id,
            Inspection.status.in_(("in_progress", "awaiting_signatures", "signed")),
            Inspection.planned_start <= utcnow(),
        )
        .correlate(Venue)
        .scalar_subquery()
    )
    # Plain rows of the columns the table shows: no Venue objects (and no joined kommun) for 50 rows.
    stmt = search_venues(current_user, q.strip() or None, area or None, risk_class, columns=LIST_COLUMNS)
    if status == "active":
        stmt = stmt.where(Venue.active.is_(True))
    elif status == "closed":
        stmt = stmt.where(Venue.active.is_(False))
    if months:
        cutoff = utcnow() - timedelta(days=round(months * 30.44))
        stmt = stmt.where(or_(last_visit.is_(None), last_visit < cutoff))
    rows, total = page_and_total(stmt.add_columns(last_visit.label("last_visit")), page, PER_PAGE)
    areas = db.session.scalars(
        select(distinct(Venue.area)).where(venue_filter(current_user), Venue.area.is_not(None)).order_by(Venue.area)
    ).all()
    args = {
        k: v
        for k, v in {"q": q, "area": area, "risk_class": risk_class, "months": months, "status": status}.items()
        if v
    }
    return render_template(
        "venues/list.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        args=args,
        q=q,
        area=area,
        areas=areas,
        risk_class=risk_class,
        months=months,
        status=status,
        staff=staff,
    )


@bp.get("/<int:venue_id>")
def card(venue_id: int):
    from ..inspections.models import CHECKLIST_ITEMS, Inspection

    venue = get_or_404(Venue, venue_id)
    last = db.session.scalars(
        select(Inspection)
        .where(
            Inspection.venue_id == venue.id,
            inspection_filter(current_user),
            Inspection.status.in_(("in_progress", "awaiting_signatures", "signed")),
        )
        .order_by(Inspection.planned_start.desc())
        .limit(1)
    ).first()
    remarks = []
    if last is not None:
        remarks = [
            (CHECKLIST_ITEMS.get(code, code), (item or {}).get("note"))
            for code, item in (last.checklist or {}).items()
            if isinstance(item, dict) and item.get("status") == "anmarkning"
        ]
    staff = current_user.is_kommun_staff
    computed = services.computed_risk_class(venue) if staff and venue.risk_class_override else None
    return render_template(
        "venues/card.html", venue=venue, last=last, remarks=remarks, staff=staff, computed=computed, form=EmptyForm()
    )


def _save(form: VenueForm, venue: Venue | None):
    """Validate and save; None when saved, else the status to render the form with."""
    if not form.validate_on_submit():
        return 422
    try:
        if venue is None:
            venue = services.create_venue(form.to_data(), kommun_id=current_user.organisation_id, actor=current_user)
        else:
            services.update_venue(venue, form.to_data(), actor=current_user)
    except ServiceError as err:
        if err.code != "validation":
            raise
        apply_errors(form, form.server_errors(err.fields or {}), err.message)
        return 422
    return venue


@bp.route("/ny", methods=["GET", "POST"])
def create():
    _require_staff()
    form = VenueForm()
    status = 200
    if request.method == "POST":
        result = _save(form, None)
        if isinstance(result, Venue):
            flash("Serveringsstället är registrerat.", "info")
            return redirect(url_for("venues.card", venue_id=result.id))
        status = result
    return render_template("venues/form.html", form=form, venue=None, server_hint=SERVER_LINE_HINT), status


@bp.route("/<int:venue_id>/andra", methods=["GET", "POST"])
def edit(venue_id: int):
    venue = get_or_404(Venue, venue_id, need="edit")
    form = VenueForm(obj=None if request.method == "POST" else venue)
    status = 200
    if request.method == "GET":
        form.permit_number.data = venue.permit_number
        form.permit_scope.data = venue.permit_scope
        form.permit_kind.data = venue.permit_kind
        form.responsible_servers.data = format_servers(venue.responsible_servers)
        form.risk_class.data = str(venue.risk_class) if venue.risk_class_override else ""
        if not venue.risk_class_override:
            form.risk_class_reason.data = ""  # the computed reason is not a reason for an override
    else:
        result = _save(form, venue)
        if isinstance(result, Venue):
            flash("Ändringarna är sparade.", "info")
            return redirect(url_for("venues.card", venue_id=venue.id))
        status = result
    return render_template("venues/form.html", form=form, venue=venue, server_hint=SERVER_LINE_HINT), status


@bp.post("/<int:venue_id>/stang")
def close(venue_id: int):
    venue = get_or_404(Venue, venue_id, need="edit")
    services.close_venue(venue, actor=current_user)
    flash("Serveringsstället är markerat som stängt.", "info")
    return redirect(url_for("venues.card", venue_id=venue.id))


@bp.post("/<int:venue_id>/oppna")
def reopen(venue_id: int):
    venue = get_or_404(Venue, venue_id, need="edit")
    services.reopen_venue(venue, actor=current_user)
    flash("Serveringsstället är öppet igen.", "info")
    return redirect(url_for("venues.card", venue_id=venue.id))


@bp.get("/<int:venue_id>/historik")
def history(venue_id: int):
    venue = get_or_404(Venue, venue_id, need="history")
    year = _int_arg("year", 1900, 2200)
    kind = request.args.get("type") if request.args.get("type") in EVENT_TYPES else None
    data = venue_history(venue, year=year, type=kind)
    show_all = request.args.get("alla") == "1"
    return render_template(
        "venues/history.html",
        venue=venue,
        events=data["events"] if show_all else data["events"][:HISTORY_PAGE],
        total=len(data["events"]),
        show_all=show_all,
        per_year=data["per_year"],
        years=data["years"],
        year=year,
        kind=kind,
        event_types=EVENT_TYPES,
        field_labels=FIELD_LABELS,
        remarks_chart=chart(data["per_year"], "remarks"),
        levels_chart=level_chart(data["per_year"]),
    )


@bp.route("/import", methods=["GET", "POST"])
def import_csv():
    _require_staff()
    upload, confirm = ImportUploadForm(), ImportConfirmForm()
    report, content, status = None, "", 200
    if request.method == "POST":
        try:
            step = request.form.get("step", "check")
            raw = _posted_file(step)
            if step == "apply":
                report = csv_import.apply(raw, current_user.organisation_id, actor=current_user)
                flash(
                    f"Importen är klar: {report.count('create')} nya, {report.count('update')} ändrade, "
                    f"{report.count('unchanged')} oförändrade.",
                    "info",
                )
                return redirect(url_for("venues.index"))
            report = csv_import.check(raw, current_user.organisation_id)
            content = base64.b64encode(raw).decode("ascii")
            status = 200 if report.ok else 422
        except RequestEntityTooLarge:
            upload.form_errors.append(csv_import.TOO_LARGE)
            status = 413
        except ServiceError as err:
            if err.code not in ("validation", "too_large"):
                raise
            upload.form_errors.append(err.message)
            status = err.status
    return render_template("venues/import.html", upload=upload, confirm=confirm, report=report, content=content), status


def _posted_file(step: str) -> bytes:
    """The uploaded file (step "check") or the checked file sent back (step "apply")."""
    if step == "apply":
        try:
            raw = base64.b64decode(request.form.get("content", ""), validate=True)
        except (binascii.Error, ValueError):
            raise ServiceError("validation", "Filen kom inte med. Ladda upp den igen.") from None
        if not raw:
            raise ServiceError("validation", "Filen kom inte med. Ladda upp den igen.")
        return raw
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ServiceError("validation", "Välj en CSV-fil att ladda upp.")
    try:
        raw = file.stream.read(csv_import.MAX_BYTES + 1)
    finally:
        file.close()  # a large upload is spooled to a temporary file
    if len(raw) > csv_import.MAX_BYTES:
        raise ServiceError("too_large", csv_import.TOO_LARGE)
    return raw
