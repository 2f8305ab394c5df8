"""Verification codes printed on signed protocols, checked at the public /verify/<code>.

The page tells anyone holding a copy (the permit holder, a court) only: that the code belongs to a
genuine signed protocol or amendment, the visit's date, the venue, the kommun, when it was signed and
whether signed amendments were added since. Nothing else about the visit is public.

Guessing codes is slowed down by a per-address limit (`VERIFY_PER_MINUTE` look-ups a minute). The
attempts are kept in the `login_attempt` table (kind "verify", the address stored as "verify:<ip>"
so that they never count towards the sign-in throttle, which counts rows by address).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from sqlalchemy import delete, func, select

from ..extensions import db
from ..types import STOCKHOLM, utcnow

#: look-ups one address may make per minute before /verify answers 429
VERIFY_PER_MINUTE = 20
_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def make_code(content_hash: str, kind: str = "protocol") -> str:
    """A short public code derived from a signed content hash: 'ABCD-EFGH-JKLM' (60 bits)."""
    digest = hashlib.sha256(f"krogtillsyn:{kind}:{content_hash}".encode()).digest()
    raw = base64.b32encode(digest).decode().rstrip("=")[:12]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}"


def normalise(code: str) -> str | None:
    """'abcd efgh-jklm' as typed → 'ABCD-EFGH-JKLM'; None when it cannot be a code."""
    raw = "".join(ch for ch in code.upper() if ch not in " -")
    if len(raw) != 12 or not set(raw) <= _CODE_CHARS:
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}"


def lookup(code: str) -> dict | None:
    """What the public may know about a signed protocol or signed amendment with this code, or None."""
    from ..pdf.protocol import visit_date
    from .models import Amendment, Inspection

    code = normalise(code or "")
    if code is None:
        return None
    inspection = db.session.scalar(
        select(Inspection).where(Inspection.verification_code == code, Inspection.status == "signed")
    )
    what, signed_at, since = "tillsynsprotokoll", None, None
    if inspection is not None:
        signed_at = inspection.signed_at or inspection.first_signed_at
    else:
        amendment = db.session.scalar(
            select(Amendment).where(Amendment.verification_code == code, Amendment.status == "signed")
        )
        if amendment is None or amendment.inspection.status != "signed":
            return None
        inspection = amendment.inspection
        what, signed_at, since = "tillägg till tillsynsprotokoll", amendment.signed_at, amendment
    later = [a for a in inspection.amendments if a.status == "signed" and (since is None or a.id > since.id)]
    return {
        "what": what,
        "date": visit_date(inspection).isoformat(),
        "venue": inspection.venue.name,
        "kommun": inspection.kommun.name,
        "signed_at": signed_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if signed_at else "",
        "amended": bool(later),
        "amendments": len(later),
    }


def rate_limited(ip: str | None) -> int | None:
    """Count a look-up from `ip`; seconds to wait when it made too many in the last minute, else None.

    The attempt is written in the request's transaction; the caller makes sure it is kept even when
    the answer is 404 (g.commit_on_error)."""
    from ..auth.models import LoginAttempt

    key = f"verify:{ip or '-'}"[:64]
    now = utcnow()
    since = now - timedelta(minutes=1)
    count, oldest = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.ip == key, LoginAttempt.at > since)
    ).one()
    if count >= VERIFY_PER_MINUTE and oldest is not None:
        return max(1, int((oldest + timedelta(minutes=1) - now).total_seconds()) + 1)
    # Old verify rows are of no use after the minute; drop this address's.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.ip == key, LoginAttempt.at <= since))
    db.session.add(LoginAttempt(email="", ip=key, kind="verify", at=now))
    return None
