"""GET /api/v1/openapi.json is public, a well-formed OpenAPI 3.1 document that lists exactly the API's
routes, and it tells the truth: in a realistic world, every GET endpoint and a representative set of
writes and error cases answer with a status the document lists for that operation, and a JSON body
that validates against the schema documented for that status (API.md: "keep it true by testing the
answers against it").

`jsonschema` is not installed, so a small validator for the subset the document uses lives here
(type, properties, required, items, prefixItems, enum, const, anyOf/oneOf/allOf, $ref,
additionalProperties, minimum/maximum, minLength/maxLength); it is itself tested below.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest

from tests.conftest import PASSWORD

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


# ---- a small JSON Schema validator -------------------------------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def resolve(ref: str, root: dict):
    assert ref.startswith("#/"), f"only local $ref are used: {ref}"
    node = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_errors(value, schema, root: dict, path: str = "$") -> list[str]:
    """The ways `value` breaks `schema` (empty when it is valid)."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{path}: no value allowed"]
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(value, resolve(schema["$ref"], root), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return errors + [f"{path}: {value!r:.60} is not of type {types}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r:.60} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r:.60} != {schema['const']!r}")
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matching = sum(not schema_errors(value, sub, root, path) for sub in schema[key])
            if matching == 0 or (key == "oneOf" and matching > 1):
                errors.append(f"{path}: {value!r:.60} matches {matching} of {key}")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, root, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, str) and not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        errors.append(f"{path}: length {len(value)} outside the limits")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing required {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                errors += schema_errors(item, props[name], root, f"{path}.{name}")
            elif extra is False:
                errors.append(f"{path}: unexpected property {name!r}")
            elif isinstance(extra, dict):
                errors += schema_errors(item, extra, root, f"{path}.{name}")
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items", True)
            errors += schema_errors(item, sub, root, f"{path}[{i}]")
    return errors


def test_the_validator_accepts_a_valid_and_refuses_an_invalid_example():
    root = {
        "components": {
            "schemas": {
                "Ref": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": 5}},
                    "additionalProperties": False,
                }
            }
        }
    }
    schema = {
        "type": "object",
        "required": ["items", "kind"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
            "kind": {"enum": ["a", "b"]},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    }
    assert schema_errors({"items": [{"id": 1, "name": "Ada"}], "kind": "a", "note": None}, schema, root) == []
    errors = schema_errors({"items": [{"id": True, "name": "Alexandra", "x": 1}], "kind": "c", "note": 3}, schema, root)
    assert len(errors) == 5, errors  # bool is no integer, too long, extra property, enum, anyOf
    assert schema_errors({"kind": "a"}, schema, root) == ["$: missing required 'items'"]


# ---- the document itself -------------------------------------------------------------------------------


def _api_routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                out.add((path, method.lower()))
    return out


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/v1/openapi.json")  # no credentials: it is public
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_is_public_and_well_formed(app, spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    for path, item in spec["paths"].items():
        assert path.startswith("/api/v1/"), path
        operations = {k: v for k, v in item.items() if k in HTTP_METHODS}
        assert operations, f"{path} has no operations"
        for method, op in operations.items():
            assert op.get("responses"), f"{method} {path} lists no responses"
            for status, answer in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status), (method, path, status)
                assert answer.get("description"), (method, path, status)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path, declared)
    ids = [op["operationId"] for item in spec["paths"].values() for k, op in item.items() if k in HTTP_METHODS]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    for ref in _refs(spec):
        resolve(ref, spec)  # raises KeyError when a $ref points nowhere


def test_openapi_lists_exactly_the_api_routes(app, spec):
    documented = {(path, m) for path, item in spec["paths"].items() for m in item if m in HTTP_METHODS}
    routes = _api_routes(app) - {("/api/v1/openapi.json", "get")}  # the document need not describe itself
    assert routes - documented == set(), f"routes missing from openapi.json: {sorted(routes - documented)}"
    assert documented - routes == set(), f"documented but not routed: {sorted(documented - routes)}"


