"""Column types and time helpers shared by every model.

Times are stored as naive UTC (SQLite has no time zones) and handed out as aware UTC datetimes.
"Today", "tonight" and periods are reckoned in Europe/Stockholm.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class UTCDateTime(TypeDecorator):
    """An aware datetime, stored as naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return datetime.now(STOCKHOLM).date()


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(STOCKHOLM) if value is not None else None


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a Stockholm calendar day starts and ends (DST-aware)."""
    start = datetime.combine(day, time(0), tzinfo=STOCKHOLM)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=STOCKHOLM)
    return start.astimezone(UTC), end.astimezone(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API answers."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fmt_date(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def fmt_time(value: datetime | None) -> str:
    return to_local(value).strftime("%H:%M") if value else ""


def fmt_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""
