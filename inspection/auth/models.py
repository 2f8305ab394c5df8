from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import UTCDateTime, utcnow

ORG_KINDS = ("kommun", "polis")
ROLES = ("inspector", "manager", "police", "admin")
KOMMUN_ROLES = ("inspector", "manager")

ROLE_LABELS = {
    "inspector": "Alkoholhandläggare",
    "manager": "Enhetschef",
    "police": "Polis",
    "admin": "Administratör",
}
ORG_KIND_LABELS = {"kommun": "Kommun", "polis": "Polis"}


class Organisation(db.Model):
    """A kommun or a police area."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: "kommun" or "polis"
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased; the sign-in name
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: false for a deactivated account: its sessions and tokens stop working at once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the secret in the user's iCal feed URL; rotating it kills the old URL
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_calendar_token)
    #: base32 TOTP secret when the second factor is on
    otp_secret: Mapped[str | None] = mapped_column(String(64))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    @property
    def kommun_id(self) -> int | None:
        """The kommun whose data this user works with (None for police)."""
        if self.organisation.kind == "kommun" and self.role in KOMMUN_ROLES:
            return self.organisation_id
        return None

    @property
    def is_kommun_staff(self) -> bool:
        return self.role in KOMMUN_ROLES and self.organisation.kind == "kommun"

    @property
    def is_police(self) -> bool:
        return self.role == "police"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """A signed-in web session, kept on the server so that logout and password change end it."""

    __tablename__ = "user_session"

    #: SHA-256 of the random session id kept in the signed cookie
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))

    #: loaded with the session row (one statement per page view for both)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class ApiToken(db.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class LoginAttempt(db.Model):
    """A failed password check (web login, token, signing), kept in the database so that the
    throttle holds across server processes."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    #: web | token | sign
    kind: Mapped[str] = mapped_column(String(10))
