"""One realistic world for the access matrix and the OpenAPI checks, built once per module.

The world lives in a transaction on one connection that is rolled back when the module ends; every
test runs in a savepoint of its own that is rolled back after it, so a test that cancels, signs or
logs out changes nothing for the next one.

Kommun A: a venue, a joint (samordnad) inspection with the inspector and a participating police
officer (both accepted), an observation and a photo on it, a signed inspection with an amendment, a
training organised with the police, an överserveringstest, a case with a proposal step and a
document, a round. Kommun B: its own venue and inspection. People: inspector and manager of A, an
inspector of B, a police officer who takes part, one who does not, an admin, and nobody (anonymous).
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from types import SimpleNamespace

import pytest

from inspection.extensions import db
from tests.conftest import _HASH, PASSWORD, BoundSession, IsolatedClient, stockholm

ROLES = ("inspector", "manager", "other_kommun", "police_in", "police_out", "admin", "anonymous")

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class World:
    connection: object
    users: dict = field(default_factory=dict)  # role -> User
    tokens: dict = field(default_factory=dict)  # role -> bearer token
    cookies: dict = field(default_factory=dict)  # role -> {name: value}
    csrf: dict = field(default_factory=dict)  # role -> CSRF token of that session
    ids: dict = field(default_factory=dict)  # URL parameter name -> id in kommun A
    other_ids: dict = field(default_factory=dict)  # URL parameter name -> id of kommun B's object
    app: object = None

    def client(self, role: str) -> IsolatedClient:
        """A fresh client carrying the role's web session (none for anonymous)."""
        client = self.app.test_client()
        for name, value in self.cookies.get(role, {}).items():
            client.set_cookie(name, value)
        return client

    def api_headers(self, role: str, **extra) -> dict:
        headers = dict(extra)
        if role in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return headers


