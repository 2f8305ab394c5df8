"""Pages of this feature area: trainings, coverage per venue, effect on outcomes, överserveringstest."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import ServiceError, forbidden
from ..extensions import db
from ..forms import EmptyForm, apply_errors
from ..policy import get_or_404, kommun_filter
from ..types import local_today
from ..venues.models import Venue
from . import services
from .api import trainings_query
from .forms import OverservingTestForm, PasteForm, TrainingForm
from .models import TRAINING_KINDS, OverservingTest, Training, TrainingParticipant

bp = Blueprint("trainings", __name__, url_prefix="/utbildningar")
PER_PAGE = 25
BLANK_ROWS = 3


@bp.before_request
def _kommun_staff_and_police():
    if not current_user.is_authenticated:
        return None  # the app's gate sends the visitor to the login page
    if not (current_user.is_kommun_staff or current_user.is_police):
        abort(403)
    return None


@bp.app_template_global("training_coverage")
def training_coverage(venue) -> services.VenueCoverage:
    """For the venue card: `{% with coverage=training_coverage(venue) %}{% include
    "trainings/_venue_coverage.html" %}{% endwith %}`."""
    return services.venue_coverage(venue)


def _staff_only() -> None:
    if not current_user.is_kommun_staff:
        raise forbidden()


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def _venue_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Venue.id, Venue.name)
        .where(Venue.kommun_id == current_user.organisation_id)
        .order_by(Venue.name, Venue.id)
    ).all()
    return [(i, n) for i, n in rows]


# ---- trainings ---------------------------------------------------------------------------------


@bp.get("/")
def index():
    q = request.args.get("q", "").strip()
    kind = request.args.get("kind", "")
    stmt = trainings_query(current_user)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Training.title).like(like), func.lower(Training.place).like(like)))
    if kind in TRAINING_KINDS:
        stmt = stmt.where(Training.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = _page()
    rows = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
    return render_template(
        "trainings/list.html", trainings=rows, q=q, kind=kind, page=page, pages=_pages(total), total=total
    )


def _prepare(form: TrainingForm, blank_rows: int) -> None:
    choices = _venue_choices()
    form.venue_ids.choices = choices
    for _ in range(blank_rows):
        form.participants.append_entry()
    for entry in form.participants:
        entry.form.venue_id.choices = [("", "–"), *choices]


def _form_data(form: TrainingForm) -> tuple[dict, list]:
    """The service's arguments from the form, and which row each participant came from."""
    rows = []
    participants = []
    for entry in form.participants:
        if entry.form.is_blank():
            continue
        rows.append(entry)
        participants.append(entry.form.to_dict())
    if form.participants_text.data and form.participants_text.data.strip():
        participants.extend(
            p.__dict__ for p in services.parse_participant_lines(current_user, form.participants_text.data)
        )
    data = {
        "kind": form.kind.data,
        "title": form.title.data,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "place": form.place.data or None,
        "organisers": list(form.organisers.data or []),
        "venue_ids": list(form.venue_ids.data or []),
        "participants": participants,
    }
    return data, rows


def _show_errors(form: TrainingForm, err: ServiceError, rows: list) -> None:
    other = {}
    for path, messages in (err.fields or {}).items():
        parts = path.split(".")
        if parts[0] == "participants" and len(parts) == 3 and int(parts[1]) < len(rows):
            field = rows[int(parts[1])].form[parts[2]]
            field.errors = list(field.errors) + list(messages)
        elif parts[0] == "participants" and len(parts) == 3:
            form.participants_text.errors = list(form.participants_text.errors) + [
                f"Inklistrad deltagare {int(parts[1]) - len(rows) + 1}: {m}" for m in messages
            ]
        else:
            other[path] = messages
    apply_errors(form, other, None if err.fields else err.message)
    if err.fields:
        form.form_errors.append(err.message)


def _save(form: TrainingForm, training: Training | None):
    rows: list = []
    try:
        data, rows = _form_data(form)
        if training is None:
            training = services.record_training(current_user, **data)
            flash("Utbildningen är sparad.", "info")
        else:
            services.update_training(training, current_user, **data)
            flash("Ändringarna är sparade.", "info")
    except ServiceError as err:
        db.session.rollback()
        _show_errors(form, err, rows)
        return None
    return redirect(url_for("trainings.detail", training_id=training.id))


