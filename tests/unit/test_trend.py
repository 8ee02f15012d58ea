"""Trends between rounds (scoring.md §8), including remapped dimensions."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from assess.questionnaires.diff import comparability
from assess.scoring.trend import TREND_COLUMNS, trend
from tests.unit.builders import dimension, questionnaire, yesno

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
