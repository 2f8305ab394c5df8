"""Access control matrix (issue 11 item 4; API.md "Who may do what").

ONE parametrised test over every route in `app.url_map` × every role, against the explicit table
EXPECT below. A route missing from the table fails with a message telling the developer to add it,
so no new route goes unchecked. Plus: another kommun's object answers exactly like a missing one.

Roles (columns, in this order): the inspector and the manager of the owning kommun (A), an inspector
of ANOTHER kommun (B), a police officer who takes part in the joint inspection, one who does not, an
admin, and anonymous. URL parameters are replaced by the id of kommun A's matching object.

Outcomes:
  ok    GET: 2xx or a redirect that is not to /login or /admin/users. Unsafe methods: the permission
        let the call through: not 401/403/404 and never 500 (the empty body may well be 422 or 409).
  403   exactly 403 (API: error code `forbidden`)
  404   exactly 404 (API: error code `not_found`)
  D     denied: 403 or 404, or (pages only) a redirect to /admin/users (the admin's start page)
  L     anonymous: API 401 `unauthorized`, pages a redirect to /login
  a number: exactly that status (e.g. 409 for a decision letter before any decision)
Never a 2xx for a denied caller, never a 500 for anybody.
"""

from __future__ import annotations

import functools
import io
import re
import uuid

import pytest

from inspection.extensions import db
from tests.security.conftest import ROLES, png_bytes

#                     inspector manager other_kommun police_in police_out admin anonymous
PUBLIC = "ok ok ok ok ok ok ok"
SIGNED_IN = "ok ok ok ok ok ok L"
USER = "ok ok ok ok ok D L"  # every user of the app's content (not the admin)
STAFF = "ok ok ok 403 403 D L"  # kommun staff only; lists/forms scoped to their own kommun
OBJECT = "ok ok 404 ok 404 D L"  # an inspection (or what hangs on it): staff + participating police
OBJECT_STAFF = "ok ok 404 403 404 D L"  # visible to the participating officer, changed by staff only
KOMMUN_INTERNAL = "ok ok 404 404 404 D L"  # cases: police see nothing (404 on a case)
TRAINING = "ok ok 404 ok ok D L"  # organised with the police: every officer may read it
TRAINING_EDIT = "ok ok 404 403 403 D L"
ADMIN_ONLY = "D D D D D ok L"
PARTICIPANT = "ok 403 404 ok 404 D L"  # the manager does not take part in the joint inspection
# a change the police may never make: 403 by role before any look-up (API.md's error order)
STAFF_CHANGE = "ok ok 404 403 403 D L"
REPORT = "ok ok 404 ok ok D L"  # kommun A's figures: its staff and any police officer