# ---- the answers match the document --------------------------------------------------------------------


class Checker:
    """Calls the API and checks each answer against the operation's documented responses."""

    def __init__(self, world, spec):
        self.world = world
        self.spec = spec
        self.problems: list[str] = []
        self.seen: list[tuple[str, str, int]] = []
        self.validated = 0  # JSON bodies checked against a documented schema

    def operation(self, method: str, url: str):
        path = url.split("?")[0]
        for template, item in self.spec["paths"].items():
            pattern = "^" + re.sub(r"\\{\w+\\}", r"[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in item:
                return template, item[method.lower()]
        return None, None

    def call(self, role: str, method: str, url: str, *, expect: int | None = None, headers=None, **kwargs):
        client = self.world.app.test_client()
        response = client.open(url, method=method, headers=self.world.api_headers(role, **(headers or {})), **kwargs)
        try:
            self.check(method, url, response, expect)
            return response.status_code, response.get_json(silent=True), response.headers
        finally:
            response.close()

    def check(self, method, url, response, expect):
        template, op = self.operation(method, url)
        where = f"{method} {url} → {response.status_code}"
        if op is None:
            self.problems.append(f"{where}: not in openapi.json")
            return
        self.seen.append((method, template, response.status_code))
        if expect is not None and response.status_code != expect:
            self.problems.append(f"{where}: expected {expect}: {response.get_data(as_text=True)[:300]}")
        documented = op["responses"].get(str(response.status_code))
        if documented is None:
            self.problems.append(f"{where}: status not documented (documented: {sorted(op['responses'])})")
            return
        content = documented.get("content", {})
        if response.status_code == 204 or not content:
            return
        if response.mimetype == "application/json":
            if "application/json" not in content:
                self.problems.append(f"{where}: answered JSON, documented {sorted(content)}")
                return
            errors = schema_errors(response.get_json(), content["application/json"]["schema"], self.spec)
            self.validated += 1
            if errors:
                self.problems.append(f"{where}: body does not match the schema: {errors[:5]}")
        else:
            kinds = [re.escape(k).replace(r"\*", ".*") for k in content]
            if not any(re.fullmatch(k, response.mimetype) for k in kinds):
                self.problems.append(f"{where}: answered {response.mimetype}, documented {sorted(content)}")


def _fill(template: str, ids: dict) -> str:
    ids = dict(ids)
    if "amendment_id" in template:
        ids["inspection_id"] = ids["signed_inspection_id"]
    return re.sub(r"{(\w+)}", lambda m: str(ids[m.group(1)]), template)


def test_every_get_answer_matches_the_document(world, isolated, spec):
    checker = Checker(world, spec)
    for template, item in sorted(spec["paths"].items()):
        if "get" not in item:
            continue
        url = _fill(template, world.ids)
        if template.endswith("/reports/summary"):
            url += f"?kommun_id={world.ids['kommun_a']}"
        for role in ("inspector", "police_in", "other_kommun"):
            checker.call(role, "GET", url)
    # error answers of reads
    checker.call("inspector", "GET", f"/api/v1/venues/{world.other_ids['venue_id']}", expect=404)
    checker.call("inspector", "GET", "/api/v1/inspections/999999", expect=404)
    checker.call("inspector", "GET", "/api/v1/venues?page=0", expect=422)
    checker.call("inspector", "GET", "/api/v1/inspections?from=gestern", expect=422)
    checker.call("police_in", "GET", "/api/v1/users", expect=403)
    checker.call("police_in", "GET", f"/api/v1/venues/{world.ids['venue_id']}/history", expect=403)
    checker.call("police_in", "GET", "/api/v1/cases", expect=403)
    checker.call("anonymous", "GET", "/api/v1/me", expect=401)
    assert not checker.problems, "\n".join(checker.problems)
    assert len(checker.seen) > 40
    assert checker.validated > 35


def test_writes_and_their_errors_match_the_document(world, isolated, spec):
    c = Checker(world, spec)
    ids = world.ids
    users = world.users
    today = date.today()

    # sign-in and sign-out
    c.call(
        "anonymous", "POST", "/api/v1/tokens", json={"email": users["manager"].email, "password": PASSWORD}, expect=201
    )
    c.call("anonymous", "POST", "/api/v1/tokens", data="{nope", content_type="application/json", expect=400)

    # venues
    venue = {
        "name": "Nya Krogen",
        "address": "Kyrkgatan 2",
        "permit_holder": "Nya Krogen AB",
        "org_number": "5560160680",
        "permit": {
            "number": f"N-{uuid.uuid4().hex[:6]}",
            "scope": "allmanheten",
            "kind": "stadigvarande",
            "serving_hours": "11:00–02:00",
        },
        "responsible_servers": [{"name": "Sven Svensson", "birth_year": 1980}],
    }
    status, body, _ = c.call("inspector", "POST", "/api/v1/venues", json=venue, expect=201)
    new_venue = body["id"] if status == 201 else ids["venue_id"]
    c.call("inspector", "POST", "/api/v1/venues", json={**venue, "name": "x\x00"}, expect=422)
    c.call("inspector", "PATCH", f"/api/v1/venues/{new_venue}", json={"area": "Centrum"}, expect=200)
    c.call("police_in", "POST", "/api/v1/venues", json=venue, expect=403)

    # scheduling
    start = f"{today.isoformat()}T20:00:00+01:00"
    end = f"{today.isoformat()}T23:00:00+01:00"
    plan = {
        "venue_id": ids["venue_id"],
        "kind": "samordnad",
        "planned_start": start,
        "planned_end": end,
        "participant_ids": [users["inspector"].id, users["police_in"].id],
        "other_participants": [{"name": "Skatteverket", "organisation": "Skatteverket"}],
    }
    status, body, headers = c.call("inspector", "POST", "/api/v1/inspections", json=plan, expect=201)
    assert status == 201, c.problems
    iid = body["id"]
    c.call("inspector", "POST", "/api/v1/inspections", json={**plan, "planned_start": "2026-01-01T20:00"}, expect=422)
    c.call(
        "inspector", "POST", "/api/v1/inspections", json={**plan, "venue_id": world.other_ids["venue_id"]}, expect=404
    )
    c.call("police_in", "POST", f"/api/v1/inspections/{iid}/responses", json={"response": "accepted"}, expect=200)

    # the protocol, with If-Match
    status, body, headers = c.call("inspector", "GET", f"/api/v1/inspections/{iid}", expect=200)
    etag = headers.get("ETag")
    assert re.fullmatch(r'"\d+"', etag or ""), etag
    patch = {"protocol": {"contact_person": "Kim Krögare", "checklist": {"mat": {"status": "ok", "note": None}}}}
    c.call("inspector", "PATCH", f"/api/v1/inspections/{iid}", json=patch, expect=428)
    c.call("inspector", "PATCH", f"/api/v1/inspections/{iid}", json=patch, headers={"If-Match": '"999"'}, expect=412)
    status, body, headers = c.call(
        "inspector", "PATCH", f"/api/v1/inspections/{iid}", json=patch, headers={"If-Match": etag}, expect=200
    )
    etag = headers.get("ETag")
    c.call(
        "inspector",
        "PATCH",
        f"/api/v1/inspections/{iid}",
        json={"protocol": {"checklist": {"nope": {}}}},
        headers={"If-Match": etag},
        expect=422,
    )

    # observations
    observation = {
        "client_id": str(uuid.uuid4()),
        "observed_at": f"{today.isoformat()}T21:15:00+01:00",
        "category": "berusning",
        "intoxication_level": "markbart_paverkad",
        "description": "Gäst somnar vid bordet.",
    }
    status, body, _ = c.call(
        "police_in", "POST", f"/api/v1/inspections/{iid}/observations", json=observation, expect=201
    )
    c.call("police_in", "POST", f"/api/v1/inspections/{iid}/observations", json=observation, expect=200)
    if status == 201:
        c.call(
            "inspector",
            "POST",
            f"/api/v1/inspections/{iid}/observations/{body['id']}/retract",
            json={"reason": "Fel krog."},
            expect=200,
        )
    c.call(
        "inspector",
        "POST",
        f"/api/v1/inspections/{iid}/observations",
        json={**observation, "client_id": str(uuid.uuid4()), "category": "x"},
        expect=422,
    )

    # signing: the police may not sign first (409); the inspector signs; then the protocol is locked
    c.call("police_in", "POST", f"/api/v1/inspections/{iid}/signatures", json={"password": PASSWORD}, expect=409)
    c.call("inspector", "POST", f"/api/v1/inspections/{iid}/signatures", json={"password": "fel"}, expect=422)
    c.call("inspector", "POST", f"/api/v1/inspections/{iid}/signatures", json={"password": PASSWORD}, expect=201)
    c.call("inspector", "POST", f"/api/v1/inspections/{iid}/signatures", json={"password": PASSWORD}, expect=200)
    status, body, headers = c.call("inspector", "GET", f"/api/v1/inspections/{iid}", expect=200)
    c.call(
        "inspector",
        "PATCH",
        f"/api/v1/inspections/{iid}",
        json=patch,
        headers={"If-Match": headers.get("ETag")},
        expect=409,
    )
    c.call(
        "inspector",
        "POST",
        f"/api/v1/inspections/{iid}/observations",
        json={**observation, "client_id": str(uuid.uuid4())},
        expect=409,
    )
    c.call("inspector", "POST", f"/api/v1/inspections/{iid}/reopen", json={"reason": "Fel i protokollet."}, expect=200)
    c.call(
        "inspector",
        "POST",
        f"/api/v1/inspections/{ids['inspection_id']}/cancel",
        json={"reason": "Stängt."},
        expect=200,
    )

    # cases
    case = {"venue_id": ids["venue_id"], "inspection_ids": [ids["signed_inspection_id"]], "summary": "Överservering."}
    status, body, _ = c.call("inspector", "POST", "/api/v1/cases", json=case, expect=201)
    case_id = body["id"] if status == 201 else ids["case_id"]
    step = {"kind": "proposal", "date": today.isoformat(), "sanction": "varning", "legal_ground": "9 kap. 17 §"}
    c.call("inspector", "POST", f"/api/v1/cases/{case_id}/steps", json=step, expect=201)
    c.call(
        "inspector",
        "POST",
        f"/api/v1/cases/{case_id}/steps",
        json={"kind": "appeal_outcome", "date": today.isoformat(), "outcome": "avslag"},
        expect=409,
    )
    c.call("inspector", "POST", f"/api/v1/cases/{case_id}/steps", json={"kind": "nope"}, expect=422)
    c.call("police_in", "GET", f"/api/v1/cases/{case_id}", expect=404)

    # trainings and överserveringstest
    training = {
        "kind": "krogar_mot_knark",
        "title": "Krogar mot knark",
        "starts_on": (today - timedelta(days=2)).isoformat(),
        "ends_on": (today - timedelta(days=1)).isoformat(),
        "organisers": ["kommun", "polis"],
        "venue_ids": [ids["venue_id"]],
        "participants": [{"name": "Sara Servitör", "role": "serveringspersonal", "venue_id": ids["venue_id"]}],
    }
    c.call("inspector", "POST", "/api/v1/trainings", json=training, expect=201)
    c.call("inspector", "POST", "/api/v1/trainings", json={**training, "kind": "nope"}, expect=422)
    test = {"venue_id": ids["venue_id"], "tested_on": today.isoformat(), "refused": True, "notes": "Nekade."}
    c.call("manager", "POST", "/api/v1/overserving-tests", json=test, expect=201)
    c.call("police_in", "POST", "/api/v1/overserving-tests", json=test, expect=403)

    c.call("inspector", "DELETE", "/api/v1/tokens/current", expect=204)
    assert not c.problems, "\n".join(c.problems)
    assert c.validated > 30
