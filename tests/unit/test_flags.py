"""The league table's flag icons (``kinds_by_agency``) agree with the flags table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assess.reports.flags import CHANGE, VERIFIED_GAP, flags, kinds_by_agency

MEASURES = ["overall", "D1", "D2", "D3"]


def _tables(seed: int, count: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Verified and self-assessed agency × measure tables and trend rows, with missing
    scores and differences of exactly the limits (10 points) among them."""
    rng = np.random.default_rng(seed)
    codes = pd.Index([f"A{i:04d}" for i in range(count)], name="agency")
    columns = pd.Index(MEASURES, name="measure")
    verified = np.round(rng.uniform(0, 100, (count, len(MEASURES))), 2)
    gap = rng.choice([0.0, 5.0, 9.99, 10.0, 10.01, 25.5], (count, len(MEASURES)))
    own = np.round(verified + gap, 2)
    verified[rng.random(verified.shape) < 0.1] = np.nan
    own[rng.random(own.shape) < 0.1] = np.nan
    previous = np.round(verified - rng.choice([-10.01, -10.0, 0.0, 3.0, 10.0, 10.01], gap.shape), 2)
    previous[rng.random(previous.shape) < 0.2] = np.nan
    change = np.round(verified - previous, 2)
    trend = pd.DataFrame(
        {
            "agency": np.repeat(codes.to_numpy(), len(MEASURES)),
            "measure": np.tile(MEASURES, count),
            "score": verified.ravel(),
            "previous": previous.ravel(),
            "change": change.ravel(),
        }
    )
    # Agencies with no verified scores at all are not in the tables; some own rows missing.
    return (
        pd.DataFrame(verified, index=codes, columns=columns),
        pd.DataFrame(own, index=codes, columns=columns).iloc[: count - 3],
        trend,
    )


def _from_rows(frame: pd.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for agency, kind in zip(frame["agency"], frame["kind"], strict=True):
        out.setdefault(agency, set()).add(kind)
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("change_limit", "gap_limit"), [(10, 10), (0, 0), (20, 5), (100, 100)])
def test_icons_are_the_kinds_of_the_flags_rows(seed: int, change_limit: int, gap_limit: int):
    verified, own, trend = _tables(seed, 300)
    expected = _from_rows(
        flags(verified, own, trend, change_limit=change_limit, gap_limit=gap_limit)
    )
    found = kinds_by_agency(verified, own, trend, change_limit=change_limit, gap_limit=gap_limit)
    assert found == expected
    if (change_limit, gap_limit) == (10, 10):  # both kinds, not every agency
        assert {CHANGE, VERIFIED_GAP} <= set().union(*found.values())
        assert 0 < len(found) < 300


def test_a_difference_of_exactly_the_limit_is_not_flagged():
    codes = pd.Index(["A", "B"], name="agency")
    verified = pd.DataFrame({"overall": [50.0, 50.0]}, index=codes)
    own = pd.DataFrame({"overall": [60.0, 60.01]}, index=codes)
    trend = pd.DataFrame(
        {
            "agency": ["A", "B"],
            "measure": ["overall", "overall"],
            "score": [50.0, 50.0],
            "previous": [40.0, np.nan],
            "change": [10.0, np.nan],
        }
    )
    assert kinds_by_agency(verified, own, trend, change_limit=10, gap_limit=10) == {
        "B": {VERIFIED_GAP}
    }
    assert kinds_by_agency(verified, own, None, change_limit=9, gap_limit=9) == {
        "A": {VERIFIED_GAP},
        "B": {VERIFIED_GAP},
    }
    empty = pd.DataFrame(columns=["overall"], dtype="float64")
    assert kinds_by_agency(empty, empty, trend.iloc[:0], change_limit=0, gap_limit=0) == {}
