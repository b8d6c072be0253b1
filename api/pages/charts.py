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
WIDTH, LEFT, RIGHT, TOP = 760, 56, 16, 36  # the canvas width and the plot's margins


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


@dataclass
class _Plot:
    """A chart's drawing area, its value scale and the SVG drawn so far."""

    title: str
    width: int
    height: int
    plot_w: int
    plot_h: int
    percent: bool
    top_value: float
    svg: list[str]

    def y(self, value: float) -> float:
        """The vertical position of ``value`` (its bar's top, or its point)."""
        return TOP + self.plot_h - self.plot_h * (value / self.top_value if self.top_value else 0)

    def mark(self, element: str, tip: str, link: str | None) -> None:
        """A bar or point; a link to its drill-down when there is one."""
        if link:
            element = f'<a href="{escape(link)}" aria-label="{escape(tip)}">{element}</a>'
        self.svg.append(element)

    def done(self) -> Markup:
        """The baseline, then the whole chart as an accessible inline SVG."""
        base = TOP + self.plot_h
        self.svg.append(
            f'<line x1="{LEFT}" y1="{base}" x2="{self.width - RIGHT}" '
            f'y2="{base}" class="baseline"/>'
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'role="img" aria-label="{escape(self.title)}" class="chart" '
            f'preserveAspectRatio="xMidYMid meet">'
            f"<title>{escape(self.title)}</title>"
        )
        return Markup(head + "".join(self.svg) + "</svg>")


def _plot(title: str, series: Sequence[Series], percent: bool, height: int, bottom: int) -> _Plot:
    """The legend with five horizontal gridlines and their labels, on a ``WIDTH`` canvas."""
    plot_h = height - TOP - bottom
    values = [v for s in series for v in s.values if v is not None]
    top_value = _nice_max(max(values, default=0.0), percent)
    svg: list[str] = _legend(series, LEFT, 20)
    for i in range(5):
        frac = i / 4
        y = TOP + plot_h - frac * plot_h
        svg.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
        )
        svg.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{_fmt(top_value * frac, percent)}</text>"
        )
    plot_w = WIDTH - LEFT - RIGHT
    return _Plot(title, WIDTH, height, plot_w, plot_h, percent, top_value, svg)


def bar_chart(
    title: str, categories: Sequence[str], series: Sequence[Series], *, percent: bool = True
) -> Markup:
    """Grouped vertical bars, one group per category, one bar per series."""
    p = _plot(title, series, percent, height=340, bottom=84)
    n = max(len(categories), 1)
    group_w = p.plot_w / n
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 3)
    for ci, cat in enumerate(categories):
        gx = LEFT + ci * group_w + (group_w - bar_w * len(series)) / 2
        for si, s in enumerate(series):
            v = s.values[ci] if ci < len(s.values) else None
            if v is None:
                continue
            h = p.plot_h * (v / p.top_value if p.top_value else 0)
            x = gx + si * bar_w
            tip = f"{cat} {s.name}: {_fmt(v, percent)}"
            p.mark(
                f'<rect x="{x:.1f}" y="{TOP + p.plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}">'
                f"<title>{escape(tip)}</title></rect>",
                tip,
                s.links[ci] if ci < len(s.links) else None,
            )
        tx = LEFT + ci * group_w + group_w / 2
        ty = TOP + p.plot_h + 14
        p.svg.append(
            f'<text x="{tx:.1f}" y="{ty:.1f}" class="axis" text-anchor="end" '
            f'transform="rotate(-40 {tx:.1f} {ty:.1f})">{escape(_short(cat))}</text>'
        )
    return p.done()


def line_chart(
    title: str, categories: Sequence[str], series: Sequence[Series], *, percent: bool = False
) -> Markup:
    """One polyline per series over the categories (e.g. months), with marked points."""
    p = _plot(title, series, percent, height=300, bottom=56)
    n = len(categories)
    step = p.plot_w / max(n - 1, 1)
    label_every = max(1, (n + 11) // 12)
    for i, cat in enumerate(categories):
        if i % label_every == 0 or i == n - 1:
            p.svg.append(
                f'<text x="{LEFT + i * step:.1f}" y="{TOP + p.plot_h + 18}" class="axis" '
                f'text-anchor="middle">{escape(cat)}</text>'
            )
    for si, s in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        points = [(i, v) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{LEFT + i * step:.1f},{p.y(v):.1f}" for i, v in points)
            p.svg.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for i, v in points:
            tip = f"{categories[i]} {s.name}: {_fmt(v, percent)}"
            p.mark(
                f'<circle cx="{LEFT + i * step:.1f}" cy="{p.y(v):.1f}" r="4" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>",
                tip,
                s.links[i] if i < len(s.links) else None,
            )
    return p.done()
