"""Vector charts for the PDF scorecard, as SVG text, made without a browser.

Pure functions over plain data: the radar takes :meth:`AgencyResults.radar` — the same
data the web page's Plotly radar is drawn from — and returns an ``<svg>`` element that
WeasyPrint draws as vectors. Every piece of text is escaped here; nothing in the output
comes from user content unescaped, and nothing refers to an outside resource.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from assess import levels

#: The agency's line, the peer median's and the best's (the web radar's colours).
AGENCY = "#1f4e8c"
MEDIAN = "#6c757d"
BEST = "#2e8540"
GRID = "#c9ced6"
TEXT = "#333333"
#: The scorecard's font; without it the chart's figures would fall back to another font.
FONT = "Sarabun"


@dataclass(frozen=True)
class Band:
    """A level's band of the 0–100 scale: from ``min`` up to the next band's ``min``."""

    min: float
    colour: str


def ink(colour: str) -> str:
    """Dark or white text, whichever reads better on ``colour`` (``#rrggbb``)."""
    return levels.ink(colour, dark="#222222")


def _num(value: float) -> str:
    """A coordinate with one decimal: short, and stable for tests."""
    return f"{value:.1f}"


def _point(cx: float, cy: float, radius: float, index: int, count: int) -> tuple[float, float]:
    """The point at ``radius`` on axis ``index`` of ``count`` (axis 0 points up)."""
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return cx + radius * math.cos(angle), cy + radius * math.sin(angle)


def _polygon(
    cx: float, cy: float, radius: float, values: Sequence[float | None]
) -> list[tuple[float, float] | None]:
    """Vertices of a series; ``None`` for a missing value (never drawn at 0: a dimension
    that does not apply is not a score of nothing)."""
    count = len(values)
    return [
        None if v is None else _point(cx, cy, radius * max(0.0, min(100.0, v)) / 100.0, i, count)
        for i, v in enumerate(values)
    ]


def _ring(
    cx: float, cy: float, radius: float, value: float, count: int
) -> list[tuple[float, float]]:
    """The vertices of a grid ring at ``value`` on every axis."""
    return [_point(cx, cy, radius * value / 100.0, i, count) for i in range(count)]


def _points_attr(points: Sequence[tuple[float, float]]) -> str:
    """An SVG ``points`` attribute."""
    return " ".join(f"{_num(x)},{_num(y)}" for x, y in points)


def radar(
    data: Mapping[str, Any],
    *,
    labels: Sequence[str],
    colours: Sequence[str],
    bands: Sequence[Band] = (),
    title: str = "",
    size: float = 300.0,
) -> str:
    """The radar of the dimensions: the agency against the peer median and the best.

    ``data`` is :meth:`AgencyResults.radar` (``agency``, ``median``, ``best``: one value
    per dimension, 0–100 or ``None``; ``median``/``best`` empty when peers are hidden).
    ``labels`` name the axes (short: the dimension's number), ``colours`` are the colours
    of the agency's level on each dimension (its markers and axis labels), ``bands`` the
    levels' bands shaded behind the grid, ``title`` the accessible name of the chart.
    A dimension the agency has no score on (none of it applies) is skipped by the
    agency's polygon, its label a grey ring (the legend says what it means); the peers'
    lines keep their value there.
    """
    agency: list[float | None] = list(data.get("agency") or [])
    count = len(agency)
    if count == 0:
        return ""
    if len(labels) != count or len(colours) != count:
        raise ValueError("one label and one colour per dimension")
    margin = 26.0
    cx = cy = size / 2
    radius = size / 2 - margin
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(size)} {_num(size)}" '
        f'width="{_num(size)}" height="{_num(size)}" role="img" '
        f'aria-label="{escape(title)}" class="radar" font-family="{FONT}">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")

    # Level bands as rings, outermost first so that each inner one paints over it.
    ordered = sorted(bands, key=lambda b: b.min)
    for i in range(len(ordered) - 1, -1, -1):
        band = ordered[i]
        outer = 100.0 if i + 1 == len(ordered) else ordered[i + 1].min
        ring = _ring(cx, cy, radius, outer, count)
        out.append(
            f'<polygon points="{_points_attr(ring)}" fill="{escape(band.colour)}" '
            f'fill-opacity="0.10" stroke="none"/>'
        )
    # Grid: a ring at every band boundary and at 100, and one spoke per dimension.
    rings = sorted({b.min for b in ordered if 0 < b.min < 100} | {100.0})
    for value in rings:
        ring = _ring(cx, cy, radius, value, count)
        out.append(
            f'<polygon points="{_points_attr(ring)}" fill="none" stroke="{GRID}" '
            f'stroke-width="0.8"/>'
        )
    for i in range(count):
        x, y = _point(cx, cy, radius, i, count)
        out.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
        )
    # Scale values along the first spoke, just to its right (not 100: the outer ring is
    # plainly 100, and its label would touch the first axis's label).
    for value in (v for v in rings if v < 100):
        x, y = _point(cx, cy, radius * value / 100.0, 0, count)
        out.append(
            f'<text x="{_num(x + 3)}" y="{_num(y + 3)}" font-size="7" fill="{MEDIAN}">'
            f"{value:g}</text>"
        )

    def series(values: Sequence[float | None], colour: str, dash: str, fill: bool) -> None:
        """One series' polygon over the axes that have a value, skipping the others
        (nothing when it has no value at all)."""
        if not values or all(v is None for v in values):
            return
        shape = _points_attr([p for p in _polygon(cx, cy, radius, values) if p is not None])
        fill_attr = f'fill="{colour}" fill-opacity="0.16"' if fill else 'fill="none"'
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        width = "2.2" if fill else "1.4"
        out.append(
            f'<polygon points="{shape}" {fill_attr} stroke="{colour}" '
            f'stroke-width="{width}" stroke-linejoin="round"{dash_attr}/>'
        )

    series(list(data.get("best") or []), BEST, "1.5 2.5", False)
    series(list(data.get("median") or []), MEDIAN, "5 3", False)
    series(agency, AGENCY, "", True)
    for i, point in enumerate(_polygon(cx, cy, radius, agency)):
        if point is None:
            continue
        x, y = point
        out.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.2" fill="{escape(colours[i])}" '
            f'stroke="{AGENCY}" stroke-width="1"/>'
        )
    # Axis labels in small discs of the level's colour, just outside the grid; a dimension
    # that does not apply has a grey ring instead.
    for i, label in enumerate(labels):
        x, y = _point(cx, cy, radius + 13, i, count)
        if agency[i] is None:
            out.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="8" fill="#ffffff" '
                f'stroke="{MEDIAN}" stroke-width="1" class="na"/>'
                f'<text x="{_num(x)}" y="{_num(y + 3.3)}" font-size="9.5" font-weight="bold" '
                f'text-anchor="middle" fill="{MEDIAN}">{escape(label)}</text>'
            )
            continue
        out.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="8.5" fill="{escape(colours[i])}"/>'
            f'<text x="{_num(x)}" y="{_num(y + 3.3)}" font-size="9.5" font-weight="bold" '
            f'text-anchor="middle" fill="{ink(colours[i])}">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
