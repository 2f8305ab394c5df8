"""API: GET /api/v1/reports/summary, the figures of the public report (API.md "The summary")."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..api import route
from . import services


class KommunIdOut(BaseModel):
    id: int


class PeriodOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="YYYY-MM-DD, included")
    to: str = Field(description="YYYY-MM-DD, included")


class VisitsOut(BaseModel):
    yttre: int
    inre: int
    samordnad: int
    forebyggande: int


class OverservingTestsOut(BaseModel):
    tests: int
    refusals: int


class SanctionsOut(BaseModel):
    erinran: int
    varning: int
    aterkallelse: int


class SummaryOut(BaseModel):
    """Counts over the signed inspections whose visit date (arrival, else planned start, Stockholm)
    lies in the period; trainings by start date; decisions by their date."""

    kommun: KommunIdOut
    period: PeriodOut
    visits: VisitsOut
    joint_visits: int = Field(description="signed by at least one police officer")
    venues_visited: int
    trainings: int
    people_trained: int = Field(description="participants who attended")
    overserving_tests: OverservingTestsOut
    remarks: dict[str, int] = Field(description="every checklist code: the number of anmarkning")
    sanctions: SanctionsOut


@route(
    "/reports/summary",
    ["GET"],
    summary="The figures of the public report for a kommun and a period",
    query={
        "kommun_id": {"type": "integer"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
    },
    responses={200: SummaryOut, 403: None, 404: None, 422: None},
    roles=("inspector", "manager", "police"),
)
def report_summary():
    kommun = services.resolve_kommun(current_user, request.args.get("kommun_id"))
    date_from, date_to = services.parse_period(request.args.get("from"), request.args.get("to"))
    return jsonify(services.summary(kommun.id, date_from, date_to))
