"""Pages of this feature area."""

from flask import Blueprint

bp = Blueprint("trainings", __name__, url_prefix="/utbildningar")
