"""The tillsynsprotokoll as a PDF.

Two steps, so that rendering never holds a database transaction open:
1. `protocol_data(inspection)` reads everything the document needs from the models (relationships
   loaded with `load_inspections`) into a plain dict of strings, numbers and datetimes;
2. `build_protocol_pdf(data)` lays that dict out with ReportLab; it never touches the database.

A signed protocol (and one awaiting signatures) is printed from `inspection.signed_content`, the
frozen content whose SHA-256 every signature carries, so that the same signed protocol always gives
the same document (and, with ReportLab's `invariant`, the same bytes). `signed_content` is expected to
hold `{"protocol": {...as in the API...}, "observations": [{observed_at, category,
intoxication_level, description, author: {id, name} | author_id, retracted, ...}], ...}`; what is
missing from it is taken from the live rows (which are locked from the first signature on anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from ..types import STOCKHOLM
from .base import ACCENT, RULE, PageInfo, build_pdf, para, styles, text
from .fonts import BOLD, REGULAR

CONTENT_WIDTH = 174 * mm
LIGHT = colors.HexColor("#eef2f6")
ZEBRA = colors.HexColor("#f7f9fb")

TITLES = {
    "yttre": "Tillsynsprotokoll – yttre tillsyn",
    "inre": "Tillsynsprotokoll – inre tillsyn",
    "samordnad": "Tillsynsprotokoll – yttre tillsyn, samordnad med Polisen",
    "forebyggande": "Tillsynsprotokoll – förebyggande besök",
}


# ---------------------------------------------------------------------------------------------
# Loading (the only part that touches the database)


def load_inspections(ids: Sequence[int]) -> list:
    """The inspections with everything the protocol prints, in a fixed number of queries."""
    from ..extensions import db
    from ..inspections.models import Amendment, Inspection, Observation

    if not ids:
        return []
    stmt = (
        select(Inspection)
        .where(Inspection.id.in_(list(ids)))
        .options(
            undefer(Inspection.signed_content),
            undefer(Inspection.signed_venue),
            selectinload(Inspection.kommun),
            selectinload(Inspection.participants),
            selectinload(Inspection.other_participants),
            selectinload(Inspection.observations).joinedload(Observation.author),
            selectinload(Inspection.photos),
            selectinload(Inspection.signatures),
            selectinload(Inspection.amendments).selectinload(Amendment.signatures),
        )
        .execution_options(populate_existing=True)
    )
    found = {i.id: i for i in db.session.scalars(stmt).unique()}
    return [found[i] for i in ids if i in found]


def _iso(value: Any) -> datetime | None:
    """A datetime from a model value or from the frozen content's ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def visit_date(inspection) -> date:
    """The visit's date in Stockholm: arrival, else the planned start."""
    return (inspection.arrived_at or inspection.planned_start).astimezone(STOCKHOLM).date()


