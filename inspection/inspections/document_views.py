"""Protocol documents on the web: the PDF download, the document page with the "sent to the permit
holder" record, and the archive ZIP of a period's signed protocols (streamed).

Every download is audited; the audit entry is committed and the transaction ended before the PDF is
rendered (documents.end_transaction), so that rendering never holds a transaction open.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, timedelta

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import InputRequired

from ..errors import ServiceError, forbidden
from ..forms import apply_errors
from ..pdf.protocol import build_protocol_pdf
from ..policy import get_or_404
from ..types import STOCKHOLM, local_today
from ..web import register_start_section
from . import documents
from .models import Inspection
from .views import bp


class SentToHolderForm(FlaskForm):
    sent_on = DateField("Skickat till tillståndshavaren", validators=[InputRequired("Ange ett datum.")])


class ArchiveForm(FlaskForm):
    """A GET form (the period), so no CSRF token."""

    class Meta:
        csrf = False

    start = DateField("Från och med", validators=[InputRequired("Ange ett datum.")])
    end = DateField("Till och med", validators=[InputRequired("Ange ett datum.")])


def pdf_response(pdf: bytes, name: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def protocol_pdf(inspection: Inspection, via: str) -> Response:
    """The one way a protocol PDF leaves the system (web and API): load, audit, end the transaction,
    render."""
    [(data, name)] = documents.prepare_download([inspection], current_user, via=via)
    documents.end_transaction()
    return pdf_response(build_protocol_pdf(data), name)


@bp.get("/<int:inspection_id>/protokoll.pdf")
def protocol_download(inspection_id: int):
    inspection = get_or_404(Inspection, inspection_id)
    return protocol_pdf(inspection, via="web")


def _may_deliver(inspection: Inspection) -> bool:
    # Sending the protocol out is the kommun's business (its staff, as for scheduling).
    return current_user.is_kommun_staff and current_user.organisation_id == inspection.kommun_id


@bp.route("/<int:inspection_id>/dokument", methods=["GET", "POST"])
def documents_page(inspection_id: int):
    """The protocol's documents: download, and (kommun staff) the date it was sent to the permit holder."""
    inspection = get_or_404(Inspection, inspection_id)
    may_deliver = _may_deliver(inspection)
    form = SentToHolderForm(sent_on=inspection.sent_to_holder_on or local_today())
    status = 200
    if request.method == "POST":
        if not may_deliver:
            raise forbidden()
        if form.validate_on_submit():
            try:
                documents.record_sent_to_holder(inspection, form.sent_on.data, current_user)
            except ServiceError as err:
                if err.status != 422:
                    raise
                apply_errors(form, err.fields, err.message)
                status = 422
            else:
                flash("Datumet då protokollet skickades är sparat.", "success")
                return redirect(url_for("inspections.documents_page", inspection_id=inspection.id))
        else:
            status = 422
    due = None
    if inspection.status == "signed" and inspection.signed_at:
        due = documents.delivery_due(inspection.signed_at)
    return (
        render_template(
            "inspections/documents/page.html",
            inspection=inspection,
            form=form,
            may_deliver=may_deliver,
            due=due,
            overdue=bool(due and not inspection.sent_to_holder_on and due < local_today()),
        ),
        status,
    )


def _archive_period(form: ArchiveForm) -> tuple[date, date] | None:
    if not request.args or not form.validate():
        return None
    return form.start.data, form.end.data


@bp.get("/arkiv")
def archive():
    """Kommun staff: a period's signed protocols as one ZIP for the archive (diarium)."""
    if not current_user.is_kommun_staff:
        raise forbidden()
    last_month_end = local_today().replace(day=1) - timedelta(days=1)
    form = ArchiveForm(request.args, start=last_month_end.replace(day=1), end=last_month_end)
    period = _archive_period(form)
    found, status = None, 200
    if request.args and period is None:
        status = 422
    elif period:
        try:
            found = documents.archive_inspections(current_user, *period)
        except ServiceError as err:
            if err.status != 422:
                raise
            apply_errors(form, err.fields, err.message)
            status = 422
    return render_template("inspections/documents/archive.html", form=form, found=found), status


class _StreamSink:
    """A write-only file for zipfile: collects what is written until the generator passes it on."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def zip_stream(items: list[tuple[dict, str]]) -> Iterator[bytes]:
    """The ZIP, one protocol at a time: render, write, hand the bytes on (no database access)."""
    sink = _StreamSink()
    seen: set[str] = set()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for data, name in items:
            if name in seen:
                name = name.removesuffix(".pdf") + f"-{data['id']}.pdf"
            seen.add(name)
            day = data["visit_date"]
            info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            archive.writestr(info, build_protocol_pdf(data))
            yield sink.drain()
    yield sink.drain()


@bp.get("/arkiv.zip")
def archive_zip():
    """The ZIP of the period's signed protocols, streamed while it is made (no Content-Length)."""
    if not current_user.is_kommun_staff:
        raise forbidden()
    form = ArchiveForm(request.args)
    period = _archive_period(form)
    if period is None:
        return redirect(url_for("inspections.archive", **request.args))
    inspections = documents.archive_inspections(current_user, *period)
    items = documents.prepare_download(inspections, current_user, via="archive")
    documents.end_transaction()
    start, end = period
    # The generator renders from plain dicts: it needs neither the request nor the database.
    response = Response(zip_stream(items), mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="tillsynsprotokoll-{start.isoformat()}-{end.isoformat()}.zip"'
    )
    response.headers["X-Protocol-Count"] = str(len(items))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _overdue_section(user) -> list[dict]:
    """Start page reminder for kommun staff: signed protocols not yet sent to the permit holder."""
    if not user.is_kommun_staff:
        return []
    overdue = [
        i
        for i in documents.overdue_deliveries(user.organisation_id)
        if user.role == "manager" or any(p.user_id == user.id for p in i.participants)
    ]
    if not overdue:
        return []
    return [
        {
            "title": "Protokoll att skicka till tillståndshavaren (mer än 10 arbetsdagar)",
            "items": [
                {
                    "text": f"{i.venue.name} – signerat {i.signed_at.astimezone(STOCKHOLM):%Y-%m-%d}",
                    "url": url_for("inspections.documents_page", inspection_id=i.id),
                }
                for i in overdue[:20]
            ],
        }
    ]


bp.record_once(lambda state: register_start_section(state.app, _overdue_section))
