from tests.conftest import PASSWORD, csrf_token


def test_login_page_renders_in_swedish(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Logga in" in response.get_data(as_text=True)


def test_login_and_logout(client, inspector):
    response = client.post(
        "/login", data={"email": inspector.email, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    assert "Hej Anna" in client.get("/").get_data(as_text=True)
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_a_clear_swedish_message(client, inspector):
    response = client.post(
        "/login", data={"email": inspector.email, "password": "fel", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 401
    assert "Fel e-postadress eller lösenord" in response.get_data(as_text=True)


def test_token_and_me(api, inspector):
    api.as_user(inspector)
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["email"] == inspector.email
    assert body["organisation"]["kind"] == "kommun"
    assert body["calendar_url"].startswith("http://localhost/tillsyn/kalender/")
