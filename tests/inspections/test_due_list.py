"""The due list under the tillsynsplan, per risk class, and the plan page."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from inspection.inspections import scheduling
from inspection.inspections.models import InspectionPlan
from inspection.types import local_today
from tests.conftest import csrf_token, stockholm

TODAY = date(2026, 11, 25)


def _visit(make_inspection, venue, day: date, status="signed", kind="yttre"):
    return make_inspection(venue=venue, kind=kind, status=status, start=stockholm(day.year, day.month, day.day, 21))


def _due(kommun, **kw):
    return {d.venue.name: d for d in scheduling.due_list(kommun.id, TODAY, **kw)}


def test_each_risk_class_is_due_by_its_own_interval(db_session, kommun, make_venue, make_inspection):
    # Default plan: class 3 four times a year (every ~91 days), class 2 twice (~182), class 1 once (365).
    c3_due = make_venue(name="K3 försenad", risk_class=3)
    c3_fine = make_venue(name="K3 nyss", risk_class=3)
    c2_due = make_venue(name="K2 försenad", risk_class=2)
    c2_fine = make_venue(name="K2 nyss", risk_class=2)
    c1_due = make_venue(name="K1 försenad", risk_class=1)
    c1_fine = make_venue(name="K1 nyss", risk_class=1)
    _visit(make_inspection, c3_due, TODAY - timedelta(days=100))
    _visit(make_inspection, c3_fine, TODAY - timedelta(days=40))
    _visit(make_inspection, c2_due, TODAY - timedelta(days=200))
    _visit(make_inspection, c2_fine, TODAY - timedelta(days=100))
    _visit(make_inspection, c1_due, TODAY - timedelta(days=400))
    _visit(make_inspection, c1_fine, TODAY - timedelta(days=200))
    due = _due(kommun)
    assert set(due) == {"K3 försenad", "K2 försenad", "K1 försenad"}
    assert due["K3 försenad"].days_overdue == 100 - 91
    assert due["K2 försenad"].days_overdue == 200 - 182
    assert due["K1 försenad"].days_overdue == 400 - 365
    assert all(d.overdue for d in due.values())


def test_ordered_by_urgency_and_never_visited_first(db_session, kommun, make_venue, make_inspection):
    never = make_venue(name="Aldrig besökt", risk_class=1)
    very_late = make_venue(name="Mycket sen", risk_class=3)
    bit_late = make_venue(name="Lite sen", risk_class=3)
    soon = make_venue(name="Snart", risk_class=3)
    _visit(make_inspection, very_late, TODAY - timedelta(days=300))
    _visit(make_inspection, bit_late, TODAY - timedelta(days=95))
    _visit(make_inspection, soon, TODAY - timedelta(days=80))
    names = [d.venue.name for d in scheduling.due_list(kommun.id, TODAY)]
    assert names == ["Mycket sen", "Lite sen", "Aldrig besökt", "Snart"]
    assert never.id is not None
    assert _due(kommun)["Snart"].overdue is False  # due in 11 days
    assert "Snart" not in _due(kommun, horizon_days=5)


def test_cancelled_and_planned_visits(db_session, kommun, make_venue, make_inspection):
    cancelled_only = make_venue(name="Bara inställd", risk_class=3)
    _visit(make_inspection, cancelled_only, TODAY - timedelta(days=10), status="cancelled")
    booked = make_venue(name="Inbokad", risk_class=3)
    make_inspection(venue=booked, kind="samordnad", start=stockholm(2027, 1, 8, 21))
    desk_only = make_venue(name="Bara inre", risk_class=3)
    _visit(make_inspection, desk_only, TODAY - timedelta(days=10), kind="inre")
    due = _due(kommun)
    assert "Bara inställd" in due  # a cancelled visit is no visit
    assert "Bara inre" in due  # a desk review is not a visit under the plan
    assert "Inbokad" not in due  # already planned ahead


def test_the_kommuns_own_plan_and_other_kommuns(db_session, kommun, other_kommun, make_venue, make_inspection):
    db_session.add(InspectionPlan(kommun_id=kommun.id, year=TODAY.year, visits_class_1=0, visits_class_2=12))
    venue1 = make_venue(name="K1", risk_class=1)
    venue2 = make_venue(name="K2", risk_class=2)
    _visit(make_inspection, venue2, TODAY - timedelta(days=35))
    make_venue(name="Annan kommuns", org=other_kommun)
    due = _due(kommun)
    assert "K1" not in due  # class 1 not wanted at all this year
    assert due["K2"].days_overdue == 35 - 30  # twelve a year: every 30 days
    assert venue1.id is not None
    assert "Annan kommuns" not in due


def test_plan_outcome_counts_this_years_signed_visits(db_session, kommun, inspector, make_venue, make_inspection):
    c3 = make_venue(risk_class=3)
    _visit(make_inspection, c3, date(2026, 2, 1))
    _visit(make_inspection, c3, date(2026, 6, 1), kind="samordnad")
    _visit(make_inspection, c3, date(2025, 12, 1))
    _visit(make_inspection, c3, date(2026, 7, 1), status="cancelled")
    outcome = scheduling.plan_outcome(kommun.id, 2026, TODAY)
    row = next(c for c in outcome["classes"] if c["risk_class"] == 3)
    assert (row["venues"], row["visits_per_venue"], row["wanted"], row["done"]) == (1, 4, 4, 2)


def test_due_page_and_round_from_the_selection(client, login, inspector, make_venue):
    late = make_venue(name="Försenade Baren", risk_class=3)
    login(inspector)
    html = client.get("/tillsyn/forfallna").get_data(as_text=True)
    assert "Försenade Baren" in html
    assert "Aldrig" in html
    assert "Planera en runda med de valda" in html
    form = client.get(f"/tillsyn/runda/ny?venue={late.id}").get_data(as_text=True)
    assert f'<option selected value="{late.id}">' in form or f'value="{late.id}" selected' in form


def test_plan_page_is_edited_by_managers_only(client, login, manager, inspector, kommun, db_session):
    year = local_today().year
    login(inspector)
    assert client.get("/tillsyn/plan").status_code == 200
    refused = client.post(
        f"/tillsyn/plan?year={year}",
        data={
            "csrf_token": csrf_token(client),
            "visits_class_1": 1,
            "visits_class_2": 2,
            "visits_class_3": 6,
            "joint_rounds": 20,
        },
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(manager)
    bad = client.post(
        f"/tillsyn/plan?year={year}",
        data={
            "csrf_token": csrf_token(client),
            "visits_class_1": 1,
            "visits_class_2": -2,
            "visits_class_3": 6,
            "joint_rounds": 20,
        },
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/tillsyn/plan?year={year}",
        data={
            "csrf_token": csrf_token(client),
            "visits_class_1": 1,
            "visits_class_2": 2,
            "visits_class_3": 6,
            "joint_rounds": 20,
        },
    )
    assert ok.status_code == 302
    plan = db_session.scalar(select(InspectionPlan).where(InspectionPlan.kommun_id == kommun.id))
    assert (plan.visits_class_3, plan.joint_rounds) == (6, 20)


def test_police_have_no_plan_or_due_list(client, login, police):
    login(police)
    assert client.get("/tillsyn/plan").status_code == 403
    assert client.get("/tillsyn/forfallna").status_code == 403
