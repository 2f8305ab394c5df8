"""The venue history: every kind of event, newest first, filters, charts, and a fixed number of queries."""

from __future__ import annotations

from datetime import date

import pytest

from inspection.trainings.models import OverservingTest, Training


@pytest.fixture
def busy_venue(db_session, make_venue, add_visit, add_decision, api, inspector, police):
    venue = make_venue(name="Nattklubb Vinterljus")
    add_visit(
        venue,
        date(2024, 3, 2),
        remarks=2,
        observations=[("overservering", "markbart_paverkad"), ("berusning", "kraftigt_berusad")],
        participants=[inspector, police],
        kind="samordnad",
    )
    add_visit(venue, date(2025, 6, 14), remarks=0, observations=[("ordning", "salongsberusad")])
    add_visit(venue, date(2025, 9, 1), status="cancelled")
    add_decision(venue, date(2024, 5, 20), sanction="erinran")
    training = Training(
        kommun_id=venue.kommun_id,
        kind="ansvarsfull_alkoholservering",
        title="AAS vår 2025",
        starts_on=date(2025, 4, 7),
        ends_on=date(2025, 4, 8),
    )
    training.venues.append(venue)
    db_session.add(training)
    db_session.add(
        OverservingTest(
            kommun_id=venue.kommun_id, venue_id=venue.id, tested_on=date(2024, 11, 9), refused=False, notes="Serverades"
        )
    )
    db_session.flush()
    api.as_user(inspector)
    api.patch(f"/api/v1/venues/{venue.id}", json={"permit": {"serving_hours": "11:00-02:00"}})
    return venue


def _events(api, venue, query=""):
    response = api.get(f"/api/v1/venues/{venue.id}/history{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_history_has_every_kind_newest_first(api, busy_venue):
    body = _events(api, busy_venue)
    assert body["venue"]["id"] == busy_venue.id
    events = body["events"]
    dates = [e["date"] for e in events]
    assert dates == sorted(dates, reverse=True)
    assert [e["type"] for e in events[1:]] == [
        "inspection",  # 2025-09-01, cancelled
        "inspection",  # 2025-06-14
        "training",  # 2025-04-07
        "overserving_test",  # 2024-11-09
        "case",  # 2024-05-20
        "inspection",  # 2024-03-02
    ]
    assert events[0]["type"] == "permit_change"  # today
    assert events[0]["changes"]["permit.serving_hours"] == ["11:00-01:00", "11:00-02:00"]
    for event in events:
        assert {"type", "date", "id", "title"} <= set(event)


def test_inspection_events_carry_the_visit(api, busy_venue):
    events = [e for e in _events(api, busy_venue)["events"] if e["type"] == "inspection"]
    joint = events[-1]
    assert joint["kind"] == "samordnad"
    assert joint["date"] == "2024-03-02"
    assert joint["remarks"] == 2
    assert joint["overservering_observations"] == 1
    assert joint["observations"] == 2
    assert joint["signed"] is True
    assert joint["pdf_url"] == f"/api/v1/inspections/{joint['id']}/protocol.pdf"
    assert {p["name"] for p in joint["participants"]} == {"Anna Inspektör", "Peter Polis"}
    assert joint["outcome"] == "2 anmärkningar"
    assert events[0]["status"] == "cancelled"
    assert events[0]["pdf_url"] is None


def test_a_decided_case_has_its_sanction(api, busy_venue):
    case = next(e for e in _events(api, busy_venue)["events"] if e["type"] == "case")
    assert case["sanction"] == "erinran"
    assert case["date"] == "2024-05-20"


def test_filters_by_type_and_year(api, busy_venue):
    only = _events(api, busy_venue, "?type=inspection")["events"]
    assert {e["type"] for e in only} == {"inspection"}
    assert len(only) == 3
    year = _events(api, busy_venue, "?year=2024")["events"]
    assert [e["date"][:4] for e in year] == ["2024"] * 3
    both = _events(api, busy_venue, "?year=2025&type=training")["events"]
    assert [e["title"] for e in both] == ["AAS vår 2025"]
    assert api.get(f"/api/v1/venues/{busy_venue.id}/history?type=party").status_code == 422
    assert api.get(f"/api/v1/venues/{busy_venue.id}/history?year=abc").status_code == 422


def test_per_year_counts_for_the_charts(api, busy_venue):
    per_year = {row["year"]: row for row in _events(api, busy_venue)["per_year"]}
    assert per_year[2024]["remarks"] == 2
    assert per_year[2024]["levels"]["kraftigt_berusad"] == 1
    assert per_year[2025]["levels"]["salongsberusad"] == 1
    assert per_year[2025]["inspections"] == 1  # the cancelled one is not a visit


def test_history_page_shows_timeline_charts_and_table(client, login, inspector, busy_venue):
    login(inspector)
    response = client.get(f"/serveringsstallen/{busy_venue.id}/historik")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html
    assert "Anmärkningar per år" in html
    assert "Visa siffrorna som tabell" in html
    assert "Samordnad tillsyn" in html
    assert "AAS vår 2025" in html
    assert "Erinran" in html
    assert "/api/v1/inspections/" in html
    assert "protocol.pdf" in html
    assert html.index("AAS vår 2025") < html.index("Samordnad tillsyn")  # newest first
    filtered = client.get(f"/serveringsstallen/{busy_venue.id}/historik?type=training").get_data(as_text=True)
    assert "AAS vår 2025" in filtered
    assert "Samordnad tillsyn" not in filtered


def _seed(make_venue, add_visit, n):
    venue = make_venue()
    for i in range(n):
        add_visit(
            venue,
            date(2000 + i % 25, 1 + i % 12, 1 + i % 27),
            remarks=i % 4,
            observations=[("overservering", "markbart_paverkad"), ("berusning", None)],
        )
    return venue


def test_constant_number_of_queries(api, inspector, make_venue, add_visit, query_counter, add_decision, db_session):
    small = _seed(make_venue, add_visit, 2)
    large = _seed(make_venue, add_visit, 30)
    add_decision(small, date(2010, 1, 1))
    for i in range(5):
        add_decision(large, date(2010 + i, 1, 1))
        db_session.add(
            OverservingTest(kommun_id=large.kommun_id, venue_id=large.id, tested_on=date(2011 + i, 2, 1), refused=True)
        )
    db_session.flush()
    api.as_user(inspector)
    counts = []
    for venue in (small, large):
        with query_counter() as counted:
            response = api.get(f"/api/v1/venues/{venue.id}/history")
        assert response.status_code == 200
        counts.append(counted.count)
    assert len(response.get_json()["events"]) == 40
    assert counts[1] <= 20
    assert counts[0] == counts[1], counts


def test_constant_number_of_queries_on_the_page(client, login, inspector, make_venue, add_visit, query_counter):
    small = _seed(make_venue, add_visit, 2)
    large = _seed(make_venue, add_visit, 30)
    login(inspector)
    counts = []
    for venue in (small, large):
        with query_counter() as counted:
            assert client.get(f"/serveringsstallen/{venue.id}/historik").status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1], counts


