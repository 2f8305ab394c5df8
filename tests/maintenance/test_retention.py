"""Retention rules and the GDPR access export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inspection.inspections.models import Inspection, Observation
from inspection.maintenance import PSEUDONYM


def _observation(inspection, author, text, when):
    return Observation(
        inspection=inspection,
        client_id=f"00000000-0000-4000-8000-{abs(hash(text)) % 10**12:012d}",
        observed_at=when,
        category="berusning",
        description=text,
        author=author,
    )


def test_retention_pseudonymises_old_text_and_deletes_very_old_protocols(app, db_session, inspector, make_inspection):
    now = datetime.now(UTC)
    recent = make_inspection(
        participants=[inspector], start=now - timedelta(days=30), status="signed", contact_person="Kim Karlsson"
    )
    old = make_inspection(
        participants=[inspector],
        start=now - timedelta(days=365 * 4),
        status="signed",
        contact_person="Lo Larsson",
        responsible_server_name="Ulf Ulfsson",
    )
    ancient = make_inspection(participants=[inspector], start=now - timedelta(days=365 * 11), status="signed")
    db_session.add_all(
        [
            _observation(recent, inspector, "Man ca 30 år, Kim, sluddrar", recent.planned_start),
            _observation(old, inspector, "Lo Larssons bror vinglar", old.planned_start),
            _observation(ancient, inspector, "Gammal iakttagelse", ancient.planned_start),
        ]
    )
    db_session.flush()
    ancient_id = ancient.id

    result = app.test_cli_runner().invoke(args=["apply-retention"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["inspections_deleted"] == 1
    db_session.expire_all()
    assert db_session.get(Inspection, ancient_id) is None
    texts = {o.inspection_id: o.description for o in db_session.scalars(select(Observation))}
    assert texts[recent.id] == "Man ca 30 år, Kim, sluddrar"
    assert texts[old.id] == PSEUDONYM
    old = db_session.get(Inspection, old.id)
    assert old.contact_person is None
    assert old.responsible_server_name is None
    assert db_session.get(Inspection, recent.id).contact_person == "Kim Karlsson"
    # Statistics survive: the category is still there.
    assert (
        db_session.scalars(select(Observation.category).where(Observation.inspection_id == old.id)).one() == "berusning"
    )


def test_person_export_finds_everything_about_a_name(app, db_session, inspector, make_venue, make_inspection):
    from inspection.venues.models import ResponsibleServer

    venue = make_venue()
    venue.responsible_servers.append(ResponsibleServer(name="Łukasz Żółć", birth_year=1990))
    inspection = make_inspection(venue=venue, participants=[inspector], contact_person="Łukasz Żółć")
    db_session.add(_observation(inspection, inspector, "Łukasz Żółć nekar servering", inspection.planned_start))
    db_session.flush()
    result = app.test_cli_runner().invoke(args=["export-person", "--name", "Łukasz Żółć"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["responsible_servers"][0]["venue"] == venue.name
    assert data["inspections"][0]["contact_person"] == "Łukasz Żółć"
    assert "nekar servering" in data["observations"][0]["description"]
    short = app.test_cli_runner().invoke(args=["export-person", "--name", "Ł"])
    assert short.exit_code != 0


def test_retention_removes_the_photos_of_deleted_protocols_once_committed(app, db_session, inspector, make_inspection):
    """A deleted protocol's photos leave the disk with it (they live in UPLOAD_FOLDER/photos), and
    only when the deletion is committed: a rolled-back run keeps rows and files together."""
    from pathlib import Path

    from inspection.inspections.models import Photo

    ancient = make_inspection(
        participants=[inspector], start=datetime.now(UTC) - timedelta(days=365 * 11), status="signed"
    )
    folder = Path(app.config["UPLOAD_FOLDER"]) / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    stored = "0123456789abcdef0123456789abcdef.png"
    (folder / stored).write_bytes(b"\x89PNG\r\n\x1a\nbild")
    db_session.add(
        Photo(
            inspection=ancient,
            client_id="00000000-0000-4000-8000-000000000001",
            stored_name=stored,
            content_type="image/png",
            width=1,
            height=1,
            size=12,
            uploaded_by_id=inspector.id,
        )
    )
    db_session.commit()  # (a savepoint of the test's transaction) so that the rollback below keeps it

    from inspection.maintenance import apply_retention

    with app.test_request_context():
        apply_retention(datetime.now(UTC).date(), protocol_years=10, pseudonymise_years=3)
        db_session.rollback()
    assert (folder / stored).exists()  # rolled back: the row is back, so is its file

    result = app.test_cli_runner().invoke(args=["apply-retention"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["inspections_deleted"] == 1
    assert not (folder / stored).exists()
