from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, func, select
from werkzeug.exceptions import HTTPException

from ..errors import STATUS, ServiceError
from ..extensions import csrf, db

M = TypeVar("M", bound=BaseModel)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token calls need no CSRF; session calls are checked in security.py

#: every route's description, for openapi.json: {(rule, method): spec}
REGISTRY: dict[tuple[str, str], dict] = {}


def error_response(err: ServiceError) -> Response:
    body: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.fields:
        body["fields"] = err.fields
    body.update(err.extra)
    response = jsonify({"error": body})
    response.status_code = err.status
    for key, value in err.headers.items():
        response.headers[key] = value
    return response


@bp.errorhandler(ServiceError)
def _service_error(err: ServiceError):
    return error_response(err)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "rate_limited",
    }.get(exc.code or 500, "bad_request")
    messages = {
        "too_large": "Förfrågan är för stor.",
        "not_found": "Hittades inte.",
        "method_not_allowed": "Metoden stöds inte här.",
    }
    return error_response(ServiceError(code, messages.get(code, exc.description or code))) if code in STATUS else exc


def route(
    rule: str,
    methods: list[str],
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: dict[str, dict] | None = None,
    responses: dict[int, Any],
    roles: tuple[str, ...] | None = None,
    public: bool = False,
    content_type: str | None = None,
):
    """Add an API route and describe it for openapi.json.

    `responses` maps status codes to a pydantic model, a dict (a JSON schema), a string (a media type
    such as "application/pdf") or None (the error object). `roles`, when given, refuses everybody else
    with 403 before any object is looked up."""

    def decorator(view: Callable):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if body is not None and content_type is None and request.method in ("POST", "PATCH", "PUT"):
                json_body()  # a malformed body is 400 before a role's 403 (API.md's order)
            if roles is not None:
                require_roles(*roles)
            return view(*args, **kwargs)

        for method in methods:
            REGISTRY[(rule, method)] = {
                "summary": summary,
                "body": body,
                "query": query or {},
                "responses": responses,
                "public": public,
                "content_type": content_type,
                "endpoint": view.__name__,
            }
        bp.add_url_rule(rule, view.__name__, wrapped, methods=methods)
        return wrapped

    return decorator


def require_roles(*roles: str) -> None:
    if current_user.role not in roles:
        raise ServiceError("forbidden", "Din roll får inte göra detta.")


def json_body() -> Any:
    """The parsed JSON body, or 400. Runs before any object look-up (API.md's error order)."""
    if not request.is_json:
        raise ServiceError("bad_request", "Skicka JSON med Content-Type: application/json.")
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServiceError("bad_request", "Ogiltig JSON.") from exc


_MESSAGES = {
    "missing": "Obligatoriskt fält.",
    "string_too_long": "För lång text.",
    "string_type": "Ska vara text.",
    "int_type": "Ska vara ett heltal.",
    "int_parsing": "Ska vara ett heltal.",
    "bool_type": "Ska vara sant eller falskt.",
    "bool_parsing": "Ska vara sant eller falskt.",
    "date_from_datetime_parsing": "Ska vara ett datum ÅÅÅÅ-MM-DD.",
    "date_parsing": "Ska vara ett datum ÅÅÅÅ-MM-DD.",
    "date_type": "Ska vara ett datum ÅÅÅÅ-MM-DD.",
    "timezone_aware": "Tidpunkten måste ha en tidszon (t.ex. +01:00 eller Z).",
    "datetime_parsing": "Ska vara en tidpunkt i ISO 8601 med tidszon.",
    "datetime_from_date_parsing": "Ska vara en tidpunkt i ISO 8601 med tidszon.",
    "datetime_type": "Ska vara en tidpunkt i ISO 8601 med tidszon.",
    "literal_error": "Ogiltigt värde.",
    "enum": "Ogiltigt värde.",
    "list_type": "Ska vara en lista.",
    "dict_type": "Ska vara ett objekt.",
    "model_type": "Ska vara ett objekt.",
    "greater_than_equal": "Värdet är för litet.",
    "less_than_equal": "Värdet är för stort.",
    "uuid_parsing": "Ska vara ett UUID.",
    "uuid_type": "Ska vara ett UUID.",
    "too_long": "För många värden.",
}


