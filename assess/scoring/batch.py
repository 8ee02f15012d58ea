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

The rest of the arithmetic is in whole numbers: weights and points scaled by a power of ten
(then divided by their greatest common divisor) keep their exact ratios. Those arrays are
64-bit integers only when a bound computed beforehand, in Python's integers, proves that every
value, product, sum and rounding step made from them fits (weights written with 15 decimals
do not: 2 × 10000 × 10^15 is past 2^63). Otherwise the same arithmetic runs on arrays of
Python integers (``dtype=object``): slower, never wrong. Ordinary weights and points (small
whole numbers, short decimals) always take the 64-bit path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_PREC, Decimal, localcontext
from fractions import Fraction
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
    Dimension,
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
#: The largest int64. A whole-number array is int64 only when its bound is at most this.
INT64_MAX = 2**63 - 1

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
    #: How many required questions each response leaves unanswered among those it is shown
    #: (the length of :attr:`ResponseScore.missing`): a response is complete when it is 0.
    unanswered: pd.Series | None = None

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
    codes = list(questionnaire.questions)
    if isinstance(responses, pd.DataFrame):
        ids, wide = _wide_from_frame(questionnaire, responses)
    else:
        ids = list(responses)
        # pandas builds the columns from the dicts in C; dtype=object keeps every answer as
        # given (Decimals stay exact, None stays None).
        wide = pd.DataFrame([responses[i] for i in ids], columns=codes, dtype=object)
    wide.index = pd.RangeIndex(len(ids))
    return _Batch(questionnaire, ids, wide).run()


def score_table(
    questionnaire: Questionnaire, ids: Sequence[Hashable], table: npt.NDArray[np.object_]
) -> BatchScores:
    """Score many responses given as a table: one row per response (``ids``, in order), one
    column per question in questionnaire order (``questionnaire.questions``), each cell an
    answer or ``None``. The fastest way in when the caller builds the table itself (as the
    round recomputation does from the answers table); the same numbers as
    :func:`score_many`."""
    codes = list(questionnaire.questions)
    if table.shape != (len(ids), len(codes)):
        raise ValueError(
            f"the answers table must be {len(ids)} × {len(codes)}, not "
            f"{table.shape[0]} × {table.shape[1] if table.ndim > 1 else 0}"
        )
    wide = pd.DataFrame(table, columns=codes, dtype=object, copy=False)
    wide.index = pd.RangeIndex(len(ids))
    return _Batch(questionnaire, list(ids), wide).run()


def _wide_from_frame(
    questionnaire: Questionnaire, frame: pd.DataFrame
) -> tuple[list[Hashable], pd.DataFrame]:
    """A long answers frame as one row per response and one column per question.

    Set-based: responses and questions are factorised to positions and the values placed
    with one array assignment (a later row for the same response and question wins).
    """
    missing = {"response", "question", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"the answers frame needs the columns {sorted(missing)}")
    codes = list(questionnaire.questions)
    rows, uniques = pd.factorize(frame["response"], sort=False)
    ids = list(uniques)
    position = {code: i for i, code in enumerate(codes)}
    asked, named = pd.factorize(frame["question"], sort=False)
    unknown = [code for code in named if code not in position]
    if unknown:
        raise ValueError(f"answers to unknown question {unknown[0]!r} of {questionnaire.key}")
    columns = np.array([position[code] for code in named], dtype=np.int64)[asked]
    cells = np.full((len(ids), len(codes)), None, dtype=object)
    cells[rows, columns] = frame["value"].to_numpy(dtype=object)
    return ids, pd.DataFrame(cells, columns=codes, dtype=object)


@dataclass(frozen=True)
class _Scores:
    """q of one question over all rows: ``points / cap`` (whole numbers) or a float ``q``.

    ``points`` is int64 when ``cap`` fits in it, else an array of Python integers.
    """

    points: npt.NDArray[Any] | None
    cap: int
    q: FloatArray | None
    full: BoolArray


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
    #: Every row's answer exactly as given (numbers as Decimals, for threshold checks).
    exact: npt.NDArray[np.object_]


