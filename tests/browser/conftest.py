"""Browser tests in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for
Python; no browser download). They run against a live server of their own: the app in a thread on
127.0.0.1 with a random port and a file-based SQLite database made with db.create_all().

Run them with `.venv/bin/python -m pytest tests/browser -m browser`. Without Chromium or Playwright
they are skipped with a message saying what to install.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # Debian's package
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "rätt-häst-batteri-häftklammer"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run browser tests"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing: .venv/bin/pip install playwright==1.65.2 (it uses /usr/bin/chromium)"
    return None


@pytest.fixture(scope="session")
def live_server():
    """The app served on 127.0.0.1:<random port>, with a database of its own and two users in it."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from werkzeug.serving import make_server

    from inspection import create_app
    from inspection.auth.models import Organisation, User
    from inspection.auth.passwords import hash_password
    from inspection.extensions import db
    from inspection.venues.models import Venue

    tmp = Path(tempfile.mkdtemp(prefix="krogtillsyn-browser-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'browser.db'}",
            "SECRET_KEY": "browser-test-secret",
            "UPLOAD_FOLDER": str(tmp / "uploads"),
            "LOGIN_MAX_FAILURES": 1000,
        }
    )
    with app.app_context():
        db.create_all()
        kommun = Organisation(name="Östersunds kommun", kind="kommun")
        police = Organisation(name="Polisområde Jämtland", kind="polis")
        hashed = hash_password(PASSWORD)
        inspector = User(
            email="anna@example.se", name="Anna Inspektör", role="inspector", organisation=kommun, password_hash=hashed
        )
        officer = User(
            email="peter@example.se", name="Peter Polis", role="police", organisation=police, password_hash=hashed
        )
        venue = Venue(
            kommun=kommun,
            name="Källaren Bar",
            address="Storgatan 1",
            permit_holder="Källaren AB",
            org_number="556016-0680",
            permit_number="T-1",
            permit_scope="allmanheten",
            permit_kind="stadigvarande",
            serving_hours="11:00-03:00",
            max_guests=120,
            risk_class=2,
        )
        db.session.add_all([kommun, police, inspector, officer, venue])
        db.session.commit()
        ids = {"inspector": inspector.id, "police": officer.id, "venue": venue.id, "kommun": kommun.id}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Live:
        url = f"http://127.0.0.1:{server.server_port}"

        def __init__(self):
            self.app = app
            self.ids = ids

        def make_inspection(self):
            """A joint visit going on now, both users taking part (accepted)."""
            from inspection.inspections.models import Inspection, InspectionParticipant
            from inspection.types import utcnow

            with app.app_context():
                now = utcnow()
                inspection = Inspection(
                    kommun_id=ids["kommun"],
                    venue_id=ids["venue"],
                    kind="samordnad",
                    planned_start=now - timedelta(hours=1),
                    planned_end=now + timedelta(hours=2),
                    status="planned",
                )
                for key in ("inspector", "police"):
                    user = db.session.get(User, ids[key])
                    inspection.participants.append(
                        InspectionParticipant(user=user, organisation_id=user.organisation_id, response="accepted")
                    )
                db.session.add(inspection)
                db.session.commit()
                return inspection.id

        def read(self, fn):
            with app.app_context():
                try:
                    return fn(db.session)
                finally:
                    db.session.remove()

    yield Live()
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_tablet(browser, live_server):
    """A fresh browser context (one tablet), signed in as the given user."""
    contexts = []

    def make(email: str):
        context = browser.new_context(
            base_url=live_server.url,
            timezone_id="Europe/Stockholm",
            locale="sv-SE",
            viewport={"width": 768, "height": 1024},
            service_workers="allow",
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return context, page

    yield make
    for context in contexts:
        context.close()
