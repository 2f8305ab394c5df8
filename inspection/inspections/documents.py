"""Delivering the protocol: PDF downloads (audited), the archive ZIP, the date the signed protocol was
sent to the permit holder (tillståndshavaren), and the reminder when 10 working days pass without it.

Rendering never holds a database transaction open: `prepare_download` loads everything into plain
dicts and writes the audit entries; the caller then ends the transaction (`end_transaction`) and
renders from the dicts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from flask import current_app, g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import conflict, validation_error
from ..extensions import db
from ..pdf.protocol import filename, load_inspections, protocol_data
from ..types import STOCKHOLM, local_day_bounds, local_today, utcnow
from .models import Inspection

#: working days (Mon–Fri, Swedish public holidays excluded) within which a signed protocol is sent
DELIVERY_WORKING_DAYS = 10


def base_url() -> str:
    """Where /verify lives: PUBLIC_BASE_URL, else the host the request came to."""
    configured = current_app.config.get("PUBLIC_BASE_URL") or ""
    if configured:
        return configured.rstrip("/")
    return request.host_url.rstrip("/") if has_request_context() else ""


def prepare_download(inspections: list[Inspection], user, *, via: str) -> list[tuple[dict, str]]:
    """Load the protocol data of `inspections` (visible to `user`, checked by the caller) and audit
    each download. Returns [(data, file name)]; the caller ends the transaction before rendering."""
    ids = [i.id for i in inspections]
    base = base_url()
    out = []
    _take_write_lock()
    loaded = (i for start in range(0, len(ids), 200) for i in load_inspections(ids[start : start + 200]))
    for inspection in loaded:
        data = protocol_data(inspection, base_url=base)
        name = filename(data)
        audit.record(
            "inspection.pdf_download",
            inspection,
            user=user,
            details={"via": via, "file": name, "status": inspection.status, "content_hash": inspection.content_hash},
        )
        out.append((data, name))
    return out


def _take_write_lock() -> None:
    """A download is a GET that writes (its audit entry). On SQLite a GET's transaction begins
    deferred (dbsetup.py): reading and then writing fails at once with "database is locked" when
    another worker wrote in between. End the read transaction so the next one begins IMMEDIATE."""
    if not has_request_context() or g.get("force_write_lock") or db.session.get_bind().dialect.name != "sqlite":
        return
    db.session.commit()
    g.force_write_lock = True


def end_transaction() -> None:
    """Commit what the download wrote (its audit entries) and give the connection back, so that the
    slow rendering that follows holds no transaction and no locks."""
    db.session.commit()
    db.session.close()


def archive_inspections(user, start: date, end: date) -> list[Inspection]:
    """The user's kommun's signed protocols whose visit date (arrival, else planned start; Stockholm)
    lies in start–end, oldest first."""
    if end < start:
        raise validation_error({"end": ["Slutdatum får inte vara före startdatum."]})
    if (end - start).days > 366 * 2:
        raise validation_error({"end": ["Välj en period på högst två år."]})
    lower, _ = local_day_bounds(start)
    _, upper = local_day_bounds(end)
    # Visit date = arrival, else planned start: compare the one that counts.
    stmt = (
        select(Inspection)
        .where(Inspection.kommun_id == user.organisation_id, Inspection.status == "signed")
        .where(
            ((Inspection.arrived_at.is_not(None)) & (Inspection.arrived_at >= lower) & (Inspection.arrived_at < upper))
            | (
                (Inspection.arrived_at.is_(None))
                & (Inspection.planned_start >= lower)
                & (Inspection.planned_start < upper)
            )
        )
        .order_by(Inspection.planned_start, Inspection.id)
    )
    return list(db.session.scalars(stmt))


# ---------------------------------------------------------------------------------------------
# Sent to the permit holder, and the reminder


def record_sent_to_holder(inspection: Inspection, day: date, user) -> None:
    """Record the date the signed protocol was sent to the permit holder."""
    if inspection.status != "signed":
        raise conflict("Protokollet kan skickas först när alla har signerat.")
    if day > local_today():
        raise validation_error({"sent_on": ["Datumet får inte ligga i framtiden."]})
    signed_day = (inspection.signed_at or inspection.first_signed_at or utcnow()).astimezone(STOCKHOLM).date()
    if day < signed_day:
        raise validation_error(
            {"sent_on": [f"Protokollet signerades {signed_day.isoformat()}; välj ett senare datum."]}
        )
    before = inspection.sent_to_holder_on
    inspection.sent_to_holder_on = day
    db.session.flush()
    audit.record("inspection.sent_to_holder", inspection, user=user, details={"sent_to_holder_on": [before, day]})


@cache
def swedish_holidays(year: int) -> frozenset[date]:
    """Swedish public holidays (helgdagar) and the days treated like them (midsommarafton, julafton,
    nyårsafton)."""
    # Easter Sunday (anonymous Gregorian algorithm).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    easter = date(year, month, day + 1)
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    all_saints = next(
        date(year, 10, 31) + timedelta(days=k)
        for k in range(7)
        if (date(year, 10, 31) + timedelta(days=k)).weekday() == 5
    )
    return frozenset(
        {
            date(year, 1, 1),
            date(year, 1, 6),
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            date(year, 5, 1),
            easter + timedelta(days=39),
            date(year, 6, 6),
            midsummer_eve,
            all_saints,
            date(year, 12, 24),
            date(year, 12, 25),
            date(year, 12, 26),
            date(year, 12, 31),
        }
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in swedish_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day`."""
    current = day
    while count > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            count -= 1
    return current


def delivery_due(signed_at: datetime) -> date:
    """The last day to send a protocol signed at `signed_at`."""
    return add_working_days(signed_at.astimezone(STOCKHOLM).date(), DELIVERY_WORKING_DAYS)


def overdue_deliveries(kommun_id: int, today: date | None = None) -> list[Inspection]:
    """Signed protocols of the kommun not sent to the permit holder within 10 working days, oldest first."""
    today = today or local_today()
    # 10 working days end at least 12 calendar days later (signed on a Sunday): a cheap filter
    # before the exact count.
    cutoff, _ = local_day_bounds(today - timedelta(days=11))
    candidates = db.session.scalars(
        select(Inspection)
        .where(
            Inspection.kommun_id == kommun_id,
            Inspection.status == "signed",
            Inspection.sent_to_holder_on.is_(None),
            Inspection.signed_at.is_not(None),
            Inspection.signed_at < cutoff,
        )
        .options(selectinload(Inspection.participants))  # the start page checks who took part
        .order_by(Inspection.signed_at)
    )
    return [i for i in candidates if delivery_due(i.signed_at) < today]
