"""The main blueprint (start page, health check, verification, app manifest and service worker),
template helpers, and the error pages."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from . import types
from .errors import ServiceError
from .extensions import db
from .forms import EmptyForm

bp = Blueprint("main", __name__)


@cache
def _start_page_statements() -> dict:
    """The start page's lists, built once with the user and the times as bound parameters (building
    them and their cache keys on every request cost more than running them).

    Every list is of inspections the user takes part in, and a participant may always see the
    inspection (policy.inspection_filter), so the lists are driven by a correlated EXISTS on the
    participation and by the indexed time window; the kommun-wide OR of inspection_filter made the
    planners walk a big kommun's whole history (48 ms at Stockholm's size on SQLite). Each list loads
    only what its section shows: who takes part for tonight and the invitations, the round for the
    invitations, nothing more for the rows of upcoming and to-sign."""
    from .inspections.models import Inspection, InspectionParticipant, Signature

    me = bindparam("me")
    who = (selectinload(Inspection.participants), selectinload(Inspection.other_participants))
    taking_part = (
        select(InspectionParticipant.id)
        .where(
            InspectionParticipant.inspection_id == Inspection.id,
            InspectionParticipant.user_id == me,
            InspectionParticipant.response != "declined",
        )
        .exists()
    )
    signed_by_me = (
        select(Signature.id)
        .where(
            Signature.inspection_id == Inspection.id,
            Signature.user_id == me,
            Signature.amendment_id.is_(None),
            Signature.voided_at.is_(None),
        )
        .exists()
    )
    mine = select(Inspection).where(taking_part).order_by(Inspection.planned_start, Inspection.id)
    return {
        "tonight": mine.where(
            Inspection.planned_start < bindparam("tonight_end"),
            Inspection.planned_start >= bindparam("window_start"),
            Inspection.planned_end > bindparam("tonight_start"),
        )
        .options(*who)
        .limit(30),
        "upcoming": mine.where(
            Inspection.planned_start >= bindparam("tonight_end"),
            Inspection.planned_start <= bindparam("horizon"),
            Inspection.status.in_(("planned", "in_progress")),
        ).limit(30),
        "invitations": select(Inspection)
        .where(
            Inspection.id.in_(
                select(InspectionParticipant.inspection_id).where(
                    InspectionParticipant.user_id == me, InspectionParticipant.response == "invited"
                )
            ),
            Inspection.status.in_(("planned", "in_progress")),
            Inspection.planned_end >= bindparam("now"),
        )
        .options(*who, selectinload(Inspection.round))
        .order_by(Inspection.planned_start, Inspection.id)
        .limit(30),
        "to_sign": mine.where(Inspection.status == "awaiting_signatures", ~signed_by_me).limit(100),
    }


@bp.get("/")
def index():
    """Start page: tonight's round first, then what waits for the user (invitations, signatures, overdue)."""
    if current_user.is_admin:
        return redirect(url_for("admin.users"))
    from .inspections.scheduling import MAX_VISIT_LENGTH

    now = types.utcnow()
    # "Tonight" is an evening that runs past midnight: the working day from 06:00 to 06:00, so the
    # inspector at 00:30 still sees the round that started at 21:00.
    evening_day = (now - timedelta(hours=6)).astimezone(types.STOCKHOLM).date()
    day_start, day_end = types.local_day_bounds(evening_day)
    tonight_start, tonight_end = day_start + timedelta(hours=6), day_end + timedelta(hours=6)
    params = {
        "me": current_user.id,
        "now": now,
        "tonight_start": tonight_start,
        "tonight_end": tonight_end,
        # no visit is longer than a day: an index range on planned_start finds tonight's
        "window_start": tonight_start - MAX_VISIT_LENGTH,
        "horizon": now + timedelta(days=14),
    }
    statements = _start_page_statements()
    tonight = db.session.scalars(statements["tonight"], params).all()
    upcoming = db.session.scalars(statements["upcoming"], params).all()
    invitations = db.session.scalars(statements["invitations"], params).all()
    to_sign = db.session.scalars(statements["to_sign"], params).all()
    extra_sections = []
    for provider in current_app.extensions.get("start_page_sections", []):
        extra_sections.extend(provider(current_user))
    # A round's stops are answered together (one tap for the whole evening), other invitations one by one.
    invitation_groups, seen_rounds = [], {}
    for i in invitations:
        if i.round_id is None:
            invitation_groups.append({"round": None, "stops": [i]})
        elif i.round_id in seen_rounds:
            seen_rounds[i.round_id]["stops"].append(i)
        else:
            seen_rounds[i.round_id] = {"round": i.round, "stops": [i]}
            invitation_groups.append(seen_rounds[i.round_id])
    return render_template(
        "main/index.html",
        tonight=tonight,
        tonight_day=evening_day,
        upcoming=upcoming,
        invitations=invitations,
        invitation_groups=invitation_groups,
        to_sign=to_sign,
        extra_sections=extra_sections,
        respond_form=EmptyForm(),
    )


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/manifest.webmanifest")
def manifest():
    response = send_from_directory(
        current_app.static_folder, "manifest.webmanifest", mimetype="application/manifest+json"
    )
    return response