@bp.route("/ny", methods=["GET", "POST"])
def new():
    _staff_only()
    form = TrainingForm()
    _prepare(form, 5 if request.method == "GET" else 0)
    if request.method == "GET":
        form.organisers.data = ["kommun"]
        if venue_id := request.args.get("venue_id", type=int):
            form.venue_ids.data = [venue_id] if venue_id in dict(form.venue_ids.choices) else []
    if form.validate_on_submit() and (done := _save(form, None)):
        return done
    status = 422 if request.method == "POST" else 200
    return render_template("trainings/form.html", form=form, training=None), status


@bp.route("/<int:training_id>/andra", methods=["GET", "POST"])
def edit(training_id: int):
    training = get_or_404(Training, training_id, need="edit")
    if request.method == "GET":
        form = TrainingForm(obj=training)
        form.organisers.data = training.organisers
        form.venue_ids.data = [v.id for v in training.venues]
        while form.participants.entries:
            form.participants.pop_entry()
        for p in training.participants:
            form.participants.append_entry(
                {
                    "name": p.name,
                    "role": p.role,
                    "venue_id": p.venue_id,
                    "attended": p.attended,
                    "passed": {True: "ja", False: "nej"}.get(p.passed, ""),
                    "diploma_on": p.diploma_on,
                }
            )
        _prepare(form, BLANK_ROWS)
    else:
        form = TrainingForm()
        _prepare(form, 0)
    if form.validate_on_submit() and (done := _save(form, training)):
        return done
    status = 422 if request.method == "POST" else 200
    return render_template("trainings/form.html", form=form, training=training), status


def _render_detail(training: Training, paste_form: PasteForm | None = None, status: int = 200):
    editable = current_user.is_kommun_staff and training.kommun_id == current_user.organisation_id
    return render_template(
        "trainings/detail.html",
        training=training,
        editable=editable,
        paste_form=paste_form or PasteForm(formdata=None),
        venue_choices=_venue_choices() if editable else [],
        valid_years=services.diploma_valid_years(),
    ), status


def _loaded(training: Training) -> Training:
    """The training with its venues and participants (and their venues) loaded in two queries."""
    db.session.scalars(
        select(Training)
        .where(Training.id == training.id)
        .options(
            selectinload(Training.venues),
            selectinload(Training.participants).joinedload(TrainingParticipant.venue),
        )
        .execution_options(populate_existing=True)
    ).one()
    return training


@bp.get("/<int:training_id>")
def detail(training_id: int):
    return _render_detail(_loaded(get_or_404(Training, training_id)))