def protocol_data(inspection, *, base_url: str = "", upload_folder: str | None = None) -> dict:
    """Everything the protocol PDF prints, as a plain dict (no database access after this)."""
    from ..inspections import verification
    from ..inspections.content import venue_snapshot
    from ..inspections.models import (
        CHECKLIST_FOR_KIND,
        CHECKLIST_ITEMS,
        CHECKLIST_STATUSES,
        INTOXICATION_LEVELS,
        KINDS,
        OBSERVATION_CATEGORIES,
    )

    if upload_folder is None:
        from flask import current_app

        upload_folder = current_app.config["UPLOAD_FOLDER"]

    frozen = inspection.signed_content if isinstance(inspection.signed_content, dict) else {}
    proto = frozen.get("protocol") if isinstance(frozen.get("protocol"), dict) else None
    live = {
        "arrived_at": inspection.arrived_at,
        "left_at": inspection.left_at,
        "contact_person": inspection.contact_person,
        "responsible_server_present": inspection.responsible_server_present,
        "responsible_server_name": inspection.responsible_server_name,
        "guest_count": inspection.guest_count,
        "intoxication_level": inspection.intoxication_level,
        "summary": inspection.summary,
        "feedback_given": inspection.feedback_given,
        "checklist": inspection.checklist or {},
    }
    protocol = {key: (proto.get(key) if proto is not None and key in proto else value) for key, value in live.items()}

    # Names for author ids in the frozen content: every user the inspection knows.
    names: dict[int, str] = {p.user_id: p.user.name for p in inspection.participants}
    for obs in inspection.observations:
        names.setdefault(obs.author_id, obs.author.name)

    frozen_obs = frozen.get("observations")
    if isinstance(frozen_obs, list):
        raw_obs = []
        for item in frozen_obs:
            author = item.get("author")
            if isinstance(author, dict):
                author_name = author.get("name") or names.get(author.get("id"), "")
            else:
                author_name = names.get(item.get("author_id"), "")
            raw_obs.append({**item, "author": author_name})
    else:
        raw_obs = [
            {
                "observed_at": o.observed_at,
                "category": o.category,
                "intoxication_level": o.intoxication_level,
                "description": o.description,
                "author": o.author.name,
                "retracted": o.retracted,
                "retracted_reason": o.retracted_reason,
            }
            for o in inspection.observations
        ]
    observations = [
        {
            "observed_at": _iso(o.get("observed_at")),
            "category": OBSERVATION_CATEGORIES.get(o.get("category"), o.get("category") or ""),
            "level": INTOXICATION_LEVELS.get(o.get("intoxication_level"), "") if o.get("intoxication_level") else "",
            "description": o.get("description") or "",
            "author": o.get("author") or "",
            "retracted": bool(o.get("retracted")),
            "retracted_reason": o.get("retracted_reason"),
        }
        for o in raw_obs
    ]

    checklist_raw = protocol.get("checklist") or {}
    codes = list(CHECKLIST_FOR_KIND.get(inspection.kind, []))
    codes += [c for c in CHECKLIST_ITEMS if c in checklist_raw and c not in codes]
    checklist = []
    for code in codes:
        entry = checklist_raw.get(code) or {}
        checklist.append(
            {
                "item": CHECKLIST_ITEMS.get(code, code),
                "status": CHECKLIST_STATUSES.get(entry.get("status"), ""),
                "remark": entry.get("status") == "anmarkning",
                "note": entry.get("note") or "",
            }
        )

    participants = [
        {"name": p.user.name, "organisation": p.organisation.name, "kind": p.organisation.kind}
        for p in inspection.participants
        if p.response == "accepted" or any(s.user_id == p.user_id for s in inspection.signatures)
    ]
    police_areas = sorted({p["organisation"] for p in participants if p["kind"] == "polis"})
    joint = inspection.kind == "samordnad" or bool(police_areas)

    signed = inspection.status == "signed"
    code = inspection.verification_code
    if signed and not code and inspection.content_hash:
        code = verification.make_code(inspection.content_hash)

    amendments = []
    for amendment in inspection.amendments:
        amendments.append(
            {
                "text": amendment.text,
                "author": amendment.author.name,
                "created_at": amendment.created_at,
                "signed": amendment.status == "signed",
                "verification_code": amendment.verification_code if amendment.status == "signed" else None,
                "signatures": [
                    {"name": s.user.name, "organisation": s.organisation.name, "signed_at": s.signed_at}
                    for s in amendment.signatures
                ],
            }
        )

    photos = []
    for photo in inspection.photos:
        photos.append(
            {
                "path": str(Path(upload_folder) / photo.stored_name),
                "caption": photo.caption or "",
                "width": photo.width,
                "height": photo.height,
            }
        )

    return {
        "id": inspection.id,
        "kind": inspection.kind,
        "kind_label": KINDS.get(inspection.kind, inspection.kind),
        "title": TITLES.get(inspection.kind, "Tillsynsprotokoll"),
        "status": inspection.status,
        "signed": signed,
        "kommun": inspection.kommun.name,
        "police_area": ", ".join(police_areas) if police_areas else ("Polisen" if joint else None),
        "diarienummer": inspection.diarienummer,
        "visit_date": visit_date(inspection),
        "planned_start": inspection.planned_start,
        "planned_end": inspection.planned_end,
        # A signed protocol prints the venue as it was at the first signature (older ones, signed
        # before the snapshot was kept, print the venue as it is now).
        "venue": inspection.signed_venue
        if frozen and isinstance(inspection.signed_venue, dict)
        else venue_snapshot(inspection.venue),
        "arrived_at": _iso(protocol["arrived_at"]),
        "left_at": _iso(protocol["left_at"]),
        "contact_person": protocol["contact_person"],
        "responsible_server_present": protocol["responsible_server_present"],
        "responsible_server_name": protocol["responsible_server_name"],
        "guest_count": protocol["guest_count"],
        "intoxication_level": INTOXICATION_LEVELS.get(protocol["intoxication_level"] or "", ""),
        "summary": protocol["summary"],
        "feedback_given": protocol["feedback_given"],
        "checklist": checklist,
        "participants": participants,
        "other_participants": [{"name": o.name, "organisation": o.organisation} for o in inspection.other_participants],
        "observations": observations,
        "photos": photos,
        "signatures": [
            {"name": s.user.name, "organisation": s.organisation.name, "signed_at": s.signed_at}
            for s in inspection.signatures
        ],
        "amendments": amendments,
        "verification_code": code if signed else None,
        "verify_base": base_url.rstrip("/"),
        "content_hash": inspection.content_hash,
    }


