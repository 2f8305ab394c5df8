"""Operations commands: backup and restore, the retention rules, and a person's data export (GDPR).

`backup --to PATH` writes a folder: the database (SQLite: a consistent copy through SQLite's online
backup API, safe while the app runs; PostgreSQL: `pg_dump -Fc`), the uploaded files, and a manifest.
`restore --from PATH` puts both back (stop the app first).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.engine import make_url

from . import audit
from .extensions import db
from .files import remove_file_after_commit
from .types import utcnow

PSEUDONYM = "[pseudonymiserad]"


def _sqlite_path(url) -> Path:
    return Path(url.database)


def _pg_env(url) -> tuple[list[str], dict]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin"}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def backup(target: Path) -> dict:
    """Copy the database and the uploads to `target` (a new folder). Returns the manifest."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target.mkdir(parents=True, exist_ok=False)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target / "database.sqlite3")
        with dest:
            source.backup(dest)  # consistent even while other processes write
        dest.close()
        source.close()
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if not pg_dump:
            raise click.ClickException(
                "pg_dump finns inte på den här datorn. Installera PostgreSQL-klienten (postgresql-client)."
            )
        args, env = _pg_env(url)
        subprocess.run(  # noqa: S603 - fixed argument list
            [pg_dump, *args, "-Fc", "-f", str(target / "database.dump"), url.database], check=True, env=env
        )
        kind = "postgresql"
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise click.ClickException(f"Säkerhetskopiering stöds inte för {url.get_backend_name()}.")
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.exists():
        shutil.copytree(uploads, target / "uploads")
    else:
        (target / "uploads").mkdir()
    manifest = {
        "created_at": utcnow().isoformat(),
        "database": kind,
        "files": sum(1 for _ in (target / "uploads").rglob("*")),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def restore(source: Path) -> dict:
    """Put a backup made by `backup` back in place of the current database and uploads."""
    manifest_file = source / "manifest.json"
    if not manifest_file.exists():
        raise click.ClickException(f"{source} är ingen säkerhetskopia (manifest.json saknas).")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["database"] != ("sqlite" if url.get_backend_name() == "sqlite" else "postgresql"):
        raise click.ClickException("Säkerhetskopian är från en annan sorts databas än den som är inställd.")
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "sqlite":
        src = sqlite3.connect(source / "database.sqlite3")
        dest = sqlite3.connect(_sqlite_path(url))
        with dest:
            src.backup(dest)
        src.close()
        dest.close()
    else:
        pg_restore = shutil.which("pg_restore")
        if not pg_restore:
            raise click.ClickException("pg_restore finns inte på den här datorn. Installera PostgreSQL-klienten.")
        args, env = _pg_env(url)
        subprocess.run(  # noqa: S603 - fixed argument list
            [
                pg_restore,
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "-d",
                url.database,
                str(source / "database.dump"),
            ],
            check=True,
            env=env,
        )
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    if uploads.exists():
        shutil.rmtree(uploads)
    shutil.copytree(source / "uploads", uploads)
    return manifest


def apply_retention(today: date, *, protocol_years: int, pseudonymise_years: int) -> dict:
    """Apply the kommun's archive rules.

    - Observations and protocol free text older than `pseudonymise_years` lose what may identify a
      person (descriptions, contact person, responsible server's name; training participants' names).
      The counts, categories and levels stay, so statistics do not change.
    - Inspections older than `protocol_years` that no case refers to are deleted with their
      observations, photos and signatures (the archive has the signed PDF by then).
    """
    from .cases.models import case_inspection
    from .inspections.models import Inspection, Observation, Photo, ProtocolPresence
    from .inspections.photos import photo_path
    from .trainings.models import Training, TrainingParticipant

    cut_pseudo = utcnow() - timedelta(days=365 * pseudonymise_years)
    cut_delete = utcnow() - timedelta(days=365 * protocol_years)
    counts = {
        "observations_pseudonymised": 0,
        "inspections_pseudonymised": 0,
        "participants_pseudonymised": 0,
        "inspections_deleted": 0,
    }

    old = select(Inspection.id).where(Inspection.planned_start < cut_pseudo)
    for obs in db.session.scalars(
        select(Observation).where(Observation.inspection_id.in_(old), Observation.description != PSEUDONYM)
    ):
        obs.description = PSEUDONYM
        if obs.retracted_reason:
            obs.retracted_reason = PSEUDONYM
        counts["observations_pseudonymised"] += 1
    for insp in db.session.scalars(
        select(Inspection).where(
            Inspection.planned_start < cut_pseudo,
            or_(Inspection.contact_person.is_not(None), Inspection.responsible_server_name.is_not(None)),
        )
    ):
        insp.contact_person = None
        insp.responsible_server_name = None
        counts["inspections_pseudonymised"] += 1
    old_trainings = select(Training.id).where(Training.ends_on < cut_pseudo.date())
    for n, participant in enumerate(
        db.session.scalars(
            select(TrainingParticipant).where(
                TrainingParticipant.training_id.in_(old_trainings), ~TrainingParticipant.name.like("Deltagare %")
            )
        ),
        start=1,
    ):
        participant.name = f"Deltagare {participant.id}"
        counts["participants_pseudonymised"] = n

    in_case = select(case_inspection.c.inspection_id)
    doomed = db.session.scalars(
        select(Inspection).where(Inspection.planned_start < cut_delete, Inspection.id.not_in(in_case))
    ).all()
    for insp in doomed:
        for photo in db.session.scalars(select(Photo).where(Photo.inspection_id == insp.id)):
            # Photos live in UPLOAD_FOLDER/photos (this looked in UPLOAD_FOLDER itself and removed
            # nothing); the file goes when the deletion is committed, not before.
            remove_file_after_commit(photo_path(photo))
        db.session.delete(insp)
        counts["inspections_deleted"] += 1
    # Who had a protocol open is of no use after a day (protocol pages say so every 30 seconds).
    counts["presence_removed"] = (
        db.session.execute(delete(ProtocolPresence).where(ProtocolPresence.last_seen_at < utcnow() - timedelta(days=1)))
    ).rowcount or 0
    db.session.flush()
    audit.record("retention.apply", details={"today": today, **counts})
    return counts


def person_export(name: str) -> dict:
    """Everything stored about a named person (GDPR art. 15 access request), for the kommun to review."""
    from .auth.models import User
    from .inspections.models import Inspection, Observation
    from .trainings.models import TrainingParticipant
    from .venues.models import ResponsibleServer

    needle = name.strip()
    if len(needle) < 3:
        raise click.ClickException("Ange minst tre tecken av namnet.")
    like = f"%{needle}%"
    out: dict[str, list] = {
        "accounts": [],
        "responsible_servers": [],
        "training_participants": [],
        "inspections": [],
        "observations": [],
    }
    for u in db.session.scalars(select(User).where(or_(User.name.ilike(like), User.email.ilike(like)))):
        out["accounts"].append(
            {
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "role": u.role,
                "organisation": u.organisation.name,
                "active": u.active,
            }
        )
    for s in db.session.scalars(select(ResponsibleServer).where(ResponsibleServer.name.ilike(like))):
        out["responsible_servers"].append(
            {
                "venue": s.venue.name,
                "name": s.name,
                "birth_year": s.birth_year,
                "notified_on": s.notified_on.isoformat() if s.notified_on else None,
            }
        )
    for p in db.session.scalars(select(TrainingParticipant).where(TrainingParticipant.name.ilike(like))):
        out["training_participants"].append(
            {
                "training": p.training.title,
                "starts_on": p.training.starts_on.isoformat(),
                "name": p.name,
                "role": p.role,
                "passed": p.passed,
            }
        )
    for i in db.session.scalars(
        select(Inspection).where(
            or_(Inspection.contact_person.ilike(like), Inspection.responsible_server_name.ilike(like))
        )
    ):
        out["inspections"].append(
            {
                "id": i.id,
                "venue": i.venue.name,
                "date": i.planned_start.date().isoformat(),
                "contact_person": i.contact_person,
                "responsible_server_name": i.responsible_server_name,
            }
        )
    for o in db.session.scalars(select(Observation).where(Observation.description.ilike(like))):
        out["observations"].append(
            {
                "id": o.id,
                "inspection_id": o.inspection_id,
                "observed_at": o.observed_at.isoformat(),
                "description": o.description,
            }
        )
    audit.record("gdpr.person_export", details={"query": needle, "hits": {k: len(v) for k, v in out.items()}})
    return out


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("--to", "target", required=True, type=click.Path(file_okay=False, path_type=Path))
    def backup_command(target: Path):
        """A consistent copy of the database and the uploaded files, safe while the app runs."""
        manifest = backup(target)
        click.echo(f"Säkerhetskopia skriven till {target} ({manifest['database']}, {manifest['files']} filer).")

    @app.cli.command("restore")
    @click.option("--from", "source", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
    def restore_command(source: Path):
        """Restore a backup (stop the app first)."""
        manifest = restore(source)
        click.echo(f"Återställd från {source} (skapad {manifest['created_at']}).")

    @app.cli.command("apply-retention")
    def apply_retention_command():
        """Pseudonymise and delete what the retention settings say (run nightly from cron)."""
        counts = apply_retention(
            date.today(),
            protocol_years=current_app.config["RETENTION_PROTOCOL_YEARS"],
            pseudonymise_years=current_app.config["RETENTION_PSEUDONYMISE_YEARS"],
        )
        db.session.commit()
        click.echo(json.dumps(counts, ensure_ascii=False))

    @app.cli.command("export-person")
    @click.option("--name", required=True)
    def export_person_command(name: str):
        """Print, as JSON, everything stored about a named person (GDPR access request)."""
        data = person_export(name)
        db.session.commit()
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
