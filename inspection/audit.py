"""The append-only audit log: who changed what, when. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .types import UTCDateTime, iso_utc, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: e.g. "venue.update", "inspection.sign", "auth.login_failed"
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    #: the kommun the object belongs to, so that a manager sees only their kommun's entries
    kommun_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: before/after values or other details, JSON
    details: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - a programming error
    raise RuntimeError("the audit log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - a programming error
    raise RuntimeError("the audit log is append-only")


def jsonable(value: Any) -> Any:
    """Turn model values into JSON for the audit details."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    return value


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed."""
    return {
        key: [jsonable(before.get(key)), jsonable(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(
    action: str,
    obj: Any = None,
    *,
    user=None,
    kommun_id: int | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction (never commits)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if kommun_id is None and obj is not None:
        kommun_id = getattr(obj, "kommun_id", None)
    entry = AuditEntry(
        action=action,
        user_id=getattr(user, "id", None),
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None) if obj is not None else None,
        kommun_id=kommun_id,
        details=jsonable(details) if details else None,
        ip=client_ip(),
    )
    db.session.add(entry)
    return entry
