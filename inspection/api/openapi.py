"""GET /api/v1/openapi.json: the OpenAPI 3.1 description, built from the routes' own declarations
(the same pydantic schemas that validate the bodies), so that it cannot drift from the code."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify
from pydantic import BaseModel

from ..errors import STATUS
from .core import REGISTRY, bp

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": sorted(STATUS)},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "current": {"type": "object"},
            },
        }
    },
}

STATUS_TEXT = {
    200: "OK",
    201: "Skapad",
    204: "Inget innehåll",
    400: "Felaktig förfrågan",
    401: "Inte inloggad",
    403: "Inte tillåtet för rollen",
    404: "Finns inte eller inte synlig",
    405: "Metoden stöds inte",
    409: "Konflikt eller låst",
    412: "Inaktuell version",
    413: "För stor",
    422: "Ogiltiga uppgifter",
    428: "If-Match krävs",
    429: "För många försök",
}


def _schema_ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _input_ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_spec() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict] = {}
    for (rule, method), spec in sorted(REGISTRY.items()):
        path = "/api/v1" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in re.findall(r"<(?:\w+:)?(\w+)>", rule)
        ]
        for name, schema in spec["query"].items():
            params.append({"name": name, "in": "query", "required": False, "schema": schema})
        op: dict[str, Any] = {"summary": spec["summary"], "operationId": f"{spec['endpoint']}_{method.lower()}"}
        if params:
            op["parameters"] = params
        if spec["body"] is not None:
            op["requestBody"] = {
                "required": True,
                "content": {
                    spec["content_type"] or "application/json": {"schema": _input_ref(spec["body"], components)}
                },
            }
        if spec["public"]:
            op["security"] = []
        responses: dict[str, Any] = {}
        statuses = dict(spec["responses"])
        statuses.setdefault(429 if spec["public"] and method == "POST" else 400, None)
        if not spec["public"]:
            statuses.setdefault(401, None)
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            statuses.setdefault(400, None)
            statuses.setdefault(413, None)
        for status, kind in sorted(statuses.items()):
            entry: dict[str, Any] = {"description": STATUS_TEXT.get(status, str(status))}
            if kind is None:
                entry["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            elif isinstance(kind, str):
                entry["content"] = {kind: {"schema": {"type": "string", "format": "binary"}}}
            elif isinstance(kind, dict):
                entry["content"] = {"application/json": {"schema": kind}}
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                entry["content"] = {"application/json": {"schema": _schema_ref(kind, components)}}
            responses[str(status)] = entry
        op["responses"] = responses
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Krogtillsyn API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec())