# ---------------------------------------------------------------------------------------------
# Rendering (no database access below this line)


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(STOCKHOLM).strftime(fmt) if value else "–"


def _time(value: datetime | None, day: date | None = None) -> str:
    """23:41, or 2026-11-22 00:15 when the moment falls on another day than the visit."""
    if value is None:
        return "–"
    local = value.astimezone(STOCKHOLM)
    if day is not None and local.date() != day:
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%H:%M")


def _obs_time(value: datetime | None, day: date, st) -> Paragraph:
    """The time; on another day than the visit (after midnight) the date goes on a second, small line."""
    if value is None:
        return Paragraph("–", st["cell"])
    local = value.astimezone(STOCKHOLM)
    if local.date() == day:
        return Paragraph(local.strftime("%H:%M"), st["cell"])
    return Paragraph(f"{local:%H:%M}<br/><font size=6.5>{local:%Y-%m-%d}</font>", st["cell"])


def _table_style(header: bool = True) -> TableStyle:
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ]
    if header:
        commands += [
            ("FONTNAME", (0, 0), (-1, 0), BOLD),
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
        ]
    return TableStyle(commands)


def _data_table(header: list[str], rows: list[list[Flowable]], widths: list[float], extra=()) -> Table:
    st = styles()
    table = Table(
        [[Paragraph(h, st["th"]) for h in header], *rows],
        colWidths=widths,
        repeatRows=1,
        splitInRow=1,  # a very long note splits inside its row instead of failing the layout
        hAlign="LEFT",
    )
    style = _table_style()
    for command in extra:
        style.add(*command)
    table.setStyle(style)
    return table


def _facts(pairs: Iterable[tuple[str, Any]]) -> Table:
    """A two-column label/value table; values are user text (escaped)."""
    st = styles()
    rows = [
        [Paragraph(label, st["label"]), value if isinstance(value, Flowable) else para(value or "–", st["cell"])]
        for label, value in pairs
    ]
    table = Table(rows, colWidths=[48 * mm, CONTENT_WIDTH - 48 * mm], hAlign="LEFT", splitInRow=1)
    style = _table_style(header=False)
    style.add("LINEBELOW", (0, 0), (-1, -1), 0.3, LIGHT)
    table.setStyle(style)
    return table


def _photo(photo: dict, st) -> Flowable:
    path = Path(photo["path"])
    if not path.is_file():
        return Paragraph("Bilden saknas i arkivet.", st["muted"])
    width, height = photo.get("width") or 4, photo.get("height") or 3
    box_w, box_h = 54 * mm, 42 * mm
    scale = min(box_w / width, box_h / height)
    image = Image(str(path), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return image


def _photo_grid(photos: list[dict]) -> Table:
    st = styles()
    cells = []
    for photo in photos:
        cells.append([_photo(photo, st), para(photo["caption"], st["small"])])
    rows = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    rows[-1] += [""] * (3 - len(rows[-1]))
    table = Table(rows, colWidths=[CONTENT_WIDTH / 3] * 3, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), REGULAR)]))
    return table


def _signature_table(signatures: list[dict], st) -> Table:
    rows = [
        [
            para(s["name"], st["cell_bold"]),
            para(s["organisation"], st["cell"]),
            para(_local(s["signed_at"]), st["cell"]),
        ]
        for s in signatures
    ]
    return _data_table(["Namn", "Organisation", "Signerat"], rows, [70 * mm, 66 * mm, 38 * mm])


