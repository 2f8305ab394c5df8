"""The application factory, settings and the headers every answer carries."""

from __future__ import annotations

import pytest

from inspection import create_app
from inspection.config import database_url


def test_production_refuses_the_default_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("KROGTILLSYN_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "UPLOAD_FOLDER": str(tmp_path)})


def test_production_cookies_are_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("KROGTILLSYN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-for-the-test")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "UPLOAD_FOLDER": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/krog")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "45")
    from inspection.config import load_config

    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/krog"
    assert config["SESSION_IDLE_MINUTES"] == 45


def test_default_database_is_sqlite_in_instance():
    assert database_url(None).startswith("sqlite:///")
    assert database_url(None).endswith("instance/krogtillsyn.db")


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_unknown_page_is_a_swedish_404(client, login, inspector):
    login(inspector)
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404(api, inspector):
    api.as_user(inspector)
    response = api.get("/api/v1/finns-inte")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
