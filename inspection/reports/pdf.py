"""The public half-year report as a PDF (ReportLab), with charts drawn by reportlab.graphics from the
same figures as the page. No personal data: figures, the kommun's own texts, and venue names only
next to a decided sanction."""

from __future__ import annotations

import io
from html import escape as _html_escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..cases.models import SANCTIONS
from ..inspections.models import CHECKLIST_ITEMS, KINDS
from ..pdf.fonts import BOLD, REGULAR, register_fonts
from ..types import fmt_date
from .charts import nice_max
from .services import SANCTION_KINDS, TEXT_KEYS


def escape(text: str) -> str:
    """Text for a Paragraph (ReportLab's mini-markup): only &, < and > are special."""
    return _html_escape(text, quote=False)


PRIMARY = colors.HexColor("#1f4e8c")
SECOND = colors.HexColor("#8fb3de")
GRID = colors.HexColor("#c5cbd5")


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=10, leading=14, alignment=TA_LEFT)
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=18, leading=22, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=11, leading=15, textColor=colors.HexColor("#4a5260")),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#4a5260")),
    }


def _paragraphs(text: str, style: ParagraphStyle) -> list:
    return [Paragraph(escape(part).replace("\n", "<br/>"), style) for part in text.split("\n\n") if part.strip()]


def _table(rows: list[list], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 9.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [("FONT", (0, 0), (-1, 0), BOLD, 9.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7ecf3"))]
    table.setStyle(TableStyle(style))
    return table


def visits_chart(current: dict, previous: dict, labels: tuple[str, str]) -> Drawing:
    """Visits by kind, this period against the same period a year earlier."""
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 14 * mm
    chart.width, chart.height = 110 * mm, 50 * mm
    chart.data = [
        [previous["visits"][k] for k in KINDS],
        [current["visits"][k] for k in KINDS],
    ]
    chart.categoryAxis.categoryNames = [label.replace(" tillsyn", "").replace(" besök", "") for label in KINDS.values()]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.valueAxis.valueMax, chart.valueAxis.valueStep = nice_max(max(max(chart.data[0]), max(chart.data[1])) * 1.1)
    chart.bars[0].fillColor = SECOND
    chart.bars[1].fillColor = PRIMARY
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 128 * mm, 55 * mm
    legend.fontName = REGULAR
    legend.fontSize = 8
    legend.colorNamePairs = [(SECOND, labels[1]), (PRIMARY, labels[0])]
    drawing.add(legend)
    drawing.add(String(0, 66 * mm, "Tillsynsbesök per slag", fontName=BOLD, fontSize=10))
    return drawing


def remarks_chart(remarks: dict) -> Drawing:
    """Remarks (anmärkningar) by checklist item."""
    items = list(CHECKLIST_ITEMS.items())
    height = 14 * mm + 5.2 * mm * len(items)
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62 * mm, 6 * mm
    chart.width, chart.height = 95 * mm, 5.2 * mm * len(items)
    # ReportLab draws the first category at the bottom: reverse so the list reads top-down.
    chart.data = [[remarks[code] for code, _ in reversed(items)]]
    chart.categoryAxis.categoryNames = [label for _, label in reversed(items)]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax, chart.valueAxis.valueStep = nice_max(max(chart.data[0]) * 1.1)
    chart.bars[0].fillColor = PRIMARY
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.nudge = 4
    drawing.add(chart)
    drawing.add(String(0, height - 4 * mm, "Anmärkningar per kontrollpunkt", fontName=BOLD, fontSize=10))
    return drawing


def half_year_pdf(report: dict) -> bytes:
    """Render the report dict of services.half_year_report."""
    register_fonts()
    st = _styles()
    buffer = io.BytesIO()
    kommun = report["kommun"].name
    period = f"{fmt_date(report['date_from'])} – {fmt_date(report['date_to'])}"
    previous = f"{fmt_date(report['prev_from'])} – {fmt_date(report['prev_to'])}"
    # table headers: one date a line, so that two periods fit side by side
    period_head, previous_head = period.replace(" – ", " –\n"), previous.replace(" – ", " –\n")
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Tillsyn och förebyggande arbete {period}",
        author=kommun,
        subject="Redovisning av tillsyn enligt alkohollagen",
    )

    def footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.drawString(20 * mm, 10 * mm, f"{kommun} · {period}")
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"Sida {doc_.page}")
        canvas.restoreState()

    texts = report["texts"]
    cur, prev = report["current"], report["previous"]
    story: list = [
        Paragraph("Tillsyn och förebyggande arbete", st["title"]),
        Paragraph(escape(f"{kommun}, {period}"), st["sub"]),
        Spacer(1, 6 * mm),
    ]
    story += _paragraphs(texts.get("intro", ""), st["body"])

    story.append(Paragraph("Siffror för perioden", st["h2"]))
    rows = [["", period_head, previous_head]] + [[label, str(a), str(b)] for label, a, b in report["rows"]]
    rows.append(
        ["Andel nekade vid överserveringstest", _pct(report["refusal_rate"]), _pct(report["prev_refusal_rate"])]
    )
    story.append(_table(rows, [80 * mm, 45 * mm, 45 * mm]))
    story.append(Spacer(1, 4 * mm))
    story.append(visits_chart(cur, prev, (period, previous)))

    story.append(Paragraph("Sanktioner", st["h2"]))
    rows = [["Beslut", period_head, previous_head]] + [
        [SANCTIONS[k], str(cur["sanctions"][k]), str(prev["sanctions"][k])] for k in SANCTION_KINDS
    ]
    story.append(_table(rows, [80 * mm, 45 * mm, 45 * mm]))
    if report["sanction_list"]:
        story.append(Spacer(1, 3 * mm))
        rows = [["Datum", "Serveringsställe", "Beslut"]] + [
            [fmt_date(s["date"]), Paragraph(escape(s["venue"]), st["body"]), SANCTIONS[s["sanction"]]]
            for s in report["sanction_list"]
        ]
        table = _table(rows, [28 * mm, 102 * mm, 40 * mm])
        table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT")]))
        story.append(table)

    story.append(
        KeepTogether(
            [
                Paragraph("Anmärkningar vid tillsyn", st["h2"]),
                Paragraph(
                    "En anmärkning är inte en sanktion; den kan leda till ett nytt besök eller ett tillsynsärende.",
                    st["small"],
                ),
                remarks_chart(cur["remarks"]),
            ]
        )
    )
    rows = [["Kontrollpunkt", period_head, previous_head]] + [
        [label, str(cur["remarks"][code]), str(prev["remarks"][code])] for code, label in CHECKLIST_ITEMS.items()
    ]
    story.append(_table(rows, [80 * mm, 45 * mm, 45 * mm]))

    for key in ("prevention", "outlook"):
        if texts.get(key):
            story.append(Paragraph(TEXT_KEYS[key], st["h2"]))
            story += _paragraphs(texts[key], st["body"])

    story.append(Spacer(1, 6 * mm))
    story.append(
        Paragraph(
            "Räknat: signerade tillsynsprotokoll efter besöksdag (svensk tid), utbildningar efter startdag, "
            "beslut efter beslutsdag. Rapporten innehåller inga personuppgifter.",
            st["small"],
        )
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %".replace(".", ",")
