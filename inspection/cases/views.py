"""Pages of this feature area."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/arenden")
