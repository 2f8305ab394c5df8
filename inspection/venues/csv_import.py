"""CSV import of venues and permits, for a kommun's first load from its old system.

The file may be UTF-8 (with or without BOM) or Windows-1252, separated by semicolons or commas, with
Swedish headers. `check` is the dry run: per row what would be created, updated or left unchanged and
every error with its row and column. `apply` runs the import all or nothing. Rows are matched on the
permit number within the kommun, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import ServiceError, validation_error
from ..extensions import db
from . import services
from .models import Venue

MAX_BYTES = 5 * 1024 * 1024

#: header (lower case) -> API path
COLUMNS = {
    "namn": "name",
    "adress": "address",
    "område": "area",
    "tillståndshavare": "permit_holder",
    "organisationsnummer": "org_number",
    "e-post": "permit_holder_email",
    "tillståndsnummer": "permit.number",
    "omfattning": "permit.scope",
    "typ": "permit.kind",
    "serveringstid": "permit.serving_hours",
    "serveringstid ute": "permit.outdoor_serving_hours",
    "max antal gäster": "permit.max_guests",
    "ordningsvakter": "permit.ordningsvakter_required",
    "giltigt från": "permit.valid_from",
    "giltigt till": "permit.valid_to",
}
REQUIRED_COLUMNS = ("Namn", "Adress", "Tillståndshavare", "Organisationsnummer", "Tillståndsnummer", "Serveringstid")
#: API path -> the header as the documentation names it (for messages about missing columns)
COLUMN_NAMES = {path: header[:1].upper() + header[1:] for header, path in COLUMNS.items()}

NOT_CSV = "Filen är inte en CSV-fil. Spara kalkylbladet som CSV (semikolon- eller kommaseparerad) och försök igen."
TOO_LARGE = f"Filen är för stor: högst {MAX_BYTES // (1024 * 1024)} MB."


@dataclass
class RowResult:
    row: int
    name: str = ""
    permit_number: str = ""
    #: create | update | unchanged | error
    action: str = "error"
    changes: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    data: dict = field(default_factory=dict, repr=False)
    venue_id: int | None = None


@dataclass
class Report:
    rows: list[RowResult] = field(default_factory=list)
    #: errors about the whole file: (row or None, column or "", message)
    file_errors: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""

    @property
    def errors(self) -> list[tuple[int, str, str]]:
        return [(r.row, column, message) for r in self.rows for column, message in r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 (BOM or not) or else Windows-1252. ServiceError when it is not text."""
    if len(raw) > MAX_BYTES:
        raise ServiceError("too_large", TOO_LARGE)
    if not raw.strip():
        raise validation_error({"file": "Filen är tom."}, "Filen är tom.")
    if b"\x00" in raw[:8192]:
        raise validation_error({"file": NOT_CSV}, NOT_CSV)
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise validation_error({"file": NOT_CSV}, NOT_CSV) from None


def _fold(text: str) -> str:
    """Lower case without diacritics: "Slutet sällskap" -> "slutet sallskap"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _header_key(header: str) -> str:
    return " ".join(header.strip().strip('"').lower().split())


SCOPE_WORDS = {
    "allmanheten": "allmanheten",
    "allman": "allmanheten",
    "slutet sallskap": "slutet_sallskap",
    "slutna sallskap": "slutet_sallskap",
    "slutet_sallskap": "slutet_sallskap",
}
KIND_WORDS = {"stadigvarande": "stadigvarande", "tillfalligt": "tillfalligt", "tillfalliga": "tillfalligt"}
YES = {"ja", "j", "x", "1", "true", "sant", "yes"}
NO = {"nej", "n", "0", "false", "falskt", "no", ""}


def _parse_cell(path: str, value: str):
    """The cell's value for the service, or raise ValueError with the message."""
    value = value.strip()
    if path == "permit.scope":
        if not value:
            return None
        if _fold(value) not in SCOPE_WORDS:
            raise ValueError("Ange Allmänheten eller Slutet sällskap.")
        return SCOPE_WORDS[_fold(value)]
    if path == "permit.kind":
        if not value:
            return None
        if _fold(value) not in KIND_WORDS:
            raise ValueError("Ange Stadigvarande eller Tillfälligt.")
        return KIND_WORDS[_fold(value)]
    if path == "permit.max_guests":
        if not value:
            return None
        digits = value.replace(" ", "").replace("\u00a0", "")
        if not digits.isdigit():
            raise ValueError("Ska vara ett heltal.")
        return int(digits)
    if path == "permit.ordningsvakter_required":
        folded = _fold(value)
        if folded in YES:
            return True
        if folded in NO:
            return False
        raise ValueError("Ange Ja eller Nej.")
    if path in ("permit.valid_from", "permit.valid_to"):
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("Ska vara ett datum ÅÅÅÅ-MM-DD.") from None
    return value or None


