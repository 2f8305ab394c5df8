"""Fixtures for the protocol PDF tests: a filled-in protocol, signing it the way the protocol feature
does (status, content hash, frozen content, verification code, Signature rows), and reading PDFs."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from inspection.inspections.content import canonical_content, content_hash
from inspection.inspections.models import Amendment, Observation, OtherParticipant, Photo, Signature
from inspection.inspections.verification import make_code
from tests.conftest import stockholm

VISIT_START = stockholm(2026, 11, 21, 21, 0)
ARRIVED = stockholm(2026, 11, 21, 23, 41)
LEFT = stockholm(2026, 11, 22, 0, 52)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (wrapped lines join with a space)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def pdf_text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf))


@pytest.fixture
def protocol(db_session, app, make_venue, make_inspection, inspector, police, police_org):
    """A joint visit to "Restaurang X" on 2026-11-21 with a filled-in protocol, 3 observations and a photo."""
    venue = make_venue(name="Restaurang X", permit_holder="Krogen X AB", permit_number="T-2026-042", max_guests=120)
    inspection = make_inspection(
        venue=venue, participants=[inspector, police], kind="samordnad", start=VISIT_START, hours=4
    )
    inspection.status = "in_progress"
    inspection.arrived_at = ARRIVED
    inspection.left_at = LEFT
    inspection.contact_person = "Kim Skiftledare"
    inspection.responsible_server_present = True
    inspection.responsible_server_name = "Sara Serveringsansvarig"
    inspection.guest_count = 85
    inspection.intoxication_level = "salongsberusad"
    inspection.summary = "Välskött ställe men kö utan ordningsvakt."
    inspection.feedback_given = "Återkoppling till skiftledaren kl. 00:45."
    inspection.checklist = {
        "ordning_nykterhet": {"status": "anmarkning", "note": "Kön saknade ordningsvakt."},
        "alderskontroll": {"status": "ok", "note": "Leg kontrollerades i entrén."},
        "mat": {"status": "ok", "note": None},
    }
    inspection.other_participants.append(OtherParticipant(name="Rita Räddning", organisation="Räddningstjänsten"))
    for minutes, category, text, author in (
        (5, "berusning", "Gäst vid baren sluddrade och vinglade.", inspector),
        (20, "overservering", "Bartendern serverade gästen en öl till.", police),
        (40, "alderskontroll", "Ung gäst visade giltig legitimation.", inspector),
    ):
        db_session.add(
            Observation(
                inspection=inspection,
                client_id=str(uuid.uuid4()),
                observed_at=ARRIVED + timedelta(minutes=minutes),
                category=category,
                intoxication_level="markbart_paverkad" if category == "berusning" else None,
                description=text,
                author_id=author.id,
            )
        )
    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}.png"
    Image.new("RGB", (64, 48), (200, 60, 60)).save(folder / stored)
    db_session.add(
        Photo(
            inspection=inspection,
            client_id=str(uuid.uuid4()),
            stored_name=stored,
            content_type="image/png",
            width=64,
            height=48,
            size=(folder / stored).stat().st_size,
            caption="Kön vid entrén",
            uploaded_by_id=inspector.id,
        )
    )
    db_session.flush()
    db_session.refresh(inspection)
    return inspection


@pytest.fixture
def sign(db_session):
    """Sign an inspection by all its accepted participants, as the protocol feature would."""

    def do(inspection, when=None):
        when = when or (LEFT + timedelta(hours=10))
        content = canonical_content(inspection)
        digest = content_hash(content)
        inspection.signed_content = content
        inspection.content_hash = digest
        inspection.first_signed_at = when
        inspection.signed_at = when + timedelta(minutes=len(inspection.participants))
        inspection.verification_code = make_code(digest)
        inspection.status = "signed"
        for n, participant in enumerate(p for p in inspection.participants if p.response == "accepted"):
            db_session.add(
                Signature(
                    inspection_id=inspection.id,
                    user_id=participant.user_id,
                    organisation_id=participant.organisation_id,
                    signed_at=when + timedelta(minutes=n),
                    content_hash=digest,
                )
            )
        db_session.flush()
        db_session.expire(inspection)
        return inspection

    return do


@pytest.fixture
def amend(db_session):
    """Add a signed amendment to a signed protocol."""

    def do(inspection, author, text="Rättelse: gästantalet var 95."):
        digest = hashlib.sha256(text.encode()).hexdigest()
        amendment = Amendment(
            inspection_id=inspection.id,
            text=text,
            author_id=author.id,
            status="signed",
            content_hash=digest,
            verification_code=make_code(digest, "amendment"),
            signed_at=inspection.signed_at + timedelta(days=2),
        )
        db_session.add(amendment)
        db_session.flush()
        db_session.add(
            Signature(
                inspection_id=inspection.id,
                amendment_id=amendment.id,
                user_id=author.id,
                organisation_id=author.organisation_id,
                signed_at=amendment.signed_at,
                content_hash=digest,
            )
        )
        db_session.flush()
        db_session.expire(inspection)
        return amendment

    return do
