"""Level colours: one of its own for each level of a questionnaire of up to nine levels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assess import levels
from assess.questionnaires import Questionnaire

from .builders import dimension, questionnaire, yesno

STATIC = Path(levels.__file__).parent / "static" / "css"


def _levels(count: int) -> Questionnaire:
    codes = [f"L{i}" for i in range(count)]
    return questionnaire(
        dimension("d", yesno("q")),
        levels=[
            {"code": c, "min": round(i * 100 / count, 2), "name": c} for i, c in enumerate(codes)
        ],
    )


@pytest.mark.parametrize("count", range(2, 10))
def test_every_level_has_a_colour_of_its_own_up_to_nine(count: int) -> None:
    q = _levels(count)
    colours = [levels.colour(q, level.code) for level in q.levels]
    assert len(set(colours)) == count, colours
    assert colours[0] == "#c0392b"
    assert colours[-1] == "#1e6fb8"
    indices = [levels.palette_index(q, level.code) for level in q.levels]
    assert indices == sorted(indices)


def test_grade_bands_of_seven_are_seven_colours() -> None:
    """The format's own example of levels: grades F, E, D, C, B, A, AA."""
    q = questionnaire(
        dimension("d", yesno("q")),
        levels=[
            {"code": code, "min": minimum, "name": code}
            for code, minimum in zip(
                ("F", "E", "D", "C", "B", "A", "AA"), (0, 20, 35, 50, 65, 80, 90), strict=True
            )
        ],
    )
    assert len({levels.colour(q, code) for code in ("F", "E", "D", "C", "B", "A", "AA")}) == 7


def test_five_levels_keep_the_five_colours() -> None:
    q = _levels(5)
    assert [levels.colour(q, lv.code) for lv in q.levels] == [
        "#c0392b",
        "#d67002",
        "#b08400",
        "#08a053",
        "#1e6fb8",
    ]


def test_no_level_or_an_unknown_one_is_grey() -> None:
    q = _levels(4)
    assert levels.colour(q, None) == levels.NONE
    assert levels.colour(q, "nope") == levels.NONE
    assert levels.palette_index(q, "nope") == 0


@pytest.mark.parametrize("colour", [*levels.PALETTE, levels.NONE])
def test_text_on_each_colour_meets_wcag_aa(colour: str) -> None:
    for dark in (levels.DARK_INK, "#222222"):  # the web's dark text, the scorecard's
        assert levels.contrast(colour, levels.ink(colour, dark)) >= 4.5


def test_contrast_is_wcag_contrast() -> None:
    assert levels.contrast("#000000", "#ffffff") == pytest.approx(21)
    assert levels.contrast("#777777", "#777777") == pytest.approx(1)
    assert levels.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_the_web_stylesheet_has_the_palette_and_readable_badges() -> None:
    css = (STATIC / "assess.css").read_text(encoding="utf-8")
    for index, colour in enumerate(levels.PALETTE, start=1):
        assert f"--level-{index}: {colour};" in css
        badge = re.search(rf"\.level-badge\.level-{index} {{[^}}]*color: (#[0-9a-f]+);", css)
        assert badge, index
        text = badge.group(1)
        text = "#ffffff" if text == "#fff" else text
        assert levels.contrast(colour, text) >= 4.5, (index, colour, text)
        assert f"td.dim-cell.lvl-{index} " in css
