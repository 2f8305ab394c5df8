"""Hostile input on every web form (Hypothesis): each page that takes a POST is sent random and
hostile values for the fields its own form shows (with a valid CSRF token), as the roles that may
use it. Never a 500, and a refused form (4xx) leaves no partial write behind."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from inspection.extensions import db
from tests.security.test_access_matrix import url_for_rule

SKIP = {"auth.login", "auth.logout", "auth.change_password"}  # sign-in has its own tests; fuzzing would end the session
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "99999999999999999999",
            "2026-02-30",
            "25:00",
            "<script>alert(1)</script>",
            "\x00",
            "a" * 10_001,
            "Łukasz Żółć",
            "1; DROP TABLE venue",
            "true",
            "on",
            "ja",
        ]
    ),
)
ROW_TABLES_SKIPPED = {"audit_entry", "login_attempt", "user_session", "api_token"}


def _row_count() -> int:
    counts = [
        select(func.count()).select_from(table).scalar_subquery()
        for table in db.metadata.sorted_tables
        if table.name not in ROW_TABLES_SKIPPED
    ]
    return db.session.scalar(select(sum(counts[1:], counts[0])))


def _form_pages(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" in rule.methods and not rule.rule.startswith("/api/") and rule.endpoint not in SKIP:
            yield rule


def _field_names(client, url: str) -> list[str]:
    """The names of the inputs the page's own form shows (GET of the same URL), or a few guesses."""
    response = client.get(url)
    html = response.get_data(as_text=True) if response.status_code == 200 else ""
    response.close()
    names = sorted(set(re.findall(r'name="([a-z_][a-z0-9_-]*)"', html)) - {"csrf_token", "csrf-token"})
    return names or ["name", "text", "reason", "date", "password", "venue_id"]


def _make_check(client, csrf: str, url: str, fields: list[str]):
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(data=st.fixed_dictionaries({}, optional=dict.fromkeys(fields, VALUES)))
    def check(data):
        before = _row_count()
        response = client.post(url, data={**data, "csrf_token": csrf})
        response.close()
        assert response.status_code < 500, (url, data)
        if response.status_code >= 400:
            db.session.expire_all()
            assert _row_count() == before, (url, data)

    return check


@pytest.mark.parametrize("role", ["manager", "inspector"])
def test_hostile_form_input_never_causes_a_500(app, world, isolated, role):
    client = world.client(role)
    checked = 0
    for rule in _form_pages(app):
        url = url_for_rule(rule.rule, rule.endpoint, world.ids)
        fields = _field_names(client, url)

        _make_check(client, world.csrf[role], url, fields)()
        checked += 1
    assert checked >= 15  # the forms of every area are reached
