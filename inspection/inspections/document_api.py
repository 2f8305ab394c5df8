"""API routes of the protocol document: GET /api/v1/inspections/{id}/protocol.pdf."""

from __future__ import annotations

from ..api.core import route
from ..policy import get_or_404
from .document_views import protocol_pdf
from .models import Inspection


@route(
    "/inspections/<int:inspection_id>/protocol.pdf",
    ["GET"],
    summary="The protocol as PDF (draft marked UTKAST; signed ones carry a verification code)",
    responses={200: "application/pdf", 401: None, 404: None},
)
def inspection_protocol_pdf(inspection_id: int):
    inspection = get_or_404(Inspection, inspection_id)
    return protocol_pdf(inspection, via="api")
