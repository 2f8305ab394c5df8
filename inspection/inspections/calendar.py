"""The user's secret iCal feed. (Scheduling issue.)"""

from flask import abort

from .views import bp


@bp.get("/kalender/<token>.ics")
def calendar_feed(token: str):
    """The user's secret iCal feed (public: the URL is the credential)."""
    abort(404)
