"""Accounts: sign-in checks, user administration, organisations."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from .. import audit
from ..errors import ServiceError, validation_error
from ..extensions import db
from ..security import clear_failures, end_all_sessions, record_failure, throttle_retry_after
from ..types import utcnow
from .models import KOMMUN_ROLES, ORG_KINDS, ROLES, Organisation, User, new_calendar_token
from .passwords import hash_password, needs_rehash, password_problem, verify_password


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _end_read_only_transaction() -> None:
    """Argon2 takes a good fraction of a second on purpose. Nothing has been written yet, so end the
    transaction before hashing: on SQLite a write request holds the database's write lock from its
    first query, and sign-ins would otherwise queue every other writer behind the hash."""
    if not (db.session.new or db.session.dirty or db.session.deleted):
        db.session.rollback()


def check_throttle(email: str) -> None:
    retry = throttle_retry_after(email)
    if retry is not None:
        raise ServiceError(
            "rate_limited",
            f"För många misslyckade försök. Försök igen om {max(1, retry // 60)} minuter.",
            headers={"Retry-After": str(retry)},
        )


def authenticate(email: str, password: str, *, otp: str | None = None, kind: str = "web") -> User:
    """The user whose e-mail and password these are, or a ServiceError (401, otp_required, 429).

    Failures are recorded for the throttle and the audit log, whatever the answer."""
    email = (email or "").strip().lower()
    check_throttle(email)
    user = find_user_by_email(email)
    stored_hash = user.password_hash if user else None
    _end_read_only_transaction()
    verified = verify_password(stored_hash, password or "")
    user = find_user_by_email(email) if user is not None else None
    if not verified or user is None:
        record_failure(email, kind)
        audit.record("auth.login_failed", user=user, details={"email": email, "via": kind})
        raise ServiceError("unauthorized", "Fel e-postadress eller lösenord.")
    if not user.active:
        record_failure(email, kind)
        audit.record("auth.login_failed", user=user, details={"email": email, "via": kind, "reason": "inactive"})
        raise ServiceError("unauthorized", "Kontot är avstängt.")
    if user.otp_secret:
        if not otp:
            raise ServiceError("otp_required", "Ange engångskoden från din app.")
        if not pyotp.TOTP(user.otp_secret).verify(otp.strip(), valid_window=1):
            record_failure(email, kind)
            audit.record("auth.login_failed", user=user, details={"email": email, "via": kind, "reason": "otp"})
            raise ServiceError("unauthorized", "Fel engångskod.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    clear_failures(email)
    audit.record("auth.login", user=user, details={"via": kind})
    return user


def check_own_password(user: User, password: str) -> None:
    """For a deliberate act (signing): the user's password again, throttled like a sign-in.

    A wrong password is a 422 on `password` (API.md)."""
    check_throttle(user.email)
    if not verify_password(user.password_hash, password or ""):
        record_failure(user.email, "sign")
        audit.record("auth.password_check_failed", user=user)
        raise validation_error({"password": "Fel lösenord."}, "Fel lösenord.")
    clear_failures(user.email)


def create_organisation(name: str, kind: str, *, actor: User | None = None) -> Organisation:
    name = name.strip()
    errors = {}
    if not name or len(name) > 200:
        errors["name"] = "Ange ett namn (högst 200 tecken)."
    if kind not in ORG_KINDS:
        errors["kind"] = "Typen ska vara kommun eller polis."
    if not errors and any(o.name.casefold() == name.casefold() for o in db.session.scalars(select(Organisation))):
        errors["name"] = "Det finns redan en organisation med det namnet."
    if errors:
        raise validation_error(errors)
    org = Organisation(name=name, kind=kind)
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organisation.create",
        org,
        user=actor,
        kommun_id=org.id if kind == "kommun" else None,
        details={"name": name, "kind": kind},
    )
    return org


def _check_role(role: str, org: Organisation) -> str | None:
    if role not in ROLES:
        return "Okänd roll."
    if role in KOMMUN_ROLES and org.kind != "kommun":
        return "Handläggare och chefer hör till en kommun."
    if role == "police" and org.kind != "polis":
        return "Poliser hör till en polisorganisation."
    return None


def create_user(
    *, email: str, name: str, organisation: Organisation, role: str, password: str, actor: User | None = None
) -> User:
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not email or "@" not in email or len(email) > 254:
        errors["email"] = "Ange en giltig e-postadress."
    elif find_user_by_email(email):
        errors["email"] = "Det finns redan ett konto med den e-postadressen."
    if not name.strip() or len(name) > 200:
        errors["name"] = "Ange ett namn (högst 200 tecken)."
    if problem := _check_role(role, organisation):
        errors["role"] = problem
    if problem := password_problem(password, email=email, name=name):
        errors["password"] = problem
    if errors:
        raise validation_error(errors)
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password),
        calendar_token=new_calendar_token(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        user,
        user=actor,
        kommun_id=organisation.id if organisation.kind == "kommun" else None,
        details={"email": email, "name": name, "role": role, "organisation": organisation.name},
    )
    return user


def update_user(user: User, *, name: str, role: str, organisation: Organisation, active: bool, actor: User) -> User:
    errors: dict[str, str] = {}
    if not name.strip() or len(name) > 200:
        errors["name"] = "Ange ett namn (högst 200 tecken)."
    if problem := _check_role(role, organisation):
        errors["role"] = problem
    if user.id == actor.id and (not active or role != "admin"):
        errors["active"] = "Du kan inte stänga av eller degradera ditt eget konto."
    if errors:
        raise validation_error(errors)
    before = {"name": user.name, "role": user.role, "organisation_id": user.organisation_id, "active": user.active}
    user.name, user.role, user.organisation, user.active = name, role, organisation, active
    after = {"name": name, "role": role, "organisation_id": organisation.id, "active": active}
    if not active or before["role"] != role or before["organisation_id"] != organisation.id:
        end_all_sessions(user)  # a deactivated or moved account loses its access at once
    audit.record("user.update", user, user=actor, details=audit.diff(before, after))
    return user


def set_password(user: User, new_password: str, *, actor: User) -> None:
    if problem := password_problem(new_password, email=user.email, name=user.name):
        raise validation_error({"new_password": problem})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)
    audit.record("user.password_change", user, user=actor)


def change_own_password(user: User, current: str, new_password: str) -> None:
    check_throttle(user.email)
    if not verify_password(user.password_hash, current):
        record_failure(user.email, "web")
        raise validation_error({"current_password": "Fel nuvarande lösenord."})
    set_password(user, new_password, actor=user)


def rotate_calendar_token(user: User) -> None:
    user.calendar_token = new_calendar_token()
    audit.record("user.calendar_rotate", user, user=user)


def enable_otp(user: User, secret: str, code: str) -> None:
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        raise validation_error({"code": "Fel kod. Kontrollera klockan i telefonen och försök igen."})
    user.otp_secret = secret
    audit.record("user.otp_enable", user, user=user)


def disable_otp(user: User, *, actor: User) -> None:
    user.otp_secret = None
    audit.record("user.otp_disable", user, user=actor)
