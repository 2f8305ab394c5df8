"""Verification codes printed on signed protocols, checked at the public /verify/<code>."""

from __future__ import annotations

import base64
import hashlib

# Crockford-like alphabet without look-alikes is overkill here; base32 upper-case, grouped for reading aloud.


def make_code(content_hash: str, kind: str = "protocol") -> str:
    """A short public code derived from a signed content hash: 'ABCD-EFGH-JKLM' (60 bits)."""
    digest = hashlib.sha256(f"krogtillsyn:{kind}:{content_hash}".encode()).digest()
    raw = base64.b32encode(digest).decode().rstrip("=")[:12]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}"


def lookup(code: str) -> dict | None:
    """What the public may know about a signed protocol with this code, or None. (PDF issue.)"""
    return None