@bp.get("/sw.js")
def service_worker():
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/verify/<code>")
def verify(code: str):
    from .inspections.verification import lookup, rate_limited

    retry_after = rate_limited(request.remote_addr)
    if retry_after is not None:
        message = "För många kontroller från din adress. Vänta en minut och försök igen."
        return render_template("errors/error.html", code=429, message=message), 429, {"Retry-After": str(retry_after)}
    g.commit_on_error = True  # a look-up of an unknown code (404) still counts towards the limit
    result = lookup(code)
    return render_template("main/verify.html", code=code, result=result), (200 if result else 404)


def register_start_section(app: Flask, provider) -> None:
    """Features add sections to the start page: provider(user) -> [{"title", "items": [{"text", "url"}]}]."""
    app.extensions.setdefault("start_page_sections", []).append(provider)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = types.fmt_date
    app.jinja_env.filters["time"] = types.fmt_time
    app.jinja_env.filters["datetime"] = types.fmt_datetime
    app.jinja_env.filters["localdt"] = types.to_local
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["EmptyForm"] = EmptyForm

    @app.context_processor
    def _labels():
        from .auth.models import ROLE_LABELS
        from .cases.models import CASE_STATUSES, SANCTIONS, STEP_KINDS
        from .inspections.models import (
            CHECKLIST_ITEMS,
            CHECKLIST_STATUSES,
            INTOXICATION_LEVELS,
            KINDS,
            OBSERVATION_CATEGORIES,
            RESPONSES,
            STATUSES,
        )
        from .trainings.models import PARTICIPANT_ROLES, TRAINING_KINDS
        from .venues.models import PERMIT_KINDS, SCOPES

        return {
            "L": {
                "role": ROLE_LABELS,
                "kind": KINDS,
                "status": STATUSES,
                "response": RESPONSES,
                "level": INTOXICATION_LEVELS,
                "category": OBSERVATION_CATEGORIES,
                "checklist": CHECKLIST_ITEMS,
                "check_status": CHECKLIST_STATUSES,
                "case_status": CASE_STATUSES,
                "step": STEP_KINDS,
                "sanction": SANCTIONS,
                "training_kind": TRAINING_KINDS,
                "participant_role": PARTICIPANT_ROLES,
                "scope": SCOPES,
                "permit_kind": PERMIT_KINDS,
            }
        }

    @app.errorhandler(ServiceError)
    def _service_error_page(err: ServiceError):
        if request.path.startswith("/api/"):
            from .api.core import error_response

            return error_response(err)
        return render_template("errors/error.html", code=err.status, message=err.message), err.status

    @app.errorhandler(HTTPException)
    def _http_error_page(exc: HTTPException):
        if request.path.startswith("/api/"):
            from .api.core import _http_error

            return _http_error(exc)
        messages = {
            403: "Du har inte behörighet till detta.",
            404: "Sidan finns inte, eller så har du inte behörighet att se den.",
            405: "Åtgärden stöds inte här.",
            413: "Filen eller formuläret är för stort.",
        }
        code = exc.code or 500
        return render_template("errors/error.html", code=code, message=messages.get(code, exc.description)), code

    @app.errorhandler(DBAPIError)
    def _database_unavailable(exc: DBAPIError):
        # A dropped connection (the database restarting) fails this request cleanly; pool_pre_ping
        # and the pool's invalidation make the next request reconnect by itself.
        db.session.rollback()
        if not exc.connection_invalidated and not isinstance(exc, OperationalError):
            raise exc
        current_app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        if request.path.startswith("/api/"):
            response = jsonify(
                {"error": {"code": "unavailable", "message": "Databasen svarar inte just nu. Försök igen."}}
            )
        else:
            response = render_template(
                "errors/error.html", code=503, message="Databasen svarar inte just nu. Försök igen om en stund."
            )
        return response, 503, {"Retry-After": "5"}

    @app.errorhandler(500)
    def _server_error(exc):
        original = getattr(exc, "original_exception", None)
        if isinstance(original, OperationalError) or (
            isinstance(original, DBAPIError) and original.connection_invalidated
        ):
            return _database_unavailable(original)  # e.g. the commit at the end of the request
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": "server_error", "message": "Internt fel."}}), 500
        return render_template("errors/error.html", code=500, message="Något gick fel. Försök igen."), 500
