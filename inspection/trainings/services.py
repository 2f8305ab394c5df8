"""The rules of trainings (Ansvarsfull alkoholservering, Krogar mot knark, ...) and överserveringstest.

Services take the acting user, check the rules, change objects, write the audit entry and flush;
they never commit. Bad input is a 422 `ServiceError` with a message per field, and nothing is saved.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import case, func, select

from .. import audit
from ..errors import forbidden, validation_error
from ..extensions import db
from ..types import STOCKHOLM, local_today
from ..validation import NAME_MAX, TEXT_MAX, text_error
from ..venues.models import ResponsibleServer, Venue
from .models import PARTICIPANT_ROLES, TRAINING_KINDS, OverservingTest, Training, TrainingParticipant

ORGANISERS = {"kommun": "Kommunen", "polis": "Polisen"}
AAS = "ansvarsfull_alkoholservering"
#: national reference figures for the överserveringstest refusal rate (DOMAIN.md): Stockholm
REFERENCE_RATES = [(1996, 0.05, "Stockholm"), (2001, 0.70, "Stockholm"), (2016, 0.77, "Stockholm")]


# ---- small helpers ------------------------------------------------------------------------------


def diploma_valid_years() -> int:
    if has_app_context():
        return int(current_app.config.get("DIPLOMA_VALID_YEARS", 5))
    return 5


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 always exists


def months_between(earlier: date, later: date) -> int:
    """Whole months from `earlier` to `later` (0 when later is earlier)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        months -= 1
    return max(0, months)


def normalise_name(name: str) -> str:
    """For matching a participant to a notified responsible server: case, accents' composition and
    spacing do not matter."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def diploma_valid(diploma_on: date | None, today: date, years: int | None = None) -> bool:
    if diploma_on is None or diploma_on > today:
        return False
    return today < add_years(diploma_on, diploma_valid_years() if years is None else years)


def refusal_rate(refusals: int, tests: int) -> float | None:
    """Share of överserveringstest visits where the actor was refused; None when there were no tests."""
    if tests <= 0:
        return None
    return refusals / tests


def _require_staff(actor) -> None:
    if not actor.is_kommun_staff:
        raise forbidden()


def _name_error(value: Any, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "Obligatoriskt fält." if required else None
    if not isinstance(value, str):
        return "Ska vara text."
    return text_error(value, NAME_MAX)


def _own_venues(actor, ids) -> dict[int, Venue]:
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    rows = db.session.scalars(select(Venue).where(Venue.id.in_(ids), Venue.kommun_id == actor.organisation_id))
    return {v.id: v for v in rows}


# ---- trainings ---------------------------------------------------------------------------------


@dataclass
class ParticipantData:
    name: str
    role: str
    venue_id: int | None = None
    attended: bool = True
    passed: bool | None = None
    diploma_on: date | None = None

    @classmethod
    def from_any(cls, raw: Any) -> ParticipantData:
        if isinstance(raw, ParticipantData):
            return raw
        if not isinstance(raw, dict):
            raw = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
        attended = raw.get("attended")
        return cls(
            name=raw.get("name"),
            role=raw.get("role"),
            venue_id=raw.get("venue_id"),
            attended=True if attended is None else bool(attended),
            passed=raw.get("passed"),
            diploma_on=raw.get("diploma_on"),
        )


def _check_training(actor, data: dict) -> tuple[dict[int, Venue], list[ParticipantData]]:
    """Every rule of a training's fields; raises one 422 naming every bad field."""
    errors: dict[str, list[str]] = defaultdict(list)
    if data.get("kind") not in TRAINING_KINDS:
        errors["kind"].append("Välj en av utbildningstyperna.")
    if msg := _name_error(data.get("title")):
        errors["title"].append(msg)
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if not isinstance(starts_on, date):
        errors["starts_on"].append("Ange startdatum (ÅÅÅÅ-MM-DD).")
    if not isinstance(ends_on, date):
        errors["ends_on"].append("Ange slutdatum (ÅÅÅÅ-MM-DD).")
    elif isinstance(starts_on, date) and ends_on < starts_on:
        errors["ends_on"].append("Utbildningen kan inte sluta före den börjar.")
    if data.get("place") and (msg := _name_error(data["place"], required=False)):
        errors["place"].append(msg)
    organisers = data.get("organisers")
    if organisers is not None:
        if not organisers:
            errors["organisers"].append("Ange minst en arrangör (kommunen och/eller polisen).")
        elif any(o not in ORGANISERS for o in organisers):
            errors["organisers"].append("Arrangör ska vara kommun eller polis.")

    participants = [ParticipantData.from_any(p) for p in data.get("participants") or []]
    venue_ids = list(data.get("venue_ids") or [])
    wanted = set(venue_ids) | {p.venue_id for p in participants if p.venue_id is not None}
    venues = _own_venues(actor, wanted)
    missing = [str(i) for i in venue_ids if i not in venues]
    if missing:
        errors["venue_ids"].append(
            f"Serveringsställe {', '.join(missing)} finns inte bland din kommuns serveringsställen."
        )
    for n, p in enumerate(participants):
        if msg := _name_error(p.name):
            errors[f"participants.{n}.name"].append("Namn saknas." if msg == "Obligatoriskt fält." else msg)
        if p.role not in PARTICIPANT_ROLES:
            errors[f"participants.{n}.role"].append("Välj en roll.")
        if p.venue_id is not None and p.venue_id not in venues:
            errors[f"participants.{n}.venue_id"].append(
                f"Serveringsställe {p.venue_id} finns inte bland din kommuns serveringsställen."
            )
        if p.diploma_on is not None and not isinstance(p.diploma_on, date):
            errors[f"participants.{n}.diploma_on"].append("Ange datum (ÅÅÅÅ-MM-DD).")
    if errors:
        first = next(iter(errors))
        message = "Uppgifterna är inte giltiga."
        if first.startswith("participants."):
            message = f"Deltagare {int(first.split('.')[1]) + 1}: {errors[first][0]}"
        elif first == "ends_on" and isinstance(ends_on, date):
            message = errors[first][0]
        raise validation_error(dict(errors), message)
    # Participants' venues count as invited.
    ordered = list(dict.fromkeys([*venue_ids, *(p.venue_id for p in participants if p.venue_id is not None)]))
    return {i: venues[i] for i in ordered}, participants


