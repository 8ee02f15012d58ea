"""The one module of chart specifications: every results chart, for the web page and the PDF.

Each function takes plain data (the tables of :mod:`assess.services.reports` and numbers
derived from them) and returns a :class:`plotly.graph_objects.Figure`; :func:`to_json`
writes one for a page, where ``static/js/charts.js`` draws it with the served Plotly once
the Thai web font has loaded. Words on the charts are the caller's (already in the reader's
language), except the few axis titles here, which go through Flask-Babel.

Level colours come from :mod:`assess.levels` (one colour per level everywhere); text is set
in Sarabun, the face the pages and PDFs ship.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from flask_babel import gettext as _
from PIL import ImageFont
from plotly.utils import PlotlyJSONEncoder

from assess import levels as level_colours
from assess import thai
from assess.questionnaires import Questionnaire
from assess.scoring.benchmark import group_figures, to_hundredths

FONT_FAMILY = "Sarabun, 'Noto Sans Thai', Tahoma, sans-serif"
#: The charts' text size in pixels.
TEXT_SIZE = 13
#: Pixels that chart parts take beside their text, as Chromium lays out Plotly's charts in
#: Sarabun at TEXT_SIZE (for margins that hold them): below a horizontal axis, its tick
#: labels; beside a vertical axis, from the axis to its tick labels' far edge; across a
#: turned title, its line (Thai marks included); a row of a horizontal legend, and what the
#: legend takes besides its rows (its padding, the gap below it).
TICKS_BELOW = 28
TICKS_BESIDE = 14
TITLE_LINE = 22
LEGEND_ROW = 20
LEGEND_PAD = 23
#: Sarabun's regular face, whose advances size the margins a chart's labels need.
SARABUN = Path(__file__).resolve().parents[1] / "static" / "fonts" / "ttf" / "Sarabun-Regular.ttf"
INK = "#1d2733"
GRID = "#e3e6ea"
NAVY = "#1f3a5f"
UP, DOWN, SAME = "#1e6fb8", "#c0392b", "#8a949e"
#: Response statuses as the progress chart draws them (the badges' hues, saturated enough
#: to tell apart in a stacked bar).
STATUS_COLOURS = {
    "not_started": "#adb5bd",
    "draft": "#f0ad4e",
    "submitted": "#3d8bfd",
    "returned": "#dc3545",
    "accepted": "#198754",
}
#: Above this many agencies a distribution shows its box only, not every agency as a point.
MAX_POINTS = 300
#: Above this many agencies the slope chart's lines carry no names (the page stays small).
MAX_NAMED = 400

LevelScale = Sequence[tuple[str, str, str]]  # (code, name, colour), lowest level first


#: Thai vowels written before the consonant they follow in speech (เ แ โ ใ ไ): one left at
#: the end of a cut label belongs to a syllable that was cut away.
LEADING_VOWELS = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")
#: Thai marks written above or below the consonant before them (vowels, tone marks,
#: the thanthakhat …): never separated from it.
COMBINING_MARKS = frozenset(
    "\u0e31" + "".join(map(chr, range(0x0E34, 0x0E3B))) + "".join(map(chr, range(0x0E47, 0x0E4F)))
)


def short(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters with an ellipsis: never between a Thai
    consonant and the vowel or tone marks written on it (nor any other combining mark), and
    never just after a leading vowel (เ แ โ ใ ไ), which belongs with what comes after it.

    A space in the second half of what is kept ends it there, between words. No Thai word
    segmenter is installed, so a cut may still fall inside a Thai word (Thai separates
    phrases, not words, with spaces); the browser (``charts.js``) cuts at word boundaries
    where it shortens labels itself."""
    if len(text) <= limit:
        return text
    cut = max(1, limit - 1)

    def mark(char: str) -> bool:
        return char in COMBINING_MARKS or unicodedata.category(char) in ("Mn", "Mc")

    while cut < len(text) and mark(text[cut]):
        cut += 1
    kept = text[:cut].rstrip()
    space = kept.rfind(" ", 0, cut) if cut < len(text) and text[cut] != " " else -1
    if space >= len(kept) // 2:  # a word (Thai: a phrase) ends not far back: cut there
        kept = kept[:space].rstrip()
    while kept and kept[-1] in LEADING_VOWELS:
        kept = kept[:-1].rstrip()
    if not kept:  # a limit shorter than the first syllable: its vowel, consonant and marks
        cut = 0
        while cut < len(text) and text[cut] in LEADING_VOWELS:
            cut += 1
        cut += 1
        while cut < len(text) and mark(text[cut]):
            cut += 1
        kept = text[:cut]
    return kept + "…"


