"""Benchmark figures of a round (scoring.md §7), vectorised and exact.

Scores arrive rounded to 2 decimals, so every figure is computed on whole numbers of
hundredths with integer arithmetic: ranks and counts are exact, and the figures that need
rounding (percentile, mean, median, p25, p75) are exact rationals rounded half away from
zero, never floats near a tie.

The caller chooses the population: the accepted responses of one round (with their verified
results), and the comparison groups each agency belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]

RESULT_COLUMNS = ("agency", "measure", "score", "level")
GROUP_COLUMNS = ("agency", "by", "group")
BENCHMARK_COLUMNS = (
    "agency", "by", "group", "measure", "score", "level", "n", "rank", "percentile", "mean",
    "median", "p25", "p75", "min", "max", "gap_to_median", "gap_to_top", "quartile",
)  # fmt: skip


def everyone(agencies: Sequence[str]) -> pd.DataFrame:
    """The single comparison group ``all`` holding every agency."""
    return pd.DataFrame({"agency": list(agencies), "by": "all", "group": "all"})


def to_hundredths(scores: pd.Series) -> IntArray:
    """Scores with 2 decimals as exact whole hundredths (62.35 → 6235)."""
    hundredths: IntArray = np.rint(scores.to_numpy(dtype=np.float64) * 100).astype(np.int64)
    return hundredths


def _round_div(numerator: IntArray, denominator: IntArray) -> IntArray:
    """numerator ÷ denominator rounded half away from zero (denominator > 0)."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.asarray(np.where(numerator >= 0, magnitude, -magnitude), dtype=np.int64)


def round_div(numerator: int, denominator: int) -> int:
    """:func:`_round_div` of one pair of whole numbers (in Python's integers: a peer index
    calls it thousands of times, where numpy's per-call cost would dominate)."""
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def group_figures(ordered: IntArray) -> tuple[int, int, int, int]:
    """Mean, p25, median and p75 of one group's sorted, non-empty hundredths, as
    :func:`benchmark` computes them for every group at once (the same arithmetic)."""
    n = len(ordered)

    def quantile(k: int) -> int:
        position = (n - 1) * k
        lo, fraction = position // 4, position % 4
        hi = lo + 1 if fraction else lo
        low, high = int(ordered[lo]), int(ordered[hi])
        return round_div(4 * low + fraction * (high - low), 4)

    return round_div(int(ordered.sum()), n), quantile(1), quantile(2), quantile(3)


