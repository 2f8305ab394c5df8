"""The figures of the reports (API.md "The summary"), computed in a fixed, small number of queries.

Every figure counts the **signed** inspections of one kommun whose visit date (`arrived_at`, else
`planned_start`, reckoned in Europe/Stockholm) lies in the period, both dates included. A period is
turned into UTC instants with `local_day_bounds`, so that a visit at 00:30 on the last day counts
and DST changes move nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select

from .. import audit
from ..auth.models import Organisation
from ..cases.models import Case, CaseStep
from ..errors import ServiceError, not_found, validation_error
from ..extensions import db
from ..inspections.models import (
    CHECKLIST_ITEMS,
    INTOXICATION_LEVELS,
    KINDS,
    Inspection,
    InspectionPlan,
    Observation,
    Signature,
)
from ..trainings.models import OverservingTest, Training, TrainingParticipant
from ..types import local_day_bounds, local_today, to_local
from ..validation import parse_serving_hours
from ..venues.models import Venue
from .models import ReportText

#: sanctions counted in the reports (a decision of `ingen_atgard` is not a sanction)
SANCTION_KINDS = ("erinran", "varning", "aterkallelse")
#: the editable text blocks of the public report
TEXT_KEYS = {
    "intro": "Inledning",
    "prevention": "Förebyggande arbete",
    "outlook": "Framåt",
}
#: an AAS diploma counts towards training coverage for this many years
DIPLOMA_VALID_YEARS = 5
#: case statuses still waiting for something (the dashboard's "open cases")
OPEN_CASE_STATUSES = ("open", "awaiting_reply", "ready_for_decision", "decided", "appealed")
MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


# ---- periods -----------------------------------------------------------------------------------


def last_half_year(today: date | None = None) -> tuple[date, date]:
    """The last complete half-year (Jan–Jun or Jul–Dec) before today."""
    today = today or local_today()
    if today.month >= 7:
        return date(today.year, 1, 1), date(today.year, 6, 30)
    return date(today.year - 1, 7, 1), date(today.year - 1, 12, 31)


def _half_year_of(day: date) -> tuple[date, date]:
    if day.month <= 6:
        return date(day.year, 1, 1), date(day.year, 6, 30)
    return date(day.year, 7, 1), date(day.year, 12, 31)


def _parse_date(name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise validation_error({name: "Ska vara ett datum ÅÅÅÅ-MM-DD."}, "Ogiltig period.") from None


def check_period(date_from: date, date_to: date, today: date | None = None) -> None:
    """422 when the period starts after today or ends before it starts (an empty period is fine)."""
    today = today or local_today()
    if date_from > today:
        raise validation_error({"from": "Perioden kan inte börja efter i dag."}, "Ogiltig period.")
    if date_from > date_to:
        raise validation_error({"to": "Perioden slutar innan den börjar."}, "Ogiltig period.")


def parse_period(raw_from: str | None, raw_to: str | None, today: date | None = None) -> tuple[date, date]:
    """`from`/`to` of a query string: both missing is the last complete half-year; one missing is
    the matching end of the other's half-year. 422 for a malformed or impossible period."""
    date_from = _parse_date("from", raw_from)
    date_to = _parse_date("to", raw_to)
    if date_from is None and date_to is None:
        date_from, date_to = last_half_year(today)
    elif date_from is None:
        date_from = _half_year_of(date_to)[0]
    elif date_to is None:
        date_to = _half_year_of(date_from)[1]
    check_period(date_from, date_to, today)
    return date_from, date_to


def parse_year(raw: str | None, today: date | None = None) -> int:
    """A year for the yearly figures: default this year; a year not begun yet is 422."""
    today = today or local_today()
    if raw is None or raw == "":
        return today.year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise validation_error({"year": "Ange ett år, t.ex. 2026."}, "Ogiltigt år.")
    year = int(raw)
    if year > today.year:
        raise validation_error({"year": "Året har inte börjat än."}, "Ogiltigt år.")
    return year


