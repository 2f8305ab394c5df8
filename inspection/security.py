"""Who is asking: web sessions kept on the server, bearer tokens, the deny-by-default gate,
sign-in throttling and the security headers."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import delete, func, select
from wtforms import ValidationError

from .auth.models import ApiToken, LoginAttempt, User, UserSession
from .extensions import db, login_manager
from .types import utcnow

#: endpoints anybody may reach without signing in (API.md "Public")
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "api.create_token",
    "api.openapi",
    "inspections.calendar_feed",
    "main.verify",
    "main.manifest",
    "main.service_worker",
    "main.healthz",
}

#: how many failures in the window lock an account / an address (the window is LOGIN_LOCK_MINUTES)
IP_MAX_FAILURES = 30


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_api_request() -> bool:
    return request.path.startswith("/api/")


# ---------------------------------------------------------------------------------------------
# Sessions


def start_session(user: User) -> None:
    """Sign a user in with a fresh server-side session (a new id: no session fixation)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(id=sha256(sid), user_id=user.id, created_at=now, last_seen_at=now, ip=request.remote_addr)
    )
    session["sid"] = sid
    session.permanent = False
    login_user(user)
    user.last_login_at = now


def end_session() -> None:
    sid = session.get("sid")
    if sid:
        db.session.execute(delete(UserSession).where(UserSession.id == sha256(sid)))
    logout_user()
    session.clear()


def end_all_sessions(user: User) -> None:
    """Password change, deactivation: every session and token of the user stops working."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.session.execute(
        ApiToken.__table__.update()
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


@login_manager.user_loader
def _load_session_user(user_id: str):
    if request.headers.get("Authorization"):
        return None  # a bearer token decides; see _load_token_user
    sid = session.get("sid")
    if not sid:
        return None
    row = db.session.get(UserSession, sha256(sid))
    if row is None or str(row.user_id) != user_id:
        return None
    now = utcnow()
    cfg = current_app.config
    if now - row.last_seen_at > timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]) or now - row.created_at > timedelta(
        hours=cfg["SESSION_MAX_HOURS"]
    ):
        db.session.delete(row)
        g.commit_on_error = True
        return None
    user = row.user
    if user is None or not user.active:
        return None
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now  # idle tracking, written at most once a minute
    g.auth_via = "session"
    return user


@login_manager.request_loader
def _load_token_user(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not is_api_request():
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256(header[7:].strip())))
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow() or not token.user.active:
        return None
    g.auth_via = "token"
    g.api_token = token
    return token.user


def issue_token(user: User) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=sha256(raw),
        expires_at=utcnow() + timedelta(hours=current_app.config["TOKEN_LIFETIME_HOURS"]),
    )
    db.session.add(token)
    return raw, token


# ---------------------------------------------------------------------------------------------
# Throttling of password checks (web login, token, signing)


def throttle_retry_after(email: str) -> int | None:
    """Seconds to wait when this account or this address has failed too often lately, else None."""
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    since = utcnow() - window
    ip = request.remote_addr or "-"
    by_email = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.email == email.lower(), LoginAttempt.at > since
        )
    ).one()
    by_ip = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.ip == ip, LoginAttempt.at > since)
    ).one()
    for count, oldest, limit in (
        (by_email[0], by_email[1], cfg["LOGIN_MAX_FAILURES"]),
        (by_ip[0], by_ip[1], IP_MAX_FAILURES),
    ):
        if count >= limit and oldest is not None:
            return max(1, int((oldest + window - utcnow()).total_seconds()) + 1)
    return None


def record_failure(email: str, kind: str) -> None:
    db.session.add(LoginAttempt(email=email.lower()[:254], ip=request.remote_addr or "-", kind=kind))
    g.commit_on_error = True


def clear_failures(email: str) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email.lower()))


# ---------------------------------------------------------------------------------------------
# The gate and the headers


def _api_error(code: str, message: str, status: int, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _parses(req) -> bool:
    try:
        json.loads(req.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Logga in för att fortsätta."
    login_manager.session_protection = None  # our own server-side sessions do this job

    @app.before_request
    def _deny_by_default():
        endpoint = request.endpoint
        if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            if is_api_request():
                if request.is_json and request.method in {"POST", "PATCH", "PUT"} and not _parses(request):
                    return _api_error("bad_request", "Ogiltig JSON.", 400)  # 400 comes before 401
                return _api_error("unauthorized", "Inloggning krävs.", 401)
            return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
        if is_api_request() and g.get("auth_via") == "session" and request.method not in {"GET", "HEAD", "OPTIONS"}:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except ValidationError:
                return _api_error("csrf", "CSRF-token saknas eller är ogiltig.", 400)
        if current_user.is_admin and not is_api_request() and not (endpoint.startswith(("admin.", "auth.", "main."))):
            # Admins manage accounts; they see no protocol content.
            return redirect(url_for("admin.users"))
        return None

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        if is_api_request():
            return _api_error("csrf", "CSRF-token saknas eller är ogiltig.", 400)
        from flask import render_template

        return render_template(
            "errors/error.html", code=400, message="Formuläret har gått ut. Ladda om sidan och försök igen."
        ), 400

    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if app.config["PRODUCTION"]:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and "Cache-Control" not in h:
            h["Cache-Control"] = "no-store"
        return response
