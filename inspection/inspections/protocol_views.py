"""The inspection page and the protocol on a tablet, the sign page and reopening. (Protocol issue.)

The page is a thin shell: the server renders what is known now (so it reads without JavaScript and
opens offline from the service worker's cache) and embeds the Inspection object of API.md as JSON;
every change goes through the JSON API (static/js/protocol.js and its outbox, static/js/outbox.js).
Signing and reopening are plain forms: they need the server and a deliberate act.
"""

from __future__ import annotations

from functools import cache

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import joinedload
from wtforms import PasswordField, TextAreaField
from wtforms.validators import DataRequired

from ..errors import ServiceError
from ..extensions import db
from ..forms import FreeTextRules, apply_errors
from ..policy import get_or_404, inspection_filter, may
from ..venues.models import Venue
from .models import (
    CHECKLIST_FOR_KIND,
    CHECKLIST_ITEMS,
    CHECKLIST_STATUSES,
    INTOXICATION_LEVELS,
    OBSERVATION_CATEGORIES,
    Inspection,
)
from .views import bp

#: the protocol can still be filled in (observations added, fields changed)
EDITABLE = ("planned", "in_progress")


class SignForm(FlaskForm):
    password = PasswordField(
        "Ditt lösenord",
        validators=[DataRequired("Skriv ditt lösenord för att signera.")],
        render_kw={"autocomplete": "current-password"},
    )


class AmendmentForm(FlaskForm):
    text = TextAreaField(
        "Tillägg till det signerade protokollet",
        validators=[DataRequired("Skriv tillägget."), FreeTextRules],
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Skäl till att öppna protokollet igen",
        validators=[DataRequired("Skriv varför protokollet öppnas igen."), FreeTextRules],
    )


def _service():
    """The protocol service (protocol.py, written alongside the API); imported late on purpose."""
    from . import protocol

    return protocol


def _last_visit(inspection: Inspection) -> Row | None:
    """The venue's previous signed visit that the user may see (for its remarks): its id, planned
    start and checklist, the only fields the page shows (not a whole Inspection with its venue)."""
    return db.session.execute(
        select(Inspection.id, Inspection.planned_start, Inspection.checklist)
        .where(
            Inspection.venue_id == inspection.venue_id,
            Inspection.id != inspection.id,
            Inspection.status == "signed",
            Inspection.planned_start < inspection.planned_start,
            inspection_filter(current_user),
        )
        .order_by(Inspection.planned_start.desc())
        .limit(1)
    ).first()


def _context(inspection: Inspection) -> dict:
    user = current_user
    from .protocol_api import full_inspection  # the very object GET /api/v1/inspections/<id> answers

    data = full_inspection(inspection)
    participant = next((p for p in inspection.participants if p.user_id == user.id), None)
    editable = inspection.status in EDITABLE
    last = _last_visit(inspection)
    last_remarks = (
        [code for code, item in (last.checklist or {}).items() if (item or {}).get("status") == "anmarkning"]
        if last
        else []
    )
    signed_by_me = any(s.user_id == user.id for s in inspection.signatures)
    accepted = participant is not None and participant.response == "accepted"
    return {
        "inspection": inspection,
        "venue": inspection.venue,
        "data": data,
        "participant": participant,
        "editable": editable,
        "can_edit": editable and may(user, "edit_protocol", inspection),
        "can_observe": editable and may(user, "observe", inspection),
        "can_sign": participant is not None
        and participant.response != "declined"
        and inspection.status in ("planned", "in_progress", "awaiting_signatures")
        and not signed_by_me,
        #: the first signature is a kommun participant's (API.md); others wait for it
        "waits_for_kommun": not inspection.signatures
        and participant is not None
        and participant.organisation.kind != "kommun",
        "amendments_to_sign": [
            a.id
            for a in inspection.amendments
            if accepted and a.status == "awaiting_signatures" and all(s.user_id != user.id for s in a.signatures)
        ],
        "signed_by_me": signed_by_me,
        "can_reopen": inspection.status == "awaiting_signatures" and may(user, "reopen", inspection),
        "can_amend": inspection.status == "signed" and may(user, "amend", inspection),
        "checklist_codes": CHECKLIST_FOR_KIND.get(inspection.kind, list(CHECKLIST_ITEMS)),
        "observations_newest_first": sorted(inspection.observations, key=lambda o: (o.observed_at, o.id), reverse=True),
        "last_visit": last,
        "last_remarks": last_remarks,
        "labels": {
            "category": OBSERVATION_CATEGORIES,
            "level": INTOXICATION_LEVELS,
            "checklist": CHECKLIST_ITEMS,
            "check_status": CHECKLIST_STATUSES,
        },
    }


@cache
def _page_statement():
    """The page's inspection with everything it shows, built once (see protocol._load_statement)."""
    return (
        select(Inspection)
        .where(Inspection.id == bindparam("inspection_id"))
        .options(
            *_service().FULL,  # what the full Inspection object shows
            # The venue comes joined with the inspection row (its default); only its servers need a query.
            joinedload(Inspection.venue).selectinload(Venue.responsible_servers),
        )
    )


