"""Score many responses at once, vectorised (``score_many``), with the numbers of ``score_response``.

The work is done column by column: one array per question holding every response's answer,
encoded once (an option index, a yes/no bit, a float). Visibility, question scores,
dimension sums, gates, levels and completeness are then array operations over all responses.

Binary floats are used for speed, which scoring.md allows only if the results are the same as
exact arithmetic. Two things could differ, and both are detected and sent to the exact
engine (:func:`~assess.scoring.engine.score_response`), row by row:

- a score whose float sits within 1e-6 of a rounding tie (x.xx5): the float may be a hair
  on the wrong side of it;
- a numeric answer within a relative 1e-9 of a band minimum, a linear end or a ``show_if``
  literal but not exactly equal to it: its float may compare the wrong way.

Everything else is far from any discontinuity, where float error (≈1e-12 here) cannot change
a rounded result. Such rows are rare in real data; the tests force them on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.conditions import (
    And,
    Answered,
    Condition,
    Contains,
    InList,
    Not,
    Or,
)
from assess.questionnaires.model import (
    BandScoring,
    LinearScoring,
    NaPolicy,
    OptionValue,
    OverallLevelMode,
    Question,
    Questionnaire,
    QuestionType,
)
from assess.scoring.engine import ResponseScore, score_response

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

UNANSWERED = -1
NOT_APPLICABLE = -2
#: A float within this distance (in hundredths or tenths) of x.5 goes to the exact engine.
TIE_TOLERANCE = 1e-6
#: A numeric answer within this relative distance of a threshold goes to the exact engine.
NEAR_TOLERANCE = 1e-9

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class BatchScores:
    """Scores of many responses, in the order they were given.

    ``scores`` and ``levels`` have one row per response and the columns ``overall`` and then
    each dimension code; a measure that is not scored is ``NaN`` / ``None``.
    """

    questionnaire: Questionnaire
    responses: list[Hashable]
    completeness: pd.Series
    scores: pd.DataFrame
    levels: pd.DataFrame
    #: How many rows were scored by the exact engine instead of the vectorised path.
    exact_rows: int = 0

    def __len__(self) -> int:
        return len(self.responses)

    def as_dict(self, response: Hashable) -> dict[str, object]:
        """One response in the shape of :meth:`ResponseScore.as_dict`."""
        row = self.scores.index.get_loc(response)
        assert isinstance(row, int), "response ids are unique"
        scores = self.scores.iloc[row]
        levels = self.levels.iloc[row]

        def measure(code: str) -> dict[str, object]:
            value = float(scores[code])
            return {"score": None if math.isnan(value) else value, "level": levels[code]}

        return {
            "completeness": float(self.completeness.iloc[row]),
            "overall": measure("overall"),
            "dimensions": {d.code: measure(d.code) for d in self.questionnaire.dimensions},
        }

    def records(self, key: str = "agency") -> list[dict[str, object]]:
        """Every response as ``{key: id, completeness, overall, dimensions}`` (``assess scores``)."""
        return [{key: r, **self.as_dict(r)} for r in self.responses]

    def long(self) -> pd.DataFrame:
        """One row per response and measure: ``response, measure, score, level``."""
        scores = (
            self.scores.rename_axis("response")
            .reset_index()
            .melt(id_vars="response", var_name="measure", value_name="score")
        )
        levels = (
            self.levels.rename_axis("response")
            .reset_index()
            .melt(id_vars="response", var_name="measure", value_name="level")
        )
        return scores.merge(levels, on=["response", "measure"], sort=False)


def score_many(
    questionnaire: Questionnaire,
    responses: Mapping[Hashable, Mapping[str, AnswerValue]] | pd.DataFrame,
) -> BatchScores:
    """Score many responses to one questionnaire version, vectorised.

    ``responses`` is either a mapping of response id → answers (as for
    :func:`~assess.scoring.engine.score_response`) or a long data frame with the columns
    ``response``, ``question`` and ``value`` (one row per answer, as an answers table reads).
    Answers must already be valid (see :mod:`assess.questionnaires.answers`).
    """
    if isinstance(responses, pd.DataFrame):
        ids, columns = _columns_from_frame(questionnaire, responses)
    else:
        ids = list(responses)
        rows = [responses[i] for i in ids]
        columns = {code: [row.get(code) for row in rows] for code in questionnaire.questions}
    return _Batch(questionnaire, ids, columns).run()


def _columns_from_frame(
    questionnaire: Questionnaire, frame: pd.DataFrame
) -> tuple[list[Hashable], dict[str, list[object]]]:
    missing = {"response", "question", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"the answers frame needs the columns {sorted(missing)}")
    codes, uniques = pd.factorize(frame["response"], sort=False)
    ids = list(uniques)
    n = len(ids)
    columns: dict[str, list[object]] = {code: [None] * n for code in questionnaire.questions}
    question_col = frame["question"].to_numpy()
    values = frame["value"].to_numpy()
    order = np.argsort(question_col, kind="stable") if len(frame) else np.array([], dtype=np.int64)
    sorted_questions = question_col[order]
    boundaries = np.flatnonzero(sorted_questions[1:] != sorted_questions[:-1]) + 1
    for chunk in np.split(order, boundaries) if len(order) else []:
        code = question_col[chunk[0]]
        column = columns.get(code)
        if column is None:
            raise ValueError(f"answers to unknown question {code!r} of {questionnaire.key}")
        for row, value in zip(codes[chunk].tolist(), values[chunk].tolist(), strict=True):
            column[row] = value
    return ids, columns


@dataclass
class _Encoded:
    """One question's answers over all responses, encoded for array work."""

    question: Question
    #: 1 answered, 0 unanswered, 2 not applicable.
    state: npt.NDArray[np.int8]
    #: level/choice: option index; multi: combination id; yesno: 0/1; else unused.
    index: IntArray
    #: number: the answer as a float (NaN when not answered).
    number: FloatArray
    #: multi: the distinct combinations chosen, by id.
    combos: list[tuple[OptionValue, ...]]
    #: number: the exact answers (for threshold checks).
    exact: list[object]