@functools.cache
def _face(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(SARABUN), size)


#: A FreeType face is not to be used by two threads at once (gthread workers).
_FACE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8192)  # the same names on every view of a page (2 ms a heatmap)
def text_width(text: str, size: int = TEXT_SIZE) -> float:
    """How wide ``text`` is in pixels, set in Sarabun at ``size`` px: the font's own advances,
    near enough to what the browser lays out to size a chart's margins."""
    with _FACE_LOCK:
        return float(_face(size).getlength(text))


def row_label_margins(labels: Sequence[str], **sides: int) -> dict[str, int]:
    """Margins for a chart whose rows are named on its y axis by ``labels``: the left one
    holds the longest as Sarabun sets it (Plotly's tick padding included), the others as
    ``sides`` give them (``t``, ``r``, ``b``). Given margins that hold every label, Plotly's
    automargin (kept as the safety net) pushes none, and the browser lays the chart out once
    instead of twice."""
    return {"l": math.ceil(max(map(text_width, labels), default=0) + 24), **sides}


def measure_labels(
    questionnaire: Questionnaire, lang: str, overall: str, limit: int = 30
) -> dict[str, str]:
    """Axis labels of the measures: the overall label, then each dimension's title cut short."""
    labels = {"overall": overall}
    for dimension in questionnaire.dimensions:
        labels[dimension.code] = short(dimension.title.get(lang), limit)
    return labels


def level_scale(questionnaire: Questionnaire, lang: str) -> list[tuple[str, str, str]]:
    """The questionnaire's levels, lowest first: code, name in ``lang``, colour."""
    return [
        (level.code, level.name.get(lang), level_colours.colour(questionnaire, level.code))
        for level in questionnaire.levels
    ]


