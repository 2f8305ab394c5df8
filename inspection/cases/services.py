"""The rules of follow-up cases (tillsynsärenden), API.md "Rules → Case steps".

A case runs: proposal (förslag till beslut) → kommunicering (the permit holder is heard,
förvaltningslagen 25 §, with a reply deadline) → reply (yttrande; optional once the deadline has
passed) → decision (by a manager as delegat, or the nämnd's decision recorded) → notification
(delgivning) → appeal (överklagande, optional) → appeal_outcome. A note may be added at any time.

The status that depends on the calendar ("the reply deadline has passed") is computed when read:
`current_status(case, today)`. The stored `Case.status` is the status the steps alone give (it
keeps `awaiting_reply` after the deadline), so that lists can filter in SQL; `status_filter` turns
the wanted status into the right condition for a given day.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import ServiceError, conflict, forbidden, validation_error
from ..extensions import db
from ..files import store_new_file
from ..inspections.models import Inspection, InspectionParticipant
from ..policy import may
from ..types import local_today
from ..validation import NAME_MAX, TEXT_MAX, text_error
from ..venues.models import Venue
from .models import SANCTIONS, STEP_KINDS, Case, CaseDocument, CaseStep, LetterTemplate

#: default time the permit holder gets to reply (API.md: date + 14 days)
DEFAULT_REPLY_DAYS = 14
#: the appeal must reach the kommun within three weeks of delgivning (förvaltningslagen 44 §)
APPEAL_DAYS = 21
#: a decision should be notified (delgivet) within a week; after that the queue shows it overdue
NOTIFICATION_DUE_DAYS = 7
#: a proposal (not "no action") should be sent for kommunicering within two weeks
KOMMUNICERING_DUE_DAYS = 14
#: an opened case should have a proposal within a month
PROPOSAL_DUE_DAYS = 30
#: the court usually rules within months; after this the queue asks the handläggare to follow it up
APPEAL_OUTCOME_DUE_DAYS = 90

MAIN_KINDS = ("proposal", "kommunicering", "reply", "decision", "notification", "appeal", "appeal_outcome")
DECIDED_BY = {"delegat": "Delegat (enhetschef)", "namnd": "Nämnden"}
OUTCOMES = {
    "avslag": "Överklagandet avslogs (beslutet står fast)",
    "bifall": "Överklagandet bifölls (beslutet upphävt)",
    "delvis_bifall": "Överklagandet bifölls delvis",
    "avvisat": "Överklagandet avvisades",
    "aterkallat": "Överklagandet återkallades",
}
LEGAL_GROUNDS = {
    "erinran": "9 kap. 17 § alkohollagen (2010:1622)",
    "varning": "9 kap. 17 § alkohollagen (2010:1622)",
    "aterkallelse": "9 kap. 18 § alkohollagen (2010:1622)",
}
#: the sanction ladder: erinran → varning → återkallelse
LADDER = {"erinran": 1, "varning": 2, "aterkallelse": 3}
DOCUMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
DOCUMENT_MAX_BYTES = 15 * 1024 * 1024


def today() -> date:
    """Today in Stockholm (one place, so that tests can move the calendar)."""
    return local_today()


# ---- reading a case ----------------------------------------------------------------------------


def main_steps(case: Case) -> list[CaseStep]:
    return [s for s in ordered_steps(case.steps) if s.kind != "note"]


def ordered_steps(steps) -> list[CaseStep]:
    return sorted(steps, key=lambda s: (s.date, s.id or 0))


def last_step(case: Case, kind: str) -> CaseStep | None:
    found = [s for s in main_steps(case) if s.kind == kind]
    return found[-1] if found else None


def reply_deadline(case: Case) -> date | None:
    step = last_step(case, "kommunicering")
    return step.deadline if step else None


def stored_status(case: Case) -> str:
    """The status the steps alone give (no calendar): kept in `Case.status` for list filters."""
    kinds = [s.kind for s in main_steps(case)]
    if "appeal_outcome" in kinds:
        return "closed"
    if "appeal" in kinds:
        return "appealed"
    if "decision" in kinds:
        return "decided"
    if "reply" in kinds:
        return "ready_for_decision"
    if "kommunicering" in kinds:
        return "awaiting_reply"
    proposal = last_step(case, "proposal")
    if proposal is not None and proposal.sanction == "ingen_atgard":
        return "ready_for_decision"
    return "open"


def current_status(case: Case, on: date | None = None) -> str:
    """The status on a given day: `awaiting_reply` turns `ready_for_decision` the day after the deadline."""
    return status_on(stored_status(case), reply_deadline(case), on or today())


def status_on(stored: str, deadline: date | None, on: date) -> str:
    """A stored status as it reads on a day: a kommunicering whose deadline has passed is ready for decision."""
    if stored == "awaiting_reply" and deadline is not None and on > deadline:
        return "ready_for_decision"
    return stored


def _deadline_subquery():
    return (
        select(func.max(CaseStep.deadline))
        .where(CaseStep.case_id == Case.id, CaseStep.kind == "kommunicering")
        .correlate(Case)
        .scalar_subquery()
    )


def status_filter(status: str, on: date | None = None):
    """A SQL condition for cases whose `current_status` on the day is `status`."""
    on = on or today()
    deadline = _deadline_subquery()
    if status == "awaiting_reply":
        return and_(Case.status == "awaiting_reply", or_(deadline.is_(None), deadline >= on))
    if status == "ready_for_decision":
        return or_(
            Case.status == "ready_for_decision",
            and_(Case.status == "awaiting_reply", deadline < on),
        )
    return Case.status == status


def next_steps(case: Case, actor=None, on: date | None = None) -> list[str]:
    """The kinds that may be added now (for the page's forms and the API answer); `note` always."""
    on = on or today()
    kinds = []
    for kind in MAIN_KINDS:
        try:
            _check_order(case, kind)
        except ServiceError:
            continue
        if kind == "decision":
            if actor is not None and not may(actor, "decide", case):
                continue
            if not _decision_allowed_on(case, on):
                continue
        kinds.append(kind)
    kinds.append("note")
    return kinds


def decision_waits_until(case: Case) -> date | None:
    """When a decision is blocked only by the running reply deadline: the first day it may be dated."""
    if last_step(case, "decision") or not main_steps(case):
        return None
    last = main_steps(case)[-1]
    if last.kind == "kommunicering" and last.deadline is not None:
        return last.deadline + timedelta(days=1)
    return None


def _decision_allowed_on(case: Case, on: date) -> bool:
    main = main_steps(case)
    if main and main[-1].kind == "kommunicering":
        deadline = main[-1].deadline
        return deadline is None or on > deadline
    return True


# ---- appeal deadline ---------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Easter Sunday (the Gregorian computus)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def swedish_holidays(year: int) -> set[date]:
    """Public holidays and the days treated like them (midsommarafton, julafton, nyårsafton)."""
    easter = _easter(year)
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    all_saints = next(
        d
        for d in (date(year, 10, 31) + timedelta(days=n) for n in range(7))
        if d.weekday() == 5  # the Saturday between 31 Oct and 6 Nov
    )
    return {
        date(year, 1, 1),
        date(year, 1, 6),
        easter - timedelta(days=2),
        easter,
        easter + timedelta(days=1),
        date(year, 5, 1),
        easter + timedelta(days=39),
        date(year, 6, 6),
        midsummer_eve,
        midsummer_eve + timedelta(days=1),
        all_saints,
        date(year, 12, 24),
        date(year, 12, 25),
        date(year, 12, 26),
        date(year, 12, 31),
    }


def appeal_last_day(notified_on: date) -> date:
    """The last day an appeal may reach the kommun: three weeks after delgivning; a last day on a
    weekend or holiday moves to the next working day (lagen (1930:173) om beräkning av lagstadgad tid)."""
    last = notified_on + timedelta(days=APPEAL_DAYS)
    while last.weekday() >= 5 or last in swedish_holidays(last.year):
        last += timedelta(days=1)
    return last


# ---- notices (never block) ---------------------------------------------------------------------


@dataclass
class Notice:
    code: str
    message: str


def earlier_decisions(venue_ids: set[int]) -> dict[int, list[tuple[int, date, str]]]:
    """Every decision on these venues: {venue_id: [(case_id, date, sanction)]}, oldest first."""
    if not venue_ids:
        return {}
    rows = db.session.execute(
        select(Case.venue_id, Case.id, CaseStep.date, CaseStep.sanction)
        .join(CaseStep, CaseStep.case_id == Case.id)
        .where(Case.venue_id.in_(venue_ids), CaseStep.kind == "decision")
        .order_by(CaseStep.date, CaseStep.id)
    ).all()
    out: dict[int, list[tuple[int, date, str]]] = {}
    for venue_id, case_id, day, sanction in rows:
        out.setdefault(venue_id, []).append((case_id, day, sanction))
    return out


def ladder_notice(case: Case, sanction: str | None, on: date, history) -> Notice | None:
    """A varning without an earlier erinran (or an återkallelse without an earlier varning)."""
    rank = LADDER.get(sanction or "")
    if rank is None or rank < 2:
        return None
    earlier = [
        LADDER.get(s, 0) for case_id, day, s in history.get(case.venue_id, []) if case_id != case.id and day <= on
    ]
    if any(r >= rank - 1 for r in earlier):
        return None
    if sanction == "varning":
        return Notice(
            "ladder_no_erinran",
            "Varning föreslås utan en tidigare erinran för serveringsstället. Trappan erinran → varning → "
            "återkallelse förväntas; motivera varför ett steg hoppas över.",
        )
    return Notice(
        "ladder_no_varning",
        "Återkallelse föreslås utan en tidigare varning för serveringsstället. Återkallelse utan "
        "föregående varning kräver att bristerna är allvarliga (9 kap. 18 § alkohollagen); motivera det.",
    )


def notices(case: Case, history=None) -> list[Notice]:
    """Warnings to show with the case (they never block)."""
    if history is None:
        history = earlier_decisions({case.venue_id})
    out: list[Notice] = []
    decision = last_step(case, "decision")
    proposal = last_step(case, "proposal")
    step = decision or proposal
    if step is not None and (n := ladder_notice(case, step.sanction, step.date, history)):
        out.append(n)
    appeal = last_step(case, "appeal")
    notification = last_step(case, "notification")
    if appeal and notification and appeal.filed_on and appeal.filed_on > appeal_last_day(notification.date):
        out.append(
            Notice(
                "appeal_late",
                f"Överklagandet kom in {appeal.filed_on:%Y-%m-%d}, efter sista dagen "
                f"{appeal_last_day(notification.date):%Y-%m-%d} (tre veckor från delgivningen). Ett för sent "
                "inkommet överklagande ska avvisas (förvaltningslagen 45 §), om inte förseningen beror på "
                "kommunen.",
            )
        )
    return out


# ---- opening a case ----------------------------------------------------------------------------


def _text_errors(fields: dict, name: str, value: str | None, max_len: int, required: bool, message: str) -> None:
    if value is None or not value.strip():
        if required:
            fields[name] = [message]
        return
    if err := text_error(value, max_len):
        fields[name] = [err]


def visible_venue(actor, venue_id) -> Venue | None:
    """A venue the actor's kommun owns, or None (missing and foreign look the same)."""
    try:
        venue = db.session.get(Venue, int(venue_id))
    except (TypeError, ValueError):
        return None
    if venue is None or not actor.is_kommun_staff or venue.kommun_id != actor.organisation_id:
        return None
    return venue


def signed_inspections(venue: Venue) -> list[Inspection]:
    """The venue's signed protocols, newest first (evidence a case may be opened from)."""
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.venue_id == venue.id, Inspection.status == "signed")
            .order_by(Inspection.planned_start.desc())
            .limit(100)
        )
    )


