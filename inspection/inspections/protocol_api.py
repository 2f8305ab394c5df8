"""API routes of the protocol: read and autosave an inspection (If-Match), observations, photos,
signatures, reopening and amendments (API.md "Inspection" and "Rules → Signing").

Each view keeps API.md's error order by the order of its steps: the body (400), the role (403), the
object (404), the object's permission (403), If-Match (428/412), the state (409), the input (422).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, jsonify, request, url_for
from flask_login import current_user
from pydantic import AwareDatetime, Field
from sqlalchemy.orm.exc import StaleDataError

from ..api import json_body, require_roles, route, validate, with_etag
from ..api.core import check_if_match
from ..errors import ServiceError, forbidden, not_found, validation_error
from ..extensions import db
from ..policy import may
from ..schemas import In, Name, Text
from . import photos, protocol, scheduling
from .content import observation_dict
from .models import CHECKLIST_ITEMS, Inspection
from .schemas import (
    AmendmentOut,
    Category,
    CheckStatus,
    InspectionOut,
    Level,
    ObservationOut,
    PhotoOut,
    PresenceListOut,
    SignatureOut,
    inspection_out,
)

#: who may use the protocol endpoints at all (admins see no protocol content)
USERS = ("inspector", "manager", "police")
KOMMUN = ("inspector", "manager")
#: PATCH fields that belong to the schedule (kommun staff only; scheduling.reschedule decides)
SCHEDULE_FIELDS = ("planned_start", "planned_end", "participant_ids", "other_participants", "diarienummer")


# ---- bodies ------------------------------------------------------------------------------------


class ChecklistItemIn(In):
    status: CheckStatus
    note: Text | None = None


class ProtocolIn(In):
    """Only the fields sent change; null clears. `checklist` replaces the items it names, each whole."""

    arrived_at: AwareDatetime | None = None
    left_at: AwareDatetime | None = None
    contact_person: Name | None = None
    responsible_server_present: bool | None = None
    responsible_server_name: Name | None = None
    guest_count: int | None = Field(default=None, ge=0, le=100_000)
    intoxication_level: Level | None = None
    summary: Text | None = None
    feedback_given: Text | None = None
    checklist: dict[str, ChecklistItemIn | None] | None = None


class OtherParticipantPatchIn(In):
    name: Name
    organisation: Name


class InspectionPatchIn(In):
    protocol: ProtocolIn | None = None
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    participant_ids: list[int] | None = Field(default=None, max_length=100)
    other_participants: list[OtherParticipantPatchIn] | None = Field(default=None, max_length=50)
    diarienummer: Name | None = None


class ObservationIn(In):
    client_id: uuid.UUID
    observed_at: AwareDatetime
    category: Category
    intoxication_level: Level | None = None
    description: Text


class ReasonIn(In):
    reason: Text = Field(min_length=1)


class PasswordIn(In):
    password: str = Field(max_length=256)


class AmendmentIn(In):
    text: Text = Field(min_length=1)


class PhotoUploadIn(In):
    file: bytes
    client_id: uuid.UUID


class SignatureResultOut(SignatureOut):
    inspection: InspectionOut


class AmendmentSignatureOut(SignatureOut):
    amendment: AmendmentOut


# ---- answers -----------------------------------------------------------------------------------


def photo_url(photo) -> str:
    return url_for("api.protocol_photo_get", inspection_id=photo.inspection_id, photo_id=photo.id)


def full_inspection(inspection: Inspection) -> dict:
    """The full Inspection object of API.md, with the scheduling warnings and photo URLs."""
    return inspection_out(inspection, scheduling.warnings(inspection), photo_url=photo_url)


def signature_dict(signature) -> dict:
    return SignatureOut.model_validate(
        {
            "user": signature.user,
            "organisation": signature.organisation,
            "signed_at": signature.signed_at,
            "content_hash": signature.content_hash,
        }
    ).model_dump(mode="json")


def amendment_dict(amendment) -> dict:
    return AmendmentOut.model_validate(
        {
            "id": amendment.id,
            "text": amendment.text,
            "author": amendment.author,
            "created_at": amendment.created_at,
            "status": amendment.status,
            "content_hash": amendment.content_hash,
            "verification_code": amendment.verification_code,
            "signatures": [signature_dict(s) for s in amendment.signatures],
        }
    ).model_dump(mode="json")


def _json(payload: Any, status: int):
    response = jsonify(payload)
    response.status_code = status
    return response


def _uuid(value: Any) -> str | None:
    """A client_id as stored (canonical lower-case UUID), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _validate_patch(body: Any) -> InspectionPatchIn:
    """The PATCH body, or 422 with every problem, unknown checklist codes at protocol.checklist.<code>."""
    fields: dict[str, list[str]] = {}
    protocol_body = body.get("protocol") if isinstance(body, dict) else None
    checklist = protocol_body.get("checklist") if isinstance(protocol_body, dict) else None
    if isinstance(checklist, dict):
        for code in checklist:
            if code not in CHECKLIST_ITEMS:
                fields[f"protocol.checklist.{code}"] = ["Okänd punkt i checklistan."]
    try:
        data = validate(InspectionPatchIn, body)
    except ServiceError as err:
        for key, messages in (err.fields or {}).items():
            fields.setdefault(key, []).extend(messages)
        raise validation_error(fields) from None
    if fields:
        raise validation_error(fields)
    return data


