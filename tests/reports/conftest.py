"""Known data for the reports: a kommun's first half of 2025 (and the same period of 2024), with the
edge cases the summary's definitions turn on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from inspection.cases.models import Case, CaseStep
from inspection.inspections.models import CHECKLIST_ITEMS, Amendment, Inspection, Observation, Signature
from inspection.trainings.models import OverservingTest, Training, TrainingParticipant
from inspection.venues.models import ResponsibleServer
from tests.conftest import stockholm

FROM, TO = date(2025, 1, 1), date(2025, 6, 30)


@pytest.fixture
def sign(db_session):
    """Add a (protocol) signature by `user` to an inspection."""

    def do(inspection, user, *, voided=False, amendment=None):
        sig = Signature(
            inspection_id=inspection.id,
            user_id=user.id,
            organisation_id=user.organisation_id,
            content_hash="0" * 64,
            signed_at=datetime(2025, 1, 1, tzinfo=UTC),
            voided_at=datetime(2025, 1, 2, tzinfo=UTC) if voided else None,
            amendment_id=amendment.id if amendment else None,
        )
        db_session.add(sig)
        db_session.flush()
        return sig

    return do


@pytest.fixture
def visit(make_inspection, sign, inspector, police):
    """A visit: signed by the inspector (and the police officer when `joint`) unless another status."""

    def make(venue, start, *, kind="yttre", status="signed", joint=False, arrived=None, checklist=None, **kw):
        people = [inspector, police] if joint else [inspector]
        inspection = make_inspection(
            venue=venue,
            participants=people,
            kind=kind,
            start=start,
            status=status,
            arrived_at=arrived.astimezone(UTC) if arrived else None,
            checklist=checklist or {},
            **kw,
        )
        if status == "signed":
            for person in people:
                sign(inspection, person)
        return inspection

    return make


@pytest.fixture
def dataset(db_session, kommun, other_kommun, make_venue, make_user, inspector, police, manager, visit, sign):
    """Build the data; answer the figures the summary must give for FROM–TO."""
    a = make_venue(name="Krogen Alfa")
    b = make_venue(name="Baren Beta")
    c = make_venue(name="Puben Gamma")
    d = make_venue(name="Nattklubben Delta")
    foreign = make_venue(org=other_kommun, name="Främmande krogen")
    other_inspector = make_user("inspector", org=other_kommun)

    anm = {"status": "anmarkning", "note": "Serverade en märkbart påverkad gäst"}
    ok = {"status": "ok", "note": None}
    # counted
    v1 = visit(
        a,
        stockholm(2025, 3, 10, 21),
        checklist={"overservering": anm, "mat": ok, "alderskontroll": anm},
        contact_person="Conny Kontaktsson",
        responsible_server_name="Rolf Ansvarsson",
        summary="Bartendern Bosse serverade en påverkad gäst",
    )
    db_session.add(ResponsibleServer(venue_id=a.id, name="Sven Serveringsson", birth_year=1980))
    # the first minutes of the period (still 2024 in UTC)
    v2 = visit(b, stockholm(2025, 1, 1, 0, 30), checklist={"overservering": anm})
    # just after midnight Stockholm on the period's last day: 2025-06-29 22:15 UTC
    v3 = visit(c, stockholm(2025, 6, 29, 23), kind="samordnad", joint=True, arrived=stockholm(2025, 6, 30, 0, 15))
    # planned before the period, but the arrival (which decides) falls in it
    v4 = visit(a, stockholm(2024, 12, 31, 23), kind="samordnad", joint=True, arrived=stockholm(2025, 1, 1, 0, 5))
    v5 = visit(d, stockholm(2025, 2, 2, 10), kind="inre", checklist={"restaurangrapport": ok, "fakturor": anm})
    v6 = visit(b, stockholm(2025, 5, 5, 14), kind="forebyggande")
    # a joint visit whose police signature was voided (protocol reopened), then signed by the kommun only
    v7 = visit(c, stockholm(2025, 4, 4, 22), kind="samordnad")
    sign(v7, police, voided=True)
    # police signed only an amendment, not the protocol
    v8 = visit(d, stockholm(2025, 4, 5, 22), kind="samordnad")
    amendment = Amendment(inspection_id=v8.id, text="Rättelse", author_id=inspector.id, content_hash="1" * 64)
    db_session.add(amendment)
    db_session.flush()
    sign(v8, police, amendment=amendment)
    # not counted
    visit(a, stockholm(2025, 7, 1, 0, 15), kind="yttre", checklist={"mat": anm})  # 2025-06-30 22:15 UTC
    visit(a, stockholm(2025, 6, 30, 23), kind="yttre", arrived=stockholm(2025, 7, 1, 0, 10))  # arrival decides
    visit(b, stockholm(2025, 3, 3, 21), status="cancelled", cancel_reason="Stängt")
    visit(b, stockholm(2025, 3, 4, 21), status="awaiting_signatures", joint=True)
    visit(b, stockholm(2025, 3, 5, 21), status="in_progress", checklist={"mat": anm})
    visit(c, stockholm(2024, 12, 31, 22), arrived=stockholm(2024, 12, 31, 23, 50))
    other = Inspection(
        kommun_id=other_kommun.id,
        venue=foreign,
        kind="yttre",
        status="signed",
        planned_start=stockholm(2025, 3, 3, 21).astimezone(UTC),
        planned_end=stockholm(2025, 3, 3, 23).astimezone(UTC),
        checklist={"mat": anm},
    )
    db_session.add(other)
    db_session.flush()
    sign(other, other_inspector)
    # a year earlier
    visit(a, stockholm(2024, 3, 10, 21), checklist={"mat": anm})
    visit(b, stockholm(2024, 2, 10, 21), kind="samordnad", joint=True)

    # observations (the public report must not show their text)
    for n, (insp, category) in enumerate([(v3, "overservering"), (v3, "berusning"), (v4, "overservering")]):
        db_session.add(
            Observation(
                inspection_id=insp.id,
                client_id=f"00000000-0000-0000-0000-00000000000{n}",
                observed_at=insp.arrived_at + timedelta(minutes=10),
                category=category,
                description=f"Gästen i röd jacka vinglade vid baren {n}",
                author_id=police.id,
            )
        )

    # trainings by start date
    t1 = Training(
        kommun_id=kommun.id,
        kind="ansvarsfull_alkoholservering",
        title="AAS vår",
        starts_on=date(2025, 2, 1),
        ends_on=date(2025, 2, 2),
    )
    t1.participants = [
        TrainingParticipant(
            name="Kalle Deltagare", role="serveringspersonal", venue_id=a.id, passed=True, diploma_on=date(2025, 2, 2)
        ),
        TrainingParticipant(name="Lisa Deltagare", role="serveringsansvarig", venue_id=b.id, passed=False),
        TrainingParticipant(name="Olle Frånvarande", role="ovrig", attended=False, position=2),
    ]
    t2 = Training(
        kommun_id=kommun.id,
        kind="krogar_mot_knark",
        title="KMK",
        starts_on=date(2025, 6, 30),
        ends_on=date(2025, 6, 30),
    )
    t2.participants = [TrainingParticipant(name="Pia Personal", role="dorrvard")]
    t_before = Training(
        kommun_id=kommun.id, kind="ovrigt", title="Före", starts_on=date(2024, 12, 30), ends_on=date(2025, 1, 2)
    )
    t_before.participants = [TrainingParticipant(name="Före Person", role="ovrig")]
    t_foreign = Training(
        kommun_id=other_kommun.id, kind="ovrigt", title="Annan", starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 1)
    )
    t_foreign.participants = [TrainingParticipant(name="Annan Person", role="ovrig")]
    db_session.add_all([t1, t2, t_before, t_foreign])

    # överserveringstest
    for day, refused, org, venue in [
        (date(2025, 1, 1), True, kommun, a),
        (date(2025, 3, 3), False, kommun, b),
        (date(2025, 6, 30), True, kommun, c),
        (date(2025, 7, 1), True, kommun, c),
        (date(2025, 3, 3), True, other_kommun, foreign),
        (date(2024, 3, 3), False, kommun, a),
    ]:
        db_session.add(OverservingTest(kommun_id=org.id, venue_id=venue.id, tested_on=day, refused=refused))

    # cases and decisions
    def decided(venue, day, sanction, org=kommun, by=manager):
        case = Case(kommun_id=org.id, venue_id=venue.id, summary="Överservering vid två besök", status="decided")
        case.steps = [CaseStep(kind="decision", date=day, by_id=by.id, sanction=sanction, decided_by="delegat")]
        db_session.add(case)
        return case

    decided(a, date(2025, 4, 1), "erinran")
    decided(b, date(2025, 6, 30), "varning")
    decided(c, date(2025, 7, 1), "aterkallelse")  # after the period
    decided(d, date(2025, 5, 1), "ingen_atgard")  # not a sanction
    decided(foreign, date(2025, 5, 1), "varning", org=other_kommun, by=other_inspector)
    decided(c, date(2024, 6, 1), "erinran")  # a year earlier
    open_case = Case(kommun_id=kommun.id, venue_id=d.id, summary="Pågår", status="awaiting_reply")
    open_case.steps = [CaseStep(kind="proposal", date=date(2025, 5, 2), by_id=inspector.id, sanction="varning")]
    db_session.add(open_case)
    db_session.flush()

    remarks = dict.fromkeys(CHECKLIST_ITEMS, 0)
    remarks.update({"overservering": 2, "alderskontroll": 1, "fakturor": 1})
    return {
        "venues": {"a": a, "b": b, "c": c, "d": d, "foreign": foreign},
        "visits": [v1, v2, v3, v4, v5, v6, v7, v8],
        "summary": {
            "period": {"from": "2025-01-01", "to": "2025-06-30"},
            "visits": {"yttre": 2, "inre": 1, "samordnad": 4, "forebyggande": 1},
            "joint_visits": 2,
            "venues_visited": 4,
            "trainings": 2,
            "people_trained": 3,
            "overserving_tests": {"tests": 3, "refusals": 2},
            "remarks": remarks,
            "sanctions": {"erinran": 1, "varning": 1, "aterkallelse": 0},
        },
        "previous": {"visits": {"yttre": 1, "inre": 0, "samordnad": 1, "forebyggande": 0}, "joint_visits": 1},
    }