def open_case(
    actor,
    venue: Venue | None,
    inspection_ids: list[int],
    summary: str,
    diarienummer: str | None = None,
) -> Case:
    """Open a case about a venue from its signed protocols (none is fine: a police report may do)."""
    if not actor.is_kommun_staff:
        raise forbidden()
    fields: dict[str, list[str]] = {}
    if venue is None or venue.kommun_id != actor.organisation_id:
        fields["venue_id"] = ["Okänt serveringsställe."]
    _text_errors(fields, "summary", summary, TEXT_MAX, True, "Beskriv kort vad ärendet gäller.")
    if diarienummer is not None and diarienummer != "":
        _text_errors(fields, "diarienummer", diarienummer, NAME_MAX, False, "")
    ids = list(dict.fromkeys(inspection_ids or []))
    inspections: list[Inspection] = []
    if ids and venue is not None:
        found = {
            i.id: i
            for i in db.session.scalars(
                select(Inspection).where(Inspection.id.in_(ids)).options(selectinload(Inspection.participants))
            )
        }
        bad = []
        for n, iid in enumerate(ids):
            insp = found.get(iid)
            if insp is None or insp.kommun_id != actor.organisation_id or insp.venue_id != venue.id:
                fields.setdefault(f"inspection_ids.{n}", []).append("Ingen tillsyn av detta serveringsställe.")
                bad.append(iid)
            elif insp.status != "signed":
                fields.setdefault(f"inspection_ids.{n}", []).append("Protokollet är inte signerat.")
                bad.append(iid)
            else:
                inspections.append(insp)
        if bad:
            fields.setdefault("inspection_ids", []).append(
                "Ett ärende kan bara öppnas från serveringsställets signerade protokoll."
            )
    if fields:
        raise validation_error(fields)
    case = Case(
        kommun_id=venue.kommun_id,
        venue=venue,
        summary=summary,
        diarienummer=diarienummer or None,
        opened_by_id=actor.id,
        status="open",
    )
    case.inspections = inspections
    db.session.add(case)
    db.session.flush()
    audit.record(
        "case.open",
        case,
        user=actor,
        details={"venue_id": venue.id, "inspection_ids": [i.id for i in inspections], "diarienummer": diarienummer},
    )
    return case