def _snapshot(training: Training) -> dict:
    return {
        "kind": training.kind,
        "title": training.title,
        "starts_on": training.starts_on,
        "ends_on": training.ends_on,
        "place": training.place,
        "organisers": training.organisers,
        "venue_ids": [v.id for v in training.venues],
        "participants": len(training.participants),
    }


def _apply(training: Training, data: dict, venues: dict[int, Venue], participants: list[ParticipantData]) -> None:
    training.kind = data["kind"]
    training.title = data["title"]
    training.starts_on = data["starts_on"]
    training.ends_on = data["ends_on"]
    training.place = data.get("place") or None
    organisers = data.get("organisers")
    if organisers is not None:
        training.organised_by_kommun = "kommun" in organisers
        training.organised_by_police = "polis" in organisers
    training.venues = list(venues.values())
    training.participants = [
        TrainingParticipant(
            position=n,
            name=p.name,
            role=p.role,
            venue_id=p.venue_id,
            attended=p.attended,
            passed=p.passed,
            diploma_on=p.diploma_on,
        )
        for n, p in enumerate(participants)
    ]


def record_training(actor, **data) -> Training:
    """Record a training: kind, title, starts_on, ends_on, place?, organisers?, venue_ids, participants."""
    _require_staff(actor)
    if data.get("organisers") is None:
        data["organisers"] = ["kommun"]
    venues, participants = _check_training(actor, data)
    training = Training(kommun_id=actor.organisation_id, created_by_id=actor.id)
    _apply(training, data, venues, participants)
    db.session.add(training)
    db.session.flush()
    audit.record("training.create", training, user=actor, details=_snapshot(training))
    return training


def update_training(training: Training, actor, **data) -> Training:
    """Change a training; `participants`, when given, replaces the list."""
    _require_staff(actor)
    if training.kommun_id != actor.organisation_id:
        raise forbidden()
    before = _snapshot(training)
    merged = {
        "kind": training.kind,
        "title": training.title,
        "starts_on": training.starts_on,
        "ends_on": training.ends_on,
        "place": training.place,
        "organisers": training.organisers,
        "venue_ids": [v.id for v in training.venues],
        "participants": [
            ParticipantData(p.name, p.role, p.venue_id, p.attended, p.passed, p.diploma_on)
            for p in training.participants
        ],
    }
    merged.update({k: v for k, v in data.items() if k in merged})
    venues, participants = _check_training(actor, merged)
    _apply(training, merged, venues, participants)
    db.session.flush()
    audit.record("training.update", training, user=actor, details=audit.diff(before, _snapshot(training)))
    return training


