"""Sign in and out, and the user's own profile (password, calendar link, second factor)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..errors import ServiceError
from ..forms import EmptyForm, apply_errors
from ..security import end_session, start_session
from . import services
from .forms import LoginForm, OtpForm, PasswordChangeForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, otp=form.otp.data or None, kind="web")
        except ServiceError as err:
            form.form_errors.append(err.message)
            status = 429 if err.code == "rate_limited" else 401 if err.code == "unauthorized" else 200
        else:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        from .. import audit

        audit.record("auth.logout")
        end_session()
        flash("Du är utloggad.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET"])
def profile():
    return render_template(
        "auth/profile.html",
        password_form=PasswordChangeForm(),
        otp_form=OtpForm(),
        empty_form=EmptyForm(),
        calendar_url=calendar_url(current_user),
        otp_secret=session.get("otp_setup_secret"),
    )


def calendar_url(user) -> str:
    return url_for("inspections.calendar_feed", token=user.calendar_token, _external=True)


@bp.post("/profile/password")
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(current_user, form.current_password.data, form.new_password.data)
        except ServiceError as err:
            apply_errors(form, err.fields, err.message)
        else:
            # Every session ended, this one too: sign in again with the new password.
            end_session()
            flash("Lösenordet är bytt. Logga in med det nya lösenordet.", "info")
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/profile.html",
        password_form=form,
        otp_form=OtpForm(),
        empty_form=EmptyForm(),
        calendar_url=calendar_url(current_user),
        otp_secret=session.get("otp_setup_secret"),
    ), 422


@bp.post("/profile/calendar")
def rotate_calendar():
    if EmptyForm().validate_on_submit():
        services.rotate_calendar_token(current_user)
        flash("En ny kalenderlänk är skapad. Den gamla slutar fungera.", "info")
    return redirect(url_for("auth.profile"))


@bp.post("/profile/otp/start")
def otp_start():
    if EmptyForm().validate_on_submit():
        session["otp_setup_secret"] = pyotp.random_base32()
    return redirect(url_for("auth.profile"))


@bp.post("/profile/otp/confirm")
def otp_confirm():
    form = OtpForm()
    secret = session.get("otp_setup_secret")
    if form.validate_on_submit() and secret:
        try:
            services.enable_otp(current_user, secret, form.code.data)
        except ServiceError as err:
            flash(err.fields["code"][0] if err.fields else err.message, "error")
        else:
            session.pop("otp_setup_secret", None)
            flash("Tvåstegsverifiering är påslagen.", "info")
    return redirect(url_for("auth.profile"))


@bp.post("/profile/otp/disable")
def otp_disable():
    if EmptyForm().validate_on_submit():
        services.disable_otp(current_user, actor=current_user)
        flash("Tvåstegsverifiering är avstängd.", "info")
    return redirect(url_for("auth.profile"))