# ---- adding steps ------------------------------------------------------------------------------


def _check_order(case: Case, kind: str) -> None:
    """409 `conflict` when `kind` may not follow the steps so far (the date is checked later)."""
    if kind == "note":
        return
    main = main_steps(case)
    last = main[-1].kind if main else None
    if kind == "proposal":
        if last is None:
            return
        raise conflict("Ärendet har redan ett förslag till beslut.")
    if last is None:
        if kind == "decision":
            raise conflict("Ett beslut kräver först ett förslag till beslut.")
        raise conflict(f"{STEP_KINDS[kind]} kan inte läggas till innan det finns ett förslag till beslut.")
    if kind == "kommunicering":
        if last == "proposal":
            return
        raise conflict("Kommunicering kan bara skickas efter förslaget och före beslutet, en gång.")
    if kind == "reply":
        if last == "kommunicering":
            return
        if last == "proposal":
            raise conflict("Ett yttrande kan bara registreras efter kommunicering.")
        raise conflict("Yttrandet kan bara registreras efter kommuniceringen och före beslutet.")
    if kind == "decision":
        if last in ("kommunicering", "reply"):
            return
        if last == "proposal":
            proposal = last_step(case, "proposal")
            if proposal is not None and proposal.sanction == "ingen_atgard":
                return
            raise conflict(
                "Tillståndshavaren måste få yttra sig (kommunicering, förvaltningslagen 25 §) innan beslut om "
                "en sanktion."
            )
        raise conflict("Ärendet är redan beslutat.")
    if kind == "notification":
        if last == "decision":
            return
        if last in ("proposal", "kommunicering", "reply"):
            raise conflict("Delgivning kan bara registreras efter beslutet.")
        raise conflict("Beslutet är redan delgivet.")
    if kind == "appeal":
        if last == "notification":
            return
        if last in ("appeal", "appeal_outcome"):
            raise conflict("Ärendet har redan ett överklagande.")
        raise conflict("Ett överklagande kan registreras först när beslutet är delgivet.")
    if kind == "appeal_outcome":
        if last == "appeal":
            return
        if last == "appeal_outcome":
            raise conflict("Ärendet är avslutat: domen är redan registrerad.")
        raise conflict("Dom i överklagande kan bara registreras efter ett överklagande.")
    raise conflict("Okänt steg.")  # pragma: no cover - kinds are validated before


