"""Verification codes printed on signed protocols, checked at the public /verify/<code>."""

from __future__ import annotations


def lookup(code: str) -> dict | None:
    """What the public may know about a signed protocol with this code, or None."""
    return None
