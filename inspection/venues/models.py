from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..extensions import db
from ..types import UTCDateTime, utcnow

SCOPES = {"allmanheten": "Allmänheten", "slutet_sallskap": "Slutet sällskap"}
PERMIT_KINDS = {"stadigvarande": "Stadigvarande", "tillfalligt": "Tillfälligt"}


class Venue(db.Model):
    """A serveringsställe and its serving permit (serveringstillstånd)."""

    __tablename__ = "venue"
    __table_args__ = (
        UniqueConstraint("kommun_id", "permit_number"),
        Index("ix_venue_kommun_name", "kommun_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the kommun that granted the permit and owns all data about the venue
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    #: part of town, for filters and EST/Purple Flag counts
    area: Mapped[str | None] = mapped_column(String(200))
    #: tillståndshavare: the company holding the permit
    permit_holder: Mapped[str] = mapped_column(String(200))
    #: organisationsnummer, stored as NNNNNN-NNNN
    org_number: Mapped[str] = mapped_column(String(11))
    permit_holder_email: Mapped[str | None] = mapped_column(String(254))
    permit_number: Mapped[str] = mapped_column(String(200))
    #: allmanheten | slutet_sallskap
    permit_scope: Mapped[str] = mapped_column(String(20))
    #: stadigvarande | tillfalligt
    permit_kind: Mapped[str] = mapped_column(String(20))
    #: "HH:MM-HH:MM"; the end may be past midnight ("11:00-01:00")
    serving_hours: Mapped[str] = mapped_column(String(11))
    outdoor_serving_hours: Mapped[str | None] = mapped_column(String(11))
    #: the most guests allowed at once (fire safety)
    max_guests: Mapped[int | None] = mapped_column(Integer)
    ordningsvakter_required: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: 1 (low) to 3 (high); sets how often the tillsynsplan wants a visit
    risk_class: Mapped[int] = mapped_column(Integer, default=2)
    #: true when an inspector set the class by hand (then risk_class_reason says why)
    risk_class_override: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_class_reason: Mapped[str | None] = mapped_column(Text)
    #: false for a closed venue
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    kommun: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    responsible_servers: Mapped[list[ResponsibleServer]] = relationship(
        back_populates="venue",
        cascade="all, delete-orphan",
        order_by="ResponsibleServer.id",
        # Loaded on demand (queries that serialise venues ask for it with selectinload): as "selectin"
        # every inspection list paid a query and objects for servers it never shows.
    )


class ResponsibleServer(db.Model):
    """A serveringsansvarig notified to the kommun (at least 20 years old)."""

    __tablename__ = "responsible_server"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    #: the date the permit holder notified the kommun of this person
    notified_on: Mapped[date | None] = mapped_column(Date)

    venue: Mapped[Venue] = relationship(back_populates="responsible_servers")


class PermitChange(db.Model):
    """A change to a venue's permit, kept for the venue history."""

    __tablename__ = "permit_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: {field: [old, new]}
    changes: Mapped[dict] = mapped_column(JSON)
