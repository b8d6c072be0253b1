"""Charts drawn on the server as inline SVG: no script, no external asset.

Each chart is a ``<figure>`` whose SVG carries ``role="img"`` and a ``<title>``; the figures
are also printed in the table beside the chart, so nothing is conveyed by the picture alone.
Bars and points are links when a drill-down address is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    links: Sequence[str | None] = ()


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{value:g}"


def _nice_max(value: float, percent: bool) -> float:
    if percent:
        return 1.0
    if value <= 0:
        return 4.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _short(text: str, limit: int = 7) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        lx = x + i * 150
        parts.append(f'<rect x="{lx}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 18}" y="{y}" class="legend">{escape(s.name)}</text>')
    return parts


def _wrap(svg: list[str], title: str, width: int, height: int) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" class="chart" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(svg) + "</svg>")


def _frame(
    series: Sequence[Series],
    percent: bool,
    left: int,
    right: int,
    top: int,
    plot_h: int,
    width: int,
) -> tuple[float, list[str]]:
    """The value scale's top, and the legend with five horizontal gridlines and labels."""
    values = [v for s in series for v in s.values if v is not None]
    top_value = _nice_max(max(values, default=0.0), percent)
    svg: list[str] = _legend(series, left, 20)
    for i in range(5):
        frac = i / 4
        y = top + plot_h - frac * plot_h
        svg.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>'
        )
        svg.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{_fmt(top_value * frac, percent)}</text>"
        )
    return top_value, svg


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = True,
    width: int = 760,
    height: int = 340,
) -> Markup:
    """Grouped vertical bars, one group per category, one bar per series."""
    left, right, top, bottom = 56, 16, 36, 84
    plot_w = width - left - right
    plot_h = height - top - bottom
    top_value, svg = _frame(series, percent, left, right, top, plot_h, width)
    n = max(len(categories), 1)
    group_w = plot_w / n
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 3)
    for ci, cat in enumerate(categories):
        gx = left + ci * group_w + (group_w - bar_w * len(series)) / 2
        for si, s in enumerate(series):
            v = s.values[ci] if ci < len(s.values) else None
            if v is None:
                continue
            h = plot_h * (v / top_value if top_value else 0)
            x = gx + si * bar_w
            y = top + plot_h - h
            colour = PALETTE[si % len(PALETTE)]
            tip = f"{cat} {s.name}: {_fmt(v, percent)}"
            rect = (
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
            link = s.links[ci] if ci < len(s.links) else None
            if link:
                rect = f'<a href="{escape(link)}" aria-label="{escape(tip)}">{rect}</a>'
            svg.append(rect)
        tx = left + ci * group_w + group_w / 2
        ty = top + plot_h + 14
        svg.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" class="axis" text-anchor="end" '
            f'transform="rotate(-40 {tx:.1f} {ty:.1f})">{escape(_short(cat))}</text>'
        )
    svg.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}" class="baseline"/>'
    )
    return _wrap(svg, title, width, height)


def line_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
    width: int = 760,
    height: int = 300,
) -> Markup:
    """One polyline per series over the categories (e.g. months), with marked points."""
    left, right, top, bottom = 56, 16, 36, 56
    plot_w = width - left - right
    plot_h = height - top - bottom
    top_value, svg = _frame(series, percent, left, right, top, plot_h, width)
    n = len(categories)
    step = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * (v / top_value if top_value else 0)

    label_every = max(1, (n + 11) // 12)
    for i, cat in enumerate(categories):
        if i % label_every == 0 or i == n - 1:
            x, _ = xy(i, 0)
            svg.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 18}" class="axis" '
                f'text-anchor="middle">{escape(cat)}</text>'
            )
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        points = [(i, v) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
            svg.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for i, v in points:
            x, y = xy(i, v)
            tip = f"{categories[i]} {s.name}: {_fmt(v, percent)}"
            dot = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
            link = s.links[i] if i < len(s.links) else None
            if link:
                dot = f'<a href="{escape(link)}" aria-label="{escape(tip)}">{dot}</a>'
            svg.append(dot)
    svg.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
        f'y2="{top + plot_h}" class="baseline"/>'
    )
    return _wrap(svg, title, width, height)
