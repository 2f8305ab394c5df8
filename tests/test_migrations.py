"""The Alembic migrations make exactly the schema the models describe (SecureDrop's test_alembic)."""

from __future__ import annotations

import os
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from inspection import create_app
from inspection.config import database_url
from inspection.extensions import db


def _targets(tmp_path):
    yield f"sqlite:///{tmp_path / 'migrations.db'}", None
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        yield database_url(url), f"mig_{uuid.uuid4().hex[:8]}"


def test_migrations_match_models_and_downgrade(tmp_path):
    for url, schema in _targets(tmp_path):
        options = {}
        if schema:
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options, "TESTING": True})
        try:
            with app.app_context():
                upgrade()
                with db.engine.connect() as conn:
                    diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
                assert diff == [], f"models and migrations differ on {url.split(':')[0]}: {diff}"
                downgrade(revision="base")
                with db.engine.connect() as conn:
                    tables = db.inspect(conn).get_table_names()
                assert set(tables) <= {"alembic_version"}
                db.engine.dispose()
        finally:
            if schema:
                admin = create_engine(url)
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
