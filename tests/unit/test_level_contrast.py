"""Level colours stand out from what they are drawn on (WCAG 2.1, 1.4.11 non-text contrast:
3:1), and the text written on them reads (1.4.3: 4.5:1); the stylesheets use the same
palette as the Python that draws the charts and the PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assess import levels

CSS = Path(levels.__file__).parent / "static" / "css"
#: The web's badges and the PDF's: (stylesheet, rule of level N, its text colour's group).
BADGES = {
    "assess.css": r"\.level-badge\.level-{n} {{[^}}]*color: (#[0-9a-f]+);",
    "scorecard.css": r"\.lv-{n} {{ background: #[0-9a-f]+; color: (#[0-9a-f]+);",
}


def full(colour: str) -> str:
    """``#fff`` as ``#ffffff`` (what :func:`levels.contrast` reads)."""
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


def test_contrast_of_known_pairs() -> None:
    """The audit's figures: the old yellow was 1.66:1 on white."""
    assert levels.contrast("#f1c40f", "#ffffff") == pytest.approx(1.66, abs=0.01)
    assert levels.contrast("#c0392b", "#ffffff") == pytest.approx(5.44, abs=0.01)


@pytest.mark.parametrize("colour", [*levels.PALETTE, levels.NONE])
@pytest.mark.parametrize("background", levels.BACKGROUNDS)
def test_every_level_colour_stands_out_at_three_to_one(colour: str, background: str) -> None:
    assert background in ("#ffffff", "#f6f7f9")
    assert levels.contrast(colour, background) >= 3, (colour, background)


def test_the_ramp_runs_from_red_to_blue() -> None:
    """Red, orange, amber, green, teal, blue: the hue turns one way along the palette."""

    def hue(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        high, low = max(r, g, b), min(r, g, b)
        if high == r:
            return (60 * (g - b) / (high - low)) % 360
        if high == g:
            return 60 * (b - r) / (high - low) + 120
        return 60 * (r - g) / (high - low) + 240

    hues = [hue(c) for c in levels.PALETTE]
    assert hues == sorted(hues), hues
    assert hues[0] < 15, hues  # red …
    assert 195 < hues[-1] < 225, hues  # … blue
    assert len(set(levels.PALETTE)) == len(levels.PALETTE)


def test_the_web_stylesheet_has_the_python_palette() -> None:
    css = (CSS / "assess.css").read_text(encoding="utf-8")
    found = dict(re.findall(r"--level-(\d): (#[0-9a-f]{6});", css))
    assert found == {str(n): colour for n, colour in enumerate((levels.NONE, *levels.PALETTE))}


def test_the_pdf_stylesheet_has_the_python_palette() -> None:
    css = (CSS / "scorecard.css").read_text(encoding="utf-8")
    for n, colour in enumerate((levels.NONE, *levels.PALETTE)):
        assert re.search(rf"\.lv-{n} {{ background: {colour};", css), n
        assert re.search(rf"\.edge-{n} {{ border-left-color: {colour};", css), n


@pytest.mark.parametrize("sheet", BADGES)
def test_text_on_the_badges_reads_at_four_and_a_half_to_one(sheet: str) -> None:
    css = (CSS / sheet).read_text(encoding="utf-8")
    for n, colour in enumerate((levels.NONE, *levels.PALETTE)):
        rule = BADGES[sheet].format(n=n)
        if sheet == "assess.css" and n == 0:
            rule = r"\.level-badge {[^}]*color: (#[0-9a-f]+);"  # no level: the base rule
        text = re.search(rule, css)
        assert text, (sheet, n)
        assert levels.contrast(colour, full(text.group(1))) >= 4.5, (sheet, n, colour)
