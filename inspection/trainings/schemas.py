"""JSON bodies and answers of the training and överserveringstest endpoints (API.md)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from ..schemas import In, Name, Out, Ref, Text

TrainingKind = Literal["ansvarsfull_alkoholservering", "krogar_mot_knark", "forebyggande_information", "ovrigt"]
TrainingParticipantRole = Literal[
    "serveringsansvarig", "serveringspersonal", "ordningsvakt", "dorrvard", "tillstandshavare", "ovrig"
]
Organiser = Literal["kommun", "polis"]


class TrainingParticipantIn(In):
    name: Name
    role: TrainingParticipantRole
    venue_id: int | None = None
    attended: bool = True
    passed: bool | None = None
    diploma_on: date | None = None


class TrainingIn(In):
    kind: TrainingKind
    title: Name
    starts_on: date
    ends_on: date
    place: Name | None = None
    organisers: list[Organiser] | None = None
    venue_ids: list[int] = Field(default_factory=list, max_length=500)
    participants: list[TrainingParticipantIn] = Field(default_factory=list, max_length=1000)


class TrainingParticipantOut(Out):
    name: str
    role: str
    venue: Ref | None
    attended: bool
    passed: bool | None
    diploma_on: date | None


class TrainingKommunOut(Out):
    id: int
    name: str


class TrainingOut(Out):
    id: int
    kind: str
    title: str
    starts_on: date
    ends_on: date
    place: str | None
    organisers: list[str]
    kommun: TrainingKommunOut
    venues: list[Ref]
    participants: list[TrainingParticipantOut]


class TrainingQuery(BaseModel):
    venue_id: int | None = None


class OverservingTestIn(In):
    venue_id: int
    tested_on: date
    refused: bool
    notes: Text | None = None


class OverservingTestOut(Out):
    id: int
    venue: Ref
    tested_on: date
    refused: bool
    notes: str | None


class OverservingTestQuery(BaseModel):
    venue_id: int | None = None
