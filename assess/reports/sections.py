"""The tables behind each dashboard section (and its CSV), for one filtered population.

Pure functions over the tables of :mod:`assess.services.reports`: the figures come from
the scoring package's benchmark functions (scoring.md §7), never from formulas of their
own. ``codes`` is always the population: the filtered agencies whose response was accepted
(or, for progress, every filtered response).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from assess import thai
from assess.models import RESPONSE_STATUSES
from assess.scoring.benchmark import benchmark, level_distribution

SUMMARY_COLUMNS = ("n", "mean", "median", "p25", "p75", "min", "max")


def summary(results: pd.DataFrame, codes: Sequence[str], measures: Sequence[str]) -> pd.DataFrame:
    """§7 figures of each measure over the population (index: measure, in order).

    ``results`` is the long verified results table (``agency, measure, score, level``).
    """
    chosen = results[results["agency"].isin(codes) & results["score"].notna()]
    if chosen.empty:  # benchmark() cannot type an empty population's columns
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS), index=pd.Index([], name="measure"))
    figures = benchmark(chosen)
    if figures.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS), index=pd.Index([], name="measure"))
    # Every agency's row repeats its group's figures: one row per measure is enough.
    first = figures.drop_duplicates("measure").set_index("measure")
    table = first.loc[:, list(SUMMARY_COLUMNS)]
    return table.reindex([m for m in measures if m in table.index])


def points(
    verified: pd.DataFrame, codes: Sequence[str], names: pd.Series, measures: Sequence[str]
) -> pd.DataFrame:
    """Every agency's score per measure (``measure, agency, name, score``), for dot plots."""
    table = verified.reindex(index=list(codes), columns=list(measures))
    out = (
        table.rename_axis(index="agency")
        .reset_index()
        .melt(id_vars="agency", var_name="measure", value_name="score")
        .dropna(subset=["score"])
    )
    out["name"] = names.reindex(out["agency"]).to_numpy()
    return out.loc[:, ["measure", "agency", "name", "score"]]


def level_table(
    results: pd.DataFrame, codes: Sequence[str], levels: Sequence[str], measures: Sequence[str]
) -> pd.DataFrame:
    """How many agencies of the population sit at each level (``measure, level, count,
    share``; share in percent of the measure's placed agencies, one decimal)."""
    chosen = results[results["agency"].isin(codes) & results["level"].notna()]
    counts = level_distribution(chosen, list(levels)) if not chosen.empty else pd.DataFrame()
    if counts.empty:
        return pd.DataFrame(columns=["measure", "level", "count", "share"])
    counts = counts.loc[:, ["measure", "level", "count"]]
    totals = counts.groupby("measure")["count"].transform("sum").replace(0, 1)
    # Percent with one decimal, half away from zero, in whole numbers (no float ties).
    counts["share"] = ((2000 * counts["count"] + totals) // (2 * totals)) / 10
    order = {m: i for i, m in enumerate(measures)}
    counts = counts.assign(_o=counts["measure"].map(order)).sort_values(["_o"], kind="stable")
    return counts.drop(columns="_o").reset_index(drop=True)


def status_table(agencies: pd.DataFrame, type_order: Sequence[str]) -> pd.DataFrame:
    """Responses of the population by agency type and status (``type, status, count``),
    every status of every present type listed (zeros included), types in register order."""
    types = set(agencies["type"].unique())  # once: not once per type of the register
    present = [t for t in type_order if t in types]
    present += sorted(types - set(present))
    counts = agencies.groupby(["type", "status"]).size()
    index = pd.MultiIndex.from_product([present, list(RESPONSE_STATUSES)], names=["type", "status"])
    return counts.reindex(index, fill_value=0).rename("count").reset_index()


def submission_days(submitted_at: pd.Series, codes: Sequence[str]) -> pd.DataFrame:
    """Submissions of the population per day in Bangkok (``day, count, total``), days
    without a submission left out; ``total`` is the running total."""
    moments = submitted_at.reindex(list(codes)).dropna()
    days = [thai.local(m).date() for m in moments]
    if not days:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="object"),
                "count": pd.Series(dtype="int64"),
                "total": pd.Series(dtype="int64"),
            }
        )
    counts = pd.Series(days).value_counts().sort_index()
    out = pd.DataFrame({"day": list(counts.index), "count": counts.to_numpy(dtype="int64")})
    out["total"] = out["count"].cumsum()
    return out


def trend_rows(
    trend: pd.DataFrame | None, codes: Sequence[str], measure: str | None, names: pd.Series
) -> pd.DataFrame:
    """Trend rows (§8) of the population for one measure (all measures when ``None``), with
    the agency's name (``agency, name, measure, previous, score, change, comparability``)."""
    columns = ["agency", "name", "measure", "previous", "score", "change", "comparability"]
    if trend is None or trend.empty:
        return pd.DataFrame(columns=columns)
    rows = trend[trend["agency"].isin(codes)]
    if measure is not None:
        rows = rows[rows["measure"] == measure]
    rows = rows.assign(name=names.reindex(rows["agency"]).to_numpy())
    return rows.loc[:, columns].reset_index(drop=True)


def trend_summary(rows: pd.DataFrame) -> dict[str, float | int | None]:
    """How many agencies rose, fell or stayed, and the median change, of one measure."""
    compared = rows[rows["change"].notna()]
    hundredths = np.rint(compared["change"].to_numpy(dtype="float64") * 100)
    return {
        "n": len(compared),
        "up": int((hundredths > 0).sum()),
        "down": int((hundredths < 0).sum()),
        "same": int((hundredths == 0).sum()),
        "median": None if compared.empty else _half_away(float(np.median(hundredths))) / 100,
    }


def _half_away(value: float) -> int:
    """A whole number of hundredths, halves rounded away from zero (as §7 rounds)."""
    return int(np.sign(value) * np.floor(abs(value) + 0.5))


def names_of(agencies: pd.DataFrame, lang: str) -> pd.Series:
    """Each agency's name in the reader's language (Thai when it has no English name)."""
    if lang == "en":
        english = agencies["name_en"].fillna("")
        return english.where(english != "", agencies["name_th"])
    return agencies["name_th"]