def year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def period_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """UTC instants: the start of `date_from` and the end of `date_to` in Stockholm."""
    return local_day_bounds(date_from)[0], local_day_bounds(date_to)[1]


# ---- kommun ------------------------------------------------------------------------------------


def get_kommun(kommun_id: int) -> Organisation:
    kommun = db.session.get(Organisation, kommun_id)
    if kommun is None or kommun.kind != "kommun":
        raise not_found()
    return kommun


def resolve_kommun(user, raw_kommun_id: str | None) -> Organisation:
    """The kommun a report is about: kommun staff get their own (another kommun is 404); police
    must name one (422 without) and may read any; others are 403."""
    if not (user.is_kommun_staff or user.is_police):
        raise ServiceError("forbidden", "Din roll får inte se rapporterna.")
    kommun_id: int | None = None
    if raw_kommun_id not in (None, ""):
        try:
            kommun_id = int(raw_kommun_id)
        except ValueError:
            raise validation_error({"kommun_id": "Ska vara ett heltal."}) from None
    if user.is_kommun_staff:
        if kommun_id is not None and kommun_id != user.organisation_id:
            raise not_found()
        return get_kommun(user.organisation_id)
    if kommun_id is None:
        raise validation_error({"kommun_id": "Ange vilken kommun rapporten gäller."})
    return get_kommun(kommun_id)


def kommuner() -> list[Organisation]:
    return list(
        db.session.scalars(select(Organisation).where(Organisation.kind == "kommun").order_by(Organisation.name))
    )


# ---- the summary -------------------------------------------------------------------------------


def _visit_in(start: datetime, end: datetime):
    """The visit date (arrival, else planned start) lies in [start, end)."""
    return or_(
        and_(Inspection.arrived_at.is_not(None), Inspection.arrived_at >= start, Inspection.arrived_at < end),
        and_(Inspection.arrived_at.is_(None), Inspection.planned_start >= start, Inspection.planned_start < end),
    )


def _police_signed():
    """A non-voided protocol signature (not an amendment's) by someone of a police organisation."""
    return exists().where(
        Signature.inspection_id == Inspection.id,
        Signature.amendment_id.is_(None),
        Signature.voided_at.is_(None),
        Signature.organisation_id == Organisation.id,
        Organisation.kind == "polis",
    )


def _signed_visits(kommun_id: int, start: datetime, end: datetime):
    return select(
        Inspection.id,
        Inspection.kind,
        Inspection.venue_id,
        Inspection.checklist,
        _police_signed().label("joint"),
    ).where(Inspection.kommun_id == kommun_id, Inspection.status == "signed", _visit_in(start, end))


