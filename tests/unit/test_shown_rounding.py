"""Figures as pages show them: rounded half away from zero from their exact value (scoring.md
§7), as the scores themselves are, where Python's formatting rounds a tie to even."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from assess.reports.charts import middle_figures
from assess.thai import format_percent, format_score, with_fiscal_year


def test_a_score_rounds_a_tie_away_from_zero():
    assert format_score(25.045) == "25.05"  # f"{Decimal('25.045'):.2f}" gave 25.04
    assert format_score(Decimal("62.395")) == "62.40"
    assert format_score(-12.345) == "-12.35"
    assert format_score("75") == "75.00"
    assert format_score(0) == "0.00"
    assert [format_score(v) for v in (None, "", float("nan"))] == ["–", "–", "–"]


def test_a_percentage_rounds_a_tie_away_from_zero():
    # (402 submitted + 6,994 accepted) of 8,000 invited: 92.45 %.
    assert format_percent(Decimal(100) * 7396 / 8000) == "92.5%"
    assert format_percent(6.25) == "6.3%"
    assert format_percent(100) == "100.0%"
    assert format_percent(None) == "–"


def test_the_trend_s_middle_half_is_exact():
    """p25 half-way between 25.04 and 25.05 is 25.045, which a float quantile formatted
    half-to-even showed as 25.04."""
    rows = pd.DataFrame({"previous": [25.04, 25.05, 90.0], "score": [10.0, 20.0, 30.0]})
    (p25, median, p75), (q1, middle, q3) = middle_figures(rows)
    assert (format_score(p25), median, format_score(p75)) == ("25.05", "25.05", "57.53")
    assert (format_score(q1), middle, format_score(q3)) == ("15.00", "20.00", "25.00")
    # Four scores: p25 at 3/4 of the way from the first to the second, p75 likewise.
    rows = pd.DataFrame({"previous": [25.0, 25.06, 62.39, 62.41], "score": [1.0, 2.0, 3.0, 4.0]})
    (p25, median, p75), (q1, middle, q3) = middle_figures(rows)
    assert (format_score(p25), median, format_score(p75)) == ("25.05", "43.73", "62.40")
    assert (format_score(q1), middle, format_score(q3)) == ("1.75", "2.50", "3.25")


def test_the_trend_s_middle_half_of_no_agency():
    rows = pd.DataFrame({"previous": [None, 3.0], "score": [2.0, None]}, dtype="float64")
    assert [figures[1] for figures in middle_figures(rows)] == ["–", "–"]


def test_a_round_name_with_its_year_is_not_followed_by_it_again():
    assert with_fiscal_year("การประเมิน ปีงบประมาณ พ.ศ. 2569", 2569) == (
        "การประเมิน ปีงบประมาณ พ.ศ. 2569"
    )
    assert with_fiscal_year("การประเมิน ปีงบประมาณ ๒๕๖๙", 2569) == "การประเมิน ปีงบประมาณ ๒๕๖๙"
    assert with_fiscal_year("การประเมินรอบแรก", 2569) == ("การประเมินรอบแรก · ปีงบประมาณ พ.ศ. 2569")
    assert with_fiscal_year("Readiness 25690", 2569, "en") == (
        "Readiness 25690 · Fiscal year 2569 (2025–26)"
    )
