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
        supersedes="2568",
    )
    renamed = questionnaire(
        dimension("a", yesno("a.1"), maps_from=["b"]),
        dimension("b", yesno("b.1")),
        dimension("c", yesno("c.1")),
        version="2569",
        supersedes="2568",
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


def test_merged_dimension_all_zero_with_weights_near_int64() -> None:
    # Σ W ≈ 8.15 × 10^18 fits int64 but 2 × Σ W (the divisor of the rounding) does not: an
    # all-zero previous came out as −0.04.
    new, old = _merging([Decimal("0.333333333333333"), Decimal("8154.7655120641516")])
    current = long({"A": {"overall": 50.0, "m": 50.0}})
    previous = long({"A": {"overall": 50.0, "s0": None, "s1": 0.0}})
    merged = get(trend(current, previous, new, old), "A", "m")
    assert (merged["previous"], merged["change"]) == (0.0, 50.0)


# -- which version ``maps_from`` speaks of ------------------------------------------------------

#: 2570 supersedes NEW (2569): ``a`` is renamed ``ai`` (maps_from [a]); ``bc`` and ``fresh``
#: merge into ``merged``; ``b`` comes back with maps_from [a] (its meaning moved).
NEWER = questionnaire(
    dimension("ai", yesno("ai.1"), maps_from=["a"]),
    dimension("merged", yesno("merged.1"), maps_from=["bc", "fresh"]),
    dimension("b", yesno("b.1"), maps_from=["a"]),
    version="2570",
    supersedes="2569",
)


def test_the_same_version_compares_each_dimension_with_itself() -> None:
    """Two rounds on one version (its ``maps_from`` names dimensions of another): identical
    answers give changes of 0.00, every dimension has its previous, comparable."""
    scores = {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0}
    out = trend(long({"X": scores}), long({"X": scores}), NEW, NEW)
    for measure, score in scores.items():
        row = get(out, "X", measure)
        assert (row["previous"], row["change"]) == (score, 0.0), measure
    assert set(out["comparability"]) == {"comparable"}
    assert comparability(NEW, NEW) == "comparable"
    assert comparability(NEWER, NEWER) == "comparable"


def test_maps_from_applies_to_the_version_it_supersedes_only() -> None:
    """Against 2569, the version it supersedes, 2570 follows its maps_from; against 2568 (a
    year skipped), whose dimensions those codes do not name, each dimension continues the
    2568 dimension of its own code, if any."""
    current = long({"X": {"overall": 70.0, "ai": 80.0, "merged": 60.0, "b": 50.0}})
    previous = long({"X": {"overall": 65.0, "a": 75.0, "bc": 40.0, "fresh": 20.0}})
    out = trend(current, previous, NEWER, NEW)
    assert get(out, "X", "ai")["previous"] == 75.0
    assert get(out, "X", "merged")["previous"] == 30.0  # (40 + 20) / 2
    assert get(out, "X", "b")["previous"] == 75.0  # b continues 2569's a
    assert set(out["comparability"]) == {"re-based"}

    previous = long({"X": {"overall": 65.0, "a": 75.0, "b": 40.0, "c": 61.0}})
    out = trend(current, previous, NEWER, OLD)
    assert get(out, "X", "overall")["previous"] == 65.0
    assert get(out, "X", "b")["previous"] == 40.0  # 2568's b, not its a
    assert (get(out, "X", "b")["change"]) == 10.0
    for measure in ("ai", "merged"):
        assert math.isnan(get(out, "X", measure)["previous"]), measure
    assert set(out["comparability"]) == {"re-based"}  # other dimensions


def test_another_questionnaire_or_a_later_version_is_matched_by_code() -> None:
    other = questionnaire(
        dimension("a", yesno("a.1")),
        dimension("bc", yesno("bc.1")),
        dimension("fresh", yesno("fresh.1")),
        code="other",
        version="2568",
    )
    scores = {"overall": 70.0, "a": 80.0, "bc": 60.0, "fresh": 50.0}
    out = trend(long({"X": scores}), long({"X": scores}), NEW, other)
    assert all(get(out, "X", m)["change"] == 0.0 for m in scores)
    assert comparability(NEW, other) == "comparable"
    # The older round on a later version (2570 than 2569): NEW's maps_from does not apply.
    assert NEW.maps_from("bc", NEWER) == ()
    assert NEW.maps_from("a", NEWER) == ()
    assert NEWER.maps_from("b", NEW) == ("a",)


def test_a_version_whose_content_is_the_same_is_the_same_version() -> None:
    again = questionnaire(
        dimension("a", yesno("a.1")),
        dimension("bc", yesno("bc.1"), maps_from=["b", "c"]),
        dimension("fresh", yesno("fresh.1"), maps_from=[]),
        version="2569",
        supersedes="2568",
    )
    assert again.content_hash == NEW.content_hash
    assert NEW.same_version(again)
    assert not NEW.succeeds(again)
    assert NEW.succeeds(OLD)
    assert NEW.maps_from("bc", again) == ("bc",)
    assert comparability(NEW, again) == "comparable"


def test_a_builtin_version_reused_for_two_years_is_comparable() -> None:
    from assess.questionnaires import load
    from assess.questionnaires.builtin import builtin_path

    v2569 = load(builtin_path("dg-readiness", "2569"))  # type: ignore[arg-type]
    scores = {"overall": 61.5, **{d.code: 10.0 + i for i, d in enumerate(v2569.dimensions)}}
    out = trend(long({"X": scores}), long({"X": scores}), v2569, v2569)
    for measure in ("service", "opendata", "exchange", "mgmt"):
        assert get(out, "X", measure)["change"] == 0.0, measure
    assert set(out["comparability"]) == {"comparable"}
