"""The venue endpoints of API.md: the Venue object, validation, PATCH semantics, search and roles."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from inspection.audit import AuditEntry
from inspection.venues.models import Venue

VENUE_KEYS = {
    "id",
    "name",
    "address",
    "area",
    "kommun",
    "permit_holder",
    "org_number",
    "permit_holder_email",
    "permit",
    "risk_class",
    "risk_class_reason",
    "responsible_servers",
    "active",
}
PERMIT_KEYS = {
    "number",
    "scope",
    "kind",
    "serving_hours",
    "outdoor_serving_hours",
    "max_guests",
    "ordningsvakter_required",
    "valid_from",
    "valid_to",
}


def _count(db_session) -> int:
    return db_session.scalar(select(func.count(Venue.id)))


def test_create_answers_the_venue_object(api, inspector, kommun, venue_body):
    api.as_user(inspector)
    response = api.post("/api/v1/venues", json=venue_body())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == VENUE_KEYS
    assert set(body["permit"]) == PERMIT_KEYS
    assert body["kommun"] == {"id": kommun.id, "name": "Östersunds kommun"}
    assert body["org_number"] == "556016-0680"
    assert body["permit"]["serving_hours"] == "11:00-01:00"  # en dash answered as a hyphen
    assert body["responsible_servers"][0]["name"] == "Kim Berg"
    assert body["responsible_servers"][0]["notified_on"] == "2025-03-01"
    assert body["active"] is True
    assert body["risk_class"] in (1, 2, 3)
    assert body["risk_class_reason"].startswith("Beräknad")
    assert api.get(f"/api/v1/venues/{body['id']}").get_json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"org_number": "556016-0681"}, "org_number"),
        ({"org_number": "12345"}, "org_number"),
        ({"permit": {"serving_hours": "25:00-01:00"}}, "permit.serving_hours"),
        ({"permit": {"serving_hours": "11:00-01:60"}}, "permit.serving_hours"),
        ({"permit": {"outdoor_serving_hours": "11-23"}}, "permit.outdoor_serving_hours"),
        ({"permit": {"scope": "alla"}}, "permit.scope"),
        ({"permit": {"max_guests": 0}}, "permit.max_guests"),
        (
            {"responsible_servers": [{"name": "Ung", "birth_year": date.today().year - 19}]},
            "responsible_servers.0.birth_year",
        ),
        ({"responsible_servers": [{"name": "", "birth_year": 1980}]}, "responsible_servers.0.name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Bar\x00"}, "name"),
        ({"name": "   "}, "name"),
        ({"permit_holder_email": "inte-en-adress"}, "permit_holder_email"),
        ({"risk_class": 4}, "risk_class"),
    ],
)
def test_bad_input_is_422_on_the_field_and_nothing_is_saved(api, inspector, db_session, venue_body, change, field):
    api.as_user(inspector)
    body = venue_body()
    for key, value in change.items():
        if key == "permit":
            body["permit"].update(value)
        else:
            body[key] = value
    before = _count(db_session)
    response = api.post("/api/v1/venues", json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert field in error["fields"], error
    assert _count(db_session) == before


def test_missing_required_fields_are_named(api, inspector):
    api.as_user(inspector)
    response = api.post("/api/v1/venues", json={"name": "Bar"})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    for name in ("address", "permit_holder", "org_number", "permit"):
        assert name in fields


def test_duplicate_permit_number_in_the_kommun_is_422(api, inspector, make_venue, other_kommun, venue_body):
    make_venue(permit_number="ÖSD-2020-1")
    make_venue(org=other_kommun, permit_number="ÖSD-2020-2")
    api.as_user(inspector)
    body = venue_body()
    body["permit"]["number"] = "ÖSD-2020-1"
    response = api.post("/api/v1/venues", json=body)
    assert response.status_code == 422
    assert "permit.number" in response.get_json()["error"]["fields"]
    body["permit"]["number"] = "ÖSD-2020-2"  # the same number in another kommun is fine
    assert api.post("/api/v1/venues", json=body).status_code == 201


def test_malformed_json_is_400(api, inspector):
    api.as_user(inspector)
    response = api.post("/api/v1/venues", data="{", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_patch_changes_only_what_is_sent(api, inspector, venue_body, db_session):
    api.as_user(inspector)
    created = api.post("/api/v1/venues", json=venue_body()).get_json()
    response = api.patch(f"/api/v1/venues/{created['id']}", json={"permit": {"serving_hours": "11:00-03:00"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["permit"]["serving_hours"] == "11:00-03:00"
    # permit merges per key; everything else is kept
    for key in ("number", "scope", "kind", "outdoor_serving_hours", "max_guests"):
        assert body["permit"][key] == created["permit"][key]
    assert body["name"] == created["name"]
    assert body["responsible_servers"] == created["responsible_servers"]
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "venue.update", AuditEntry.object_id == created["id"])
    ).one()
    assert entry.details["permit.serving_hours"] == ["11:00-01:00", "11:00-03:00"]


def test_patch_responsible_servers_replaces_the_list(api, inspector, venue_body):
    api.as_user(inspector)
    created = api.post("/api/v1/venues", json=venue_body()).get_json()
    url = f"/api/v1/venues/{created['id']}"
    new = [
        {"name": "Alex Ek", "birth_year": 1985},
        {"name": "Sam Lund", "birth_year": 1979, "notified_on": "2026-01-10"},
    ]
    body = api.patch(url, json={"responsible_servers": new}).get_json()
    assert [s["name"] for s in body["responsible_servers"]] == ["Alex Ek", "Sam Lund"]
    body = api.patch(url, json={"name": "Bar Jämtlandia II"}).get_json()
    assert [s["name"] for s in body["responsible_servers"]] == ["Alex Ek", "Sam Lund"]
    body = api.patch(url, json={"responsible_servers": []}).get_json()
    assert body["responsible_servers"] == []


def test_patch_with_bad_input_saves_nothing(api, inspector, venue_body):
    api.as_user(inspector)
    created = api.post("/api/v1/venues", json=venue_body()).get_json()
    url = f"/api/v1/venues/{created['id']}"
    response = api.patch(url, json={"name": "Nytt namn", "org_number": "556016-0681"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["org_number"]
    assert api.get(url).get_json()["name"] == created["name"]
    response = api.patch(url, json={"name": None})
    assert response.status_code == 422
    assert "name" in response.get_json()["error"]["fields"]


def test_patch_duplicate_permit_number_is_422(api, inspector, make_venue, venue_body):
    make_venue(permit_number="T-1")
    api.as_user(inspector)
    created = api.post("/api/v1/venues", json=venue_body()).get_json()
    response = api.patch(f"/api/v1/venues/{created['id']}", json={"permit": {"number": "T-1"}})
    assert response.status_code == 422
    assert "permit.number" in response.get_json()["error"]["fields"]
    # its own number again is no duplicate
    same = api.patch(f"/api/v1/venues/{created['id']}", json={"permit": {"number": created["permit"]["number"]}})
    assert same.status_code == 200


def test_risk_class_override_with_reason_and_back(api, inspector, venue_body):
    api.as_user(inspector)
    created = api.post("/api/v1/venues", json=venue_body()).get_json()
    url = f"/api/v1/venues/{created['id']}"
    body = api.patch(url, json={"risk_class": 3, "risk_class_reason": "Polisens lägesbild: bråk i kön."}).get_json()
    assert body["risk_class"] == 3
    assert body["risk_class_reason"] == "Polisens lägesbild: bråk i kön."
    # a later permit change keeps the override
    body = api.patch(url, json={"permit": {"max_guests": 80}}).get_json()
    assert body["risk_class"] == 3
    body = api.patch(url, json={"risk_class": None}).get_json()
    assert body["risk_class"] == created["risk_class"]
    assert body["risk_class_reason"].startswith("Beräknad")


def test_search_and_filters(api, inspector, make_venue, other_kommun):
    make_venue(name="Hamnkrogen", area="Hamnen", risk_class=1)
    make_venue(name="Pub Ankaret", address="Hamngatan 3", area="Centrum", risk_class=3)
    make_venue(name="Vinkällaren", permit_holder="Hamnbolaget AB", area="Centrum", risk_class=2)
    make_venue(name="Hamnbaren", org=other_kommun)
    api.as_user(inspector)
    names = lambda r: sorted(v["name"] for v in r.get_json()["items"])  # noqa: E731
    assert names(api.get("/api/v1/venues?q=hamn")) == ["Hamnkrogen", "Pub Ankaret", "Vinkällaren"]
    assert names(api.get("/api/v1/venues?area=Centrum")) == ["Pub Ankaret", "Vinkällaren"]
    assert names(api.get("/api/v1/venues?risk_class=3")) == ["Pub Ankaret"]
    page = api.get("/api/v1/venues?per_page=2&page=2").get_json()
    assert page["total"] == 3
    assert page["page"] == 2
    assert page["per_page"] == 2
    assert len(page["items"]) == 1
    assert api.get("/api/v1/venues?risk_class=5").status_code == 422
    assert api.get("/api/v1/venues?per_page=0").status_code == 422


def test_another_kommun_gets_404_on_every_venue_url(api, make_user, other_kommun, make_venue):
    venue = make_venue()
    stranger = make_user("manager", org=other_kommun)
    api.as_user(stranger)
    for response in (
        api.get(f"/api/v1/venues/{venue.id}"),
        api.patch(f"/api/v1/venues/{venue.id}", json={"name": "Kapad"}),
        api.get(f"/api/v1/venues/{venue.id}/history"),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert api.get("/api/v1/venues").get_json()["total"] == 0


def test_police_rules(api, police, inspector, make_venue, make_inspection, venue_body):
    mine = make_venue(name="Med polisen")
    other = make_venue(name="Utan polisen")
    make_inspection(venue=mine, participants=[inspector, police])
    api.as_user(police)
    assert api.post("/api/v1/venues", json=venue_body()).status_code == 403
    assert api.get(f"/api/v1/venues/{mine.id}").status_code == 200
    assert api.get(f"/api/v1/venues/{other.id}").status_code == 404
    assert api.get(f"/api/v1/venues/{mine.id}/history").status_code == 403
    assert api.get(f"/api/v1/venues/{other.id}/history").status_code == 404
    assert api.patch(f"/api/v1/venues/{mine.id}", json={"name": "x"}).status_code == 403
    assert [v["name"] for v in api.get("/api/v1/venues").get_json()["items"]] == ["Med polisen"]


def test_admin_may_not_use_the_venue_api(api, admin, make_venue, venue_body):
    venue = make_venue()
    api.as_user(admin)
    assert api.get("/api/v1/venues").status_code == 403
    assert api.post("/api/v1/venues", json=venue_body()).status_code == 403
    assert api.get(f"/api/v1/venues/{venue.id}").status_code == 403


def test_openapi_describes_the_venue_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/venues"])
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/venues/{venue_id}"])
    assert "404" in spec["paths"]["/api/v1/venues/{venue_id}/history"]["get"]["responses"]


def test_list_items_are_the_venue_object(api, inspector, make_venue, db_session):
    """The list reads plain columns; each item must still be exactly what GET /venues/<id> answers
    (and what the VenueOut schema makes of it)."""
    from inspection.venues.models import ResponsibleServer
    from inspection.venues.schemas import VenueOut

    full = make_venue(
        name="Krogen Full",
        area="Centrum",
        permit_holder_email="info@krogen.se",
        outdoor_serving_hours="12:00-22:00",
        valid_from=date(2024, 1, 1),
        valid_to=date(2027, 12, 31),
        ordningsvakter_required=True,
        risk_class_reason="Stort ställe.",
    )
    full.responsible_servers.extend(
        [
            ResponsibleServer(name="Kim Berg", birth_year=1990, notified_on=date(2025, 3, 1)),
            ResponsibleServer(name="Alex Ek", birth_year=1985),
        ]
    )
    make_venue(name="Krogen Tom", max_guests=None, active=False)
    db_session.flush()
    api.as_user(inspector)
    items = api.get("/api/v1/venues?q=krogen").get_json()["items"]
    assert [item["name"] for item in items] == ["Krogen Full", "Krogen Tom"]
    for item in items:
        assert item == api.get(f"/api/v1/venues/{item['id']}").get_json()
        assert item == VenueOut.model_validate(item).model_dump(mode="json")
    assert [s["name"] for s in items[0]["responsible_servers"]] == ["Kim Berg", "Alex Ek"]
    assert items[0]["responsible_servers"][0]["notified_on"] == "2025-03-01"
    assert items[1]["responsible_servers"] == []


@pytest.mark.parametrize("per_page", [1, 2, 3, 4])
def test_total_counts_every_match_whatever_the_page(api, inspector, make_venue, per_page):
    for name in ("BAR Ett", "Bar Två", "Vinbaren", "Café"):
        make_venue(name=name)
    api.as_user(inspector)
    for page in (1, 2, 3, 4, 5):
        answer = api.get(f"/api/v1/venues?q=bAr&per_page={per_page}&page={page}").get_json()
        assert answer["total"] == 3  # the search ignores case, as before
        assert len(answer["items"]) == max(0, min(per_page, 3 - (page - 1) * per_page))
