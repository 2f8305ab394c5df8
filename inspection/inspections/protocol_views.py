"""The inspection page and the protocol on a tablet. (Protocol issue.)"""

from flask import abort

from .views import bp


@bp.get("/<int:inspection_id>")
def detail(inspection_id: int):
    """The inspection page (schedule, participants, protocol)."""
    abort(404)
