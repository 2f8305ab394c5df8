"""Demo inspections: past visits, upcoming ones, invitations, and a joint round tonight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ..extensions import db
from ..types import STOCKHOLM, local_today
from . import scheduling
from .models import Inspection, InspectionParticipant, InspectionPlan


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=STOCKHOLM).astimezone(UTC)


def _participants(inspection: Inspection, users, responses: dict[str, str]) -> None:
    for email, response in responses.items():
        user = users[email]
        inspection.participants.append(
            InspectionParticipant(user=user, organisation_id=user.organisation_id, response=response)
        )


def seed(context: dict) -> None:
    users = context["users"]
    venues = context["venues"]
    today = local_today()
    anna = users["anna.handlaggare@ostersund.example"]
    erik = users["erik.handlaggare@ostersund.example"]
    ostersund = [v for v in venues if v.kommun.name.startswith("Östersund")]
    krokom = [v for v in venues if v.kommun.name.startswith("Krokom")]

    for kid in {v.kommun_id for v in venues}:
        db.session.add(
            InspectionPlan(kommun_id=kid, year=today.year, visits_class_1=1, visits_class_2=2, visits_class_3=4)
        )

    # Past visits, made to look signed (the protocol feature may add richer content).
    past = [
        (ostersund[0], 150, "yttre", {anna.email: "accepted"}),
        (ostersund[1], 120, "samordnad", {anna.email: "accepted", "peter.polis@polisen.example": "accepted"}),
        (ostersund[3], 90, "yttre", {erik.email: "accepted"}),
        (ostersund[4], 60, "samordnad", {erik.email: "accepted", "sara.polis@polisen.example": "accepted"}),
        (ostersund[2], 30, "inre", {anna.email: "accepted"}),
        (ostersund[5], 12, "yttre", {anna.email: "accepted", erik.email: "accepted"}),
        (krokom[0], 45, "yttre", {"johan.handlaggare@krokom.example": "accepted"}),
    ]
    for venue, days_ago, kind, who in past:
        day = today - timedelta(days=days_ago)
        start = _at(day, time(22, 0) if kind != "inre" else time(10, 0))
        end = start + timedelta(hours=1)
        inspection = Inspection(
            kommun_id=venue.kommun_id,
            venue=venue,
            kind=kind,
            status="signed",
            planned_start=start,
            planned_end=end,
            arrived_at=start + timedelta(minutes=5),
            left_at=end,
            guest_count=None if kind == "inre" else min(venue.max_guests or 80, 60),
            intoxication_level=None if kind == "inre" else "salongsberusad",
            summary="Inga anmärkningar. Serveringsansvarig på plats.",
            feedback_given="Muntlig återkoppling till serveringsansvarig.",
            checklist={"serveringsansvarig": {"status": "ok", "note": None}},
            first_signed_at=end + timedelta(minutes=30),
            signed_at=end + timedelta(minutes=45),
            created_by_id=next(iter(users[e] for e in who)).id,
        )
        _participants(inspection, users, who)
        db.session.add(inspection)

    # Upcoming: a visit next week with Sara invited, one she declined, and an inre review.
    upcoming = [
        (ostersund[6], 3, time(22, 30), "yttre", {erik.email: "accepted"}),
        (
            ostersund[7],
            6,
            time(21, 30),
            "samordnad",
            {anna.email: "accepted", "sara.polis@polisen.example": "invited"},
        ),
        (
            ostersund[8],
            8,
            time(23, 0),
            "samordnad",
            {erik.email: "accepted", "sara.polis@polisen.example": "declined"},
        ),
        (ostersund[9], 2, time(10, 0), "inre", {anna.email: "accepted"}),
    ]
    for venue, days_ahead, clock, kind, who in upcoming:
        start = _at(today + timedelta(days=days_ahead), clock)
        inspection = Inspection(
            kommun_id=venue.kommun_id,
            venue=venue,
            kind=kind,
            status="planned",
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            created_by_id=anna.id,
        )
        _participants(inspection, users, who)
        db.session.add(inspection)
    db.session.flush()

    # Tonight's joint round: the night clubs and late venues, in order, running past midnight.
    late = (
        sorted(
            (v for v in ostersund if v.serving_hours.endswith(("02:00", "03:00"))),
            key=lambda v: (-v.risk_class, v.name),
        )[:4]
        or ostersund[:4]
    )
    stops = []
    clock = scheduling.evening_datetime(today, time(21, 0))
    for venue in late:
        stops.append(scheduling.RoundStop(venue, clock, clock + timedelta(minutes=40)))
        clock += timedelta(minutes=50)
    the_round = scheduling.schedule_round(
        anna,
        today,
        f"Samordnad runda {today.isoformat()}",
        "samordnad",
        [anna.id, erik.id, users["peter.polis@polisen.example"].id, users["sara.polis@polisen.example"].id],
        stops,
    )
    for inspection in the_round.inspections:
        for p in inspection.participants:
            if p.user.email == "peter.polis@polisen.example":
                p.response = "accepted"
                p.comment = "Vi är två patruller."
                p.responded_at = inspection.created_at
