"""Property tests: ``score_many`` gives exactly the numbers of ``score_response``.

Questionnaires are drawn at random with every question type, gates, show_if conditions,
N/A, decimal weights and both policies; answers include values a hair away from band
minimums and condition literals and exact rounding ties, where a careless float
implementation would differ. A second test writes weights and points with up to 15
decimals and up to 1,000,000 (what a questionnaire file may hold), and sometimes puts even
longer ones into the loaded questionnaire: scaled to whole numbers (×10^15) they do not fit
in 64 bits.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assess.questionnaires import Questionnaire, loads
from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.model import BandScoring, LinearScoring, QuestionType
from assess.scoring import score_response
from assess.scoring.batch import score_many, score_table
from tests.unit.test_batch_weights import reweighed

WEIGHTS = [0, 0.5, 1, 1, 1, 1.5, 2, 3]
POINTS = [0, 0.5, 1, 2, 3, 5]
HAIR = Decimal("1e-20")
#: Weights and points with many decimals that a questionnaire file may hold: at most 15
#: significant digits and decimal places, at most 1,000,000.
FILE_DECIMALS = [
    Decimal("0.333333333333333"),
    Decimal("0.666666666666667"),
    Decimal("0.000000000000001"),
    Decimal("0.999999999999999"),
    Decimal("999999.999999999"),
    Decimal("123456.789012345"),
    Decimal("1000000"),
]
#: Longer still, past what a file may hold (put into the loaded questionnaire).
BEYOND_FILES = [
    Decimal("999999999999999.999999999999999"),
    Decimal("123456789012345678901234567890.5"),
    Decimal("1E+20"),
    Decimal("1E-20"),
]


def _num(value: Decimal) -> float | int:
    """A JSON number whose text is exactly ``value`` (short decimals only)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _dumps(document: dict[str, Any]) -> str:
    """``document`` as JSON, each :class:`~decimal.Decimal` written exactly as a number."""
    text = json.dumps(document, default=lambda d: f"<decimal {d}>")
    return re.sub(r'"<decimal ([^">]+)>"', r"\1", text)


def _fits_a_file(value: Decimal) -> bool:
    """At most 1,000,000, 15 significant digits and 15 decimal places (the loader's limits)."""
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    significant = max(len(digits), len(digits) + exponent, 1)
    return not sign and value <= 1_000_000 and significant <= 15 and -exponent <= 15


@st.composite
def file_decimals(draw: st.DrawFn) -> Decimal:
    """A positive decimal a questionnaire file may hold, often with many decimals."""
    if draw(st.booleans()):
        return draw(st.sampled_from(FILE_DECIMALS))
    places = draw(st.integers(0, 15))
    mantissa = draw(st.integers(1, min(10**15 - 1, 10 ** (6 + places))))
    return Decimal(mantissa).scaleb(-places)