def _load(inspection_id: int) -> Inspection:
    """The inspection with everything the page shows loaded up front (no lazy loads), or 404."""
    # Kept in a variable: the session holds loaded objects only while something refers to them,
    # and get_or_404 below must find this one (with its relationships) in the identity map.
    loaded = db.session.scalars(_page_statement(), {"inspection_id": inspection_id}).first()
    inspection = get_or_404(Inspection, inspection_id)  # found in the identity map while `loaded` holds it
    del loaded
    return inspection


@bp.get("/<int:inspection_id>")
def detail(inspection_id: int):
    """The inspection page: venue essentials, participants, the protocol form and the timeline."""
    inspection = _load(inspection_id)
    return render_template("inspections/protocol/page.html", amendment_form=AmendmentForm(), **_context(inspection))


@bp.post("/<int:inspection_id>/tillagg")
def add_amendment(inspection_id: int):
    """A correction to a signed protocol: written separately, then signed like the protocol."""
    inspection = _service().load_inspection(current_user, inspection_id, "amend", for_update=True)
    form = AmendmentForm()
    if form.validate_on_submit():
        try:
            _service().add_amendment(current_user, inspection, form.text.data)
        except ServiceError as err:
            apply_errors(form, err.fields, err.message)
            status = err.status
        else:
            flash("Tillägget är sparat. Det behöver signeras av deltagarna.", "info")
            return redirect(url_for("inspections.sign", inspection_id=inspection.id))
    else:
        status = 422
    return render_template("inspections/protocol/page.html", amendment_form=form, **_context(inspection)), status


@bp.post("/<int:inspection_id>/tillagg/<int:amendment_id>/signera")
def sign_amendment(inspection_id: int, amendment_id: int):
    """Sign an amendment with the password, as the protocol."""
    inspection = _service().load_inspection(current_user, inspection_id, "sign", for_update=True)
    amendment = _service().get_amendment(inspection, amendment_id)
    form = SignForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            _service().sign_amendment(current_user, inspection, amendment, form.password.data)
        except ServiceError as err:
            errors = [m for messages in (err.fields or {}).values() for m in messages] or [err.message]
            status = err.status
        else:
            flash("Du har signerat tillägget.", "info")
            return redirect(url_for("inspections.sign", inspection_id=inspection.id))
    else:
        errors = [m for messages in form.errors.values() for m in messages]
        status = 422
    return _render_sign(inspection, SignForm(formdata=None), ReopenForm(), status, {amendment.id: errors})


def _render_sign(
    inspection: Inspection,
    form: SignForm,
    reopen_form: ReopenForm,
    status: int = 200,
    amendment_errors: dict | None = None,
):
    return render_template(
        "inspections/protocol/sign.html",
        form=form,
        reopen_form=reopen_form,
        amendment_errors=amendment_errors or {},
        **_context(inspection),
    ), status


@bp.route("/<int:inspection_id>/signera", methods=["GET", "POST"])
def sign(inspection_id: int):
    """The protocol as it will print, then the password: signing is a deliberate act."""
    form = SignForm()
    if not form.is_submitted():
        inspection = _load(inspection_id)
        return _render_sign(inspection, form, ReopenForm())
    inspection = _service().load_inspection(current_user, inspection_id, "sign", for_update=True)
    if form.validate():
        try:
            _service().sign(current_user, inspection, form.password.data)
        except ServiceError as err:
            _sign_errors(form, err)
            return _render_sign(inspection, form, ReopenForm(), err.status)
        flash("Du har signerat protokollet.", "info")
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return _render_sign(inspection, form, ReopenForm(), 422)


def _sign_errors(form: SignForm, err: ServiceError) -> None:
    """A wrong password goes next to the field; missing notes name their checklist items."""
    fields = dict(err.fields or {})
    if "password" in fields:
        form.password.errors = list(form.password.errors) + list(fields.pop("password"))
    missing = [path.split(".")[2] for path in fields if path.startswith("protocol.checklist.")]
    if missing:
        names = ", ".join(CHECKLIST_ITEMS.get(code, code) for code in missing)
        form.form_errors.append(f"{err.message} Saknas för: {names}.")
    elif fields or not form.password.errors:
        form.form_errors.append(err.message)


@bp.post("/<int:inspection_id>/oppna-igen")
def reopen(inspection_id: int):
    """A kommun inspector reopens a protocol awaiting signatures (the signatures are voided)."""
    inspection = _service().load_inspection(current_user, inspection_id, "reopen", for_update=True)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            _service().reopen(current_user, inspection, form.reason.data)
        except ServiceError as err:
            apply_errors(form, err.fields, err.message)
            return _render_sign(inspection, SignForm(formdata=None), form, err.status)
        flash("Protokollet är öppnat igen. Signaturerna är ogiltiga.", "info")
        return redirect(url_for("inspections.detail", inspection_id=inspection.id))
    return _render_sign(inspection, SignForm(formdata=None), form, 422)
