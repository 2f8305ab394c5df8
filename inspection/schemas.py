"""Pydantic building blocks for the API's bodies and answers (and thereby openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from .types import iso_utc
from .validation import NAME_MAX, TEXT_MAX, control_char_error

T = TypeVar("T")


def _no_control(value: str) -> str:
    message = control_char_error(value)
    if message:
        raise ValueError(message)
    return value


#: a name or title: up to 200 characters, kept exactly as sent
Name = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_no_control)]
#: free text: up to 10,000 characters, kept exactly as sent
Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(_no_control)]
#: an aware timestamp answered in UTC with a Z
UTCStamp = Annotated[datetime, PlainSerializer(iso_utc, return_type=str)]


class In(BaseModel):
    """Base of request bodies: unknown fields are ignored (clients may be newer than the server)."""

    model_config = ConfigDict(extra="ignore")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Ref(Out):
    id: int
    name: str


class OrganisationOut(Out):
    id: int
    name: str
    kind: str


class UserOut(Out):
    id: int
    name: str
    email: str
    role: str
    organisation: OrganisationOut


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
