"""The training and överserveringstest endpoints of API.md, and who sees what."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.trainings import services
from inspection.trainings.models import OverservingTest, Training


def _body(**kw):
    body = {
        "kind": "ansvarsfull_alkoholservering",
        "title": "AAS november",
        "starts_on": "2026-11-02",
        "ends_on": "2026-11-03",
        "place": "Stadshuset",
        "organisers": ["kommun", "polis"],
        "venue_ids": [],
        "participants": [],
    }
    body.update(kw)
    return body


def test_create_answers_the_training_object(api, inspector, make_venue, db_session):
    venue = make_venue(name="Hamnkrogen")
    api.as_user(inspector)
    response = api.post(
        "/api/v1/trainings",
        json=_body(
            venue_ids=[venue.id],
            participants=[
                {
                    "name": "Emma Karlsson",
                    "role": "serveringsansvarig",
                    "venue_id": venue.id,
                    "passed": True,
                    "diploma_on": "2026-11-03",
                },
                {"name": "Ali Hassan", "role": "dorrvard", "attended": False},
            ],
        ),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "ansvarsfull_alkoholservering"
    assert body["starts_on"] == "2026-11-02"
    assert body["ends_on"] == "2026-11-03"
    assert body["organisers"] == ["kommun", "polis"]
    assert body["kommun"] == {"id": inspector.organisation_id, "name": "Östersunds kommun"}
    assert body["venues"] == [{"id": venue.id, "name": "Hamnkrogen"}]
    assert body["participants"] == [
        {
            "name": "Emma Karlsson",
            "role": "serveringsansvarig",
            "venue": {"id": venue.id, "name": "Hamnkrogen"},
            "attended": True,
            "passed": True,
            "diploma_on": "2026-11-03",
        },
        {
            "name": "Ali Hassan",
            "role": "dorrvard",
            "venue": None,
            "attended": False,
            "passed": None,
            "diploma_on": None,
        },
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_on": "2026-11-01"}, "ends_on"),
        ({"participants": [{"name": "", "role": "ovrig"}]}, "participants.0.name"),
        ({"participants": [{"role": "ovrig"}]}, "participants.0.name"),
        ({"participants": [{"name": "Bo", "role": "kock"}]}, "participants.0.role"),
        ({"participants": [{"name": "Bo\x00", "role": "ovrig"}]}, "participants.0.name"),
        ({"title": "x" * 201}, "title"),
        ({"starts_on": "2026-13-01"}, "starts_on"),
        ({"kind": "yoga"}, "kind"),
    ],
)
def test_create_refuses_bad_input(api, inspector, db_session, changes, field):
    api.as_user(inspector)
    response = api.post("/api/v1/trainings", json=_body(**changes))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation"
    assert field in response.get_json()["error"]["fields"]
    assert db_session.scalar(select(func.count()).select_from(Training)) == 0


def test_create_refuses_another_kommuns_venue(api, inspector, make_venue, other_kommun):
    foreign = make_venue(org=other_kommun)
    api.as_user(inspector)
    response = api.post("/api/v1/trainings", json=_body(venue_ids=[foreign.id]))
    assert response.status_code == 422
    assert str(foreign.id) in response.get_json()["error"]["fields"]["venue_ids"][0]


def test_bad_json_is_400(api, inspector):
    api.as_user(inspector)
    response = api.post("/api/v1/trainings", data="{", content_type="application/json")
    assert response.status_code == 400


def _record(user, **kw):
    data = {
        "kind": "ansvarsfull_alkoholservering",
        "title": "Kurs",
        "starts_on": date(2026, 3, 1),
        "ends_on": date(2026, 3, 2),
        "organisers": ["kommun"],
    }
    data.update(kw)
    return services.record_training(user, **data)


def test_who_sees_which_trainings(api, client, inspector, police, make_user, make_venue, other_kommun):
    venue = make_venue()
    own_with_police = _record(inspector, title="Med polisen", organisers=["kommun", "polis"], venue_ids=[venue.id])
    own_alone = _record(inspector, title="Bara kommunen")
    colleague_elsewhere = make_user("inspector", org=other_kommun)
    foreign_with_police = _record(colleague_elsewhere, title="Krokom med polisen", organisers=["kommun", "polis"])
    foreign_alone = _record(colleague_elsewhere, title="Krokom ensam")

    def titles(user, query=""):
        api.as_user(user)
        response = api.get(f"/api/v1/trainings{query}")
        assert response.status_code == 200
        body = response.get_json()
        assert body["total"] == len(body["items"])
        return sorted(t["title"] for t in body["items"])

    assert titles(inspector) == ["Bara kommunen", "Med polisen"]
    assert titles(inspector, f"?venue_id={venue.id}") == ["Med polisen"]
    assert titles(police) == ["Krokom med polisen", "Med polisen"]
    assert titles(colleague_elsewhere) == ["Krokom ensam", "Krokom med polisen"]

    api.as_user(police)
    assert api.get(f"/api/v1/trainings/{own_with_police.id}").status_code == 200
    assert api.get(f"/api/v1/trainings/{foreign_with_police.id}").status_code == 200
    assert api.get(f"/api/v1/trainings/{own_alone.id}").status_code == 404
    api.as_user(colleague_elsewhere)
    assert api.get(f"/api/v1/trainings/{own_alone.id}").status_code == 404
    assert api.get(f"/api/v1/trainings/{own_with_police.id}").status_code == 404
    assert api.get(f"/api/v1/trainings/{foreign_alone.id}").status_code == 200


def test_police_may_not_record_trainings(api, police):
    api.as_user(police)
    response = api.post("/api/v1/trainings", json=_body())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_admin_sees_no_trainings(api, admin):
    api.as_user(admin)
    assert api.get("/api/v1/trainings").status_code == 403


def test_pagination(api, inspector):
    for n in range(3):
        _record(inspector, title=f"Kurs {n}")
    api.as_user(inspector)
    body = api.get("/api/v1/trainings?per_page=2&page=2").get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (3, 2, 2, 1)
    assert api.get("/api/v1/trainings?per_page=0").status_code == 422
    assert api.get("/api/v1/trainings?venue_id=abc").status_code == 422


# ---- överserveringstest --------------------------------------------------------------------------


def test_overserving_tests(api, inspector, make_venue, db_session):
    venue = make_venue(name="Pub Ankaret")
    api.as_user(inspector)
    response = api.post(
        "/api/v1/overserving-tests",
        json={"venue_id": venue.id, "tested_on": "2025-10-04", "refused": True, "notes": "Nekade direkt."},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {
        "id": body["id"],
        "venue": {"id": venue.id, "name": "Pub Ankaret"},
        "tested_on": "2025-10-04",
        "refused": True,
        "notes": "Nekade direkt.",
    }
    other = make_venue()
    services.record_overserving_test(inspector, venue_id=other.id, tested_on=date(2025, 1, 1), refused=False)
    listed = api.get(f"/api/v1/overserving-tests?venue_id={venue.id}").get_json()
    assert [t["id"] for t in listed["items"]] == [body["id"]]
    assert api.get("/api/v1/overserving-tests").get_json()["total"] == 2


def test_overserving_test_bad_input(api, inspector, make_venue, other_kommun, db_session):
    api.as_user(inspector)
    foreign = make_venue(org=other_kommun)
    for body, field in [
        ({"venue_id": foreign.id, "tested_on": "2025-10-04", "refused": True}, "venue_id"),
        ({"venue_id": make_venue().id, "tested_on": "2025-10-04"}, "refused"),
        ({"venue_id": make_venue().id, "tested_on": "4 oktober", "refused": False}, "tested_on"),
    ]:
        response = api.post("/api/v1/overserving-tests", json=body)
        assert response.status_code == 422
        assert field in response.get_json()["error"]["fields"]
    assert db_session.scalar(select(func.count()).select_from(OverservingTest)) == 0


def test_other_kommun_sees_no_overserving_tests(api, inspector, make_user, other_kommun, make_venue):
    services.record_overserving_test(inspector, venue_id=make_venue().id, tested_on=date(2025, 1, 1), refused=True)
    api.as_user(make_user("manager", org=other_kommun))
    assert api.get("/api/v1/overserving-tests").get_json()["total"] == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_police_get_403_on_overserving_tests(api, police, make_venue, method):
    api.as_user(police)
    kwargs = {"json": {"venue_id": make_venue().id, "tested_on": "2025-10-04", "refused": True}}
    response = getattr(api, method)("/api/v1/overserving-tests", **(kwargs if method == "post" else {}))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_openapi_describes_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/trainings"])
    assert "403" in spec["paths"]["/api/v1/overserving-tests"]["post"]["responses"]
