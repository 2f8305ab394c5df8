"""The Inspection object of API.md, as pydantic models (answers and openapi.json)."""

from __future__ import annotations

from typing import Literal

from ..schemas import OrganisationOut, Out, Ref, UTCStamp

Kind = Literal["yttre", "inre", "samordnad", "forebyggande"]
Status = Literal["planned", "in_progress", "awaiting_signatures", "signed", "cancelled"]
Level = Literal["nykter", "salongsberusad", "markbart_paverkad", "kraftigt_berusad"]
Category = Literal["overservering", "berusning", "alderskontroll", "ordning", "narkotika", "mat", "ovrigt"]
CheckStatus = Literal["ok", "anmarkning", "ej_kontrollerad"]


class ParticipantOut(Out):
    user: Ref
    organisation: OrganisationOut
    response: Literal["invited", "accepted", "declined"]
    comment: str | None = None


class OtherParticipantOut(Out):
    name: str
    organisation: str


class ChecklistItemOut(Out):
    status: CheckStatus
    note: str | None = None


class ProtocolOut(Out):
    arrived_at: UTCStamp | None
    left_at: UTCStamp | None
    contact_person: str | None
    responsible_server_present: bool | None
    responsible_server_name: str | None
    guest_count: int | None
    intoxication_level: Level | None
    summary: str | None
    feedback_given: str | None
    checklist: dict[str, ChecklistItemOut]


class ObservationOut(Out):
    id: int
    client_id: str
    observed_at: UTCStamp
    received_at: UTCStamp
    category: Category
    intoxication_level: Level | None
    description: str
    author: Ref
    retracted: bool
    retracted_reason: str | None = None


class SignatureOut(Out):
    user: Ref
    organisation: OrganisationOut
    signed_at: UTCStamp
    content_hash: str


class AmendmentOut(Out):
    id: int
    text: str
    author: Ref
    created_at: UTCStamp
    status: Literal["awaiting_signatures", "signed"]
    content_hash: str
    verification_code: str | None
    signatures: list[SignatureOut]


class PhotoOut(Out):
    id: int
    url: str


class WarningOut(Out):
    code: str
    message: str


class InspectionSummaryOut(Out):
    id: int
    venue: Ref
    kind: Kind
    status: Status
    planned_start: UTCStamp
    planned_end: UTCStamp
    diarienummer: str | None
    participants: list[ParticipantOut]
    other_participants: list[OtherParticipantOut]
    round_id: int | None = None
    version: int


class PresenceOut(Out):
    user: Ref
    organisation: OrganisationOut
    last_seen_at: UTCStamp


class PresenceListOut(Out):
    """The others who have had the protocol open within the last 90 seconds (not the caller)."""

    present: list[PresenceOut]


class InspectionOut(InspectionSummaryOut):
    protocol: ProtocolOut
    observations: list[ObservationOut]
    signatures: list[SignatureOut]
    amendments: list[AmendmentOut]
    photos: list[PhotoOut] = []
    cancel_reason: str | None = None
    verification_code: str | None = None
    warnings: list[WarningOut]


def protocol_dict(inspection) -> dict:
    """The protocol part of an inspection (also what gets hashed at signing)."""
    return {
        "arrived_at": inspection.arrived_at,
        "left_at": inspection.left_at,
        "contact_person": inspection.contact_person,
        "responsible_server_present": inspection.responsible_server_present,
        "responsible_server_name": inspection.responsible_server_name,
        "guest_count": inspection.guest_count,
        "intoxication_level": inspection.intoxication_level,
        "summary": inspection.summary,
        "feedback_given": inspection.feedback_given,
        "checklist": dict(inspection.checklist or {}),
    }


def _summary_fields(inspection) -> dict:
    """The fields of InspectionSummaryOut, as the model validates them (objects, not yet JSON)."""
    return {
        "id": inspection.id,
        "venue": inspection.venue,
        "kind": inspection.kind,
        "status": inspection.status,
        "planned_start": inspection.planned_start,
        "planned_end": inspection.planned_end,
        "diarienummer": inspection.diarienummer,
        "participants": [
            {"user": p.user, "organisation": p.organisation, "response": p.response, "comment": p.comment}
            for p in inspection.participants
        ],
        "other_participants": inspection.other_participants,
        "round_id": inspection.round_id,
        "version": inspection.version,
    }


def summary_out(inspection) -> dict:
    return InspectionSummaryOut.model_validate(_summary_fields(inspection)).model_dump(mode="json")


def inspection_out(inspection, warnings: list[dict] | None = None, photo_url=None) -> dict:
    """The full Inspection object of API.md. `warnings` come from the scheduling rules."""
    # One validation of the whole object (the summary part is not validated, dumped and validated again).
    return InspectionOut.model_validate(
        {
            **_summary_fields(inspection),
            "protocol": protocol_dict(inspection),
            "observations": [
                {
                    "id": o.id,
                    "client_id": o.client_id,
                    "observed_at": o.observed_at,
                    "received_at": o.received_at,
                    "category": o.category,
                    "intoxication_level": o.intoxication_level,
                    "description": o.description,
                    "author": o.author,
                    "retracted": o.retracted,
                    "retracted_reason": o.retracted_reason,
                }
                for o in inspection.observations
            ],
            "signatures": [_signature(s) for s in inspection.signatures],
            "amendments": [
                {
                    "id": a.id,
                    "text": a.text,
                    "author": a.author,
                    "created_at": a.created_at,
                    "status": a.status,
                    "content_hash": a.content_hash,
                    "verification_code": a.verification_code,
                    "signatures": [_signature(s) for s in a.signatures],
                }
                for a in inspection.amendments
            ],
            "photos": [{"id": p.id, "url": photo_url(p) if photo_url else ""} for p in inspection.photos],
            "cancel_reason": inspection.cancel_reason,
            "verification_code": inspection.verification_code,
            "warnings": warnings or [],
        }
    ).model_dump(mode="json")


def _signature(s) -> dict:
    return {"user": s.user, "organisation": s.organisation, "signed_at": s.signed_at, "content_hash": s.content_hash}
