"""Change between two rounds (scoring.md §8).

For each agency present in both rounds and each measure of the newer round: the score, the
previous score (for a dimension, the dimension(s) of the older version it continues, a
weighted average when several), the change, and whether the two versions are comparable
or re-based.

A dimension's ``maps_from`` names dimensions of the version its file ``supersedes``, so it
is followed only when the older round's version is that one. Against the same version (two
rounds on one version) each dimension is compared with itself; against a version further
back along the ``supersedes`` chain (a year skipped) or any other, dimensions are matched
by their own code, whatever the versions in between say: the trend of two rounds depends
on their two versions alone (see :meth:`Questionnaire.maps_from`).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from assess.questionnaires.diff import comparability
from assess.questionnaires.model import Questionnaire

TREND_COLUMNS = ("agency", "measure", "score", "previous", "change", "comparability")


def _wide(results: pd.DataFrame) -> pd.DataFrame:
    """agency × measure table of whole hundredths (missing where not scored), agencies and
    measures sorted (as ``pivot`` gives, in a fraction of its time)."""
    agency, agencies = pd.factorize(results["agency"], sort=True)
    measure, measures = pd.factorize(results["measure"], sort=True)
    cells = agency.astype(np.int64) * len(measures) + measure
    if len(cells) and np.bincount(cells).max() > 1:
        raise ValueError("results hold more than one score for an agency and measure")
    scores = np.full((len(agencies), len(measures)), np.nan)
    scores[agency, measure] = results["score"].to_numpy(dtype="float64", na_value=np.nan)
    return hundredths_table(
        pd.DataFrame(scores, index=pd.Index(agencies, name="agency"), columns=measures)
    )


def _integer_weights(weights: list[Decimal]) -> list[int]:
    """Decimal weights as the smallest whole numbers with the same ratios (exact): scaled by
    one power of ten in Python's integers (a decimal context would round past 28 digits),
    then divided by their greatest common divisor."""
    places = max([0, *(-int(w.as_tuple().exponent) for w in weights)])
    whole = [int(Fraction(w) * 10**places) for w in weights]
    divisor = math.gcd(*whole)
    return [w // divisor for w in whole] if divisor > 1 else whole


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
    return trend_of_tables(_wide(current), _wide(previous), new, old)


def hundredths_table(scores: pd.DataFrame) -> pd.DataFrame:
    """An agency × measure table of 2-decimal scores (NaN when not scored) as whole
    hundredths (``Int64``, missing when not scored): what :func:`trend_of_tables` reads."""
    values = scores.to_numpy(dtype="float64")
    missing = np.isnan(values)
    whole = np.rint(np.where(missing, 0, values) * 100).astype(np.int64)
    return pd.DataFrame(
        {
            measure: pd.arrays.IntegerArray(whole[:, j], missing[:, j])
            for j, measure in enumerate(scores.columns)
        },
        index=scores.index,
    )


def prior_table(before: pd.DataFrame, new: Questionnaire, old: Questionnaire) -> pd.DataFrame:
    """The older round's side of :func:`trend_of_tables`: for each agency of ``before`` (an
    agency × measure table of whole hundredths, ``Int64``) and each measure of ``new``, its
    previous score in whole hundredths (overall as it was; a dimension, the weighted average
    of the dimensions of ``old`` it continues), missing when there is none.

    It depends on the older round alone: a caller may keep it while the newer round changes.
    """
    old_weights = {d.code: d.weight for d in old.dimensions}
    columns = {}
    for measure in ["overall", *(d.code for d in new.dimensions)]:
        if measure == "overall":
            sources = ["overall"]
            weights = [1]
        else:
            sources = list(new.maps_from(measure, old))
            weights = _integer_weights([old_weights[c] for c in sources])
        columns[measure] = _weighted_average(before, sources, weights)
    return pd.DataFrame(columns, index=before.index)


def trend_of_tables(
    now: pd.DataFrame,
    before: pd.DataFrame,
    new: Questionnaire,
    old: Questionnaire,
) -> pd.DataFrame:
    """:func:`trend` from agency × measure tables of whole hundredths (``Int64``), agencies
    in code order: the newer round's and the older one's."""
    return trend_of_priors(now, prior_table(before, new, old), new, old)


def trend_of_priors(
    now: pd.DataFrame, priors: pd.DataFrame, new: Questionnaire, old: Questionnaire
) -> pd.DataFrame:
    """:func:`trend_of_tables` from the older round's :func:`prior_table` for ``new``, which
    a caller may keep while the newer round changes."""
    agencies = now.index.intersection(priors.index, sort=False)
    now = now.reindex(agencies)
    previous = priors.reindex(agencies)
    label = comparability(new, old)

    columns: dict[str, tuple[pd.Series, pd.Series]] = {}
    for measure in ["overall", *(d.code for d in new.dimensions)]:
        score = now[measure] if measure in now else pd.Series(pd.NA, index=agencies, dtype="Int64")
        columns[measure] = (score, previous[measure])

    if not columns or agencies.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    # One row per agency (in code order) and measure (in questionnaire order).
    scores = np.column_stack(
        [s.to_numpy(dtype="float64", na_value=np.nan) for s, _ in columns.values()]
    )
    prior_scores = np.column_stack(
        [p.to_numpy(dtype="float64", na_value=np.nan) for _, p in columns.values()]
    )
    changes = np.column_stack(
        [(s - p).to_numpy(dtype="float64", na_value=np.nan) for s, p in columns.values()]
    )
    return pd.DataFrame(
        {
            "agency": np.repeat(agencies.to_numpy(dtype=object), len(columns)),
            "measure": np.tile(np.array(list(columns), dtype=object), len(agencies)),
            "score": scores.ravel() / 100,
            "previous": prior_scores.ravel() / 100,
            "change": changes.ravel() / 100,
            "comparability": label,
        }
    )


def _weighted_average(before: pd.DataFrame, sources: list[str], weights: list[int]) -> pd.Series:
    """Weighted average of the scored ``sources`` per agency, rounded to whole hundredths.

    In int64 when the rounding step, 2 × Σ W·S + Σ W ≤ (2 × max S + 1) × Σ W over 2 × Σ W,
    provably fits (it does for ordinary weights); otherwise in Python's integers (weights
    written with many decimals: 15 make Σ W about 10^15, and 10^15 × 2 × 10000 is past
    int64). The bound is (2 × max S + 2) × Σ W: the divisor 2 × Σ W must fit too, even when
    every score is 0."""
    index = before.index
    present = [
        (code, weight) for code, weight in zip(sources, weights, strict=True) if code in before
    ]
    columns = [before[code] for code, _ in present]
    scored = [column.notna().to_numpy() for column in columns]
    values = [column.fillna(0).to_numpy(dtype=np.int64) for column in columns]
    largest = max((int(np.abs(v).max(initial=0)) for v in values), default=0)
    bound = (2 * largest + 2) * max(sum(w for _, w in present), 1)
    dtype: np.dtype[Any] = np.dtype(np.int64) if bound < 2**63 else np.dtype(object)
    zero = np.zeros((), dtype=dtype)
    numerator = np.zeros(len(index), dtype=dtype)
    denominator = np.zeros(len(index), dtype=dtype)
    for (_, weight), is_scored, value in zip(present, scored, values, strict=True):
        w = np.asarray(weight, dtype=dtype)
        numerator += np.where(is_scored, w * value.astype(dtype, copy=False), zero)
        denominator += np.where(is_scored, w, zero)
    safe = np.maximum(denominator, 1)
    rounded = (2 * numerator + safe) // (2 * safe)  # scores are ≥ 0: half up is away from zero
    whole = np.asarray(np.where(denominator > 0, rounded, 0), dtype=np.int64)
    return pd.Series(pd.array(whole, dtype="Int64"), index=index).mask(
        np.asarray(denominator == 0, dtype=bool)
    )
