"""Factories for the venue tests: API bodies and history (signed visits, observations, cases, trainings)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, timedelta

import pytest

from tests.conftest import stockholm


@pytest.fixture
def venue_body():
    """A valid POST /api/v1/venues body; keyword arguments override top-level keys."""

    def make(**overrides) -> dict:
        body = {
            "name": "Bar Jämtlandia",
            "address": "Storgatan 12",
            "area": "Centrum",
            "permit_holder": "Jämtlandia AB",
            "org_number": "5560160680",
            "permit_holder_email": "info@jamtlandia.example",
            "permit": {
                "number": f"ÖSD-{uuid.uuid4().hex[:6]}",
                "scope": "allmanheten",
                "kind": "stadigvarande",
                "serving_hours": "11:00–01:00",
                "outdoor_serving_hours": "11:00-23:00",
                "max_guests": 120,
                "ordningsvakter_required": False,
            },
            "responsible_servers": [{"name": "Kim Berg", "birth_year": 1990, "notified_on": "2025-03-01"}],
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def add_visit(db_session, make_inspection, inspector):
    """A visit to `venue` on a Stockholm date with a checklist and observations
    (`observations`: list of (category, intoxication_level))."""
    from inspection.inspections.models import Observation

    def add(venue, day: date, *, status="signed", remarks=0, observations=(), kind="yttre", participants=None):
        start = stockholm(day.year, day.month, day.day, 22)
        checklist = {
            code: {"status": "anmarkning", "note": "Brist"}
            for code in ["mat", "serveringstider", "uteservering", "kassaregister", "personalliggare", "narkotika"][
                :remarks
            ]
        }
        checklist["ordning_nykterhet"] = {"status": "ok", "note": None}
        inspection = make_inspection(
            venue=venue,
            participants=participants if participants is not None else [inspector],
            kind=kind,
            start=start,
            status=status,
            checklist=checklist,
            signed_at=start.astimezone(UTC) + timedelta(hours=3) if status == "signed" else None,
        )
        for i, (category, level) in enumerate(observations):
            db_session.add(
                Observation(
                    inspection_id=inspection.id,
                    client_id=str(uuid.uuid4()),
                    observed_at=start.astimezone(UTC) + timedelta(minutes=i),
                    category=category,
                    intoxication_level=level,
                    description="Gäst vinglar vid baren.",
                    author_id=inspector.id,
                )
            )
        db_session.flush()
        return inspection

    return add


@pytest.fixture
def add_decision(db_session, manager):
    """A decided case about `venue` with `sanction` decided on `day`."""
    from inspection.cases.models import Case, CaseStep

    def add(venue, day: date, sanction="varning"):
        case = Case(
            kommun_id=venue.kommun_id,
            venue_id=venue.id,
            status="decided",
            summary="Överservering",
            diarienummer="ALK 2025/17",
        )
        case.steps.append(
            CaseStep(kind="decision", date=day, by_id=manager.id, sanction=sanction, decided_by="delegat")
        )
        db_session.add(case)
        db_session.flush()
        return case

    return add