def check_may_add(actor, case: Case, kind: str) -> None:
    """The role check (403) and the order check (409), before the fields are validated (422)."""
    if kind == "decision" and not may(actor, "decide", case):
        raise forbidden("Bara en enhetschef kan registrera beslut.")
    if not may(actor, "edit", case):
        raise forbidden()
    _check_order(case, kind)


def add_step(actor, case: Case, kind: str, day: date | None = None, **fields) -> CaseStep:
    """Add a step after checking role (403), order (409) and its fields (422); audited.

    fields: sanction, legal_ground (proposal, decision), deadline (kommunicering; default date + 14
    days), decided_by (decision), filed_on (appeal), outcome (appeal_outcome), text (any; required
    for a note)."""
    if kind not in STEP_KINDS:
        raise validation_error({"kind": "Okänt steg."})
    # Two people adding a step at once must not both pass the order check: lock the case's row
    # (PostgreSQL; SQLite serialises writers anyway) and read its steps again under the lock.
    if case.id is not None:
        db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
        db.session.expire(case, ["steps"])
    check_may_add(actor, case, kind)
    on = today()
    day = day or on
    errors: dict[str, list[str]] = {}
    main = main_steps(case)
    if day > on:
        errors["date"] = ["Datumet kan inte ligga i framtiden."]
    elif kind != "note" and main and day < main[-1].date:
        errors["date"] = [f"Datumet kan inte vara före föregående steg ({main[-1].date:%Y-%m-%d})."]

    text = fields.get("text")
    if text is not None and text != "":
        if err := text_error(text, TEXT_MAX):
            errors["text"] = [err]
    else:
        text = None
    # Not attached to the case until every rule has passed: nothing is half-saved.
    step = CaseStep(kind=kind, date=day, by_id=actor.id, text=text)

    if kind == "note" and text is None:
        errors["text"] = ["Skriv anteckningen."]
    if kind in ("proposal", "decision"):
        sanction = fields.get("sanction")
        if sanction not in SANCTIONS:
            errors["sanction"] = ["Välj erinran, varning, återkallelse eller ingen åtgärd."]
        ground = fields.get("legal_ground")
        if ground:
            if err := text_error(ground, NAME_MAX):
                errors["legal_ground"] = [err]
        else:
            ground = LEGAL_GROUNDS.get(sanction or "")
        step.sanction = sanction
        step.legal_ground = ground
    if kind == "kommunicering":
        deadline = fields.get("deadline") or day + timedelta(days=DEFAULT_REPLY_DAYS)
        if deadline < day:
            errors["deadline"] = ["Sista dag för yttrande kan inte vara före kommuniceringen."]
        elif deadline > day + timedelta(days=180):
            errors["deadline"] = ["Sista dag för yttrande ligger orimligt långt fram."]
        step.deadline = deadline
    if kind == "decision":
        decided_by = fields.get("decided_by")
        if decided_by not in DECIDED_BY:
            errors["decided_by"] = ["Ange om beslutet fattades av delegat eller nämnden."]
        step.decided_by = decided_by
    if kind == "appeal":
        filed_on = fields.get("filed_on")
        decision = last_step(case, "decision")
        if not isinstance(filed_on, date):
            errors["filed_on"] = ["Ange datum då överklagandet kom in (ÅÅÅÅ-MM-DD)."]
        elif filed_on > on:
            errors["filed_on"] = ["Datumet kan inte ligga i framtiden."]
        elif decision is not None and filed_on < decision.date:
            errors["filed_on"] = [f"Överklagandet kan inte ha kommit in före beslutet ({decision.date:%Y-%m-%d})."]
        step.filed_on = filed_on if isinstance(filed_on, date) else None
    if kind == "appeal_outcome":
        outcome = fields.get("outcome")
        if outcome not in OUTCOMES:
            errors["outcome"] = ["Välj utgången: " + ", ".join(OUTCOMES) + "."]
        step.outcome = outcome
    if kind == "decision":
        deadline = reply_deadline(case)
        if (
            main
            and main[-1].kind == "kommunicering"
            and deadline is not None
            and day <= deadline
            and last_step(case, "reply") is None
        ):
            raise conflict(
                f"Tillståndshavaren har till och med {deadline:%Y-%m-%d} på sig att yttra sig. Beslut kan fattas "
                "när yttrandet har kommit in eller efter den dagen."
            )

    if errors:
        raise validation_error(errors)

    case.steps.append(step)
    db.session.flush()
    before = case.status
    case.status = stored_status(case)
    db.session.flush()
    audit.record(
        f"case.step.{kind}",
        case,
        user=actor,
        details={
            "step_id": step.id,
            "kind": kind,
            "date": day,
            "sanction": step.sanction,
            "legal_ground": step.legal_ground,
            "deadline": step.deadline,
            "decided_by": step.decided_by,
            "filed_on": step.filed_on,
            "outcome": step.outcome,
            "status": [before, case.status] if before != case.status else None,
        },
    )
    return step


