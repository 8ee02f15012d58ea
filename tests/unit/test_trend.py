"""Trends between rounds (scoring.md §8), including remapped dimensions."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assess.questionnaires.diff import comparability
from assess.scoring import round_half_away
from assess.scoring.trend import TREND_COLUMNS, _integer_weights, trend
from tests.unit.builders import dimension, questionnaire, yesno
from tests.unit.test_batch_weights import reweighed
from tests.unit.test_properties import long_decimals

OLD = questionnaire(
    dimension("a", yesno("a.1")),
    dimension("b", yesno("b.1")),
    dimension("c", yesno("c.1"), weight=3),
    version="2568",
)
NEW = questionnaire(
    dimension("a", yesno("a.1")),
    dimension("bc", yesno("bc.1"), maps_from=["b", "c"]),
    dimension("fresh", yesno("fresh.1"), maps_from=[]),
    version="2569",
    supersedes="2568",
)


def long(rows: dict[str, dict[str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"agency": a, "measure": m, "score": math.nan if s is None else s}
            for a, ms in rows.items()
            for m, s in ms.items()
        ]
    )


def get(frame: pd.DataFrame, agency: str, measure: str) -> dict[str, Any]:
    (record,) = frame[(frame["agency"] == agency) & (frame["measure"] == measure)].to_dict(
        "records"
    )
    return record


def test_columns_and_rows_for_agencies_in_both_rounds() -> None:
    current = long(
        {
            "X": {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0},
            "NEW": {"overall": 1.0, "a": 1.0, "bc": 1.0, "fresh": 1.0},
        }
    )
    previous = long(
        {
            "X": {"overall": 65.5, "a": 75.0, "b": 40.0, "c": 61.0},
            "GONE": {"overall": 1.0, "a": 1.0, "b": 1.0, "c": 1.0},
        }
    )
    out = trend(current, previous, NEW, OLD)
    assert tuple(out.columns) == TREND_COLUMNS
    assert set(out["agency"]) == {"X"}
    assert list(out["measure"]) == ["overall", "a", "bc", "fresh"]
    assert set(out["comparability"]) == {"re-based"}


def test_overall_and_same_code_dimension() -> None:
    current = long({"X": {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0}})
    previous = long({"X": {"overall": 65.5, "a": 75.25, "b": 40.0, "c": 61.0}})
    out = trend(current, previous, NEW, OLD)
    assert get(out, "X", "overall") | {} == {
        "agency": "X",
        "measure": "overall",
        "score": 70.0,
        "previous": 65.5,
        "change": 4.5,
        "comparability": "re-based",
    }
    assert (get(out, "X", "a")["previous"], get(out, "X", "a")["change"]) == (75.25, 4.75)


def test_merged_dimension_is_a_weighted_average_with_old_weights() -> None:
    # (1 × 40.00 + 3 × 61.01) / 4 = 55.7575 → 55.76
    current = long({"X": {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0}})
    previous = long({"X": {"overall": 65.5, "a": 75.0, "b": 40.0, "c": 61.01}})
    merged = get(trend(current, previous, NEW, OLD), "X", "bc")
    assert merged["previous"] == 55.76
    assert merged["change"] == pytest.approx(4.24)


def test_weighted_average_rounds_a_tie_away_from_zero() -> None:
    # (1 × 10.00 + 3 × 10.01) / 4 = 10.0075 → 10.01 ; (10.00 + 3 × 10.00)/4 trivial
    current = long({"X": {"overall": 1.0, "a": 1.0, "bc": 20.0, "fresh": 1.0}})
    previous = long({"X": {"overall": 1.0, "a": 1.0, "b": 10.02, "c": 10.01}})
    # (10.02 + 30.03) / 4 = 10.0125 → 10.01
    assert get(trend(current, previous, NEW, OLD), "X", "bc")["previous"] == 10.01
    previous = long({"X": {"overall": 1.0, "a": 1.0, "b": 10.01, "c": 10.03}})
    # (10.01 + 30.09) / 4 = 10.025 → 10.03 (a tie: half away from zero)
    assert get(trend(current, previous, NEW, OLD), "X", "bc")["previous"] == 10.03


def test_only_scored_sources_count() -> None:
    current = long({"X": {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0}})
    previous = long({"X": {"overall": 65.5, "a": 75.0, "b": 40.0, "c": None}})
    assert get(trend(current, previous, NEW, OLD), "X", "bc")["previous"] == 40.0


def test_nothing_to_compare_gives_empty_previous_and_change() -> None:
    current = long({"X": {"overall": 70.0, "a": None, "bc": 60.0, "fresh": 50.0}})
    previous = long({"X": {"overall": None, "a": 75.0, "b": None, "c": None}})
    out = trend(current, previous, NEW, OLD)
    for measure in ("overall", "bc", "fresh"):
        assert math.isnan(get(out, "X", measure)["previous"]), measure
        assert math.isnan(get(out, "X", measure)["change"]), measure
    a = get(out, "X", "a")
    assert a["previous"] == 75.0
    assert math.isnan(a["change"])
    assert math.isnan(a["score"])


def test_comparability() -> None:
    same = questionnaire(
        dimension("a", yesno("a.1")),
        dimension("b", yesno("b.1")),
        dimension("c", yesno("c.1")),
        version="2569",
    )
    explicit = questionnaire(
        dimension("a", yesno("a.1"), maps_from=["a"]),
        dimension("b", yesno("b.1")),
        dimension("c", yesno("c.1")),
        version="2569",
    )
    renamed = questionnaire(
        dimension("a", yesno("a.1"), maps_from=["b"]),
        dimension("b", yesno("b.1")),
        dimension("c", yesno("c.1")),
        version="2569",
    )
    assert comparability(same, OLD) == "comparable"
    assert comparability(explicit, OLD) == "comparable"
    assert comparability(renamed, OLD) == "re-based"
    assert comparability(NEW, OLD) == "re-based"


def _merging(weights: list[Decimal]) -> tuple[Any, Any]:
    """An older version with one dimension per weight (``s0``, ``s1``, …) and a newer one
    whose single dimension ``m`` maps from all of them. The weights go into the loaded
    questionnaire: the trend must be exact whatever the loader accepts."""
    codes = [f"s{i}" for i in range(len(weights))]
    old = reweighed(
        questionnaire(*(dimension(c, yesno(f"{c}.1")) for c in codes), version="1"),
        dimensions=dict(zip(codes, weights, strict=True)),
    )
    new = questionnaire(dimension("m", yesno("m.1"), maps_from=codes), version="2", supersedes="1")
    return new, old


def test_merged_dimension_with_weights_in_thirds() -> None:
    # 0.333333333333333 and 0.666666666666667 scale to about 10^15: 10^15 × 8000 × 2 used to
    # wrap around in 64 bits (previous −12.23).
    new, old = _merging([Decimal("0.333333333333333"), Decimal("0.666666666666667")])
    current = long({"A": {"overall": 90.0, "m": 90.0}})
    previous = long({"A": {"overall": 80.0, "s0": 80.0, "s1": 80.0}})
    merged = get(trend(current, previous, new, old), "A", "m")
    assert (merged["previous"], merged["change"]) == (80.0, 10.0)


def test_merged_dimension_tie_with_weights_past_int64() -> None:
    # 12345k : 87655k with k = 1.000000000000001: about 10^19 each once scaled by 10^15.
    # (12345 × 100.00 + 87655 × 0.00) / 100000 = 12.345 → 12.35.
    k = Decimal("1.000000000000001")
    new, old = _merging([12345 * k, 87655 * k])
    current = long({"A": {"overall": 20.0, "m": 20.0}})
    previous = long({"A": {"overall": 1.0, "s0": 100.0, "s1": 0.0}})
    merged = get(trend(current, previous, new, old), "A", "m")
    assert merged["previous"] == 12.35
    assert merged["change"] == pytest.approx(7.65)


def test_integer_weights_are_exact_and_smallest() -> None:
    assert _integer_weights([Decimal("0.5"), Decimal("1.5")]) == [1, 3]
    assert _integer_weights([Decimal("1E+3"), Decimal("1.000")]) == [1000, 1]
    assert _integer_weights([Decimal("0.333333333333333"), Decimal("0.666666666666667")]) == [
        333333333333333,
        666666666666667,
    ]
    # Past the 28 digits of the default decimal context.
    assert _integer_weights([Decimal("123456789012345678901234567890.1"), Decimal(1)]) == [
        1234567890123456789012345678901,
        10,
    ]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(long_decimals(), min_size=1, max_size=4),
    scores=st.lists(
        st.lists(st.none() | st.integers(0, 10000), min_size=4, max_size=4),
        min_size=1,
        max_size=5,
    ),
)
def test_merged_previous_is_the_exact_weighted_average(
    weights: list[Decimal], scores: list[list[int | None]]
) -> None:
    """previous = Σ w·S ÷ Σ w over the scored sources, exactly, rounded half away from zero."""
    new, old = _merging(weights)
    codes = [f"s{i}" for i in range(len(weights))]
    rows = {
        f"A{i}": {
            "overall": 50.0,
            **{
                c: None if h is None else h / 100
                for c, h in zip(codes, row[: len(codes)], strict=True)
            },
        }
        for i, row in enumerate(scores)
    }
    current = long({agency: {"overall": 50.0, "m": 50.0} for agency in rows})
    out = trend(current, long(rows), new, old)
    for i, row in enumerate(scores):
        scored = [
            (Fraction(w), Fraction(h, 100))
            for w, h in zip(weights, row[: len(weights)], strict=True)
            if h is not None
        ]
        previous = get(out, f"A{i}", "m")["previous"]
        if not scored:
            assert math.isnan(previous)
            continue
        exact = sum(w * s for w, s in scored) / sum(w for w, _ in scored)
        assert previous == float(round_half_away(exact, 2)), (weights, row)