def _login(app, user) -> tuple[dict, str]:
    from tests.conftest import csrf_token

    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    token = csrf_token(client)  # the signed-in session's token
    cookies = {}
    for name in (app.config.get("SESSION_COOKIE_NAME", "session"), "session"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            cookies[name] = cookie.value
    assert cookies, "no session cookie after login"
    return cookies, token


def _build(app, session, world: World) -> None:
    from inspection.auth.models import Organisation, User
    from inspection.cases.models import Case, CaseStep
    from inspection.inspections.models import Inspection, InspectionParticipant, Observation, Round
    from inspection.security import issue_token
    from inspection.trainings.models import OverservingTest, Training, TrainingParticipant
    from inspection.venues.models import Venue

    suffix = uuid.uuid4().hex[:6]
    kommun_a = Organisation(name=f"Östersunds kommun {suffix}", kind="kommun")
    kommun_b = Organisation(name=f"Krokoms kommun {suffix}", kind="kommun")
    polis = Organisation(name=f"Polisområde Jämtland {suffix}", kind="polis")
    session.add_all([kommun_a, kommun_b, polis])
    session.flush()

    def user(role, org, key):
        u = User(
            email=f"{key}-{suffix}@example.se",
            name=f"{key.replace('_', ' ').title()} {suffix}",
            role=role,
            organisation=org,
            password_hash=_HASH,
        )
        session.add(u)
        world.users[key] = u
        return u

    inspector = user("inspector", kommun_a, "inspector")
    user("manager", kommun_a, "manager")
    other = user("inspector", kommun_b, "other_kommun")
    police_in = user("police", polis, "police_in")
    user("police", polis, "police_out")
    user("admin", kommun_a, "admin")
    session.flush()

    def venue(org, name):
        v = Venue(
            kommun=org,
            name=name,
            address="Storgatan 1",
            permit_holder=f"{name} AB",
            org_number="556016-0680",
            permit_number=f"T-{uuid.uuid4().hex[:8]}",
            permit_scope="allmanheten",
            permit_kind="stadigvarande",
            serving_hours="11:00-01:00",
            max_guests=120,
            risk_class=2,
        )
        session.add(v)
        return v

    venue_a = venue(kommun_a, "Krogen A")
    venue_b = venue(kommun_b, "Krogen B")
    session.flush()

    today = date.today()
    start = stockholm(today.year, today.month, today.day, 21)

    def inspection(v, kind, people, org):
        i = Inspection(
            kommun_id=org.id,
            venue=v,
            kind=kind,
            planned_start=start.astimezone(UTC),
            planned_end=(start + timedelta(hours=2)).astimezone(UTC),
            status="planned",
        )
        for person in people:
            i.participants.append(
                InspectionParticipant(user=person, organisation_id=person.organisation_id, response="accepted")
            )
        session.add(i)
        return i

    joint = inspection(venue_a, "samordnad", [inspector, police_in], kommun_a)
    signed = inspection(venue_a, "inre", [inspector], kommun_a)
    insp_b = inspection(venue_b, "yttre", [other], kommun_b)
    session.flush()
    joint.status = "in_progress"
    session.add(
        Observation(
            inspection=joint,
            client_id=str(uuid.uuid4()),
            observed_at=(start + timedelta(minutes=30)).astimezone(UTC),
            category="berusning",
            intoxication_level="markbart_paverkad",
            description="Gäst vid baren kraftigt påverkad.",
            author_id=police_in.id,
        )
    )
    obs_b = Observation(
        inspection=insp_b,
        client_id=str(uuid.uuid4()),
        observed_at=(start + timedelta(minutes=30)).astimezone(UTC),
        category="ovrigt",
        description="B",
        author_id=other.id,
    )
    session.add(obs_b)
    rnd = Round(kommun_id=kommun_a.id, title="Rundan", evening=today, created_by_id=inspector.id)
    session.add(rnd)
    session.flush()
    joint.round_id = rnd.id
    joint.round_position = 1

    training = Training(
        kommun_id=kommun_a.id,
        kind="ansvarsfull_alkoholservering",
        title="Ansvarsfull alkoholservering",
        starts_on=today - timedelta(days=10),
        ends_on=today - timedelta(days=9),
        organised_by_kommun=True,
        organised_by_police=True,
        created_by_id=inspector.id,
    )
    training.venues.append(venue_a)
    training.participants.append(TrainingParticipant(name="Sara Servitör", role="serveringsansvarig", venue=venue_a))
    training_b = Training(
        kommun_id=kommun_b.id,
        kind="ovrigt",
        title="B",
        starts_on=today,
        ends_on=today,
        organised_by_police=True,
    )
    test_a = OverservingTest(
        kommun_id=kommun_a.id, venue=venue_a, tested_on=today - timedelta(days=3), refused=True, notes="Nekade."
    )
    test_b = OverservingTest(kommun_id=kommun_b.id, venue=venue_b, tested_on=today, refused=False)
    case = Case(kommun_id=kommun_a.id, venue=venue_a, summary="Överservering vid tillsyn.", opened_by_id=inspector.id)
    case.inspections.append(joint)
    case.steps.append(
        CaseStep(kind="proposal", date=today, by_id=inspector.id, sanction="varning", legal_ground="9 kap. 17 §")
    )
    case_b = Case(kommun_id=kommun_b.id, venue=venue_b, summary="B", opened_by_id=other.id)
    session.add_all([training, training_b, test_a, test_b, case, case_b])
    session.flush()

    # Logins (web sessions and bearer tokens) for everybody but the anonymous caller.
    for role, person in world.users.items():
        world.cookies[role], world.csrf[role] = _login(app, person)
        # (the token call itself is tested elsewhere; issuing directly saves an Argon2 check per role)
        world.tokens[role], _ = issue_token(person)
    session.flush()

    client = app.test_client()
    auth = world.api_headers("inspector")
    # A photo through the API (it is stored and re-encoded as a real client would have it).
    response = client.post(
        f"/api/v1/inspections/{joint.id}/photos",
        headers=auth,
        data={"file": (io.BytesIO(png_bytes()), "bild.png", "image/png"), "client_id": str(uuid.uuid4())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    photo_id = response.get_json()["id"]
    response = client.post(
        f"/api/v1/inspections/{insp_b.id}/photos",
        headers=world.api_headers("other_kommun"),
        data={"file": (io.BytesIO(png_bytes()), "bild.png", "image/png"), "client_id": str(uuid.uuid4())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    photo_b = response.get_json()["id"]
    # Sign the inre inspection (the inspector is its only participant) and add an amendment.
    response = client.post(f"/api/v1/inspections/{signed.id}/signatures", headers=auth, json={"password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    response = client.post(f"/api/v1/inspections/{signed.id}/amendments", headers=auth, json={"text": "Rättelse."})
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    amendment_id = response.get_json()["id"]

    from inspection.cases import services as case_services

    session.expire_all()
    case = session.get(Case, case.id)
    doc = case_services.attach_document(session.get(User, inspector.id), case, "Bild", png_bytes())
    session.flush()
    signed = session.get(Inspection, signed.id)

    world.ids.update(
        venue_id=venue_a.id,
        inspection_id=joint.id,
        observation_id=joint.observations[0].id if joint.observations else None,
        photo_id=photo_id,
        amendment_id=amendment_id,
        case_id=case.id,
        document_id=doc.id,
        training_id=training.id,
        test_id=test_a.id,
        round_id=rnd.id,
        user_id=inspector.id,
        token=inspector.calendar_token,
        code=signed.verification_code,
        kind="note",
        signed_inspection_id=signed.id,
        kommun_a=kommun_a.id,
        kommun_b=kommun_b.id,
    )
    world.other_ids.update(
        venue_id=venue_b.id,
        inspection_id=insp_b.id,
        observation_id=obs_b.id,
        photo_id=photo_b,
        case_id=case_b.id,
        training_id=training_b.id,
        test_id=test_b.id,
        user_id=other.id,
    )
    session.commit()  # a savepoint release inside the module's transaction


@pytest.fixture(scope="module")
def world(app):
    app.test_client_class = IsolatedClient
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": BoundSession}
        )
        try:
            w = World(connection=connection, app=app)
            _build(app, db.session, w)
            from inspection.inspections.models import Observation

            w.ids["observation_id"] = db.session.scalar(
                db.select(Observation.id).where(Observation.inspection_id == w.ids["inspection_id"])
            )
            # plain records: the ORM objects are detached once the build's session is gone
            w.users = {
                role: SimpleNamespace(id=u.id, email=u.email, name=u.name, role=u.role) for role, u in w.users.items()
            }
            db.session.remove()
            yield w
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def isolated(world):
    """Run the test in a savepoint of the module's transaction and roll it back afterwards."""
    nested = world.connection.begin_nested()
    try:
        yield world
    finally:
        db.session.remove()
        if nested.is_active:
            nested.rollback()
