"""Who may see and change what (API.md "Who may do what"), in one place.

`may(user, action, obj)` answers for one object; `get_or_404(Model, id, need=...)` loads an object
for a view: missing or invisible is 404 (another kommun's objects are never revealed), visible but
not allowed is 403. The `*_filter` functions restrict list queries the same way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_login import current_user
from sqlalchemy import exists, false, or_, select, true

from .errors import forbidden, not_found
from .extensions import db

T = TypeVar("T")


def _is_staff_of(user, kommun_id: int | None) -> bool:
    return user.is_kommun_staff and kommun_id is not None and user.organisation_id == kommun_id


def _participant(user, inspection) -> Any:
    for p in inspection.participants:
        if p.user_id == user.id:
            return p
    return None


def _takes_part_in_venue(user, venue) -> bool:
    from .inspections.models import Inspection, InspectionParticipant

    return bool(
        db.session.scalar(
            select(
                exists().where(
                    InspectionParticipant.user_id == user.id,
                    InspectionParticipant.inspection_id == Inspection.id,
                    Inspection.venue_id == venue.id,
                )
            )
        )
    )


def _venue(user, action: str, venue) -> bool:
    if _is_staff_of(user, venue.kommun_id):
        return action in {"view", "history", "edit"}
    if user.is_police and action == "view":
        return _takes_part_in_venue(user, venue)
    return False


def _venue_visible(user, venue) -> bool:
    return _venue(user, "view", venue)


def _inspection(user, action: str, inspection) -> bool:
    staff = _is_staff_of(user, inspection.kommun_id)
    participant = _participant(user, inspection)
    if action == "view":
        return staff or participant is not None
    if action in {"schedule", "reopen", "cancel", "amend"}:
        return staff
    if action in {"edit_protocol", "observe"}:
        return staff or (participant is not None and participant.response != "declined")
    if action == "sign":
        return participant is not None
    if action == "respond":
        return participant is not None
    return False


def _training(user, action: str, training) -> bool:
    if _is_staff_of(user, training.kommun_id):
        return action in {"view", "edit"}
    if user.is_police:
        return action == "view" and training.organised_by_police
    return False


def _overserving_test(user, action: str, test) -> bool:
    return _is_staff_of(user, test.kommun_id) and action in {"view", "edit"}


def _case(user, action: str, case) -> bool:
    if not _is_staff_of(user, case.kommun_id):
        return False
    if action == "decide":
        return user.role == "manager"
    return action in {"view", "edit"}


def may(user, action: str, obj) -> bool:
    """Whether `user` may do `action` to `obj` ("view" is seeing that it exists)."""
    if user is None or not user.is_authenticated or user.is_admin:
        return False
    name = type(obj).__name__
    rule = {
        "Venue": _venue,
        "Inspection": _inspection,
        "Training": _training,
        "OverservingTest": _overserving_test,
        "Case": _case,
    }.get(name)
    if rule is None:
        raise TypeError(f"no policy for {name}")
    return rule(user, action, obj)


def get_or_404(model: type[T], object_id: Any, need: str = "view", user=None) -> T:
    """Load an object for a view: 404 when missing or not visible, 403 when `need` is not allowed."""
    user = user or current_user
    try:
        key = int(object_id)
    except (TypeError, ValueError):
        raise not_found() from None
    obj = db.session.get(model, key)
    if obj is None or not may(user, "view", obj):
        raise not_found()
    if need != "view" and not may(user, need, obj):
        raise forbidden()
    return obj


def check(user, action: str, obj) -> None:
    if not may(user, action, obj):
        raise forbidden()


# ---- list filters ------------------------------------------------------------------------------


def venue_filter(user):
    from .inspections.models import Inspection, InspectionParticipant
    from .venues.models import Venue

    if user.is_kommun_staff:
        return Venue.kommun_id == user.organisation_id
    if user.is_police:
        return exists().where(
            InspectionParticipant.user_id == user.id,
            InspectionParticipant.inspection_id == Inspection.id,
            Inspection.venue_id == Venue.id,
        )
    return false()


def inspection_filter(user):
    from .inspections.models import Inspection, InspectionParticipant

    # An IN list of the user's inspections rather than a correlated EXISTS: SQLite ran the EXISTS
    # once per inspection row (a scan of the whole table); the IN list starts from the user's few
    # participations (index on inspection_participant.user_id), OR-ed with the kommun index.
    takes_part = Inspection.id.in_(
        select(InspectionParticipant.inspection_id).where(InspectionParticipant.user_id == user.id)
    )
    if user.is_kommun_staff:
        return or_(Inspection.kommun_id == user.organisation_id, takes_part)
    if user.is_police:
        return takes_part
    return false()


def training_filter(user):
    from .trainings.models import Training

    if user.is_kommun_staff:
        return Training.kommun_id == user.organisation_id
    if user.is_police:
        return Training.organised_by_police.is_(True)
    return false()


def kommun_filter(user, column):
    """For objects that only the owning kommun's staff see (cases, överserveringstest)."""
    return column == user.organisation_id if user.is_kommun_staff else false()


__all__ = [
    "may",
    "get_or_404",
    "check",
    "venue_filter",
    "inspection_filter",
    "training_filter",
    "kommun_filter",
    "true",
]