def _figures(kommun_id: int, date_from: date, date_to: date) -> tuple[dict, dict]:
    """(the API's summary object, extra figures for the yearly statistics)."""
    start, end = period_bounds(date_from, date_to)

    # 1. the signed visits, with their checklists (JSON, counted here: portable to any database)
    visits = Counter(dict.fromkeys(KINDS, 0))
    remarks = Counter(dict.fromkeys(CHECKLIST_ITEMS, 0))
    venues: set[int] = set()
    joint = 0
    restaurangrapporter = 0
    for _id, kind, venue_id, checklist, is_joint in db.session.execute(_signed_visits(kommun_id, start, end)):
        visits[kind] += 1
        venues.add(venue_id)
        joint += bool(is_joint)
        for code, item in (checklist or {}).items():
            status = item.get("status") if isinstance(item, dict) else None
            if status == "anmarkning" and code in remarks:
                remarks[code] += 1
            if kind == "inre" and code == "restaurangrapport" and status in ("ok", "anmarkning"):
                restaurangrapporter += 1

    # 2. trainings by start date, and the people who attended them
    trainings_in = select(Training.id).where(
        Training.kommun_id == kommun_id, Training.starts_on >= date_from, Training.starts_on <= date_to
    )
    trainings, people = db.session.execute(
        select(
            select(func.count()).select_from(trainings_in.subquery()).scalar_subquery(),
            select(func.count(TrainingParticipant.id))
            .where(TrainingParticipant.training_id.in_(trainings_in), TrainingParticipant.attended.is_(True))
            .scalar_subquery(),
        )
    ).one()

    # 3. överserveringstest
    tests, refusals = db.session.execute(
        select(func.count(OverservingTest.id), func.sum(case((OverservingTest.refused.is_(True), 1), else_=0))).where(
            OverservingTest.kommun_id == kommun_id,
            OverservingTest.tested_on >= date_from,
            OverservingTest.tested_on <= date_to,
        )
    ).one()

    # 4. decisions dated in the period
    sanctions = dict.fromkeys(SANCTION_KINDS, 0)
    for sanction, count in db.session.execute(
        select(CaseStep.sanction, func.count())
        .join(Case, Case.id == CaseStep.case_id)
        .where(
            Case.kommun_id == kommun_id,
            CaseStep.kind == "decision",
            CaseStep.date >= date_from,
            CaseStep.date <= date_to,
            CaseStep.sanction.in_(SANCTION_KINDS),
        )
        .group_by(CaseStep.sanction)
    ):
        sanctions[sanction] = count

    summary = {
        "kommun": {"id": kommun_id},
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat()},
        "visits": {kind: visits[kind] for kind in KINDS},
        "joint_visits": joint,
        "venues_visited": len(venues),
        "trainings": int(trainings or 0),
        "people_trained": int(people or 0),
        "overserving_tests": {"tests": int(tests or 0), "refusals": int(refusals or 0)},
        "remarks": {code: remarks[code] for code in CHECKLIST_ITEMS},
        "sanctions": sanctions,
    }
    return summary, {"restaurangrapporter": restaurangrapporter}


def summary(kommun_id: int, date_from: date, date_to: date) -> dict:
    """API.md's summary object for one kommun and period (both dates included)."""
    get_kommun(kommun_id)
    check_period(date_from, date_to)
    return _figures(kommun_id, date_from, date_to)[0]


def refusal_rate(figures: dict) -> float | None:
    """Share of överserveringstest where the actor was refused, in per cent (None without tests)."""
    tests = figures["overserving_tests"]["tests"]
    if not tests:
        return None
    return round(100 * figures["overserving_tests"]["refusals"] / tests, 1)


def visits_total(figures: dict) -> int:
    return sum(figures["visits"].values())


# ---- the public half-year report ---------------------------------------------------------------


def decided_sanctions(kommun_id: int, date_from: date, date_to: date) -> list[dict]:
    """Sanctions decided in the period, with the venue's name (the only venue names a public report
    may show)."""
    rows = db.session.execute(
        select(CaseStep.date, CaseStep.sanction, Venue.name)
        .join(Case, Case.id == CaseStep.case_id)
        .join(Venue, Venue.id == Case.venue_id)
        .where(
            Case.kommun_id == kommun_id,
            CaseStep.kind == "decision",
            CaseStep.date >= date_from,
            CaseStep.date <= date_to,
            CaseStep.sanction.in_(SANCTION_KINDS),
        )
        .order_by(CaseStep.date, Venue.name)
    )
    return [{"date": d, "sanction": s, "venue": name} for d, s, name in rows]


def report_texts(kommun_id: int, date_from: date, date_to: date) -> dict[str, str]:
    rows = db.session.scalars(
        select(ReportText).where(
            ReportText.kommun_id == kommun_id, ReportText.period_from == date_from, ReportText.period_to == date_to
        )
    )
    texts = dict.fromkeys(TEXT_KEYS, "")
    for row in rows:
        if row.key in texts:
            texts[row.key] = row.text
    return texts


