"""Demo cases for `flask seed-demo`: one decided and notified, one waiting for a decision past its
reply deadline (with the ladder notice), one waiting for the permit holder's reply."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ..extensions import db
from ..inspections.models import Inspection, InspectionParticipant
from ..types import STOCKHOLM
from . import services


def _opened_on(case, day) -> None:
    """The demo's cases were opened on the day of their first step, not when the demo was loaded."""
    case.opened_at = datetime.combine(day, time(9, 0), tzinfo=STOCKHOLM).astimezone(UTC)


def _signed_inspection(venue, inspector, day, remark: str) -> Inspection:
    """The venue's latest signed protocol, or a signed one made for the demo."""
    found = services.signed_inspections(venue)
    if found:
        return found[0]
    start = datetime.combine(day, time(22, 30), tzinfo=STOCKHOLM).astimezone(UTC)
    inspection = Inspection(
        kommun_id=venue.kommun_id,
        venue=venue,
        kind="yttre",
        status="signed",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        arrived_at=start,
        left_at=start + timedelta(minutes=50),
        contact_person="Skiftledare",
        responsible_server_present=False,
        guest_count=140,
        intoxication_level="markbart_paverkad",
        summary=remark,
        checklist={
            "serveringsansvarig": {"status": "anmarkning", "note": "Ingen serveringsansvarig på plats."},
            "overservering": {"status": "anmarkning", "note": remark},
        },
        first_signed_at=start + timedelta(hours=2),
        signed_at=start + timedelta(hours=2),
    )
    inspection.participants.append(
        InspectionParticipant(user=inspector, organisation_id=inspector.organisation_id, response="accepted")
    )
    db.session.add(inspection)
    db.session.flush()
    return inspection


def seed(context) -> None:
    users = context["users"]
    venues = {v.name: v for v in context["venues"]}
    today = services.today()
    anna = users["anna.handlaggare@ostersund.example"]
    maria = users["maria.chef@ostersund.example"]
    johan = users["johan.handlaggare@krokom.example"]
    lena = users["lena.chef@krokom.example"]

    # 1. Decided and notified: an erinran for Restaurang Storsjön.
    venue = venues["Restaurang Storsjön"]
    d0 = today - timedelta(days=120)
    visit = _signed_inspection(venue, anna, d0, "Märkbart påverkad gäst serverades två öl kl. 00:40.")
    case = services.open_case(
        anna, venue, [visit.id], "Överservering till märkbart påverkad gäst vid yttre tillsyn.", "ÖSD 2026/0412"
    )
    _opened_on(case, d0 + timedelta(days=2))
    services.add_step(
        anna, case, "proposal", d0 + timedelta(days=5), sanction="erinran", text="Överservering, 8 kap. 20 §."
    )
    services.add_step(anna, case, "kommunicering", d0 + timedelta(days=7))
    services.add_step(
        anna, case, "reply", d0 + timedelta(days=15), text="Tillståndshavaren har utbildat personalen på nytt."
    )
    services.add_step(
        maria,
        case,
        "decision",
        d0 + timedelta(days=25),
        sanction="erinran",
        decided_by="delegat",
        text="Överservering vid ett tillfälle; åtgärder vidtagna.",
    )
    services.add_step(anna, case, "notification", d0 + timedelta(days=28))

    # 2. Reply deadline passed, no decision yet (overdue in the queue); a varning without an
    #    earlier erinran shows the ladder notice.
    venue = venues["Bar Jämtlandia"]
    d1 = today - timedelta(days=40)
    visit = _signed_inspection(venue, anna, d1, "Ingen ålderskontroll; två gäster under 18 serverades.")
    case = services.open_case(
        anna, venue, [visit.id], "Servering till underåriga och ingen serveringsansvarig på plats.", "ÖSD 2026/0530"
    )
    _opened_on(case, d1 + timedelta(days=1))
    services.add_step(anna, case, "proposal", d1 + timedelta(days=3), sanction="varning")
    services.add_step(anna, case, "kommunicering", d1 + timedelta(days=4))
    services.add_step(anna, case, "note", d1 + timedelta(days=10), text="Tillståndshavaren ringde och bad om kopia.")

    # 3. Waiting for the permit holder's reply (Krokom).
    venue = venues["Nattklubb Vinterljus"]
    d2 = today - timedelta(days=12)
    visit = _signed_inspection(venue, johan, d2, "Trängsel: cirka 700 gäster mot tillåtna 600.")
    case = services.open_case(johan, venue, [visit.id], "För många gäster i lokalen.", "KRK 2026/0101")
    _opened_on(case, d2 + timedelta(days=1))
    services.add_step(johan, case, "proposal", d2 + timedelta(days=2), sanction="erinran")
    services.add_step(lena, case, "kommunicering", d2 + timedelta(days=3))
