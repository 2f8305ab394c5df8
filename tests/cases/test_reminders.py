"""`flask send-reminders`: overdue case steps and unanswered invitations, by e-mail (a fake SMTP)."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import DAY0


class FakeSMTP:
    """Stands in for smtplib.SMTP and keeps what would have been sent."""

    instances: list[FakeSMTP] = []

    def __init__(self, host, port=0, timeout=None):
        self.host, self.port = host, port
        self.sent = []
        self.tls = False
        self.login_as = None
        FakeSMTP.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.tls = True

    def login(self, user, password):
        self.login_as = user

    def send_message(self, message):
        self.sent.append(message)


@pytest.fixture
def fake_smtp(monkeypatch, app):
    FakeSMTP.instances = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.se")
    monkeypatch.setitem(app.config, "SMTP_USER", "robot")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://tillsyn.example.se")
    return FakeSMTP


def test_without_smtp_it_says_so_and_succeeds(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0
    assert "SMTP inte konfigurerat" in result.output


def test_reminders_of_overdue_steps_and_invitations(
    app, fake_smtp, today, venue, open_case, step, inspector, manager, police, make_user, make_inspection
):
    cid = open_case(venue)["id"]
    step(cid, inspector, "proposal", DAY0, sanction="erinran")
    step(cid, inspector, "kommunicering", DAY0)  # deadline DAY0 + 14, long passed on DAY0 + 60
    bystander = make_user("inspector")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    make_inspection(venue=venue, participants=[inspector, police], start=tomorrow, police_response="invited")

    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Skickade 3 påminnelser" in result.output
    (smtp,) = fake_smtp.instances
    assert smtp.host == "smtp.example.se"
    assert smtp.tls
    assert smtp.login_as == "robot"
    by_to = {m["To"]: m.get_content() for m in smtp.sent}
    assert set(by_to) == {manager.email, inspector.email, police.email}
    assert bystander.email not in by_to
    assert f"https://tillsyn.example.se/arenden/{cid}" in by_to[manager.email]
    assert "beslut" in by_to[inspector.email]
    assert "Inbjudan att svara på" in by_to[police.email]
    assert all(m["Subject"] == "Krogtillsyn: påminnelser" for m in smtp.sent)


def test_nothing_overdue_sends_nothing(app, fake_smtp, today, venue, open_case):
    open_case(venue)  # just opened: a proposal is due in a month
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0
    assert "Skickade 0 påminnelser" in result.output
    assert fake_smtp.instances == []