def delete_training(training: Training, actor) -> None:
    _require_staff(actor)
    if training.kommun_id != actor.organisation_id:
        raise forbidden()
    audit.record("training.delete", training, user=actor, details=_snapshot(training))
    db.session.delete(training)
    db.session.flush()


def _append_participants(training: Training, actor, new: list[ParticipantData], action: str) -> int:
    position = max((p.position for p in training.participants), default=-1) + 1
    venue_ids = {v.id for v in training.venues}
    extra_venues = _own_venues(actor, {p.venue_id for p in new if p.venue_id is not None} - venue_ids)
    for venue in extra_venues.values():
        training.venues.append(venue)
    for p in new:
        training.participants.append(
            TrainingParticipant(
                position=position,
                name=p.name,
                role=p.role,
                venue_id=p.venue_id,
                attended=p.attended,
                passed=p.passed,
                diploma_on=p.diploma_on,
            )
        )
        position += 1
    db.session.flush()
    audit.record(action, training, user=actor, details={"added": len(new)})
    return len(new)


def add_responsible_servers(training: Training, venue: Venue, actor) -> int:
    """Add the venue's notified responsible servers as participants (those already listed for the
    venue are skipped). Answers how many were added."""
    _require_staff(actor)
    if training.kommun_id != actor.organisation_id or venue.kommun_id != actor.organisation_id:
        raise forbidden()
    listed = {(p.venue_id, normalise_name(p.name)) for p in training.participants}
    new = [
        ParticipantData(name=s.name, role="serveringsansvarig", venue_id=venue.id)
        for s in venue.responsible_servers
        if (venue.id, normalise_name(s.name)) not in listed
    ]
    if venue not in training.venues:
        training.venues.append(venue)
    return _append_participants(training, actor, new, "training.add_responsible_servers")


_ROLE_WORDS = {normalise_name(label): code for code, label in PARTICIPANT_ROLES.items()} | {
    code: code for code in PARTICIPANT_ROLES
}
_ROLE_WORDS.update({"dörrvärd": "dorrvard", "övrig": "ovrig", "tillståndshavare": "tillstandshavare"})


def parse_participant_lines(actor, text: str, field_name: str = "participants_text") -> list[ParticipantData]:
    """Parse a pasted list, one participant a line: "Namn; roll; serveringsställe" (role and venue
    may be left out). Any broken line refuses the whole list, naming every broken line."""
    _require_staff(actor)
    venues = db.session.scalars(select(Venue).where(Venue.kommun_id == actor.organisation_id)).all()
    by_name: dict[str, list[Venue]] = defaultdict(list)
    for v in venues:
        by_name[normalise_name(v.name)].append(v)
    errors: list[str] = []
    parsed: list[ParticipantData] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        if len(parts) > 3:
            errors.append(f"Rad {number}: för många fält (skriv Namn; roll; serveringsställe).")
            continue
        name, role_text, venue_text = (parts + ["", ""])[:3]
        if not name:
            errors.append(f"Rad {number}: namn saknas.")
            continue
        if message := text_error(name, NAME_MAX):
            errors.append(f"Rad {number}: {message}")
            continue
        role = _ROLE_WORDS.get(normalise_name(role_text)) if role_text else "ovrig"
        if role is None:
            errors.append(
                f"Rad {number}: okänd roll ”{role_text}” (välj {', '.join(PARTICIPANT_ROLES.values()).lower()})."
            )
            continue
        venue_id = None
        if venue_text:
            matches = by_name.get(normalise_name(venue_text), [])
            if len(matches) != 1:
                what = "finns inte bland kommunens serveringsställen" if not matches else "är inte entydigt"
                errors.append(f"Rad {number}: serveringsstället ”{venue_text}” {what}.")
                continue
            venue_id = matches[0].id
        parsed.append(ParticipantData(name=name, role=role, venue_id=venue_id))
    if errors:
        raise validation_error({field_name: errors}, "Listan sparades inte: " + " ".join(errors))
    return parsed


