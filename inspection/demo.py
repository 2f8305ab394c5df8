"""The demo data set of `flask seed-demo`: believable, fictional, and deterministic."""

from __future__ import annotations

import random
import secrets
from datetime import date

from .auth.models import Organisation, User
from .auth.passwords import hash_password
from .extensions import db
from .venues.models import ResponsibleServer, Venue

DEMO_USERS = [
    # (email, name, organisation, role)
    ("anna.handlaggare@ostersund.example", "Anna Lindqvist", "Östersunds kommun", "inspector"),
    ("erik.handlaggare@ostersund.example", "Erik Nilsson", "Östersunds kommun", "inspector"),
    ("maria.chef@ostersund.example", "Maria Sjöberg", "Östersunds kommun", "manager"),
    ("johan.handlaggare@krokom.example", "Johan Berg", "Krokoms kommun", "inspector"),
    ("lena.chef@krokom.example", "Lena Holm", "Krokoms kommun", "manager"),
    ("peter.polis@polisen.example", "Peter Ek", "Polisområde Jämtland", "police"),
    ("sara.polis@polisen.example", "Sara Åkesson", "Polisområde Jämtland", "police"),
    ("admin@krogtillsyn.example", "Systemadministratör", "Östersunds kommun", "admin"),
]

VENUE_NAMES = [
    "Restaurang Storsjön",
    "Bar Jämtlandia",
    "Hotell Gamla Tingshuset",
    "Pub Frösöblick",
    "Nattklubb Vinterljus",
    "Krogen Kyrkgatan",
    "Café & Bar Rådhuset",
    "Restaurang Fjällsippan",
    "Sportbaren Arenan",
    "Vinbaren Prästgatan",
    "Pizzeria Bella Vista",
    "Restaurang Lilla Tornet",
    "Bistro Badhusparken",
    "Ölhallen Storgatan",
    "Nattklubb Nordstjärnan",
    "Restaurang Gränsbo",
    "Hamnkrogen",
    "Karaokebaren Sjung",
    "Steakhouse Oxen",
    "Sushi Bar Sakura",
    "Restaurang Thai Garden",
    "Golfkrogen",
    "Skidbaren Toppen",
    "Konferenshotellet Krokom",
    "Restaurang Älvkanten",
    "Bygdegårdens Festlokal",
    "Pub Ankaret",
    "Vinkällaren",
    "Brasserie Torget",
    "Bowlinghallen Strike",
    "Jazzklubben Blå",
    "Restaurang Fjällutsikten",
    "Nattkafé Ugglan",
    "Sommarscenen Tältet",
]
STREETS = ["Storgatan", "Prästgatan", "Kyrkgatan", "Rådhusgatan", "Hamngatan", "Köpmangatan", "Thoméegränd", "Brogatan"]
AREAS_OSTERSUND = ["Centrum", "Frösön", "Odenslund", "Lugnvik"]
AREAS_KROKOM = ["Krokom centrum", "Föllinge", "Ås"]
FIRST = [
    "Ali",
    "Emma",
    "Oskar",
    "Fatima",
    "Lukas",
    "Sofia",
    "Mohammed",
    "Elin",
    "Nguyễn Minh",
    "Łukasz",
    "Ελένη",
    "Şükrü",
]
LAST = ["Andersson", "Johansson", "Karlsson", "Hassan", "Persson", "Żółć", "Yılmaz", "Olsson", "Khai", "Larsson"]


def org_number(rng: random.Random) -> str:
    """A random organisationsnummer (16-prefix company form) with a valid check digit."""
    digits = [5, 5, 6] + [rng.randint(0, 9) for _ in range(6)]
    total = 0
    for i, d in enumerate(digits):
        n = d * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    check = (10 - total % 10) % 10
    s = "".join(map(str, digits)) + str(check)
    return f"{s[:6]}-{s[6:]}"


def seed() -> list[tuple[str, str, str]]:
    """Create the demo; returns (email, role, password) for every demo login."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    orgs = {}
    for name, kind in (
        ("Östersunds kommun", "kommun"),
        ("Krokoms kommun", "kommun"),
        ("Polisområde Jämtland", "polis"),
    ):
        orgs[name] = Organisation(name=name, kind=kind)
        db.session.add(orgs[name])
    db.session.flush()

    logins = []
    users: dict[str, User] = {}
    for email, name, org, role in DEMO_USERS:
        password = "demo-" + secrets.token_urlsafe(9)
        user = User(email=email, name=name, organisation=orgs[org], role=role, password_hash=hash_password(password))
        db.session.add(user)
        users[email] = user
        logins.append((email, role, password))
    db.session.flush()

    venues: list[Venue] = []
    for i, name in enumerate(VENUE_NAMES):
        kommun = orgs["Krokoms kommun"] if i % 5 == 4 else orgs["Östersunds kommun"]
        late = rng.random() < 0.4
        venue = Venue(
            kommun=kommun,
            name=name,
            address=f"{rng.choice(STREETS)} {rng.randint(1, 60)}",
            area=rng.choice(AREAS_KROKOM if kommun.name.startswith("Krokom") else AREAS_OSTERSUND),
            permit_holder=f"{name.split()[-1]} AB",
            org_number=org_number(rng),
            permit_holder_email=f"info@{name.split()[-1].lower().replace('ö', 'o').replace('ä', 'a').replace('å', 'a')}.example",
            permit_number=f"{'ÖSD' if kommun.name.startswith('Öst') else 'KRK'}-{2015 + i % 10}-{100 + i}",
            permit_scope="slutet_sallskap" if "Festlokal" in name else "allmanheten",
            permit_kind="tillfalligt" if "Sommarscenen" in name else "stadigvarande",
            serving_hours="11:00-03:00" if "Nattklubb" in name else ("11:00-02:00" if late else "11:00-01:00"),
            outdoor_serving_hours="11:00-23:00" if rng.random() < 0.5 else None,
            max_guests=rng.choice([40, 60, 80, 120, 200, 350, 600]),
            ordningsvakter_required="Nattklubb" in name or rng.random() < 0.15,
            valid_from=date(2015 + i % 10, 1 + i % 12, 1),
            risk_class=3 if "Nattklubb" in name else (2 if late else 1),
        )
        for _ in range(rng.randint(1, 3)):
            venue.responsible_servers.append(
                ResponsibleServer(
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    birth_year=rng.randint(1965, 2004),
                    notified_on=date(2024, rng.randint(1, 12), rng.randint(1, 28)),
                )
            )
        db.session.add(venue)
        venues.append(venue)
    db.session.flush()

    context = {"rng": rng, "orgs": orgs, "users": users, "venues": venues}
    # Each feature adds its own history to the demo.
    for module in ("inspections", "trainings", "cases"):
        try:
            feature = __import__(f"inspection.{module}.demo", fromlist=["seed"])
        except ModuleNotFoundError:
            continue
        feature.seed(context)
        db.session.flush()
    return logins
