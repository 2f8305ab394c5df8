from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..extensions import db
from ..types import UTCDateTime, utcnow
from ..venues.models import Venue

KINDS = {
    "yttre": "Yttre tillsyn",
    "inre": "Inre tillsyn",
    "samordnad": "Samordnad tillsyn",
    "forebyggande": "Förebyggande besök",
}
STATUSES = {
    "planned": "Planerad",
    "in_progress": "Pågår",
    "awaiting_signatures": "Väntar på signaturer",
    "signed": "Signerad",
    "cancelled": "Inställd",
}
RESPONSES = {"invited": "Inbjuden", "accepted": "Accepterad", "declined": "Avböjd"}
INTOXICATION_LEVELS = {
    "nykter": "Nykter",
    "salongsberusad": "Salongsberusad",
    "markbart_paverkad": "Märkbart påverkad",
    "kraftigt_berusad": "Kraftigt berusad",
}
OBSERVATION_CATEGORIES = {
    "overservering": "Överservering",
    "berusning": "Berusning",
    "alderskontroll": "Ålder",
    "ordning": "Ordning",
    "narkotika": "Narkotika",
    "mat": "Mat",
    "ovrigt": "Övrigt",
}
CHECKLIST_STATUSES = {"ok": "OK", "anmarkning": "Anmärkning", "ej_kontrollerad": "Ej kontrollerad"}
CHECKLIST_ITEMS = {
    "serveringsansvarig": "Serveringsansvarig på plats",
    "ordning_nykterhet": "Ordning och nykterhet",
    "overservering": "Överservering",
    "alderskontroll": "Ålderskontroll",
    "mat": "Mat",
    "serveringstider": "Serveringstider",
    "uteservering": "Uteservering avgränsad",
    "marknadsforing": "Marknadsföring och prissättning",
    "kassaregister": "Kassaregister och kvitton",
    "personalliggare": "Personalliggare",
    "alkohol_inkop": "Alkohol lagligt inköpt",
    "ordningsvakter": "Ordningsvakter",
    "narkotika": "Narkotika",
    "max_antal_gaster": "Max antal gäster",
    "restaurangrapport": "Restaurangrapport",
    "fakturor": "Fakturor",
}
#: the items the pages show for each kind (the API accepts any code for any kind)
ON_SITE_ITEMS = [
    "serveringsansvarig",
    "ordning_nykterhet",
    "overservering",
    "alderskontroll",
    "mat",
    "serveringstider",
    "uteservering",
    "marknadsforing",
    "kassaregister",
    "personalliggare",
    "alkohol_inkop",
    "ordningsvakter",
    "narkotika",
    "max_antal_gaster",
]
CHECKLIST_FOR_KIND = {
    "yttre": ON_SITE_ITEMS,
    "samordnad": ON_SITE_ITEMS,
    "forebyggande": ON_SITE_ITEMS,
    "inre": ["restaurangrapport", "personalliggare", "kassaregister", "fakturor", "alkohol_inkop"],
}


class Round(db.Model):
    """A tillsynsrunda: one evening with several venues visited in a planned order."""

    __tablename__ = "inspection_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: the evening the round starts on (Stockholm date), even when it runs past midnight
    evening: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspections: Mapped[list[Inspection]] = relationship(back_populates="round", order_by="Inspection.round_position")


class Inspection(db.Model):
    """A tillsynsbesök and its protocol."""

    __tablename__ = "inspection"
    __table_args__ = (
        Index("ix_inspection_kommun_start", "kommun_id", "planned_start"),
        Index("ix_inspection_venue_start", "venue_id", "planned_start"),
        # a status in date order (the start page's protocols to sign): no sort, no walk by date
        Index("ix_inspection_status_start", "status", "planned_start"),
        # a window of dates across kommuner (the start page: tonight and the next two weeks)
        Index("ix_inspection_start", "planned_start"),
        # reports: a period is counted by arrival, else by planned start (summary, yearly statistics)
        Index("ix_inspection_kommun_arrived", "kommun_id", "arrived_at", "planned_start"),
        # the start page: signed protocols not yet sent to the permit holder (sent_to_holder_on IS NULL)
        Index("ix_inspection_kommun_unsent", "kommun_id", "sent_to_holder_on", "signed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    round_position: Mapped[int | None] = mapped_column(Integer)
    #: yttre | inre | samordnad | forebyggande
    kind: Mapped[str] = mapped_column(String(20))
    #: planned | in_progress | awaiting_signatures | signed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="planned")
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the kommun's registration number for the matter
    diarienummer: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: grows with every change to schedule, participants, protocol or status (optimistic lock)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The protocol.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the person met on site
    contact_person: Mapped[str | None] = mapped_column(String(200))
    responsible_server_present: Mapped[bool | None] = mapped_column(Boolean)
    responsible_server_name: Mapped[str | None] = mapped_column(String(200))
    guest_count: Mapped[int | None] = mapped_column(Integer)
    #: the general level in the venue: nykter | salongsberusad | markbart_paverkad | kraftigt_berusad
    intoxication_level: Mapped[str | None] = mapped_column(String(20))
    summary: Mapped[str | None] = mapped_column(Text)
    #: the oral summary given to the person in charge on site
    feedback_given: Mapped[str | None] = mapped_column(Text)
    #: {item code: {"status": ..., "note": ...}}
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)

    # Signing.
    #: SHA-256 of the canonical content approved at the first signature
    content_hash: Mapped[str | None] = mapped_column(String(64))
    #: the canonical content that content_hash was computed from (what was signed). Deferred: it is
    #: the largest column and only the PDF reads it (lists of inspections would decode it per row).
    signed_content: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    #: the venue's details at the first signature, as the PDF prints them (content.venue_snapshot);
    #: null for a protocol not yet signed, or signed before the snapshot was kept
    signed_venue: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    first_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the last accepted participant signed
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: public code printed on the PDF, checked at /verify/<code>
    verification_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: the date the signed protocol was sent to the permit holder
    sent_to_holder_on: Mapped[date | None] = mapped_column(Date)

    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)
    kommun: Mapped[Organisation] = relationship(foreign_keys=[kommun_id])
    round: Mapped[Round | None] = relationship(back_populates="inspections")
    participants: Mapped[list[InspectionParticipant]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="InspectionParticipant.id"
    )
    other_participants: Mapped[list[OtherParticipant]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="OtherParticipant.position"
    )
    observations: Mapped[list[Observation]] = relationship(
        back_populates="inspection", order_by="(Observation.observed_at, Observation.id)", passive_deletes=True
    )
    photos: Mapped[list[Photo]] = relationship(back_populates="inspection", order_by="Photo.id", passive_deletes=True)
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="inspection",
        order_by="Signature.signed_at",
        primaryjoin="and_(Signature.inspection_id == Inspection.id, Signature.amendment_id.is_(None),"
        " Signature.voided_at.is_(None))",
        viewonly=True,
    )
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="inspection", order_by="Amendment.id", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}