def save_report_texts(user, kommun_id: int, date_from: date, date_to: date, texts: dict[str, str]) -> None:
    """A manager writes the text blocks of one period's public report."""
    if not (user.is_kommun_staff and user.organisation_id == kommun_id):
        raise not_found()
    if user.role != "manager":
        raise ServiceError("forbidden", "Bara enhetschefer skriver rapportens texter.")
    check_period(date_from, date_to)
    rows = {
        row.key: row
        for row in db.session.scalars(
            select(ReportText).where(
                ReportText.kommun_id == kommun_id, ReportText.period_from == date_from, ReportText.period_to == date_to
            )
        )
    }
    before = {key: row.text for key, row in rows.items()}
    after = {}
    for key in TEXT_KEYS:
        text = texts.get(key)
        if text is None:
            continue
        row = rows.get(key)
        if row is None:
            row = ReportText(kommun_id=kommun_id, period_from=date_from, period_to=date_to, key=key, text=text)
            db.session.add(row)
        else:
            row.text = text
        after[key] = text
    db.session.flush()
    audit.record(
        "report.texts",
        kommun_id=kommun_id,
        details={"period": [date_from, date_to], **audit.diff(before, after)},
    )


def half_year_report(kommun_id: int, date_from: date, date_to: date) -> dict:
    """Everything the public report shows: this period, the same period a year earlier, the
    sanctions with their venues, and the text blocks. No personal data."""
    kommun = get_kommun(kommun_id)
    check_period(date_from, date_to)
    current = _figures(kommun_id, date_from, date_to)[0]
    prev_from, prev_to = year_earlier(date_from), year_earlier(date_to)
    previous = _figures(kommun_id, prev_from, prev_to)[0]
    return {
        "kommun": kommun,
        "date_from": date_from,
        "date_to": date_to,
        "prev_from": prev_from,
        "prev_to": prev_to,
        "current": current,
        "previous": previous,
        "rows": comparison_rows(current, previous),
        "refusal_rate": refusal_rate(current),
        "prev_refusal_rate": refusal_rate(previous),
        "sanction_list": decided_sanctions(kommun_id, date_from, date_to),
        "texts": report_texts(kommun_id, date_from, date_to),
    }


def comparison_rows(current: dict, previous: dict) -> list[tuple[str, int, int]]:
    """(label, this period, a year earlier) for the report's main table."""
    rows = [("Tillsynsbesök totalt", visits_total(current), visits_total(previous))]
    rows += [(label, current["visits"][k], previous["visits"][k]) for k, label in KINDS.items()]
    rows += [
        ("Besök tillsammans med polisen", current["joint_visits"], previous["joint_visits"]),
        ("Besökta serveringsställen", current["venues_visited"], previous["venues_visited"]),
        ("Utbildningar", current["trainings"], previous["trainings"]),
        ("Utbildade personer", current["people_trained"], previous["people_trained"]),
        ("Överserveringstester", current["overserving_tests"]["tests"], previous["overserving_tests"]["tests"]),
        ("– varav nekade", current["overserving_tests"]["refusals"], previous["overserving_tests"]["refusals"]),
    ]
    return rows


# ---- yearly statistics -------------------------------------------------------------------------


def open_after_one(serving_hours: str | None) -> bool:
    """Whether the serving hours reach past 01:00 at night (e.g. 11:00-02:00, 22:00-03:00)."""
    parsed = parse_serving_hours(serving_hours or "")
    if parsed is None:
        return False
    start, end = parsed
    if end <= start:
        end += 24 * 60
    # the night hours after 01:00 (until 06:00), on the serving day itself or the next
    return any(start < hi and end > lo for lo, hi in ((60, 360), (1500, 1800)))


