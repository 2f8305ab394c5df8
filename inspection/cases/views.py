"""Pages of cases: list, queue, open a case, the case page with one form per next step, documents,
letters and the letter templates. Kommun staff only: the police never see cases (list 403, a case 404)."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..forms import apply_errors
from ..inspections.models import Inspection
from ..policy import get_or_404, venue_filter
from ..venues.models import Venue
from ..web import register_start_section
from . import letters, services
from .forms import STEP_FORMS, DocumentForm, LetterTemplatesForm, OpenCaseForm
from .models import CASE_STATUSES, Case, CaseDocument

bp = Blueprint("cases", __name__, url_prefix="/arenden")
PER_PAGE = 30


@bp.record_once
def _start_page(state) -> None:
    # "Ärenden som väntar på dig" on the start page (web.register_start_section).
    register_start_section(state.app, services.start_page_sections)


@bp.before_request
def _kommun_staff_only():
    if not current_user.is_authenticated:
        return None  # the app's gate sends the visitor to the login page
    if not current_user.is_kommun_staff:
        # A case is never revealed (404); the case pages as such are refused (403).
        abort(404 if (request.view_args or {}).get("case_id") is not None else 403)
    return None


def link(endpoint: str, fallback: str, **values) -> str:
    """url_for, or a plain path while the other feature's page is not there yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


def _venue_url(venue_id: int) -> str:
    return link("venues.detail", f"/serveringsstallen/{venue_id}", venue_id=venue_id)


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


# ---- list and queue ----------------------------------------------------------------------------