def add_pasted_participants(training: Training, actor, text: str) -> int:
    """Add participants from a pasted list (see `parse_participant_lines`); all or nothing."""
    _require_staff(actor)
    if training.kommun_id != actor.organisation_id:
        raise forbidden()
    new = parse_participant_lines(actor, text)
    if not new:
        raise validation_error({"participants_text": ["Klistra in minst en rad."]}, "Listan är tom.")
    return _append_participants(training, actor, new, "training.add_participants")


# ---- coverage per venue ------------------------------------------------------------------------


@dataclass
class VenueCoverage:
    venue_id: int
    #: notified responsible servers (serveringsansvariga)
    servers: int = 0
    #: of those, how many hold a valid AAS diploma
    trained: int = 0
    #: the last day of the latest training that staff of the venue attended
    last_trained_on: date | None = None
    months_since: int | None = None
    trained_names: list[str] = field(default_factory=list)
    untrained_names: list[str] = field(default_factory=list)

    @property
    def has_trained_server(self) -> bool:
        return self.trained > 0


def coverage(venue_ids, today: date | None = None) -> dict[int, VenueCoverage]:
    """Training coverage of each venue, in three queries whatever the number of venues."""
    today = today or local_today()
    ids = sorted(set(venue_ids))
    result = {i: VenueCoverage(venue_id=i) for i in ids}
    if not ids:
        return result
    years = diploma_valid_years()
    oldest_valid = add_years(today, -years)
    servers = db.session.execute(
        select(ResponsibleServer.venue_id, ResponsibleServer.name)
        .where(ResponsibleServer.venue_id.in_(ids))
        .order_by(ResponsibleServer.venue_id, ResponsibleServer.id)
    ).all()
    diplomas = db.session.execute(
        select(TrainingParticipant.venue_id, TrainingParticipant.name, TrainingParticipant.diploma_on)
        .join(Training, Training.id == TrainingParticipant.training_id)
        .where(
            TrainingParticipant.venue_id.in_(ids),
            Training.kind == AAS,
            TrainingParticipant.passed.is_(True),
            TrainingParticipant.diploma_on.is_not(None),
            TrainingParticipant.diploma_on >= oldest_valid,
            TrainingParticipant.diploma_on <= today,
        )
    ).all()
    last = db.session.execute(
        select(TrainingParticipant.venue_id, func.max(Training.ends_on))
        .join(Training, Training.id == TrainingParticipant.training_id)
        .where(
            TrainingParticipant.venue_id.in_(ids),
            TrainingParticipant.attended.is_(True),
            Training.starts_on <= today,
        )
        .group_by(TrainingParticipant.venue_id)
    ).all()
    valid: set[tuple[int, str]] = {
        (venue_id, normalise_name(name)) for venue_id, name, on in diplomas if diploma_valid(on, today, years)
    }
    for venue_id, name in servers:
        cov = result[venue_id]
        cov.servers += 1
        if (venue_id, normalise_name(name)) in valid:
            cov.trained += 1
            cov.trained_names.append(name)
        else:
            cov.untrained_names.append(name)
    for venue_id, ends_on in last:
        if ends_on is not None:
            on = min(ends_on, today)
            result[venue_id].last_trained_on = on
            result[venue_id].months_since = months_between(on, today)
    return result


def venue_coverage(venue) -> VenueCoverage:
    """Coverage of one venue (for the venue card: include templates/trainings/_venue_coverage.html)."""
    venue_id = venue if isinstance(venue, int) else venue.id
    return coverage([venue_id])[venue_id]


# ---- överserveringstest ------------------------------------------------------------------------


