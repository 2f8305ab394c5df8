"""Demo trainings and överserveringstest for `flask seed-demo`."""

from __future__ import annotations

from datetime import date, timedelta

from ..extensions import db
from ..types import local_today
from .models import OverservingTest, Training, TrainingParticipant

STAFF_FIRST = ["Alva", "Hugo", "Noor", "Viktor", "Amira", "Jonas", "Linnea", "Omar", "Tove", "Kalle"]
STAFF_LAST = ["Berglund", "Lundgren", "Eriksson", "Mahmoud", "Sandberg", "Nyström", "Wikström", "Öberg"]


def _course(kommun, creator, kind, title, starts_on, days, place, police, venues, rng) -> Training:
    training = Training(
        kommun_id=kommun.id,
        kind=kind,
        title=title,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        place=place,
        organised_by_kommun=True,
        organised_by_police=police,
        created_by_id=creator.id if creator else None,
    )
    training.venues = list(venues)
    position = 0
    aas = kind == "ansvarsfull_alkoholservering"
    for venue in venues:
        people = [(s.name, "serveringsansvarig") for s in venue.responsible_servers if rng.random() < 0.8]
        people += [
            (f"{rng.choice(STAFF_FIRST)} {rng.choice(STAFF_LAST)}", rng.choice(["serveringspersonal", "ordningsvakt"]))
            for _ in range(rng.randint(0, 2))
        ]
        for name, role in people:
            attended = rng.random() < 0.92
            passed = (rng.random() < 0.9) if (aas and attended) else None
            training.participants.append(
                TrainingParticipant(
                    position=position,
                    name=name,
                    role=role,
                    venue_id=venue.id,
                    attended=attended,
                    passed=passed,
                    diploma_on=training.ends_on if passed else None,
                )
            )
            position += 1
    db.session.add(training)
    return training


def seed(context) -> None:
    rng = context["rng"]
    orgs = context["orgs"]
    users = context["users"]
    venues = context["venues"]
    today = local_today()
    creators = {
        "Östersunds kommun": users.get("anna.handlaggare@ostersund.example"),
        "Krokoms kommun": users.get("johan.handlaggare@krokom.example"),
    }
    for kommun_name, creator in creators.items():
        kommun = orgs[kommun_name]
        own = [v for v in venues if v.kommun_id == kommun.id]
        if not own:
            continue
        shuffled = own[:]
        rng.shuffle(shuffled)
        # Three AAS courses: one old enough for its diplomas to have expired, two recent.
        for years_ago, share in ((6, 0.4), (3, 0.35), (1, 0.3)):
            start = date(today.year - years_ago, rng.choice([3, 4, 9, 10]), rng.randint(1, 25))
            invited = shuffled[: max(1, int(len(shuffled) * share))]
            rng.shuffle(shuffled)
            _course(
                kommun,
                creator,
                "ansvarsfull_alkoholservering",
                f"Ansvarsfull alkoholservering {start.year}",
                start,
                2,
                "Stadshuset, sal Storsjön" if kommun_name.startswith("Öst") else "Kommunhuset Krokom",
                True,
                invited,
                rng,
            )
        nights = [v for v in own if v.risk_class == 3] or own[:2]
        _course(
            kommun,
            creator,
            "krogar_mot_knark",
            "Krogar mot knark: utbildning för nattklubbar",
            date(today.year - 1, 11, 12),
            1,
            "Polishuset",
            True,
            nights[:4],
            rng,
        )
        _course(
            kommun,
            creator,
            "forebyggande_information",
            "Informationsträff om nya serveringstider",
            date(today.year - 2, 2, 8),
            1,
            "Stadshuset",
            False,
            own[:3],
            rng,
        )
        # Överserveringstest over the last four years, the refusal rate rising.
        for years_ago, refuse_share in ((3, 0.45), (2, 0.6), (1, 0.7), (0, 0.78)):
            year = today.year - years_ago
            last_month = today.month if years_ago == 0 else 12
            tested = rng.sample(own, k=min(len(own), 8))
            for n, venue in enumerate(tested):
                refused = n < round(refuse_share * len(tested))
                db.session.add(
                    OverservingTest(
                        kommun_id=kommun.id,
                        venue=venue,
                        tested_on=min(today, date(year, rng.randint(1, last_month), rng.randint(1, 28))),
                        refused=refused,
                        notes=(
                            "Bartendern såg berusningen och nekade vänligt, erbjöd vatten."
                            if refused
                            else "Skådespelaren fick en stor stark utan frågor trots tydlig berusning."
                        ),
                        created_by_id=creator.id if creator else None,
                    )
                )
    db.session.flush()