EXPECT: dict[str, str] = {
    # ---- public (API.md "Public, with no sign-in")
    "GET main.healthz": PUBLIC,
    "GET main.manifest": PUBLIC,
    "GET main.service_worker": PUBLIC,
    "GET main.verify": PUBLIC,
    "GET api.openapi": PUBLIC,
    "GET inspections.calendar_feed": PUBLIC,
    "GET auth.login": PUBLIC,
    "POST auth.login": PUBLIC,
    "POST api.create_token": PUBLIC,
    # ---- the signed-in user's own things
    "GET main.index": USER,
    "GET auth.profile": SIGNED_IN,
    "POST auth.logout": SIGNED_IN,
    "POST auth.rotate_calendar": SIGNED_IN,
    "POST auth.otp_start": SIGNED_IN,
    "POST auth.otp_confirm": SIGNED_IN,
    "POST auth.otp_disable": SIGNED_IN,
    "POST auth.change_password": SIGNED_IN,
    "GET api.me": SIGNED_IN,
    "DELETE api.revoke_token": SIGNED_IN,
    # ---- admin pages ("manage users and organisations": admins only; managers read their audit log)
    "GET admin.users": ADMIN_ONLY,
    "GET admin.edit_user": ADMIN_ONLY,
    "POST admin.edit_user": ADMIN_ONLY,
    "GET admin.new_user": ADMIN_ONLY,
    "POST admin.new_user": ADMIN_ONLY,
    "GET admin.organisations": ADMIN_ONLY,
    "POST admin.organisations": ADMIN_ONLY,
    "GET admin.audit_log": "D ok D D D ok L",
    # ---- users (GET /api/v1/users: kommun staff and admins; police 403)
    "GET api.users": "ok ok ok 403 403 ok L",
    # ---- venues: own kommun; police the card of venues in their inspections, not the history (403)
    "GET api.list_venues": USER,
    "POST api.create_venue": STAFF,
    "GET api.get_venue": OBJECT,
    "PATCH api.update_venue": STAFF_CHANGE,
    "GET api.venue_history_api": OBJECT_STAFF,
    "GET venues.index": USER,
    "GET venues.card": OBJECT,
    "GET venues.history": OBJECT_STAFF,
    "GET venues.edit": OBJECT_STAFF,
    "POST venues.edit": OBJECT_STAFF,
    "POST venues.close": OBJECT_STAFF,
    "POST venues.reopen": OBJECT_STAFF,
    "GET venues.create": STAFF,
    "POST venues.create": STAFF,
    "GET venues.import_csv": STAFF,
    "POST venues.import_csv": STAFF,
    # ---- inspections: schedule/change/cancel/reopen own kommun (police 403); read/protocol/observe
    #      own kommun's or those they take part in; sign if a participant
    "GET api.inspections_list": "ok ok ok ok ok 403 L",
    "POST api.inspections_create": STAFF,
    "GET api.protocol_inspection_get": OBJECT,
    "PATCH api.protocol_inspection_patch": OBJECT,
    "POST api.inspection_respond": PARTICIPANT,
    "POST api.inspection_cancel": STAFF_CHANGE,
    "POST api.protocol_observation_create": OBJECT,
    "POST api.protocol_presence": OBJECT,
    "POST api.protocol_observation_retract": OBJECT,
    "POST api.protocol_photo_create": OBJECT,
    "GET api.protocol_photo_get": OBJECT,
    "POST api.protocol_sign": PARTICIPANT,
    "POST api.protocol_reopen": STAFF_CHANGE,
    "POST api.protocol_amendment_create": STAFF_CHANGE,
    # the amendment is on the signed inre inspection: only the inspector took part in it
    "POST api.protocol_amendment_sign": "ok 403 404 404 404 D L",
    "GET api.inspection_protocol_pdf": OBJECT,
    "GET inspections.detail": OBJECT,
    "GET inspections.documents_page": OBJECT,
    "POST inspections.documents_page": OBJECT_STAFF,
    "GET inspections.cancel_page": OBJECT_STAFF,
    "POST inspections.cancel_page": OBJECT_STAFF,
    "GET inspections.edit_schedule": OBJECT_STAFF,
    "POST inspections.edit_schedule": OBJECT_STAFF,
    "POST inspections.reopen": OBJECT_STAFF,
    "GET inspections.protocol_download": OBJECT,
    "GET inspections.sign": OBJECT,
    "POST inspections.sign": PARTICIPANT,
    "GET inspections.respond_page": PARTICIPANT,
    "POST inspections.respond_page": PARTICIPANT,
    "POST inspections.add_amendment": OBJECT_STAFF,
    "POST inspections.sign_amendment": "ok 403 404 404 404 D L",
    "GET inspections.archive": STAFF,
    "GET inspections.archive_zip": STAFF,
    "GET inspections.due": STAFF,
    "GET inspections.calendar_page": USER,
    "GET inspections.mine": USER,
    "GET inspections.new": STAFF,
    "POST inspections.new": STAFF,
    "GET inspections.plan": STAFF,
    "POST inspections.plan": "403 ok 403 403 403 D L",  # managers change the tillsynsplan
    "GET inspections.round_page": OBJECT,
    "POST inspections.round_respond": "ok D 404 ok 404 D L",  # the manager takes no part
    "GET inspections.round_new": STAFF,
    "POST inspections.round_new": STAFF,
    # ---- trainings: own kommun read/record; police read those organised with the police
    "GET api.list_trainings": USER,
    "POST api.create_training": STAFF,
    "GET api.get_training": TRAINING,
    "GET trainings.index": USER,
    "GET trainings.detail": TRAINING,
    "GET trainings.edit": TRAINING_EDIT,
    "POST trainings.edit": TRAINING_EDIT,
    "POST trainings.paste": TRAINING_EDIT,
    "POST trainings.add_servers": TRAINING_EDIT,
    "POST trainings.delete": TRAINING_EDIT,
    "GET trainings.new": STAFF,
    "POST trainings.new": STAFF,
    "GET trainings.coverage": STAFF,
    "GET trainings.effect": STAFF,
    # ---- överserveringstest: own kommun; police 403
    "GET api.list_overserving_tests": STAFF,
    "POST api.create_overserving_test": STAFF,
    "GET trainings.tests": STAFF,
    "GET trainings.rates": STAFF,
    "GET trainings.new_test": STAFF,
    "POST trainings.new_test": STAFF,
    "POST trainings.delete_test": "ok ok 404 D D D L",
    # ---- cases: kommun-internal; police 403 on the list, 404 on a case; decisions by managers
    "GET api.list_cases": STAFF,
    "POST api.create_case": STAFF,
    "GET api.get_case": KOMMUN_INTERNAL,
    "POST api.add_step": STAFF_CHANGE,
    "GET cases.index": STAFF,
    "GET cases.queue": STAFF,
    "GET cases.new": STAFF,
    "POST cases.new": STAFF,
    "GET cases.detail": KOMMUN_INTERNAL,
    "POST cases.add_step": KOMMUN_INTERNAL,
    "POST cases.upload": KOMMUN_INTERNAL,
    "GET cases.document": KOMMUN_INTERNAL,
    "GET cases.kommunicering_pdf": KOMMUN_INTERNAL,
    "GET cases.decision_pdf": "409 409 404 404 404 D L",  # no decision yet: nothing to print
    "GET cases.templates": "403 ok 403 403 403 D L",  # managers edit the letter templates
    "POST cases.templates": "403 ok 403 403 403 D L",
    # ---- reports: own kommun; police any kommun (figures only); asked for kommun A
    "GET api.report_summary": "ok ok D ok ok D L",
    "GET reports.index": USER,
    "GET reports.yearly": REPORT,
    "GET reports.yearly_csv": REPORT,
    "GET reports.export": USER,  # police: what they may see, without cases
    "GET reports.half_year": REPORT,
    "GET reports.half_year_pdf": REPORT,
    "POST reports.half_year_texts": STAFF,
    "GET reports.police": "403 403 403 ok ok D L",
}

