"""API routes of this feature area (added to the one api blueprint with `route`)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..api.core import json_body, paginate, query_args, route, validate
from ..extensions import db
from ..policy import get_or_404, kommun_filter, training_filter
from ..schemas import Page
from . import services
from .models import OverservingTest, Training, TrainingParticipant, training_venue
from .schemas import (
    OverservingTestIn,
    OverservingTestOut,
    OverservingTestQuery,
    TrainingIn,
    TrainingOut,
    TrainingQuery,
)

STAFF = ("inspector", "manager")
PAGE_QUERY = {"page": {"type": "integer"}, "per_page": {"type": "integer"}}


def training_json(training: Training) -> dict:
    return TrainingOut.model_validate(training).model_dump(mode="json")


def _serialise_trainings(rows: list[Training]) -> list[dict]:
    return [training_json(t) for t in rows]


def trainings_query(user, venue_id: int | None = None):
    """The trainings `user` may see, newest first, with what the answer needs loaded."""
    stmt = (
        select(Training)
        .where(training_filter(user))
        .options(
            selectinload(Training.venues),
            selectinload(Training.participants).selectinload(TrainingParticipant.venue),
        )
        .order_by(Training.starts_on.desc(), Training.id.desc())
    )
    if venue_id is not None:
        stmt = stmt.where(
            or_(
                Training.id.in_(select(training_venue.c.training_id).where(training_venue.c.venue_id == venue_id)),
                Training.id.in_(
                    select(TrainingParticipant.training_id).where(TrainingParticipant.venue_id == venue_id)
                ),
            )
        )
    return stmt


@route(
    "/trainings",
    ["GET"],
    summary="Trainings: kommun staff see their kommun's, the police those organised with the police",
    query={"venue_id": {"type": "integer"}, **PAGE_QUERY},
    responses={200: Page[TrainingOut], 403: None, 422: None},
    roles=(*STAFF, "police"),
)
def list_trainings():
    args = query_args(TrainingQuery)
    return jsonify(paginate(trainings_query(current_user, args.venue_id), _serialise_trainings))


@route(
    "/trainings",
    ["POST"],
    summary="Record a training (kommun staff)",
    body=TrainingIn,
    responses={201: TrainingOut, 403: None, 422: None},
    roles=STAFF,
)
def create_training():
    data = validate(TrainingIn, json_body())
    training = services.record_training(current_user, **data.model_dump())
    return jsonify(training_json(training)), 201


@route(
    "/trainings/<int:training_id>",
    ["GET"],
    summary="One training",
    responses={200: TrainingOut, 403: None, 404: None},
    roles=(*STAFF, "police"),
)
def get_training(training_id: int):
    return jsonify(training_json(get_or_404(Training, training_id)))


def test_json(test: OverservingTest) -> dict:
    return OverservingTestOut.model_validate(test).model_dump(mode="json")


@route(
    "/overserving-tests",
    ["GET"],
    summary="Överserveringstest of the own kommun (kommun staff)",
    query={"venue_id": {"type": "integer"}, **PAGE_QUERY},
    responses={200: Page[OverservingTestOut], 403: None, 422: None},
    roles=STAFF,
)
def list_overserving_tests():
    args = query_args(OverservingTestQuery)
    stmt = (
        select(OverservingTest)
        .where(kommun_filter(current_user, OverservingTest.kommun_id))
        .order_by(OverservingTest.tested_on.desc(), OverservingTest.id.desc())
    )
    if args.venue_id is not None:
        stmt = stmt.where(OverservingTest.venue_id == args.venue_id)
    return jsonify(paginate(stmt, lambda rows: [test_json(t) for t in rows]))


@route(
    "/overserving-tests",
    ["POST"],
    summary="Record an överserveringstest (kommun staff)",
    body=OverservingTestIn,
    responses={201: OverservingTestOut, 403: None, 422: None},
    roles=STAFF,
)
def create_overserving_test():
    data = validate(OverservingTestIn, json_body())
    test = services.record_overserving_test(current_user, **data.model_dump())
    db.session.flush()
    return jsonify(test_json(test)), 201