# ---- the inspection ----------------------------------------------------------------------------


@route(
    "/inspections/<int:inspection_id>",
    ["GET"],
    summary="The full inspection with its protocol, observations and signatures (ETag: its version)",
    responses={200: InspectionOut, 403: None, 404: None},
)
def protocol_inspection_get(inspection_id: int):
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id)
    return with_etag(full_inspection(inspection), inspection.version)


@route(
    "/inspections/<int:inspection_id>",
    ["PATCH"],
    summary="Save protocol fields and/or schedule fields; needs If-Match with the version it is based on",
    body=InspectionPatchIn,
    responses={200: InspectionOut, 403: None, 404: None, 409: None, 412: None, 422: None, 428: None},
)
def protocol_inspection_patch(inspection_id: int):
    body = json_body()
    require_roles(*USERS)
    sent = set(body) if isinstance(body, dict) else set()
    schedule_sent = [key for key in SCHEDULE_FIELDS if key in sent]
    if schedule_sent and not current_user.is_kommun_staff:
        raise forbidden("Bara kommunens handläggare kan ändra planeringen.")
    inspection = protocol.load_inspection(current_user, inspection_id, for_update=True)
    if "protocol" in sent and not may(current_user, "edit_protocol", inspection):
        raise forbidden()
    if schedule_sent and not may(current_user, "schedule", inspection):
        raise forbidden("Bara kommunens handläggare kan ändra planeringen.")
    check_if_match(inspection.version, lambda: full_inspection(inspection))
    if "protocol" in sent or schedule_sent:
        protocol.ensure_open(inspection)
    data = _validate_patch(body)
    try:
        if "protocol" in data.model_fields_set and data.protocol is not None:
            changes: dict[str, Any] = {}
            for field in data.protocol.model_fields_set:
                value = getattr(data.protocol, field)
                if field == "checklist" and value is not None:
                    value = {code: (item.model_dump() if item is not None else None) for code, item in value.items()}
                changes[field] = value
            protocol.update_protocol(current_user, inspection, changes)
        if schedule_sent:
            kwargs: dict[str, Any] = {}
            for field in schedule_sent:
                value = getattr(data, field)
                if field == "other_participants" and value is not None:
                    value = [o.model_dump() for o in value]
                kwargs[field] = value
            scheduling.reschedule(current_user, inspection, **kwargs)
        db.session.flush()
    except StaleDataError:
        # Another request changed the row between our read and our write (the lock makes this rare).
        db.session.rollback()
        current = db.session.get(Inspection, inspection_id)
        raise protocol.stale_error(full_inspection(current)) from None
    return with_etag(full_inspection(inspection), inspection.version)


# ---- observations ------------------------------------------------------------------------------