class _Batch:
    def __init__(
        self, questionnaire: Questionnaire, ids: list[Hashable], columns: Mapping[str, list[object]]
    ) -> None:
        self.q = questionnaire
        self.ids = ids
        self.n = len(ids)
        self.columns = columns
        self.encoded: dict[str, _Encoded] = {}
        self.visible: dict[str, BoolArray] = {}
        #: Rows whose float results might differ from the exact ones.
        self.suspect = np.zeros(self.n, dtype=bool)

    # -- encoding ---------------------------------------------------------------------------

    def encode(self, question: Question) -> _Encoded:
        column = self.columns[question.code]
        n = self.n
        lookup: dict[object, int]
        combos: list[tuple[OptionValue, ...]] = []
        number = np.full(n, np.nan)
        qtype = question.type
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
            lookup = {opt.value: i for i, opt in enumerate(question.options)}
            # Answers are validated, so a value is an option of the same type: no 1/True mixups.
            lookup[NA] = NOT_APPLICABLE
            index = np.fromiter((lookup.get(v, UNANSWERED) for v in column), np.int64, n)
        elif qtype is QuestionType.YESNO:
            index = np.fromiter(
                (
                    1
                    if v is True
                    else 0
                    if v is False
                    else NOT_APPLICABLE
                    if v is NA
                    else UNANSWERED
                    for v in column
                ),
                np.int64,
                n,
            )
        elif qtype is QuestionType.MULTI:
            ids: dict[object, int] = {NA: NOT_APPLICABLE, None: UNANSWERED}

            def combo(value: object) -> int:
                found = ids.get(value)
                if found is None:
                    found = ids[value] = len(combos)
                    combos.append(value)  # type: ignore[arg-type]
                return found

            index = np.fromiter((combo(v) for v in column), np.int64, n)
        else:
            index = np.fromiter(
                (NOT_APPLICABLE if v is NA else UNANSWERED if v is None else 0 for v in column),
                np.int64,
                n,
            )
            if qtype is QuestionType.NUMBER:
                answered = index == 0
                number[answered] = [float(column[i]) for i in np.flatnonzero(answered)]  # type: ignore[arg-type]
        state = np.where(index >= 0, 1, np.where(index == NOT_APPLICABLE, 2, 0)).astype(np.int8)
        return _Encoded(question, state, index, number, combos, column)

    # -- conditions -------------------------------------------------------------------------

    def evaluate(self, condition: Condition) -> BoolArray:
        if isinstance(condition, And):
            return _bools(np.logical_and.reduce([self.evaluate(o) for o in condition.operands]))
        if isinstance(condition, Or):
            return _bools(np.logical_or.reduce([self.evaluate(o) for o in condition.operands]))
        if isinstance(condition, Not):
            return ~self.evaluate(condition.operand)
        enc = self.encoded[condition.ref]
        present = _bools(self.visible[condition.ref] & (enc.state == 1))
        if isinstance(condition, Answered):
            return present
        question = enc.question
        if isinstance(condition, Contains):
            table = np.array([condition.literal in c for c in enc.combos] + [False], dtype=bool)
            return _bools(present & table[np.where(enc.index >= 0, enc.index, len(enc.combos))])
        if isinstance(condition, InList):
            tests = [("==", lit) for lit in condition.literals]
        else:
            tests = [(condition.op, condition.literal)]
        result = np.zeros(self.n, dtype=bool)
        for op, literal in tests:
            if question.type is QuestionType.NUMBER:
                assert isinstance(literal, Decimal)
                self.flag_near(enc, present, literal)
                result |= _bools(_OPS[op](enc.number, float(literal)))
            elif question.type is QuestionType.YESNO:
                result |= _bools(_OPS[op](enc.index == 1, bool(literal)))
            else:
                table = np.array(
                    [_option_test(op, opt.value, literal) for opt in question.options] + [False]
                )
                result |= table[np.where(enc.index >= 0, enc.index, len(question.options))]
        return _bools(present & result)

    def flag_near(self, enc: _Encoded, present: BoolArray, threshold: Decimal) -> None:
        """Mark rows whose numeric answer is near ``threshold`` but not exactly equal to it."""
        target = float(threshold)
        near = present & (np.abs(enc.number - target) <= NEAR_TOLERANCE * max(1.0, abs(target)))
        for row in np.flatnonzero(near & ~self.suspect):
            if Decimal(enc.exact[row]) != threshold:  # type: ignore[arg-type]
                self.suspect[row] = True

    # -- question scores --------------------------------------------------------------------

    def question_scores(self, enc: _Encoded, present: BoolArray) -> tuple[FloatArray, BoolArray]:
        """q for answered rows and whether q = 1 (exactly), as arrays over all rows."""
        question = enc.question
        qtype = question.type
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
            cap = question.option_cap
            points = [o.points for o in question.options]
            q_table = np.array([float(p / cap) for p in points] + [0.0])
            full_table = np.array([p == cap for p in points] + [False])
            slot = np.where(enc.index >= 0, enc.index, len(points))
            return q_table[slot], full_table[slot]
        if qtype is QuestionType.MULTI:
            cap = question.option_cap
            option_points = {o.value: o.points for o in question.options}
            sums = [sum((option_points[v] for v in c), Decimal(0)) for c in enc.combos]
            q_table = np.array([float(min(s, cap) / cap) for s in sums] + [0.0])
            full_table = np.array([s >= cap for s in sums] + [False])
            slot = np.where(enc.index >= 0, enc.index, len(sums))
            return q_table[slot], full_table[slot]
        if qtype is QuestionType.YESNO:
            yes = enc.index == 1
            return yes.astype(np.float64), yes
        scoring = question.scoring
        values = enc.number
        if isinstance(scoring, BandScoring):
            top = scoring.max_points
            q = np.zeros(self.n)
            full = np.zeros(self.n, dtype=bool)
            for band in scoring.bands:
                self.flag_near(enc, present, band.min)
                reached = values >= float(band.min)
                q = np.where(reached, float(band.points / top), q)
                full = np.where(reached, band.points == top, full)
            return q, full
        assert isinstance(scoring, LinearScoring)
        self.flag_near(enc, present, scoring.to)
        start, end = float(scoring.from_), float(scoring.to)
        with np.errstate(invalid="ignore"):
            q = np.clip((values - start) / (end - start), 0.0, 1.0)
        full = values >= end if end > start else values <= end
        return np.nan_to_num(q), full

    # -- the whole batch --------------------------------------------------------------------

    def run(self) -> BatchScores:
        q = self.q
        n = self.n
        exclude_na = q.na_policy is NaPolicy.EXCLUDE
        thresholds = np.array([_hundredths_ceiling(level.min) for level in q.levels])
        level_codes = [level.code for level in q.levels]
        required = np.zeros(n, dtype=np.int64)
        answered = np.zeros(n, dtype=np.int64)

        for question in q.iter_questions():
            enc = self.encoded[question.code] = self.encode(question)
            visible = (
                np.ones(n, dtype=bool)
                if question.show_if is None
                else self.evaluate(question.show_if)
            )
            self.visible[question.code] = visible
            if question.required:
                required += visible
                answered += visible & (enc.state != 0)

        n_dims = len(q.dimensions)
        dim_h = np.zeros((n, n_dims), dtype=np.int64)
        dim_scored = np.zeros((n, n_dims), dtype=bool)
        dim_level = np.full((n, n_dims), -1, dtype=np.int64)
        for d, dim in enumerate(q.dimensions):
            numerator = np.zeros(n)
            denominator = np.zeros(n)
            cap = np.full(n, len(q.levels) - 1, dtype=np.int64)
            for question in dim.questions:
                if not question.is_scored:
                    continue
                enc = self.encoded[question.code]
                visible = self.visible[question.code]
                answered_rows = visible & (enc.state == 1)
                q_answered, full_answered = self.question_scores(enc, answered_rows)
                na = enc.state == 2
                applicable = visible & ~(na & exclude_na)
                q_value = np.where(enc.state == 1, q_answered, np.where(na, 1.0, 0.0))
                full = np.where(enc.state == 1, full_answered, na)
                weight = float(question.weight)
                numerator += np.where(applicable, weight * q_value, 0.0)
                denominator += np.where(applicable, weight, 0.0)
                if question.gate is not None:
                    limit = q.level_index(question.gate) - 1
                    cap = np.where(applicable & ~full, np.minimum(cap, limit), cap)
            scored = denominator > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                raw = np.where(
                    scored, 10000.0 * numerator / np.where(scored, denominator, 1.0), 0.0
                )
            self.suspect |= scored & _near_tie(raw)
            hundredths = np.floor(raw + 0.5).astype(np.int64)
            level = np.searchsorted(thresholds, hundredths, side="right") - 1
            dim_h[:, d] = hundredths
            dim_scored[:, d] = scored
            dim_level[:, d] = np.where(scored, np.minimum(level, cap), -1)

        weights = np.array([float(dim.weight) for dim in q.dimensions])
        total_weight = dim_scored @ weights
        any_scored = total_weight > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            raw_overall = np.where(
                any_scored,
                (np.where(dim_scored, dim_h, 0) @ weights)
                / np.where(any_scored, total_weight, 1.0),
                0.0,
            )
        self.suspect |= any_scored & _near_tie(raw_overall)
        overall_h = np.floor(raw_overall + 0.5).astype(np.int64)
        if q.overall_level is OverallLevelMode.LOWEST:
            overall_level = np.where(dim_scored, dim_level, len(level_codes)).min(axis=1)
        else:
            overall_level = np.searchsorted(thresholds, overall_h, side="right") - 1
        overall_level = np.where(any_scored, overall_level, -1)

        safe_required = np.maximum(required, 1)
        tenths = np.where(
            required > 0, (2000 * answered + safe_required) // (2 * safe_required), 1000
        )

        score_columns = ["overall", *(dim.code for dim in q.dimensions)]
        score_values = (
            np.column_stack(
                [
                    np.where(any_scored, overall_h / 100.0, np.nan),
                    np.where(dim_scored, dim_h / 100.0, np.nan),
                ]
            )
            if n
            else np.zeros((0, len(score_columns)))
        )
        level_index = (
            np.column_stack([overall_level, dim_level])
            if n
            else np.zeros((0, len(score_columns)), dtype=np.int64)
        )
        code_table = np.array([*level_codes, None], dtype=object)
        index = pd.Index(self.ids, name="response", tupleize_cols=False)
        scores = pd.DataFrame(score_values, index=index, columns=score_columns)
        levels = pd.DataFrame(
            code_table[level_index], index=index, columns=score_columns, dtype=object
        )
        completeness = pd.Series(tenths / 10.0, index=index, name="completeness")

        suspects = np.flatnonzero(self.suspect)
        for row in suspects:
            self._rescore_exactly(int(row), scores, levels, completeness)
        return BatchScores(q, self.ids, completeness, scores, levels, len(suspects))

    def _rescore_exactly(
        self, row: int, scores: pd.DataFrame, levels: pd.DataFrame, completeness: pd.Series
    ) -> None:
        answers = {
            code: value
            for code, column in self.columns.items()
            if (value := column[row]) is not None
        }
        result: ResponseScore = score_response(self.q, answers)  # type: ignore[arg-type]
        measures: list[tuple[str, Decimal | None, str | None]] = [
            ("overall", result.overall, result.level),
            *((c, d.score, d.level) for c, d in result.dimensions.items()),
        ]
        for measure, score, level in measures:
            scores.iat[row, scores.columns.get_loc(measure)] = (  # type: ignore[index]
                np.nan if score is None else float(score)
            )
            levels.iat[row, levels.columns.get_loc(measure)] = level  # type: ignore[index]
        completeness.iat[row] = float(result.completeness)


def _bools(value: Any) -> BoolArray:
    """``value`` as a boolean array (numpy's typing loses the dtype of ufunc results)."""
    return np.asarray(value, dtype=np.bool_)


def _near_tie(raw: FloatArray) -> BoolArray:
    return np.abs(raw - np.floor(raw) - 0.5) < TIE_TOLERANCE


def _hundredths_ceiling(value: Decimal) -> int:
    """The least whole number of hundredths ≥ ``value``: S ≥ min ⟺ S_h ≥ this."""
    return math.ceil(value * 100)


def _option_test(op: str, value: object, literal: object) -> bool:
    if op in ("==", "!="):
        same = type(value) is type(literal) and value == literal
        return same if op == "==" else not same
    return bool(_OPS[op](value, literal))


def compare(batch: BatchScores, exact: Iterable[tuple[Hashable, ResponseScore]]) -> list[str]:
    """Differences between a batch and exact results (for tests and benchmarks)."""
    problems: list[str] = []
    for response, result in exact:
        if batch.as_dict(response) != result.as_dict():
            problems.append(f"{response}: {batch.as_dict(response)} != {result.as_dict()}")
    return problems
