"""Charts that name their rows on the y axis (heatmap, distributions, levels, the progress
status bars) and the submissions timeline size their
margins from their labels (``charts.text_width``: Sarabun's own advances), so that Plotly
need not push them and lay the chart out again. That Chromium agrees (nothing pushed) is
checked by ``tests/e2e/test_dashboards.py``."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from assess.reports.charts import (
    distributions,
    heatmap,
    level_bars,
    short,
    status_bars,
    submissions,
    text_width,
)

SCALE = [("1", "เริ่มต้น", "#c0392b"), ("2", "กำลังพัฒนา", "#e67e22"), ("3", "ดีเยี่ยม", "#2e86c1")]


def test_text_width_is_the_faces_advances():
    assert text_width("") == 0
    assert 0 < text_width("ก") < text_width("กข") < text_width("กขคงจ")
    # Thai marks above and below take no width of their own.
    assert text_width("ก้า") == text_width("กา")
    assert text_width("W", 26) == pytest.approx(2 * text_width("W", 13), rel=0.02)


def margins(names: list[str], measures: dict[str, str]) -> dict:
    codes = [f"A{i}" for i in range(len(names))]
    scores = pd.DataFrame({m: [50.0] * len(codes) for m in measures}, index=codes)
    levels = pd.DataFrame({m: ["2"] * len(codes) for m in measures}, index=codes)
    return heatmap(scores, levels, names, measures, SCALE).to_plotly_json()["layout"]["margin"]


def test_the_margins_hold_the_longest_labels():
    names = ["กรมทดสอบ", "องค์การบริหารส่วนตำบลทดสอบที่ 1234 จังหวัดพระนครศรีอยุธยา"]
    measures = {"overall": "ภาพรวม", "d1": "ความมั่นคงปลอดภัยไซเบอร์และการคุ้มครองข้อมูล"}
    margin = margins(names, measures)
    assert margin["l"] >= text_width(short(names[1], 42)) + 20
    assert margin["t"] >= text_width(measures["d1"]) * 0.57  # its height at 35°
    assert margin["r"] >= text_width("2 กำลังพัฒนา") + 80  # the colour bar and its ticks
    # Shorter labels, smaller margins.
    small = margins(["กรม ก", "กรม ข"], {"overall": "ภาพรวม"})
    assert small["l"] < 100
    assert (small["l"], small["t"]) < (margin["l"], margin["t"])


def test_the_distributions_and_levels_hold_their_measures_names():
    labels = {"overall": "ภาพรวม", "d1": "ความมั่นคงปลอดภัยไซเบอร์และการคุ้มครองข้อมูล"}
    summary = pd.DataFrame(
        {"n": 2, "mean": 50.0, "median": 50.0, "p25": 40.0, "p75": 60.0, "min": 0.0, "max": 90.0},
        index=list(labels),
    )
    counts = pd.DataFrame({"measure": ["overall", "d1"], "level": ["2", "3"], "count": [1, 1]})
    for chart in (distributions(summary, labels), level_bars(counts, labels, SCALE)):
        margin = chart.to_plotly_json()["layout"]["margin"]
        assert margin["l"] == pytest.approx(text_width(labels["d1"]) + 24, abs=1)
        assert margin["b"] >= 46  # the value axis's ticks and title, as Chromium sets them


def test_the_progress_charts_hold_their_labels_and_legend():
    """The status bars name each type (with its count) and keep two legend rows below the
    ticks; the submissions' left margin holds the top tick and the turned title, its bottom
    one the days' labels turned 30°."""
    counts = pd.DataFrame(
        {
            "type": ["กรม", "องค์กรปกครองส่วนท้องถิ่น", "องค์กรปกครองส่วนท้องถิ่น"],
            "status": ["accepted", "draft", "accepted"],
            "count": [3, 7, 7_687],
        }
    )
    statuses = [("draft", "ร่าง"), ("accepted", "ยอมรับแล้ว")]
    layout = status_bars(counts, statuses).to_plotly_json()["layout"]
    assert layout["margin"]["l"] == pytest.approx(
        text_width("องค์กรปกครองส่วนท้องถิ่น (7,694)") + 24, abs=1
    )
    assert layout["margin"]["b"] >= 28 + 2 * 20 + 20  # ticks, two rows, the legend's padding
    plot = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    assert layout["legend"]["y"] * plot == pytest.approx(-28)  # just under the ticks

    days = pd.DataFrame({"day": [dt.date(2026, 3, 1), dt.date(2026, 3, 31)], "count": [5, 7_990]})
    layout = submissions(days, "th", invited=8_000).to_plotly_json()["layout"]
    assert layout["margin"]["l"] >= text_width("8400") + 8 + 14 + 20
    assert layout["margin"]["b"] >= text_width("31 มี.ค. 2569") / 2 + 28
    assert layout["yaxis"]["title"]["standoff"] == 14


def test_the_status_bars_hover_gives_the_count_and_its_share():
    """The bars are shares (``barnorm``): Plotly's own %{x} is the share, so the count
    rides in the trace's data (a hover read "Province (31): 19.35 (19.4%)" for 6 of 31)."""
    counts = pd.DataFrame(
        {"type": ["จังหวัด", "จังหวัด"], "status": ["not_started", "accepted"], "count": [6, 25]}
    )
    statuses = [("not_started", "ยังไม่เริ่ม"), ("accepted", "ยอมรับแล้ว")]
    first = status_bars(counts, statuses).to_plotly_json()["data"][0]
    assert [list(row) for row in first["customdata"]] == [[6, 19.4]]
    assert "%{customdata[0]:,} (%{customdata[1]:.1f}%)" in first["hovertemplate"]
    assert "%{x" not in first["hovertemplate"]
