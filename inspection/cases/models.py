from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from ..types import UTCDateTime, utcnow
from ..venues.models import Venue

CASE_STATUSES = {
    "open": "Öppet",
    "awaiting_reply": "Kommunicering skickad",
    "ready_for_decision": "Klart för beslut",
    "decided": "Beslutat",
    "appealed": "Överklagat",
    "closed": "Avslutat",
}
STEP_KINDS = {
    "note": "Anteckning",
    "proposal": "Förslag till beslut",
    "kommunicering": "Kommunicering",
    "reply": "Yttrande",
    "decision": "Beslut",
    "notification": "Beslut delgivet",
    "appeal": "Överklagande",
    "appeal_outcome": "Dom i överklagande",
}
SANCTIONS = {
    "erinran": "Erinran",
    "varning": "Varning",
    "aterkallelse": "Återkallelse",
    "ingen_atgard": "Ingen åtgärd",
}

case_inspection = Table(
    "case_inspection",
    db.metadata,
    Column("case_id", ForeignKey("tillsyn_case.id", ondelete="CASCADE"), primary_key=True),
    Column("inspection_id", ForeignKey("inspection.id"), primary_key=True, index=True),
)


class Case(db.Model):
    """A tillsynsärende about one venue."""

    __tablename__ = "tillsyn_case"
    __table_args__ = (Index("ix_tillsyn_case_kommun_status", "kommun_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    #: open | awaiting_reply | ready_for_decision | decided | appealed | closed
    status: Mapped[str] = mapped_column(String(20), default="open")
    summary: Mapped[str] = mapped_column(Text)
    diarienummer: Mapped[str | None] = mapped_column(String(200))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined", innerjoin=True)
    inspections = relationship("Inspection", secondary=case_inspection, order_by="Inspection.planned_start")
    steps: Mapped[list[CaseStep]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="(CaseStep.date, CaseStep.id)"
    )
    documents: Mapped[list[CaseDocument]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseDocument.id"
    )


class CaseStep(db.Model):
    __tablename__ = "case_step"
    __table_args__ = (Index("ix_case_step_kind_date", "kind", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tillsyn_case.id", ondelete="CASCADE"), index=True)
    #: note | proposal | kommunicering | reply | decision | notification | appeal | appeal_outcome
    kind: Mapped[str] = mapped_column(String(20))
    date: Mapped[date] = mapped_column(Date)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: proposal, decision: erinran | varning | aterkallelse | ingen_atgard
    sanction: Mapped[str | None] = mapped_column(String(20))
    #: proposal: e.g. "9 kap. 17 § alkohollagen"
    legal_ground: Mapped[str | None] = mapped_column(String(200))
    #: kommunicering: the last day for the permit holder's reply (förvaltningslagen 25 §)
    deadline: Mapped[date | None] = mapped_column(Date)
    #: decision: delegat | namnd
    decided_by: Mapped[str | None] = mapped_column(String(10))
    #: appeal: the date the appeal reached the kommun
    filed_on: Mapped[date | None] = mapped_column(Date)
    #: appeal_outcome: e.g. avslag, bifall, delvis_bifall
    outcome: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="steps")
    by: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class CaseDocument(db.Model):
    """A document attached to a case as evidence (e.g. a police report)."""

    __tablename__ = "case_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tillsyn_case.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="documents")


class LetterTemplate(db.Model):
    """A kommun's editable text for the kommunicering and decision letters."""

    __tablename__ = "letter_template"
    __table_args__ = (UniqueConstraint("kommun_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: kommunicering | decision
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