def benchmark(results: pd.DataFrame, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Benchmark figures for every agency, comparison group and measure.

    ``results`` has one row per agency and measure (``agency, measure, score, level``; a
    measure that is not scored has a missing score and is left out, as §7 requires).
    ``groups`` has one row per agency and group it belongs to (``agency, by, group``); an
    agency may sit in several groups of one kind (several tags). Without ``groups`` every
    agency is compared with all the others.

    Returns the rows of ``assess benchmark`` (:data:`BENCHMARK_COLUMNS`), sorted by ``by``,
    ``group``, ``measure`` and rank.
    """
    _require(results, RESULT_COLUMNS, "results")
    scored = results.loc[results["score"].notna(), list(RESULT_COLUMNS)]
    if groups is None:
        groups = everyone(scored["agency"].unique().tolist())
    _require(groups, GROUP_COLUMNS, "groups")
    frame = scored.merge(groups.loc[:, list(GROUP_COLUMNS)].drop_duplicates(), on="agency")
    if frame.empty:
        return pd.DataFrame(columns=list(BENCHMARK_COLUMNS))
    frame["h"] = to_hundredths(frame["score"])
    keys = ["by", "group", "measure"]
    frame = frame.take(_order(frame, [*keys, "h"])).reset_index(drop=True)
    grouped = frame.groupby(keys, sort=False, observed=True)["h"]

    n = grouped.transform("size").to_numpy(np.int64)
    h = frame["h"].to_numpy(np.int64)
    below = (grouped.rank(method="min").to_numpy() - 1).astype(np.int64)
    equal = (grouped.rank(method="max").to_numpy() - below).astype(np.int64)
    above = n - below - equal
    # percentile = 100 × (B + E/2) / N; in hundredths 5000 × (2B + E) / N
    percentile = _round_div(5000 * (2 * below + equal), n)
    mean = _round_div(grouped.transform("sum").to_numpy(np.int64), n)

    # Linear interpolation between order statistics at position (N − 1) × k/4, on the sorted
    # values: 4 × value = 4 × x[lo] + f × (x[hi] − x[lo]) with f = ((N − 1) × k) mod 4.
    start = (grouped.cumcount().to_numpy(np.int64) * -1) + np.arange(len(frame))
    quantiles = {}
    for name, k in (("p25", 1), ("median", 2), ("p75", 3)):
        position = (n - 1) * k
        lo = start + position // 4
        fraction = position % 4
        hi = np.where(fraction > 0, lo + 1, lo)
        quantiles[name] = _round_div(4 * h[lo] + fraction * (h[hi] - h[lo]), np.full_like(n, 4))
    top = grouped.transform("max").to_numpy(np.int64)
    bottom = grouped.transform("min").to_numpy(np.int64)
    # Quartiles compare with the figures as shown (rounded), so a reader can check them.
    quartile = np.select(
        [h >= quantiles["p75"], h >= quantiles["median"], h >= quantiles["p25"]], [1, 2, 3], 4
    )

    out = pd.DataFrame(
        {
            "agency": frame["agency"],
            "by": frame["by"],
            "group": frame["group"],
            "measure": frame["measure"],
            "score": h / 100,
            "level": frame["level"],
            "n": n,
            "rank": above + 1,
            "percentile": percentile / 100,
            "mean": mean / 100,
            "median": quantiles["median"] / 100,
            "p25": quantiles["p25"] / 100,
            "p75": quantiles["p75"] / 100,
            "min": bottom / 100,
            "max": top / 100,
            "gap_to_median": (h - quantiles["median"]) / 100,
            "gap_to_top": (h - top) / 100,
            "quartile": quartile,
        }
    )
    return out.take(_order(out, ["by", "group", "measure", "rank", "agency"])).reset_index(
        drop=True
    )


def _order(frame: pd.DataFrame, columns: Sequence[str]) -> IntArray:
    """The row order that sorts ``frame`` by ``columns`` (ascending, stable, missing values
    last), as ``sort_values`` gives, several times faster on 300,000 rows: each column as
    whole numbers (text as the position of its sorted distinct values), folded into one key
    sorted once."""
    keys: list[IntArray] = []
    for column in columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):  # sorted by category order
            codes = values.cat.codes.to_numpy(np.int64)
            keys.append(np.where(codes < 0, len(values.cat.categories), codes))
        elif pd.api.types.is_integer_dtype(values):
            numbers = values.to_numpy(np.int64)
            keys.append(numbers - (numbers.min() if len(numbers) else 0))
        else:
            codes, uniques = pd.factorize(values, sort=True)
            keys.append(np.where(codes < 0, len(uniques), codes).astype(np.int64))
    spans = [int(k.max()) + 1 if len(k) else 1 for k in keys]
    if np.prod([float(span) for span in spans]) >= 2.0**62:
        order: IntArray = np.lexsort(keys[::-1])
        return order
    key = np.zeros(len(frame), dtype=np.int64)
    for part, span in zip(keys, spans, strict=True):
        key = key * span + part
    order = np.argsort(key, kind="stable")
    return order


def level_distribution(
    results: pd.DataFrame, levels: Sequence[str], groups: pd.DataFrame | None = None
) -> pd.DataFrame:
    """How many agencies of each group sit at each level, per measure (§7).

    Returns ``by, group, measure, level, count`` with a row for every level (zero counts
    included), levels in the questionnaire's order.
    """
    _require(results, RESULT_COLUMNS, "results")
    placed = results.loc[results["level"].notna(), list(RESULT_COLUMNS)]
    if groups is None:
        groups = everyone(placed["agency"].unique().tolist())
    frame = placed.merge(groups.loc[:, list(GROUP_COLUMNS)].drop_duplicates(), on="agency")
    frame["level"] = pd.Categorical(frame["level"], categories=list(levels), ordered=True)
    counts = (
        frame.groupby(["by", "group", "measure", "level"], observed=False, sort=True)
        .size()
        .rename("count")
        .reset_index()
    )
    present = frame[["by", "group", "measure"]].drop_duplicates()
    counts = counts.merge(present, on=["by", "group", "measure"])
    counts["level"] = counts["level"].astype(object)
    return counts.reset_index(drop=True)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} needs the columns {', '.join(missing)}")