#: known bugs: (key, role) -> the exact bug. Each is an xfail(strict): fixing the bug makes it fail
#: until the entry is removed here.
KNOWN_BUGS: dict[tuple[str, str], str] = {
    # (route, role): "the exact bug", marked xfail(strict=True) until fixed. None known now.
}

#: query strings some routes need to answer at all (reports for kommun A)
QUERY = {
    "api.report_summary": "kommun_id={kommun_a}",
    "reports.yearly": "kommun_id={kommun_a}",
    "reports.yearly_csv": "kommun_id={kommun_a}",
    "reports.half_year": "kommun_id={kommun_a}",
    "reports.half_year_pdf": "kommun_id={kommun_a}",
    "reports.export": "kommun_id={kommun_a}",
}
#: extra form fields some pages need to reach their permission check
FORM = {"trainings.add_servers": {"venue_id": "{venue_id}"}}

MULTIPART = {"api.protocol_photo_create"}

PUBLIC_ENDPOINTS_NO_LEAK_CHECK = {"main.verify", "inspections.calendar_feed", "api.openapi"}


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


#: other spellings of the same URL parameters
ALIASES = {"oid": "observation_id", "aid": "amendment_id", "pid": "photo_id"}


def url_for_rule(rule: str, endpoint: str, ids: dict) -> str:
    ids = dict(ids)
    if "amendment_id" in rule:  # amendments hang on the signed inspection
        ids["inspection_id"] = ids["signed_inspection_id"]

    for alias, name in ALIASES.items():
        ids.setdefault(alias, ids.get(name))

    def sub(match):
        name = match.group(1)
        if ids.get(name) is None:
            pytest.fail(
                f"URL parameter <{name}> of {rule} has no object in the world: build one in "
                "tests/security/conftest.py and put its id in world.ids (and world.other_ids for kommun B)"
            )
        return str(ids[name])

    url = re.sub(r"<(?:\w+:)?(\w+)>", sub, rule)
    if endpoint in QUERY:
        url += "?" + QUERY[endpoint].format(**ids)
    return url


def call(world, role: str, method: str, url: str, endpoint: str):
    """One request as `role`: the API with the role's bearer token and a JSON body, pages with the
    role's session and a valid CSRF token (so the answer reflects the permission, not CSRF)."""
    if url.startswith("/api/"):
        kwargs = {"json": {}} if method != "GET" else {}
        if endpoint in MULTIPART:
            kwargs = {
                "data": {"file": (io.BytesIO(png_bytes()), "bild.png", "image/png"), "client_id": str(uuid.uuid4())}
            }
        return world.app.test_client().open(url, method=method, headers=world.api_headers(role), **kwargs)
    client = world.client(role)
    if method == "GET":
        return client.get(url)
    data = {"csrf_token": world.csrf.get(role, "")}
    data.update({k: v.format(**world.ids) for k, v in FORM.get(endpoint, {}).items()})
    return client.open(url, method=method, data=data)


@functools.cache
def _route_app():
    """The url_map does not depend on configuration: a throwaway app lists the routes at collection."""
    from inspection import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})


def _params():
    app = _route_app()
    out = []
    for method, rule in _rules(app):
        key = f"{method} {rule.endpoint}"
        for role in ROLES:
            marks = []
            if (key, role) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(key, role)]))
            out.append(pytest.param(method, rule.rule, rule.endpoint, role, id=f"{key}-{role}", marks=marks))
    return out