def record_overserving_test(actor, *, venue_id, tested_on, refused, notes=None) -> OverservingTest:
    """Record an överserveringstest visit at a venue of the actor's kommun."""
    _require_staff(actor)
    errors: dict[str, list[str]] = {}
    venue = _own_venues(actor, {venue_id}).get(venue_id) if isinstance(venue_id, int) else None
    if venue is None:
        errors["venue_id"] = ["Välj ett serveringsställe i din kommun."]
    if not isinstance(tested_on, date):
        errors["tested_on"] = ["Ange datum (ÅÅÅÅ-MM-DD)."]
    elif tested_on > local_today():
        errors["tested_on"] = ["Testet kan inte ligga i framtiden."]
    if not isinstance(refused, bool):
        errors["refused"] = ["Ange om skådespelaren nekades servering."]
    if notes and (msg := text_error(notes, TEXT_MAX)):
        errors["notes"] = [msg]
    if errors:
        raise validation_error(errors)
    test = OverservingTest(
        kommun_id=actor.organisation_id,
        venue=venue,
        tested_on=tested_on,
        refused=refused,
        notes=notes or None,
        created_by_id=actor.id,
    )
    db.session.add(test)
    db.session.flush()
    audit.record(
        "overserving_test.create",
        test,
        user=actor,
        details={"venue_id": venue.id, "tested_on": tested_on, "refused": refused},
    )
    return test


def delete_overserving_test(test: OverservingTest, actor) -> None:
    _require_staff(actor)
    if test.kommun_id != actor.organisation_id:
        raise forbidden()
    audit.record(
        "overserving_test.delete",
        test,
        user=actor,
        details={"venue_id": test.venue_id, "tested_on": test.tested_on, "refused": test.refused},
    )
    db.session.delete(test)
    db.session.flush()


@dataclass
class RateRow:
    year: int
    tests: int
    refusals: int

    @property
    def rate(self) -> float | None:
        return refusal_rate(self.refusals, self.tests)


def _year():
    return func.extract("year", OverservingTest.tested_on)


def refusal_rates(kommun_id: int) -> list[RateRow]:
    """Refusal rate per year for a kommun, oldest year first."""
    year = _year()
    rows = db.session.execute(
        select(year, func.count(), func.sum(case((OverservingTest.refused.is_(True), 1), else_=0)))
        .where(OverservingTest.kommun_id == kommun_id)
        .group_by(year)
        .order_by(year)
    ).all()
    return [RateRow(int(y), int(n), int(r or 0)) for y, n, r in rows]


def refusal_rates_by_venue(kommun_id: int) -> list[tuple[Venue, dict[int, RateRow], RateRow]]:
    """Per venue of the kommun with tests: {year: RateRow} and the total, venues by name."""
    year = _year()
    rows = db.session.execute(
        select(
            OverservingTest.venue_id,
            year,
            func.count(),
            func.sum(case((OverservingTest.refused.is_(True), 1), else_=0)),
        )
        .where(OverservingTest.kommun_id == kommun_id)
        .group_by(OverservingTest.venue_id, year)
    ).all()
    per_venue: dict[int, dict[int, RateRow]] = defaultdict(dict)
    for venue_id, y, n, r in rows:
        per_venue[venue_id][int(y)] = RateRow(int(y), int(n), int(r or 0))
    venues = db.session.scalars(select(Venue).where(Venue.id.in_(per_venue)).order_by(Venue.name)).all()
    out = []
    for v in venues:
        by_year = per_venue[v.id]
        total = RateRow(0, sum(r.tests for r in by_year.values()), sum(r.refusals for r in by_year.values()))
        out.append((v, by_year, total))
    return out


# ---- link to outcomes --------------------------------------------------------------------------


@dataclass
class Outcome:
    visits: int = 0
    #: checklist items marked anmarkning in signed protocols
    remarks: int = 0
    #: överservering observations (not retracted) and overservering remarks
    overservering: int = 0


@dataclass
class BeforeAfter:
    venue_id: int
    trained_on: date
    before: Outcome
    after: Outcome
    #: false while the 12 months after the training have not all passed
    complete: bool