def _nest(flat: dict) -> dict:
    data: dict = {}
    for path, value in flat.items():
        if path.startswith("permit."):
            data.setdefault("permit", {})[path[len("permit.") :]] = value
        else:
            data[path] = value
    return data


def check(raw: bytes, kommun_id: int) -> Report:
    """The dry run: what the import would do, row by row, and every error. Changes nothing."""
    text, encoding = decode(raw)
    report = Report(encoding=encoding)
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    report.delimiter = delimiter
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise validation_error({"file": NOT_CSV}, f"{NOT_CSV} ({exc})") from None
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
    if not records:
        raise validation_error({"file": "Filen är tom."}, "Filen är tom.")
    headers = records[0]
    paths: list[str | None] = [COLUMNS.get(_header_key(h)) for h in headers]
    present = {p for p in paths if p}
    missing = [name for name in REQUIRED_COLUMNS if COLUMNS[name.lower()] not in present]
    if missing:
        message = "Rubrikraden saknar kolumnerna " + ", ".join(missing) + "."
        if len(present) < 2:
            message = NOT_CSV + " " + message
        raise validation_error({"file": message}, message)
    label = {p: h.strip() for h, p in zip(headers, paths, strict=True) if p}

    existing = {
        v.permit_number: v
        for v in db.session.scalars(
            select(Venue).where(Venue.kommun_id == kommun_id).options(selectinload(Venue.responsible_servers))
        ).all()
    }
    seen: dict[str, int] = {}
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        result = RowResult(row=index)
        report.rows.append(result)
        if len(record) > len(headers):
            result.errors.append(("", f"Raden har {len(record)} kolumner men rubrikraden {len(headers)}."))
            continue
        flat = {}
        for path, cell in zip(paths, record + [""] * (len(headers) - len(record)), strict=True):
            if path is None:
                continue
            try:
                flat[path] = _parse_cell(path, cell)
            except ValueError as exc:
                result.errors.append((label[path], str(exc)))
        result.name = flat.get("name") or ""
        result.permit_number = number = flat.get("permit.number") or ""
        if result.errors:
            continue
        if number in seen:
            result.errors.append((label["permit.number"], f"Samma tillståndsnummer som rad {seen[number]}."))
            continue
        if number:
            seen[number] = index
        data = _nest(flat)
        venue = existing.get(number)
        if venue is None:
            if "permit.scope" not in flat or flat["permit.scope"] is None:
                data.setdefault("permit", {})["scope"] = flat.get("permit.scope") or "allmanheten"
            if "permit.kind" not in flat or flat["permit.kind"] is None:
                data.setdefault("permit", {})["kind"] = flat.get("permit.kind") or "stadigvarande"
            _, _, errors = services.clean(data, kommun_id=kommun_id)
            action, changes = "create", []
        else:
            data["permit"] = {
                k: v for k, v in data.get("permit", {}).items() if not (k in ("scope", "kind") and v is None)
            }
            diff, errors = services.planned_changes(venue, data)
            action = "update" if diff else "unchanged"
            changes = [label.get(path) or COLUMN_NAMES.get(path, path) for path in COLUMNS.values() if path in diff]
            result.venue_id = venue.id
        for path, messages in errors.items():
            column = label.get(path) or COLUMN_NAMES.get(path, path)
            result.errors.extend((column, m) for m in messages)
        if not result.errors:
            result.action, result.changes, result.data = action, changes, data
    return report


def apply(raw: bytes, kommun_id: int, actor=None) -> Report:
    """Run the import: every row or none (any error refuses the whole file)."""
    report = check(raw, kommun_id)
    if not report.ok:
        raise validation_error(
            {"file": f"Filen har {len(report.errors)} fel; inget har importerats."},
            "Filen har fel; inget har importerats.",
        )
    for row in report.rows:
        if row.action == "create":
            venue = services.create_venue(row.data, kommun_id=kommun_id, actor=actor)
            row.venue_id = venue.id
        elif row.action == "update":
            services.update_venue(db.session.get(Venue, row.venue_id), row.data, actor=actor)
    audit.record(
        "venue.import",
        user=actor,
        kommun_id=kommun_id,
        details={
            "created": report.count("create"),
            "updated": report.count("update"),
            "unchanged": report.count("unchanged"),
        },
    )
    db.session.flush()
    return report
