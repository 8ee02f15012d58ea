"""What would lift a dimension's level: hypothetical best answers, re-scored by the engine.

For each dimension, every visible, applicable, scored question that is not fully met is
answered with its best answer (:func:`best_answer`), one at a time, and the whole response
is scored again with :func:`~assess.scoring.engine.score_response`. Every figure here is
therefore a what-if computed by the engine, never a formula of its own: a change that
reveals other questions through ``show_if`` (which may then count as unmet), removes a gate
cap or moves the overall score through another dimension is reported exactly as the engine
would score it.

Pure functions like the engine: a questionnaire and answers in, frozen values out.

Re-scores per dimension: one per candidate question, one to test whether all steps
together reach the next level, and one per path element after the first (the first
element's result is the single-step result already computed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.model import (
    BandScoring,
    Dimension,
    LinearScoring,
    Option,
    OptionValue,
    Question,
    Questionnaire,
    QuestionType,
)
from assess.scoring.engine import (
    ResponseScore,
    question_score,
    rescore_dimension,
    score_response,
    visibility,
)

#: Gains are differences of values already rounded to 2 decimals (scoring.md §2, §4); the
#: quantize only fixes the exponent so that a zero gain reads ``0.00``.
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Step:
    """One hypothetical change: answer ``question`` with its best answer and re-score."""

    #: The question code.
    question: str
    #: The hypothetical (best) answer, in the parsed form ``score_response`` takes.
    answer: AnswerValue
    #: The question's gate level when the gate holds the dimension back now: it is among
    #: the engine's ``capped_by``, or it bars the next level (gate ≤ next level).
    gate: str | None
    #: New dimension score − current score (2 decimals; may be ≤ 0 for a gate).
    dimension_gain: Decimal
    #: New overall score − current overall score (2 decimals).
    overall_gain: Decimal
    #: The dimension's level after this change alone.
    new_level: str | None
    #: This change alone lifts the dimension to the next level or higher.
    reaches_next: bool
    #: The dimension's score after this change alone.
    new_score: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Lift:
    """What would lift one dimension to its next level."""

    dimension: str
    score: Decimal | None
    level: str | None
    #: ``None`` when the dimension is at the top level or not scored.
    next_level: str | None
    #: The ``min`` of the next level.
    next_min: Decimal | None
    #: max(0, next_min − score): 0 when the score is enough but a gate caps the level.
    points_needed: Decimal | None
    #: Gate questions that cap the level now (the engine's ``DimensionScore.capped_by``).
    capped_by: tuple[str, ...]
    #: Changes worth making, best first: (reaches_next, dimension_gain, file order).
    steps: tuple[Step, ...]
    #: Question codes that together reach the next level; ``()`` when even all steps
    #: together do not.
    path: tuple[str, ...]
    #: Whether answering every step at its best reaches the next level.
    reachable: bool


def best_answer(question: Question, current: AnswerValue | None = None) -> AnswerValue | None:
    """The answer with the largest q (q = 1 for any sensible question), or ``None``.

    ``None`` for questions that cannot score: ``text``, a ``number`` without ``scoring``,
    or a weight-0 question whose points are all 0. ``current`` only matters for ``multi``:
    the agency's chosen options are kept and the fewest options (largest points first) are
    added to reach the cap, so the advice builds on what is already in place. The result is
    a valid answer: options exist, exclusive options stand alone, numbers respect the
    question's ``min``, ``max`` and ``integer``.
    """
    if not question.is_scored_type:
        return None
    qtype = question.type
    if qtype is QuestionType.YESNO:
        return True
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        return _best_option(question)
    if qtype is QuestionType.MULTI:
        return _best_multi(question, current)
    scoring = question.scoring
    if isinstance(scoring, BandScoring):
        return _best_band(question, scoring)
    if isinstance(scoring, LinearScoring):
        return _best_linear(question, scoring)
    # is_scored_type leaves only numbers with scoring here.
    return None


def _best_option(question: Question) -> OptionValue | None:
    """The first option with the largest points (ties: the one listed first)."""
    cap = question.option_cap
    if cap <= 0:
        return None
    return next(o.value for o in question.options if o.points == cap)


def _best_multi(question: Question, current: AnswerValue | None) -> tuple[OptionValue, ...] | None:
    """Current non-exclusive choices plus the fewest options that reach the cap."""
    cap = question.option_cap
    if cap <= 0:
        return None
    plain = [o for o in question.options if not o.exclusive]
    # An exclusive option ("none of these") cannot stay once other options are added.
    kept = set(current) if isinstance(current, tuple) else set()
    chosen = {o.value for o in plain if o.value in kept}
    total = sum((o.points for o in plain if o.value in chosen), Decimal(0))
    # Largest points first reaches the cap with the fewest additions; sorted() is stable,
    # so equal points keep the file's order.
    for option in sorted(plain, key=lambda o: -o.points):
        if total >= cap:
            break
        if option.value in chosen or option.points <= 0:
            continue
        chosen.add(option.value)
        total += option.points
    if total < cap:
        # Only a questionnaire that gives points to an exclusive option gets here.
        alone = _richest(o for o in question.options if o.exclusive)
        if alone is not None and alone.points > total:
            return (alone.value,)
    if not chosen:
        return None
    # Canonical order (the question's option order), as the answer parser gives it.
    return tuple(o.value for o in question.options if o.value in chosen)


def _richest(options: Iterable[Option]) -> Option | None:
    """The option with the most points among ``options`` (first on ties), if any."""
    best: Option | None = None
    for option in options:
        if best is None or option.points > best.points:
            best = option
    return best


def _best_band(question: Question, scoring: BandScoring) -> Decimal | None:
    """The smallest allowed value in the best reachable band (normally the top band's min)."""
    if scoring.max_points <= 0:
        return None
    bands = scoring.bands
    # Rank by points, best first; a band can be out of reach of the question's min/max
    # (or squeezed out by the next band once min and integer are applied), so try in turn.
    ranked = sorted(range(len(bands)), key=lambda i: -bands[i].points)
    for i in ranked:
        value = bands[i].min
        if question.min is not None:
            value = max(value, question.min)
        if question.integer:
            value = value.to_integral_value(rounding=ROUND_CEILING)
        # q uses the *last* band whose min ≤ value, so the value must stay below the next.
        if i + 1 < len(bands) and value >= bands[i + 1].min:
            continue
        if question.max is not None and value > question.max:
            continue
        return value
    return None


def _best_linear(question: Question, scoring: LinearScoring) -> Decimal:
    """The ``to`` end of the scale, moved inside the question's bounds when it is not."""
    upward = scoring.to > scoring.from_
    value = scoring.to
    if question.integer:
        # Past the `to` end q stays 1 (clamped), so round away from the `from` end.
        value = value.to_integral_value(rounding=ROUND_CEILING if upward else ROUND_FLOOR)
    if question.max is not None and value > question.max:
        value = question.max
        if question.integer:
            value = value.to_integral_value(rounding=ROUND_FLOOR)
    if question.min is not None and value < question.min:
        value = question.min
        if question.integer:
            value = value.to_integral_value(rounding=ROUND_CEILING)
    return value


def lift(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> dict[str, Lift]:
    """What would lift each dimension to its next level, keyed by dimension code in file order."""
    current = score_response(questionnaire, answers)
    visible = visibility(questionnaire, answers)
    rescore = _Rescorer(questionnaire, answers, current, visible)
    return {
        dim.code: _lift_dimension(questionnaire, answers, current, visible, dim, rescore)
        for dim in questionnaire.dimensions
    }


class _Rescorer:
    """Score hypothetical answers, the cheap way when it gives the same figures.

    Changing answers that no ``show_if`` refers to changes no question's visibility, so
    only their dimension and the overall can move: :func:`rescore_dimension` scores just
    those (a ninth of the work on the built-in questionnaires). A change that does move
    visibility, but only of questions of its own dimension (the usual "do you have X?"
    followed by questions about X), is scored the same way with the new visibility. Any
    other change is scored in full.
    """

    def __init__(
        self,
        questionnaire: Questionnaire,
        answers: Mapping[str, AnswerValue],
        current: ResponseScore,
        visible: Mapping[str, bool],
    ) -> None:
        self.questionnaire = questionnaire
        self.answers = answers
        self.current = current
        self.visible = visible

    def __call__(self, changes: Mapping[str, AnswerValue], dimension: str) -> ResponseScore:
        """The score of the answers with ``changes`` (all in ``dimension``)."""
        merged = {**self.answers, **changes}
        visible = self.visible
        if not self.questionnaire.show_if_refs.isdisjoint(changes):
            visible = visibility(self.questionnaire, merged)
            moved = {code for code, shown in visible.items() if shown != self.visible[code]}
            if any(self.questionnaire.dimension_of(code) != dimension for code in moved):
                return score_response(self.questionnaire, merged)
        return rescore_dimension(self.questionnaire, self.current, merged, visible, dimension)


@dataclass(frozen=True, slots=True)
class _Trial:
    """A kept step with what is needed to order it and to reuse its re-score."""

    step: Step
    position: int
    result: ResponseScore


def _lift_dimension(
    questionnaire: Questionnaire,
    answers: Mapping[str, AnswerValue],
    current: ResponseScore,
    visible: Mapping[str, bool],
    dim: Dimension,
    rescore: _Rescorer,
) -> Lift:
    """The :class:`Lift` of one dimension."""
    now = current.dimensions[dim.code]
    if now.score is None or now.level is None:
        return Lift(dim.code, None, None, None, None, None, (), (), (), False)
    index = questionnaire.level_index(now.level)
    if index + 1 >= len(questionnaire.levels):
        # At the top there is nothing to lift; no steps, by design (not "gains anyway").
        return Lift(dim.code, now.score, now.level, None, None, None, now.capped_by, (), (), False)
    target = questionnaire.levels[index + 1]
    target_index = index + 1
    assert current.overall is not None  # this dimension is scored, so the overall is too

    trials: list[_Trial] = []
    for position, question in enumerate(dim.questions):
        best = _candidate_answer(questionnaire, question, answers, visible)
        if best is None:
            continue
        result = rescore({question.code: best}, dim.code)
        after = result.dimensions[dim.code]
        # The question stays visible (show_if only looks at earlier questions) and
        # applicable, so the dimension and the overall stay scored.
        assert after.score is not None
        assert after.level is not None
        assert result.overall is not None
        new_index = questionnaire.level_index(after.level)
        gate = question.gate
        holds_back = gate is not None and (
            question.code in now.capped_by or questionnaire.level_index(gate) <= target_index
        )
        step = Step(
            question=question.code,
            answer=best,
            gate=gate if holds_back else None,
            dimension_gain=(after.score - now.score).quantize(CENT),
            overall_gain=(result.overall - current.overall).quantize(CENT),
            new_level=after.level,
            reaches_next=new_index >= target_index,
            new_score=after.score,
        )
        # A change that lowers the score (it reveals unmet questions) is no advice, unless
        # it is a gate that must be met anyway or it still raises the level.
        if step.dimension_gain > 0 or step.gate is not None or new_index > index:
            trials.append(_Trial(step, position, result))

    trials.sort(key=lambda t: (not t.step.reaches_next, -t.step.dimension_gain, t.position))
    steps = tuple(t.step for t in trials)
    path = _path(questionnaire, dim, trials, target_index, rescore)
    return Lift(
        dimension=dim.code,
        score=now.score,
        level=now.level,
        next_level=target.code,
        next_min=target.min,
        points_needed=max(target.min - now.score, Decimal(0)),
        capped_by=now.capped_by,
        steps=steps,
        path=path,
        reachable=bool(path),
    )


def _candidate_answer(
    questionnaire: Questionnaire,
    question: Question,
    answers: Mapping[str, AnswerValue],
    visible: Mapping[str, bool],
) -> AnswerValue | None:
    """The best answer of a question worth suggesting, or ``None`` when it is not one.

    A candidate is visible, scored (weight > 0, a scoring type), not answered N/A (the
    agency said it does not apply: suggesting it would contradict them) and not already at
    its best (unanswered counts as q = 0).
    """
    if not visible[question.code] or not question.is_scored:
        return None
    value = answers.get(question.code)
    if value is NA:
        return None
    best = best_answer(question, value)
    if best is None:
        return None
    now = Fraction(0) if value is None else question_score(question, value)
    # "Not fully met" is q < 1; comparing with the best reachable q also avoids advising an
    # answer that would not score more (only possible in odd files, see best_answer).
    if now >= question_score(question, best):
        return None
    return best


def _path(
    questionnaire: Questionnaire,
    dim: Dimension,
    trials: Sequence[_Trial],
    target_index: int,
    rescore: _Rescorer,
) -> tuple[str, ...]:
    """A short set of steps that together reach the next level, or ``()``.

    Greedy on the single-step ranking: the gates that bar the next level first (it cannot
    be reached without them), then the other steps best first, each re-scored on top of
    the previous ones until the level is reached. Re-ranking the remaining steps after
    every pick would cost a re-score per remaining step per pick; the single-step gains are
    what the cumulative gains are when no ``show_if`` intervenes, so the ranking is kept.
    """
    if not trials:
        return ()

    def reached(result: ResponseScore) -> bool:
        level = result.dimensions[dim.code].level
        return level is not None and questionnaire.level_index(level) >= target_index

    # "Even all steps together do not reach it": then there is no path (one re-score, or
    # none when there is a single step, whose result is known).
    together = {trial.step.question: trial.step.answer for trial in trials}
    everything = trials[0].result if len(trials) == 1 else rescore(together, dim.code)
    if not reached(everything):
        return ()

    def bars(trial: _Trial) -> bool:
        gate = trial.step.gate
        return gate is not None and questionnaire.level_index(gate) <= target_index

    ordered = [t for t in trials if bars(t)] + [t for t in trials if not bars(t)]
    trial_answers: dict[str, AnswerValue] = {}
    path: list[str] = []
    for trial in ordered:
        trial_answers[trial.step.question] = trial.step.answer
        path.append(trial.step.question)
        # The first pick alone is exactly the single-step trial already scored.
        result = trial.result if len(path) == 1 else rescore(trial_answers, dim.code)
        if reached(result):
            return tuple(path)
    # Not reached: once every step is in, the answers are those of `everything`, which did.
    raise AssertionError("the greedy path must reach what all steps together reach")
