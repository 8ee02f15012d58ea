"""Rounding exactly as scoring.md says: the exact value, half away from zero.

Scores are exact rationals (weights, points and numeric answers are decimals), so rounding
works on :class:`~fractions.Fraction` values and integer arithmetic, never on binary floats,
where 62.345 may sit a hair below the tie and round the wrong way.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def round_half_away(value: Fraction | Decimal | int, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, ties away from zero (62.345 → 62.35)."""
    exact = Fraction(value)
    scale = 10**places
    scaled = exact * scale
    units = _round_units(scaled.numerator, scaled.denominator)
    return Decimal(units).scaleb(-places)


def round_units(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to an integer, ties away from zero."""
    return _round_units(numerator, denominator)


def _round_units(numerator: int, denominator: int) -> int:
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude
