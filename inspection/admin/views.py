from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..audit import AuditEntry
from ..auth import services
from ..auth.forms import OrganisationForm, UserForm
from ..auth.models import ROLE_LABELS, Organisation, User
from ..errors import ServiceError
from ..extensions import db
from ..forms import apply_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


@bp.before_request
def _admins_only():
    # The audit log is also open to managers (of their own kommun's entries).
    if request.endpoint == "admin.audit_log" and current_user.role == "manager":
        return None
    if not current_user.is_admin:
        abort(403)
    return None


def _org_choices():
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return [(o.id, f"{o.name} ({'kommun' if o.kind == 'kommun' else 'polis'})") for o in orgs]


@bp.get("/users")
def users():
    q = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stmt = select(User).order_by(User.name, User.id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template(
        "admin/users.html", users=rows, q=q, page=page, pages=max(1, -(-total // PER_PAGE)), total=total
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    form.organisation_id.choices = _org_choices()
    form.role.choices = list(ROLE_LABELS.items())
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data)
        try:
            services.create_user(
                email=form.email.data,
                name=form.name.data,
                organisation=org,
                role=form.role.data,
                password=form.password.data or "",
                actor=current_user,
            )
        except ServiceError as err:
            apply_errors(form, err.fields, err.message)
        else:
            flash("Kontot är skapat.", "info")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = _org_choices()
    form.role.choices = list(ROLE_LABELS.items())
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id
    del form.email
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data)
        try:
            services.update_user(
                user,
                name=form.name.data,
                role=form.role.data,
                organisation=org,
                active=form.active.data,
                actor=current_user,
            )
            if form.password.data:
                services.set_password(user, form.password.data, actor=current_user)
        except ServiceError as err:
            db.session.rollback()
            apply_errors(
                form,
                {("password" if k == "new_password" else k): v for k, v in (err.fields or {}).items()},
                err.message,
            )
        else:
            flash("Kontot är sparat.", "info")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    form = OrganisationForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.create_organisation(form.name.data, form.kind.data, actor=current_user)
        except ServiceError as err:
            apply_errors(form, err.fields, err.message)
            status = 422
        else:
            flash("Organisationen är skapad.", "info")
            return redirect(url_for("admin.organisations"))
    elif request.method == "POST":
        status = 422
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
    return render_template("admin/organisations.html", form=form, organisations=orgs), status


@bp.get("/audit")
def audit_log():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    action = request.args.get("action", "").strip()
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if current_user.role == "manager":
        stmt = stmt.where(AuditEntry.kommun_id == current_user.organisation_id)
    if action:
        stmt = stmt.where(AuditEntry.action.like(f"{action}%"))
    rows = db.session.scalars(stmt.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)).all()
    users = {
        u.id: u for u in db.session.scalars(select(User).where(User.id.in_({r.user_id for r in rows if r.user_id})))
    }
    return render_template(
        "admin/audit.html",
        entries=rows[:PER_PAGE],
        users=users,
        page=page,
        has_next=len(rows) > PER_PAGE,
        action=action,
    )
