from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ReportText(db.Model):
    """A text block a manager writes for the public report of one period."""

    __tablename__ = "report_text"
    __table_args__ = (UniqueConstraint("kommun_id", "period_from", "period_to", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kommun_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    #: intro | prevention | outlook
    key: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
