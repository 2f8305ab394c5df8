"""API: tokens, the current user, people who can be invited."""

from __future__ import annotations

from typing import Literal

from flask import g, jsonify
from flask_login import current_user
from pydantic import Field
from sqlalchemy import or_, select

from .. import audit
from ..api import json_body, paginate, query_args, route, validate
from ..errors import ServiceError
from ..schemas import In, Out, Page, UserOut, UTCStamp
from ..types import utcnow
from . import services
from .models import Organisation, User
from .views import calendar_url


class TokenIn(In):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    otp: str | None = Field(default=None, max_length=10)


class TokenOut(Out):
    token: str
    expires_at: UTCStamp
    user: UserOut


class MeOut(UserOut):
    calendar_url: str


class UsersQuery(In):
    role: Literal["inspector", "manager", "police", "admin"] | None = None
    organisation_kind: Literal["kommun", "polis"] | None = None


@route(
    "/tokens",
    ["POST"],
    summary="Sign in: a bearer token",
    body=TokenIn,
    public=True,
    responses={201: TokenOut, 401: None, 422: None, 429: None},
)
def create_token():
    from ..security import issue_token

    body = json_body()
    data = validate(TokenIn, body)
    user = services.authenticate(data.email, data.password, otp=data.otp, kind="token")
    raw, token = issue_token(user)
    response = jsonify(
        TokenOut(token=raw, expires_at=token.expires_at, user=UserOut.model_validate(user)).model_dump(mode="json")
    )
    response.status_code = 201
    return response


@route("/tokens/current", ["DELETE"], summary="Sign out: revoke the token in use", responses={204: None})
def revoke_token():
    token = g.get("api_token")
    if token is None:
        raise ServiceError("bad_request", "Anropet är inte gjort med en token.")
    token.revoked_at = utcnow()
    audit.record("auth.logout", details={"via": "token"})
    return "", 204


@route("/me", ["GET"], summary="The current user and the secret calendar URL", responses={200: MeOut})
def me():
    data = UserOut.model_validate(current_user).model_dump(mode="json")
    data["calendar_url"] = calendar_url(current_user)
    return jsonify(data)


@route(
    "/users",
    ["GET"],
    summary="People who can be invited: own kommun's staff and the police",
    query={
        "role": {"type": "string"},
        "organisation_kind": {"type": "string"},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    },
    responses={200: Page[UserOut], 403: None, 422: None},
    roles=("inspector", "manager", "admin"),
)
def users():
    q = query_args(UsersQuery)
    stmt = select(User).join(User.organisation).where(User.active.is_(True)).order_by(User.name, User.id)
    if not current_user.is_admin:
        stmt = stmt.where(or_(User.organisation_id == current_user.organisation_id, Organisation.kind == "polis"))
        stmt = stmt.where(User.role != "admin")
    if q.role:
        stmt = stmt.where(User.role == q.role)
    if q.organisation_kind:
        stmt = stmt.where(Organisation.kind == q.organisation_kind)
    return jsonify(paginate(stmt, lambda rows: [UserOut.model_validate(u).model_dump(mode="json") for u in rows]))