def layout(**overrides: Any) -> dict[str, Any]:
    """The layout every chart starts from: Sarabun, calm greys, no Plotly template (its
    defaults would add kilobytes to every chart and colours that are not ours)."""
    axis = {
        "gridcolor": GRID,
        "linecolor": "#b7c0ca",
        "zeroline": False,
        "automargin": True,
        "title": {"standoff": 8},
    }
    base: dict[str, Any] = {
        "template": "none",
        "font": {"family": FONT_FAMILY, "size": TEXT_SIZE, "color": INK},
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": TEXT_SIZE}},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 20, "t": 40, "b": 40},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        # One label at the pointer: Plotly's default for boxes labels every statistic at
        # once, rotated, over the chart.
        "hovermode": "closest",
        "separators": ".,",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def score_text(value: float | None) -> str:
    """A score with two decimals ("63.89"), "–" when missing."""
    return (
        "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"
    )


def median_text(values: pd.Series) -> str:
    """The median of two-decimal scores as §7 rounds it (exact hundredths, half away from
    zero), with two decimals."""
    hundredths = sorted(int(v) for v in np.rint(values.dropna().to_numpy(dtype="float64") * 100))
    if not hundredths:
        return "–"
    n = len(hundredths)
    twice = hundredths[(n - 1) // 2] + hundredths[n // 2]  # twice the median
    whole = (twice + 1) // 2 if twice >= 0 else -((-twice + 1) // 2)
    return f"{whole / 100:.2f}"


def distributions(
    summary: pd.DataFrame,
    labels: Mapping[str, str],
    points: pd.DataFrame | None = None,
) -> go.Figure:
    """Score distribution per measure: a horizontal box per measure, overall on top.

    ``summary`` has one row per measure with the §7 figures ``n, mean, median, p25, p75,
    min, max`` (index: measure): the box is always drawn from them (p25 to p75, the median,
    the mean, whiskers from min to max), so that it shows the figures the page's table and
    CSV give. With ``points`` (``measure, score, name``: every agency, for small
    populations) each agency is also a dot beside its box: a second box trace whose own
    box is not drawn (Plotly would draw it at quartiles of its own method).
    """
    measures = [m for m in labels if m in summary.index]
    names = [labels[m] for m in measures]
    fill = "rgba(31, 58, 95, 0.18)"
    rows = summary.loc[measures]
    traces = [
        go.Box(
            y=names,
            q1=rows["p25"].tolist(),
            median=rows["median"].tolist(),
            q3=rows["p75"].tolist(),
            lowerfence=rows["min"].tolist(),
            upperfence=rows["max"].tolist(),
            mean=rows["mean"].tolist(),
            orientation="h",
            line={"color": NAVY},
            fillcolor=fill,
            boxpoints=False,
            name="",
        )
    ]
    if points is not None and not points.empty:
        shown = points[points["measure"].isin(measures)]
        traces.append(
            go.Box(
                x=shown["score"].tolist(),
                y=[labels[m] for m in shown["measure"]],
                hovertext=shown["name"].tolist(),
                orientation="h",
                boxpoints="all",
                jitter=0.5,
                pointpos=-1.8,
                marker={"color": NAVY, "size": 5, "opacity": 0.65},
                line={"color": "rgba(0, 0, 0, 0)", "width": 0},
                fillcolor="rgba(0, 0, 0, 0)",
                whiskerwidth=0,
                hoveron="points",
                hovertemplate="%{hovertext}<br>%{x:.2f}<extra></extra>",
                name="",
            )
        )
    return go.Figure(
        data=traces,
        layout=layout(
            height=90 + 46 * len(measures),
            boxmode="overlay",  # the dots' trace beside the figures' box, not a second row
            # Below: the score axis's ticks and title.
            margin=row_label_margins(names, t=40, r=24, b=50),
            showlegend=False,
            xaxis={"range": [0, 100], "title": {"text": _("Verified score (0–100)")}, "dtick": 10},
            yaxis={
                "autorange": "reversed",
                "categoryorder": "array",
                "categoryarray": names,
            },
        ),
    )


def heatmap(
    scores: pd.DataFrame,
    levels: pd.DataFrame,
    names: Sequence[str],
    labels: Mapping[str, str],
    scale: LevelScale,
) -> go.Figure:
    """Agencies × measures, each cell in its level's colour with the score written in it.

    ``scores`` and ``levels`` are agency × measure tables in the order to show (best
    first); ``names`` label the rows (made unique, so that two agencies of the same name
    never merge into one row; cut short on the axis, whole on hover).
    """
    measures = [m for m in labels if m in scores.columns]
    columns = [labels[m] for m in measures]
    position = {code: i for i, (code, _name, _colour) in enumerate(scale)}
    level_name = {code: name for code, name, _colour in scale}
    count = max(1, len(scale))
    rows = list(levels[measures].itertuples(index=False, name=None))
    z = [[position.get(v) if isinstance(v, str) else None for v in row] for row in rows]
    named = [[level_name.get(v, "–") if isinstance(v, str) else "–" for v in row] for row in rows]
    text = [
        [score_text(v) for v in row] for row in scores[measures].itertuples(index=False, name=None)
    ]
    seen: dict[str, int] = {}
    unique = []
    for name, code in zip(names, scores.index, strict=True):
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({code})")
    colourscale = []
    for i, (_code, _name, colour) in enumerate(scale):
        colourscale += [[i / count, colour], [(i + 1) / count, colour]]
    trace = go.Heatmap(
        z=z,
        x=columns,
        y=unique,
        text=text,
        customdata=named,
        texttemplate="%{text}",
        textfont={"size": 11},
        zmin=-0.5,
        zmax=count - 0.5,
        colorscale=colourscale or [[0, level_colours.NONE], [1, level_colours.NONE]],
        xgap=2,
        ygap=2,
        colorbar={
            "title": {"text": _("Level")},
            "tickvals": list(range(count)),
            "ticktext": [f"{code} {name}" for code, name, _colour in scale],
            "lenmode": "pixels",
            "len": 220,
            "yanchor": "top",
            "y": 1,
        },
        hovertemplate="%{y}<br>%{x}: %{text} · %{customdata}<extra></extra>",
    )
    ticks = [short(n, 42) for n in unique]
    # Margins the labels fit in, from the face's advances: Plotly's automargin, kept as the
    # safety net, then finds nothing to push.
    slant = 35  # degrees, the measures' labels over the columns
    margin = row_label_margins(
        ticks,
        t=math.ceil(
            max(map(text_width, columns), default=0) * math.sin(math.radians(slant))
            + TEXT_SIZE * math.cos(math.radians(slant))
            + 28
        ),
        r=math.ceil(max(map(text_width, trace.colorbar.ticktext or ()), default=0) + 84),
        b=10,
    )
    return go.Figure(
        data=[trace],
        layout=layout(
            height=130 + 24 * max(len(unique), 3),
            margin=margin,
            xaxis={"side": "top", "tickangle": -slant, "showgrid": False, "type": "category"},
            yaxis={
                "type": "category",
                "tickvals": unique,
                "ticktext": ticks,
                "autorange": "reversed",
                "showgrid": False,
            },
        ),
    )


def level_bars(counts: pd.DataFrame, labels: Mapping[str, str], scale: LevelScale) -> go.Figure:
    """Level distribution per measure: one bar per measure, stacked by level, as shares.

    ``counts`` has ``measure, level, count`` (``level_counts``); each level is one trace in
    its colour, named in the reader's language; bars show shares, hover shows counts.
    """
    measures = [m for m in labels if m in set(counts["measure"])]
    names = [labels[m] for m in measures]
    table = counts.pivot_table(index="measure", columns="level", values="count", aggfunc="sum")
    table = table.reindex(index=measures).fillna(0)
    totals = table.sum(axis=1).replace(0, 1)
    traces = []
    for code, name, colour in scale:
        values = table[code] if code in table.columns else pd.Series(0, index=measures)
        share = (values / totals * 100).round(1)
        traces.append(
            go.Bar(
                name=f"{code} {name}",
                y=names,
                x=share.tolist(),
                customdata=values.astype(int).tolist(),
                orientation="h",
                marker={"color": colour},
                text=[f"{int(v)}" if v else "" for v in values],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": level_colours.ink(colour)},
                hovertemplate=f"{name}<br>%{{y}}: %{{customdata}} (%{{x:.1f}}%)<extra></extra>",
            )
        )
    return go.Figure(
        data=traces,
        layout=layout(
            barmode="stack",
            height=110 + 44 * len(measures),
            # Above: the levels' legend, one line wide; right: half of "100%"; below: the
            # share axis's ticks and title.
            margin=row_label_margins(names, t=54, r=30, b=50),
            uniformtext={"minsize": 10, "mode": "hide"},
            xaxis={"range": [0, 100], "ticksuffix": "%", "title": {"text": _("Share of agencies")}},
            yaxis={"autorange": "reversed"},
            # Lowest level first, as the bars read from left to right.
            legend={"traceorder": "normal"},
        ),
    )


def status_bars(counts: pd.DataFrame, statuses: Sequence[tuple[str, str]]) -> go.Figure:
    """Responses by agency type and status: one bar per type, stacked by status, as shares
    of the type's invited agencies (counts on hover and beside each type's name).

    ``counts`` has ``type`` (a label), ``status`` (a code) and ``count``; ``statuses`` the
    status codes with their labels, in workflow order.
    """
    types = list(dict.fromkeys(counts["type"]))
    table = counts.pivot_table(index="type", columns="status", values="count", aggfunc="sum")
    table = table.reindex(index=types).fillna(0).astype(int)
    totals = table.sum(axis=1)
    names = [f"{t} ({totals[t]:,})" for t in types]
    traces = []
    for code, label in statuses:
        values = table[code] if code in table.columns else pd.Series(0, index=types)
        traces.append(
            go.Bar(
                name=label,
                y=names,
                x=values.tolist(),
                orientation="h",
                marker={"color": STATUS_COLOURS.get(code, SAME)},
                # The count and its share: with ``barnorm`` Plotly's own %{x} is the share.
                hovertemplate=(
                    f"{label}<br>%{{y}}: %{{customdata[0]:,}} (%{{customdata[1]:.1f}}%)"
                    "<extra></extra>"
                ),
                customdata=list(
                    zip(
                        values.tolist(),
                        (values / totals.replace(0, 1) * 100).round(1).tolist(),
                        strict=True,
                    )
                ),
            )
        )
    height = 150 + 40 * max(len(types), 2)
    # Margins that hold the types' names, the last tick ("100%") and, below the ticks, the
    # legend in two rows (five statuses in a half-width card): Plotly pushes none, and lays
    # the chart out once. A card too narrow for two rows (a phone) pushes the bottom one.
    margin = row_label_margins(names, t=20, r=30, b=TICKS_BELOW + LEGEND_PAD + 2 * LEGEND_ROW)
    return go.Figure(
        data=traces,
        layout=layout(
            barmode="stack",
            barnorm="percent",
            height=height,
            # No axis title: the ticks say "%" and the card's title says of what.
            xaxis={"range": [0, 100], "ticksuffix": "%"},
            yaxis={"autorange": "reversed"},
            # Below the chart, just under its ticks: above it, five statuses would run under
            # the mode bar.
            legend={
                "traceorder": "normal",
                "y": -TICKS_BELOW / (height - margin["t"] - margin["b"]),
                "yanchor": "top",
            },
            margin=margin,
        ),
    )


def _day_ticks(first: dt.date, last: dt.date, lang: str) -> tuple[list[str], list[str]]:
    """About eight evenly spaced ticks between two days, labelled in the reader's calendar
    (Buddhist Era in Thai): Plotly's date axis only knows the Gregorian one."""
    span = max(1, (last - first).days)
    step = max(1, math.ceil(span / 8))
    days = [first + dt.timedelta(days=i) for i in range(0, span + 1, step)]
    return [d.isoformat() for d in days], [thai.format_date(d, lang) for d in days]


def submissions(
    days: pd.DataFrame, lang: str, *, invited: int, deadline: dt.date | None = None
) -> go.Figure:
    """Submitted responses over time: the running total by day (``day``, ``count``).

    Days are labelled in the reader's calendar; the deadline, when the round has one, is a
    dashed line. The running total is out of the ``invited`` agencies.
    """
    days = days.sort_values("day")
    total = days["count"].cumsum()
    first = days["day"].min() if not days.empty else deadline or thai.today()
    last = max(
        [d for d in (days["day"].max() if not days.empty else None, deadline) if d] or [first]
    )
    tickvals, ticktext = _day_ticks(first, last, lang)
    labels = [thai.format_date(d, lang) for d in days["day"]]
    trace = go.Scatter(
        x=[d.isoformat() for d in days["day"]],
        y=total.tolist(),
        customdata=list(zip(labels, days["count"].tolist(), strict=True)),
        mode="lines+markers",
        line={"color": NAVY, "shape": "hv", "width": 2},
        marker={"size": 4},
        fill="tozeroy",
        fillcolor="rgba(31, 58, 95, 0.10)",
        hovertemplate="%{customdata[0]}: +%{customdata[1]} → %{y}<extra></extra>",
        name="",
    )
    shapes, notes = [], []
    if deadline is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": deadline.isoformat(),
                "x1": deadline.isoformat(),
                "y0": 0,
                "y1": 1,
                "line": {"color": DOWN, "dash": "dash", "width": 1.5},
            }
        )
        notes.append(
            {
                "x": deadline.isoformat(),
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": _("Deadline"),
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "bottom",
                "font": {"color": DOWN},
            }
        )
    top = max(invited, int(total.max()) if not total.empty else 0) * 1.05 or 1
    # Thai marks above the line reach past the box Plotly gives a title: more room between
    # the turned title and the ticks than the other charts' 8 px.
    standoff = 14
    return go.Figure(
        data=[trace],
        layout=layout(
            height=340,
            showlegend=False,
            shapes=shapes,
            annotations=notes,
            xaxis={"type": "date", "tickvals": tickvals, "ticktext": ticktext},
            yaxis={
                "title": {"text": _("Submitted responses (running total)"), "standoff": standoff},
                "range": [0, top],
            },
            # Margins that hold the ticks and the turned title on the left, the days' labels
            # (turned 30° when they crowd) below: Plotly pushes none, and lays the chart out
            # once.
            margin={
                "l": math.ceil(
                    text_width(f"{int(top):d}") + TICKS_BESIDE + standoff + TITLE_LINE + 4
                ),
                "b": math.ceil(max(map(text_width, ticktext), default=0) / 2 + TICKS_BELOW + 4),
            },
        ),
    )


