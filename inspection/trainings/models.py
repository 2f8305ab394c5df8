from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..extensions import db
from ..types import UTCDateTime, utcnow
from ..venues.models import Venue

TRAINING_KINDS = {
    "ansvarsfull_alkoholservering": "Ansvarsfull alkoholservering",
    "krogar_mot_knark": "Krogar mot knark",
    "forebyggande_information": "Förebyggande information",
    "ovrigt": "Övrigt",
}
PARTICIPANT_ROLES = {
    "serveringsansvarig": "Serveringsansvarig",
    "serveringspersonal": "Serveringspersonal",
    "ordningsvakt": "Ordningsvakt",
    "dorrvard": "Dörrvärd",
    "tillstandshavare": "Tillståndshavare",
    "ovrig": "Övrig",
}

training_venue = Table(
    "training_venue",
    db.metadata,
    Column("training_id", ForeignKey("training.id", ondelete="CASCADE"), primary_key=True),
    Column("venue_id", ForeignKey("venue.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Training(db.Model):
    __tablename__ = "training"
    __table_args__ = (
        Index("ix_training_kommun_starts", "kommun_id", "starts_on"),
        # the police's list: trainings organised together with the police, newest first
        Index("ix_training_police_starts", "organised_by_police", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    organised_by_kommun: Mapped[bool] = mapped_column(Boolean, default=True)
    #: organised together with the police: then police users may read it
    organised_by_police: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kommun: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    venues: Mapped[list[Venue]] = relationship(secondary=training_venue, order_by="Venue.name")
    participants: Mapped[list[TrainingParticipant]] = relationship(
        back_populates="training", cascade="all, delete-orphan", order_by="TrainingParticipant.position"
    )

    @property
    def organisers(self) -> list[str]:
        return [o for o, on in (("kommun", self.organised_by_kommun), ("polis", self.organised_by_police)) if on]


class TrainingParticipant(db.Model):
    __tablename__ = "training_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"), index=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the written test (AAS); null when the course has none
    passed: Mapped[bool | None] = mapped_column(Boolean)
    diploma_on: Mapped[date | None] = mapped_column(Date)

    training: Mapped[Training] = relationship(back_populates="participants")
    venue: Mapped[Venue | None] = relationship()


class OverservingTest(db.Model):
    """An överserveringstest (STAD): an actor plays heavily drunk and tries to order."""

    __tablename__ = "overserving_test"
    __table_args__ = (Index("ix_overserving_test_kommun_on", "kommun_id", "tested_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    tested_on: Mapped[date] = mapped_column(Date)
    #: true when the actor was refused alcohol (the wanted outcome)
    refused: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)