def pydantic_fields(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        path = ".".join(([prefix] if prefix else []) + loc) or "body"
        if error["type"] in ("value_error", "assertion_error"):
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = _MESSAGES.get(error["type"], error["msg"])
        fields.setdefault(path, []).append(message)
    return fields


def validate(model: type[M], data: Any) -> M:
    """Validate a parsed body against a schema, or 422 with a message per field."""
    if not isinstance(data, dict):
        raise ServiceError("validation", "Kroppen ska vara ett JSON-objekt.", fields={"body": ["Ska vara ett objekt."]})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ServiceError("validation", "Uppgifterna är inte giltiga.", fields=pydantic_fields(exc)) from exc


def query_args(model: type[M]) -> M:
    """Validate the query string against a schema (422 per parameter)."""
    data = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ServiceError("validation", "Ogiltiga parametrar.", fields=pydantic_fields(exc)) from exc


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ServiceError("validation", "Ogiltig sida.", fields={name: [f"Ska vara ett heltal {low}–{high}."]})
    return value


def page_args() -> tuple[int, int]:
    return _int_arg("page", 1, 1, 10**9), _int_arg("per_page", 50, 1, 200)


def paginate(
    stmt: Select, serialise: Callable[[list], list], page: int | None = None, per_page: int | None = None
) -> dict:
    """{"items", "total", "page", "per_page"} for a select of model objects."""
    if page is None or per_page is None:
        page, per_page = page_args()
    # The total rides along on every row (a window count over the filtered rows before LIMIT): one
    # pass over the matches instead of a count query and a page query that each walk them.
    found = db.session.execute(
        stmt.add_columns(func.count().over().label("total")).limit(per_page).offset((page - 1) * per_page)
    )
    pairs = found.unique().all()
    if pairs:
        total = pairs[0][-1]
    else:  # an empty page says nothing of the total: past the end there may still be rows
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return {"items": serialise([pair[0] for pair in pairs]), "total": total, "page": page, "per_page": per_page}


def page_and_total(stmt, page: int, per_page: int) -> tuple[list, int]:
    """One page of `stmt`'s rows and the number of all of them, for a select whose order an index
    gives (unlike `paginate`, whose window count suits a select that must sort every match anyway).
    The page is read first: walking the index it stops after `per_page` matches, and a page that is not full is the last one, so its
    total needs no count. Only a full page (or one past the end) is followed by a count query. (A window
    count on the page query would make it collect and sort every match of a big kommun: 1.6 ms against
    0.12 + 0.5 ms for "Bar" among 2,146 venues.)"""
    offset = (page - 1) * per_page
    rows = db.session.execute(stmt.limit(per_page).offset(offset)).all()
    if 0 < len(rows) < per_page or (offset == 0 and not rows):
        return rows, offset + len(rows)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return rows, total


def parse_if_match(value: str | None) -> int | None:
    """'"7"', '7' and 'W/"7"' all mean version 7."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    return int(value) if value.isdigit() else -1


def check_if_match(current_version: int, current: Callable[[], Any]) -> None:
    """428 without If-Match; 412 with the object as it is now when the version is not current."""
    version = parse_if_match(request.headers.get("If-Match"))
    if version is None:
        raise ServiceError("precondition_required", "If-Match med objektets version krävs.")
    if version != current_version:
        raise ServiceError(
            "stale",
            "Någon annan har ändrat detta under tiden.",
            extra={"current": current()},
        )


def with_etag(payload: Any, version: int, status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = f'"{version}"'
    return response