def slope(
    rows: pd.DataFrame,
    before: str,
    after: str,
    *,
    title: str,
    note: str,
) -> go.Figure:
    """Year-over-year change as a slope chart: each agency a line from its previous score
    to its current one, rising lines in blue, falling ones in red, and the median agency's
    as a thick line. ``rows`` has ``name, previous, score, change`` (``trend_frame`` of one
    measure); ``before`` and ``after`` label the two rounds; ``note`` says whether the two
    versions compare as they are or re-based (scoring.md §8).

    Up to :data:`MAX_NAMED` agencies, hovering a line names its agency; beyond, lines are
    drawn without words (the page stays small; the CSV and the flags name them), each
    direction's lines as one SVG path (:func:`_lines_path`), a shape in the legend group
    of the direction's legend entry (Plotly's legend shows and hides a group's shapes with
    its traces).
    """
    rows = rows[rows["previous"].notna() & rows["score"].notna()]
    named = len(rows) <= MAX_NAMED
    # Many faint lines read as a density; a few stay clearly visible.
    faint = max(0.06, min(0.7, 6 / math.sqrt(max(len(rows), 1))))
    traces: list[go.Scatter] = []
    shapes: list[dict[str, Any]] = []
    for colour, label, part in (
        (UP, _("Higher"), rows[rows["change"] > 0]),
        (DOWN, _("Lower"), rows[rows["change"] < 0]),
        (SAME, _("Unchanged"), rows[rows["change"] == 0]),
    ):
        if part.empty:
            continue
        count = len(part)
        if named:
            traces.append(go.Scatter(**_named_lines(part, colour, label, faint)))
        else:
            shapes.append(
                {
                    "type": "path",
                    "path": _lines_path(part),
                    "xref": "x",
                    "yref": "y",
                    "layer": "below",
                    "line": {"color": colour, "width": 1},
                    "opacity": faint,
                    "legendgroup": label,
                }
            )
        # The legend's sample in full colour: the faint lines' own would be invisible.
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": colour, "width": 3},
                name=f"{label} ({count:,})",
                legendgroup=label,
            )
        )
    if not rows.empty:
        # The middle half of the agencies each year (dashed), and the median (thick).
        before_figures, after_figures = middle_figures(rows)
        for position, tag in ((0, "p25"), (2, "p75")):
            traces.append(
                go.Scatter(
                    x=[0, 1],
                    y=[before_figures[position], after_figures[position]],
                    mode="lines",
                    line={"color": INK, "width": 2, "dash": "dash"},
                    name=_("Middle half (p25–p75)"),
                    legendgroup="quartiles",
                    showlegend=tag == "p25",
                    hovertemplate=tag + ": %{y:.2f}<extra></extra>",
                )
            )
        middle = [before_figures[1], after_figures[1]]
        traces.append(
            go.Scatter(
                x=[0, 1],
                y=[float(v) for v in middle],
                mode="lines+markers+text",
                line={"color": INK, "width": 4},
                marker={"size": 9, "color": INK},
                text=middle,
                textposition=["middle left", "middle right"],
                name=_("Median of each round"),
                hovertemplate=_("Median") + ": %{y:.2f}<extra></extra>",
            )
        )
    return go.Figure(
        data=traces,
        layout=layout(
            height=540,
            shapes=shapes,
            title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
            margin={"t": 96, "l": 60, "r": 60},
            legend={"y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
            annotations=[
                {
                    "text": note,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": 1.0,
                    "yanchor": "bottom",
                    "xanchor": "left",
                    "showarrow": False,
                    "font": {"size": 12, "color": "#5b6570"},
                    "yshift": 4,
                }
            ],
            xaxis={
                "tickvals": [0, 1],
                "ticktext": [before, after],
                "range": [-0.35, 1.35],
                "showgrid": False,
                "fixedrange": True,
            },
            yaxis={"range": [0, 100], "title": {"text": _("Verified score (0–100)")}, "dtick": 10},
        ),
    )


def middle_figures(rows: pd.DataFrame) -> list[tuple[float, str, float]]:
    """What the slope chart draws of the agencies as a whole, for its table: p25, the median
    (as §7 rounds it, as text) and p75 of the previous scores, then of the current ones, of
    the agencies scored in both rounds (``rows`` as :func:`slope` takes them)."""
    rows = rows[rows["previous"].notna() & rows["score"].notna()]
    figures: list[tuple[float, str, float]] = []
    for column in ("previous", "score"):
        # In exact hundredths, as the benchmark's quartiles (§7: 25.045 is 25.05, where a
        # float quantile, formatted, gave 25.04).
        ordered = np.sort(to_hundredths(rows[column]))
        if not len(ordered):
            figures.append((math.nan, "–", math.nan))
            continue
        _mean, p25, median, p75 = group_figures(ordered)
        figures.append((p25 / 100, f"{median / 100:.2f}", p75 / 100))
    return figures


def _named_lines(part: pd.DataFrame, colour: str, label: str, opacity: float) -> dict[str, Any]:
    """One direction's lines as one scatter trace whose points name their agency on hover:
    agencies separated by gaps (a missing y ends a line). Plotly draws each line as an SVG
    element of its own, which is why only a few hundred are drawn this way."""
    count = len(part)
    text = [
        f"{name}<br>{previous:.2f} → {score:.2f} ({change:+.2f})"
        for name, previous, score, change in part[
            ["name", "previous", "score", "change"]
        ].itertuples(index=False, name=None)
    ]
    return {
        # Arrays, not lists: Plotly checks a list element by element, an array at once.
        "x": np.tile(np.array([0, 1, 1], dtype=np.uint8), count),
        "y": np.column_stack(
            [
                part["previous"].to_numpy(dtype="float32"),
                part["score"].to_numpy(dtype="float32"),
                np.full(count, np.nan, dtype="float32"),
            ]
        ).ravel(),
        "mode": "lines+markers",
        "line": {"color": colour, "width": 1},
        "marker": {"size": 4, "color": colour},
        "opacity": opacity,
        "name": f"{label} ({count:,})",
        "legendgroup": label,
        "showlegend": False,
        "hovertext": [t for item in text for t in (item, item, None)],
        "hovertemplate": "%{hovertext}<extra></extra>",
    }


def _lines_path(part: pd.DataFrame) -> str:
    """Each agency's line from its previous score (x 0) to its current one (x 1), as the
    subpaths of one SVG path in the axes' units: one element for thousands of lines, where
    a trace would make one element per line (6,754 at 8,000 agencies, half a second of
    drawing on a slow machine)."""
    return "".join(
        f"M0,{previous:.2f}L1,{score:.2f}"
        for previous, score in part[["previous", "score"]].itertuples(index=False, name=None)
    )


def to_json(figure: go.Figure) -> str:
    """A figure as compact JSON safe to place inside an HTML ``<script>`` element.

    Thai stays as UTF-8 (3 bytes a letter, not 6 as ``\\uXXXX`` escapes); ``<``, ``>`` and
    ``&`` are escaped so that no string can close the script element.
    """
    text = json.dumps(
        figure.to_plotly_json(), cls=PlotlyJSONEncoder, ensure_ascii=False, separators=(",", ":")
    )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def radar(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str, str]],
) -> go.Figure:
    """Dimension scores on a 0–100 radar: one closed line per series.

    ``series`` holds (name, one value per label, colour, dash); the first is the agency
    (filled), the others its peer group's median and best. The PDF's SVG radar is drawn from
    the same data (:meth:`assess.services.agency_results.AgencyResults.radar`).
    """
    theta = [*labels, labels[0]] if labels else []
    traces = [
        go.Scatterpolar(
            r=[*values, values[0]],
            theta=theta,
            name=name,
            mode="lines+markers",
            line={"color": colour, "width": 3 if position == 0 else 2, "dash": dash},
            marker={"size": 6 if position == 0 else 4},
            fill="toself" if position == 0 else None,
            fillcolor="rgba(31,58,95,0.15)" if position == 0 else None,
            hovertemplate="%{theta}: %{r:.2f}<extra>" + name + "</extra>",
            connectgaps=True,
        )
        for position, (name, values, colour, dash) in enumerate(series)
        if values
    ]
    # Data and layout given at once, as the other charts: updating the layout of a figure
    # already made goes through Plotly's relayout machinery, which cost twice the rest.
    return go.Figure(
        data=traces,
        layout=layout(
            polar={
                "radialaxis": {
                    "range": [0, 100],
                    "tickvals": [25, 50, 75, 100],
                    "gridcolor": GRID,
                    "tickfont": {"size": 11},
                },
                # The first dimension on top, clockwise; the scale's ticks then lie between
                # two dimensions instead of under a label.
                "angularaxis": {
                    "gridcolor": GRID,
                    "tickfont": {"size": 12},
                    "rotation": 90,
                    "direction": "clockwise",
                },
            },
            legend={"orientation": "h", "yanchor": "top", "y": -0.08, "x": 0},
            margin={"l": 120, "r": 120, "t": 40, "b": 40},
            height=480,
        ),
    )
