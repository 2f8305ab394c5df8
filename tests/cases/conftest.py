"""Helpers for the case tests: a movable "today", signed protocols, a case at a given step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import stockholm

#: a Monday; the tests move the calendar around it
DAY0 = date(2026, 3, 2)


@pytest.fixture
def today(monkeypatch):
    """today.set(d) moves the case services' calendar; it starts at DAY0 + 60 days."""
    from inspection.cases import services

    class Today:
        value = DAY0 + timedelta(days=60)

        def set(self, value: date) -> date:
            self.value = value
            return value

    t = Today()
    monkeypatch.setattr(services, "local_today", lambda: t.value)
    return t


@pytest.fixture
def signed(make_inspection, inspector):
    def make(venue, day: date = DAY0):
        return make_inspection(
            venue=venue,
            participants=[inspector],
            kind="yttre",
            start=stockholm(day.year, day.month, day.day, 22),
            status="signed",
        )

    return make


@pytest.fixture
def venue(make_venue):
    return make_venue(name="Bar Jämtlandia", permit_holder="Krog <b>Bar</b> AB", address="Storgatan 1")


@pytest.fixture
def as_user(api):
    """Switch the API caller, signing in once per user."""
    tokens: dict[int, str] = {}

    def switch(user):
        if user.id not in tokens:
            api.as_user(user)
            tokens[user.id] = api.token
        api.token = tokens[user.id]
        return api

    return switch


@pytest.fixture
def open_case(api, as_user, inspector, signed):
    """Open a case over the API (as the inspector) and answer its JSON."""

    def make(venue, **body):
        as_user(inspector)
        inspection = signed(venue)
        data = {"venue_id": venue.id, "inspection_ids": [inspection.id], "summary": "Överservering."} | body
        response = api.post("/api/v1/cases", json=data)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def step(api, as_user):
    """step(case_id, user, kind, date, **fields) -> response."""

    def add(case_id, user, kind, day=None, **fields):
        as_user(user)
        body = {"kind": kind, **fields}
        if day is not None:
            body["date"] = day.isoformat()
        return api.post(f"/api/v1/cases/{case_id}/steps", json=body)

    return add


@pytest.fixture
def web_as(client, login):
    """Sign the web client in as another user (signing the previous one out first)."""

    def switch(user):
        from tests.conftest import csrf_token

        client.post("/logout", data={"csrf_token": csrf_token(client)})
        return login(user)

    return switch