# ---- documents ---------------------------------------------------------------------------------


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def document_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / "cases"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def attach_document(actor, case: Case, title: str, data: bytes) -> CaseDocument:
    """Attach evidence (a police report: PDF, JPEG or PNG up to 15 MB) under a generated name."""
    if not may(actor, "edit", case):
        raise forbidden()
    if len(data) > DOCUMENT_MAX_BYTES:
        raise ServiceError("too_large", "Filen är större än 15 MB.")
    errors: dict[str, list[str]] = {}
    _text_errors(errors, "title", title, NAME_MAX, True, "Ange en rubrik, t.ex. Polisrapport 2026-11-02.")
    content_type = _sniff(data)
    if not data:
        errors["file"] = ["Välj en fil."]
    elif content_type is None:
        errors["file"] = ["Bara PDF, JPEG och PNG kan bifogas."]
    if errors:
        raise validation_error(errors)
    stored = uuid.uuid4().hex + DOCUMENT_TYPES[content_type]
    store_new_file(document_folder() / stored, data)  # removed again if the transaction does not commit
    doc = CaseDocument(
        case=case,
        title=title,
        stored_name=stored,
        content_type=content_type,
        size=len(data),
        uploaded_by_id=actor.id,
    )
    db.session.add(doc)
    db.session.flush()
    audit.record(
        "case.document_add",
        case,
        user=actor,
        details={"document_id": doc.id, "title": title, "size": len(data), "content_type": content_type},
    )
    return doc


