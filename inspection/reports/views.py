"""Pages of the reports: the manager dashboard, the public half-year report (page and PDF), the
yearly statistics (table and CSV), exports and the police view. Thin: parse, call a service, render."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..cases.models import SANCTIONS
from ..errors import ServiceError, forbidden, validation_error
from ..inspections.models import CHECKLIST_ITEMS, INTOXICATION_LEVELS, KINDS
from . import charts, exports, pdf, services
from .forms import ExportForm, PeriodForm, ReportTextsForm, YearForm, show_errors

bp = Blueprint("reports", __name__, url_prefix="/rapporter")


def _kommun_staff_only() -> None:
    if not current_user.is_kommun_staff:
        raise forbidden("Sidan är till för kommunens handläggare och chefer.")


def _staff_or_police() -> None:
    if not (current_user.is_kommun_staff or current_user.is_police):
        raise forbidden("Din roll får inte se rapporterna.")


def _kommun_choices(form) -> None:
    if current_user.is_police:
        form.kommun_id.choices = [("", "Välj kommun")] + [(str(k.id), k.name) for k in services.kommuner()]


def _csv_response(filename: str, body: bytes) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# ---- dashboard ---------------------------------------------------------------------------------


@bp.get("/")
def index():
    if current_user.is_police:
        return redirect(url_for("reports.police"))
    _kommun_staff_only()
    form = YearForm(formdata=request.args)
    try:
        year = services.parse_year(request.args.get("year"))
    except ServiceError as err:
        show_errors(form, err.fields, err.message)
        return render_template("reports/dashboard.html", form=form, d=None), 422
    d = services.dashboard(current_user.organisation_id, year)
    month_labels = d["months"]
    figures = {
        "visits": charts.bar_chart(
            "Tillsynsbesök per månad mot tillsynsplanen",
            month_labels,
            [("Genomförda (signerade)", d["visits"])],
            target=("Enligt tillsynsplanen", d["planned"]),
        ),
        "levels": charts.bar_chart(
            "Berusningsnivå vid besöken per månad",
            month_labels,
            [(label, d["levels"][code]) for code, label in INTOXICATION_LEVELS.items()],
            stacked=True,
        ),
        "overservering": charts.bar_chart(
            "Observationer av överservering per månad", month_labels, [("Överservering", d["overservering"])]
        ),
        "remarks": charts.hbar_chart(
            "Anmärkningar per kontrollpunkt", [(CHECKLIST_ITEMS[c], n) for c, n in d["remarks"].items()]
        ),
        "cases": charts.hbar_chart(
            "Pågående tillsynsärenden per status", [(d["case_labels"][s], n) for s, n in d["cases"].items()]
        ),
    }
    return render_template("reports/dashboard.html", form=form, d=d, charts=figures, levels=INTOXICATION_LEVELS)


# ---- the public half-year report ---------------------------------------------------------------


def _half_year_from_request() -> tuple[PeriodForm, dict | None, ServiceError | None]:
    _staff_or_police()
    form = PeriodForm(formdata=request.args)
    _kommun_choices(form)
    if current_user.is_police and not request.args.get("kommun_id"):
        if not form.date_from.data and not form.date_to.data:
            form.date_from.data, form.date_to.data = services.last_half_year()
        return form, None, None  # the police first choose a kommun
    try:
        kommun = services.resolve_kommun(current_user, request.args.get("kommun_id"))
        date_from, date_to = services.parse_period(request.args.get("from"), request.args.get("to"))
    except ServiceError as err:
        if err.code != "validation":
            raise
        show_errors(form, err.fields, err.message)
        return form, None, err
    form.date_from.data, form.date_to.data = date_from, date_to
    form.kommun_id.data = str(kommun.id)
    return form, services.half_year_report(kommun.id, date_from, date_to), None


@bp.get("/halvar")
def half_year():
    form, report, err = _half_year_from_request()
    if report is None:
        return render_template("reports/half_year.html", form=form, report=None), err.status if err else 200
    texts_form = None
    if current_user.role == "manager" and current_user.organisation_id == report["kommun"].id:
        texts_form = ReportTextsForm(
            data={
                "period_from": report["date_from"].isoformat(),
                "period_to": report["date_to"].isoformat(),
                **report["texts"],
            }
        )
    return _render_half_year(form, report, texts_form)


def _render_half_year(form, report, texts_form, status: int = 200):
    cur, prev = report["current"], report["previous"]
    period = f"{report['date_from']:%Y-%m-%d} – {report['date_to']:%Y-%m-%d}"
    previous = f"{report['prev_from']:%Y-%m-%d} – {report['prev_to']:%Y-%m-%d}"
    figures = {
        "visits": charts.bar_chart(
            "Tillsynsbesök per slag, jämfört med samma period året innan",
            list(KINDS.values()),
            [(previous, [prev["visits"][k] for k in KINDS]), (period, [cur["visits"][k] for k in KINDS])],
        ),
        "remarks": charts.hbar_chart(
            "Anmärkningar per kontrollpunkt", [(CHECKLIST_ITEMS[c], n) for c, n in cur["remarks"].items()]
        ),
    }
    return (
        render_template(
            "reports/half_year.html",
            form=form,
            report=report,
            charts=figures,
            period=period,
            previous=previous,
            texts_form=texts_form,
            text_keys=services.TEXT_KEYS,
            sanction_kinds=services.SANCTION_KINDS,
            sanction_labels=SANCTIONS,
        ),
        status,
    )


@bp.get("/halvar.pdf")
def half_year_pdf():
    form, report, err = _half_year_from_request()
    if report is None:
        if err is None:
            form.form_errors.append("Välj en kommun.")
        return render_template("reports/half_year.html", form=form, report=None), err.status if err else 422
    body = pdf.half_year_pdf(report)
    name = f"tillsynsrapport_{report['date_from'].isoformat()}_{report['date_to'].isoformat()}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.post("/halvar/texter")
def half_year_texts():
    _kommun_staff_only()
    texts_form = ReportTextsForm()
    try:
        date_from = date.fromisoformat(texts_form.period_from.data or "")
        date_to = date.fromisoformat(texts_form.period_to.data or "")
    except ValueError:
        raise validation_error({"from": "Ogiltig period."}) from None
    args = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    if texts_form.validate_on_submit():
        try:
            services.save_report_texts(
                current_user,
                current_user.organisation_id,
                date_from,
                date_to,
                {key: getattr(texts_form, key).data or "" for key in services.TEXT_KEYS},
            )
        except ServiceError as err:
            if err.code != "validation":
                raise
            show_errors(texts_form, err.fields, err.message)
        else:
            flash("Texterna är sparade.", "info")
            return redirect(url_for("reports.half_year", **args))
    services.check_period(date_from, date_to)
    form = PeriodForm(formdata=None, data={"date_from": date_from, "date_to": date_to})
    report = services.half_year_report(current_user.organisation_id, date_from, date_to)
    return _render_half_year(form, report, texts_form, status=422)


# ---- yearly statistics -------------------------------------------------------------------------


def _yearly_from_request():
    _staff_or_police()
    form = YearForm(formdata=request.args)
    _kommun_choices(form)
    if current_user.is_police and not request.args.get("kommun_id"):
        return form, None, None  # the police first choose a kommun
    try:
        kommun = services.resolve_kommun(current_user, request.args.get("kommun_id"))
        year = services.parse_year(request.args.get("year"))
    except ServiceError as err:
        if err.code != "validation":
            raise
        show_errors(form, err.fields, err.message)
        return form, None, err
    form.year.data = year
    form.kommun_id.data = str(kommun.id)
    return form, services.yearly_statistics(kommun.id, year), None


@bp.get("/arsstatistik")
def yearly():
    form, stats, err = _yearly_from_request()
    if stats is None:
        return render_template("reports/yearly.html", form=form, stats=None), err.status if err else 200
    return render_template("reports/yearly.html", form=form, stats=stats)


@bp.get("/arsstatistik.csv")
def yearly_csv():
    form, stats, err = _yearly_from_request()
    if stats is None:
        if err is None:
            form.form_errors.append("Välj en kommun.")
        return render_template("reports/yearly.html", form=form, stats=None), err.status if err else 422
    body = exports.to_csv(["Uppgift", str(stats["year"])], [[label, value] for label, value in stats["rows"]])
    audit.record("report.export", kommun_id=stats["kommun"].id, details={"type": "arsstatistik", "year": stats["year"]})
    return _csv_response(f"arsstatistik_{stats['year']}.csv", body)


# ---- exports -----------------------------------------------------------------------------------


@bp.get("/export")
def export():
    _staff_or_police()
    form = ExportForm(formdata=request.args)
    if current_user.is_police:
        form.typ.choices = [(k, v) for k, v in exports.EXPORT_TYPES.items() if k != "arenden"]
    if "typ" not in request.args:
        start, end = services.last_half_year()
        form.date_from.data, form.date_to.data = start, end
        return render_template("reports/export.html", form=form)
    try:
        date_from, date_to = services.parse_period(request.args.get("from"), request.args.get("to"))
        filename, body = exports.export(current_user, request.args.get("typ", ""), date_from, date_to)
    except ServiceError as err:
        if err.code != "validation":
            raise
        show_errors(form, err.fields, err.message)
        return render_template("reports/export.html", form=form), 422
    return _csv_response(filename, body)


# ---- the police view ---------------------------------------------------------------------------


@bp.get("/polis")
def police():
    if not current_user.is_police:
        raise forbidden("Sidan är till för polisen.")
    form = PeriodForm(formdata=request.args)
    try:
        date_from, date_to = services.parse_period(request.args.get("from"), request.args.get("to"))
    except ServiceError as err:
        show_errors(form, err.fields, err.message)
        return render_template("reports/police.html", form=form, rows=None), 422
    form.date_from.data, form.date_to.data = date_from, date_to
    rows = services.police_overview(date_from, date_to)
    totals = {
        "joint_visits": sum(r["joint_visits"] for r in rows),
        "overservering": sum(r["overservering"] for r in rows),
    }
    return render_template(
        "reports/police.html", form=form, rows=rows, totals=totals, date_from=date_from, date_to=date_to
    )
