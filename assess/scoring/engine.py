"""Score one response exactly (scoring.md §1–§5).

Pure functions: a :class:`~assess.questionnaires.model.Questionnaire` and a mapping of
answers in, plain frozen values out. Arithmetic is exact (:class:`~fractions.Fraction`), and
rounding happens only where scoring.md names it: each dimension score, the overall score and
completeness.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.conditions import RefValue, evaluate
from assess.questionnaires.model import (
    BandScoring,
    Dimension,
    Evidence,
    LinearScoring,
    NaPolicy,
    OverallLevelMode,
    Question,
    Questionnaire,
    QuestionType,
)
from assess.scoring.rounding import round_half_away

ONE = Fraction(1)
ZERO = Fraction(0)


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """A dimension's result; ``score`` and ``level`` are ``None`` when it is not scored."""

    code: str
    score: Decimal | None
    level: str | None
    #: The level the score alone would give, before gates.
    score_level: str | None = None
    #: Gated questions that capped the level (not fully met), in file order.
    capped_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``interfaces.md``: ``{"score", "level"}``."""
        return {"score": _number(self.score), "level": self.level}


@dataclass(frozen=True, slots=True)
class ResponseScore:
    """The result of one response: overall, per dimension, and completeness."""

    overall: Decimal | None
    level: str | None
    dimensions: Mapping[str, DimensionScore]
    completeness: Decimal
    #: Visible required questions without an answer, in file order.
    missing: tuple[str, ...] = ()
    #: Visible, answered, not-N/A questions with ``evidence: required`` and no evidence;
    #: empty unless the caller said which questions have evidence.
    missing_evidence: tuple[str, ...] = ()

    @property
    def submittable(self) -> bool:
        """Complete with every required evidence present (scoring.md §5)."""
        return self.completeness == 100 and not self.missing_evidence

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``assess scores`` without ``agency`` and ``status``."""
        return {
            "completeness": float(self.completeness),
            "overall": {"score": _number(self.overall), "level": self.level},
            "dimensions": {code: d.as_dict() for code, d in self.dimensions.items()},
        }


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def visibility(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> dict[str, bool]:
    """Whether each question is visible, evaluated in file order (show_if sees earlier ones)."""
    visible: dict[str, bool] = {}

    def value_of(code: str) -> RefValue:
        if not visible.get(code, False):
            return None
        value = answers.get(code)
        if value is None or value is NA:
            return None
        return value  # type: ignore[return-value]

    for question in questionnaire.iter_questions():
        condition = question.show_if
        visible[question.code] = condition is None or evaluate(condition, value_of)
    return visible


def question_score(question: Question, value: AnswerValue) -> Fraction:
    """q ∈ [0, 1] of an answered, applicable question (scoring.md §1)."""
    qtype = question.type
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        option = question.option(value)  # type: ignore[arg-type]
        if option is None:
            raise ValueError(f"{question.code}: {value!r} is not an option")
        return Fraction(option.points) / Fraction(question.option_cap)
    if qtype is QuestionType.MULTI:
        assert isinstance(value, tuple)
        chosen = set(value)
        total = sum((Fraction(o.points) for o in question.options if o.value in chosen), ZERO)
        cap = Fraction(question.option_cap)
        return min(total, cap) / cap
    if qtype is QuestionType.YESNO:
        return ONE if value is True else ZERO
    if qtype is QuestionType.NUMBER:
        assert isinstance(value, Decimal | int)
        number = Fraction(value)
        scoring = question.scoring
        if isinstance(scoring, BandScoring):
            points = ZERO
            for band in scoring.bands:
                if band.min <= number:
                    points = Fraction(band.points)
            return points / Fraction(scoring.max_points)
        if isinstance(scoring, LinearScoring):
            start, end = Fraction(scoring.from_), Fraction(scoring.to)
            return min(max((number - start) / (end - start), ZERO), ONE)
    raise ValueError(f"{question.code}: a {qtype} question is not scored")


def level_for(questionnaire: Questionnaire, score: Decimal) -> str:
    """The highest level whose ``min`` ≤ ``score`` (scoring.md §3.1)."""
    found = questionnaire.levels[0].code
    for level in questionnaire.levels:
        if level.min <= score:
            found = level.code
    return found


def score_response(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerValue],
    *,
    evidence: Collection[str] | None = None,
) -> ResponseScore:
    """Score one response's answers with the rules of its questionnaire version.

    ``answers`` maps question codes to parsed answers (see
    :mod:`assess.questionnaires.answers`); answers to hidden questions are ignored.
    ``evidence``, when given, is the set of question codes that have evidence attached; it
    only feeds :attr:`ResponseScore.missing_evidence`.
    """
    visible = visibility(questionnaire, answers)
    dimensions = {
        dim.code: _dimension_score(questionnaire, dim, answers, visible)
        for dim in questionnaire.dimensions
    }
    overall, overall_level = _overall(questionnaire, dimensions)
    completeness, missing, missing_evidence = _completeness(
        questionnaire, answers, visible, evidence
    )
    return ResponseScore(
        overall, overall_level, dimensions, completeness, missing, missing_evidence
    )


