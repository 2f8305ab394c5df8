"""Deny by default: every registered route needs a signed-in user unless API.md lists it as public."""

from __future__ import annotations

import re

import pytest

from inspection.security import PUBLIC_ENDPOINTS

PUBLIC_PATHS = {"/login", "/api/v1/tokens", "/api/v1/openapi.json", "/healthz", "/manifest.webmanifest", "/sw.js"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        url = re.sub(r"<(?:\w+:)?\w+>", "x", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_route_is_private_unless_listed_public(app, client):
    checked = 0
    for endpoint, method, url in _routes(app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = client.open(url, method=method)
        response.close()
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthorized"
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)
        checked += 1
    assert checked > 10


def test_public_list_is_short_and_known(app):
    # A new public endpoint must be a deliberate decision: add it here and to API.md.
    assert {
        "static",
        "auth.login",
        "api.create_token",
        "api.openapi",
        "inspections.calendar_feed",
        "main.verify",
        "main.manifest",
        "main.service_worker",
        "main.healthz",
    } == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("path", sorted(PUBLIC_PATHS))
def test_public_paths_answer_without_login(client, path):
    response = client.get(path)
    response.close()
    assert response.status_code in (200, 405), path  # /api/v1/tokens is POST-only


def test_admin_pages_are_for_admins(client, login, inspector):
    login(inspector)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/organisations").status_code == 403


def test_admin_sees_no_protocol_content(client, login, admin):
    login(admin)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
