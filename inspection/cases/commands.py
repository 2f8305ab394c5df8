"""Command-line commands of this area; `register(app)` is called by cli.py."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import click
from flask import Flask, current_app

SUBJECT = "Krogtillsyn: påminnelser"


def compose(sender: str, to: str, lines: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = SUBJECT
    message.set_content(
        "Hej!\n\nDetta väntar på dig i Krogtillsyn:\n\n"
        + "\n".join(f"- {line}" for line in lines)
        + "\n\nDetta är ett automatiskt meddelande.\n"
    )
    return message


def send_messages(config, messages: dict[str, list[str]]) -> int:
    """Send one e-mail per recipient over one SMTP connection; answers how many were sent."""
    if not messages:
        return 0
    with smtplib.SMTP(config["SMTP_HOST"], config.get("SMTP_PORT", 587), timeout=30) as smtp:
        if config.get("SMTP_STARTTLS", True):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
        for to, lines in sorted(messages.items()):
            smtp.send_message(compose(config.get("SMTP_FROM", "krogtillsyn@localhost"), to, lines))
    return len(messages)


def register(app: Flask) -> None:
    """Add this area's commands to `flask --app inspection`."""

    @app.cli.command("send-reminders")
    def send_reminders():
        """E-mail reminders of overdue case steps and unanswered invitations (for cron)."""
        from .services import reminders

        config = current_app.config
        if not config.get("SMTP_HOST"):
            click.echo("SMTP inte konfigurerat")
            return
        messages = reminders()
        sent = send_messages(config, messages)
        click.echo(f"Skickade {sent} påminnelser.")
