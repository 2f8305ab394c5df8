"""The canonical content of a protocol and its SHA-256: what every signature approves.

API.md: the canonical JSON (keys sorted, no spaces, UTF-8) of the protocol, the observations (ordered
by `observed_at`, then `id`) and the participants' user and organisation ids (sorted). The content is
computed once, at the first signature, and stored with the inspection (`signed_content`), so that a
later check recomputes the hash from exactly what was signed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..types import iso_utc
from .schemas import ObservationOut, ProtocolOut, protocol_dict


def observation_dict(observation) -> dict[str, Any]:
    """An observation as the API answers it (JSON-ready, UTC timestamps with Z)."""
    return ObservationOut.model_validate(
        {
            "id": observation.id,
            "client_id": observation.client_id,
            "observed_at": observation.observed_at,
            "received_at": observation.received_at,
            "category": observation.category,
            "intoxication_level": observation.intoxication_level,
            "description": observation.description,
            "author": observation.author,
            "retracted": observation.retracted,
            "retracted_reason": observation.retracted_reason,
        }
    ).model_dump(mode="json")


def canonical_content(inspection) -> dict[str, Any]:
    """{protocol, observations, participants} of an inspection, JSON-ready."""
    observations = sorted(inspection.observations, key=lambda o: (o.observed_at, o.id))
    return {
        "protocol": ProtocolOut.model_validate(protocol_dict(inspection)).model_dump(mode="json"),
        "observations": [observation_dict(o) for o in observations],
        "participants": sorted([p.user_id, p.organisation_id] for p in inspection.participants),
    }


def canonical_json(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(content: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `content`."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def amendment_content(amendment) -> dict[str, Any]:
    """What an amendment's signatures approve: its text, who wrote it and when, and the signed
    protocol it corrects (by that protocol's hash)."""
    return {
        "inspection_id": amendment.inspection_id,
        "protocol_content_hash": amendment.inspection.content_hash,
        "text": amendment.text,
        "author_id": amendment.author_id,
        "created_at": iso_utc(amendment.created_at),
    }


def venue_snapshot(venue) -> dict[str, Any]:
    """The venue's details as the protocol PDF prints them. Taken at the first signature and kept
    with the protocol (Inspection.signed_venue): a later change to the venue (a new permit holder, a
    new name) must not change a signed protocol's document."""
    from ..venues.models import PERMIT_KINDS, SCOPES

    return {
        "name": venue.name,
        "address": venue.address,
        "permit_holder": venue.permit_holder,
        "org_number": venue.org_number,
        "permit_number": venue.permit_number,
        "permit_scope": SCOPES.get(venue.permit_scope, venue.permit_scope),
        "permit_kind": PERMIT_KINDS.get(venue.permit_kind, venue.permit_kind),
        "serving_hours": venue.serving_hours,
        "outdoor_serving_hours": venue.outdoor_serving_hours,
        "max_guests": venue.max_guests,
        "ordningsvakter_required": venue.ordningsvakter_required,
    }
