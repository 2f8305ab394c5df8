"""The default risk class: serving past 01:00, capacity, and the last two years' remarks and sanctions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from inspection.venues.services import compute_risk_class, refresh_risk_class


def _risk(**kw):
    values = {
        "serving_hours": "11:00-23:00",
        "outdoor_serving_hours": None,
        "max_guests": 80,
        "remarks": 0,
        "sanctions": [],
    }
    values.update(kw)
    return compute_risk_class(**values)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, 1),
        ({"serving_hours": "11:00-01:00"}, 1),  # until 01:00 is not past it
        ({"serving_hours": "11:00-24:00"}, 1),
        ({"serving_hours": "11:00-02:00"}, 2),
        ({"outdoor_serving_hours": "11:00-01:30"}, 2),
        ({"max_guests": 300}, 2),
        ({"remarks": 1}, 2),
        ({"sanctions": ["erinran"]}, 2),
        ({"sanctions": ["varning"]}, 2),
        ({"serving_hours": "11:00-03:00", "max_guests": 600}, 2),
        ({"serving_hours": "11:00-03:00", "max_guests": 600, "remarks": 1}, 3),
        ({"remarks": 5, "sanctions": ["erinran"]}, 3),
        ({"serving_hours": "11:00-02:00", "sanctions": ["aterkallelse"]}, 3),
    ],
)
def test_computed_class(kw, expected):
    assert _risk(**kw)[0] == expected


def test_reason_names_the_factors():
    risk_class, reason = _risk(serving_hours="11:00-03:00", max_guests=350, remarks=4, sanctions=["varning"])
    assert risk_class == 3
    for words in ("efter 01:00", "350 gäster", "4 anmärkningar", "varning"):
        assert words in reason
    assert _risk()[1] == "Beräknad: inga särskilda riskfaktorer."


def test_history_of_the_last_two_years_counts(make_venue, add_visit, add_decision, db_session):
    venue = make_venue(serving_hours="11:00-23:00", max_guests=60, risk_class=1)
    today = date.today()
    add_visit(venue, today - timedelta(days=30), remarks=2)
    add_visit(venue, today - timedelta(days=60), remarks=3, status="in_progress")  # not signed: not counted
    add_visit(venue, today - timedelta(days=365 * 3), remarks=6)  # too old
    assert refresh_risk_class(venue)
    assert venue.risk_class == 2
    assert "2 anmärkningar" in venue.risk_class_reason
    add_decision(venue, today - timedelta(days=10), sanction="varning")
    refresh_risk_class(venue)
    assert venue.risk_class == 3
    assert "varning" in venue.risk_class_reason


def test_an_old_sanction_does_not_count(make_venue, add_decision):
    venue = make_venue(serving_hours="11:00-23:00", max_guests=60, risk_class=3)
    add_decision(venue, date.today() - timedelta(days=800), sanction="aterkallelse")
    refresh_risk_class(venue)
    assert venue.risk_class == 1


def test_an_override_is_kept(make_venue, add_visit):
    venue = make_venue(serving_hours="11:00-23:00", max_guests=60, risk_class=1, risk_class_override=True)
    add_visit(venue, date.today() - timedelta(days=5), remarks=6)
    assert not refresh_risk_class(venue)
    assert venue.risk_class == 1


def test_patch_recomputes_from_the_history(api, inspector, make_venue, add_visit, add_decision):
    venue = make_venue(serving_hours="11:00-23:00", max_guests=60, risk_class=1)
    add_visit(venue, date.today() - timedelta(days=20), remarks=1)
    add_decision(venue, date.today() - timedelta(days=5), sanction="erinran")
    api.as_user(inspector)
    body = api.patch(f"/api/v1/venues/{venue.id}", json={"permit": {"serving_hours": "11:00-02:00"}}).get_json()
    assert body["risk_class"] == 3
    assert "1 anmärkning" in body["risk_class_reason"]
