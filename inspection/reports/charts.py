"""Charts for the pages, drawn on the server as SVG from the report figures.

This module only works out the geometry; the SVG itself comes from templates
(`templates/reports/charts/*.svg`, autoescaped) and is styled by CSS classes in
`static/css/reports.css` (no inline styles: the CSP forbids them, and the dark theme recolours
the charts through the same custom properties as the rest of the page). Every chart carries a
<title> and <desc>; the pages put a table of the same numbers after it.
"""

from __future__ import annotations

import itertools
import math

from flask import render_template
from markupsafe import Markup

_ids = itertools.count(1)

WIDTH = 640
HEIGHT = 260
MARGIN_LEFT = 44
MARGIN_RIGHT = 12
MARGIN_TOP = 16
MARGIN_BOTTOM = 36


def nice_max(value: float, ticks: int = 4) -> tuple[int, int]:
    """A round axis maximum at or above `value`, and the step between its ticks."""
    if value <= 0:
        return ticks, 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    step = max(1, math.ceil(step))
    return step * ticks, step


def _chart_id() -> str:
    return f"chart-{next(_ids)}"


def bar_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    target: tuple[str, list[float]] | None = None,
    stacked: bool = False,
    description: str = "",
) -> Markup:
    """Vertical bars per label: grouped (or stacked) series, and an optional target drawn as a line
    (e.g. the tillsynsplan's expected visits per month)."""
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    n = max(1, len(labels))
    if stacked:
        peak = max((sum(s[1][i] for s in series) for i in range(len(labels))), default=0)
    else:
        peak = max((v for _, values in series for v in values), default=0)
    if target:
        peak = max([peak, *target[1]])
    top, step = nice_max(peak)
    scale = plot_h / top
    slot = plot_w / n
    group_w = slot * 0.75
    bar_w = group_w if stacked else group_w / max(1, len(series))

    bars = []
    for i, label in enumerate(labels):
        x0 = MARGIN_LEFT + i * slot + (slot - group_w) / 2
        base = MARGIN_TOP + plot_h
        for k, (name, values) in enumerate(series):
            value = values[i]
            h = value * scale
            if stacked:
                x, y = x0, base - h
                base -= h
            else:
                x, y = x0 + k * bar_w, MARGIN_TOP + plot_h - h
            if value:
                bars.append(
                    {
                        "x": round(x, 1),
                        "y": round(y, 1),
                        "w": round(max(bar_w - 1, 1), 1),
                        "h": round(h, 1),
                        "cls": f"s{k + 1}",
                        "tip": f"{label}, {name}: {_fmt(value)}",
                    }
                )
    ticks = [{"y": round(MARGIN_TOP + plot_h - v * scale, 1), "label": _fmt(v)} for v in range(0, top + 1, step)]
    xlabels = [{"x": round(MARGIN_LEFT + (i + 0.5) * slot, 1), "label": label} for i, label in enumerate(labels)]
    line = None
    if target:
        points = " ".join(
            f"{round(MARGIN_LEFT + (i + 0.5) * slot, 1)},{round(MARGIN_TOP + plot_h - v * scale, 1)}"
            for i, v in enumerate(target[1])
        )
        line = {"name": target[0], "points": points}
    svg = render_template(
        "reports/charts/bars.svg",
        id=_chart_id(),
        title=title,
        description=description or _describe(labels, series, target),
        width=WIDTH,
        height=HEIGHT,
        left=MARGIN_LEFT,
        right=WIDTH - MARGIN_RIGHT,
        bottom=MARGIN_TOP + plot_h,
        label_y=HEIGHT - MARGIN_BOTTOM + 20,
        bars=bars,
        ticks=ticks,
        xlabels=xlabels,
        line=line,
    )
    return _safe(svg)


def hbar_chart(title: str, items: list[tuple[str, float]], *, description: str = "") -> Markup:
    """Horizontal bars, one per item (e.g. remarks by checklist item), longest labels on the left."""
    label_w = 230
    row_h = 26
    height = MARGIN_TOP + row_h * max(1, len(items)) + 24
    plot_w = WIDTH - label_w - MARGIN_RIGHT - 40
    top, _ = nice_max(max((v for _, v in items), default=0))
    scale = plot_w / top
    rows = [
        {
            "y": MARGIN_TOP + i * row_h,
            "text_y": MARGIN_TOP + i * row_h + row_h / 2 + 5,
            "w": round(value * scale, 1),
            "label": label,
            "value": _fmt(value),
            "value_x": round(label_w + value * scale + 6, 1),
        }
        for i, (label, value) in enumerate(items)
    ]
    svg = render_template(
        "reports/charts/hbars.svg",
        id=_chart_id(),
        title=title,
        description=description or "; ".join(f"{label}: {_fmt(v)}" for label, v in items),
        width=WIDTH,
        height=height,
        label_w=label_w,
        bar_h=row_h - 8,
        rows=rows,
    )
    return _safe(svg)


def _safe(svg: str) -> Markup:
    """The chart templates are autoescaped (.svg), so their output is safe to insert as is."""
    return Markup(svg)  # noqa: S704  # nosec B704


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _describe(labels, series, target) -> str:
    parts = []
    for name, values in series:
        parts.append(f"{name}: " + ", ".join(f"{label} {_fmt(v)}" for label, v in zip(labels, values, strict=False)))
    if target:
        parts.append(
            f"{target[0]}: " + ", ".join(f"{label} {_fmt(v)}" for label, v in zip(labels, target[1], strict=False))
        )
    return ". ".join(parts)