def document_path(doc: CaseDocument) -> Path:
    return document_folder() / Path(doc.stored_name).name


# ---- letter templates --------------------------------------------------------------------------


def letter_template(kommun_id: int, kind: str) -> LetterTemplate | None:
    return db.session.scalar(
        select(LetterTemplate).where(LetterTemplate.kommun_id == kommun_id, LetterTemplate.kind == kind)
    )


def save_letter_template(actor, kind: str, body: str | None) -> LetterTemplate | None:
    """Set the kommun's text for a letter; an empty text goes back to the default. Managers only."""
    from .letters import PLACEHOLDERS, template_error

    if not actor.is_kommun_staff or actor.role != "manager":
        raise forbidden("Bara en enhetschef kan ändra brevmallarna.")
    if kind not in ("kommunicering", "decision"):
        raise validation_error({"kind": "Okänd mall."})
    current = letter_template(actor.organisation_id, kind)
    before = current.body if current else None
    if body is None or not body.strip():
        if current is not None:
            db.session.delete(current)
            db.session.flush()
        audit.record(
            "case.letter_template",
            kommun_id=actor.organisation_id,
            user=actor,
            details={"kind": kind, "body": [before, None]},
        )
        return None
    field = f"{kind}_body"
    if err := text_error(body, TEXT_MAX):
        raise validation_error({field: err})
    if err := template_error(body):
        raise validation_error({field: err + " Tillåtna fält: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)})
    if current is None:
        current = LetterTemplate(kommun_id=actor.organisation_id, kind=kind, body=body)
        db.session.add(current)
    else:
        current.body = body
    db.session.flush()
    audit.record("case.letter_template", current, user=actor, kommun_id=actor.organisation_id, details={"kind": kind})
    return current


# ---- lists and the queue -----------------------------------------------------------------------


def case_query(user):
    from ..policy import kommun_filter

    return select(Case).where(kommun_filter(user, Case.kommun_id))


def with_steps(stmt):
    return stmt.options(selectinload(Case.steps), selectinload(Case.inspections), selectinload(Case.documents))


@dataclass
class Waiting:
    """A case waiting for a step: what is wanted and by when."""

    case: Case
    status: str
    wanted: str
    due: date
    overdue: bool
    detail: str


def waiting_for(case: Case, on: date) -> Waiting | None:
    """What the case waits for on the day, or None (closed, or notified with no appeal)."""
    main = main_steps(case)
    status = current_status(case, on)
    last = main[-1] if main else None
    if last is None:
        due = case.opened_at.date() + timedelta(days=PROPOSAL_DUE_DAYS)
        return Waiting(
            case, status, "Förslag till beslut", due, on > due, "öppnat " + f"{case.opened_at.date():%Y-%m-%d}"
        )
    kind = last.kind
    if kind == "proposal":
        if last.sanction == "ingen_atgard":
            due = last.date + timedelta(days=KOMMUNICERING_DUE_DAYS)
            return Waiting(case, status, "Beslut", due, on > due, "förslag: ingen åtgärd")
        due = last.date + timedelta(days=KOMMUNICERING_DUE_DAYS)
        return Waiting(case, status, "Kommunicering", due, on > due, f"förslag {last.date:%Y-%m-%d}")
    if kind == "kommunicering":
        deadline = last.deadline or last.date
        if on <= deadline:
            return Waiting(case, status, "Yttrande från tillståndshavaren", deadline, False, "sista dag för yttrande")
        return Waiting(case, status, "Beslut", deadline, True, f"sista dag för yttrande var {deadline:%Y-%m-%d}")
    if kind == "reply":
        deadline = reply_deadline(case) or last.date
        return Waiting(case, status, "Beslut", deadline, on > deadline, f"yttrande kom in {last.date:%Y-%m-%d}")
    if kind == "decision":
        due = last.date + timedelta(days=NOTIFICATION_DUE_DAYS)
        return Waiting(case, status, "Delgivning av beslutet", due, on > due, f"beslut {last.date:%Y-%m-%d}")
    if kind == "appeal":
        due = (last.filed_on or last.date) + timedelta(days=APPEAL_OUTCOME_DUE_DAYS)
        return Waiting(case, status, "Dom i överklagandet", due, on > due, f"överklagat {last.date:%Y-%m-%d}")
    return None


def queue(user, on: date | None = None, limit: int | None = None) -> list[Waiting]:
    """Cases of the user's kommun waiting for a step: overdue first, then by due date."""
    on = on or today()
    notified = exists().where(CaseStep.case_id == Case.id, CaseStep.kind == "notification")
    appealed = exists().where(CaseStep.case_id == Case.id, CaseStep.kind == "appeal")
    stmt = with_steps(
        case_query(user).where(Case.status != "closed", or_(~notified, appealed)).order_by(Case.id)
    ).options(selectinload(Case.steps).joinedload(CaseStep.by))
    items = [w for c in db.session.scalars(stmt) if (w := waiting_for(c, on)) is not None]
    items.sort(key=lambda w: (not w.overdue, w.due, w.case.id))
    return items[:limit] if limit else items


def user_involved(case: Case, user) -> bool:
    return case.opened_by_id == user.id or any(s.by_id == user.id for s in case.steps)


def start_page_sections(user) -> list[dict]:
    """The start page's "Ärenden som väntar på dig": a manager sees the kommun's queue, an inspector
    the cases they work on; overdue first."""
    from flask import url_for

    if not user.is_kommun_staff:
        return []
    items = queue(user)
    if user.role != "manager":
        items = [w for w in items if user_involved(w.case, user)]
    rows = []
    for w in items[:10]:
        when = f"försenat sedan {w.due:%Y-%m-%d}" if w.overdue else f"senast {w.due:%Y-%m-%d}"
        prefix = "FÖRSENAT – " if w.overdue else ""
        rows.append(
            {
                "text": f"{prefix}{w.case.venue.name}: {w.wanted.lower()} {when} ({w.detail})",
                "url": url_for("cases.detail", case_id=w.case.id),
            }
        )
    return [{"title": "Ärenden som väntar på dig", "items": rows, "empty": "Inga ärenden väntar på dig."}]


# ---- reminders ---------------------------------------------------------------------------------


def reminders(on: date | None = None) -> dict[str, list[str]]:
    """{e-mail address: [lines]}: overdue case steps (to the kommun's managers and to whoever works
    on the case) and unanswered invitations (to the invited)."""
    from ..auth.models import User
    from ..types import utcnow

    on = on or today()
    out: dict[str, list[str]] = {}
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    users = list(db.session.scalars(select(User).where(User.active.is_(True))))
    managers: dict[int, list] = {}
    for u in users:
        if u.is_kommun_staff and u.role == "manager":
            managers.setdefault(u.organisation_id, []).append(u)
    by_id = {u.id: u for u in users}
    kommun_ids = {u.organisation_id for u in users if u.is_kommun_staff}
    for kommun_id in sorted(kommun_ids):
        staff = next(u for u in users if u.is_kommun_staff and u.organisation_id == kommun_id)
        for w in queue(staff, on):
            if not w.overdue:
                continue
            line = (
                f"Ärende {w.case.id}, {w.case.venue.name}: {w.wanted.lower()} är försenat sedan "
                f"{w.due:%Y-%m-%d} ({w.detail}). {base}/arenden/{w.case.id}"
            )
            recipients = {u.email for u in managers.get(kommun_id, [])}
            workers = {w.case.opened_by_id} | {s.by_id for s in w.case.steps}
            recipients |= {by_id[i].email for i in workers if i in by_id and by_id[i].is_kommun_staff}
            for email in sorted(recipients):
                out.setdefault(email, []).append(line)
    invited = db.session.scalars(
        select(InspectionParticipant)
        .join(Inspection, Inspection.id == InspectionParticipant.inspection_id)
        .where(
            InspectionParticipant.response == "invited",
            Inspection.status.in_(("planned", "in_progress")),
            Inspection.planned_end >= utcnow(),
        )
        .order_by(Inspection.planned_start)
    )
    from ..types import fmt_datetime

    for p in invited:
        if not p.user.active:
            continue
        i = p.inspection
        out.setdefault(p.user.email, []).append(
            f"Inbjudan att svara på: {i.venue.name}, {fmt_datetime(i.planned_start)}. {base}/tillsyn/{i.id}"
        )
    return out
