"""The trend's slope chart (``charts.slope``): a few hundred agencies as hoverable traces,
thousands as one SVG path per direction that the legend still shows and hides."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from assess.reports.charts import MAX_NAMED, slope, to_json


def rows(count: int, seed: int = 7) -> pd.DataFrame:
    """``count`` agencies' previous and current scores (two decimals, as stored)."""
    rng = np.random.default_rng(seed)
    previous = rng.uniform(0, 100, count).round(2)
    score = np.clip(previous + rng.normal(0, 8, count), 0, 100).round(2)
    score[::50] = previous[::50]  # some unchanged
    return pd.DataFrame(
        {
            "name": [f"Agency {i}" for i in range(count)],
            "previous": previous,
            "score": score,
            "change": (score - previous).round(2),
        }
    )


def spec(frame: pd.DataFrame) -> dict:
    return json.loads(to_json(slope(frame, "2568", "2569", title="Overall", note="comparable")))


def segments(path: str) -> list[tuple[float, float]]:
    """The (previous, current) of each ``M0,aL1,b`` subpath."""
    found = re.findall(r"M0,([0-9.]+)L1,([0-9.]+)", path)
    assert "".join(f"M0,{a}L1,{b}" for a, b in found) == path  # nothing else in it
    return [(float(a), float(b)) for a, b in found]


def test_thousands_of_lines_are_one_path_per_direction_under_the_summary_lines():
    frame = rows(3000)
    figure = spec(frame)
    shapes = figure["layout"]["shapes"]
    groups = [s["legendgroup"] for s in shapes]
    assert groups == ["Higher", "Lower", "Unchanged"]
    for shape, part in zip(
        shapes,
        (frame[frame.change > 0], frame[frame.change < 0], frame[frame.change == 0]),
        strict=True,
    ):
        assert shape["type"] == "path"
        assert (shape["xref"], shape["yref"], shape["layer"]) == ("x", "y", "below")
        assert segments(shape["path"]) == list(zip(part.previous, part.score, strict=True))
        assert 0.06 <= shape["opacity"] < 0.2  # faint: thousands read as a density
    # No trace holds the agencies' lines: a legend sample per direction (full colour, in
    # the shape's group), the quartiles and the median.
    assert max(len(t.get("x") or []) for t in figure["data"]) == 2
    legend = {t["legendgroup"]: t for t in figure["data"] if t.get("legendgroup") in groups}
    assert set(legend) == set(groups)
    for shape in shapes:
        sample = legend[shape["legendgroup"]]
        assert sample["line"]["color"] == shape["line"]["color"]
        assert "opacity" not in sample
    counts = {t["name"] for t in legend.values()}
    assert counts == {
        f"Higher ({(frame.change > 0).sum():,})",
        f"Lower ({(frame.change < 0).sum():,})",
        f"Unchanged ({(frame.change == 0).sum():,})",
    }


@pytest.mark.parametrize("count", [3, MAX_NAMED])
def test_a_few_hundred_lines_stay_traces_that_name_their_agency(count):
    frame = rows(count)
    figure = spec(frame)
    assert not figure["layout"].get("shapes")
    lines = [t for t in figure["data"] if t.get("hovertemplate") == "%{hovertext}<extra></extra>"]
    assert sum(len(t["hovertext"]) // 3 for t in lines) == count
    first = frame.iloc[0]
    assert any(
        text.startswith(f"{first['name']}<br>{first.previous:.2f} → {first.score:.2f}")
        for t in lines
        for text in t["hovertext"]
        if text
    )


def test_agencies_without_both_scores_draw_no_line():
    frame = rows(MAX_NAMED + 10)
    frame.loc[:4, "previous"] = np.nan
    figure = spec(frame)
    drawn = sum(len(segments(s["path"])) for s in figure["layout"]["shapes"])
    assert drawn == MAX_NAMED + 5
