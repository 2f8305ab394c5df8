"""The summary's figures (API.md "The summary") from known data, and its error cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from inspection.reports import services
from inspection.types import local_today
from tests.conftest import stockholm

URL = "/api/v1/reports/summary"


def _without_kommun(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "kommun"}


def test_every_figure_of_the_summary(api, manager, kommun, dataset):
    response = api.as_user(manager).get(f"{URL}?from=2025-01-01&to=2025-06-30")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["kommun"] == {"id": kommun.id}
    assert _without_kommun(body) == dataset["summary"]


def test_the_same_period_a_year_earlier(db_session, kommun, dataset):
    figures = services.summary(kommun.id, date(2024, 1, 1), date(2024, 6, 30))
    assert figures["visits"] == dataset["previous"]["visits"]
    assert figures["joint_visits"] == dataset["previous"]["joint_visits"]
    assert figures["sanctions"] == {"erinran": 1, "varning": 0, "aterkallelse": 0}
    assert figures["overserving_tests"] == {"tests": 1, "refusals": 0}


def test_a_visit_just_after_midnight_on_the_last_day_counts_the_next_day_does_not(db_session, kommun, dataset):
    # 2025-06-30 00:15 Stockholm (22:15 UTC the day before) is in; 2025-07-01 00:15 is out.
    last_day = services.summary(kommun.id, date(2025, 6, 30), date(2025, 6, 30))
    assert last_day["visits"]["samordnad"] == 1
    assert last_day["visits"]["yttre"] == 0
    next_day = services.summary(kommun.id, date(2025, 7, 1), date(2025, 7, 1))
    assert next_day["visits"]["yttre"] == 2
    assert next_day["remarks"]["mat"] == 1


def test_summary_query_count_is_fixed(db_session, kommun, dataset, query_counter):
    with query_counter() as counted:
        services.summary(kommun.id, date(2025, 1, 1), date(2025, 6, 30))
    assert counted.count <= 6


def test_an_empty_period_gives_zeros(api, manager):
    response = api.as_user(manager).get(f"{URL}?from=2020-01-01&to=2020-01-31")
    assert response.status_code == 200
    body = response.get_json()
    assert body["visits"] == {"yttre": 0, "inre": 0, "samordnad": 0, "forebyggande": 0}
    assert body["joint_visits"] == body["venues_visited"] == body["trainings"] == body["people_trained"] == 0
    assert set(body["remarks"]) >= {"serveringsansvarig", "restaurangrapport", "fakturor"}
    assert all(v == 0 for v in body["remarks"].values())
    assert body["sanctions"] == {"erinran": 0, "varning": 0, "aterkallelse": 0}


def test_default_period_is_the_last_complete_half_year(api, inspector):
    body = api.as_user(inspector).get(URL).get_json()
    today = local_today()
    expected = services.last_half_year(today)
    assert body["period"] == {"from": expected[0].isoformat(), "to": expected[1].isoformat()}
    assert date.fromisoformat(body["period"]["to"]) < today


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 7, 1), (date(2026, 1, 1), date(2026, 6, 30))),
        (date(2026, 12, 31), (date(2026, 1, 1), date(2026, 6, 30))),
        (date(2026, 1, 1), (date(2025, 7, 1), date(2025, 12, 31))),
        (date(2026, 6, 30), (date(2025, 7, 1), date(2025, 12, 31))),
    ],
)
def test_last_half_year(today, expected):
    assert services.last_half_year(today) == expected


def test_to_may_lie_in_the_future(api, manager):
    future = (local_today() + timedelta(days=60)).isoformat()
    response = api.as_user(manager).get(f"{URL}?from={local_today().isoformat()}&to={future}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from={tomorrow}&to={later}", "from"),
        ("from=2025-06-30&to=2025-01-01", "to"),
        ("from=2025-13-01&to=2025-12-31", "from"),
        ("from=2025-01-01&to=nej", "to"),
    ],
)
def test_bad_periods_are_422(api, manager, query, field):
    tomorrow = local_today() + timedelta(days=1)
    query = query.format(tomorrow=tomorrow.isoformat(), later=(tomorrow + timedelta(days=30)).isoformat())
    response = api.as_user(manager).get(f"{URL}?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert field in error["fields"]


def test_unknown_kommun_is_404(api, police):
    response = api.as_user(police).get(f"{URL}?kommun_id=999999")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_police_area_is_not_a_kommun(api, police, police_org):
    assert api.as_user(police).get(f"{URL}?kommun_id={police_org.id}").status_code == 404


def test_kommun_staff_get_404_for_another_kommun(api, inspector, other_kommun, kommun):
    api.as_user(inspector)
    assert api.get(f"{URL}?kommun_id={other_kommun.id}").status_code == 404
    assert api.get(f"{URL}?kommun_id={kommun.id}").status_code == 200


def test_police_must_name_a_kommun(api, police):
    response = api.as_user(police).get(URL)
    assert response.status_code == 422
    assert "kommun_id" in response.get_json()["error"]["fields"]


def test_police_may_read_any_kommun(api, police, kommun, other_kommun, dataset):
    api.as_user(police)
    body = api.get(f"{URL}?kommun_id={kommun.id}&from=2025-01-01&to=2025-06-30").get_json()
    assert _without_kommun(body) == dataset["summary"]
    other = api.get(f"{URL}?kommun_id={other_kommun.id}&from=2025-01-01&to=2025-06-30")
    assert other.status_code == 200
    assert other.get_json()["visits"]["yttre"] == 1
    assert other.get_json()["sanctions"]["varning"] == 1


def test_admin_is_403_before_anything_else(api, admin):
    response = api.as_user(admin).get(f"{URL}?kommun_id=999999&from=nej")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_not_signed_in_is_401(client):
    assert client.get(URL).status_code == 401


def test_openapi_describes_the_summary(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/reports/summary"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} == {"kommun_id", "from", "to"}


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("11:00-01:00", False),
        ("11:00-01:30", True),
        ("22:00-03:00", True),
        ("11:00-23:00", False),
        ("00:00-02:00", True),
        ("18:00-24:00", False),
        ("nonsense", False),
    ],
)
def test_open_after_one(hours, expected):
    assert services.open_after_one(hours) is expected


@pytest.mark.parametrize(
    ("last_day", "inside", "outside"),
    [
        # the 23-hour day when summer time begins, and the 25-hour day when it ends
        (date(2025, 3, 30), (2025, 3, 30, 23, 30), (2025, 3, 31, 0, 30)),
        (date(2025, 10, 26), (2025, 10, 26, 23, 30), (2025, 10, 27, 0, 30)),
        (date(2025, 10, 26), (2025, 10, 26, 2, 30), (2025, 10, 25, 23, 59)),
    ],
)
def test_period_bounds_follow_stockholm_across_dst(db_session, kommun, make_venue, visit, last_day, inside, outside):
    venue = make_venue()
    visit(venue, stockholm(*inside))
    visit(venue, stockholm(*outside))
    assert services.summary(kommun.id, last_day, last_day)["visits"]["yttre"] == 1
