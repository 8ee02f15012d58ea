"""The radar as SVG: pure, escaped, self-contained, and the same data as the web radar."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from assess import levels
from assess.scorecards import svg
from assess.scorecards.fetcher import STATIC

NS = {"s": "http://www.w3.org/2000/svg"}
DATA = {
    "dimensions": ["a", "b", "c", "d"],
    "agency": [50.0, 75.5, None, 100.0],
    "median": [40.0, 60.0, 55.0, 70.0],
    "best": [90.0, 95.0, 80.0, 100.0],
    "group": "department",
}
BANDS = [svg.Band(m, c) for m, c in zip((0, 20, 40, 60, 80), levels.PALETTE[::2], strict=True)]


def _radar(data=DATA, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("labels", ["1", "2", "3", "4"])
    kw.setdefault("colours", list(levels.PALETTE[:4]))
    return svg.radar(data, bands=BANDS, title="Scores", **kw)


def test_well_formed_with_three_series_and_level_bands():
    root = ET.fromstring(_radar())  # noqa: S314  (our own SVG)
    polygons = root.findall("s:polygon", NS)
    # 5 bands + 5 rings (20, 40, 60, 80, 100) + best + median + agency
    assert len(polygons) == 13
    assert root.get("role") == "img"
    assert root.get("font-family") == "Sarabun"
    assert [t.text for t in root.findall("s:text", NS)][-4:] == ["1", "2", "3", "4"]


def _points(polygon: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]


def test_the_agency_polygon_follows_the_scores():
    root = ET.fromstring(_radar())  # noqa: S314  (our own SVG)
    agency = root.findall("s:polygon", NS)[-1]
    points = _points(agency)
    cx = cy = 150.0
    radius = 150.0 - 26.0
    # The dimension without a score (None: nothing of it applies) is skipped, not drawn
    # at the centre: three vertices, none at the centre.
    assert len(points) == 3
    assert points[0] == pytest.approx((cx, cy - radius * 0.5), abs=0.1)  # 50 on the up axis
    assert points[2] == pytest.approx((cx - radius, cy), abs=0.1)  # 100 on the left axis
    assert all(abs(x - cx) + abs(y - cy) > 1 for x, y in points)
    # Markers only where there is a score.
    markers = [c for c in root.findall("s:circle", NS) if c.get("r") == "3.2"]
    assert len(markers) == 3


def test_a_dimension_that_does_not_apply_keeps_the_peers_lines_and_a_grey_label():
    root = ET.fromstring(_radar())  # noqa: S314  (our own SVG)
    best, median = root.findall("s:polygon", NS)[-3:-1]
    assert len(_points(best)) == 4  # the peers have a value on every axis: all kept
    assert len(_points(median)) == 4
    cx = cy = 150.0
    radius = 150.0 - 26.0
    below = _points(median)[2]  # 55 on the down axis
    assert below == pytest.approx((cx, cy + radius * 0.55), abs=0.1)
    rings = root.findall("s:circle[@class='na']", NS)
    assert len(rings) == 1
    assert rings[0].get("fill") == "#ffffff"
    # Nothing drawn at the centre by any series.
    for polygon in root.findall("s:polygon", NS)[-3:]:
        assert all(abs(x - cx) + abs(y - cy) > 1 for x, y in _points(polygon))


def test_without_peers_only_the_agency():
    root = ET.fromstring(_radar({**DATA, "median": [], "best": []}))  # noqa: S314  (our own SVG)
    assert len(root.findall("s:polygon", NS)) == 11


def test_text_is_escaped_and_nothing_is_linked():
    text = _radar(labels=["<b>", "&", '"', "<script>x</script>"])
    root = ET.fromstring(text)  # noqa: S314  (our own SVG; still well formed)
    assert "<script>" not in text
    assert root.findall(".//s:script", NS) == []
    assert not re.search(r"(href|src|url\()", text)


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one label"):
        _radar(labels=["1"])
    assert svg.radar({"agency": []}, labels=[], colours=[]) == ""


def test_ink_reads_on_each_level_colour():
    assert svg.ink("#f1c40f") == "#222222"  # yellow: dark text
    assert svg.ink("#1e6fb8") == "#ffffff"


def test_the_stylesheet_has_the_level_palette():
    """scorecard.css's level classes are assess.levels.PALETTE, one colour per level."""
    css = (STATIC / "css" / "scorecard.css").read_text(encoding="utf-8")
    for index, colour in enumerate(levels.PALETTE, start=1):
        assert re.search(rf"\.lv-{index} {{ background: {colour};", css), colour
        assert re.search(rf"\.edge-{index} {{ border-left-color: {colour};", css), colour
    assert f".lv-0 {{ background: {levels.NONE};" in css
