"""The Utbildningar pages: forms keep input and name errors, and other kommuner see nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.trainings import services
from inspection.trainings.models import OverservingTest, Training
from inspection.venues.models import ResponsibleServer
from tests.conftest import csrf_token


def _record(user, **kw):
    data = {
        "kind": "ansvarsfull_alkoholservering",
        "title": "AAS våren",
        "starts_on": date(2026, 3, 10),
        "ends_on": date(2026, 3, 11),
        "organisers": ["kommun"],
    }
    data.update(kw)
    return services.record_training(user, **data)


def _form(client, **kw):
    data = {
        "csrf_token": csrf_token(client),
        "kind": "ansvarsfull_alkoholservering",
        "title": "AAS hösten",
        "starts_on": "2026-10-05",
        "ends_on": "2026-10-06",
        "place": "Stadshuset",
        "organisers": ["kommun", "polis"],
        "participants-0-name": "",
        "participants-0-role": "serveringspersonal",
        "participants-0-venue_id": "",
        "participants-0-passed": "",
        "participants-0-diploma_on": "",
        "participants_text": "",
    }
    data.update(kw)
    return data


def test_list_and_nav(client, login, inspector):
    _record(inspector, title="AAS för Storsjöns krogar")
    login(inspector)
    html = client.get("/utbildningar/").get_data(as_text=True)
    assert "AAS för Storsjöns krogar" in html
    assert 'href="/utbildningar/"' in html  # the main menu entry
    assert "Ny utbildning" in html
    assert "AAS för Storsjöns" not in client.get("/utbildningar/?q=krokom").get_data(as_text=True)


def test_create_through_the_form(client, login, inspector, make_venue, db_session):
    venue = make_venue(name="Hamnkrogen")
    login(inspector)
    assert client.get("/utbildningar/ny").status_code == 200
    response = client.post(
        "/utbildningar/ny",
        data=_form(
            client,
            venue_ids=[str(venue.id)],
            **{
                "participants-0-name": "Emma Karlsson",
                "participants-0-role": "serveringsansvarig",
                "participants-0-venue_id": str(venue.id),
                "participants-0-attended": "y",
                "participants-0-passed": "ja",
                "participants-0-diploma_on": "2026-10-06",
            },
            participants_text="Ali Hassan; ordningsvakt; Hamnkrogen",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "AAS hösten" in html
    assert "Emma Karlsson" in html
    assert "Ali Hassan" in html
    assert "Kommunen och Polisen" in html
    training = db_session.scalars(select(Training)).one()
    assert [(p.name, p.passed, p.diploma_on) for p in training.participants] == [
        ("Emma Karlsson", True, date(2026, 10, 6)),
        ("Ali Hassan", None, None),
    ]


def test_form_refuses_course_ending_before_it_starts(client, login, inspector, db_session):
    login(inspector)
    response = client.post("/utbildningar/ny", data=_form(client, ends_on="2026-10-01"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "kan inte sluta före den börjar" in html
    assert 'value="AAS hösten"' in html  # the user's input is kept
    assert db_session.scalar(select(func.count()).select_from(Training)) == 0


def test_form_refuses_row_without_name(client, login, inspector, db_session):
    login(inspector)
    response = client.post("/utbildningar/ny", data=_form(client, **{"participants-0-diploma_on": "2026-10-06"}))
    assert response.status_code == 422
    assert "Namn saknas" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Training)) == 0


def test_form_refuses_broken_pasted_line(client, login, inspector, db_session):
    login(inspector)
    response = client.post(
        "/utbildningar/ny", data=_form(client, participants_text="Emma Karlsson; serveringsansvarig\nBo; kock")
    )
    assert response.status_code == 422
    assert "Rad 2: okänd roll ”kock”" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Training)) == 0


def test_paste_on_detail_page_all_or_nothing(client, login, inspector, db_session):
    training = _record(inspector)
    login(inspector)
    url = f"/utbildningar/{training.id}/deltagare/klistra-in"
    response = client.post(url, data={"csrf_token": csrf_token(client), "participants_text": "Emma\n;ovrig\n"})
    assert response.status_code == 422
    assert "Rad 2: namn saknas" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Training, training.id).participants == []
    response = client.post(url, data={"csrf_token": csrf_token(client), "participants_text": "Emma\nBo; dörrvärd"})
    assert response.status_code == 302
    db_session.expire_all()
    assert [p.name for p in db_session.get(Training, training.id).participants] == ["Emma", "Bo"]


def test_add_responsible_servers_button(client, login, inspector, make_venue, db_session):
    venue = make_venue(name="Pub Ankaret")
    venue.responsible_servers.append(ResponsibleServer(name="Sofia Olsson", birth_year=1990))
    db_session.flush()
    training = _record(inspector, venue_ids=[venue.id])
    login(inspector)
    assert "Lägg till serveringsansvariga från Pub Ankaret" in client.get(f"/utbildningar/{training.id}").get_data(
        as_text=True
    )
    response = client.post(
        f"/utbildningar/{training.id}/deltagare/serveringsansvariga",
        data={"csrf_token": csrf_token(client), "venue_id": str(venue.id)},
        follow_redirects=True,
    )
    assert "Sofia Olsson" in response.get_data(as_text=True)


def test_edit_and_delete(client, login, inspector, db_session):
    training = _record(inspector, participants=[{"name": "Bo", "role": "ovrig"}])
    training_id = training.id
    login(inspector)
    page = client.get(f"/utbildningar/{training.id}/andra").get_data(as_text=True)
    assert 'value="Bo"' in page
    response = client.post(
        f"/utbildningar/{training.id}/andra",
        data=_form(
            client,
            title="Nytt namn",
            **{"participants-0-name": "Bo", "participants-0-role": "ovrig", "participants-0-attended": "y"},
        ),
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Training, training.id).title == "Nytt namn"
    response = client.post(f"/utbildningar/{training_id}/ta-bort", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Training, training_id) is None


def test_other_kommun_sees_nothing(client, login, inspector, make_user, other_kommun):
    training = _record(inspector, title="Hemlig kurs", organisers=["kommun", "polis"])
    login(make_user("inspector", org=other_kommun))
    assert client.get(f"/utbildningar/{training.id}").status_code == 404
    assert client.get(f"/utbildningar/{training.id}/andra").status_code == 404
    assert "Hemlig kurs" not in client.get("/utbildningar/").get_data(as_text=True)


def test_police_see_trainings_organised_with_them(client, login, inspector, police):
    joint = _record(inspector, title="Gemensam kurs", organisers=["kommun", "polis"])
    alone = _record(inspector, title="Kommunens egen kurs")
    login(police)
    html = client.get("/utbildningar/").get_data(as_text=True)
    assert "Gemensam kurs" in html
    assert "Kommunens egen kurs" not in html
    assert "Ny utbildning" not in html
    assert client.get(f"/utbildningar/{joint.id}").status_code == 200
    assert "Ändra" not in client.get(f"/utbildningar/{joint.id}").get_data(as_text=True)
    assert client.get(f"/utbildningar/{alone.id}").status_code == 404
    assert client.get(f"/utbildningar/{joint.id}/andra").status_code == 403
    assert client.get("/utbildningar/ny").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/utbildningar/tackning",
        "/utbildningar/effekt",
        "/utbildningar/overserveringstest",
        "/utbildningar/overserveringstest/nytt",
        "/utbildningar/overserveringstest/andel",
    ],
)
def test_police_may_not_open_kommun_pages(client, login, police, url):
    login(police)
    assert client.get(url).status_code == 403


def test_coverage_page_and_filter(client, login, inspector, make_venue, db_session):
    trained = make_venue(name="Utbildade baren")
    untrained = make_venue(name="Outbildade baren")
    for v in (trained, untrained):
        v.responsible_servers.append(ResponsibleServer(name="Emma Karlsson", birth_year=1990))
    db_session.flush()
    on = date.today().replace(day=1)
    _record(
        inspector,
        starts_on=on,
        ends_on=on,
        participants=[
            {
                "name": "Emma Karlsson",
                "role": "serveringsansvarig",
                "venue_id": trained.id,
                "passed": True,
                "diploma_on": on,
            }
        ],
    )
    login(inspector)
    html = client.get("/utbildningar/tackning").get_data(as_text=True)
    assert "Utbildade baren" in html
    assert "Outbildade baren" in html
    html = client.get("/utbildningar/tackning?utan=1").get_data(as_text=True)
    assert "Outbildade baren" in html
    assert "Utbildade baren" not in html


def test_venue_coverage_partial(app, db_session, inspector, make_venue):
    from flask import render_template_string
    from flask_login import login_user

    venue = make_venue()
    venue.responsible_servers.append(ResponsibleServer(name="Elin Larsson", birth_year=1980))
    db_session.flush()
    with app.test_request_context():
        login_user(inspector)
        html = render_template_string(
            '{% with coverage=training_coverage(venue) %}{% include "trainings/_venue_coverage.html" %}{% endwith %}',
            venue=venue,
        )
    assert "0 av 1" in html
    assert "Ingen utbildad serveringsansvarig" in html
    assert "Aldrig" in html


def test_overserving_test_pages(client, login, inspector, make_venue, db_session):
    venue = make_venue(name="Pub Ankaret")
    login(inspector)
    assert client.get("/utbildningar/overserveringstest/nytt").status_code == 200
    response = client.post(
        "/utbildningar/overserveringstest/nytt",
        data={
            "csrf_token": csrf_token(client),
            "venue_id": str(venue.id),
            "tested_on": "2025-05-05",
            "refused": "nej",
            "notes": "Fick en öl direkt.",
        },
    )
    assert response.status_code == 302
    html = client.get(f"/utbildningar/overserveringstest?venue_id={venue.id}").get_data(as_text=True)
    assert "Fick en öl direkt." in html
    assert "Serverades" in html
    response = client.post(
        "/utbildningar/overserveringstest/nytt",
        data={"csrf_token": csrf_token(client), "venue_id": "", "tested_on": "2025-05-05", "refused": "ja"},
    )
    assert response.status_code == 422
    assert "Välj ett serveringsställe" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(OverservingTest)) == 1
    services.record_overserving_test(inspector, venue_id=venue.id, tested_on=date(2025, 6, 1), refused=True)
    html = client.get("/utbildningar/overserveringstest/andel").get_data(as_text=True)
    assert "50 %" in html
    assert "Stockholm 1996: 5 %" in html
    assert "Stockholm 2001: 70 %" in html
    assert "Stockholm 2016: 77 %" in html


def test_effect_page(client, login, inspector, make_venue):
    venue = make_venue(name="Krogen Kyrkgatan")
    on = date.today().replace(day=1)
    _record(inspector, starts_on=on, ends_on=on, participants=[{"name": "Bo", "role": "ovrig", "venue_id": venue.id}])
    login(inspector)
    html = client.get("/utbildningar/effekt").get_data(as_text=True)
    assert "Krogen Kyrkgatan" in html
    assert "året efter pågår" in html


def test_admin_has_no_training_pages(client, login, admin):
    login(admin)
    response = client.get("/utbildningar/")
    assert response.status_code in (302, 403)  # the app sends admins to their own pages
    assert "/utbildningar" not in response.headers.get("Location", "")


def test_detail_page_queries_do_not_grow_with_participants(client, login, inspector, make_venue, query_counter):
    def training_with(n):
        venues = [make_venue() for _ in range(n)]
        people = [{"name": f"Person {i}", "role": "ovrig", "venue_id": v.id} for i, v in enumerate(venues)]
        return _record(inspector, venue_ids=[v.id for v in venues], participants=people)

    small, large = training_with(1), training_with(12)
    login(inspector)
    client.get(f"/utbildningar/{small.id}")
    with query_counter() as few:
        assert client.get(f"/utbildningar/{small.id}").status_code == 200
    with query_counter() as many:
        html = client.get(f"/utbildningar/{large.id}").get_data(as_text=True)
    assert "Person 11" in html
    assert many.count == few.count
