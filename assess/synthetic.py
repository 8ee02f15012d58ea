"""Plausible synthetic answers for any questionnaire: benchmarks, the demo and load tests.

Each synthetic agency has a latent maturity in [0, 1] (drawn from a Beta distribution, so
most agencies sit in the middle and few at the extremes); every answer leans towards the
option that maturity suggests, with noise. Drafts leave some questions unanswered, and
questions that allow N/A are sometimes answered N/A. The result is deterministic for a seed.
"""

from __future__ import annotations

import random
from decimal import Decimal

from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.model import (
    BandScoring,
    LinearScoring,
    Question,
    Questionnaire,
    QuestionType,
)


def synthetic_answers(
    questionnaire: Questionnaire,
    count: int,
    *,
    seed: int = 2569,
    completeness: float = 0.97,
    prefix: str = "AG",
) -> dict[str, dict[str, AnswerValue]]:
    """``count`` agencies' answers, keyed ``AG00001``…; deterministic for a ``seed``."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    out: dict[str, dict[str, AnswerValue]] = {}
    width = max(5, len(str(count)))
    for i in range(count):
        maturity = rng.betavariate(2.2, 2.0)
        out[f"{prefix}{i + 1:0{width}d}"] = agency_answers(
            questionnaire, maturity, rng, completeness
        )
    return out


def agency_answers(
    questionnaire: Questionnaire, maturity: float, rng: random.Random, completeness: float = 1.0
) -> dict[str, AnswerValue]:
    """One agency's answers for a latent ``maturity`` in [0, 1]."""
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.iter_questions():
        if rng.random() > completeness:
            continue
        if question.allow_na and rng.random() < 0.06:
            answers[question.code] = NA
            continue
        value = _answer(question, _jitter(maturity, rng), rng)
        if value is not None:
            answers[question.code] = value
    return answers


def _jitter(maturity: float, rng: random.Random) -> float:
    return min(1.0, max(0.0, rng.gauss(maturity, 0.18)))


def _answer(question: Question, level: float, rng: random.Random) -> AnswerValue | None:
    qtype = question.type
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        ranked = sorted(question.options, key=lambda o: o.points)
        return ranked[min(len(ranked) - 1, int(level * len(ranked)))].value
    if qtype is QuestionType.MULTI:
        plain = [o for o in question.options if not o.exclusive]
        exclusive = [o for o in question.options if o.exclusive]
        chosen = {o.value for o in plain if rng.random() < level}
        if not chosen:
            return (exclusive[0].value,) if exclusive else None
        return tuple(o.value for o in question.options if o.value in chosen)
    if qtype is QuestionType.YESNO:
        return rng.random() < level
    if qtype is QuestionType.NUMBER:
        return _number(question, level)
    return "ข้อมูลเพิ่มเติมจากหน่วยงาน" if rng.random() < 0.3 else None


def _number(question: Question, level: float) -> Decimal:
    low, high = question.min, question.max
    scoring = question.scoring
    if isinstance(scoring, LinearScoring):
        start, end = scoring.from_, scoring.to
    elif isinstance(scoring, BandScoring):
        start = scoring.bands[0].min
        end = scoring.bands[-1].min + (scoring.bands[-1].min - start) / 4 + 1
    else:
        start, end = low or Decimal(0), high or Decimal(100)
    value = start + (end - start) * Decimal(str(round(level, 3)))
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    value = value.to_integral_value() if question.integer else value.quantize(Decimal("0.1"))
    return value