@bp.get("/")
def index():
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    on = services.today()
    stmt = services.case_query(current_user).join(Case.venue)
    if status in CASE_STATUSES:
        stmt = stmt.where(services.status_filter(status, on))
    else:
        status = ""
    if q:
        stmt = stmt.where(func.lower(Venue.name).like(f"%{q.lower()}%"))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = _page()
    rows = db.session.scalars(
        services.with_steps(stmt.order_by(Case.opened_at.desc(), Case.id.desc()))
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    items = [(c, services.current_status(c, on), services.waiting_for(c, on)) for c in rows]
    return render_template(
        "cases/index.html",
        items=items,
        status=status,
        q=q,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )


@bp.get("/ko")
def queue():
    on = services.today()
    return render_template("cases/queue.html", items=services.queue(current_user, on), today=on)


# ---- opening a case ----------------------------------------------------------------------------


@bp.route("/ny", methods=["GET", "POST"])
def new():
    venue_id = request.args.get("venue_id")
    venue = services.visible_venue(current_user, venue_id) if venue_id else None
    if venue is None:
        if venue_id:
            abort(404)
        q = request.args.get("q", "").strip()
        stmt = select(Venue).where(venue_filter(current_user)).order_by(Venue.name).limit(50)
        if q:
            stmt = stmt.where(func.lower(Venue.name).like(f"%{q.lower()}%"))
        return render_template("cases/pick_venue.html", venues=db.session.scalars(stmt).all(), q=q)
    inspections = services.signed_inspections(venue)
    form = OpenCaseForm()
    form.inspection_ids.choices = [
        (i.id, f"{i.planned_start:%Y-%m-%d} {i.kind} (protokoll {i.id})") for i in inspections
    ]
    if request.method == "GET" and request.args.get("inspection_id", type=int):
        form.inspection_ids.data = [request.args.get("inspection_id", type=int)]
    if form.validate_on_submit():
        try:
            case = services.open_case(
                current_user, venue, form.inspection_ids.data or [], form.summary.data, form.diarienummer.data or None
            )
        except ServiceError as err:
            fields = {
                ("inspection_ids" if k.startswith("inspection_ids") else k): v for k, v in (err.fields or {}).items()
            }
            apply_errors(form, fields, err.message)
        else:
            flash("Ärendet är öppnat.", "info")
            return redirect(url_for("cases.detail", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "cases/new.html", form=form, venue=venue, inspections=inspections, venue_url=_venue_url(venue.id)
        ),
        status,
    )


# ---- the case page -----------------------------------------------------------------------------


def _load(case_id: int, need: str = "view") -> Case:
    return get_or_404(Case, case_id, need=need)


def _step_forms(case: Case, allowed: list[str]) -> dict:
    on = services.today()
    forms = {}
    proposal = services.last_step(case, "proposal")
    for kind in allowed:
        form = STEP_FORMS[kind](prefix=kind, formdata=None)
        form.date.data = on
        if kind == "kommunicering":
            form.deadline.data = on + timedelta(days=services.DEFAULT_REPLY_DAYS)
        if kind == "decision" and proposal is not None:
            form.sanction.data = proposal.sanction
        forms[kind] = form
    return forms


def _render_case(case: Case, override: dict | None = None, status: int = 200):
    on = services.today()
    history = services.earlier_decisions({case.venue_id})
    allowed = services.next_steps(case, current_user, on)
    forms = _step_forms(case, allowed)
    forms.update({k: v for k, v in (override or {}).items() if k in STEP_FORMS})
    order = [*services.MAIN_KINDS, "note"]
    forms = {k: forms[k] for k in sorted(forms, key=order.index)}
    earlier = [d for d in history.get(case.venue_id, []) if d[0] != case.id]
    other_cases = db.session.scalars(
        select(Case).where(Case.venue_id == case.venue_id, Case.id != case.id).order_by(Case.opened_at.desc()).limit(20)
    ).all()
    visits = db.session.scalars(
        select(Inspection)
        .where(Inspection.venue_id == case.venue_id, Inspection.status != "cancelled")
        .order_by(Inspection.planned_start.desc())
        .limit(10)
    ).all()
    waits_until = services.decision_waits_until(case)
    return (
        render_template(
            "cases/detail.html",
            case=case,
            status=services.current_status(case, on),
            steps=services.ordered_steps(case.steps),
            notices=services.notices(case, history),
            forms=forms,
            allowed=allowed,
            waits_until=waits_until if waits_until and waits_until > on else None,
            earlier=earlier,
            other_cases=other_cases,
            visits=visits,
            deadline=services.reply_deadline(case),
            waiting=services.waiting_for(case, on),
            doc_form=DocumentForm(formdata=None) if "document" not in (override or {}) else override["document"],
            venue_url=_venue_url(case.venue_id),
            inspection_url=lambda i: link("inspections.detail", f"/tillsyn/{i}", inspection_id=i),
            followup_url=f"/tillsyn/ny?venue_id={case.venue_id}",
            has_decision=services.last_step(case, "decision") is not None,
            has_proposal=services.last_step(case, "proposal") is not None,
            labels={"decided_by": services.DECIDED_BY, "outcome": services.OUTCOMES},
            may_decide=current_user.role == "manager",
        ),
        status,
    )


@bp.get("/<int:case_id>")
def detail(case_id: int):
    case = _load(case_id)
    return _render_case(case)


@bp.post("/<int:case_id>/steg/<kind>")
def add_step(case_id: int, kind: str):
    case = _load(case_id)
    if kind not in STEP_FORMS:
        abort(404)
    form = STEP_FORMS[kind](prefix=kind)
    if form.validate_on_submit():
        fields = {
            name: getattr(form, name).data
            for name in ("sanction", "legal_ground", "deadline", "decided_by", "filed_on", "outcome", "text")
            if hasattr(form, name)
        }
        try:
            services.add_step(current_user, case, kind, form.date.data, **fields)
        except ServiceError as err:
            # Nothing was changed: the service checks every rule before it adds the step.
            apply_errors(form, err.fields, err.message)
            return _render_case(case, {kind: form}, err.status)
        else:
            flash(f"{services.STEP_KINDS[kind]} är registrerat.", "info")
            return redirect(url_for("cases.detail", case_id=case.id) + f"#steg-{kind}")
    return _render_case(case, {kind: form}, 422)


# ---- documents ---------------------------------------------------------------------------------


@bp.post("/<int:case_id>/dokument")
def upload(case_id: int):
    case = _load(case_id, need="edit")
    form = DocumentForm()
    if form.validate_on_submit():
        file = form.file.data
        data = file.read() if file else b""
        try:
            services.attach_document(current_user, case, form.title.data, data)
        except ServiceError as err:
            if err.code == "too_large":
                form.file.errors = [*form.file.errors, err.message]
                return _render_case(case, {"document": form}, 413)
            apply_errors(form, err.fields, err.message)
        else:
            flash("Dokumentet är bifogat.", "info")
            return redirect(url_for("cases.detail", case_id=case.id) + "#dokument")
    return _render_case(case, {"document": form}, 422)


@bp.get("/<int:case_id>/dokument/<int:document_id>")
def document(case_id: int, document_id: int):
    case = _load(case_id)
    doc = db.session.get(CaseDocument, document_id)
    if doc is None or doc.case_id != case.id:
        abort(404)
    path = services.document_path(doc)
    if not path.is_file():
        abort(404)
    audit.record("case.document_download", case, details={"document_id": doc.id})
    # At most 15 MB: read whole, so no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype=doc.content_type)
    name = doc.title + services.DOCUMENT_TYPES.get(doc.content_type, "")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- letters -----------------------------------------------------------------------------------


def _letter_response(case: Case, letter: letters.Letter, kind: str) -> Response:
    audit.record("case.letter", case, details={"kind": kind})
    pdf = letters.render(letter)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{letter.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _template_body(case: Case, kind: str) -> str | None:
    template = services.letter_template(case.kommun_id, kind)
    return template.body if template else None


@bp.get("/<int:case_id>/kommunicering.pdf")
def kommunicering_pdf(case_id: int):
    case = _load(case_id)
    letter = letters.kommunicering_letter(case, _template_body(case, "kommunicering"))
    return _letter_response(case, letter, "kommunicering")


@bp.get("/<int:case_id>/beslut.pdf")
def decision_pdf(case_id: int):
    case = _load(case_id)
    letter = letters.decision_letter(case, _template_body(case, "decision"))
    return _letter_response(case, letter, "decision")


@bp.route("/mallar", methods=["GET", "POST"])
def templates():
    if current_user.role != "manager":
        abort(403)
    kommun_id = current_user.organisation_id
    form = LetterTemplatesForm()
    if request.method == "GET":
        for kind in ("kommunicering", "decision"):
            t = services.letter_template(kommun_id, kind)
            getattr(form, f"{kind}_body").data = t.body if t else letters.DEFAULTS[kind]
    status = 200
    if form.validate_on_submit():
        failed = False
        for kind in ("kommunicering", "decision"):
            body = getattr(form, f"{kind}_body").data or ""  # a field left out of the POST is empty
            try:
                # Saving the default text unchanged keeps following the default.
                services.save_letter_template(
                    current_user, kind, None if body.replace("\r\n", "\n") == letters.DEFAULTS[kind] else body
                )
            except ServiceError as err:
                apply_errors(form, err.fields, err.message)  # the error answer rolls back both
                failed = True
        if failed:
            status = 422
        else:
            flash("Brevmallarna är sparade.", "info")
            return redirect(url_for("cases.templates"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "cases/templates.html", form=form, placeholders=letters.PLACEHOLDERS, appeal=letters.APPEAL_TEXT
    ), status
