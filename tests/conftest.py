"""Test fixtures: an app on SQLite (default) or TEST_DATABASE_URL, each test in a transaction that is
rolled back, factories for the main objects, sign-in helpers and a query counter.

The schema is made from the models; tests/test_migrations.py checks the migrations against them.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, text

from inspection import create_app
from inspection.auth.models import Organisation, User
from inspection.auth.passwords import hash_password
from inspection.config import database_url
from inspection.extensions import db

PASSWORD = "rätt-häst-batteri-häftklammer"
_HASH = hash_password(PASSWORD)  # hashing once keeps the suite fast


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, `g` and session.

    (Otherwise Flask reuses the test's app context, and `g` — with Flask-Login's cached user — would
    leak from one request to the next.)"""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


class BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks its engine itself and would ignore `bind`; the tests bind it to
    the connection whose transaction they roll back."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


def _database_url(tmp: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp / 'test.db'}"


def reset_database(app, migrate: bool = False) -> None:
    """Drop everything and create the schema from the models (tests/test_migrations.py proves that
    the migrations make the same schema)."""
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            else:
                db.metadata.drop_all(conn)
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        if migrate:
            upgrade()
        else:
            db.create_all()


@pytest.fixture(scope="session")
def _tmp_root():
    with tempfile.TemporaryDirectory(prefix="krogtillsyn-test-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def app(_tmp_root):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url(_database_url(_tmp_root)),
            "SECRET_KEY": "test-secret",
            "UPLOAD_FOLDER": str(_tmp_root / "uploads"),
        }
    )
    app.test_client_class = IsolatedClient
    reset_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """Every test runs inside a transaction that is rolled back at the end (services' commits become
    savepoints)."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": BoundSession}
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def make_org(db_session):
    def make(name: str | None = None, kind: str = "kommun") -> Organisation:
        org = Organisation(
            name=name or f"{'Kommun' if kind == 'kommun' else 'Polis'} {uuid.uuid4().hex[:8]}", kind=kind
        )
        db_session.add(org)
        db_session.flush()
        return org

    return make


@pytest.fixture
def kommun(make_org):
    return make_org("Östersunds kommun", "kommun")


@pytest.fixture
def other_kommun(make_org):
    return make_org("Krokoms kommun", "kommun")


@pytest.fixture
def police_org(make_org):
    return make_org("Polisområde Jämtland", "polis")


@pytest.fixture
def make_user(db_session, kommun, police_org):
    def make(role: str = "inspector", org: Organisation | None = None, name: str | None = None, **kwargs) -> User:
        if org is None:
            org = police_org if role == "police" else kommun
        suffix = uuid.uuid4().hex[:8]
        user = User(
            email=kwargs.pop("email", f"{role}-{suffix}@example.se"),
            name=name or f"{role.title()} {suffix}",
            role=role,
            organisation=org,
            password_hash=_HASH,
            **kwargs,
        )
        db_session.add(user)
        db_session.flush()
        return user

    return make


@pytest.fixture
def inspector(make_user):
    return make_user("inspector", name="Anna Inspektör")


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Maria Chef")


@pytest.fixture
def police(make_user):
    return make_user("police", name="Peter Polis")


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def login(client):
    """Sign a user in through the login page (a real session)."""

    def do(user: User, password: str = PASSWORD):
        response = client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": csrf_token(client)}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return do


def csrf_token(client) -> str:
    """A CSRF token for the client's session, as a page would carry it."""
    response = client.get("/login", follow_redirects=True)  # signed in: lands on the start page
    html = response.get_data(as_text=True)
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def api(client):
    """An API caller with a bearer token: api.as_user(user) then api.get/post/patch/delete(path, json=...)."""

    class Api:
        def __init__(self):
            self.token: str | None = None

        def as_user(self, user: User, password: str = PASSWORD):
            response = client.post("/api/v1/tokens", json={"email": user.email, "password": password})
            assert response.status_code == 201, response.get_json()
            self.token = response.get_json()["token"]
            return self

        def _headers(self, headers):
            out = dict(headers or {})
            if self.token:
                out.setdefault("Authorization", f"Bearer {self.token}")
            return out

        def get(self, path, headers=None, **kw):
            return client.get(path, headers=self._headers(headers), **kw)

        def post(self, path, headers=None, **kw):
            return client.post(path, headers=self._headers(headers), **kw)

        def patch(self, path, headers=None, **kw):
            return client.patch(path, headers=self._headers(headers), **kw)

        def delete(self, path, headers=None, **kw):
            return client.delete(path, headers=self._headers(headers), **kw)

        def open(self, path, method="GET", headers=None, **kw):
            return client.open(path, method=method, headers=self._headers(headers), **kw)

    return Api()


@pytest.fixture
def query_counter(app, db_session):
    """with query_counter() as counted: ...; counted.count is the number of SQL statements."""

    @contextlib.contextmanager
    def count():
        class Counted:
            count = 0
            statements: list[str] = []

        counted = Counted()
        counted.statements = []
        engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                counted.count += 1
                counted.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return count


@pytest.fixture
def make_venue(db_session, kommun):
    from inspection.venues.models import Venue

    counter = {"n": 0}

    def make(org: Organisation | None = None, **kwargs) -> Venue:
        counter["n"] += 1
        n = counter["n"]
        values = {
            "name": f"Restaurang {n}",
            "address": f"Storgatan {n}",
            "permit_holder": f"Krog {n} AB",
            "org_number": "556016-0680",
            "permit_number": f"T-{uuid.uuid4().hex[:8]}",
            "permit_scope": "allmanheten",
            "permit_kind": "stadigvarande",
            "serving_hours": "11:00-01:00",
            "max_guests": 120,
            "risk_class": 2,
        }
        values.update(kwargs)
        venue = Venue(kommun=org or kommun, **values)
        db_session.add(venue)
        db_session.flush()
        return venue

    return make


def stockholm(year, month, day, hour=0, minute=0) -> datetime:
    from inspection.types import STOCKHOLM

    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.fixture
def make_inspection(db_session, kommun, make_venue):
    """An inspection planned tonight 21:00–23:00 Stockholm, with the given participants (kommun staff
    accepted, police invited unless `response` says otherwise)."""
    from inspection.inspections.models import Inspection, InspectionParticipant

    def make(
        venue=None,
        participants=(),
        kind="samordnad",
        start: datetime | None = None,
        hours: float = 2,
        police_response="accepted",
        **kwargs,
    ) -> Inspection:
        venue = venue or make_venue()
        start = start or stockholm(*date.today().timetuple()[:3], 21)
        inspection = Inspection(
            kommun_id=venue.kommun_id,
            venue=venue,
            kind=kind,
            planned_start=start.astimezone(UTC),
            planned_end=(start + timedelta(hours=hours)).astimezone(UTC),
            status=kwargs.pop("status", "planned"),
            **kwargs,
        )
        for user in participants:
            inspection.participants.append(
                InspectionParticipant(
                    user=user,
                    organisation_id=user.organisation_id,
                    response=police_response if user.role == "police" else "accepted",
                )
            )
        db_session.add(inspection)
        db_session.flush()
        return inspection

    return make
