"""Sessions and tokens end when they must; CSRF; sign-in throttling; the second factor."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import select, update

from inspection.audit import AuditEntry
from inspection.auth.models import ApiToken, UserSession
from inspection.types import utcnow
from tests.conftest import PASSWORD, csrf_token


def _copy_cookie(src, dst):
    dst.set_cookie("session", src.get_cookie("session").value, domain="localhost")


def test_logout_ends_the_session_server_side(app, client, login, inspector):
    login(inspector)
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get("/").status_code == 200  # the copied cookie works while the session lives
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert thief.get("/").status_code == 302  # and stops working at logout


def test_deactivation_ends_sessions_and_tokens_at_once(app, client, login, api, admin, make_user, db_session):
    user = make_user("inspector")
    other = app.test_client()
    api.as_user(user)
    assert api.get("/api/v1/me").status_code == 200
    # The user signs in on the web in another browser.
    other.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert other.get("/").status_code == 200
    login(admin)
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "name": user.name,
            "role": "inspector",
            "organisation_id": user.organisation_id,
            "csrf_token": csrf_token(client),
        },
    )  # the "active" checkbox left unticked
    assert response.status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert other.get("/").status_code == 302
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.update", AuditEntry.object_id == user.id)
    ).one()
    assert entry.details["active"] == [True, False]


def test_password_change_ends_other_sessions(app, client, login, inspector):
    login(inspector)
    other = app.test_client()
    other.post("/login", data={"email": inspector.email, "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert other.get("/").status_code == 200
    response = client.post(
        "/profile/password",
        data={
            "current_password": PASSWORD,
            "new_password": "ett helt nytt långt lösen 42",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_weak_new_password_is_refused_in_swedish(client, login, inspector):
    login(inspector)
    response = client.post(
        "/profile/password",
        data={"current_password": PASSWORD, "new_password": "password1234", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 422
    assert "för vanligt" in response.get_data(as_text=True)


def test_idle_session_expires(client, login, inspector, db_session):
    login(inspector)
    db_session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert client.get("/").status_code == 302


def test_expired_and_revoked_tokens_are_refused(api, inspector, db_session):
    api.as_user(inspector)
    db_session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    api.as_user(inspector)
    assert api.delete("/api/v1/tokens/current").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_session_api_calls_need_the_csrf_header(client, login, inspector):
    login(inspector)
    assert client.get("/api/v1/me").status_code == 200  # safe methods need none
    response = client.delete("/api/v1/tokens/current")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"


def test_form_without_csrf_token_is_refused(client, inspector):
    response = client.post("/login", data={"email": inspector.email, "password": PASSWORD})
    assert response.status_code in (400, 422)
    assert client.get("/").status_code == 302


def test_bad_json_and_wrong_content_type_are_400(client):
    response = client.post("/api/v1/tokens", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    response = client.post("/api/v1/tokens", data="email=a", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_token_validation_errors_name_the_field(client):
    response = client.post("/api/v1/tokens", json={"password": "x"})
    assert response.status_code == 422
    assert "email" in response.get_json()["error"]["fields"]


def test_failed_logins_are_throttled_and_audited(client, inspector, db_session):
    for _ in range(5):
        response = client.post("/api/v1/tokens", json={"email": inspector.email, "password": "fel lösenord"})
        assert response.status_code == 401
    response = client.post("/api/v1/tokens", json={"email": inspector.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "rate_limited"
    failures = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login_failed")).all()
    assert len(failures) == 5


def test_unknown_user_and_disabled_account(client, make_user):
    response = client.post("/api/v1/tokens", json={"email": "ingen@example.se", "password": PASSWORD})
    assert response.status_code == 401
    disabled = make_user("inspector", active=False)
    response = client.post("/api/v1/tokens", json={"email": disabled.email, "password": PASSWORD})
    assert response.status_code == 401


def test_second_factor(client, make_user):
    secret = pyotp.random_base32()
    user = make_user("manager", otp_secret=secret)
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "otp_required"
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD, "otp": "000000"})
    assert response.status_code == 401
    response = client.post(
        "/api/v1/tokens", json={"email": user.email, "password": PASSWORD, "otp": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 201


def test_login_is_audited(client, login, inspector, db_session):
    login(inspector)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).one()
    assert entry.user_id == inspector.id
    assert entry.details == {"via": "web"}


def test_users_list_shows_own_kommun_and_police_only(api, inspector, police, make_user, other_kommun):
    stranger = make_user("inspector", org=other_kommun)
    api.as_user(inspector)
    body = api.get("/api/v1/users").get_json()
    ids = {u["id"] for u in body["items"]}
    assert inspector.id in ids
    assert police.id in ids
    assert stranger.id not in ids
    assert api.get("/api/v1/users?per_page=0").status_code == 422
    police_api = type(api)().as_user(police)
    assert police_api.get("/api/v1/users").status_code == 403


def test_error_order_bad_json_before_unauthorized_and_forbidden(client, api, police):
    # API.md: 400 comes before 401, and before a role's 403.
    response = client.post("/api/v1/venues", data="{", content_type="application/json")
    assert response.status_code == 400
    api.as_user(police)
    response = api.post("/api/v1/venues", data="{", content_type="application/json")
    assert response.status_code == 400
    response = api.post("/api/v1/venues", json={"name": "x"})
    assert response.status_code == 403


def test_absolute_session_lifetime(client, login, inspector, db_session):
    login(inspector)
    db_session.execute(update(UserSession).values(created_at=utcnow() - timedelta(hours=13), last_seen_at=utcnow()))
    assert client.get("/").status_code == 302


def test_sign_in_gives_a_new_session_id(app, client, inspector):
    before = csrf_token(client)  # an anonymous session with a CSRF token
    old_cookie = client.get_cookie("session").value
    client.post("/login", data={"email": inspector.email, "password": PASSWORD, "csrf_token": before})
    assert client.get_cookie("session").value != old_cookie
    # The anonymous cookie an attacker may have planted does not become a signed-in session.
    planted = app.test_client()
    planted.set_cookie("session", old_cookie, domain="localhost")
    assert planted.get("/").status_code == 302


def test_failures_from_one_address_are_throttled_across_accounts(client, make_user, app):
    users = [make_user("inspector") for _ in range(8)]
    statuses = []
    for n in range(31):
        user = users[n % len(users)]
        response = client.post("/api/v1/tokens", json={"email": user.email, "password": "fel"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429  # the address is throttled, though no account reached its own limit
    assert statuses.count(401) == 30
