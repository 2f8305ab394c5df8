"""Domain errors raised by services; the API turns them into its JSON error object, pages into messages."""

from __future__ import annotations

from typing import Any

#: HTTP status for each error code of API.md
STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "otp_required": 401,
    "csrf": 400,
    "not_found": 404,
    "forbidden": 403,
    "precondition_required": 428,
    "stale": 412,
    "locked": 409,
    "conflict": 409,
    "validation": 422,
    "too_large": 413,
    "rate_limited": 429,
    "method_not_allowed": 405,
    "unavailable": 503,
}


class ServiceError(Exception):
    """A rule refused the action. `fields` maps dotted paths to lists of messages."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return STATUS[self.code]


def validation_error(fields: dict[str, list[str] | str], message: str = "Uppgifterna är inte giltiga.") -> ServiceError:
    return ServiceError(
        "validation",
        message,
        fields={k: v if isinstance(v, list) else [v] for k, v in fields.items()},
    )


def not_found() -> ServiceError:
    return ServiceError("not_found", "Hittades inte.")


def forbidden(message: str = "Din roll får inte göra detta.") -> ServiceError:
    return ServiceError("forbidden", message)


def conflict(message: str) -> ServiceError:
    return ServiceError("conflict", message)


def locked(message: str = "Protokollet är låst: det har signerats.") -> ServiceError:
    return ServiceError("locked", message)