def before_after_many(trained: dict[int, date], today: date | None = None) -> dict[int, BeforeAfter]:
    """For each venue and training date: remarks and överservering in signed inspections in the 12
    months before the date against the 12 months after. Two queries for any number of venues."""
    from ..inspections.models import Inspection, Observation

    today = today or local_today()
    result = {
        venue_id: BeforeAfter(venue_id, on, Outcome(), Outcome(), add_months(on, 12) < today)
        for venue_id, on in trained.items()
    }
    if not trained:
        return result
    # A generous window in UTC around every venue's 24 months (visit dates are in Stockholm).
    lo = add_months(min(trained.values()), -12) - timedelta(days=2)
    hi = add_months(max(trained.values()), 12) + timedelta(days=2)
    rows = db.session.execute(
        select(
            Inspection.id, Inspection.venue_id, Inspection.arrived_at, Inspection.planned_start, Inspection.checklist
        )
        .where(
            Inspection.venue_id.in_(list(trained)),
            Inspection.status == "signed",
            Inspection.planned_start >= _utc(lo),
            Inspection.planned_start < _utc(hi),
        )
        .execution_options(yield_per=500)
    ).all()
    side_of: dict[int, Outcome] = {}
    for inspection_id, venue_id, arrived_at, planned_start, checklist in rows:
        on = trained[venue_id]
        day = (arrived_at or planned_start).astimezone(STOCKHOLM).date()
        if add_months(on, -12) <= day < on:
            outcome = result[venue_id].before
        elif on < day <= add_months(on, 12):
            outcome = result[venue_id].after
        else:
            continue
        outcome.visits += 1
        for code, item in (checklist or {}).items():
            if isinstance(item, dict) and item.get("status") == "anmarkning":
                outcome.remarks += 1
                if code == "overservering":
                    outcome.overservering += 1
        side_of[inspection_id] = outcome
    if side_of:
        counts = db.session.execute(
            select(Observation.inspection_id, func.count())
            .where(
                Observation.inspection_id.in_(list(side_of)),
                Observation.category == "overservering",
                Observation.retracted.is_(False),
            )
            .group_by(Observation.inspection_id)
        ).all()
        for inspection_id, n in counts:
            side_of[inspection_id].overservering += int(n)
    return result


def before_after(venue_id: int, trained_on: date, today: date | None = None) -> BeforeAfter:
    """Remarks and överservering at a venue in the 12 months before and after a training date."""
    return before_after_many({venue_id: trained_on}, today)[venue_id]


def _utc(day: date):
    from ..types import local_day_bounds

    return local_day_bounds(day)[0]


def trained_venues(kommun_id: int, since: date, today: date | None = None) -> dict[int, date]:
    """Venues of the kommun whose staff attended a training that ended between `since` and today:
    venue id -> the last such training's last day."""
    today = today or local_today()
    rows = db.session.execute(
        select(TrainingParticipant.venue_id, func.max(Training.ends_on))
        .join(Training, Training.id == TrainingParticipant.training_id)
        .join(Venue, Venue.id == TrainingParticipant.venue_id)
        .where(
            Venue.kommun_id == kommun_id,
            Training.kommun_id == kommun_id,
            TrainingParticipant.attended.is_(True),
            Training.ends_on >= since,
            Training.ends_on <= today,
        )
        .group_by(TrainingParticipant.venue_id)
    ).all()
    return {int(venue_id): on for venue_id, on in rows}


# ---- venue history -------------------------------------------------------------------------------


def history_events(venue_id: int, user, year: int | None = None) -> list[dict]:
    """Events for a venue's history (API.md types `training` and `overserving_test`), newest first.
    The caller has checked that `user` may read the venue's history."""
    from ..policy import kommun_filter, training_filter
    from .models import training_venue

    stmt = select(Training).where(
        training_filter(user),
        Training.id.in_(
            select(training_venue.c.training_id)
            .where(training_venue.c.venue_id == venue_id)
            .union(select(TrainingParticipant.training_id).where(TrainingParticipant.venue_id == venue_id))
        ),
    )
    if year:
        stmt = stmt.where(Training.starts_on >= date(year, 1, 1), Training.starts_on <= date(year, 12, 31))
    events = [
        {
            "type": "training",
            "date": t.starts_on.isoformat(),
            "id": t.id,
            "title": f"{TRAINING_KINDS.get(t.kind, t.kind)}: {t.title}",
            "kind": t.kind,
        }
        for t in db.session.scalars(stmt)
    ]
    tests = select(OverservingTest).where(
        OverservingTest.venue_id == venue_id, kommun_filter(user, OverservingTest.kommun_id)
    )
    if year:
        tests = tests.where(
            OverservingTest.tested_on >= date(year, 1, 1), OverservingTest.tested_on <= date(year, 12, 31)
        )
    for t in db.session.scalars(tests):
        events.append(
            {
                "type": "overserving_test",
                "date": t.tested_on.isoformat(),
                "id": t.id,
                "title": "Överserveringstest: " + ("nekade servering" if t.refused else "serverade"),
                "refused": t.refused,
            }
        )
    events.sort(key=lambda e: (e["date"], e["id"]), reverse=True)
    return events
