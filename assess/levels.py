"""One colour per maturity level, used everywhere: badges, charts and PDFs.

Questionnaires name their own levels; colours go by a level's position, spread over the
palette so that the lowest is always red and the highest always blue.
"""

from __future__ import annotations

from assess.questionnaires import Questionnaire

#: Lowest to highest; ``assess.css`` defines the same as ``--level-1`` … ``--level-5``.
PALETTE = ("#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#1e6fb8")
NONE = "#9e9e9e"


def palette_index(questionnaire: Questionnaire, code: str | None) -> int:
    """1…5 for a level of the questionnaire, 0 when there is none (or it is unknown)."""
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
