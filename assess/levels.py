"""One colour per maturity level, used everywhere: badges, charts and PDFs.

Questionnaires name their own levels; colours go by a level's position, spread over the
palette so that the lowest is always red and the highest always blue. The palette has nine
steps, so that a questionnaire of up to nine levels (grade bands AA…F are seven) gives each
level a colour of its own; five levels take every other step, the five colours of the
built-in questionnaire.

Every colour (the grey of "no level" too) stands out at 3:1 or more against white and
against the page's background #f6f7f9 (WCAG 1.4.11, non-text contrast: a badge, a bar or a
heatmap's cell must be seen apart from its text). Red and blue carry white text; the steps
between them were darkened in OKLab (hue and chroma kept) to a luminance of about 0.26,
dark enough for 3:1 against the page and light enough for dark text at 4.5:1. Yellow cannot
be both: its step is a dark amber.
"""

from __future__ import annotations

from assess.questionnaires import Questionnaire

#: Lowest to highest; ``assess.css`` defines the same as ``--level-1`` … ``--level-9`` and
#: ``scorecard.css`` as ``.lv-1`` … ``.lv-9``.
PALETTE = (
    "#c0392b",  # red
    "#dc6532",
    "#d67002",  # orange
    "#c47b00",
    "#b08400",  # amber
    "#7c951b",
    "#08a053",  # green
    "#229799",  # teal
    "#1e6fb8",  # blue
)
NONE = "#8c8c8c"
#: The backgrounds level colours are drawn on: cards and tables, and the page.
BACKGROUNDS = ("#ffffff", "#f6f7f9")
#: The dark text on light colours; the light one is white.
DARK_INK = "#1d1d1d"


def palette_index(questionnaire: Questionnaire, code: str | None) -> int:
    """1…9 for a level of the questionnaire, 0 when there is none (or it is unknown).

    The levels are spread evenly from the first step to the last; with more than nine
    levels neighbours share a colour."""
    if code is None:
        return 0
    try:
        position = questionnaire.level_index(code)
    except KeyError:
        return 0
    count = len(questionnaire.levels)
    if count <= 1:
        return len(PALETTE)
    return 1 + round(position * (len(PALETTE) - 1) / (count - 1))


def colour(questionnaire: Questionnaire, code: str | None) -> str:
    """The colour of a level (grey when there is none)."""
    index = palette_index(questionnaire, code)
    return PALETTE[index - 1] if index else NONE


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink(colour: str, dark: str = DARK_INK) -> str:
    """``dark`` or white text, whichever reads better on ``colour``."""
    try:
        return dark if contrast(colour, dark) >= contrast(colour, "#ffffff") else "#ffffff"
    except ValueError:
        return "#ffffff"
