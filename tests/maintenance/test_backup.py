"""backup --to / restore --from: a consistent copy of the database and the uploads, and a tested restore."""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from inspection import create_app
from inspection.auth.models import Organisation
from inspection.config import database_url
from inspection.extensions import db


def _targets(tmp_path):
    yield f"sqlite:///{tmp_path / 'live.db'}", None
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        yield database_url(url), f"kt_backup_{uuid.uuid4().hex[:8]}"


def _with_database(url: str, name: str | None) -> str:
    if name is None:
        return url
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_database(url: str, name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_while_writing_then_restore(tmp_path):
    for base_url, name in _targets(tmp_path):
        url = _with_database(base_url, name)
        uploads = tmp_path / f"uploads-{name or 'sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_FOLDER": str(uploads), "TESTING": True})
        try:
            with app.app_context():
                db.create_all()
                db.session.add(Organisation(name="Före kommun", kind="kommun"))
                db.session.commit()
            (uploads / "photo-1.jpg").write_bytes(b"\xff\xd8 a photo")

            # Another thread keeps writing while the backup runs: the copy must still be consistent.
            stop = threading.Event()

            def writer(stop=stop, app=app):
                n = 0
                while not stop.is_set() and n < 200:
                    with app.app_context():
                        db.session.add(Organisation(name=f"Under {uuid.uuid4().hex}", kind="kommun"))
                        db.session.commit()
                    n += 1

            thread = threading.Thread(target=writer)
            thread.start()
            runner = app.test_cli_runner()
            target = tmp_path / f"backup-{name or 'sqlite'}"
            result = runner.invoke(args=["backup", "--to", str(target)])
            stop.set()
            thread.join()
            assert result.exit_code == 0, result.output
            manifest = json.loads((target / "manifest.json").read_text())
            assert manifest["files"] == 1

            # Disaster: data and files are lost.
            with app.app_context():
                db.session.execute(text("DELETE FROM organisation"))
                db.session.commit()
            (uploads / "photo-1.jpg").unlink()

            result = runner.invoke(args=["restore", "--from", str(target)])
            assert result.exit_code == 0, result.output
            with app.app_context():
                names = set(db.session.scalars(select(Organisation.name)))
                assert "Före kommun" in names
                assert db.session.scalar(select(func.count()).select_from(Organisation)) >= 1
                db.session.remove()
                db.engine.dispose()
            assert (uploads / "photo-1.jpg").read_bytes() == b"\xff\xd8 a photo"
        finally:
            with app.app_context():
                db.engine.dispose()
            _drop_database(base_url, name)


def test_restore_refuses_a_folder_that_is_not_a_backup(app, tmp_path):
    (tmp_path / "nothing").mkdir()
    result = app.test_cli_runner().invoke(args=["restore", "--from", str(tmp_path / "nothing")])
    assert result.exit_code != 0
    assert "manifest.json" in result.output


@pytest.mark.parametrize("existing", [True])
def test_backup_refuses_to_overwrite(app, tmp_path, existing):
    (tmp_path / "old").mkdir()
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "old")])
    assert result.exit_code != 0