def yearly_statistics(kommun_id: int, year: int) -> dict:
    """The national follow-up's figures for one calendar year."""
    kommun = get_kommun(kommun_id)
    date_from, date_to = date(year, 1, 1), date(year, 12, 31)
    check_period(date_from, date_to)
    figures, extra = _figures(kommun_id, date_from, date_to)
    permits = {"stadigvarande": 0, "tillfalligt": 0, "open_after_one": 0}
    for kind, hours in db.session.execute(
        select(Venue.permit_kind, Venue.serving_hours).where(
            Venue.kommun_id == kommun_id,
            Venue.active.is_(True),
            or_(Venue.valid_from.is_(None), Venue.valid_from <= date_to),
            or_(Venue.valid_to.is_(None), Venue.valid_to >= date_from),
        )
    ):
        if kind in permits:
            permits[kind] += 1
        permits["open_after_one"] += open_after_one(hours)
    return {
        "kommun": kommun,
        "year": year,
        "figures": figures,
        "permits": permits,
        "restaurangrapporter": extra["restaurangrapporter"],
        "rows": yearly_rows(figures, permits, extra["restaurangrapporter"]),
    }


def yearly_rows(figures: dict, permits: dict, restaurangrapporter: int) -> list[tuple[str, int]]:
    from ..cases.models import SANCTIONS

    rows = [("Tillsynsbesök totalt", visits_total(figures))]
    rows += [(label, figures["visits"][k]) for k, label in KINDS.items()]
    rows += [
        ("Besök tillsammans med polisen", figures["joint_visits"]),
        ("Besökta serveringsställen", figures["venues_visited"]),
        ("Utbildningar", figures["trainings"]),
        ("Utbildade personer", figures["people_trained"]),
        ("Överserveringstester", figures["overserving_tests"]["tests"]),
        ("Överserveringstester där personalen nekade", figures["overserving_tests"]["refusals"]),
    ]
    rows += [(f"Sanktion: {SANCTIONS[k]}", figures["sanctions"][k]) for k in SANCTION_KINDS]
    rows += [
        ("Stadigvarande serveringstillstånd", permits["stadigvarande"]),
        ("Tillfälliga serveringstillstånd", permits["tillfalligt"]),
        ("Tillstånd med servering efter 01:00", permits["open_after_one"]),
        ("Restaurangrapporter mottagna (granskade vid inre tillsyn)", restaurangrapporter),
    ]
    rows += [(f"Anmärkning: {label}", figures["remarks"][code]) for code, label in CHECKLIST_ITEMS.items()]
    return rows


