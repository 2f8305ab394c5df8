"""The venue pages: list with filters, card, create/edit with field errors, close/reopen, and access."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inspection.venues.models import PermitChange, Venue
from tests.conftest import csrf_token


def _form(**overrides) -> dict:
    data = {
        "name": "Pub Ankaret",
        "address": "Hamngatan 3",
        "area": "Hamnen",
        "permit_holder": "Ankaret AB",
        "org_number": "556016-0680",
        "permit_holder_email": "",
        "permit_number": "ÖSD-2026-1",
        "permit_scope": "allmanheten",
        "permit_kind": "stadigvarande",
        "serving_hours": "11:00-02:00",
        "outdoor_serving_hours": "",
        "max_guests": "90",
        "valid_from": "",
        "valid_to": "",
        "risk_class": "",
        "risk_class_reason": "",
        "responsible_servers": "Kim Berg; 1990; 2025-03-01\nAlex Ek; 1985",
    }
    data.update(overrides)
    return data


def test_create_venue_through_the_form(client, login, inspector, db_session, kommun):
    login(inspector)
    assert "Nytt serveringsställe" in client.get("/serveringsstallen/ny").get_data(as_text=True)
    response = client.post("/serveringsstallen/ny", data={**_form(), "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    venue = db_session.scalars(select(Venue).where(Venue.permit_number == "ÖSD-2026-1")).one()
    assert venue.kommun_id == kommun.id
    assert [s.name for s in venue.responsible_servers] == ["Kim Berg", "Alex Ek"]
    card = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("Pub Ankaret", "11:00-02:00", "90", "Kim Berg", "född 1990"):
        assert text in card


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"org_number": "556016-0681"}, "Ogiltigt organisationsnummer"),
        ({"serving_hours": "25:00-01:00"}, "TT:MM-TT:MM"),
        (
            {"responsible_servers": "Kim Berg; 1990\nUng Person; " + str(date.today().year - 18)},
            "Rad 2: en serveringsansvarig måste vara minst 20 år.",
        ),
        ({"responsible_servers": "Kim Berg; nittio"}, "Rad 1: födelseår ska vara fyra siffror"),
        ({"name": ""}, "Obligatoriskt fält."),
        ({"risk_class": "3"}, "Skriv varför riskklassen sätts för hand."),
    ],
)
def test_refused_input_keeps_what_was_typed(client, login, inspector, db_session, overrides, message):
    login(inspector)
    data = _form(**overrides)
    response = client.post("/serveringsstallen/ny", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="Hamngatan 3"' in html  # the user's input is kept
    assert db_session.scalars(select(Venue).where(Venue.permit_number == "ÖSD-2026-1")).first() is None


def test_duplicate_permit_number_on_the_form(client, login, inspector, make_venue):
    make_venue(permit_number="ÖSD-2026-1")
    login(inspector)
    response = client.post("/serveringsstallen/ny", data={**_form(), "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "Tillståndsnumret finns redan i kommunen." in response.get_data(as_text=True)


def test_edit_records_a_permit_change(client, login, inspector, make_venue, db_session):
    venue = make_venue(name="Hamnkrogen", serving_hours="11:00-01:00")
    login(inspector)
    page = client.get(f"/serveringsstallen/{venue.id}/andra").get_data(as_text=True)
    assert 'value="Hamnkrogen"' in page
    assert 'value="11:00-01:00"' in page
    data = _form(
        name="Hamnkrogen", permit_number=venue.permit_number, serving_hours="11:00–03:00", responsible_servers=""
    )
    response = client.post(f"/serveringsstallen/{venue.id}/andra", data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db_session.refresh(venue)
    assert venue.serving_hours == "11:00-03:00"
    change = db_session.scalars(select(PermitChange).where(PermitChange.venue_id == venue.id)).one()
    assert change.changes["permit.serving_hours"] == ["11:00-01:00", "11:00-03:00"]


def test_close_and_reopen(client, login, inspector, make_venue, db_session):
    venue = make_venue()
    login(inspector)
    assert (
        client.post(f"/serveringsstallen/{venue.id}/stang", data={"csrf_token": csrf_token(client)}).status_code == 302
    )
    db_session.refresh(venue)
    assert venue.active is False
    assert "Stängt" in client.get(f"/serveringsstallen/{venue.id}").get_data(as_text=True)
    assert venue.name not in client.get("/serveringsstallen/").get_data(as_text=True)
    assert venue.name in client.get("/serveringsstallen/?status=closed").get_data(as_text=True)
    assert (
        client.post(f"/serveringsstallen/{venue.id}/oppna", data={"csrf_token": csrf_token(client)}).status_code == 302
    )
    db_session.refresh(venue)
    assert venue.active is True


def test_list_search_and_not_visited_filter(client, login, inspector, make_venue, add_visit):
    visited = make_venue(name="Besökt nyss", area="Centrum")
    make_venue(name="Aldrig besökt", area="Hamnen")
    long_ago = make_venue(name="Besökt för länge sedan", area="Centrum")
    add_visit(visited, date.today() - timedelta(days=20))
    add_visit(long_ago, date.today() - timedelta(days=400))
    login(inspector)
    html = client.get("/serveringsstallen/?months=6").get_data(as_text=True)
    assert "Aldrig besökt" in html
    assert "Besökt för länge sedan" in html
    assert "Besökt nyss" not in html
    html = client.get("/serveringsstallen/?q=nyss").get_data(as_text=True)
    assert "Besökt nyss" in html
    assert "Aldrig besökt" not in html
    html = client.get("/serveringsstallen/?area=Hamnen").get_data(as_text=True)
    assert "Aldrig besökt" in html
    assert "Besökt nyss" not in html


def test_card_shows_last_visits_remarks(client, login, inspector, make_venue, add_visit):
    venue = make_venue()
    add_visit(venue, date.today() - timedelta(days=3), remarks=2)
    login(inspector)
    html = client.get(f"/serveringsstallen/{venue.id}").get_data(as_text=True)
    assert "Anmärkningar" in html
    assert "Mat" in html
    assert "Brist" in html


def test_another_kommun_gets_404_on_every_venue_page(client, login, make_user, other_kommun, make_venue):
    venue = make_venue()
    login(make_user("inspector", org=other_kommun))
    token = csrf_token(client)
    for method, url in [
        ("GET", f"/serveringsstallen/{venue.id}"),
        ("GET", f"/serveringsstallen/{venue.id}/andra"),
        ("POST", f"/serveringsstallen/{venue.id}/andra"),
        ("POST", f"/serveringsstallen/{venue.id}/stang"),
        ("POST", f"/serveringsstallen/{venue.id}/oppna"),
        ("GET", f"/serveringsstallen/{venue.id}/historik"),
    ]:
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 404, (method, url)
    assert venue.name not in client.get("/serveringsstallen/").get_data(as_text=True)


def test_police_see_the_card_but_may_not_change(client, login, police, inspector, make_venue, make_inspection):
    venue = make_venue(name="Med polisen")
    make_venue(name="Utan polisen")
    make_inspection(venue=venue, participants=[inspector, police])
    login(police)
    html = client.get("/serveringsstallen/").get_data(as_text=True)
    assert "Med polisen" in html
    assert "Utan polisen" not in html
    assert client.get(f"/serveringsstallen/{venue.id}").status_code == 200
    assert client.get(f"/serveringsstallen/{venue.id}/andra").status_code == 403
    assert client.get("/serveringsstallen/ny").status_code == 403
    token = csrf_token(client)
    assert client.post(f"/serveringsstallen/{venue.id}/stang", data={"csrf_token": token}).status_code == 403


def test_nav_has_the_entry(client, login, inspector):
    login(inspector)
    assert 'href="/serveringsstallen/"' in client.get("/").get_data(as_text=True)


def test_every_error_shows_at_once(client, login, inspector):
    login(inspector)
    data = _form(org_number="1", serving_hours="25:00", responsible_servers="Kim; 2015\nBo; 19x0")
    html = client.post("/serveringsstallen/ny", data={**data, "csrf_token": csrf_token(client)}).get_data(as_text=True)
    assert "Ogiltigt organisationsnummer" in html
    assert "TT:MM-TT:MM" in html
    assert "Rad 1: en serveringsansvarig måste vara minst 20 år." in html
    assert "Rad 2: födelseår ska vara fyra siffror." in html


def test_list_counts_every_match_across_pages(client, login, inspector, make_venue, monkeypatch):
    from inspection.venues import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    for name in ("BAR Ett", "Bar Två", "Vinbaren", "Café"):
        make_venue(name=name)
    login(inspector)
    for page in (1, 2, 3):
        html = client.get(f"/serveringsstallen/?q=bar&page={page}").get_data(as_text=True)
        assert "3 serveringsställen" in html
    html = client.get("/serveringsstallen/?q=bar&page=2").get_data(as_text=True)
    assert "Vinbaren" in html
    assert "BAR Ett" not in html
    venue = make_venue(name="Ensam krog")
    html = client.get("/serveringsstallen/?q=ensam").get_data(as_text=True)
    assert "1 serveringsställe<" in html
    assert f'href="/serveringsstallen/{venue.id}"' in html
