"""The protocol of a visit: autosaved fields, the observation timeline, signing, reopening, amendments.

Rules (API.md "Inspection", "Rules → Signing"):
- every change to the protocol row carries the version it was based on; the row is locked while it is
  checked and changed (SELECT ... FOR UPDATE; SQLite takes its write lock at BEGIN IMMEDIATE), and the
  mapper's version counter refuses a stale UPDATE that slipped past anyway;
- observations are append-only, idempotent on the client's `client_id`, and do not change the version;
- the first signature (a kommun participant's) freezes the content and fixes its SHA-256; from then on
  the protocol, its participants and its observations answer 409 `locked`;
- a signed protocol never changes: corrections are amendments, signed like the protocol.

Services take domain objects and the acting user, check the rules, change, audit and flush; they never
commit (the request does).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..auth.services import check_own_password
from ..errors import ServiceError, conflict, forbidden, locked, not_found, validation_error
from ..extensions import db
from ..policy import may
from ..types import utcnow
from .content import amendment_content, canonical_content, content_hash, observation_dict, venue_snapshot
from .models import (
    CHECKLIST_ITEMS,
    Amendment,
    Inspection,
    InspectionParticipant,
    Observation,
    ProtocolPresence,
    Signature,
)
from .verification import make_code

#: the protocol's own fields (the checklist is merged per item, the others replaced)
PROTOCOL_FIELDS = (
    "arrived_at",
    "left_at",
    "contact_person",
    "responsible_server_present",
    "responsible_server_name",
    "guest_count",
    "intoxication_level",
    "summary",
    "feedback_given",
    "checklist",
)
#: how far from the planned times an observation may lie
OBSERVATION_WINDOW = timedelta(hours=12)
#: statuses in which the content is frozen
FROZEN = ("awaiting_signatures", "signed")


# ---- loading ---------------------------------------------------------------------------------


#: what the full Inspection object (and the protocol page) shows, loaded up front
FULL = (
    selectinload(Inspection.participants),
    selectinload(Inspection.other_participants),
    selectinload(Inspection.observations),
    selectinload(Inspection.signatures),
    selectinload(Inspection.amendments).selectinload(Amendment.signatures),
    selectinload(Inspection.photos),
)
#: what the permission rules need (who takes part): enough for a request that answers with a part
PARTICIPANTS = (selectinload(Inspection.participants),)


@cache
def _load_statement(full: bool, for_update: bool):
    """Built once per kind (the options make building it and its cache key cost more than the query)."""
    stmt = (
        select(Inspection).where(Inspection.id == bindparam("inspection_id")).options(*(FULL if full else PARTICIPANTS))
    )
    if for_update:
        stmt = stmt.with_for_update(of=Inspection).execution_options(populate_existing=True)
    return stmt


def load_inspection(
    actor, inspection_id: Any, need: str = "view", *, for_update: bool = False, full: bool = True
) -> Inspection:
    """The inspection for a request: 404 when missing or not visible, 403 when `need` is not allowed.

    `for_update` locks the row until the end of the transaction (PostgreSQL; SQLite's write requests
    already hold the database's write lock), so that checking the version or the status and then
    changing the inspection is one atomic step. `full=False` loads only the participants: for a request
    that answers with one part (an observation), each collection not loaded is a query saved."""
    try:
        key = int(inspection_id)
    except (TypeError, ValueError):
        raise not_found() from None
    inspection = db.session.scalars(_load_statement(full, for_update), {"inspection_id": key}).first()
    if inspection is None or not may(actor, "view", inspection):
        raise not_found()
    if need != "view" and not may(actor, need, inspection):
        raise forbidden()
    return inspection


#: how long a protocol page counts as open after its last "I am here" (it says so every 30 s)
PRESENCE_WINDOW = timedelta(seconds=90)


def mark_present(actor, inspection: Inspection) -> list[ProtocolPresence]:
    """Note that `actor` has the protocol open now; answers the others who have had it open within
    PRESENCE_WINDOW, most recent first (UX: "who else is in the protocol now")."""
    now = utcnow()
    mine = select(ProtocolPresence).where(
        ProtocolPresence.inspection_id == inspection.id, ProtocolPresence.user_id == actor.id
    )
    row = db.session.scalar(mine)
    if row is None:
        try:
            with db.session.begin_nested():  # two tabs of the same user may both insert first
                db.session.add(ProtocolPresence(inspection_id=inspection.id, user_id=actor.id, last_seen_at=now))
        except IntegrityError:
            row = db.session.scalar(mine)
    if row is not None:
        row.last_seen_at = now
    return list(
        db.session.scalars(
            select(ProtocolPresence)
            .where(
                ProtocolPresence.inspection_id == inspection.id,
                ProtocolPresence.user_id != actor.id,
                ProtocolPresence.last_seen_at >= now - PRESENCE_WINDOW,
            )
            .order_by(ProtocolPresence.last_seen_at.desc(), ProtocolPresence.id)
        )
    )


def participant_of(inspection: Inspection, user) -> InspectionParticipant | None:
    return next((p for p in inspection.participants if p.user_id == user.id), None)


def ensure_open(inspection: Inspection) -> None:
    """409 when the protocol may no longer change: `locked` from the first signature on, `conflict` when
    the visit was cancelled."""
    if inspection.status in FROZEN:
        raise locked()
    if inspection.status == "cancelled":
        raise conflict("Besöket är inställt.")


def mark_started(inspection: Inspection) -> None:
    """planned → in_progress at the first protocol change or observation."""
    if inspection.status == "planned":
        inspection.status = "in_progress"


def _touch(inspection: Inspection) -> None:
    """Make the inspection row change, so that its version grows (a participant's response changed)."""
    inspection.updated_at = utcnow()


# ---- the protocol's fields ---------------------------------------------------------------------


def protocol_values(inspection: Inspection) -> dict[str, Any]:
    """The protocol's fields for the audit diff, the checklist flattened per item."""
    values: dict[str, Any] = {field: getattr(inspection, field) for field in PROTOCOL_FIELDS if field != "checklist"}
    for code, item in sorted((inspection.checklist or {}).items()):
        values[f"checklist.{code}"] = item
    return values


def update_protocol(actor, inspection: Inspection, changes: dict[str, Any]) -> bool:
    """Apply the protocol fields that were sent (None clears). `checklist` maps item codes to
    {status, note} (replacing each item whole) or None (removing the item); `checklist: None` clears
    them all. Answers whether anything changed."""
    ensure_open(inspection)
    unknown = [code for code in (changes.get("checklist") or {}) if code not in CHECKLIST_ITEMS]
    if unknown:
        raise validation_error(
            {f"protocol.checklist.{code}": "Okänd punkt i checklistan." for code in unknown},
            "Okänd punkt i checklistan.",
        )
    before = protocol_values(inspection)
    for field, value in changes.items():
        if field not in PROTOCOL_FIELDS:
            continue
        if field == "checklist":
            if value is None:
                merged: dict[str, Any] = {}
            else:
                merged = dict(inspection.checklist or {})
                for code, item in value.items():
                    if item is None:
                        merged.pop(code, None)
                    else:
                        merged[code] = {"status": item["status"], "note": item.get("note")}
            if merged != (inspection.checklist or {}):
                inspection.checklist = merged  # a new dict: the JSON column sees the change
        elif getattr(inspection, field) != value:
            setattr(inspection, field, value)
    if inspection.arrived_at and inspection.left_at and inspection.left_at < inspection.arrived_at:
        raise validation_error({"protocol.left_at": "Avfärden kan inte vara före ankomsten."})
    after = protocol_values(inspection)
    changed = audit.diff(before, after)
    if not changed:
        return False
    mark_started(inspection)
    db.session.flush()
    audit.record("inspection.protocol_update", inspection, user=actor, details=changed)
    return True


# ---- observations ------------------------------------------------------------------------------


def _observation_by_client_id(inspection_id: int, client_id: str) -> Observation | None:
    return db.session.scalar(
        select(Observation).where(Observation.inspection_id == inspection_id, Observation.client_id == client_id)
    )


def find_observation(inspection: Inspection, client_id: str) -> Observation | None:
    """An observation already received with this client_id (a resend)."""
    return _observation_by_client_id(inspection.id, client_id)


def add_observation(
    actor,
    inspection: Inspection,
    *,
    client_id: str,
    observed_at: datetime,
    category: str,
    description: str,
    intoxication_level: str | None = None,
    resend_checked: bool = False,
) -> tuple[Observation, bool]:
    """Record an observation; answers (observation, created). A resend of the same client_id answers
    the first, also when both copies arrive at once (the unique key decides, not a look-up).
    `resend_checked`: the caller has just looked for a resend (find_observation) with the row locked,
    so the look-up is not repeated."""
    existing = None if resend_checked else find_observation(inspection, client_id)
    if existing is not None:
        return existing, False
    ensure_open(inspection)
    if not (
        inspection.planned_start - OBSERVATION_WINDOW <= observed_at <= inspection.planned_end + OBSERVATION_WINDOW
    ):
        raise validation_error({"observed_at": "Tidpunkten ligger mer än 12 timmar från besökets planerade tid."})
    observation = Observation(
        inspection_id=inspection.id,
        client_id=client_id,
        observed_at=observed_at,
        received_at=utcnow(),
        category=category,
        intoxication_level=intoxication_level,
        description=description,
        author_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(observation)
    except IntegrityError:
        # The same client_id arrived at the same moment in another request, which won.
        existing = _observation_by_client_id(inspection.id, client_id)
        if existing is None:
            raise
        return existing, False
    mark_started(inspection)
    db.session.flush()
    db.session.expire(inspection, ["observations"])
    audit.record(
        "observation.create",
        inspection,
        user=actor,
        details={"observation_id": observation.id, **observation_dict(observation)},
    )
    return observation, True


def get_observation(inspection: Inspection, observation_id: Any) -> Observation:
    try:
        key = int(observation_id)
    except (TypeError, ValueError):
        raise not_found() from None
    observation = db.session.get(Observation, key)
    if observation is None or observation.inspection_id != inspection.id:
        raise not_found()
    return observation


def check_may_retract(actor, inspection: Inspection, observation: Observation) -> None:
    """Its author, or the kommun's staff, may retract an observation (a police officer does not withdraw
    what the inspector saw, nor the other way round without the kommun's say)."""
    if observation.author_id != actor.id and not (
        actor.is_kommun_staff and actor.organisation_id == inspection.kommun_id
    ):
        raise forbidden("Bara den som skrev observationen eller kommunens handläggare kan dra tillbaka den.")


def retract_observation(actor, inspection: Inspection, observation: Observation, reason: str) -> Observation:
    """Mark an observation retracted with a reason (before the first signature); it stays in the timeline."""
    check_may_retract(actor, inspection, observation)
    ensure_open(inspection)
    if observation.retracted:
        return observation
    if not reason.strip():
        raise validation_error({"reason": "Ange varför observationen dras tillbaka."})
    observation.retracted = True
    observation.retracted_reason = reason
    observation.retracted_at = utcnow()
    observation.retracted_by_id = actor.id
    db.session.flush()
    audit.record(
        "observation.retract",
        inspection,
        user=actor,
        details={"observation_id": observation.id, "retracted": [False, True], "reason": reason},
    )
    return observation


# ---- signing -------------------------------------------------------------------------------------


def _active_signatures(inspection_id: int, amendment_id: int | None = None) -> list[Signature]:
    stmt = select(Signature).where(Signature.inspection_id == inspection_id, Signature.voided_at.is_(None))
    if amendment_id is None:
        stmt = stmt.where(Signature.amendment_id.is_(None))
    else:
        stmt = stmt.where(Signature.amendment_id == amendment_id)
    return list(db.session.scalars(stmt.order_by(Signature.signed_at, Signature.id)))


def missing_notes(inspection: Inspection) -> list[str]:
    """Checklist items marked anmärkning without a note (the first signature needs one on each)."""
    return sorted(
        code
        for code, item in (inspection.checklist or {}).items()
        if item.get("status") == "anmarkning" and not (item.get("note") or "").strip()
    )


def _all_signed(inspection: Inspection, signatures: list[Signature]) -> bool:
    signed = {s.user_id for s in signatures}
    accepted = [p.user_id for p in inspection.participants if p.response == "accepted"]
    return bool(accepted) and all(user_id in signed for user_id in accepted)


def _verification_code(inspection: Inspection) -> str:
    """The public code of a signed protocol. Two visits may have identical content (the same inspector
    alone, an empty protocol): the second then gets a code derived from its own id as well."""
    code = make_code(inspection.content_hash)
    taken = db.session.scalar(
        select(Inspection.id).where(Inspection.verification_code == code, Inspection.id != inspection.id)
    )
    return code if taken is None else make_code(f"{inspection.content_hash}:{inspection.id}")


def sign(actor, inspection: Inspection, password: str) -> tuple[Signature, bool]:
    """Sign the protocol as `actor` (the password again); answers (signature, created).

    The first signature must be a kommun participant's; it needs a note on every anmärkning and
    freezes the content. The protocol is signed when every accepted participant has signed."""
    participant = participant_of(inspection, actor)
    if participant is None:
        raise forbidden("Bara deltagare i besöket kan signera protokollet.")
    signatures = _active_signatures(inspection.id)
    mine = next((s for s in signatures if s.user_id == actor.id), None)
    if mine is not None:
        return mine, False
    if inspection.status == "cancelled":
        raise conflict("Besöket är inställt.")
    if inspection.status == "signed":
        raise conflict("Protokollet är redan signerat av alla deltagare.")
    if participant.response == "declined":
        raise conflict("Du har tackat nej till besöket. Svara ja först om du deltog.")
    first = not signatures
    if first:
        if participant.organisation.kind != "kommun":
            raise conflict("Kommunens handläggare signerar protokollet först.")
        missing = missing_notes(inspection)
        if missing:
            raise validation_error(
                {f"protocol.checklist.{code}.note": "Skriv en kommentar till anmärkningen." for code in missing},
                "Varje anmärkning behöver en kommentar innan protokollet signeras.",
            )
    # The password last: a wrong one is recorded (and committed) for the throttle, so nothing may
    # have been changed before it.
    check_own_password(actor, password)

    now = utcnow()
    if first:
        content = canonical_content(inspection)
        inspection.signed_content = content
        inspection.signed_venue = venue_snapshot(inspection.venue)
        inspection.content_hash = content_hash(content)
        inspection.first_signed_at = now
        inspection.status = "awaiting_signatures"
    if participant.response != "accepted":
        participant.response = "accepted"
        participant.responded_at = now
        _touch(inspection)
    signature = Signature(
        inspection_id=inspection.id,
        user_id=actor.id,
        organisation_id=participant.organisation_id,
        signed_at=now,
        content_hash=inspection.content_hash,
    )
    db.session.add(signature)
    db.session.flush()
    if _all_signed(inspection, [*signatures, signature]):
        inspection.status = "signed"
        inspection.signed_at = now
        inspection.verification_code = _verification_code(inspection)
    db.session.flush()
    db.session.expire(inspection, ["signatures"])
    audit.record(
        "inspection.sign",
        inspection,
        user=actor,
        details={
            "signature_id": signature.id,
            "content_hash": signature.content_hash,
            "first": first,
            "status": inspection.status,
        },
    )
    return signature, True


def check_reopenable(inspection: Inspection) -> None:
    """409 unless the protocol awaits signatures (`locked` once everybody has signed)."""
    if inspection.status == "signed":
        raise locked("Protokollet är signerat av alla och kan inte öppnas igen. Skriv ett tillägg.")
    if inspection.status != "awaiting_signatures":
        raise conflict("Bara ett protokoll som väntar på signaturer kan öppnas igen.")


def reopen(actor, inspection: Inspection, reason: str) -> Inspection:
    """Back from awaiting_signatures to in_progress: the signatures are voided (kept), the hash cleared."""
    check_reopenable(inspection)
    if not reason.strip():
        raise validation_error({"reason": "Ange varför protokollet öppnas igen."})
    now = utcnow()
    voided = _active_signatures(inspection.id)
    for signature in voided:
        signature.voided_at = now
        signature.void_reason = reason
    before = {"status": inspection.status, "content_hash": inspection.content_hash}
    inspection.status = "in_progress"
    inspection.content_hash = None
    inspection.signed_content = None
    inspection.signed_venue = None
    inspection.first_signed_at = None
    db.session.flush()
    db.session.expire(inspection, ["signatures"])
    audit.record(
        "inspection.reopen",
        inspection,
        user=actor,
        details={
            **audit.diff(before, {"status": inspection.status, "content_hash": None}),
            "reason": reason,
            "voided_signatures": [s.id for s in voided],
        },
    )
    return inspection


# ---- amendments ----------------------------------------------------------------------------------


def check_amendable(inspection: Inspection) -> None:
    if inspection.status != "signed":
        raise conflict("Tillägg skrivs till ett signerat protokoll; ändra protokollet direkt innan dess.")


def add_amendment(actor, inspection: Inspection, text: str) -> Amendment:
    """A correction to a signed protocol, to be signed by its participants."""
    check_amendable(inspection)
    if not text.strip():
        raise validation_error({"text": "Skriv tillägget."})
    amendment = Amendment(
        inspection_id=inspection.id,
        inspection=inspection,
        text=text,
        author_id=actor.id,
        created_at=utcnow(),
        status="awaiting_signatures",
    )
    amendment.content_hash = content_hash(amendment_content(amendment))
    db.session.add(amendment)
    db.session.flush()
    audit.record(
        "amendment.create",
        inspection,
        user=actor,
        details={"amendment_id": amendment.id, "text": text, "content_hash": amendment.content_hash},
    )
    return amendment


def get_amendment(inspection: Inspection, amendment_id: Any) -> Amendment:
    try:
        key = int(amendment_id)
    except (TypeError, ValueError):
        raise not_found() from None
    amendment = db.session.get(Amendment, key)
    if amendment is None or amendment.inspection_id != inspection.id:
        raise not_found()
    return amendment


def sign_amendment(actor, inspection: Inspection, amendment: Amendment, password: str) -> tuple[Signature, bool]:
    """Sign an amendment as `actor`; it is signed when every accepted participant has signed it."""
    participant = participant_of(inspection, actor)
    if participant is None:
        raise forbidden("Bara deltagare i besöket kan signera tillägget.")
    signatures = _active_signatures(inspection.id, amendment.id)
    mine = next((s for s in signatures if s.user_id == actor.id), None)
    if mine is not None:
        return mine, False
    if participant.response != "accepted":
        raise conflict("Bara deltagare som var med vid besöket signerar tillägg.")
    if amendment.status == "signed":
        raise conflict("Tillägget är redan signerat av alla deltagare.")
    check_own_password(actor, password)
    now = utcnow()
    signature = Signature(
        inspection_id=inspection.id,
        amendment_id=amendment.id,
        user_id=actor.id,
        organisation_id=participant.organisation_id,
        signed_at=now,
        content_hash=amendment.content_hash,
    )
    db.session.add(signature)
    db.session.flush()
    if _all_signed(inspection, [*signatures, signature]):
        amendment.status = "signed"
        amendment.signed_at = now
        amendment.verification_code = make_code(amendment.content_hash, "amendment")
    db.session.flush()
    db.session.expire(amendment, ["signatures"])
    audit.record(
        "amendment.sign",
        inspection,
        user=actor,
        details={
            "amendment_id": amendment.id,
            "signature_id": signature.id,
            "content_hash": amendment.content_hash,
            "status": amendment.status,
        },
    )
    return signature, True


def stale_error(current: dict) -> ServiceError:
    return ServiceError("stale", "Någon annan har ändrat detta under tiden.", extra={"current": current})
