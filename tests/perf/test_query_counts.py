"""The number of SQL statements a hot page or endpoint runs is fixed, whatever the size of the data
(issue 12): each test answers the same request on a small data set and again after the data set has
grown (more inspections, observations, signatures, venues, trainings, cases), and the two counts must
be equal. A count that grows is an N+1 (a lazy load per row) that makes the page slow at national
scale; the failure message lists the statements of the larger run that the smaller one did not have.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from inspection.cases.models import Case, CaseStep
from inspection.inspections.models import Amendment, Observation, OtherParticipant, Round, Signature
from inspection.trainings.models import OverservingTest, Training, TrainingParticipant
from inspection.types import STOCKHOLM, local_today, utcnow
from inspection.venues.models import ResponsibleServer

SMALL, LARGE = 2, 25


def _shape(statement: str) -> str:
    """A statement without its IN-list length (an IN list of 2 or 25 ids is one statement)."""
    return re.sub(r"IN \((?:[?]|%\(\w+\)s|\$\d+)(?:, (?:[?]|%\(\w+\)s|\$\d+))*\)", "IN (…)", statement)


def _short(statement: str) -> str:
    """The start (which table) and the end (which filter) of a statement, on one line."""
    flat = " ".join(statement.split())
    return flat if len(flat) <= 400 else f"{flat[:120]} … {flat[-280:]}"


def _statement_diff(small: list[str], large: list[str]) -> str:
    extra = Counter(map(_shape, large)) - Counter(map(_shape, small))
    missing = Counter(map(_shape, small)) - Counter(map(_shape, large))
    lines = [f"+{n}× {_short(s)}" for s, n in extra.items()] + [f"-{n}× {_short(s)}" for s, n in missing.items()]
    return "\n".join(lines)


@pytest.fixture
def fixed_count(query_counter):
    """fixed_count(request, world): the request's statement count with SMALL and with LARGE rows of
    everything; asserts that they are equal and that the request succeeded."""

    def check(request, world, ok=(200,)):
        world.grow(SMALL)
        response = request()  # warm-up: first-request work (caches, session rotation) is not counted
        assert response.status_code in ok, response.get_data(as_text=True)[:500]
        with query_counter() as small:
            response = request()
        assert response.status_code in ok, response.get_data(as_text=True)[:500]
        world.grow(LARGE - SMALL)
        with query_counter() as large:
            response = request()
        assert response.status_code in ok, response.get_data(as_text=True)[:500]
        # The session's idle stamp is written at most once a minute, whenever that falls due.
        small_run = [s for s in small.statements if not s.lstrip().startswith("UPDATE user_session")]
        large_run = [s for s in large.statements if not s.lstrip().startswith("UPDATE user_session")]
        assert len(small_run) == len(large_run), (
            f"{len(small_run)} statements with {SMALL} rows, {len(large_run)} with {LARGE}:\n"
            + _statement_diff(small_run, large_run)
        )
        return response

    return check


class World:
    """One kommun's data that grows by n rows of every kind per grow(n): venues with responsible
    servers; for the busy venue signed visits (observations, signatures, an amendment, other
    participants), upcoming joint visits (police invited), visits to sign, a round, trainings with
    participants, överserveringstest and open cases with steps; observations on the live visit."""

    def __init__(self, db_session, make_venue, make_inspection, inspector, police, kommun):
        self.db = db_session
        self.make_venue = make_venue
        self.make_inspection = make_inspection
        self.inspector = inspector
        self.police = police
        self.kommun = kommun
        self.venue = make_venue(name="Bar Storsjön", risk_class=3)
        now = utcnow()
        #: the visit under way (observations are posted to it)
        self.live = make_inspection(
            venue=self.venue,
            participants=[inspector, police],
            start=(now - timedelta(minutes=30)).astimezone(STOCKHOLM),
            hours=3,
            status="in_progress",
        )
        #: a signed visit whose protocol grows (observations, signatures, amendments)
        self.signed = self._signed_visit(now - timedelta(days=40))
        self.today = local_today()
        #: a training whose participant list grows
        self.training = Training(
            kommun_id=kommun.id,
            kind="krogar_mot_knark",
            title="Krogar mot knark",
            starts_on=self.today,
            ends_on=self.today,
            created_by_id=inspector.id,
        )
        db_session.add(self.training)
        self.n = 0

    # -- pieces ---------------------------------------------------------------------------------

    def _observation(self, inspection, at, author):
        self.db.add(
            Observation(
                inspection=inspection,
                client_id=str(uuid.uuid4()),
                observed_at=at,
                category="berusning",
                intoxication_level="markbart_paverkad",
                description="Gäst vid baren vinglade.",
                author_id=author.id,
            )
        )

    def _sign(self, inspection, when):
        digest = hashlib.sha256(f"protocol {inspection.id}".encode()).hexdigest()
        inspection.status = "signed"
        inspection.content_hash = digest
        inspection.signed_content = None
        inspection.first_signed_at = when
        inspection.signed_at = when + timedelta(minutes=5)
        inspection.verification_code = f"P{uuid.uuid4().hex[:12].upper()}"
        for participant in inspection.participants:
            self.db.add(
                Signature(
                    inspection_id=inspection.id,
                    user_id=participant.user_id,
                    organisation_id=participant.organisation_id,
                    signed_at=when,
                    content_hash=digest,
                )
            )

    def _signed_visit(self, start, venue=None, sent=True):
        inspection = self.make_inspection(
            venue=venue or self.venue,
            participants=[self.inspector, self.police],
            kind="samordnad",
            start=start.astimezone(STOCKHOLM),
            status="in_progress",
            arrived_at=start + timedelta(minutes=10),
            left_at=start + timedelta(hours=1),
            summary="Välskött.",
            guest_count=80,
            intoxication_level="salongsberusad",
            checklist={"alderskontroll": {"status": "anmarkning", "note": "Leg saknades."}},
        )
        inspection.other_participants.append(OtherParticipant(name="Rita Räddning", organisation="Räddningstjänsten"))
        self._observation(inspection, start + timedelta(minutes=20), self.inspector)
        self.db.flush()
        self._sign(inspection, start + timedelta(hours=2))
        if sent:
            inspection.sent_to_holder_on = (start + timedelta(days=1)).date()
        self.db.flush()
        return inspection

    def _amendment(self, inspection, author):
        digest = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        amendment = Amendment(
            inspection_id=inspection.id,
            text="Rättelse: gästantalet var 95.",
            author_id=author.id,
            status="signed",
            content_hash=digest,
            verification_code=f"A{uuid.uuid4().hex[:12].upper()}",
            signed_at=inspection.signed_at + timedelta(days=1),
        )
        self.db.add(amendment)
        self.db.flush()
        self.db.add(
            Signature(
                inspection_id=inspection.id,
                amendment_id=amendment.id,
                user_id=author.id,
                organisation_id=author.organisation_id,
                signed_at=amendment.signed_at,
                content_hash=digest,
            )
        )

    # -- growth ---------------------------------------------------------------------------------

    def grow(self, n: int) -> None:
        now = utcnow()
        for _ in range(n):
            self.n += 1
            k = self.n
            venue = self.make_venue(name=f"Bar Nummer {k}", area="Centrum", risk_class=1 + k % 3)
            venue.responsible_servers.append(ResponsibleServer(name=f"Sara {k}", birth_year=1990))
            # The busy venue's history: a signed joint visit with an amendment.
            past = self._signed_visit(now - timedelta(days=45 + k), sent=True)
            self._amendment(past, self.inspector)
            # A signed visit at another venue not sent to the permit holder in time (start page).
            self._signed_visit(now - timedelta(days=60 + k), venue=venue, sent=False)
            # An upcoming joint visit: the police officer is invited (start page, calendar, list).
            upcoming = self.make_inspection(
                venue=venue,
                participants=[self.inspector, self.police],
                start=(now + timedelta(days=1, minutes=k)).astimezone(STOCKHOLM),
                police_response="invited",
            )
            upcoming.other_participants.append(OtherParticipant(name=f"Skatt {k}", organisation="Skatteverket"))
            # A round of one stop (the invitation section names the round).
            upcoming.round = Round(
                kommun_id=self.kommun.id, title=f"Runda {k}", evening=self.today, created_by_id=self.inspector.id
            )
            upcoming.round_position = 1
            # A visit under way that waits for signatures, with one signature already.
            waiting = self.make_inspection(
                venue=venue,
                participants=[self.inspector, self.police],
                start=(now - timedelta(hours=5, minutes=k)).astimezone(STOCKHOLM),
                status="awaiting_signatures",
            )
            self.db.flush()
            self.db.add(
                Signature(
                    inspection_id=waiting.id,
                    user_id=self.police.id,
                    organisation_id=self.police.organisation_id,
                    content_hash="0" * 64,
                )
            )
            # Protocol content of the live and the signed visit.
            self._observation(self.live, now - timedelta(minutes=k), self.police)
            self._observation(self.signed, self.signed.planned_start + timedelta(minutes=k), self.police)
            self.signed.other_participants.append(OtherParticipant(name=f"Person {k}", organisation="Tullverket"))
            self.db.flush()
            self._amendment(self.signed, self.inspector)
            # Trainings, with participants from the busy venue.
            training = Training(
                kommun_id=self.kommun.id,
                kind="ansvarsfull_alkoholservering",
                title=f"Ansvarsfull alkoholservering {k}",
                starts_on=self.today - timedelta(days=k),
                ends_on=self.today - timedelta(days=k),
                organised_by_police=True,
                created_by_id=self.inspector.id,
            )
            training.venues.extend([self.venue, venue])
            for position in range(3):
                training.participants.append(
                    TrainingParticipant(
                        position=position,
                        name=f"Deltagare {k}-{position}",
                        role="serveringspersonal",
                        venue_id=self.venue.id,
                        passed=True,
                        diploma_on=self.today,
                    )
                )
            self.db.add(training)
            self.training.venues.append(venue)
            self.training.participants.append(
                TrainingParticipant(position=k, name=f"Deltagare {k}", role="ordningsvakt", venue_id=venue.id)
            )
            self.db.add(
                OverservingTest(
                    kommun_id=self.kommun.id,
                    venue_id=self.venue.id,
                    tested_on=self.today - timedelta(days=k),
                    refused=k % 2 == 0,
                    created_by_id=self.inspector.id,
                )
            )
            # An open case about the busy venue, kommunicering sent and overdue.
            case = Case(
                kommun_id=self.kommun.id,
                venue_id=self.venue.id,
                summary=f"Överservering {k}",
                status="awaiting_reply",
                opened_by_id=self.inspector.id,
            )
            case.inspections.append(past)
            case.steps.append(
                CaseStep(kind="note", date=self.today - timedelta(days=30), by_id=self.inspector.id, text="Start")
            )
            case.steps.append(
                CaseStep(
                    kind="kommunicering",
                    date=self.today - timedelta(days=20),
                    by_id=self.inspector.id,
                    deadline=self.today - timedelta(days=5),
                )
            )
            self.db.add(case)
        self.db.flush()


@pytest.fixture
def world(db_session, make_venue, make_inspection, inspector, police, kommun):
    return World(db_session, make_venue, make_inspection, inspector, police, kommun)


def _year_of_history() -> int:
    return (utcnow() - timedelta(days=45)).astimezone(STOCKHOLM).year


# ---- start page --------------------------------------------------------------------------------


def test_start_page_inspector(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get("/"), world)
    assert "Mina kommande tillsyner" in response.get_data(as_text=True)


def test_start_page_manager(client, login, manager, world, fixed_count):
    login(manager)
    response = fixed_count(lambda: client.get("/"), world)
    assert "Ärenden som väntar på dig" in response.get_data(as_text=True)


def test_start_page_police(client, login, world, fixed_count):
    login(world.police)
    response = fixed_count(lambda: client.get("/"), world)
    assert "Bar Nummer" in response.get_data(as_text=True)


# ---- scheduling --------------------------------------------------------------------------------


def test_police_inspection_list_api(api, world, fixed_count):
    api.as_user(world.police)
    today = local_today()
    path = f"/api/v1/inspections?from={today - timedelta(days=365)}&to={today + timedelta(days=30)}"
    response = fixed_count(lambda: api.get(path), world)
    assert response.get_json()["total"] >= 4 * SMALL


def test_inspection_list_api_by_venue(api, world, fixed_count):
    api.as_user(world.inspector)
    response = fixed_count(lambda: api.get(f"/api/v1/inspections?venue_id={world.venue.id}&status=signed"), world)
    assert response.get_json()["items"]


@pytest.mark.parametrize("view", ["month", "week"])
def test_calendar_page(client, login, world, fixed_count, view):
    login(world.inspector)
    day = (utcnow() + timedelta(days=1)).astimezone(STOCKHOLM).date()
    response = fixed_count(lambda: client.get(f"/tillsyn/kalender?view={view}&date={day}"), world)
    assert "Bar Nummer" in response.get_data(as_text=True)


def test_my_inspections_page(client, login, world, fixed_count):
    login(world.police)
    response = fixed_count(lambda: client.get("/tillsyn/mina"), world)
    assert "Bar Nummer" in response.get_data(as_text=True)


def test_calendar_feed(client, world, fixed_count):
    response = fixed_count(lambda: client.get(f"/tillsyn/kalender/{world.inspector.calendar_token}.ics"), world)
    assert b"BEGIN:VEVENT" in response.data


def test_due_list(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/tillsyn/forfallna"), world)


# ---- the protocol ------------------------------------------------------------------------------


def test_inspection_api(api, world, fixed_count):
    api.as_user(world.inspector)
    response = fixed_count(lambda: api.get(f"/api/v1/inspections/{world.signed.id}"), world)
    body = response.get_json()
    assert len(body["observations"]) == 1 + LARGE


def test_live_inspection_api(api, world, fixed_count):
    api.as_user(world.police)
    response = fixed_count(lambda: api.get(f"/api/v1/inspections/{world.live.id}"), world)
    assert len(response.get_json()["observations"]) == LARGE


def test_inspection_page(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get(f"/tillsyn/{world.signed.id}"), world)
    assert "Bar Storsjön" in response.get_data(as_text=True)


def test_live_inspection_page(client, login, world, fixed_count):
    login(world.police)
    response = fixed_count(lambda: client.get(f"/tillsyn/{world.live.id}"), world)
    assert "Bar Storsjön" in response.get_data(as_text=True)


def test_observation_post(api, world, fixed_count):
    api.as_user(world.police)

    def post():
        return api.post(
            f"/api/v1/inspections/{world.live.id}/observations",
            json={
                "client_id": str(uuid.uuid4()),
                "observed_at": datetime.now(UTC).isoformat(),
                "category": "berusning",
                "intoxication_level": "salongsberusad",
                "description": "Gäst vid baren.",
            },
        )

    response = fixed_count(post, world, ok=(201,))
    assert response.get_json()["category"] == "berusning"


def test_protocol_pdf(api, world, fixed_count):
    api.as_user(world.inspector)
    response = fixed_count(lambda: api.get(f"/api/v1/inspections/{world.signed.id}/protocol.pdf"), world)
    assert response.data.startswith(b"%PDF")


def test_documents_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get(f"/tillsyn/{world.signed.id}/dokument"), world)


# ---- venues ------------------------------------------------------------------------------------


def test_venue_list_page(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get("/serveringsstallen/?q=Bar"), world)
    assert "Bar Nummer" in response.get_data(as_text=True)


def test_venue_list_api(api, world, fixed_count):
    api.as_user(world.inspector)
    response = fixed_count(lambda: api.get("/api/v1/venues?q=Bar&per_page=200"), world)
    assert response.get_json()["total"] == 1 + LARGE


def test_venue_card(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get(f"/serveringsstallen/{world.venue.id}"), world)


def test_venue_history_page(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get(f"/serveringsstallen/{world.venue.id}/historik"), world)
    assert "Bar Storsjön" in response.get_data(as_text=True)


def test_venue_history_api(api, world, fixed_count):
    api.as_user(world.inspector)
    fixed_count(lambda: api.get(f"/api/v1/venues/{world.venue.id}/history"), world)


# ---- reports -----------------------------------------------------------------------------------


def test_report_summary_api(api, world, fixed_count):
    api.as_user(world.inspector)
    year = _year_of_history()
    fixed_count(lambda: api.get(f"/api/v1/reports/summary?from={year}-01-01&to={date.today()}"), world)


def test_yearly_statistics_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get(f"/rapporter/arsstatistik?year={_year_of_history()}"), world)


def test_reports_start_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/rapporter/"), world)


def test_half_year_report(client, login, world, fixed_count):
    login(world.inspector)
    year = _year_of_history()
    fixed_count(lambda: client.get(f"/rapporter/halvar?from={year}-01-01&to={year}-12-31"), world)


def test_police_report_page(client, login, world, fixed_count):
    login(world.police)
    year = _year_of_history()
    fixed_count(lambda: client.get(f"/rapporter/polis?from={year}-01-01&to={year}-12-31"), world)


def test_protocol_archive_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/tillsyn/arkiv"), world)


# ---- trainings ---------------------------------------------------------------------------------


def test_trainings_list_page(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get("/utbildningar/"), world)
    assert "Ansvarsfull alkoholservering" in response.get_data(as_text=True)


def test_trainings_list_api(api, world, fixed_count):
    api.as_user(world.police)
    response = fixed_count(lambda: api.get("/api/v1/trainings?per_page=100"), world)
    assert response.get_json()["total"] == LARGE


def test_training_detail_page(client, login, world, fixed_count):
    login(world.inspector)
    response = fixed_count(lambda: client.get(f"/utbildningar/{world.training.id}"), world)
    assert "Deltagare" in response.get_data(as_text=True)


def test_overserving_tests_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/utbildningar/overserveringstest"), world)


# ---- cases (issue 10's pages, counted here too) ------------------------------------------------


def test_case_list_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/arenden/"), world)


def test_case_queue_page(client, login, world, fixed_count):
    login(world.inspector)
    fixed_count(lambda: client.get("/arenden/ko"), world)


def test_case_list_api(api, world, fixed_count):
    api.as_user(world.inspector)
    fixed_count(lambda: api.get("/api/v1/cases"), world)
