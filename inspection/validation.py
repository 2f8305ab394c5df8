"""Input rules shared by the JSON schemas and the web forms."""

from __future__ import annotations

import re
from datetime import date

NAME_MAX = 200
TEXT_MAX = 10_000

# C0 control characters except tab, LF and CR are refused (API.md); so is DEL-free NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_char_error(value: str) -> str | None:
    if _CONTROL.search(value):
        return "Texten innehåller otillåtna styrtecken."
    return None


def text_error(value: str, max_len: int) -> str | None:
    """A message when free text breaks the rules, else None. The text itself is never changed."""
    if len(value) > max_len:
        return f"Högst {max_len} tecken."
    return control_char_error(value)


_HOURS = re.compile(r"^(\d{2}):(\d{2})\s*[-\u2013]\s*(\d{2}):(\d{2})$")


def parse_serving_hours(value: str) -> tuple[int, int] | None:
    """'11:00-01:00' (or with an en dash) -> (start, end) in minutes after midnight; the end may be
    before the start (past midnight). None when malformed."""
    m = _HOURS.match(value.strip())
    if not m:
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    # 24:00 is accepted as an end ("stängt vid midnatt").
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        return None
    return h1 * 60 + m1, h2 * 60 + m2


def normalise_serving_hours(value: str) -> str:
    start, end = parse_serving_hours(value)  # type: ignore[misc]
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def serving_hours_error(value: str) -> str | None:
    if parse_serving_hours(value) is None:
        return "Ange serveringstid som TT:MM-TT:MM, t.ex. 11:00-01:00."
    return None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normalise_org_number(value: str) -> str | None:
    """A Swedish organisationsnummer as NNNNNN-NNNN, or None when it is not valid.

    Accepts 10 digits with or without the hyphen, and the 12-digit form with a century (16 for
    companies, 19/20 for sole traders' personnummer)."""
    digits = re.sub(r"[\s-]", "", value)
    if not digits.isdigit():
        return None
    if len(digits) == 12:
        digits = digits[2:]
    if len(digits) != 10 or not _luhn_ok(digits):
        return None
    return f"{digits[:6]}-{digits[6:]}"


def org_number_error(value: str) -> str | None:
    if normalise_org_number(value) is None:
        return "Ogiltigt organisationsnummer (kontrollsiffran stämmer inte)."
    return None


def birth_year_error(year: int, today: date | None = None) -> str | None:
    today = today or date.today()
    if year > today.year - 20:
        return "En serveringsansvarig måste vara minst 20 år."
    if year < today.year - 110:
        return "Orimligt födelseår."
    return None
