"""Change between two rounds (scoring.md §8).

For each agency present in both rounds and each measure of the newer round: the score, the
previous score (for a dimension, the dimension(s) of the older version it continues, a
weighted average when several), the change, and whether the two versions are comparable
or re-based.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from assess.questionnaires.diff import comparability
from assess.questionnaires.model import Questionnaire
from assess.scoring.benchmark import to_hundredths

TREND_COLUMNS = ("agency", "measure", "score", "previous", "change", "comparability")


def _wide(results: pd.DataFrame) -> pd.DataFrame:
    """agency × measure table of whole hundredths (missing where not scored)."""
    score = results["score"]
    hundredths = pd.Series(to_hundredths(score.fillna(0)), index=results.index, dtype="Int64")
    frame = results.loc[:, ["agency", "measure"]].assign(h=hundredths.mask(score.isna()))
    return frame.pivot(index="agency", columns="measure", values="h")


def _integer_weights(weights: list[Decimal]) -> list[int]:
    """Decimal weights scaled to whole numbers with the same ratios (exact)."""
    exponent = max((-w.as_tuple().exponent for w in weights), default=0)  # type: ignore[operator]
    scale = Decimal(10) ** max(exponent, 0)
    return [int(w * scale) for w in weights]


def trend(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    new: Questionnaire,
    old: Questionnaire,
) -> pd.DataFrame:
    """Trend rows (``assess trend``) from two rounds' results.

    ``current`` and ``previous`` are long results (``agency, measure, score``) of the newer
    round (answered with ``new``) and the older one (answered with ``old``). Only agencies
    present in both appear. Scores are exact hundredths throughout; a weighted average of
    several previous dimensions is rounded to 2 decimals half away from zero.
    """
    now = _wide(current)
    before = _wide(previous)
    agencies = now.index.intersection(before.index, sort=False)
    now = now.reindex(agencies)
    before = before.reindex(agencies)
    label = comparability(new, old)
    old_weights = {d.code: d.weight for d in old.dimensions}

    columns: dict[str, tuple[pd.Series, pd.Series]] = {}
    for measure in ["overall", *(d.code for d in new.dimensions)]:
        score = now[measure] if measure in now else pd.Series(pd.NA, index=agencies, dtype="Int64")
        if measure == "overall":
            sources = ["overall"]
            weights = [1]
        else:
            sources = [c for c in new.maps_from(measure, old) if c in old_weights]
            weights = _integer_weights([old_weights[c] for c in sources])
        prior = _weighted_average(before, sources, weights)
        columns[measure] = (score, prior)

    frames = []
    for measure, (score, prior) in columns.items():
        change = score - prior
        frames.append(
            pd.DataFrame(
                {
                    "agency": agencies,
                    "measure": measure,
                    "score": score.to_numpy(dtype="float64", na_value=np.nan) / 100,
                    "previous": prior.to_numpy(dtype="float64", na_value=np.nan) / 100,
                    "change": change.to_numpy(dtype="float64", na_value=np.nan) / 100,
                    "comparability": label,
                }
            )
        )
    if not frames or agencies.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    order = {m: i for i, m in enumerate(columns)}
    out["_order"] = out["measure"].map(order)
    out = out.sort_values(["agency", "_order"], kind="stable", ignore_index=True)
    return out.drop(columns="_order")


def _weighted_average(before: pd.DataFrame, sources: list[str], weights: list[int]) -> pd.Series:
    """Weighted average of the scored ``sources`` per agency, rounded to whole hundredths."""
    index = before.index
    numerator = np.zeros(len(index), dtype=np.int64)
    denominator = np.zeros(len(index), dtype=np.int64)
    for code, weight in zip(sources, weights, strict=True):
        if code not in before:
            continue
        column = before[code]
        scored = column.notna().to_numpy()
        values = column.fillna(0).to_numpy(dtype=np.int64)
        numerator += np.where(scored, weight * values, 0)
        denominator += np.where(scored, weight, 0)
    safe = np.maximum(denominator, 1)
    rounded = (2 * numerator + safe) // (2 * safe)  # scores are ≥ 0: half up is away from zero
    return pd.Series(
        pd.array(np.where(denominator > 0, rounded, 0), dtype="Int64"), index=index
    ).mask(denominator == 0)