@route(
    "/inspections/<int:inspection_id>/presence",
    ["POST"],
    summary="Say that the caller has the protocol open now; answers who else has had it open within "
    "the last 90 seconds (the protocol page says so every 30 seconds)",
    responses={200: PresenceListOut, 403: None, 404: None},
)
def protocol_presence(inspection_id: int):
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id, "view", full=False)
    others = protocol.mark_present(current_user, inspection)
    payload = PresenceListOut.model_validate(
        {
            "present": [
                {"user": p.user, "organisation": p.user.organisation, "last_seen_at": p.last_seen_at} for p in others
            ]
        }
    ).model_dump(mode="json")
    return _json(payload, 200)


@route(
    "/inspections/<int:inspection_id>/observations",
    ["POST"],
    summary="Add an observation; the same client_id again answers the first (200), never a duplicate",
    body=ObservationIn,
    responses={200: ObservationOut, 201: ObservationOut, 403: None, 404: None, 409: None, 422: None},
)
def protocol_observation_create(inspection_id: int):
    body = json_body()
    require_roles(*USERS)
    # The answer is the observation alone: the inspection's other collections are not loaded.
    inspection = protocol.load_inspection(current_user, inspection_id, "observe", for_update=True, full=False)
    client_id = _uuid(body.get("client_id")) if isinstance(body, dict) else None
    if client_id is not None and (existing := protocol.find_observation(inspection, client_id)) is not None:
        return _json(observation_dict(existing), 200)
    protocol.ensure_open(inspection)
    data = validate(ObservationIn, body)
    observation, created = protocol.add_observation(
        current_user,
        inspection,
        # looked up above when the body's client_id is a UUID, which validate() has just required
        resend_checked=client_id is not None,
        client_id=str(data.client_id),
        observed_at=data.observed_at,
        category=data.category,
        intoxication_level=data.intoxication_level,
        description=data.description,
    )
    return _json(observation_dict(observation), 201 if created else 200)


@route(
    "/inspections/<int:inspection_id>/observations/<int:observation_id>/retract",
    ["POST"],
    summary="Retract an observation with a reason (before the first signature); it stays, marked",
    body=ReasonIn,
    responses={200: ObservationOut, 403: None, 404: None, 409: None, 422: None},
)
def protocol_observation_retract(inspection_id: int, observation_id: int):
    body = json_body()
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id, "observe", for_update=True)
    observation = protocol.get_observation(inspection, observation_id)
    protocol.check_may_retract(current_user, inspection, observation)
    protocol.ensure_open(inspection)
    data = validate(ReasonIn, body)
    protocol.retract_observation(current_user, inspection, observation, data.reason)
    return _json(observation_dict(observation), 200)


# ---- photos ------------------------------------------------------------------------------------


@route(
    "/inspections/<int:inspection_id>/photos",
    ["POST"],
    summary="Attach a photo (multipart: file JPEG/PNG ≤ 15 MB, client_id); re-encoded without metadata",
    body=PhotoUploadIn,
    content_type="multipart/form-data",
    responses={200: PhotoOut, 201: PhotoOut, 403: None, 404: None, 409: None, 413: None, 422: None},
)
def protocol_photo_create(inspection_id: int):
    # Reading the form first keeps API.md's order: a body too large (413) or not multipart (400)
    # is answered before anything is looked up.
    if not request.mimetype.startswith("multipart/form-data"):
        raise ServiceError("bad_request", "Skicka bilden som multipart/form-data.")
    upload = request.files.get("file")
    data = photos.read_limited(upload.stream) if upload is not None else None
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id, "observe")
    client_id = _uuid(request.form.get("client_id"))
    if client_id is not None and (existing := photos.find_photo(inspection, client_id)) is not None:
        return _json({"id": existing.id, "url": photo_url(existing)}, 200)
    protocol.ensure_open(inspection)
    fields: dict[str, str] = {}
    if client_id is None:
        fields["client_id"] = "Ska vara ett UUID."
    if not data:
        fields["file"] = "Välj en bild."
    if fields:
        raise validation_error(fields)
    image = photos.reencode(data)  # 422 when not an image; slow work, done before the row is locked
    inspection = protocol.load_inspection(current_user, inspection_id, "observe", for_update=True)
    photo, created = photos.add_photo(current_user, inspection, image=image, client_id=client_id)
    return _json({"id": photo.id, "url": photo_url(photo)}, 201 if created else 200)


