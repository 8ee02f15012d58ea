"""``score_many`` with weights and points whose whole numbers do not fit in 64 bits.

The vectorised scorer scales weights and points by a power of ten to whole numbers. Weights
written with 15 decimals (0.333333333333333 and 0.666666666666667) scale to about 10^15, and
10000 × 10^15 is past int64: the sums used to wrap around (a dimension of 100.00 came out
7.77, one of 66.67 came out −25.57 without a level). Every number must still be the exact
engine's.

The weights and points are put into the loaded questionnaire (``reweighed``), not written in
the file: this is about the scoring arithmetic, whatever the loader accepts.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pandas as pd
import pytest

from assess.questionnaires import Questionnaire, load
from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.model import BandScoring
from assess.scoring import batch as batch_module
from assess.scoring import score_response
from assess.scoring.batch import BatchScores, score_many, score_table
from assess.synthetic import synthetic_answers
from tests.unit.builders import dimension, options, questionnaire, yesno

THIRD = Decimal("0.333333333333333")
TWO_THIRDS = Decimal("0.666666666666667")


def reweighed(
    q: Questionnaire,
    questions: dict[str, Decimal] | None = None,
    dimensions: dict[str, Decimal] | None = None,
    points: dict[str, Decimal] | None = None,
) -> Questionnaire:
    """``q`` with these question and dimension weights, and each question of ``points`` with
    every option's points, its ``max_points`` and its bands' points multiplied by that factor
    (the same q, in much larger whole numbers)."""
    questions = questions or {}
    dimensions = dimensions or {}
    points = points or {}

    def times(value: Decimal, factor: Decimal) -> Decimal:
        with localcontext(prec=200):
            return value * factor

    dims = []
    for dim in q.dimensions:
        changed = []
        for question in dim.questions:
            if question.code in questions:
                question = replace(question, weight=questions[question.code])
            factor = points.get(question.code)
            if factor is not None:
                opts = tuple(replace(o, points=times(o.points, factor)) for o in question.options)
                cap = None if question.max_points is None else times(question.max_points, factor)
                scoring = question.scoring
                if isinstance(scoring, BandScoring):
                    scoring = BandScoring(
                        tuple(replace(b, points=times(b.points, factor)) for b in scoring.bands)
                    )
                question = replace(question, options=opts, max_points=cap, scoring=scoring)
            changed.append(question)
        dims.append(
            replace(dim, questions=tuple(changed), weight=dimensions.get(dim.code, dim.weight))
        )
    return replace(q, dimensions=tuple(dims))


def all_paths(q: Questionnaire, responses: dict[str, dict[str, AnswerValue]]) -> BatchScores:
    """Score with ``score_many`` (mapping and long frame) and ``score_table``; each must give
    exactly the exact engine's numbers for every response. Returns the mapping's result."""
    batch = score_many(q, responses)
    rows = [(r, code, v) for r, given in responses.items() for code, v in given.items()]
    codes = list(q.questions)
    table = np.empty((len(responses), len(codes)), dtype=object)
    for i, given in enumerate(responses.values()):
        for j, code in enumerate(codes):
            table[i, j] = given.get(code)
    others = [score_table(q, list(responses), table)]
    if rows:
        others.append(score_many(q, pd.DataFrame(rows, columns=["response", "question", "value"])))
    for key, given in responses.items():
        exact = score_response(q, given).as_dict()
        assert batch.as_dict(key) == exact, key
        for other in others:
            assert other.as_dict(key) == exact, key
    return batch


THIRDS_Q = reweighed(
    questionnaire(dimension("a", yesno("a.q1"), yesno("a.q2"))),
    questions={"a.q1": THIRD, "a.q2": TWO_THIRDS},
)
THIRDS_D = reweighed(
    questionnaire(dimension("a", yesno("a.q")), dimension("b", yesno("b.q"))),
    dimensions={"a": THIRD, "b": TWO_THIRDS},
)


def test_question_weights_in_thirds() -> None:
    responses: dict[str, dict[str, AnswerValue]] = {
        "X1": {"a.q1": True, "a.q2": True},
        "X2": {"a.q1": False, "a.q2": True},
        "X3": {"a.q1": True, "a.q2": False},
    }
    batch = all_paths(THIRDS_Q, responses)
    assert batch.scores["a"].tolist() == [100.0, 66.67, 33.33]
    assert batch.scores["overall"].tolist() == [100.0, 66.67, 33.33]
    assert batch.levels["a"].tolist() == ["4", "3", "2"]
    assert batch.levels["overall"].tolist() == ["4", "3", "2"]
    assert batch.exact_rows == 0


def test_dimension_weights_in_thirds() -> None:
    responses: dict[str, dict[str, AnswerValue]] = {
        "X1": {"a.q": True, "b.q": True},
        "X2": {"a.q": False, "b.q": True},
        "X3": {"a.q": True, "b.q": False},
        "X4": {"a.q": True},
    }
    batch = all_paths(THIRDS_D, responses)
    assert batch.scores["overall"].tolist() == [100.0, 66.67, 33.33, 33.33]
    assert batch.levels["overall"].tolist() == ["4", "3", "2", "2"]
    assert batch.scores["a"].tolist() == [100.0, 0.0, 100.0, 100.0]
    assert batch.scores["b"].tolist() == [100.0, 100.0, 0.0, 0.0]


def test_an_exact_tie_with_weights_past_int64_rounds_away_from_zero() -> None:
    # 12345.000000000012345 : 87655.000000000087655 is exactly 12345 : 87655, so S = 12.345:
    # 12.35. Scaled by 10^15 the weights are about 10^19, past int64 on their own.
    k = Decimal("1.000000000000001")
    q = reweighed(
        questionnaire(
            dimension("a", yesno("a.1"), yesno("a.2")),
            dimension("b", yesno("b.1")),
        ),
        questions={"a.1": 12345 * k, "a.2": 87655 * k},
        dimensions={"a": 87655 * k, "b": 12345 * k},
    )
    responses: dict[str, dict[str, AnswerValue]] = {
        "tie": {"a.1": True, "a.2": False, "b.1": False},
        "overall tie": {"a.1": False, "a.2": False, "b.1": True},
    }
    batch = all_paths(q, responses)
    assert batch.scores.loc["tie", "a"] == 12.35
    assert batch.scores.loc["overall tie", "overall"] == 12.35


MIXED = questionnaire(
    dimension(
        "a",
        {
            "code": "a.level",
            "type": "level",
            "text": "level",
            "allow_na": True,
            "gate": "3",
            "options": options((0, 0), (1, 1), (2, 2.5), (3, 4)),
        },
        {
            "code": "a.multi",
            "type": "multi",
            "text": "multi",
            "max_points": 3,
            "options": options(("x", 1), ("y", 1.5), ("z", 2)),
        },
        yesno("a.yes", allow_na=True),
    ),
    dimension(
        "b",
        {
            "code": "b.bands",
            "type": "number",
            "text": "bands",
            "scoring": {"bands": [{"min": 0, "points": 0}, {"min": 30, "points": 1.5}]},
        },
        {
            "code": "b.linear",
            "type": "number",
            "text": "linear",
            "scoring": {"linear": {"from": 0, "to": 70}},
        },
        {
            "code": "b.choice",
            "type": "choice",
            "text": "choice",
            "options": options(("yes", 2), ("partly", 1), ("no", 0)),
        },
    ),
    na_policy="full",
)

LONG = [
    Decimal("0.333333333333333"),
    Decimal("0.666666666666667"),
    Decimal("0.000000000000001"),
    Decimal("999999999999999.999999999999999"),
    Decimal("123456789012345678901234567890.5"),
    Decimal("1E+20"),
    Decimal("0.5"),
    Decimal(3),
]


def _random_answers(rng: random.Random, hairs: bool) -> dict[str, AnswerValue]:
    numbers = [Decimal(v) for v in ("0", "12.5", "30", "35", "70", "99")]
    if hairs:  # more than 6 decimals: linear scores that are floats, not whole ratios
        numbers += [Decimal("29.99999999999999999999"), Decimal("33.33333333333333333")]
    raw: dict[str, AnswerValue] = {
        "a.level": rng.choice([0, 1, 2, 3, NA]),
        "a.multi": tuple(v for v in ("x", "y", "z") if rng.random() < 0.5) or ("x",),
        "a.yes": rng.choice([True, False, NA]),
        "b.bands": rng.choice(numbers),
        "b.linear": rng.choice(numbers),
        "b.choice": rng.choice(["yes", "partly", "no"]),
    }
    return {code: value for code, value in raw.items() if rng.random() < 0.85}


@pytest.mark.parametrize("seed", range(8))
def test_long_weights_and_points_everywhere(seed: int) -> None:
    rng = random.Random(seed)
    codes = list(MIXED.questions)
    q = reweighed(
        MIXED,
        questions={code: rng.choice(LONG) for code in codes},
        dimensions={code: rng.choice(LONG) for code in ("a", "b")},
        points={code: rng.choice(LONG) for code in codes if rng.random() < 0.5},
    )
    responses = {f"r{i}": _random_answers(rng, hairs=seed % 2 == 1) for i in range(60)}
    all_paths(q, responses)


def test_rows_with_float_parts_under_huge_weights_go_to_the_exact_engine() -> None:
    q = reweighed(MIXED, questions={"b.linear": LONG[4], "b.bands": LONG[0]})
    # An answer with more than 6 decimals makes the linear q of its column a float.
    floats: dict[str, dict[str, AnswerValue]] = {
        "float": {"b.linear": Decimal("33.33333333333333333"), "b.bands": Decimal(40)},
        "full": {"b.linear": Decimal("100"), "b.bands": Decimal(40)},
    }
    assert all_paths(q, floats).exact_rows == 1
    whole: dict[str, dict[str, AnswerValue]] = {
        "whole": {"b.linear": Decimal("35"), "b.bands": Decimal(40)},
    }
    assert all_paths(q, whole).exact_rows == 0


def test_integers_are_exact_and_smallest() -> None:
    integers = batch_module._integers
    assert integers([Decimal("0.5"), Decimal("1.5")]) == [1, 3]
    assert integers([Decimal("2.50"), Decimal("7.5")]) == [1, 3]
    assert integers([Decimal("1E+3"), Decimal("1.000")]) == [1000, 1]
    assert integers([THIRD, TWO_THIRDS]) == [333333333333333, 666666666666667]
    # Past the 28 digits of the default decimal context: still exact.
    assert integers([Decimal("123456789012345678901234567890.5"), Decimal(1)]) == [
        1234567890123456789012345678905 // 5,
        10 // 5,
    ]
    assert integers([Decimal(0), Decimal(0)]) == [0, 0]


@pytest.mark.parametrize("version", ["2568", "2569"])
def test_ordinary_weights_keep_the_64_bit_path(
    monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    """The built-in questionnaire never needs Python's integers (the speed of the fast path)."""
    q = load(builtin_path("dg-readiness", version))
    chosen: list[Any] = []
    arithmetic = batch_module._arithmetic
    dtype_for = batch_module._dtype_for

    def spy_arithmetic(weights: int, common: int) -> Any:
        plan = arithmetic(weights, common)
        chosen.append(plan[0])
        return plan

    def spy_dtype_for(bound: int) -> Any:
        chosen.append(dtype_for(bound))
        return chosen[-1]

    monkeypatch.setattr(batch_module, "_arithmetic", spy_arithmetic)
    monkeypatch.setattr(batch_module, "_dtype_for", spy_dtype_for)
    responses = synthetic_answers(q, 40)
    batch = score_many(q, responses)
    assert chosen
    assert all(dtype == np.dtype(np.int64) for dtype in chosen)
    for key in list(responses)[:5]:
        assert batch.as_dict(key) == score_response(q, responses[key]).as_dict()