def _verification_box(code: str, base: str, st) -> Table:
    url = f"{base}/verify/{code}" if base else f"/verify/{code}"
    inner = [
        Paragraph(f"Kontrollkod: {text(code)}", st["code"]),
        Paragraph(f"Kontrollera äktheten på {text(url)}", st["body"]),
        Paragraph(
            "Sidan visar om protokollet är signerat, besökets datum och serveringsställe och om tillägg har "
            "signerats efteråt.",
            st["muted"],
        ),
    ]
    box = Table([[inner]], colWidths=[CONTENT_WIDTH], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def _heading(title: str) -> list[Flowable]:
    """A section heading that never ends a page alone (a page break when less than 35 mm is left)."""
    return [CondPageBreak(35 * mm), Paragraph(title, styles()["h2"])]


def _story(data: dict) -> list[Flowable]:
    st = styles()
    venue = data["venue"]
    day: date = data["visit_date"]
    story: list[Flowable] = []

    story.append(Paragraph(text(data["title"]), st["title"]))
    story.append(para(f"{venue['name']} · {day.isoformat()}", st["subtitle"], markup="<b>{}</b>"))
    if not data["signed"]:
        story.append(Spacer(1, 2 * mm))
        story.append(
            Paragraph(
                "UTKAST – protokollet är inte färdigsignerat och är inte en allmän handling i denna form.",
                st["draft"],
            )
        )
    story.append(Spacer(1, 3 * mm))

    # The visit and the permit.
    hours = venue["serving_hours"] or "–"
    if venue["outdoor_serving_hours"]:
        hours += f" (uteservering {venue['outdoor_serving_hours']})"
    times = f"{_time(data['arrived_at'], day)}–{_time(data['left_at'], day)}"
    if data["arrived_at"] is None and data["left_at"] is None:
        times = "–"
    story += _heading("Besök och tillstånd")
    story.append(
        _facts(
            [
                ("Serveringsställe", venue["name"]),
                ("Adress", venue["address"]),
                ("Tillståndshavare", f"{venue['permit_holder']} (org.nr {venue['org_number']})"),
                ("Tillstånd", f"{venue['permit_number']} · {venue['permit_scope']} · {venue['permit_kind']}"),
                ("Serveringstider", hours),
                ("Max antal gäster", str(venue["max_guests"]) if venue["max_guests"] is not None else "–"),
                ("Typ av tillsyn", data["kind_label"]),
                ("Datum", day.isoformat()),
                ("Ankomst–avfärd", times),
                ("Planerad tid", f"{_local(data['planned_start'])}–{_local(data['planned_end'], '%H:%M')}"),
                ("Diarienummer", data["diarienummer"] or "–"),
            ]
        )
    )

    # Who took part and whom they met.
    story += _heading("Deltagare")
    rows = [[para(p["name"], st["cell"]), para(p["organisation"], st["cell"])] for p in data["participants"]]
    rows += [
        [para(p["name"], st["cell"]), para(f"{p['organisation']} (övrig deltagare)", st["cell"])]
        for p in data["other_participants"]
    ]
    if rows:
        story.append(_data_table(["Namn", "Organisation"], rows, [80 * mm, CONTENT_WIDTH - 80 * mm]))
    else:
        story.append(Paragraph("Inga deltagare registrerade.", st["muted"]))
    story.append(Spacer(1, 2 * mm))
    present = data["responsible_server_present"]
    server = {True: "Närvarande", False: "Inte närvarande", None: "–"}[present]
    if data["responsible_server_name"]:
        server = (
            f"{server}: {data['responsible_server_name']}" if present is not None else data["responsible_server_name"]
        )
    guests = "–"
    if data["guest_count"] is not None:
        guests = str(data["guest_count"])
        if venue["max_guests"]:
            guests += f" (max {venue['max_guests']})"
            if data["guest_count"] > venue["max_guests"]:
                guests += " – fler än tillåtet"
    story.append(
        _facts(
            [
                ("Person som mötte", data["contact_person"] or "–"),
                ("Serveringsansvarig", server),
                ("Antal gäster", guests),
                ("Allmän berusningsnivå", data["intoxication_level"] or "–"),
            ]
        )
    )

    # The checklist.
    if data["checklist"]:
        story += _heading("Kontrollpunkter")
        rows = []
        for item in data["checklist"]:
            status_style = st["cell_remark"] if item["remark"] else st["cell"]
            rows.append(
                [
                    para(item["item"], st["cell"]),
                    para(item["status"] or "–", status_style),
                    para(item["note"], st["cell"]),
                ]
            )
        story.append(
            _data_table(["Kontrollpunkt", "Bedömning", "Anteckning"], rows, [52 * mm, 28 * mm, CONTENT_WIDTH - 80 * mm])
        )

    # The observation timeline.
    story += _heading("Observationer")
    if data["observations"]:
        rows = []
        for obs in data["observations"]:
            description = para(obs["description"], st["cell"])
            if obs["retracted"]:
                reason = f" Skäl: {obs['retracted_reason']}" if obs.get("retracted_reason") else ""
                description = Paragraph(
                    f"<b>ÅTERKALLAD.</b>{text(reason)}<br/><strike>{text(obs['description'])}</strike>",
                    st["muted"],
                )
            rows.append(
                [
                    _obs_time(obs["observed_at"], day, st),
                    para(obs["category"], st["cell"]),
                    para(obs["level"] or "–", st["cell"]),
                    description,
                    para(obs["author"], st["cell"]),
                ]
            )
        story.append(
            _data_table(
                ["Tid", "Kategori", "Nivå", "Beskrivning", "Av"],
                rows,
                [18 * mm, 25 * mm, 28 * mm, CONTENT_WIDTH - 99 * mm, 28 * mm],
            )
        )
    else:
        story.append(Paragraph("Inga observationer registrerade.", st["muted"]))

    # Summary and feedback.
    story += _heading("Sammanfattning och anmärkningar")
    story.append(para(data["summary"] or "–", st["body"]))
    story += _heading("Återkoppling given på plats")
    story.append(para(data["feedback_given"] or "–", st["body"]))

    if data["photos"]:
        story += _heading("Foton")
        story.append(_photo_grid(data["photos"]))

    # Signatures.
    signing = [Paragraph("Signaturer", st["h2"])]
    if data["signatures"]:
        signing.append(_signature_table(data["signatures"], st))
    else:
        signing.append(Paragraph("Protokollet är inte signerat.", st["muted"]))
    if data["signed"] and data["content_hash"]:
        signing.append(Spacer(1, 1.5 * mm))
        signing.append(Paragraph(f"Innehållets SHA-256: {text(data['content_hash'])}", st["muted"]))
    if data["verification_code"]:
        signing.append(Spacer(1, 4 * mm))
        signing.append(_verification_box(data["verification_code"], data["verify_base"], st))
    story.append(KeepTogether(signing))

    # Amendments, each with its own code.
    if data["amendments"]:
        story += _heading("Tillägg efter signering")
        for n, amendment in enumerate(data["amendments"], start=1):
            state = "signerat" if amendment["signed"] else "väntar på signaturer"
            block: list[Flowable] = [
                para(
                    f"Tillägg {n} – {_local(amendment['created_at'])}, {amendment['author']} ({state})",
                    st["body"],
                    markup="<b>{}</b>",
                ),
                para(amendment["text"], st["body"]),
            ]
            if amendment["signatures"]:
                block.append(Spacer(1, 1 * mm))
                block.append(_signature_table(amendment["signatures"], st))
            if amendment["verification_code"]:
                block.append(Spacer(1, 1 * mm))
                block.append(Paragraph(f"Tilläggets kontrollkod: {text(amendment['verification_code'])}", st["body"]))
            block.append(Spacer(1, 3 * mm))
            story.append(KeepTogether(block))

    return story


def build_protocol_pdf(data: dict) -> bytes:
    """The protocol as PDF bytes, from `protocol_data`'s dict (no database access)."""
    venue = data["venue"]
    day = data["visit_date"].isoformat()
    code = data["verification_code"]
    info = PageInfo(
        kommun=data["kommun"],
        document=f"Tillsynsprotokoll {day} · {venue['name']}",
        police_area=data["police_area"],
        draft=not data["signed"],
        footer_note=f"Kontrollkod {code} · {data['verify_base']}/verify/{code}" if code else None,
    )
    return build_pdf(
        _story(data),
        info,
        title=f"{data['title']}: {venue['name']} {day}",
        author=data["kommun"],
        subject=f"Tillsyn enligt alkohollagen (2010:1622) 9 kap. – {venue['name']}, {day}",
        keywords="tillsynsprotokoll, alkohollagen, serveringstillstånd",
    )


def filename(data: dict) -> str:
    """tillsynsprotokoll-2026-11-21-restaurang-x.pdf (ASCII)."""
    return f"tillsynsprotokoll-{data['visit_date'].isoformat()}-{slugify(data['venue']['name'])}.pdf"


_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "œ": "oe", "þ": "th"})


def slugify(value: str) -> str:
    """ASCII, lower case, words joined by hyphens ("Restaurang Åkeri & Bar" → "restaurang-akeri-bar")."""
    import re
    import unicodedata

    folded = unicodedata.normalize("NFKD", value.lower().translate(_FOLD))
    ascii_only = folded.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    return slug[:60].strip("-") or "protokoll"


__all__ = ["build_protocol_pdf", "protocol_data", "load_inspections", "filename", "slugify", "visit_date"]
