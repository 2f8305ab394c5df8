"""The scheduling pages: calendar, my inspections, new inspection and round, answering, cancelling."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from inspection.inspections.models import Inspection, Round
from inspection.types import local_today
from tests.conftest import csrf_token, stockholm


def _tomorrow():
    return local_today() + timedelta(days=1)


def test_calendar_month_and_week_show_the_kommuns_inspections(client, login, inspector, make_inspection, make_venue):
    day = _tomorrow()
    mine = make_inspection(
        venue=make_venue(name="Bar Storsjön", area="Centrum"), start=stockholm(*day.timetuple()[:3], 21)
    )
    late = make_inspection(venue=make_venue(name="Nattklubb Ugglan"), start=stockholm(*day.timetuple()[:3], 23, 30))
    after_midnight = make_inspection(
        venue=make_venue(name="Pub Ankaret"), start=stockholm(*(day + timedelta(days=1)).timetuple()[:3], 1, 0)
    )
    login(inspector)
    html = client.get(f"/tillsyn/kalender?date={day.isoformat()}").get_data(as_text=True)
    for name in ("Bar Storsjön", "Nattklubb Ugglan", "Pub Ankaret"):
        assert name in html
    week = client.get(f"/tillsyn/kalender?view=week&date={day.isoformat()}")
    assert week.status_code == 200
    html = week.get_data(as_text=True)
    # The visit at 01:00 shows on the evening it belongs to, after the 23:30 one.
    section = html.split(day.isoformat() + "</h3>")[1].split("</section>")[0]
    assert section.index("Nattklubb Ugglan") < section.index("Pub Ankaret")
    filtered = client.get(f"/tillsyn/kalender?view=week&date={day.isoformat()}&area=Centrum").get_data(as_text=True)
    assert "Bar Storsjön" in filtered
    assert "Pub Ankaret" not in filtered
    assert None not in (mine.id, late.id, after_midnight.id)


def test_calendar_of_another_kommun_is_not_shown(client, login, make_user, other_kommun, make_inspection, make_venue):
    make_inspection(venue=make_venue(name="Hemliga Baren"), start=stockholm(*_tomorrow().timetuple()[:3], 21))
    stranger = make_user("inspector", org=other_kommun)
    login(stranger)
    html = client.get(f"/tillsyn/kalender?date={_tomorrow().isoformat()}").get_data(as_text=True)
    assert "Hemliga Baren" not in html


def test_police_see_only_their_inspections_and_declined_is_marked(
    client, login, police, inspector, make_inspection, make_venue
):
    day = _tomorrow()
    start = stockholm(*day.timetuple()[:3], 21)
    make_inspection(
        venue=make_venue(name="Inbjuden Bar"), participants=[inspector, police], start=start, police_response="invited"
    )
    make_inspection(
        venue=make_venue(name="Avböjd Bar"), participants=[inspector, police], start=start, police_response="declined"
    )
    make_inspection(venue=make_venue(name="Annan Bar"), participants=[inspector], start=start)
    login(police)
    assert client.get("/tillsyn/kalender").status_code == 302  # the kommun calendar is not theirs
    html = client.get("/tillsyn/mina").get_data(as_text=True)
    assert "Inbjuden Bar" in html
    assert "Avböjd Bar" in html
    assert "Annan Bar" not in html
    assert "Mitt svar: Avböjd" in html
    assert "Acceptera" in html
    assert client.get("/tillsyn/ny").status_code == 403
    assert client.get("/tillsyn/forfallna").status_code == 403


def test_start_page_links_to_the_invitation_answer(client, login, police, inspector, make_inspection):
    # Tomorrow evening: tonight's visit (21-23) no longer waits for an answer once it is over, and the
    # suite may run after 23:00.
    tomorrow = date.today() + timedelta(days=1)
    inspection = make_inspection(
        participants=[inspector, police],
        police_response="invited",
        start=stockholm(tomorrow.year, tomorrow.month, tomorrow.day, 21),
    )
    login(police)
    html = client.get("/").get_data(as_text=True)
    assert f"/tillsyn/{inspection.id}/svar" in html


def test_one_tap_accept_and_decline_with_comment(client, login, police, inspector, make_inspection, db_session):
    inspection = make_inspection(participants=[inspector, police], police_response="invited")
    login(police)
    page = client.get(f"/tillsyn/{inspection.id}/svar")
    assert page.status_code == 200
    assert "Acceptera" in page.get_data(as_text=True)
    response = client.post(
        f"/tillsyn/{inspection.id}/svar?next=mina", data={"csrf_token": csrf_token(client), "response": "accepted"}
    )
    assert response.status_code == 302
    db_session.refresh(inspection)
    db_session.expire_all()
    inspection = db_session.get(Inspection, inspection.id)
    assert {p.user_id: p.response for p in inspection.participants}[police.id] == "accepted"
    response = client.post(
        f"/tillsyn/{inspection.id}/svar",
        data={"csrf_token": csrf_token(client), "response": "declined", "comment": "Sjuk i kväll"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    participant = next(p for p in db_session.get(Inspection, inspection.id).participants if p.user_id == police.id)
    assert (participant.response, participant.comment) == ("declined", "Sjuk i kväll")


def test_someone_not_invited_cannot_answer(client, login, make_user, inspector, police, make_inspection):
    inspection = make_inspection(participants=[inspector, police], police_response="invited")
    login(make_user("police"))
    assert client.get(f"/tillsyn/{inspection.id}/svar").status_code == 404


def test_schedule_page_plans_past_midnight_and_shows_warnings(client, login, inspector, police, make_venue, db_session):
    venue = make_venue(name="Krogen Kyrkgatan", serving_hours="11:00-01:00")
    login(inspector)
    assert client.get("/tillsyn/ny").status_code == 200
    response = client.post(
        "/tillsyn/ny",
        data={
            "csrf_token": csrf_token(client),
            "venue_id": venue.id,
            "kind": "yttre",
            "day": "2026-12-04",
            "start_time": "23:30",
            "end_time": "01:30",
            "participant_ids": [inspector.id, police.id],
            "others": "Kim Berg, Skatteverket",
        },
        follow_redirects=False,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    inspection = db_session.scalar(select(Inspection).where(Inspection.venue_id == venue.id))
    assert inspection.planned_start == stockholm(2026, 12, 4, 23, 30)
    assert inspection.planned_end == stockholm(2026, 12, 5, 1, 30)
    assert [(o.name, o.organisation) for o in inspection.other_participants] == [("Kim Berg", "Skatteverket")]
    html = client.get("/tillsyn/mina").get_data(as_text=True)
    assert "utanför serveringstiden" in html  # the warning flashed on the next page


def test_schedule_page_keeps_input_and_explains_errors(client, login, inspector, make_user, make_venue, db_session):
    venue = make_venue()
    gone = make_user("police", active=False, name="Olle Borta")
    login(inspector)
    response = client.post(
        "/tillsyn/ny",
        data={
            "csrf_token": csrf_token(client),
            "venue_id": venue.id,
            "kind": "yttre",
            "day": "2026-12-04",
            "start_time": "21:00",
            "end_time": "22:00",
            "participant_ids": [inspector.id, gone.id],
            "diarienummer": "KS 2026/99",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "inaktiverad" in html
    assert "KS 2026/99" in html
    assert db_session.scalar(select(Inspection).where(Inspection.venue_id == venue.id)) is None


def test_round_page_plans_an_evening_in_order(client, login, inspector, police, make_venue, db_session):
    venues = [make_venue(name=f"Stopp {n}", serving_hours="11:00-03:00") for n in range(3)]
    login(inspector)
    prefilled = client.get("/tillsyn/runda/ny?" + "&".join(f"venue={v.id}" for v in venues))
    assert prefilled.status_code == 200
    assert prefilled.get_data(as_text=True).count(" selected") >= 3
    data = {
        "csrf_token": csrf_token(client),
        "title": "Fredagsrunda",
        "evening": "2026-10-24",
        "kind": "samordnad",
        "participant_ids": [inspector.id, police.id],
    }
    for n, (venue, start, end) in enumerate(
        zip(venues, ["21:00", "23:30", "02:00"], ["22:00", "00:30", "03:00"], strict=True)
    ):
        data[f"stops-{n}-venue_id"] = venue.id
        data[f"stops-{n}-start_time"] = start
        data[f"stops-{n}-end_time"] = end
    response = client.post("/tillsyn/runda/ny", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    the_round = db_session.scalar(select(Round).where(Round.title == "Fredagsrunda"))
    assert the_round.evening == date(2026, 10, 24)
    stops = sorted(the_round.inspections, key=lambda i: i.round_position)
    assert [i.venue.name for i in stops] == ["Stopp 0", "Stopp 1", "Stopp 2"]
    # Summer time ends at 03:00 → 02:00 that night: 02:00 happens twice (the first, CEST, is taken) and
    # 03:00 is CET, so the last stop lasts two real hours.
    assert stops[0].planned_start.isoformat() == "2026-10-24T19:00:00+00:00"
    assert stops[1].planned_end.isoformat() == "2026-10-24T22:30:00+00:00"
    assert stops[2].planned_start.isoformat() == "2026-10-25T00:00:00+00:00"
    assert stops[2].planned_end.isoformat() == "2026-10-25T02:00:00+00:00"
    page = client.get(f"/tillsyn/runda/{the_round.id}")
    assert page.status_code == 200
    assert "Stopp 2" in page.get_data(as_text=True)


def test_round_page_refuses_a_stop_without_times(client, login, inspector, make_venue, db_session):
    venue = make_venue()
    login(inspector)
    response = client.post(
        "/tillsyn/runda/ny",
        data={
            "csrf_token": csrf_token(client),
            "title": "Runda",
            "evening": "2026-12-04",
            "kind": "samordnad",
            "participant_ids": [inspector.id],
            "stops-0-venue_id": venue.id,
        },
    )
    assert response.status_code == 422
    assert "Ange tid" in response.get_data(as_text=True)
    assert db_session.scalar(select(Round).where(Round.title == "Runda")) is None


def test_cancel_page_needs_a_reason(client, login, inspector, make_inspection, db_session):
    inspection = make_inspection(participants=[inspector])
    login(inspector)
    response = client.post(f"/tillsyn/{inspection.id}/installa", data={"csrf_token": csrf_token(client), "reason": ""})
    assert response.status_code == 422
    assert "Ange ett skäl" in response.get_data(as_text=True)
    response = client.post(
        f"/tillsyn/{inspection.id}/installa", data={"csrf_token": csrf_token(client), "reason": "Stängt"}
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Inspection, inspection.id).status == "cancelled"


def test_edit_page_asks_the_police_again(client, login, inspector, police, make_inspection, db_session):
    inspection = make_inspection(participants=[inspector, police], start=stockholm(2026, 12, 4, 21))
    login(inspector)
    assert client.get(f"/tillsyn/{inspection.id}/planering").status_code == 200
    response = client.post(
        f"/tillsyn/{inspection.id}/planering",
        data={
            "csrf_token": csrf_token(client),
            "day": "2026-12-04",
            "start_time": "22:00",
            "end_time": "23:30",
            "participant_ids": [inspector.id, police.id],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    changed = db_session.get(Inspection, inspection.id)
    assert changed.planned_start == stockholm(2026, 12, 4, 22)
    assert {p.user_id: p.response for p in changed.participants}[police.id] == "invited"


def test_other_kommun_pages_are_404(client, login, make_user, other_kommun, inspector, make_inspection):
    inspection = make_inspection(participants=[inspector])
    login(make_user("manager", org=other_kommun))
    for path in (
        f"/tillsyn/{inspection.id}/installa",
        f"/tillsyn/{inspection.id}/planering",
        f"/tillsyn/{inspection.id}/svar",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/tillsyn/runda/{999999}").status_code == 404


def test_a_whole_round_is_answered_at_once(client, login, inspector, police, make_venue, db_session):
    from datetime import time

    from inspection.inspections import scheduling

    evening = local_today() + timedelta(days=2)
    stops = [
        scheduling.RoundStop(
            make_venue(name=f"Runda {n}"), *scheduling.stop_times(evening, time(21 + n), time(21 + n, 45))
        )
        for n in range(3)
    ]
    the_round = scheduling.schedule_round(
        inspector, evening, "Torsdagsrunda", "samordnad", [inspector.id, police.id], stops
    )
    login(police)
    start_page = client.get("/").get_data(as_text=True)
    assert f"/tillsyn/runda/{the_round.id}" in start_page
    assert "Torsdagsrunda (3 ställen)" in start_page
    page = client.get(f"/tillsyn/runda/{the_round.id}").get_data(as_text=True)
    assert "Acceptera hela rundan" in page
    response = client.post(
        f"/tillsyn/runda/{the_round.id}/svar",
        data={"csrf_token": csrf_token(client), "response": "accepted", "comment": "Två patruller"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    answers = [
        (p.response, p.comment)
        for i in db_session.get(Round, the_round.id).inspections
        for p in i.participants
        if p.user_id == police.id
    ]
    assert answers == [("accepted", "Två patruller")] * 3


def test_round_answer_by_someone_outside_is_404(client, login, inspector, make_user, make_venue, db_session):
    from datetime import time

    from inspection.inspections import scheduling

    evening = local_today() + timedelta(days=2)
    stop = scheduling.RoundStop(make_venue(), *scheduling.stop_times(evening, time(21), time(22)))
    the_round = scheduling.schedule_round(inspector, evening, "Runda", "samordnad", [inspector.id], [stop])
    login(make_user("police"))
    response = client.post(
        f"/tillsyn/runda/{the_round.id}/svar", data={"csrf_token": csrf_token(client), "response": "accepted"}
    )
    assert response.status_code == 404
    assert client.get(f"/tillsyn/runda/{the_round.id}").status_code == 404


def test_calendar_queries_do_not_grow_with_the_inspections(
    client, login, inspector, police, make_inspection, make_venue, query_counter
):
    day = _tomorrow()
    login(inspector)

    def count():
        with query_counter() as counted:
            assert client.get(f"/tillsyn/kalender?view=week&date={day.isoformat()}").status_code == 200
        return counted.count

    make_inspection(participants=[inspector, police], start=stockholm(*day.timetuple()[:3], 21))
    few = count()
    for hour in range(12, 20):
        make_inspection(
            venue=make_venue(), participants=[inspector, police], start=stockholm(*day.timetuple()[:3], hour)
        )
    assert count() == few


def test_schedule_page_without_a_venue_says_so(client, login, inspector, db_session):
    login(inspector)
    response = client.post(
        "/tillsyn/ny",
        data={
            "csrf_token": csrf_token(client),
            "venue_id": "",
            "kind": "yttre",
            "day": "2026-12-04",
            "start_time": "21:00",
            "end_time": "22:00",
        },
    )
    assert response.status_code == 422
    assert "Välj ett ställe" in response.get_data(as_text=True)


def test_calendar_filters_by_participant_kind_and_status(client, login, inspector, police, make_inspection, make_venue):
    day = _tomorrow()
    at = stockholm(*day.timetuple()[:3], 21)
    make_inspection(venue=make_venue(name="Med polis"), participants=[inspector, police], start=at, kind="samordnad")
    make_inspection(venue=make_venue(name="Utan polis"), participants=[inspector], start=at, kind="yttre")
    make_inspection(venue=make_venue(name="Stängda Krogen"), participants=[inspector], start=at, status="cancelled")
    login(inspector)
    base = f"/tillsyn/kalender?view=week&date={day.isoformat()}"
    html = client.get(f"{base}&participant={police.id}").get_data(as_text=True)
    assert "Med polis" in html
    assert "Utan polis" not in html
    html = client.get(f"{base}&kind=yttre").get_data(as_text=True)
    assert "Utan polis" in html
    assert "Med polis" not in html
    html = client.get(f"{base}&status=cancelled").get_data(as_text=True)
    assert "Stängda Krogen" in html
    assert "Utan polis" not in html