@bp.post("/<int:training_id>/ta-bort")
def delete(training_id: int):
    training = get_or_404(Training, training_id, need="edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_training(training, current_user)
    flash("Utbildningen är borttagen.", "info")
    return redirect(url_for("trainings.index"))


@bp.post("/<int:training_id>/deltagare/serveringsansvariga")
def add_servers(training_id: int):
    training = get_or_404(Training, training_id, need="edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    venue = get_or_404(Venue, request.form.get("venue_id"), need="edit")
    added = services.add_responsible_servers(training, venue, current_user)
    if added:
        flash(f"{added} serveringsansvariga från {venue.name} lades till.", "info")
    else:
        flash(f"{venue.name} har inga fler anmälda serveringsansvariga att lägga till.", "warning")
    return redirect(url_for("trainings.detail", training_id=training.id))


@bp.post("/<int:training_id>/deltagare/klistra-in")
def paste(training_id: int):
    training = get_or_404(Training, training_id, need="edit")
    form = PasteForm()
    if form.validate_on_submit():
        try:
            added = services.add_pasted_participants(training, current_user, form.participants_text.data)
        except ServiceError as err:
            db.session.rollback()
            apply_errors(form, err.fields, err.message)
        else:
            flash(f"{added} deltagare lades till.", "info")
            return redirect(url_for("trainings.detail", training_id=training.id))
    training = get_or_404(Training, training_id)
    return _render_detail(training, form, 422)


# ---- coverage and effect -------------------------------------------------------------------------


@bp.get("/tackning")
def coverage():
    _staff_only()
    q = request.args.get("q", "").strip()
    untrained = request.args.get("utan") == "1"
    stmt = (
        select(Venue.id, Venue.name, Venue.address)
        .where(Venue.kommun_id == current_user.organisation_id, Venue.active.is_(True))
        .order_by(Venue.name, Venue.id)
    )
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Venue.name).like(like), func.lower(Venue.address).like(like)))
    venues = db.session.execute(stmt).all()
    figures = services.coverage([v.id for v in venues])
    rows = [(v, figures[v.id]) for v in venues]
    if untrained:
        rows = [(v, c) for v, c in rows if not c.has_trained_server]
    page = _page()
    return render_template(
        "trainings/coverage.html",
        rows=rows[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(rows),
        q=q,
        untrained=untrained,
        page=page,
        pages=_pages(len(rows)),
        valid_years=services.diploma_valid_years(),
    )


@bp.get("/effekt")
def effect():
    _staff_only()
    years = request.args.get("ar", 3, type=int) or 3
    years = min(max(years, 1), 10)
    today = local_today()
    trained = services.trained_venues(current_user.organisation_id, services.add_years(today, -years), today)
    results = services.before_after_many(trained, today)
    names = dict(db.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(list(trained)))).all())
    rows = sorted(results.values(), key=lambda r: (names.get(r.venue_id, ""), r.venue_id))
    totals = {
        side: services.Outcome(
            visits=sum(getattr(r, side).visits for r in rows if r.complete),
            remarks=sum(getattr(r, side).remarks for r in rows if r.complete),
            overservering=sum(getattr(r, side).overservering for r in rows if r.complete),
        )
        for side in ("before", "after")
    }
    return render_template("trainings/effect.html", rows=rows, names=names, years=years, totals=totals)


# ---- överserveringstest ------------------------------------------------------------------------


@bp.get("/overserveringstest")
def tests():
    _staff_only()
    venue_id = request.args.get("venue_id", type=int)
    stmt = (
        select(OverservingTest)
        .where(kommun_filter(current_user, OverservingTest.kommun_id))
        .order_by(OverservingTest.tested_on.desc(), OverservingTest.id.desc())
    )
    venue = None
    if venue_id:
        venue = get_or_404(Venue, venue_id)
        stmt = stmt.where(OverservingTest.venue_id == venue.id)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = _page()
    rows = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template(
        "trainings/tests.html",
        tests=rows,
        venue=venue,
        venue_choices=_venue_choices(),
        page=page,
        pages=_pages(total),
        total=total,
    )


@bp.route("/overserveringstest/nytt", methods=["GET", "POST"])
def new_test():
    _staff_only()
    form = OverservingTestForm()
    form.venue_id.choices = [("", "Välj serveringsställe"), *_venue_choices()]
    if request.method == "GET":
        form.tested_on.data = local_today()
        form.venue_id.data = request.args.get("venue_id", type=int)
    if form.validate_on_submit():
        try:
            test = services.record_overserving_test(
                current_user,
                venue_id=form.venue_id.data,
                tested_on=form.tested_on.data,
                refused=form.refused.data == "ja",
                notes=form.notes.data or None,
            )
        except ServiceError as err:
            db.session.rollback()
            apply_errors(form, err.fields, err.message)
        else:
            flash("Testet är sparat.", "info")
            return redirect(url_for("trainings.tests", venue_id=test.venue_id))
    status = 422 if request.method == "POST" else 200
    return render_template("trainings/test_form.html", form=form), status


@bp.post("/overserveringstest/<int:test_id>/ta-bort")
def delete_test(test_id: int):
    test = get_or_404(OverservingTest, test_id, need="edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    venue_id = test.venue_id
    services.delete_overserving_test(test, current_user)
    flash("Testet är borttaget.", "info")
    return redirect(url_for("trainings.tests", venue_id=venue_id))


@bp.get("/overserveringstest/andel")
def rates():
    _staff_only()
    kommun_rows = services.refusal_rates(current_user.organisation_id)
    venue_rows = services.refusal_rates_by_venue(current_user.organisation_id)
    years = sorted({r.year for r in kommun_rows})
    return render_template(
        "trainings/rates.html",
        kommun_rows=kommun_rows,
        venue_rows=venue_rows,
        years=years,
        references=services.REFERENCE_RATES,
    )
