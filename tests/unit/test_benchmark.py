"""Benchmark figures (scoring.md §7): hand-checked cases and a property test against an
obviously-correct implementation with exact fractions."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assess.scoring import round_half_away
from assess.scoring.benchmark import BENCHMARK_COLUMNS, benchmark, level_distribution


def results(scores: dict[str, float | None], measure: str = "overall") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency": list(scores),
            "measure": measure,
            "score": [np.nan if s is None else s for s in scores.values()],
            "level": [None if s is None else ("hi" if s >= 50 else "lo") for s in scores.values()],
        }
    )


def row(frame: pd.DataFrame, agency: str, **match: Any) -> dict[str, Any]:
    selected = frame[frame["agency"] == agency]
    for key, value in match.items():
        selected = selected[selected[key] == value]
    assert len(selected) == 1
    return selected.iloc[0].to_dict()


def test_columns_are_the_contract() -> None:
    out = benchmark(results({"A": 10.0}))
    assert tuple(out.columns) == BENCHMARK_COLUMNS


def test_single_agency_group() -> None:
    out = row(benchmark(results({"A": 63.89})), "A")
    assert out["n"] == 1
    assert out["rank"] == 1
    assert out["percentile"] == 50.0  # 100 × (0 + 0.5 × 1) / 1
    assert (out["mean"], out["median"], out["p25"], out["p75"], out["min"], out["max"]) == (
        63.89,
    ) * 6
    assert (out["gap_to_median"], out["gap_to_top"], out["quartile"]) == (0.0, 0.0, 1)


def test_two_agencies() -> None:
    out = benchmark(results({"A": 40.0, "B": 60.01}))
    a, b = row(out, "A"), row(out, "B")
    assert (a["rank"], b["rank"]) == (2, 1)
    assert (a["percentile"], b["percentile"]) == (25.0, 75.0)
    assert a["mean"] == 50.01  # 50.005 → 50.01, half away from zero
    assert a["median"] == 50.01  # interpolated 50.005 → 50.01
    assert a["p25"] == 45.0  # 40 + 0.25 × 20.01 = 45.0025 → 45.0
    assert a["p75"] == 55.01  # 40 + 0.75 × 20.01 = 55.0075 → 55.01
    assert (a["quartile"], b["quartile"]) == (4, 1)
    assert (a["gap_to_median"], a["gap_to_top"]) == (-10.01, -20.01)


def test_ties_share_a_rank() -> None:
    out = benchmark(results({"A": 90.0, "B": 70.0, "C": 70.0, "D": 50.0}))
    ranks = {agency: row(out, agency)["rank"] for agency in "ABCD"}
    assert ranks == {"A": 1, "B": 2, "C": 2, "D": 4}
    # B: below 1, equal 2 → 100 × (1 + 1) / 4 = 50
    assert row(out, "B")["percentile"] == 50.0
    assert row(out, "A")["percentile"] == 87.5
    assert row(out, "D")["percentile"] == 12.5


def test_unscored_agencies_are_left_out() -> None:
    out = benchmark(results({"A": 10.0, "B": None, "C": 30.0}))
    assert set(out["agency"]) == {"A", "C"}
    assert set(out["n"]) == {2}


def test_each_measure_has_its_own_population() -> None:
    frame = pd.concat(
        [results({"A": 10.0, "B": 20.0}), results({"A": 99.0, "B": None}, measure="pay")]
    )
    out = benchmark(frame)
    assert row(out, "A", measure="pay")["n"] == 1
    assert row(out, "A", measure="overall")["n"] == 2


def test_groups_including_several_tags_per_agency() -> None:
    frame = results({"A": 10.0, "B": 20.0, "C": 30.0})
    groups = pd.DataFrame(
        {
            "agency": ["A", "B", "C", "A", "B", "C", "C"],
            "by": ["type", "type", "type", "tag", "tag", "tag", "tag"],
            "group": ["ministry", "ministry", "province", "pilot", "pilot", "pilot", "north"],
        }
    )
    out = benchmark(frame, groups)
    assert row(out, "C", by="type")["n"] == 1
    assert row(out, "B", by="type")["rank"] == 1
    assert row(out, "C", by="tag", group="pilot")["n"] == 3
    assert row(out, "C", by="tag", group="north")["n"] == 1
    assert len(out) == 7


def test_level_distribution_counts_every_level() -> None:
    frame = results({"A": 10.0, "B": 20.0, "C": 70.0, "D": None})
    out = level_distribution(frame, ["lo", "mid", "hi"])
    assert out[["level", "count"]].to_dict("records") == [
        {"level": "lo", "count": 2},
        {"level": "mid", "count": 0},
        {"level": "hi", "count": 1},
    ]


# -- property test against an obviously-correct implementation --------------------------------


def _round(value: Fraction) -> float:
    return float(round_half_away(value, 2))


def reference(scores: dict[str, int]) -> dict[str, dict[str, Any]]:
    """§7 written out literally, with exact fractions (scores in hundredths)."""
    values = sorted(Fraction(v, 100) for v in scores.values())
    n = len(values)

    def quantile(p: Fraction) -> Fraction:
        h = (n - 1) * p
        lo = int(h)
        hi = min(lo + 1, n - 1)
        return values[lo] + (h - lo) * (values[hi] - values[lo])

    median, p25, p75 = (_round(quantile(Fraction(k, 4))) for k in (2, 1, 3))
    out = {}
    for agency, hundredths in scores.items():
        x = Fraction(hundredths, 100)
        below = sum(1 for v in values if v < x)
        equal = sum(1 for v in values if v == x)
        xf = float(x)
        out[agency] = {
            "n": n,
            "rank": 1 + sum(1 for v in values if v > x),
            "percentile": _round(100 * (below + Fraction(equal, 2)) / n),
            "mean": _round(sum(values) / n),
            "median": median,
            "p25": p25,
            "p75": p75,
            "min": float(values[0]),
            "max": float(values[-1]),
            "gap_to_median": _round(x - Fraction(str(median))),
            "gap_to_top": float(x - values[-1]),
            "quartile": 1 if xf >= p75 else 2 if xf >= median else 3 if xf >= p25 else 4,
        }
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text("ABCDEFGHIJ", min_size=1, max_size=3),
        # Few distinct values, so ties are common; n = 1 and 2 are drawn often.
        st.one_of(st.sampled_from([0, 5000, 5001, 6389, 10000]), st.integers(0, 10000)),
        min_size=1,
        max_size=15,
    )
)
def test_benchmark_equals_reference(scores: dict[str, int]) -> None:
    frame = results({a: h / 100 for a, h in scores.items()})
    out = benchmark(frame).set_index("agency")
    expected = reference(scores)
    for agency, figures in expected.items():
        got = out.loc[agency]
        for name, value in figures.items():
            assert got[name] == pytest.approx(value, abs=1e-9), (agency, name)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10000), min_size=1, max_size=30))
def test_quantiles_match_pandas_default(hundredths: list[int]) -> None:
    series = pd.Series([h / 100 for h in hundredths])
    out = benchmark(results({f"a{i}": v for i, v in enumerate(series)}))
    for name, p in (("p25", 0.25), ("median", 0.5), ("p75", 0.75)):
        assert out[name].iloc[0] == pytest.approx(series.quantile(p), abs=0.005 + 1e-9)


# -- report rows as JSON-ready values ------------------------------------------------------------


def _round_each(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(min_value=-200, max_value=200),
            # Values a hair from a half of a hundredth, where binary scaling can mislead.
            st.builds(
                lambda k, ulps: (
                    float(np.nextafter(k / 1000, np.inf if ulps > 0 else -np.inf))
                    if ulps
                    else k / 1000
                ),
                st.integers(-200_000, 200_000).map(lambda n: 10 * n + 5),
                st.integers(-1, 1),
            ),
        ),
        max_size=60,
    )
)
def test_rounded_is_round_of_each_value(values: list[float]) -> None:
    from assess.services.reports import rounded

    got = rounded(np.array(values, dtype=float))
    expected = _round_each(values)
    assert [repr(v) for v in got] == [repr(v) for v in expected]


def test_rounded_agrees_on_every_half_hundredth_up_to_a_hundred() -> None:
    from assess.services.reports import rounded

    values = [k / 1000 for k in range(5, 100_000, 10)]  # 0.005, 0.015, … 99.995
    values += [float(np.nextafter(v, np.inf)) for v in values]
    values += [float(np.nextafter(v, -np.inf)) for v in values]
    assert rounded(np.array(values)) == _round_each(values)


def test_records_give_python_values_with_none_for_the_gaps() -> None:
    from assess.services.reports import records

    frame = pd.DataFrame(
        {
            "agency": pd.Series(["A", "B", None], dtype="str"),
            "n": [3, 4, np.nan],
            "score": [1.005, np.nan, 66.666],
            "level": pd.Categorical(["2", None, "3"]),
            "mean": pd.array([2.345, pd.NA, 7.0], dtype="Float64"),  # nullable floats too
        }
    )
    rows = records(frame, ["agency", "n", "score", "level", "mean"])
    assert rows == [
        {"agency": "A", "n": 3, "score": 1.0, "level": "2", "mean": round(2.345, 2)},
        {"agency": "B", "n": 4, "score": None, "level": None, "mean": None},
        {"agency": None, "n": None, "score": 66.67, "level": "3", "mean": 7.0},
    ]
    assert [type(rows[0][k]) for k in ("agency", "n", "score", "level")] == [str, int, float, str]