def test_history_page_access(client, login, make_user, other_kommun, police, make_venue, make_inspection, inspector):
    venue = make_venue()
    make_inspection(venue=venue, participants=[inspector, police])
    login(police)
    assert client.get(f"/serveringsstallen/{venue.id}/historik").status_code == 403
    assert client.get(f"/serveringsstallen/{make_venue().id}/historik").status_code == 404


def test_long_history_page_shows_the_newest_and_offers_all(
    client, login, inspector, make_venue, add_visit, monkeypatch
):
    from inspection.venues import views

    monkeypatch.setattr(views, "HISTORY_PAGE", 2)
    venue = _seed(make_venue, add_visit, 3)
    login(inspector)
    html = client.get(f"/serveringsstallen/{venue.id}/historik").get_data(as_text=True)
    assert "3 händelser, de 2 senaste visas." in html
    assert html.count('class="event event-inspection"') == 2
    html = client.get(f"/serveringsstallen/{venue.id}/historik?alla=1").get_data(as_text=True)
    assert html.count('class="event event-inspection"') == 3


def test_events_json_is_what_jsonable_makes_of_them(busy_venue, db_session):
    from inspection.audit import jsonable
    from inspection.venues.history import events_json, venue_history

    events = venue_history(busy_venue)["events"]
    assert {e["type"] for e in events} == {"inspection", "training", "case", "permit_change", "overserving_test"}
    assert events_json(events) == jsonable(events)


def test_case_steps_the_latest_decision_wins_and_each_case_is_one_event(
    api, inspector, make_venue, add_decision, manager, db_session
):
    from inspection.cases.models import Case, CaseStep

    venue = make_venue()
    case = add_decision(venue, date(2024, 2, 1), sanction="erinran")
    case.steps.append(CaseStep(kind="decision", date=date(2024, 6, 1), by_id=manager.id, sanction="varning"))
    db_session.add(Case(kommun_id=venue.kommun_id, venue_id=venue.id, status="open", summary="Utan steg"))
    db_session.flush()
    api.as_user(inspector)
    cases = [e for e in _events(api, venue)["events"] if e["type"] == "case"]
    assert len(cases) == 2
    decided = next(e for e in cases if e["id"] == case.id)
    assert (decided["sanction"], decided["date"]) == ("varning", "2024-06-01")
    assert next(e for e in cases if e["id"] != case.id)["sanction"] is None


def test_training_counts_only_attendants_from_the_venue(api, inspector, make_venue, db_session):
    from inspection.trainings.models import TrainingParticipant

    venue, other = make_venue(), make_venue()
    training = Training(
        kommun_id=venue.kommun_id,
        kind="ansvarsfull_alkoholservering",
        title="AAS",
        starts_on=date(2025, 4, 7),
        ends_on=date(2025, 4, 7),
    )
    db_session.add(training)
    db_session.flush()
    for i, (where, attended) in enumerate([(venue, True), (venue, True), (venue, False), (other, True)]):
        db_session.add(
            TrainingParticipant(
                training_id=training.id,
                position=i,
                name=f"D {i}",
                role="ordningsvakt",
                venue_id=where.id,
                attended=attended,
            )
        )
    db_session.flush()
    api.as_user(inspector)
    (event,) = [e for e in _events(api, venue)["events"] if e["type"] == "training"]
    assert event["participants_from_venue"] == 2


def test_history_page_links_every_year_to_its_filter(client, login, inspector, busy_venue):
    login(inspector)
    html = client.get(f"/serveringsstallen/{busy_venue.id}/historik").get_data(as_text=True)
    for year in (2024, 2025):
        assert f'href="/serveringsstallen/{busy_venue.id}/historik?year={year}"' in html
    html = client.get(f"/serveringsstallen/{busy_venue.id}/historik?year=2024").get_data(as_text=True)
    assert "Samordnad tillsyn" in html
    assert "AAS vår 2025" not in html
