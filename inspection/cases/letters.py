"""The kommunicering letter and the decision letter (ReportLab PDFs, DejaVu embedded).

The body text comes from the kommun's LetterTemplate (or the default) with placeholders such as
{venue} and {deadline}. The appeal instructions of the decision letter are fixed (förvaltningslagen
33 §: a decision that can be appealed must say how), so an edited template cannot drop them.
Every piece of text is escaped before it reaches a Paragraph: a name with <b> prints as typed.
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..pdf.fonts import BOLD, REGULAR, register_fonts
from . import services
from .models import SANCTIONS, Case

#: the placeholders a template may use, with what they stand for (shown on the templates page)
PLACEHOLDERS = {
    "kommun": "kommunens namn",
    "venue": "serveringsställets namn",
    "address": "serveringsställets adress",
    "permit_holder": "tillståndshavaren",
    "org_number": "organisationsnummer",
    "permit_number": "tillståndsnummer",
    "diarienummer": "ärendets diarienummer",
    "sanction": "föreslagen (kommunicering) eller beslutad sanktion",
    "legal_ground": "lagrum",
    "deadline": "sista dag för yttrande",
    "decision_date": "beslutsdatum",
    "decided_by": "vem som beslutade",
    "reasons": "skälen (texten i förslaget eller beslutet)",
    "handlaggare": "handläggarens namn",
    "today": "dagens datum",
}

DEFAULTS = {
    "kommunicering": (
        "{kommun} har ett tillsynsärende om {venue}, {address}, där {permit_holder} ({org_number}) har "
        "serveringstillstånd {permit_number}.\n\n"
        "Kommunen överväger att besluta om {sanction} med stöd av {legal_ground}.\n\n"
        "{reasons}\n\n"
        "Innan kommunen fattar beslut har ni rätt att yttra er över underlaget (förvaltningslagen 25 §). "
        "Ert yttrande ska ha kommit in till kommunen senast {deadline}. Ange diarienummer {diarienummer}.\n\n"
        "Om inget yttrande har kommit in till dess kan kommunen besluta i ärendet utan det."
    ),
    "decision": (
        "{kommun} beslutar att meddela {permit_holder} ({org_number}) {sanction} avseende "
        "serveringstillstånd {permit_number} för {venue}, {address}.\n\n"
        "Beslutet har fattats den {decision_date} av {decided_by} med stöd av {legal_ground}.\n\n"
        "Skäl för beslutet\n{reasons}"
    ),
}

APPEAL_TITLE = "Hur man överklagar"
APPEAL_TEXT = (
    "Beslutet kan överklagas till förvaltningsrätten. Överklagandet ska vara skriftligt och skickas till "
    "{kommun}, inte direkt till förvaltningsrätten. Det ska ha kommit in till kommunen inom tre veckor från "
    "den dag ni fick del av beslutet (delgivning). Skriv vilket beslut som överklagas (diarienummer "
    "{diarienummer}), hur ni vill att beslutet ska ändras och varför. Om överklagandet har kommit in i rätt "
    "tid skickar kommunen det vidare till förvaltningsrätten."
)

DECIDED_BY_TEXT = {"delegat": "enhetschef på delegation från nämnden", "namnd": "nämnden"}


def template_error(body: str) -> str | None:
    """A message when the template does not parse or names an unknown placeholder."""
    try:
        parts = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(body) if name is not None]
    except ValueError:
        return "Mallen har en ensam { eller }: skriv {{ eller }} för en klammer."
    if any(spec or conv for _, spec, conv in parts):
        # No format specs or conversions: "{venue:>99999999}" would be a way to exhaust memory.
        return "Skriv fälten utan tillägg, t.ex. {venue}."
    names = [name for name, _, _ in parts]
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        return "Okänt fält: " + ", ".join("{" + n + "}" for n in unknown) + "."
    return None


def _fill(body: str, values: dict[str, str]) -> str:
    if template_error(body):
        return body  # an old or broken template prints as written rather than failing
    return body.format_map(values)


@dataclass
class Letter:
    filename: str
    title: str
    values: dict[str, str]
    body: str
    appeal: str | None


def _values(case: Case, sanction: str | None, ground: str | None, reasons: str | None, by_name: str) -> dict:
    venue = case.venue
    return {
        "kommun": venue.kommun.name,
        "venue": venue.name,
        "address": venue.address,
        "permit_holder": venue.permit_holder,
        "org_number": venue.org_number,
        "permit_number": venue.permit_number,
        "diarienummer": case.diarienummer or f"ärende {case.id}",
        "sanction": SANCTIONS.get(sanction or "", "").lower() or "ingen åtgärd",
        "legal_ground": ground or "alkohollagen (2010:1622)",
        "reasons": reasons or case.summary,
        "handlaggare": by_name,
        "today": f"{services.today():%Y-%m-%d}",
        "deadline": "",
        "decision_date": "",
        "decided_by": "",
    }


def kommunicering_letter(case: Case, template: str | None = None) -> Letter:
    """The letter that sends the material to the permit holder, with the reply deadline. Before the
    kommunicering is recorded it shows the default deadline (today + 14 days), as a draft to send."""
    proposal = services.last_step(case, "proposal")
    if proposal is None:
        from ..errors import conflict

        raise conflict("Kommuniceringsbrevet kräver ett förslag till beslut.")
    step = services.last_step(case, "kommunicering")
    deadline = step.deadline if step else services.today() + timedelta(days=services.DEFAULT_REPLY_DAYS)
    values = _values(case, proposal.sanction, proposal.legal_ground, proposal.text, (step or proposal).by.name)
    values["deadline"] = f"{deadline:%Y-%m-%d}"
    return Letter(
        filename=f"kommunicering-{case.id}.pdf",
        title="Kommunicering inför beslut",
        values=values,
        body=_fill(template or DEFAULTS["kommunicering"], values),
        appeal=None,
    )


def decision_letter(case: Case, template: str | None = None) -> Letter:
    decision = services.last_step(case, "decision")
    if decision is None:
        from ..errors import conflict

        raise conflict("Ärendet har inget beslut ännu.")
    values = _values(case, decision.sanction, decision.legal_ground, decision.text, decision.by.name)
    values["decision_date"] = f"{decision.date:%Y-%m-%d}"
    values["decided_by"] = DECIDED_BY_TEXT.get(decision.decided_by or "", "")
    step = services.last_step(case, "kommunicering")
    values["deadline"] = f"{step.deadline:%Y-%m-%d}" if step and step.deadline else ""
    sanction = SANCTIONS.get(decision.sanction or "", "Beslut")
    return Letter(
        filename=f"beslut-{case.id}.pdf",
        title=f"Beslut: {sanction.lower()}" if decision.sanction != "ingen_atgard" else "Beslut: ingen åtgärd",
        values=values,
        body=_fill(template or DEFAULTS["decision"], values),
        appeal=APPEAL_TEXT.format_map(values),
    )


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render(letter: Letter, when: date | None = None) -> bytes:
    """The letter as a PDF (A4, DejaVu Sans embedded)."""
    register_fonts()
    body_style = ParagraphStyle("body", fontName=REGULAR, fontSize=11, leading=15, spaceAfter=8)
    small = ParagraphStyle("small", parent=body_style, fontSize=9.5, leading=12, spaceAfter=2)
    title_style = ParagraphStyle("title", parent=body_style, fontName=BOLD, fontSize=16, leading=20, spaceAfter=12)
    head_style = ParagraphStyle("head", parent=body_style, fontName=BOLD, fontSize=12, spaceBefore=10)
    v = letter.values
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=letter.title,
        author=v["kommun"],
    )
    meta = Table(
        [
            [_para(v["kommun"], head_style), _para(f"Datum: {(when or services.today()):%Y-%m-%d}", small)],
            ["", _para(f"Diarienummer: {v['diarienummer']}", small)],
        ],
        colWidths=[100 * mm, 60 * mm],
    )
    meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    recipient = "\n".join(
        [v["permit_holder"], f"Org.nr {v['org_number']}", f"Serveringsställe: {v['venue']}", v["address"]]
    )
    story = [
        meta,
        Spacer(1, 8 * mm),
        _para(recipient, body_style),
        Spacer(1, 6 * mm),
        _para(letter.title, title_style),
    ]
    for chunk in letter.body.split("\n\n"):
        if chunk.strip():
            story.append(_para(chunk.strip("\n"), body_style))
    if letter.appeal:
        story += [_para(APPEAL_TITLE, head_style), _para(letter.appeal, body_style)]
    story += [Spacer(1, 8 * mm), _para(f"Handläggare: {v['handlaggare']}", body_style), _para(v["kommun"], small)]

    def footer(canvas, document):
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.drawString(25 * mm, 12 * mm, f"{v['kommun']} · {letter.title} · sida {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
