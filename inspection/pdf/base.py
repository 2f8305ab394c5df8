"""The kommun's page template for every PDF: header (kommun, and the police area at a joint visit),
footer (legal basis and "Sida N av M"), an optional UTKAST watermark, DejaVu everywhere, and a
paragraph helper that prints user text literally.

Page numbers need the page count, known only at the end: `NumberedCanvas` keeps every page's state
and draws the footers when the document is saved (one pass, no second build).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph

from .fonts import BOLD, ITALIC, REGULAR, register_fonts

LEGAL_BASIS = "Tillsyn enligt alkohollagen (2010:1622) 9 kap."
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 26 * mm
MARGIN_BOTTOM = 22 * mm
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT = colors.HexColor("#1f3a5f")
RULE = colors.HexColor("#9aa5b1")


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, all in DejaVu Sans (embedded); made once (treat them as read-only)."""
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=12.5, textColor=INK, alignment=TA_LEFT)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        "muted": ParagraphStyle("muted", parent=body, fontSize=8, leading=10.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11),
        "cell_bold": ParagraphStyle("cell_bold", parent=body, fontName=BOLD, fontSize=8.5, leading=11),
        "cell_remark": ParagraphStyle(
            "cell_remark", parent=body, fontName=BOLD, fontSize=8.5, leading=11, textColor=colors.HexColor("#b42318")
        ),
        "th": ParagraphStyle("th", parent=body, fontName=BOLD, fontSize=8.5, leading=11, textColor=colors.white),
        "label": ParagraphStyle("label", parent=body, fontName=BOLD, fontSize=8.5, leading=11, textColor=MUTED),
        "title": ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=16, leading=20, textColor=ACCENT, spaceAfter=2 * mm
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=10.5, leading=14, textColor=MUTED),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=BOLD,
            fontSize=11.5,
            leading=15,
            textColor=ACCENT,
            spaceBefore=5 * mm,
            spaceAfter=2 * mm,
        ),
        "draft": ParagraphStyle("draft", parent=body, fontName=BOLD, textColor=colors.HexColor("#b42318")),
        "italic": ParagraphStyle("italic", parent=body, fontName=ITALIC),
        "code": ParagraphStyle("code", parent=body, fontName=BOLD, fontSize=11, leading=14),
    }


def text(value) -> str:
    """User text as ReportLab paragraph markup that prints literally: `<b>`, `&`, `<` stay characters,
    line breaks stay line breaks."""
    if value is None:
        return ""
    escaped = escape(str(value))
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br/>")


class CachedParagraph(Paragraph):
    """A Paragraph that remembers its line breaks for a width: a long table that splits across many
    pages wraps its remaining rows again at every split, and re-breaking the same text at the same
    width is most of the time spent on a protocol with hundreds of observations."""

    def wrap(self, availWidth, availHeight):
        cached = self.__dict__.get("_wrap_cache")
        if cached is not None and cached[0] == availWidth:
            _, self._wrapWidths, self.blPara, self.height = cached
            self.width = availWidth
            return self.width, self.height
        result = super().wrap(availWidth, availHeight)
        if hasattr(self, "blPara"):
            self._wrap_cache = (availWidth, self._wrapWidths, self.blPara, self.height)
        return result


def para(value, style: ParagraphStyle, *, markup: str | None = None) -> Paragraph:
    """A paragraph of user text (escaped). `markup` wraps the escaped text, e.g. "<b>{}</b>", for our
    own formatting; it never sees the raw text."""
    body = text(value)
    return CachedParagraph(markup.format(body) if markup else body, style)


@dataclass
class PageInfo:
    """What the header and footer print on every page."""

    kommun: str
    document: str
    police_area: str | None = None
    draft: bool = False
    footer_note: str | None = None  # e.g. the verification code of a signed protocol


class NumberedCanvas(Canvas):
    """A canvas that knows the page count: page states are kept and footers drawn at save()."""

    page_info: PageInfo | None = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initialFontName", REGULAR)
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict] = []

    def showPage(self):
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        info = self.page_info
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        y = MARGIN_BOTTOM - 8 * mm
        self.line(MARGIN_X, y + 4 * mm, PAGE_WIDTH - MARGIN_X, y + 4 * mm)
        self.setFillColor(MUTED)
        self.setFont(REGULAR, 7.5)
        self.drawString(MARGIN_X, y, LEGAL_BASIS)
        if info and info.footer_note:
            self.drawString(MARGIN_X, y - 3.6 * mm, info.footer_note)
        self.setFont(BOLD, 8)
        self.drawRightString(PAGE_WIDTH - MARGIN_X, y, f"Sida {self._pageNumber} av {total}")
        self.restoreState()


def _draw_header(canvas: NumberedCanvas, doc) -> None:
    info: PageInfo = canvas.page_info
    if info.draft:
        _draw_watermark(canvas)
    canvas.saveState()
    top = PAGE_HEIGHT - 12 * mm
    canvas.setFillColor(ACCENT)
    canvas.setFont(BOLD, 11)
    canvas.drawString(MARGIN_X, top, info.kommun)
    canvas.setFont(REGULAR, 8)
    canvas.setFillColor(MUTED)
    room = PAGE_WIDTH - 2 * MARGIN_X - stringWidth(info.kommun, BOLD, 11) - 8 * mm
    canvas.drawRightString(PAGE_WIDTH - MARGIN_X, top, _fit(info.document, REGULAR, 8, room))
    if info.police_area:
        canvas.drawString(MARGIN_X, top - 4.2 * mm, f"i samverkan med {info.police_area}")
    if info.draft:
        canvas.setFillColor(colors.HexColor("#b42318"))
        canvas.setFont(BOLD, 8)
        canvas.drawRightString(PAGE_WIDTH - MARGIN_X, top - 4.2 * mm, "UTKAST – ej signerat")
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(MARGIN_X, top - 7 * mm, PAGE_WIDTH - MARGIN_X, top - 7 * mm)
    canvas.restoreState()


def _fit(value: str, font: str, size: float, width: float) -> str:
    """`value`, shortened with an ellipsis to fit `width` (a long venue name in the header)."""
    if stringWidth(value, font, size) <= width:
        return value
    while value and stringWidth(value + "…", font, size) > width:
        value = value[:-1]
    return value.rstrip() + "…"


def _draw_watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.13))
    canvas.setFont(BOLD, 96)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(50)
    canvas.drawCentredString(0, -34, "UTKAST")
    canvas.restoreState()


def build_pdf(
    flowables: Iterable[Flowable],
    info: PageInfo,
    *,
    title: str,
    author: str,
    subject: str,
    keywords: str = "",
) -> bytes:
    """Lay out `flowables` on the kommun's pages and return the PDF bytes.

    `invariant=1` fixes the creation date and the document ID, so the same content always gives the
    same bytes; the catalog carries /Lang (sv); every font is DejaVu, embedded as a subset."""
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=author,
        subject=subject,
        keywords=keywords,
        creator="Krogtillsyn",
        producer="Krogtillsyn (ReportLab)",
        lang="sv",
        invariant=1,
        initialFontName=REGULAR,
        initialFontSize=9.5,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_draw_header)])

    class _Canvas(NumberedCanvas):
        page_info = info

    doc.build(list(flowables), canvasmaker=_Canvas)
    return buffer.getvalue()
