"""Pages of inspections. The blueprint is shared: scheduling pages (schedule_views.py), the protocol
pages (protocol_views.py), documents (document_views.py) and the iCal feed (calendar.py) add their
routes to it."""

from flask import Blueprint

bp = Blueprint("inspections", __name__, url_prefix="/tillsyn")

from . import calendar, document_views, protocol_views, schedule_views  # noqa: E402,F401
