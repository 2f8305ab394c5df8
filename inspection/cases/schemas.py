"""The Case object of API.md and the bodies that open a case and add a step (pydantic)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from ..schemas import In, Name, Out, Ref, Text, UTCStamp

CaseStatus = Literal["open", "awaiting_reply", "ready_for_decision", "decided", "appealed", "closed"]
StepKind = Literal["note", "proposal", "kommunicering", "reply", "decision", "notification", "appeal", "appeal_outcome"]
Sanction = Literal["erinran", "varning", "aterkallelse", "ingen_atgard"]
DecidedBy = Literal["delegat", "namnd"]
Outcome = Literal["avslag", "bifall", "delvis_bifall", "avvisat", "aterkallat"]


class CaseIn(In):
    venue_id: int
    inspection_ids: list[int] = Field(default_factory=list, max_length=200)
    summary: Text
    diarienummer: Name | None = None


class StepKindIn(In):
    """The first look at a step body: its kind (the order is checked before the other fields)."""

    kind: StepKind


class StepIn(In):
    kind: StepKind
    #: the day the step happened (Stockholm); default today; never in the future
    date: dt.date | None = None
    #: proposal, decision
    sanction: Sanction | None = None
    #: proposal, decision: default 9 kap. 17 § (erinran, varning) or 18 § (återkallelse) alkohollagen
    legal_ground: Name | None = None
    #: kommunicering: the last day for the reply; default date + 14 days
    deadline: dt.date | None = None
    #: decision
    decided_by: DecidedBy | None = None
    #: appeal: the day the appeal reached the kommun
    filed_on: dt.date | None = None
    #: appeal_outcome
    outcome: Outcome | None = None
    #: any step; required for a note
    text: Text | None = None


class CasesQuery(In):
    status: CaseStatus | None = None
    venue_id: int | None = None


class IdRef(Out):
    id: int


class StepOut(Out):
    id: int
    kind: StepKind
    date: dt.date
    by: Ref
    sanction: Sanction | None = None
    legal_ground: str | None = None
    deadline: dt.date | None = None
    decided_by: DecidedBy | None = None
    filed_on: dt.date | None = None
    outcome: str | None = None
    text: str | None = None


class NoticeOut(BaseModel):
    code: str
    message: str


class DocumentOut(Out):
    id: int
    title: str
    content_type: str
    size: int
    uploaded_at: UTCStamp
    url: str


class CaseOut(Out):
    id: int
    venue: Ref
    status: CaseStatus
    summary: str
    inspections: list[IdRef]
    diarienummer: str | None
    steps: list[StepOut]
    #: warnings that never block (the sanction ladder, a late appeal)
    notices: list[NoticeOut] = []
    #: the current reply deadline (the kommunicering's), if any
    reply_deadline: dt.date | None = None
    #: the step kinds the caller may add now
    next_steps: list[StepKind] = []
    documents: list[DocumentOut] = []
    opened_at: UTCStamp
