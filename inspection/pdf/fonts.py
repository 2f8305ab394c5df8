"""The fonts every PDF uses: DejaVu Sans (shipped in this folder), embedded in each document, with
glyphs for Swedish and for names from anywhere (Łukasz Żółć, Şükrü Yılmaz, Nguyễn Thị Minh Khai, Ελένη)."""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"
MONO = "DejaVuSansMono"


@functools.cache
def register_fonts() -> None:
    """Register the TrueType fonts once per process (ReportLab embeds the used subset)."""
    for name in (REGULAR, BOLD, ITALIC, BOLD_ITALIC, MONO):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"{name}.ttf")))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, ITALIC)
    addMapping(REGULAR, 1, 1, BOLD_ITALIC)