@st.composite
def long_decimals(draw: st.DrawFn) -> Decimal:
    """A positive decimal with many digits, a file's (:func:`file_decimals`) or longer: up
    to 15 decimals and 18 digits, up to about 10^30."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(file_decimals())
    if kind == 1:
        return draw(st.sampled_from(BEYOND_FILES))
    mantissa = draw(st.integers(1, 10**18))
    places = draw(st.integers(0, 15))
    shift = draw(st.sampled_from([0, 0, 0, 3, 6, 12]))
    return Decimal(mantissa).scaleb(shift - places)


@st.composite
def questionnaires(draw: st.DrawFn, long: bool = False) -> Questionnaire:
    """A random questionnaire; with ``long``, its weights and points are often
    :func:`file_decimals` (written in the file, loaded as a file would be)."""
    n_levels = draw(st.integers(2, 5))
    mins = sorted(draw(st.sets(st.integers(1, 9999), min_size=n_levels - 1, max_size=n_levels - 1)))
    levels = [{"code": "L0", "min": 0, "name": "L0"}] + [
        {"code": f"L{i + 1}", "min": _num(Decimal(m) / 100), "name": f"L{i + 1}"}
        for i, m in enumerate(mins)
    ]
    earlier: list[dict[str, Any]] = []
    dimensions = []
    for d in range(draw(st.integers(1, 4))):
        questions = []
        for i in range(draw(st.integers(1, 6))):
            question = draw(_question(f"d{d}.q{i}", earlier, [lvl["code"] for lvl in levels], long))
            questions.append(question)
            earlier.append(question)
        dimensions.append(
            {
                "code": f"d{d}",
                "title": f"D{d}",
                "weight": draw(_amounts([Decimal(w) for w in ("0.5", "1", "1", "2", "3")], long)),
                "questions": questions,
            }
        )
    document = {
        "schema": "assess/questionnaire@1",
        "code": "random",
        "version": "1",
        "title": "Random",
        "levels": levels,
        "na_policy": draw(st.sampled_from(["exclude", "full"])),
        "overall_level": draw(st.sampled_from(["score", "lowest"])),
        "dimensions": dimensions,
    }
    return loads(_dumps(document), source="random.json")


def _amounts(short: list[Any], long: bool) -> st.SearchStrategy[Any]:
    """One of ``short``, or with ``long`` often a :func:`file_decimals`."""
    if not long:
        return st.sampled_from(short)
    return st.sampled_from([Decimal(str(v)) for v in short]) | file_decimals()


@st.composite
def _question(
    draw: st.DrawFn, code: str, earlier: list[dict[str, Any]], levels: list[str], long: bool
) -> dict[str, Any]:
    qtype = draw(st.sampled_from(["level", "choice", "multi", "yesno", "number", "text"]))
    weight = draw(_amounts(WEIGHTS, long))
    question: dict[str, Any] = {"code": code, "type": qtype, "text": code, "weight": weight}
    scored = True
    if qtype == "level":
        count = draw(st.integers(2, 5))
        points = sorted(
            draw(
                st.sets(
                    _amounts([0, 0.5, 1, 1.5, 2, 3, 4, 7], long), min_size=count, max_size=count
                )
            )
        )
        question["options"] = [
            {"value": i, "label": str(i), "points": p} for i, p in enumerate(points)
        ]
    elif qtype == "choice":
        count = draw(st.integers(2, 4))
        values = draw(
            st.sampled_from([["yes", "partly", "no"], [1, 2, 3, 4], ["a", "b", "c", "d"]])
        )[:count]
        points = [draw(_amounts(POINTS, long)) for _ in values]
        if max(points) == 0:
            points[0] = 1
        question["options"] = [
            {"value": v, "label": str(v), "points": p} for v, p in zip(values, points, strict=False)
        ]
    elif qtype == "multi":
        count = draw(st.integers(1, 5))
        points = [draw(_amounts(POINTS, long)) for _ in range(count)]
        if sum(Decimal(str(p)) for p in points) == 0:
            points[-1] = 2
        opts = [{"value": f"o{i}", "label": f"o{i}", "points": p} for i, p in enumerate(points)]
        if count > 1 and draw(st.booleans()):
            opts[0] = {"value": "none", "label": "none", "points": 0, "exclusive": True}
            if sum(o["points"] for o in opts) == 0:
                opts[-1]["points"] = 1
        question["options"] = opts
        total = sum(Decimal(str(o["points"])) for o in opts)
        caps = [c for c in (total, total / 2, Decimal(1)) if 0 < c <= total and _fits_a_file(c)]
        if caps and draw(st.booleans()):
            question["max_points"] = draw(st.sampled_from(caps))
    elif qtype == "number":
        kind = draw(st.sampled_from(["bands", "linear", "linear-down", "none"]))
        if kind == "bands":
            mins = sorted(draw(st.sets(st.integers(0, 100), min_size=1, max_size=4)))
            points = [draw(_amounts(POINTS, long)) for _ in mins]
            if max(points) == 0:
                points[-1] = 3
            question["scoring"] = {
                "bands": [{"min": m, "points": p} for m, p in zip(mins, points, strict=True)]
            }
        elif kind == "linear":
            question["scoring"] = {
                "linear": {"from": 0, "to": draw(st.sampled_from([1, 3, 7, 100]))}
            }
        elif kind == "linear-down":
            question["scoring"] = {"linear": {"from": draw(st.sampled_from([7, 48, 100])), "to": 0}}
        else:
            scored = False
    elif qtype == "text":
        scored = False
    if qtype == "yesno" or qtype == "text":
        pass
    if weight == 0:
        scored = False
    if draw(st.booleans()):
        question["allow_na"] = True
    if scored and draw(st.integers(0, 3)) == 0:
        question["gate"] = draw(st.sampled_from(levels[1:]))
    if earlier and draw(st.integers(0, 2)) == 0:
        condition = draw(_condition(earlier))
        if condition:
            question["show_if"] = condition
    return question


@st.composite
def _condition(draw: st.DrawFn, earlier: list[dict[str, Any]]) -> str:
    ref = draw(st.sampled_from(earlier))
    code, qtype = ref["code"], ref["type"]
    if qtype == "yesno":
        atom = (
            f"{code} {draw(st.sampled_from(['==', '!=']))} {draw(st.sampled_from(['yes', 'no']))}"
        )
    elif qtype in ("level", "choice"):
        values = [o["value"] for o in ref["options"]]
        shown = [repr(v) if isinstance(v, str) else str(v) for v in values]
        if all(isinstance(v, int) for v in values) and draw(st.booleans()):
            atom = f"{code} {draw(st.sampled_from(['<', '<=', '>', '>=']))} {draw(st.sampled_from(values))}"
        elif draw(st.booleans()):
            atom = f"{code} in [{', '.join(draw(st.lists(st.sampled_from(shown), min_size=1, max_size=3)))}]"
        else:
            atom = f"{code} == {draw(st.sampled_from(shown))}"
    elif qtype == "multi":
        atom = f"{code} contains '{draw(st.sampled_from([o['value'] for o in ref['options']]))}'"
    elif qtype == "number":
        atom = f"{code} {draw(st.sampled_from(['<', '<=', '>', '>=', '==', '!=']))} {draw(st.sampled_from(['0', '1', '30', '50.5', '60']))}"
    else:
        atom = f"answered({code})"
    shape = draw(st.integers(0, 3))
    if shape == 1:
        return f"not {atom}"
    if shape == 2:
        other = draw(_condition(earlier)) if len(earlier) > 1 else atom
        return f"({atom}) {draw(st.sampled_from(['and', 'or']))} ({other})"
    return atom


def _interesting_numbers(q: Questionnaire) -> list[Decimal]:
    pool = {
        Decimal(0),
        Decimal(1),
        Decimal("30"),
        Decimal("50.5"),
        Decimal("60"),
        Decimal("62.345"),
        Decimal("33.335"),
    }
    for question in q.iter_questions():
        scoring = question.scoring
        if isinstance(scoring, BandScoring):
            pool.update(b.min for b in scoring.bands)
        elif isinstance(scoring, LinearScoring):
            pool.update((scoring.from_, scoring.to, (scoring.from_ + scoring.to) / 2))
    return sorted(
        pool
        | {p + HAIR for p in pool}
        | {p - HAIR for p in pool}
        | {p + Decimal("0.005") for p in pool}
    )


@st.composite
def answer_sets(draw: st.DrawFn, q: Questionnaire) -> dict[str, AnswerValue]:
    numbers = _interesting_numbers(q)
    out: dict[str, AnswerValue] = {}
    for question in q.iter_questions():
        kind = draw(st.integers(0, 9))
        if kind == 0:
            continue
        if kind == 1 and question.allow_na:
            out[question.code] = NA
            continue
        qtype = question.type
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
            out[question.code] = draw(st.sampled_from([o.value for o in question.options]))
        elif qtype is QuestionType.MULTI:
            values = [o.value for o in question.options if not o.exclusive]
            exclusive = [o.value for o in question.options if o.exclusive]
            if exclusive and draw(st.integers(0, 3)) == 0:
                out[question.code] = (exclusive[0],)
            else:
                chosen = (
                    draw(st.sets(st.sampled_from(values), max_size=len(values)))
                    if values
                    else set()
                )
                if chosen:
                    out[question.code] = tuple(v for v in values if v in chosen)
        elif qtype is QuestionType.YESNO:
            out[question.code] = draw(st.booleans())
        elif qtype is QuestionType.NUMBER:
            out[question.code] = draw(st.sampled_from(numbers))
        else:
            out[question.code] = "text"
    return out


@st.composite
def long_weighted(draw: st.DrawFn) -> Questionnaire:
    """A random questionnaire whose file has weights and points with up to 15 decimals (as
    many as a file may hold); one in four times, some weights then become longer still
    (:func:`long_decimals`) and some questions' points are all multiplied by one (the same
    q, in larger whole numbers), in the loaded questionnaire: the scoring must be exact
    whatever the loader accepts."""
    q = draw(questionnaires(long=True))
    if draw(st.integers(0, 3)) > 0:
        return q
    scored = [code for code, question in q.questions.items() if question.weight > 0]
    with_points = [
        code
        for code, question in q.questions.items()
        if question.options or isinstance(question.scoring, BandScoring)
    ]
    return reweighed(
        q,
        questions={code: draw(long_decimals()) for code in scored if draw(st.booleans())},
        dimensions={d.code: draw(long_decimals()) for d in q.dimensions if draw(st.booleans())},
        points={
            code: draw(long_decimals()) for code in with_points if draw(st.integers(0, 2)) == 0
        },
    )


def _check(q: Questionnaire, responses: dict[str, dict[str, AnswerValue]]) -> None:
    """``score_many`` and ``score_table`` give the exact engine's numbers for every response."""
    batch = score_many(q, responses)
    codes = list(q.questions)
    table = np.empty((len(responses), len(codes)), dtype=object)
    for i, answers in enumerate(responses.values()):
        for j, code in enumerate(codes):
            table[i, j] = answers.get(code)
    tabled = score_table(q, list(responses), table)
    assert batch.unanswered is not None
    for key, answers in responses.items():
        exact = score_response(q, answers)
        assert batch.as_dict(key) == exact.as_dict(), key
        assert tabled.as_dict(key) == exact.as_dict(), key
        assert batch.unanswered[key] == len(exact.missing), key


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_score_many_equals_score_response(data: st.DataObject) -> None:
    q = data.draw(questionnaires())
    responses = {f"r{i}": data.draw(answer_sets(q)) for i in range(data.draw(st.integers(1, 12)))}
    _check(q, responses)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_score_many_equals_score_response_with_long_weights(data: st.DataObject) -> None:
    q = data.draw(long_weighted())
    responses = {f"r{i}": data.draw(answer_sets(q)) for i in range(data.draw(st.integers(1, 12)))}
    _check(q, responses)
