"""Pages of inspections: calendar, scheduling, the protocol, signing; and the iCal feed."""

from flask import Blueprint, abort

bp = Blueprint("inspections", __name__, url_prefix="/tillsyn")


@bp.get("/kalender/<token>.ics")
def calendar_feed(token: str):
    """The user's secret iCal feed (public: the URL is the credential)."""
    abort(404)


@bp.get("/<int:inspection_id>")
def detail(inspection_id: int):
    """The inspection page (schedule, participants, protocol)."""
    abort(404)
