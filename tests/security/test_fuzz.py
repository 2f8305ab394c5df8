"""Hostile input everywhere (Hypothesis): for every API operation that takes a JSON body, random and
hostile bodies never cause a 500, always answer API.md's error object when refused, and never leave a
partial write behind."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from inspection.extensions import db

HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE venue; --",
            "\x00",
            "\u202e",
            "%s%n",
            "{{7*7}}",
            "a" * 10_001,
            "😀" * 5,
            "<b>fet</b> & <i>",
            "../../etc/passwd",
            "NaN",
            "-1",
            "1e309",
        ]
    ),
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False),
        HOSTILE_TEXT,
    ),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(HOSTILE_TEXT, children, max_size=4)),
    max_leaves=12,
)


def _operations(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, methods in sorted(spec["paths"].items()):
        for method, op in methods.items():
            if "requestBody" not in op or "application/json" not in op["requestBody"]["content"]:
                continue
            if path.endswith("/tokens"):
                continue  # sign-in has its own tests; fuzzing it would trip the throttle
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            props = spec["components"]["schemas"][ref].get("properties", {})
            yield method.upper(), path, sorted(props)


def _make_check(api, db_session, method, url, fields, examples):
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(body=st.one_of(JSON_VALUES, st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSON_VALUES))))
    def check(body):
        before = _row_count()
        response = api.open(url, method=method, json=body, headers={"If-Match": '"1"'})
        assert response.status_code < 500, (method, url, body, response.get_data(as_text=True)[:300])
        if response.status_code >= 400:
            error = response.get_json()["error"]
            assert {"code", "message"} <= set(error)
            db_session.expire_all()
            assert _row_count() == before, (method, url, body)

    return check


def _row_count() -> int:
    """Rows in every table that holds content, in one query."""
    counts = [
        select(func.count()).select_from(table).scalar_subquery()
        for table in db.metadata.sorted_tables
        if table.name not in {"audit_entry", "login_attempt", "user_session", "api_token"}
    ]
    return db.session.scalar(select(sum(counts[1:], counts[0])))


def test_hostile_bodies_never_cause_a_500(app, db_session, api, inspector, police, make_venue, make_inspection):
    _fuzz(app, db_session, api, inspector, police, make_venue, make_inspection, examples=6)


@pytest.mark.slow
def test_hostile_bodies_never_cause_a_500_thoroughly(
    app, db_session, api, inspector, police, make_venue, make_inspection
):
    _fuzz(app, db_session, api, inspector, police, make_venue, make_inspection, examples=60)


def _fuzz(app, db_session, api, inspector, police, make_venue, make_inspection, examples):
    venue = make_venue()
    inspection = make_inspection(venue=venue, participants=[inspector, police])
    api.as_user(inspector)
    operations = list(_operations(app))
    assert len(operations) >= 5  # the API's writing endpoints are described

    for method, path, fields in operations:
        url = re.sub(
            r"\{(\w+)\}", lambda m: str(inspection.id if "inspection" in m.group(1) or m.group(1) == "id" else 1), path
        )
        if "/venues/" in path:
            url = re.sub(r"/venues/\d+", f"/venues/{venue.id}", url)

        _make_check(api, db_session, method, url, fields, examples)()


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[]", b'{"a": NaN}', b"null", b'"text"', b"1" * 5000])
def test_malformed_json_is_400_or_422(api, inspector, raw):
    api.as_user(inspector)
    response = api.post("/api/v1/venues", data=raw, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["code"] in {"bad_request", "validation"}