class _Batch:
    def __init__(
        self, questionnaire: Questionnaire, ids: list[Hashable], columns: pd.DataFrame
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
        # On the column's object array: numpy and one dict lookup per answer, rather than
        # pandas' isin, notna, boolean indexing and map on a Series, whose fixed cost per
        # call counts 90 times (a national round's two tables: 0.44 → 0.30 s).
        column = self.columns[question.code].to_numpy(dtype=object)
        n = self.n
        combos: list[tuple[OptionValue, ...]] = []
        number = np.full(n, np.nan)
        qtype = question.type
        # Validated answers hold N/A only where the question allows it.
        na = (
            np.fromiter((value is NA for value in column), dtype=bool, count=n)
            if question.allow_na
            else np.zeros(n, dtype=bool)
        )
        given = ~pd.isna(column) & ~na
        answers = column[given]
        lookup: dict[object, int]
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
            # Answers are validated, so a value is an option of the same type: no 1/True mixups.
            lookup = {opt.value: i for i, opt in enumerate(question.options)}
        elif qtype is QuestionType.YESNO:
            lookup = {True: 1, False: 0}
        elif qtype is QuestionType.MULTI:
            lookup = {}
            for value in answers:
                if value not in lookup:
                    lookup[value] = len(combos)
                    combos.append(value)
        else:
            lookup = {}
        if lookup:
            index = np.full(n, UNANSWERED, dtype=np.int64)
            index[given] = np.fromiter(
                (lookup.get(value, UNANSWERED) for value in answers),
                dtype=np.int64,
                count=len(answers),
            )
        else:
            index = np.where(given, 0, UNANSWERED).astype(np.int64)
        index[na] = NOT_APPLICABLE
        if qtype is QuestionType.NUMBER:
            number[given] = np.array(answers.tolist(), dtype=np.float64)
        state = np.where(index >= 0, 1, np.where(na, 2, 0)).astype(np.int8)
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
            if Decimal(enc.exact[row]) != threshold:
                self.suspect[row] = True

    # -- question scores --------------------------------------------------------------------

    def question_scores(self, enc: _Encoded, present: BoolArray) -> _Scores:
        """Each answered row's q, and whether q = 1 exactly.

        For every type but linear numbers q is a ratio of whole numbers, P / C, once the
        question's points are scaled to integers: those rows are summed exactly.
        """
        question = enc.question
        qtype = question.type
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE, QuestionType.MULTI):
            cap = question.option_cap
            if qtype is QuestionType.MULTI:
                points_of = {o.value: o.points for o in question.options}
                # Summed exactly, as the engine does (a decimal context rounds past 28 digits).
                with localcontext(prec=MAX_PREC):
                    earned = [
                        min(sum((points_of[v] for v in c), Decimal(0)), cap) for c in enc.combos
                    ]
            else:
                earned = [o.points for o in question.options]
            scaled = _integers([*earned, cap])
            table = np.array([*scaled[:-1], 0], dtype=_dtype_for(scaled[-1]))
            slot = np.where(enc.index >= 0, enc.index, len(earned))
            points = table[slot]
            return _Scores(points, scaled[-1], None, _bools(points == scaled[-1]))
        if qtype is QuestionType.YESNO:
            yes = enc.index == 1
            return _Scores(yes.astype(np.int64), 1, None, yes)
        scoring = question.scoring
        values = enc.number
        if isinstance(scoring, BandScoring):
            scaled = _integers([*(b.points for b in scoring.bands), scoring.max_points])
            # The last band whose min the answer reaches (bands ascend); none: points 0.
            slot = np.full(self.n, len(scoring.bands), dtype=np.int64)
            for i, band in enumerate(scoring.bands):
                self.flag_near(enc, present, band.min)
                slot = np.where(values >= float(band.min), i, slot)
            table = np.array([*scaled[:-1], 0], dtype=_dtype_for(scaled[-1]))
            points = table[slot]
            return _Scores(points, scaled[-1], None, _bools(points == scaled[-1]))
        assert isinstance(scoring, LinearScoring)
        exact = self.linear_exactly(enc, present, scoring)
        if exact is not None:
            return exact
        self.flag_near(enc, present, scoring.to)
        start, end = float(scoring.from_), float(scoring.to)
        with np.errstate(invalid="ignore"):
            q = np.nan_to_num(np.clip((values - start) / (end - start), 0.0, 1.0))
        full = values >= end if end > start else values <= end
        return _Scores(None, 0, q, _bools(full))

    def linear_exactly(
        self, enc: _Encoded, present: BoolArray, scoring: LinearScoring
    ) -> _Scores | None:
        """Linear q as whole numbers P / C, when the answers' decimals allow it.

        With every value, ``from`` and ``to`` scaled by 10^k (k the most decimals written),
        q = clamp(V − F, 0, T − F) / (T − F) exactly (mirrored when smaller is better).
        Returns ``None`` when the scaled numbers would not fit exactly in a float.
        """
        distinct = set(enc.exact[present].tolist())
        places = max((-int(v.as_tuple().exponent) for v in distinct), default=0)
        places = max(places, *(-int(v.as_tuple().exponent) for v in (scoring.from_, scoring.to)), 0)
        factor = 10**places
        largest = float(np.nanmax(np.abs(enc.number), initial=0.0))
        if (
            places > 6
            or (largest + abs(float(scoring.from_)) + abs(float(scoring.to))) * factor >= 2**50
        ):
            return None
        values = np.rint(np.nan_to_num(enc.number) * factor).astype(np.int64)
        start, end = int(scoring.from_ * factor), int(scoring.to * factor)
        span = abs(end - start)
        gained = values - start if end > start else start - values
        points = np.clip(gained, 0, span)
        return _Scores(points, span, None, points == span)

    # -- dimensions ---------------------------------------------------------------------------

    def dimension(self, dim: Dimension, exclude_na: bool) -> tuple[IntArray, BoolArray, IntArray]:
        """Rounded score (hundredths), whether scored, and the gate cap of one dimension.

        S = 100 × Σ wᵢqᵢ ÷ Σ wᵢ. With integer weights Wᵢ and qᵢ = Pᵢ ÷ Cᵢ, and D a common
        multiple of the Cᵢ, S in hundredths is 10000 × Σ Wᵢ·Pᵢ·(D/Cᵢ) ÷ (D × Σ Wᵢ): whole
        numbers, rounded exactly. Only linear-scored answers strictly between 0 and 1 add a
        float part; their rows are checked for a near tie.

        As Pᵢ ≤ Cᵢ, no whole number computed here exceeds 20001 × D × Σ Wᵢ (the rounding
        step, 2 × 10000 × numerator + denominator). When that fits in int64, so does all of
        the above. When only 20001 × Σ Wᵢ fits, D is left out: every q becomes a float and
        each row with a q strictly between 0 and 1 is checked for a near tie. When neither
        fits, the whole numbers are Python integers (exact, slower), and the rows with a float
        part go to the exact engine (rare: it takes such weights and linear answers with more
        than 6 decimals).
        """
        n = self.n
        levels = self.q.levels
        scored_questions = [qn for qn in dim.questions if qn.is_scored]
        weights = _integers([qn.weight for qn in scored_questions])
        results = {}
        for question in scored_questions:
            enc = self.encoded[question.code]
            results[question.code] = self.question_scores(
                enc, self.visible[question.code] & (enc.state == 1)
            )
        common = math.lcm(*(r.cap for r in results.values() if r.points is not None))
        dtype, scale, exact = _arithmetic(sum(weights), common)
        floats = dtype.kind != "O"
        whole = np.zeros(n, dtype=dtype)
        part = np.zeros(n, dtype=np.float64)
        fractional = np.zeros(n, dtype=bool)
        denominator = np.zeros(n, dtype=dtype)
        cap = np.full(n, len(levels) - 1, dtype=np.int64)
        for question, weight in zip(scored_questions, weights, strict=True):
            enc = self.encoded[question.code]
            result = results[question.code]
            answered = enc.state == 1
            na = enc.state == 2
            applicable = self.visible[question.code] & ~(na & exclude_na)
            full = np.where(answered, result.full, na)
            denominator += _take(applicable, weight, dtype)
            if result.points is not None and exact:
                points = np.where(
                    answered, np.asarray(result.points, dtype=dtype), _take(na, result.cap, dtype)
                )
                whole += _take(applicable, weight * points * (common // result.cap), dtype)
            else:
                # q = 1 (N/A under "full", or fully met) is exact; so is q = 0.
                if result.points is not None:
                    ratio = np.asarray(result.points / result.cap, dtype=np.float64)
                    q = np.where(answered, ratio, 0.0)
                else:
                    q = np.where(answered, result.q, 0.0)  # type: ignore[arg-type]
                whole += _take(applicable & full, weight * scale, dtype)
                partial = applicable & ~full & (q > 0)
                if floats:
                    part += np.where(partial, weight * scale * q, 0.0)
                fractional |= partial
            if question.gate is not None:
                limit = self.q.level_index(question.gate) - 1
                cap = np.where(applicable & ~full, np.minimum(cap, limit), cap)
        scored = _bools(denominator > 0)
        total = np.maximum(denominator, 1) * scale
        hundredths = _round_div(10000 * whole, total)
        if fractional.any():
            if floats:
                raw = 10000.0 * (whole + part) / total
                self.suspect |= scored & fractional & _near_tie(raw)
                hundredths = np.where(fractional, np.floor(raw + 0.5).astype(np.int64), hundredths)
            else:
                self.suspect |= scored & fractional
        return hundredths, scored, cap

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
            hundredths, scored, cap = self.dimension(dim, exclude_na)
            level = np.searchsorted(thresholds, hundredths, side="right") - 1
            dim_h[:, d] = hundredths
            dim_scored[:, d] = scored
            dim_level[:, d] = np.where(scored, np.minimum(level, cap), -1)

        # Overall: a weighted mean of whole hundredths (0 to 10000) with whole-number weights,
        # exact. Its rounding step is at most 20001 × Σ W: int64 if that fits, else Python's.
        dim_weights = _integers([dim.weight for dim in q.dimensions])
        dtype = _dtype_for(20001 * max(sum(dim_weights), 1))
        weights = np.array(dim_weights, dtype=dtype)
        total_weight = dim_scored.astype(np.int64).astype(dtype, copy=False) @ weights
        any_scored = _bools(total_weight > 0)
        weighted = np.where(dim_scored, dim_h, 0).astype(dtype, copy=False) @ weights
        overall_h = _round_div(weighted, np.maximum(total_weight, 1))
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
        unanswered = pd.Series(required - answered, index=index, name="unanswered")

        suspects = np.flatnonzero(self.suspect)
        for row in suspects:
            self._rescore_exactly(int(row), scores, levels, completeness, unanswered)
        return BatchScores(
            q, self.ids, completeness, scores, levels, len(suspects), unanswered=unanswered
        )

    def _rescore_exactly(
        self,
        row: int,
        scores: pd.DataFrame,
        levels: pd.DataFrame,
        completeness: pd.Series,
        unanswered: pd.Series,
    ) -> None:
        answers = {
            code: value
            for code, value in self.columns.iloc[row].items()
            if value is not None and not (isinstance(value, float) and math.isnan(value))
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
        unanswered.iat[row] = len(result.missing)


def _bools(value: Any) -> BoolArray:
    """``value`` as a boolean array (numpy's typing loses the dtype of ufunc results)."""
    return np.asarray(value, dtype=np.bool_)


def _near_tie(raw: FloatArray) -> BoolArray:
    return np.abs(raw - np.floor(raw) - 0.5) < TIE_TOLERANCE


def _integers(values: Iterable[Decimal]) -> list[int]:
    """Decimals as the smallest whole numbers with the same ratios: scaled by one power of
    ten (exactly, in Python's integers: a decimal context would round past 28 digits), then
    divided by their greatest common divisor."""
    values = list(values)
    places = max([0, *(-int(v.as_tuple().exponent) for v in values)])
    whole = [int(Fraction(v) * 10**places) for v in values]
    divisor = math.gcd(*whole)
    return [w // divisor for w in whole] if divisor > 1 else whole


def _arithmetic(weights: int, common: int) -> tuple[np.dtype[Any], int, bool]:
    """How :meth:`_Batch.dimension` computes, from Σ Wᵢ and D: the whole numbers' dtype, the
    scale of its numerator and denominator, and whether q = P ÷ C stays whole."""
    bound = 20001 * max(weights, 1)
    if bound * common <= INT64_MAX:
        return np.dtype(np.int64), common, True
    if bound <= INT64_MAX:
        return np.dtype(np.int64), 1, False
    return np.dtype(object), common, True


def _dtype_for(bound: int) -> np.dtype[Any]:
    """int64 for whole numbers that never exceed ``bound``, when it fits; else Python's."""
    return np.dtype(np.int64) if bound <= INT64_MAX else np.dtype(object)


def _take(mask: BoolArray, value: Any, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """``value`` (a whole number or an array of them) where ``mask``, else 0, as ``dtype``.

    ``np.where(mask, value, 0)`` would refuse a Python integer beyond int64."""
    return np.where(mask, np.asarray(value, dtype=dtype), np.zeros((), dtype=dtype))


def _round_div(numerator: npt.NDArray[Any], denominator: npt.NDArray[Any]) -> IntArray:
    """numerator ÷ denominator rounded half away from zero, for numerator ≥ 0, denominator > 0.

    The quotient fits in int64 (it is whole hundredths, at most 10000), the operands may be
    Python integers."""
    return np.asarray((2 * numerator + denominator) // (2 * denominator), dtype=np.int64)


def _hundredths_ceiling(value: Decimal) -> int:
    """The least whole number of hundredths ≥ ``value``: S ≥ min ⟺ S_h ≥ this."""
    return math.ceil(value * 100)


def _option_test(op: str, value: object, literal: object) -> bool:
    if op in ("==", "!="):
        same = type(value) is type(literal) and value == literal
        return same if op == "==" else not same
    return bool(_OPS[op](value, literal))
