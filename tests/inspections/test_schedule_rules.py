"""Scheduling rules in the service layer: evenings past midnight and across daylight-saving changes,
rounds, re-asking, removing participants, cancel rules and conflict warnings."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from inspection.errors import ServiceError
from inspection.inspections import scheduling
from inspection.inspections.scheduling import RoundStop, stop_times
from tests.conftest import stockholm


def test_evening_round_past_midnight_in_winter():
    start, end = stop_times(date(2026, 12, 4), time(23, 30), time(0, 30))
    assert start == stockholm(2026, 12, 4, 23, 30)
    assert end == stockholm(2026, 12, 5, 0, 30)
    start, _ = stop_times(date(2026, 12, 4), time(2, 0), time(2, 45))
    assert start == stockholm(2026, 12, 5, 2, 0)  # 02:00 in the round of the 4th is the night after


def test_evening_across_the_autumn_change_is_seven_hours():
    # 2026-10-25 03:00 CEST → 02:00 CET: a round 21:00–03:00 lasts seven real hours.
    start, _ = stop_times(date(2026, 10, 24), time(21), time(22))
    _, end = stop_times(date(2026, 10, 24), time(2, 30), time(3))
    assert start.isoformat() == "2026-10-24T19:00:00+00:00"
    assert end.isoformat() == "2026-10-25T02:00:00+00:00"
    assert end - start == timedelta(hours=7)


def test_evening_across_the_spring_change_is_five_hours():
    # 2026-03-29 02:00 CET → 03:00 CEST: a round 21:00–03:00 lasts five real hours.
    start, _ = stop_times(date(2026, 3, 28), time(21), time(22))
    _, end = stop_times(date(2026, 3, 28), time(1, 0), time(3, 0))
    assert start.isoformat() == "2026-03-28T20:00:00+00:00"
    assert end.isoformat() == "2026-03-29T01:00:00+00:00"
    assert end - start == timedelta(hours=5)
    # 02:30 does not exist that night; it is read as the same wall time after the gap (03:30 CEST).
    skipped, _ = stop_times(date(2026, 3, 28), time(2, 30), time(4, 0))
    assert skipped.isoformat() == "2026-03-29T01:30:00+00:00"


def test_evening_of_counts_the_night_to_the_evening_before():
    assert scheduling.evening_of(stockholm(2026, 10, 25, 2, 30)) == date(2026, 10, 24)
    assert scheduling.evening_of(stockholm(2026, 10, 24, 21, 0)) == date(2026, 10, 24)


def test_round_across_dst_keeps_order_and_positions(db_session, inspector, police, make_venue):
    venues = [make_venue(serving_hours="11:00-03:00") for _ in range(4)]
    evening = date(2026, 3, 28)
    clocks = [(time(21), time(22)), (time(22, 30), time(23, 30)), (time(0, 15), time(1, 15)), (time(1, 30), time(3))]
    stops = [RoundStop(v, *stop_times(evening, a, b)) for v, (a, b) in zip(venues, clocks, strict=True)]
    the_round = scheduling.schedule_round(
        inspector, evening, "Lördagsrunda", "samordnad", [inspector.id, police.id], stops
    )
    assert [i.round_position for i in the_round.inspections] == [1, 2, 3, 4]
    assert [i.venue_id for i in the_round.inspections] == [v.id for v in venues]
    starts = [i.planned_start for i in the_round.inspections]
    assert starts == sorted(starts)
    last = the_round.inspections[-1]
    assert last.planned_end.isoformat() == "2026-03-29T01:00:00+00:00"
    for inspection in the_round.inspections:
        responses = {p.user_id: p.response for p in inspection.participants}
        assert responses == {inspector.id: "accepted", police.id: "invited"}
        assert scheduling.warnings(inspection) == []  # consecutive stops do not overlap


def test_round_with_a_bad_stop_saves_nothing(db_session, inspector, make_venue, other_kommun):
    from sqlalchemy import func, select

    from inspection.inspections.models import Inspection

    good = make_venue()
    foreign = make_venue(org=other_kommun)
    evening = date(2026, 12, 4)
    stops = [
        RoundStop(good, *stop_times(evening, time(21), time(22))),
        RoundStop(foreign, *stop_times(evening, time(22), time(23))),
        RoundStop(good, stockholm(2026, 12, 4, 23), stockholm(2026, 12, 4, 22)),
    ]
    with pytest.raises(ServiceError) as err:
        scheduling.schedule_round(inspector, evening, "Runda", "samordnad", [inspector.id], stops)
    assert err.value.status == 422
    assert "stops.1.venue_id" in err.value.fields
    assert "stops.2.planned_end" in err.value.fields
    assert db_session.scalar(select(func.count()).select_from(Inspection)) == 0


def test_police_and_admin_cannot_schedule(db_session, police, admin, make_venue):
    venue = make_venue()
    for user in (police, admin):
        with pytest.raises(ServiceError) as err:
            scheduling.schedule_inspection(
                user, venue, "yttre", stockholm(2026, 12, 4, 21), stockholm(2026, 12, 4, 22), []
            )
        assert err.value.status == 403


def test_new_venue_asks_again_and_declined_too(db_session, inspector, police, make_user, make_inspection, make_venue):
    other_officer = make_user("police")
    inspection = make_inspection(participants=[inspector, police, other_officer])
    inspection.participants[2].response = "declined"
    scheduling.reschedule(inspector, inspection, venue=make_venue())
    assert {p.user_id: p.response for p in inspection.participants} == {
        inspector.id: "accepted",
        police.id: "invited",
        other_officer.id: "invited",
    }


def test_reschedule_rules(db_session, inspector, police, make_inspection):
    inspection = make_inspection(participants=[inspector, police])
    with pytest.raises(ServiceError) as err:
        scheduling.reschedule(police, inspection, diarienummer="x")
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        scheduling.reschedule(inspector, inspection, planned_end=inspection.planned_start - timedelta(hours=1))
    assert err.value.fields == {"planned_end": ["Sluttiden måste vara efter starttiden."]}
    signed = make_inspection(participants=[inspector, police], status="awaiting_signatures")
    with pytest.raises(ServiceError) as err:
        scheduling.reschedule(inspector, signed, participant_ids=[inspector.id])
    assert err.value.code == "locked"
    cancelled = make_inspection(participants=[inspector], status="cancelled")
    with pytest.raises(ServiceError) as err:
        scheduling.reschedule(inspector, cancelled, diarienummer="x")
    assert err.value.code == "conflict"


def test_adding_a_deactivated_participant_is_422(db_session, inspector, make_user, make_inspection):
    inspection = make_inspection(participants=[inspector])
    gone = make_user("inspector", active=False)
    with pytest.raises(ServiceError) as err:
        scheduling.reschedule(inspector, inspection, participant_ids=[inspector.id, gone.id])
    assert "participant_ids" in err.value.fields
    assert [p.user_id for p in inspection.participants] == [inspector.id]


def test_respond_rules(db_session, inspector, police, make_inspection):
    inspection = make_inspection(participants=[inspector, police], police_response="invited", status="cancelled")
    with pytest.raises(ServiceError) as err:
        scheduling.respond(police, inspection, "accepted")
    assert err.value.code == "conflict"
    signed = make_inspection(participants=[inspector, police], police_response="invited", status="signed")
    with pytest.raises(ServiceError) as err:
        scheduling.respond(police, signed, "declined")
    assert err.value.code == "locked"


def test_cancel_from_in_progress_is_allowed(db_session, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector], status="in_progress")
    scheduling.cancel(inspector, inspection, "Larm på annan plats")
    assert inspection.status == "cancelled"
    assert inspection.cancelled_at is not None


# ---- warnings --------------------------------------------------------------------------------


def test_overlap_warning_ignores_declined_cancelled_and_adjacent(db_session, inspector, police, make_inspection):
    base = make_inspection(participants=[inspector, police], start=stockholm(2026, 12, 4, 21), hours=2)
    adjacent = make_inspection(participants=[police], start=stockholm(2026, 12, 4, 23), hours=1)
    assert scheduling.warnings(base) == []
    assert scheduling.warnings(adjacent) == []
    declined = make_inspection(
        participants=[police], start=stockholm(2026, 12, 4, 22), hours=1, police_response="declined"
    )
    assert scheduling.warnings(base) == []
    cancelled = make_inspection(participants=[police], start=stockholm(2026, 12, 4, 22), hours=1, status="cancelled")
    assert scheduling.warnings(base) == []
    overlapping = make_inspection(participants=[police], start=stockholm(2026, 12, 4, 22, 30), hours=1)
    found = scheduling.warnings(base)
    assert [w["code"] for w in found] == ["participant_busy"]
    assert police.name in found[0]["message"]
    assert "22:30" in found[0]["message"]
    assert None not in (declined.id, cancelled.id, overlapping.id)


def test_overlap_warning_finds_a_long_visit_that_began_the_day_before(db_session, inspector, police, make_inspection):
    """The overlap query looks back one MAX_VISIT_LENGTH from the start: a visit of up to a day
    that began the evening before and still runs is found."""
    base = make_inspection(participants=[inspector, police], start=stockholm(2026, 12, 5, 10), hours=1)
    make_inspection(participants=[police], start=stockholm(2026, 12, 4, 10, 30), hours=24)
    busy = [w for w in scheduling.warnings(base) if w["code"] == "participant_busy"]
    assert len(busy) == 1
    assert "10:30" in busy[0]["message"]


def test_overlap_in_another_kommun_does_not_reveal_the_venue(
    db_session, inspector, police, make_inspection, make_venue, other_kommun
):
    base = make_inspection(participants=[inspector, police], start=stockholm(2026, 12, 4, 21))
    make_inspection(
        venue=make_venue(org=other_kommun, name="Hemlig Krog"), participants=[police], start=stockholm(2026, 12, 4, 22)
    )
    message = scheduling.warnings(base)[0]["message"]
    assert "Hemlig Krog" not in message
    assert "annan kommun" in message


@pytest.mark.parametrize(
    ("hours", "start", "end", "outside"),
    [
        ("11:00-01:00", (2026, 12, 4, 21), (2026, 12, 4, 23), False),
        ("11:00-01:00", (2026, 12, 4, 23, 30), (2026, 12, 5, 0, 45), False),  # past midnight, inside
        ("11:00-01:00", (2026, 12, 5, 0, 30), (2026, 12, 5, 1, 30), True),  # runs past closing
        ("11:00-01:00", (2026, 12, 5, 1, 30), (2026, 12, 5, 2, 0), True),
        ("11:00-03:00", (2026, 12, 5, 1, 30), (2026, 12, 5, 2, 30), False),
        ("11:00-03:00", (2026, 10, 25, 2, 0), (2026, 10, 25, 2, 50), False),  # the night summer time ends
        ("11:00-03:00", (2026, 3, 29, 1, 0), (2026, 3, 29, 1, 50), False),  # the night summer time begins
        ("18:00-24:00", (2026, 12, 4, 23, 0), (2026, 12, 5, 0, 0), False),
        ("18:00-24:00", (2026, 12, 4, 16, 0), (2026, 12, 4, 17, 0), True),
        ("00:00-00:00", (2026, 12, 4, 5, 0), (2026, 12, 4, 6, 0), False),  # round the clock
    ],
)
def test_outside_serving_hours(make_venue, hours, start, end, outside):
    venue = make_venue(serving_hours=hours)
    assert scheduling.outside_serving_hours(venue, stockholm(*start), stockholm(*end)) is outside


def test_serving_hours_warning_only_for_on_site_kinds(db_session, inspector, make_inspection, make_venue):
    venue = make_venue(serving_hours="11:00-01:00")
    yttre = make_inspection(venue=venue, participants=[inspector], kind="yttre", start=stockholm(2026, 12, 5, 2))
    inre = make_inspection(venue=venue, participants=[inspector], kind="inre", start=stockholm(2026, 12, 7, 2))
    assert [w["code"] for w in scheduling.warnings(yttre)] == ["outside_serving_hours"]
    assert scheduling.warnings(inre) == []
    yttre.status = "cancelled"
    assert scheduling.warnings(yttre) == []


def test_new_time_and_new_officer_in_one_change(db_session, inspector, police, make_user, make_inspection):
    newcomer = make_user("police")
    inspection = make_inspection(participants=[inspector, police])
    scheduling.reschedule(
        inspector,
        inspection,
        planned_start=inspection.planned_start + timedelta(hours=1),
        planned_end=inspection.planned_end + timedelta(hours=1),
        participant_ids=[inspector.id, police.id, newcomer.id],
        other_participants=[{"name": "Kim", "organisation": "Räddningstjänsten"}],
    )
    assert {p.user_id: p.response for p in inspection.participants} == {
        inspector.id: "accepted",
        police.id: "invited",
        newcomer.id: "invited",
    }
    assert [(o.name, o.organisation) for o in inspection.other_participants] == [("Kim", "Räddningstjänsten")]
