"""Recording trainings, pasted lists, coverage, refusal rates and the before/after comparison."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from sqlalchemy import func, select

from inspection.errors import ServiceError
from inspection.trainings import services
from inspection.trainings.models import Training, TrainingParticipant
from inspection.venues.models import ResponsibleServer
from tests.conftest import stockholm


def _count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def _aas(**kw):
    data = {
        "kind": "ansvarsfull_alkoholservering",
        "title": "AAS våren",
        "starts_on": date(2026, 3, 10),
        "ends_on": date(2026, 3, 11),
        "place": "Stadshuset",
        "organisers": ["kommun", "polis"],
        "venue_ids": [],
        "participants": [],
    }
    data.update(kw)
    return data


def test_record_training_keeps_everything(db_session, inspector, make_venue):
    venue = make_venue()
    training = services.record_training(
        inspector,
        **_aas(
            venue_ids=[venue.id],
            participants=[
                {
                    "name": "Emma Karlsson",
                    "role": "serveringsansvarig",
                    "venue_id": venue.id,
                    "passed": True,
                    "diploma_on": date(2026, 3, 11),
                },
                {"name": "Ali Hassan", "role": "ordningsvakt"},
            ],
        ),
    )
    db_session.expire_all()
    saved = db_session.get(Training, training.id)
    assert saved.kommun_id == inspector.organisation_id
    assert saved.organisers == ["kommun", "polis"]
    assert [v.id for v in saved.venues] == [venue.id]
    assert [(p.name, p.role, p.attended, p.passed) for p in saved.participants] == [
        ("Emma Karlsson", "serveringsansvarig", True, True),
        ("Ali Hassan", "ordningsvakt", True, None),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"ends_on": date(2026, 3, 9)}, "ends_on", "före"),
        ({"participants": [{"name": "", "role": "ovrig"}]}, "participants.0.name", "Namn saknas"),
        ({"participants": [{"name": "   ", "role": "ovrig"}]}, "participants.0.name", "Namn saknas"),
        ({"participants": [{"name": "A" * 201, "role": "ovrig"}]}, "participants.0.name", "200"),
        ({"participants": [{"name": "Bo", "role": "kock"}]}, "participants.0.role", "roll"),
        ({"title": ""}, "title", "Obligatoriskt"),
        ({"kind": "yoga"}, "kind", "typ"),
        ({"organisers": []}, "organisers", "arrangör"),
    ],
)
def test_bad_training_is_refused_and_nothing_saved(db_session, inspector, changes, field, words):
    before = _count(db_session, Training)
    with pytest.raises(ServiceError) as caught:
        services.record_training(inspector, **_aas(**changes))
    assert caught.value.status == 422
    assert words.lower() in " ".join(caught.value.fields[field]).lower()
    assert _count(db_session, Training) == before


def test_another_kommuns_venue_is_refused_by_name(db_session, inspector, make_venue, other_kommun):
    foreign = make_venue(org=other_kommun)
    with pytest.raises(ServiceError) as caught:
        services.record_training(inspector, **_aas(venue_ids=[foreign.id]))
    assert caught.value.status == 422
    assert str(foreign.id) in caught.value.fields["venue_ids"][0]
    with pytest.raises(ServiceError) as caught:
        services.record_training(
            inspector, **_aas(participants=[{"name": "Bo", "role": "ovrig", "venue_id": foreign.id}])
        )
    assert "participants.0.venue_id" in caught.value.fields
    assert _count(db_session, Training) == 0


def test_police_may_not_record(police):
    with pytest.raises(ServiceError) as caught:
        services.record_training(police, **_aas())
    assert caught.value.status == 403


def test_update_and_delete(db_session, inspector, make_venue):
    training = services.record_training(inspector, **_aas(participants=[{"name": "Bo", "role": "ovrig"}]))
    services.update_training(training, inspector, title="AAS hösten", ends_on=date(2026, 3, 12))
    assert training.title == "AAS hösten"
    assert [p.name for p in training.participants] == ["Bo"]
    with pytest.raises(ServiceError):
        services.update_training(training, inspector, ends_on=date(2026, 3, 1))
    services.delete_training(training, inspector)
    assert db_session.get(Training, training.id) is None


def test_add_responsible_servers_once(db_session, inspector, make_venue):
    venue = make_venue(name="Pub Ankaret")
    venue.responsible_servers.append(ResponsibleServer(name="Sofia Olsson", birth_year=1990))
    venue.responsible_servers.append(ResponsibleServer(name="Lukas Persson", birth_year=1985))
    db_session.flush()
    training = services.record_training(inspector, **_aas())
    assert services.add_responsible_servers(training, venue, inspector) == 2
    assert services.add_responsible_servers(training, venue, inspector) == 0
    assert sorted((p.name, p.role, p.venue_id) for p in training.participants) == [
        ("Lukas Persson", "serveringsansvarig", venue.id),
        ("Sofia Olsson", "serveringsansvarig", venue.id),
    ]
    assert venue in training.venues


def test_pasted_list(db_session, inspector, make_venue):
    venue = make_venue(name="Pub Ankaret")
    training = services.record_training(inspector, **_aas())
    added = services.add_pasted_participants(
        training,
        inspector,
        "Emma Karlsson; Serveringsansvarig; pub ankaret\n\nŁukasz Żółć; dörrvärd\nNguyễn Minh Khai\n",
    )
    assert added == 3
    assert [(p.name, p.role, p.venue_id) for p in training.participants] == [
        ("Emma Karlsson", "serveringsansvarig", venue.id),
        ("Łukasz Żółć", "dorrvard", None),
        ("Nguyễn Minh Khai", "ovrig", None),
    ]


def test_pasted_list_with_broken_lines_saves_nothing(db_session, inspector, make_venue):
    make_venue(name="Pub Ankaret")
    training = services.record_training(inspector, **_aas())
    text = "Emma Karlsson; serveringsansvarig; Pub Ankaret\n; serveringspersonal\nBo Ek; kock\nAli; ovrig; Okänd krog\n"
    with pytest.raises(ServiceError) as caught:
        services.add_pasted_participants(training, inspector, text)
    messages = caught.value.fields["participants_text"]
    assert messages[0].startswith("Rad 2:")
    assert "namn saknas" in messages[0]
    assert messages[1].startswith("Rad 3:")
    assert "kock" in messages[1]
    assert messages[2].startswith("Rad 4:")
    assert "Okänd krog" in messages[2]
    db_session.expire_all()
    assert _count(db_session, TrainingParticipant) == 0


# ---- coverage ----------------------------------------------------------------------------------


def _diploma(inspector, venue, name, on, *, kind="ansvarsfull_alkoholservering", passed=True):
    return services.record_training(
        inspector,
        **_aas(
            kind=kind,
            starts_on=on,
            ends_on=on,
            participants=[
                {"name": name, "role": "serveringsansvarig", "venue_id": venue.id, "passed": passed, "diploma_on": on}
            ],
        ),
    )


def test_coverage_counts_valid_diplomas_only(app, db_session, inspector, make_venue):
    today = date(2026, 11, 25)
    venue = make_venue()
    for name in ("Emma Karlsson", "Ali Hassan", "Sofia Olsson", "Oskar Persson"):
        venue.responsible_servers.append(ResponsibleServer(name=name, birth_year=1990))
    bare = make_venue()
    bare.responsible_servers.append(ResponsibleServer(name="Elin Larsson", birth_year=1980))
    db_session.flush()
    _diploma(inspector, venue, "emma  KARLSSON", date(2024, 5, 2))  # valid, name differently written
    _diploma(inspector, venue, "Ali Hassan", date(2021, 11, 25))  # exactly 5 years old: expired
    _diploma(inspector, venue, "Sofia Olsson", date(2025, 1, 10), passed=False)  # failed the test
    _diploma(inspector, venue, "Oskar Persson", date(2025, 2, 1), kind="krogar_mot_knark")  # not AAS
    _diploma(inspector, bare, "Emma Karlsson", date(2025, 6, 1))  # another venue's staff

    figures = services.coverage([venue.id, bare.id], today=today)
    assert figures[venue.id].servers == 4
    assert figures[venue.id].trained == 1
    assert figures[venue.id].trained_names == ["Emma Karlsson"]
    assert figures[venue.id].last_trained_on == date(2025, 2, 1)
    assert figures[venue.id].months_since == 21
    assert figures[bare.id].trained == 0
    assert figures[bare.id].servers == 1
    assert figures[bare.id].months_since == 17

    app.config["DIPLOMA_VALID_YEARS"] = 6
    try:
        assert services.coverage([venue.id], today=today)[venue.id].trained == 2
    finally:
        app.config["DIPLOMA_VALID_YEARS"] = 5


def test_coverage_of_untrained_venue(db_session, make_venue):
    venue = make_venue()
    figures = services.coverage([venue.id])[venue.id]
    assert (figures.servers, figures.trained, figures.last_trained_on, figures.months_since) == (0, 0, None, None)


def test_coverage_uses_a_fixed_number_of_queries(db_session, inspector, make_venue, query_counter):
    venues = [make_venue() for _ in range(3)]
    with query_counter() as few:
        services.coverage([v.id for v in venues])
    venues += [make_venue() for _ in range(20)]
    for v in venues:
        _diploma(inspector, v, "Emma Karlsson", date(2025, 6, 1))
    db_session.flush()
    with query_counter() as many:
        services.coverage([v.id for v in venues])
    assert many.count == few.count <= 3


def test_diploma_validity_edges():
    today = date(2026, 11, 25)
    assert services.diploma_valid(date(2021, 11, 26), today, 5)
    assert not services.diploma_valid(date(2021, 11, 25), today, 5)
    assert not services.diploma_valid(date(2026, 12, 1), today, 5)  # not yet issued
    assert not services.diploma_valid(None, today, 5)
    assert services.diploma_valid(date(2024, 2, 29), date(2029, 2, 27), 5)
    assert not services.diploma_valid(date(2024, 2, 29), date(2029, 2, 28), 5)


# ---- refusal rates -------------------------------------------------------------------------------


def test_refusal_rate_arithmetic():
    assert services.refusal_rate(0, 0) is None
    assert services.refusal_rate(3, 4) == 0.75
    assert services.refusal_rate(0, 5) == 0
    assert services.refusal_rate(7, 7) == 1


def test_refusal_rates_per_year_and_venue(db_session, inspector, make_venue, make_user, other_kommun):
    a, b = make_venue(name="A-baren"), make_venue(name="B-baren")
    for venue, on, refused in [
        (a, date(2024, 3, 1), False),
        (a, date(2024, 9, 1), True),
        (b, date(2024, 10, 1), True),
        (a, date(2025, 2, 1), True),
    ]:
        services.record_overserving_test(inspector, venue_id=venue.id, tested_on=on, refused=refused, notes=None)
    foreign = make_user("inspector", org=other_kommun)
    services.record_overserving_test(
        foreign, venue_id=make_venue(org=other_kommun).id, tested_on=date(2024, 1, 1), refused=False
    )
    rows = services.refusal_rates(inspector.organisation_id)
    assert [(r.year, r.tests, r.refusals) for r in rows] == [(2024, 3, 2), (2025, 1, 1)]
    assert rows[0].rate == pytest.approx(2 / 3)
    per_venue = services.refusal_rates_by_venue(inspector.organisation_id)
    assert [(v.name, total.tests, total.refusals) for v, _years, total in per_venue] == [
        ("A-baren", 3, 2),
        ("B-baren", 1, 1),
    ]
    assert per_venue[0][1][2024].rate == 0.5


def test_overserving_test_rules(db_session, inspector, make_venue, other_kommun, police):
    foreign = make_venue(org=other_kommun)
    with pytest.raises(ServiceError) as caught:
        services.record_overserving_test(inspector, venue_id=foreign.id, tested_on=date(2025, 1, 1), refused=True)
    assert "venue_id" in caught.value.fields
    with pytest.raises(ServiceError) as caught:
        services.record_overserving_test(inspector, venue_id=make_venue().id, tested_on=date(2999, 1, 1), refused=True)
    assert "tested_on" in caught.value.fields
    with pytest.raises(ServiceError) as caught:
        services.record_overserving_test(police, venue_id=foreign.id, tested_on=date(2025, 1, 1), refused=True)
    assert caught.value.status == 403


# ---- before / after ------------------------------------------------------------------------------


def _signed(make_inspection, author, venue, when, checklist, overservering=0, retracted=0, status="signed"):
    from inspection.inspections.models import Observation

    inspection = make_inspection(venue=venue, participants=[author], start=when, status=status, kind="yttre")
    inspection.checklist = checklist
    for n in range(overservering + retracted):
        inspection.observations.append(
            Observation(
                client_id=f"00000000-0000-4000-8000-{inspection.id:06d}{n:06d}",
                observed_at=when.astimezone(UTC),
                category="overservering",
                description="Serverade en märkbart påverkad gäst.",
                author_id=author.id,
                retracted=n >= overservering,
            )
        )
    return inspection


def test_before_after(db_session, inspector, make_venue, make_inspection):
    venue = make_venue()
    other = make_venue()
    remark = {"status": "anmarkning", "note": "x"}
    ok = {"status": "ok", "note": None}

    def signed(*args, **kw):
        return _signed(make_inspection, inspector, *args, **kw)

    signed(venue, stockholm(2024, 6, 1, 22), {"overservering": remark, "mat": remark}, 2)
    signed(venue, stockholm(2024, 12, 31, 23), {"mat": remark}, 0, retracted=1)
    signed(venue, stockholm(2024, 1, 31, 22), {"mat": remark}, 1)  # more than 12 months before
    signed(venue, stockholm(2025, 4, 1, 22), {"mat": ok, "alderskontroll": remark})
    signed(venue, stockholm(2026, 2, 2, 22), {"mat": remark}, 3)  # more than 12 months after
    signed(other, stockholm(2024, 6, 1, 22), {"mat": remark}, 1)  # another venue
    signed(venue, stockholm(2025, 3, 1, 22), {"mat": remark}, 1, status="in_progress")  # not signed
    db_session.flush()

    result = services.before_after(venue.id, date(2025, 2, 1), today=date(2026, 11, 25))
    assert (result.before.visits, result.before.remarks, result.before.overservering) == (2, 3, 3)
    assert (result.after.visits, result.after.remarks, result.after.overservering) == (1, 1, 0)
    assert result.complete

    pending = services.before_after(venue.id, date(2026, 1, 1), today=date(2026, 11, 25))
    assert not pending.complete
    assert (pending.after.visits, pending.after.remarks, pending.after.overservering) == (1, 1, 3)


def test_before_after_many_uses_two_queries(db_session, make_venue, query_counter):
    venues = [make_venue() for _ in range(5)]
    with query_counter() as counted:
        services.before_after_many({v.id: date(2025, 1, 1) for v in venues})
    assert counted.count <= 2


def test_history_events_for_the_venue_card(db_session, inspector, police, make_venue):
    venue = make_venue()
    services.record_training(
        inspector,
        **_aas(title="Med polisen", starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 2), venue_ids=[venue.id]),
    )
    services.record_training(
        inspector,
        **_aas(
            title="Utan polisen",
            organisers=["kommun"],
            starts_on=date(2026, 1, 5),
            ends_on=date(2026, 1, 5),
            participants=[{"name": "Bo", "role": "ovrig", "venue_id": venue.id}],
        ),
    )
    services.record_overserving_test(inspector, venue_id=venue.id, tested_on=date(2025, 6, 1), refused=True)
    events = services.history_events(venue.id, inspector)
    assert [(e["type"], e["date"]) for e in events] == [
        ("training", "2026-01-05"),
        ("overserving_test", "2025-06-01"),
        ("training", "2025-03-01"),
    ]
    assert [e["type"] for e in services.history_events(venue.id, inspector, year=2025)] == [
        "overserving_test",
        "training",
    ]
    # The police see only trainings organised with them, and no överserveringstest.
    assert [e["title"] for e in services.history_events(venue.id, police)] == [
        "Ansvarsfull alkoholservering: Med polisen"
    ]