def _check(expected: str, method: str, url: str, status: int, location: str, body) -> str | None:
    """None when the answer fits `expected`, else what is wrong."""
    api = url.startswith("/api/")
    code = body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if status >= 500:
        return f"server error {status}"
    if expected == "ok":
        if method == "GET":
            if not 200 <= status < 400:
                return f"expected an answer, got {status}"
            if status >= 300 and ("/login" in location or "/admin/users" in location):
                return f"expected an answer, got a redirect to {location}"
        elif status in (401, 403, 404):
            return f"expected the permission to let the call through, got {status} {code or ''}"
        return None
    if 200 <= status < 300:
        return f"a denied caller got {status}"
    if expected == "L":
        if api:
            return (
                None if (status, code) == (401, "unauthorized") else f"expected 401 unauthorized, got {status} {code}"
            )
        return None if status == 302 and "/login" in location else f"expected a redirect to /login, got {status}"
    if expected == "D":
        if status in (403, 404) or (not api and status == 302 and location.endswith("/admin/users")):
            return None
        return f"expected 403/404, got {status} {location}"
    want = int(expected)
    if status != want:
        return f"expected {want}, got {status} {code or ''} {location}"
    if api and want in (403, 404) and code != {403: "forbidden", 404: "not_found"}[want]:
        return f"expected error code for {want}, got {code}"
    return None


@pytest.mark.parametrize(("method", "rule", "endpoint", "role"), _params())
def test_access_matrix(world, isolated, method, rule, endpoint, role):
    key = f"{method} {endpoint}"
    if key not in EXPECT:
        pytest.fail(
            f"{key} ({rule}) is not in the access matrix: add it to EXPECT in tests/security/test_access_matrix.py "
            "with the expected answer for every role (API.md 'Who may do what')."
        )
    expected = dict(zip(ROLES, EXPECT[key].split(), strict=True))[role]
    url = url_for_rule(rule, endpoint, world.ids)
    try:
        response = call(world, role, method, url, endpoint)
    except Exception as exc:  # the app raised: a 500 in production
        pytest.fail(f"{method} {url} as {role}: exception {type(exc).__name__}: {exc}")
    try:
        body = response.get_json(silent=True)
        text = response.get_data(as_text=True) if response.mimetype.startswith(("text/", "application/json")) else ""
        problem = _check(expected, method, url, response.status_code, response.headers.get("Location", ""), body)
    finally:
        response.close()
    assert problem is None, f"{method} {url} as {role}: {problem}"
    if role == "other_kommun" and 200 <= response.status_code < 300 and endpoint not in PUBLIC_ENDPOINTS_NO_LEAK_CHECK:
        # Nothing of kommun A's shows up for another kommun's inspector.
        assert "Krogen A" not in text, f"{method} {url}: kommun A's venue shown to another kommun"


# ---- no object reachable by guessing its id ---------------------------------------------------------


def _detail_rules():
    app = _route_app()
    out = []
    for method, rule in _rules(app):
        names = re.findall(r"<(?:int:)(\w+)>", rule.rule)
        if not names or rule.endpoint.startswith("admin."):
            continue  # admin pages manage every account by design
        out.append(pytest.param(method, rule.rule, rule.endpoint, id=f"{method} {rule.endpoint}"))
    return out


@pytest.mark.parametrize(("method", "rule", "endpoint"), _detail_rules())
def test_other_kommuns_object_answers_like_a_missing_one(world, isolated, method, rule, endpoint):
    """The inspector of kommun B asks for kommun A's object and for an id that does not exist: the two
    answers are the same (status and error code), so ids cannot be probed."""
    answers = []
    names = re.findall(r"<int:(\w+)>", rule)
    for ids in (world.ids, {**world.ids, **dict.fromkeys(names, 10_000_000), "signed_inspection_id": 10_000_000}):
        url = url_for_rule(rule, endpoint, ids)
        nested = world.connection.begin_nested()
        try:
            response = call(world, "other_kommun", method, url, endpoint)
        finally:
            db.session.remove()
            if nested.is_active:
                nested.rollback()
        body = response.get_json(silent=True)
        code = body["error"].get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
        answers.append((response.status_code, code))
        response.close()
    real, missing = answers
    assert real == missing, f"{method} {rule}: kommun A's object answers {real}, a missing one {missing}"
    assert real[0] == 404, f"{method} {rule}: another kommun's object answers {real}, not 404"


def test_every_route_is_in_the_matrix(app):
    """The table itself lists no route that no longer exists (keeps it readable)."""
    keys = {f"{method} {rule.endpoint}" for method, rule in _rules(app)}
    assert not set(EXPECT) - keys, f"stale rows in EXPECT: {sorted(set(EXPECT) - keys)}"
