"""Command line: `flask --app inspection ...` (API.md "Command line"). `db upgrade` comes from Flask-Migrate."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from .errors import ServiceError
from .extensions import db


def _fail(err: ServiceError) -> None:
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in (err.fields or {}).items())
    raise click.ClickException(f"{err.message} {details}".strip())


def register_cli(app: Flask) -> None:
    from . import maintenance, synthetic
    from .cases import commands as case_commands

    maintenance.register(app)  # backup, restore, retention, person export
    synthetic.register(app)  # seed-synthetic
    case_commands.register(app)  # send-reminders

    @app.cli.command("create-org")
    @click.option("--name", required=True)
    @click.option("--kind", required=True, type=click.Choice(["kommun", "polis"]))
    def create_org(name: str, kind: str):
        """Create an organisation (a kommun or a police area)."""
        from .auth.services import create_organisation

        try:
            org = create_organisation(name, kind)
        except ServiceError as err:
            _fail(err)
        db.session.commit()
        click.echo(f"Skapade {org.kind} {org.name} (id {org.id}).")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--org", "org_name", required=True, help="the organisation's name")
    @click.option("--role", required=True, type=click.Choice(["inspector", "manager", "police", "admin"]))
    @click.option("--password", default=None, help="prompted for when not given")
    def create_user(email: str, name: str, org_name: str, role: str, password: str | None):
        """Create a user account."""
        from .auth.models import Organisation
        from .auth.services import create_user as create

        # Organisations are few; compare in Python because SQLite's lower() knows only ASCII (Å, Ö).
        wanted = org_name.strip().casefold()
        org = next((o for o in db.session.scalars(select(Organisation)) if o.name.casefold() == wanted), None)
        if org is None:
            raise click.ClickException(f"Ingen organisation heter {org_name!r}.")
        if password is None:
            password = click.prompt("Lösenord", hide_input=True, confirmation_prompt=True)
        try:
            user = create(email=email, name=name, organisation=org, role=role, password=password)
        except ServiceError as err:
            _fail(err)
        db.session.commit()
        click.echo(f"Skapade {user.email} ({user.role}, {org.name}).")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="do nothing when the database already has users")
    @click.option(
        "--logins-file", type=click.Path(dir_okay=False), help="also write the logins to this file (mode 600)"
    )
    def seed_demo(if_empty: bool, logins_file: str | None):
        """Load a realistic demo: two kommuner, a police area, users of every role, venues, history."""
        from .auth.models import User
        from .demo import seed

        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("Databasen har redan data; demo laddas inte igen.")
            return
        logins = seed()
        db.session.commit()
        lines = [f"  {role:<10} {email:<36} {password}" for email, role, password in logins]
        click.echo("Demo inläst. Inloggningar:")
        click.echo("\n".join(lines))
        if logins_file:
            path = Path(logins_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            path.chmod(0o600)