def rescore_dimension(
    questionnaire: Questionnaire,
    base: ResponseScore,
    answers: Mapping[str, AnswerValue],
    visible: Mapping[str, bool],
    code: str,
) -> ResponseScore:
    """``base`` with dimension ``code`` and the overall scored again from ``answers``.

    For callers that change answers of one dimension without changing any question's
    visibility (``visible`` is still right for ``answers``): the other dimensions cannot
    have moved, so they are taken from ``base``. The figures are those
    :func:`score_response` gives; completeness and the missing lists are ``base``'s.
    """
    dimensions = dict(base.dimensions)
    dimensions[code] = _dimension_score(
        questionnaire, questionnaire.dimension(code), answers, visible
    )
    overall, overall_level = _overall(questionnaire, dimensions)
    return ResponseScore(
        overall,
        overall_level,
        dimensions,
        base.completeness,
        base.missing,
        base.missing_evidence,
    )


def _dimension_score(
    questionnaire: Questionnaire,
    dim: Dimension,
    answers: Mapping[str, AnswerValue],
    visible: Mapping[str, bool],
) -> DimensionScore:
    """S_d, its level after the gates, and the gates that cap it (scoring.md §2–§3)."""
    exclude_na = questionnaire.na_policy is NaPolicy.EXCLUDE
    level_codes = [lvl.code for lvl in questionnaire.levels]
    numerator = ZERO
    denominator = ZERO
    caps: list[tuple[int, str]] = []
    for question in dim.questions:
        if not visible[question.code] or not question.is_scored:
            continue
        value = answers.get(question.code)
        if value is NA:
            if exclude_na:
                continue
            q = ONE
        elif value is None:
            q = ZERO
        else:
            q = question_score(question, value)
        weight = Fraction(question.weight)
        numerator += weight * q
        denominator += weight
        if question.gate is not None and q < 1:
            caps.append((questionnaire.level_index(question.gate) - 1, question.code))
    if denominator == 0:
        return DimensionScore(dim.code, None, None)
    score = round_half_away(100 * numerator / denominator, 2)
    score_level = level_for(questionnaire, score)
    index = level_codes.index(score_level)
    for cap, _ in caps:
        index = min(index, cap)
    capped_by = tuple(code for cap, code in caps if cap < level_codes.index(score_level))
    return DimensionScore(dim.code, score, level_codes[index], score_level, capped_by)


def _overall(
    questionnaire: Questionnaire, dimensions: Mapping[str, DimensionScore]
) -> tuple[Decimal | None, str | None]:
    """O and its level from the dimensions' scores (scoring.md §4)."""
    weighted = ZERO
    total_weight = ZERO
    lowest_index: int | None = None
    for dim in questionnaire.dimensions:
        found = dimensions[dim.code]
        if found.score is None or found.level is None:
            continue
        weighted += Fraction(dim.weight) * Fraction(found.score)
        total_weight += Fraction(dim.weight)
        index = questionnaire.level_index(found.level)
        lowest_index = index if lowest_index is None else min(lowest_index, index)
    if total_weight == 0:
        return None, None
    overall = round_half_away(weighted / total_weight, 2)
    if questionnaire.overall_level is OverallLevelMode.LOWEST:
        assert lowest_index is not None
        return overall, questionnaire.levels[lowest_index].code
    return overall, level_for(questionnaire, overall)


def _completeness(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerValue],
    visible: Mapping[str, bool],
    evidence: Collection[str] | None,
) -> tuple[Decimal, tuple[str, ...], tuple[str, ...]]:
    required = 0
    missing: list[str] = []
    missing_evidence: list[str] = []
    for question in questionnaire.iter_questions():
        if not visible[question.code]:
            continue
        value = answers.get(question.code)
        if question.required:
            required += 1
            if value is None:
                missing.append(question.code)
        if (
            evidence is not None
            and question.evidence is Evidence.REQUIRED
            and value is not None
            and value is not NA
            and question.code not in evidence
        ):
            missing_evidence.append(question.code)
    if required == 0:
        completeness = Decimal("100.0")
    else:
        completeness = round_half_away(Fraction(100 * (required - len(missing)), required), 1)
    return completeness, tuple(missing), tuple(missing_evidence)
