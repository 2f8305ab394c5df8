"""The secret iCal feed, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, time, timedelta

import icalendar

from inspection.auth.services import rotate_calendar_token
from inspection.inspections import scheduling
from inspection.types import STOCKHOLM, utcnow


def _now():
    return utcnow().replace(second=0, microsecond=0)


def _feed(client, user):
    response = client.get(f"/tillsyn/kalender/{user.calendar_token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return response, icalendar.Calendar.from_ical(response.data)


def _events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_feed_lists_the_users_inspections_with_stable_uids(
    client, db_session, police, inspector, make_inspection, make_venue
):
    venue = make_venue(name="Bar Jämtlandia", address="Storgatan 12")
    soon = _now() + timedelta(days=3)
    accepted = make_inspection(venue=venue, participants=[inspector, police], start=soon)
    declined = make_inspection(participants=[inspector, police], start=soon, police_response="declined")
    old = make_inspection(participants=[inspector, police], start=_now() - timedelta(days=40))
    recent = make_inspection(participants=[inspector, police], start=_now() - timedelta(days=10))
    not_mine = make_inspection(participants=[inspector], start=soon)

    _, cal = _feed(client, police)
    events = _events(cal)
    assert set(events) == {f"inspection-{accepted.id}@krogtillsyn", f"inspection-{recent.id}@krogtillsyn"}
    event = events[f"inspection-{accepted.id}@krogtillsyn"]
    assert str(event["SUMMARY"]) == "Tillsyn: Bar Jämtlandia"
    assert str(event["LOCATION"]) == "Storgatan 12"
    start = event.decoded("DTSTART")
    assert start.utcoffset() == timedelta(0)
    assert start == accepted.planned_start.astimezone(UTC)
    assert event.decoded("DTEND") == accepted.planned_end
    assert None not in (declined.id, old.id, not_mine.id)

    # The UID stays when the inspection changes; the new time is in the feed.
    scheduling.reschedule(inspector, accepted, planned_start=accepted.planned_start + timedelta(minutes=30))
    db_session.flush()
    _, cal = _feed(client, police)
    event = _events(cal)[f"inspection-{accepted.id}@krogtillsyn"]
    assert event.decoded("DTSTART") == accepted.planned_start


def test_cancelled_is_marked_and_no_email_or_observation_content(
    client, db_session, inspector, police, make_inspection
):
    inspection = make_inspection(participants=[inspector, police], start=_now() + timedelta(days=1))
    inspection.summary = "Hemlig iakttagelse om gäst"
    scheduling.cancel(inspector, inspection, "Stängt")
    db_session.flush()
    response, cal = _feed(client, inspector)
    event = _events(cal)[f"inspection-{inspection.id}@krogtillsyn"]
    assert str(event["STATUS"]) == "CANCELLED"
    body = response.get_data(as_text=True)
    assert "@" not in body.replace("@krogtillsyn", "")
    assert inspector.email not in body
    assert police.email not in body
    assert "Hemlig" not in body


def test_feed_round_past_midnight_across_dst(client, db_session, inspector, make_venue):
    venues = [make_venue(serving_hours="11:00-03:00") for _ in range(2)]
    evening = utcnow().astimezone(STOCKHOLM).date() + timedelta(days=2)
    stops = [
        scheduling.RoundStop(venues[0], *scheduling.stop_times(evening, time(21), time(22))),
        scheduling.RoundStop(venues[1], *scheduling.stop_times(evening, time(1), time(2, 30))),
    ]
    the_round = scheduling.schedule_round(inspector, evening, "Runda", "samordnad", [inspector.id], stops)
    _, cal = _feed(client, inspector)
    events = _events(cal)
    second = events[f"inspection-{the_round.inspections[1].id}@krogtillsyn"]
    assert second.decoded("DTSTART") == the_round.inspections[1].planned_start
    assert second.decoded("DTSTART").astimezone(STOCKHOLM).date() == evening + timedelta(days=1)


def test_unknown_or_rotated_token_is_404(client, db_session, inspector):
    assert client.get("/tillsyn/kalender/inte-en-riktig-token.ics").status_code == 404
    old = inspector.calendar_token
    assert client.get(f"/tillsyn/kalender/{old}.ics").status_code == 200
    rotate_calendar_token(inspector)
    db_session.flush()
    assert client.get(f"/tillsyn/kalender/{old}.ics").status_code == 404
    assert client.get(f"/tillsyn/kalender/{inspector.calendar_token}.ics").status_code == 200


def test_deactivated_user_feed_is_404(client, db_session, make_user):
    user = make_user("police", active=False)
    assert client.get(f"/tillsyn/kalender/{user.calendar_token}.ics").status_code == 404