@route(
    "/inspections/<int:inspection_id>/photos/<int:photo_id>",
    ["GET"],
    summary="A photo of the inspection (the re-encoded image)",
    responses={200: "image/*", 403: None, 404: None},
)
def protocol_photo_get(inspection_id: int, photo_id: int):
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id)
    photo = photos.get_photo(inspection, photo_id)
    path = photos.photo_path(photo) if photo is not None else None
    if path is None or not path.is_file():
        raise not_found()
    # Photos are small after re-encoding: answered from memory, so no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype=photo.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="foto-{inspection.id}-{photo.id}{path.suffix}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---- signing -----------------------------------------------------------------------------------


def _password(body: Any) -> str:
    if not isinstance(body, dict):
        validate(PasswordIn, body)  # 422: the body must be an object
    value = body.get("password")
    return value if isinstance(value, str) else ""


@route(
    "/inspections/<int:inspection_id>/signatures",
    ["POST"],
    summary="Sign the protocol as yourself with your password; signing twice answers the first (200)",
    body=PasswordIn,
    responses={200: SignatureResultOut, 201: SignatureResultOut, 403: None, 404: None, 409: None, 422: None, 429: None},
)
def protocol_sign(inspection_id: int):
    body = json_body()
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id, for_update=True)
    signature, created = protocol.sign(current_user, inspection, _password(body))
    payload = {**signature_dict(signature), "inspection": full_inspection(inspection)}
    return with_etag(payload, inspection.version, 201 if created else 200)


@route(
    "/inspections/<int:inspection_id>/reopen",
    ["POST"],
    summary="Reopen a protocol awaiting signatures (kommun staff): signatures voided, back to in_progress",
    body=ReasonIn,
    responses={200: InspectionOut, 403: None, 404: None, 409: None, 422: None},
)
def protocol_reopen(inspection_id: int):
    body = json_body()
    require_roles(*KOMMUN)
    inspection = protocol.load_inspection(current_user, inspection_id, "reopen", for_update=True)
    protocol.check_reopenable(inspection)
    data = validate(ReasonIn, body)
    protocol.reopen(current_user, inspection, data.reason)
    return with_etag(full_inspection(inspection), inspection.version)


@route(
    "/inspections/<int:inspection_id>/amendments",
    ["POST"],
    summary="Write an amendment to a signed protocol (kommun staff); it is signed like the protocol",
    body=AmendmentIn,
    responses={201: AmendmentOut, 403: None, 404: None, 409: None, 422: None},
)
def protocol_amendment_create(inspection_id: int):
    body = json_body()
    require_roles(*KOMMUN)
    inspection = protocol.load_inspection(current_user, inspection_id, "amend", for_update=True)
    protocol.check_amendable(inspection)
    data = validate(AmendmentIn, body)
    amendment = protocol.add_amendment(current_user, inspection, data.text)
    return _json(amendment_dict(amendment), 201)


@route(
    "/inspections/<int:inspection_id>/amendments/<int:amendment_id>/signatures",
    ["POST"],
    summary="Sign an amendment as yourself with your password; signing twice answers the first (200)",
    body=PasswordIn,
    responses={
        200: AmendmentSignatureOut,
        201: AmendmentSignatureOut,
        403: None,
        404: None,
        409: None,
        422: None,
        429: None,
    },
)
def protocol_amendment_sign(inspection_id: int, amendment_id: int):
    body = json_body()
    require_roles(*USERS)
    inspection = protocol.load_inspection(current_user, inspection_id, for_update=True)
    amendment = protocol.get_amendment(inspection, amendment_id)
    signature, created = protocol.sign_amendment(current_user, inspection, amendment, _password(body))
    payload = {**signature_dict(signature), "amendment": amendment_dict(amendment)}
    return _json(payload, 201 if created else 200)