# ---- the manager dashboard ---------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def dashboard(kommun_id: int, year: int) -> dict:
    """The year at a glance: visits per month against the tillsynsplan, intoxication levels and
    överservering observations per month, remarks by item, open cases by status, AAS coverage."""
    from ..cases.models import CASE_STATUSES

    kommun = get_kommun(kommun_id)
    date_from, date_to = date(year, 1, 1), date(year, 12, 31)
    start, end = period_bounds(date_from, date_to)

    plan = db.session.scalar(
        select(InspectionPlan).where(InspectionPlan.kommun_id == kommun_id, InspectionPlan.year == year)
    )
    per_class = {1: plan.visits_class_1, 2: plan.visits_class_2, 3: plan.visits_class_3} if plan else {1: 1, 2: 2, 3: 4}
    risk_counts = dict(
        db.session.execute(
            select(Venue.risk_class, func.count())
            .where(Venue.kommun_id == kommun_id, Venue.active.is_(True))
            .group_by(Venue.risk_class)
        ).all()
    )
    active_venues = sum(risk_counts.values())
    planned_year = sum(per_class.get(rc, 0) * n for rc, n in risk_counts.items())

    visits = [0] * 12
    levels = {level: [0] * 12 for level in INTOXICATION_LEVELS}
    remarks = Counter(dict.fromkeys(CHECKLIST_ITEMS, 0))
    for arrived, planned, level, checklist in db.session.execute(
        select(
            Inspection.arrived_at, Inspection.planned_start, Inspection.intoxication_level, Inspection.checklist
        ).where(Inspection.kommun_id == kommun_id, Inspection.status == "signed", _visit_in(start, end))
    ):
        month = to_local(arrived or planned).month - 1
        visits[month] += 1
        if level in levels:
            levels[level][month] += 1
        for code, item in (checklist or {}).items():
            if isinstance(item, dict) and item.get("status") == "anmarkning" and code in remarks:
                remarks[code] += 1

    # counted per Stockholm month in the database: one sum per month's UTC bounds (DST-correct)
    month_bounds = [period_bounds(date(year, m, 1), _month_end(year, m)) for m in range(1, 13)]
    overservering = [
        int(n or 0)
        for n in db.session.execute(
            select(
                *(
                    func.sum(case((and_(Observation.observed_at >= lo, Observation.observed_at < hi), 1), else_=0))
                    for lo, hi in month_bounds
                )
            )
            .join(Inspection, Inspection.id == Observation.inspection_id)
            .where(
                Inspection.kommun_id == kommun_id,
                Inspection.status == "signed",
                Observation.retracted.is_(False),
                Observation.category == "overservering",
                Observation.observed_at >= start,
                Observation.observed_at < end,
            )
        ).one()
    ]

    cases = dict.fromkeys(OPEN_CASE_STATUSES, 0)
    for status, count in db.session.execute(
        select(Case.status, func.count())
        .where(Case.kommun_id == kommun_id, Case.status.in_(OPEN_CASE_STATUSES))
        .group_by(Case.status)
    ):
        cases[status] = count

    today = local_today()
    valid_since = year_earlier(today)
    for _ in range(DIPLOMA_VALID_YEARS - 1):
        valid_since = year_earlier(valid_since)
    covered = db.session.scalar(
        select(func.count(func.distinct(TrainingParticipant.venue_id)))
        .join(Training, Training.id == TrainingParticipant.training_id)
        .join(Venue, Venue.id == TrainingParticipant.venue_id)
        .where(
            Venue.kommun_id == kommun_id,
            Venue.active.is_(True),
            Training.kind == "ansvarsfull_alkoholservering",
            TrainingParticipant.attended.is_(True),
            or_(TrainingParticipant.passed.is_(True), TrainingParticipant.diploma_on.is_not(None)),
            func.coalesce(TrainingParticipant.diploma_on, Training.ends_on) >= valid_since,
            func.coalesce(TrainingParticipant.diploma_on, Training.ends_on) <= today,
        )
    )

    planned_month = planned_year / 12
    return {
        "kommun": kommun,
        "year": year,
        "has_plan": plan is not None,
        "per_class": per_class,
        "active_venues": active_venues,
        "planned_year": planned_year,
        "months": MONTHS,
        "visits": visits,
        "planned": [round(planned_month * (m + 1)) - round(planned_month * m) for m in range(12)],
        "visits_done": sum(visits),
        "levels": levels,
        "overservering": overservering,
        "remarks": {code: remarks[code] for code in CHECKLIST_ITEMS},
        "cases": cases,
        "case_labels": {k: CASE_STATUSES[k] for k in OPEN_CASE_STATUSES},
        "coverage": {
            "venues": active_venues,
            "covered": int(covered or 0),
            "percent": round(100 * (covered or 0) / active_venues) if active_venues else None,
        },
        "valid_since": valid_since,
    }


# ---- the police view ---------------------------------------------------------------------------


def police_overview(date_from: date, date_to: date) -> list[dict]:
    """Per kommun: joint visits (signed by the police) in the period and the överservering
    observations made in them. Figures only: no case work, no names."""
    check_period(date_from, date_to)
    start, end = period_bounds(date_from, date_to)
    joint_filter = and_(Inspection.status == "signed", _visit_in(start, end), _police_signed())
    joint = dict(
        db.session.execute(
            select(Inspection.kommun_id, func.count()).where(joint_filter).group_by(Inspection.kommun_id)
        ).all()
    )
    observations = dict(
        db.session.execute(
            select(Inspection.kommun_id, func.count(Observation.id))
            .join(Observation, Observation.inspection_id == Inspection.id)
            .where(joint_filter, Observation.retracted.is_(False), Observation.category == "overservering")
            .group_by(Inspection.kommun_id)
        ).all()
    )
    return [
        {"kommun": k, "joint_visits": joint.get(k.id, 0), "overservering": observations.get(k.id, 0)}
        for k in kommuner()
    ]
