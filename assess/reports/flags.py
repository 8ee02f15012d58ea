"""Flags of a round's results: what a reviewer should look at twice.

- ``change``: a score (overall or a dimension) moved by more than the round's
  ``flag_change`` points since the previous round (up or down);
- ``verified_gap``: a verified score is more than the round's ``flag_verified_gap`` points
  below the self-assessed one.

Pure functions over the tables of :mod:`assess.services.reports`. Scores carry exactly two
decimals, so limits are compared in whole hundredths: a change of exactly the limit is not
flagged, one hundredth more is.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

CHANGE, VERIFIED_GAP = "change", "verified_gap"
KINDS = (CHANGE, VERIFIED_GAP)
#: ``score`` is this round's (verified) score; ``reference`` the previous round's score for a
#: change, the self-assessed score for a gap; ``difference`` = score − reference.
FLAG_COLUMNS = ("agency", "kind", "measure", "score", "reference", "difference")


def _hundredths(values: pd.Series) -> npt.NDArray[np.int64]:
    """Two-decimal floats as whole hundredths (missing values as 0; callers mask them)."""
    return _hundredths_of(values.to_numpy(dtype="float64", na_value=np.nan))


def _hundredths_of(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """:func:`_hundredths` of an array of any shape."""
    hundredths: npt.NDArray[np.int64] = np.rint(np.nan_to_num(values, nan=0.0) * 100).astype(
        np.int64
    )
    return hundredths


def change_flags(trend: pd.DataFrame | None, limit: int) -> pd.DataFrame:
    """Trend rows (§8) whose change is larger than ``limit`` points either way."""
    if trend is None or trend.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    rows = trend[trend["change"].notna()]
    big = np.abs(_hundredths(rows["change"])) > limit * 100
    rows = rows[big]
    return pd.DataFrame(
        {
            "agency": rows["agency"].to_numpy(),
            "kind": CHANGE,
            "measure": rows["measure"].to_numpy(),
            "score": rows["score"].to_numpy(dtype="float64"),
            "reference": rows["previous"].to_numpy(dtype="float64"),
            "difference": rows["change"].to_numpy(dtype="float64"),
        },
        columns=list(FLAG_COLUMNS),
    )


def gap_flags(verified: pd.DataFrame, own: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Scores (agency × measure tables) verified more than ``limit`` points below self."""
    if verified.empty:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    own = own.reindex(index=verified.index, columns=verified.columns)
    long = pd.DataFrame(
        {
            "agency": np.repeat(verified.index.to_numpy(), len(verified.columns)),
            "measure": np.tile(verified.columns.to_numpy(), len(verified.index)),
            "score": verified.to_numpy(dtype="float64").ravel(),
            "reference": own.to_numpy(dtype="float64").ravel(),
        }
    )
    scored = long["score"].notna() & long["reference"].notna()
    gap = _hundredths(long["reference"]) - _hundredths(long["score"])
    long = long[scored.to_numpy() & (gap > limit * 100)]
    return pd.DataFrame(
        {
            "agency": long["agency"].to_numpy(),
            "kind": VERIFIED_GAP,
            "measure": long["measure"].to_numpy(),
            "score": long["score"].to_numpy(),
            "reference": long["reference"].to_numpy(),
            # Exact hundredths: a float subtraction could end in …9999.
            "difference": (_hundredths(long["score"]) - _hundredths(long["reference"])) / 100,
        },
        columns=list(FLAG_COLUMNS),
    )


def flags(
    verified: pd.DataFrame,
    own: pd.DataFrame,
    trend: pd.DataFrame | None,
    *,
    change_limit: int,
    gap_limit: int,
) -> pd.DataFrame:
    """Every flag of a round (:data:`FLAG_COLUMNS`), the largest difference first.

    ``verified`` and ``own`` are agency × measure tables of verified and self-assessed
    scores (``RoundResults.wide``); ``trend`` the rows of ``trend_frame``, or ``None``.
    """
    parts = [
        frame
        for frame in (change_flags(trend, change_limit), gap_flags(verified, own, gap_limit))
        if not frame.empty
    ]
    if not parts:
        return pd.DataFrame(columns=list(FLAG_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    order = {m: i for i, m in enumerate(verified.columns)}
    out = out.assign(
        _size=-np.abs(_hundredths(out["difference"])), _order=out["measure"].map(order)
    )
    out = out.sort_values(["_size", "agency", "kind", "_order"], kind="stable")
    return out.drop(columns=["_size", "_order"]).reset_index(drop=True)


def kinds_by_agency(
    verified: pd.DataFrame,
    own: pd.DataFrame,
    trend: pd.DataFrame | None,
    *,
    change_limit: int,
    gap_limit: int,
) -> dict[str, set[str]]:
    """The kinds of flag each agency has, for the league table's icons: the agencies and
    kinds of :func:`flags`' rows, straight from the tables, without making and sorting
    every row (the league table asks again after every change to the round)."""
    out: dict[str, set[str]] = {}
    if trend is not None and not trend.empty:
        change = trend["change"]
        big = change.notna().to_numpy() & (np.abs(_hundredths(change)) > change_limit * 100)
        for agency in pd.unique(trend["agency"].to_numpy()[big]):
            out.setdefault(agency, set()).add(CHANGE)
    if not verified.empty:
        own = own.reindex(index=verified.index, columns=verified.columns)
        score = verified.to_numpy(dtype="float64")
        reference = own.to_numpy(dtype="float64")
        scored = ~np.isnan(score) & ~np.isnan(reference)
        gap = _hundredths_of(reference) - _hundredths_of(score)
        for agency in verified.index[(scored & (gap > gap_limit * 100)).any(axis=1)]:
            out.setdefault(agency, set()).add(VERIFIED_GAP)
    return out