class InspectionParticipant(db.Model):
    """A user taking part in an inspection: kommun staff (accepted when added) or an invited police officer."""

    __tablename__ = "inspection_participant"
    __table_args__ = (
        UniqueConstraint("inspection_id", "user_id"),
        # a user's inspections (a police officer's list, the invitations waiting for an answer),
        # answered from the index alone
        Index("ix_inspection_participant_user", "user_id", "response", "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: the organisation the participant represented (kept if the user moves)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: invited | accepted | declined
    response: Mapped[str] = mapped_column(String(10), default="invited")
    comment: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class ProtocolPresence(db.Model):
    """Who has the protocol open now: each open protocol page says so every 30 seconds
    (POST /inspections/{id}/presence). Not evidence: one row per person and inspection, overwritten."""

    __tablename__ = "protocol_presence"
    __table_args__ = (UniqueConstraint("inspection_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class OtherParticipant(db.Model):
    """Someone without an account taking part (tax agency, fire service)."""

    __tablename__ = "other_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    inspection: Mapped[Inspection] = relationship(back_populates="other_participants")


class Observation(db.Model):
    """A timestamped observation during a visit. Append-only: it may be retracted, never changed."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("inspection_id", "client_id"),
        Index("ix_observation_inspection_observed", "inspection_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    #: UUID made by the client so that a resend never creates a duplicate
    client_id: Mapped[str] = mapped_column(String(36))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the server received it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    category: Mapped[str] = mapped_column(String(20))
    intoxication_level: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    retracted: Mapped[bool] = mapped_column(Boolean, default=False)
    retracted_reason: Mapped[str | None] = mapped_column(Text)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retracted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    inspection: Mapped[Inspection] = relationship(back_populates="observations")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined", innerjoin=True)


class Photo(db.Model):
    """A photo attached to an inspection, re-encoded and stripped of metadata, stored outside static."""

    __tablename__ = "photo"
    __table_args__ = (UniqueConstraint("inspection_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(36))
    #: generated file name under UPLOAD_FOLDER
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str | None] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    inspection: Mapped[Inspection] = relationship(back_populates="photos")


class Amendment(db.Model):
    """A correction to a signed protocol, written and signed separately (the protocol never changes)."""

    __tablename__ = "amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: awaiting_signatures | signed
    status: Mapped[str] = mapped_column(String(20), default="awaiting_signatures")
    content_hash: Mapped[str] = mapped_column(String(64))
    verification_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inspection: Mapped[Inspection] = relationship(back_populates="amendments")
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="amendment",
        order_by="Signature.signed_at",
        primaryjoin="and_(Signature.amendment_id == Amendment.id, Signature.voided_at.is_(None))",
        viewonly=True,
    )


class Signature(db.Model):
    """A participant's signature on a protocol (amendment_id null) or on an amendment."""

    __tablename__ = "signature"
    __table_args__ = (Index("ix_signature_inspection_user", "inspection_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id", ondelete="CASCADE"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendment.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: SHA-256 of the canonical content approved (the same for every signature of one protocol)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: set when the protocol was reopened; a voided signature is kept as evidence, never counted
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)

    inspection: Mapped[Inspection] = relationship(foreign_keys=[inspection_id])
    amendment: Mapped[Amendment | None] = relationship(back_populates="signatures", foreign_keys=[amendment_id])
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class InspectionPlan(db.Model):
    """A kommun's tillsynsplan for one year (alkohollagen 9 kap. 2 §): visits wanted per risk class."""

    __tablename__ = "inspection_plan"
    __table_args__ = (UniqueConstraint("kommun_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year: Mapped[int] = mapped_column(Integer)
    visits_class_1: Mapped[int] = mapped_column(Integer, default=1)
    visits_class_2: Mapped[int] = mapped_column(Integer, default=2)
    visits_class_3: Mapped[int] = mapped_column(Integer, default=4)
    #: joint evening rounds with the police planned for the year
    joint_rounds: Mapped[int] = mapped_column(Integer, default=12)
