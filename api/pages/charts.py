"""Charts drawn on the server as inline SVG: no script, no external asset.

Each chart is a ``<figure>`` with a visible title (an ``<h2>``), its unit and a legend in
HTML, then the plot as an SVG that names the title (``aria-labelledby``) and carries it as
``<title>``. The figures are also printed in the tables beside the charts, so nothing is
conveyed by the picture alone.

**Readable at every width.** The SVGs have no ``viewBox``: they are as wide as their box
(``width="100%"``) and as tall as their content in CSS pixels, horizontal positions are
percentages of the width and vertical ones pixels. Nothing is scaled, so the text is the
stylesheet's size (13 px) on a 1280-pixel screen and on a 390-pixel phone alike; where the
phone has no room for every month's label, the ones in between carry ``wide-only`` and the
stylesheet hides them below 640 px.

**Rates with their n.** A bar chart shows rates: each bar is written with its value and the
number of cases behind it (``56.3%（71件）``). A rate of zero is a short dark stub with
``0.0%``; a rate that cannot be computed (no case behind it) is a hatched box with 无数据 —
never the same empty space. Bars and points are links when a drill-down address is given.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from mediation.labels import CHART

# blue, orange, green, purple, red: each at least 3:1 against white (WCAG 1.4.11)
PALETTE = ("#1f5fa8", "#b35c00", "#2e7d4f", "#7b3fa0", "#b3261e")
DASHES = ("", "7 4", "2 4", "10 4 2 4", "4 2")  # lines told apart without colour too

# bar chart geometry: pixels vertically, percent of the width horizontally
AXIS_H = 24  # the row of tick labels above the bars
LINE_H = 17  # one line of a category's label
BAR_H = 14
BAR_GAP = 3
ROW_GAP = 10
BAR_AREA = 60.0  # the bars use the left 60 %; their value and n are written after them
LABEL_CHARS = 18  # a longer category label wraps onto further lines

# line chart geometry
PLOT_TOP, PLOT_H, AXIS_B = 22, 170, 46  # AXIS_B: two lines of month labels
X0, X1 = 3.0, 97.0  # the first and last month, percent of the width
WIDE_TICKS, NARROW_TICKS = 12, 6  # at most this many month labels on a wide screen, a phone


@dataclass(frozen=True)
class Series:
    """One series: its values (``None``: no data), the n behind each, drill-down links."""

    name: str
    values: Sequence[float | None]
    links: Sequence[str | None] = ()
    counts: Sequence[int] = ()


def _at(seq: Sequence[object], i: int) -> object:
    return seq[i] if i < len(seq) else None


def percent_text(value: float | None) -> str:
    return CHART["no_data"] if value is None else f"{value * 100:.1f}%"


def _n(count: object) -> str:
    return "" if count is None else CHART["n"].format(n=count)


def rate_text(value: object, count: object = None) -> str:
    """A rate as the tables show it: ``56.3%（71件）``, or ``无数据（0件）``."""
    shown = percent_text(None if value is None else float(value))  # type: ignore[arg-type]
    return shown + _n(count)


def _nice_top(value: float, percent: bool) -> float:
    """The top of the scale: 100 % (or more, in quarters) for rates, a round number else."""
    if percent:  # 100 %, or beyond it in steps of 50 %
        return max(1.0, math.ceil(value * 2) / 2)
    if value <= 0:
        return 4.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _tick(value: float, percent: bool) -> str:
    return f"{value * 100:g}%" if percent else f"{value:g}"


def _legend(series: Sequence[Series], *, lines: bool) -> str:
    items = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if lines:
            dash = DASHES[i % len(DASHES)]
            mark = (
                f'<line x1="1" y1="7" x2="23" y2="7" stroke="{colour}" stroke-width="3"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        else:
            mark = f'<rect x="5" y="1" width="13" height="13" fill="{colour}"/>'
        items.append(
            f'<li><svg width="24" height="14" aria-hidden="true" focusable="false">{mark}</svg>'
            f"{escape(s.name)}</li>"
        )
    return '<ul class="legend">' + "".join(items) + "</ul>"


def _figure(chart_id: str, title: str, unit: str, legend: str, svg: str, caption: str) -> Markup:
    head = (
        f'<figure class="card chart-card" id="{chart_id}" aria-labelledby="{chart_id}-title">'
        f'<h2 class="chart-title" id="{chart_id}-title">{escape(title)}</h2>'
        f'<p class="chart-unit">{escape(unit)}</p>{legend}'
    )
    tail = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(head + svg + tail + "</figure>")


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> str:
    # role="group" (not "img"): the bars and points inside are links
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" height="{height}" '
        f'role="group" aria-labelledby="{chart_id}-title">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _link(element: str, tip: str, link: object) -> str:
    if isinstance(link, str) and link:
        return f'<a href="{escape(link)}" aria-label="{escape(tip)}">{element}</a>'
    return element


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    n_label: Sequence[str] = (),
    caption: str = "",
) -> Markup:
    """Horizontal bars of rates: per category its full label, then one bar per series.

    ``n_label[i]`` names what series ``i``'s counts are (e.g. 已结调解), for the hover text.
    """
    values = [v for s in series for v in s.values if v is not None]
    top = _nice_top(max(values, default=0.0), percent=True)
    hatch = f"{chart_id}-hatch"
    body = [
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#6b7785" stroke-width="2"/></pattern></defs>'
    ]
    rows: list[str] = []
    y = AXIS_H
    for ci, cat in enumerate(categories):
        lines = textwrap.wrap(cat, LABEL_CHARS) or [cat]
        for li, line in enumerate(lines):
            rows.append(
                f'<text x="0" y="{y + LINE_H * (li + 1) - 4}" class="cat">{escape(line)}</text>'
            )
        y += LINE_H * len(lines) + 2
        for si, s in enumerate(series):
            v = s.values[ci] if ci < len(s.values) else None
            count = _at(s.counts, ci)
            what = n_label[si] if si < len(n_label) else ""
            tip = f"{cat} {s.name}：{percent_text(v)}" + (
                f"（{what}{count}件）" if count is not None else ""
            )
            colour = PALETTE[si % len(PALETTE)]
            if v is None:
                mark = (
                    f'<rect x="0" y="{y}" width="8%" height="{BAR_H}" fill="url(#{hatch})" '
                    f'stroke="#6b7785" class="no-data"><title>{escape(tip)}</title></rect>'
                )
                text_x = "8%"
            elif v == 0:
                mark = (
                    f'<rect x="0" y="{y}" width="3" height="{BAR_H}" fill="{colour}" '
                    f'class="zero"><title>{escape(tip)}</title></rect>'
                )
                text_x = "3"
            else:
                w = BAR_AREA * v / top
                mark = (
                    f'<rect x="0" y="{y}" width="{w:.2f}%" height="{BAR_H}" fill="{colour}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
                text_x = f"{w:.2f}%"
            rows.append(_link(mark, tip, _at(s.links, ci)))
            rows.append(
                f'<text x="{text_x}" dx="5" y="{y + BAR_H - 2}" class="value">'
                f"{escape(percent_text(v) + _n(count))}</text>"
            )
            y += BAR_H + BAR_GAP
        y += ROW_GAP
    height = y
    step = 0.25 if top <= 1.0 else 0.5  # ticks at 25 % up to 100 %, at 50 % beyond
    ticks = round(top / step)
    for i in range(ticks + 1):
        x = BAR_AREA * i / ticks
        body.append(
            f'<line x1="{x:.2f}%" y1="{AXIS_H - 4}" x2="{x:.2f}%" y2="{height - ROW_GAP}" '
            f'class="{"baseline" if i == 0 else "grid"}"/>'
        )
        anchor = "start" if i == 0 else "middle"
        body.append(
            f'<text x="{x:.2f}%" y="{AXIS_H - 9}" class="axis" text-anchor="{anchor}">'
            f"{_tick(step * i, True)}</text>"
        )
    body += rows
    unit = CHART["unit_rate"]
    return _figure(
        chart_id,
        title,
        unit,
        _legend(series, lines=False),
        _svg(chart_id, title, height, body),
        caption,
    )


def line_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    ticks: Sequence[str] = (),
    unit: str = "",
    caption: str = "",
) -> Markup:
    """One line per series over the categories (months), with marked points.

    ``ticks`` are the labels written under the axis (short forms of ``categories``, which
    the hover text uses; a line break puts the rest on a second line); on a phone only
    every other one or so is shown.
    """
    n = len(categories)
    ticks = ticks or categories
    values = [v for s in series for v in s.values if v is not None]
    top = _nice_top(max(values, default=0.0), percent=False)
    base = PLOT_TOP + PLOT_H
    height = base + AXIS_B

    def x(i: int) -> str:
        return f"{X0 + (X1 - X0) * (i / (n - 1) if n > 1 else 0.5):.2f}%"

    def y(v: float) -> float:
        return base - PLOT_H * (v / top if top else 0)

    body: list[str] = []
    for i in range(5):
        gy = PLOT_TOP + PLOT_H * (1 - i / 4)
        body.append(
            f'<line x1="0" y1="{gy:.1f}" x2="100%" y2="{gy:.1f}" '
            f'class="{"baseline" if i == 0 else "grid"}"/>'
        )
        body.append(f'<text x="0" y="{gy - 4:.1f}" class="axis">{_tick(top * i / 4, False)}</text>')
    wide = max(1, math.ceil(n / WIDE_TICKS))
    # a multiple of ``wide``: every label a phone shows is one the wide screen shows too
    narrow = wide * math.ceil(math.ceil(n / NARROW_TICKS) / wide)
    for i, tick in enumerate(ticks):
        if i % wide:
            continue
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        cls = "axis" if i % narrow == 0 else "axis wide-only"
        first, *more = tick.split("\n")  # e.g. the month, then its year on a line below
        body.append(
            f'<text x="{x(i)}" y="{base + 19}" class="{cls}" text-anchor="{anchor}">'
            f"{escape(first)}"
            + "".join(f'<tspan x="{x(i)}" dy="16">{escape(line)}</tspan>' for line in more)
            + "</text>"
        )
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        dash = DASHES[si % len(DASHES)]
        points = [(i, v) for i, v in enumerate(s.values) if v is not None]
        for (i0, v0), (i1, v1) in itertools.pairwise(points):
            body.append(
                f'<line x1="{x(i0)}" y1="{y(v0):.1f}" x2="{x(i1)}" y2="{y(v1):.1f}" '
                f'stroke="{colour}" stroke-width="2.5"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        for i, v in points:
            tip = f"{categories[i]} {s.name}：{v:g}{unit}"
            body.append(
                _link(
                    f'<circle cx="{x(i)}" cy="{y(v):.1f}" r="4" fill="{colour}">'
                    f"<title>{escape(tip)}</title></circle>",
                    tip,
                    _at(s.links, i),
                )
            )
    return _figure(
        chart_id,
        title,
        CHART["unit"].format(unit=unit) if unit else "",
        _legend(series, lines=True),
        _svg(chart_id, title, height, body),
        caption,
    )
