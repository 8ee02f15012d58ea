"""What would lift a level (assess.scoring.whatif): every figure is a re-score by the engine."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assess.questionnaires import Questionnaire, QuestionType, load
from assess.questionnaires.answers import (
    NA,
    AnswerValue,
    parse_json_value,
    read_answers,
    to_json_value,
)
from assess.questionnaires.builtin import builtin_files
from assess.scoring import whatif
from assess.scoring.engine import question_score, score_response, visibility
from assess.scoring.whatif import Lift, Step, best_answer, lift
from assess.synthetic import agency_answers
from tests.unit.builders import answers, dimension, options, questionnaire, yesno
from tests.unit.test_properties import questionnaires as random_questionnaires

BUILTIN = [load(path) for path in builtin_files()]


def worked(examples: Path) -> tuple[Questionnaire, dict[str, AnswerValue]]:
    q = load(examples / "worked-example.yaml")
    (response,) = read_answers(examples / "worked-example.answers.json", q)
    return q, dict(response.answers)


# -- the worked example (scoring.md §9) ------------------------------------------------------


def test_worked_example_pay_is_lifted_by_the_recon_gate(examples: Path) -> None:
    q, given_answers = worked(examples)
    pay = lift(q, given_answers)["pay"]
    # 58.33 is already ≥ 50 (level 3), but pay.recon (gate 3) caps the level at 2.
    assert (pay.score, pay.level) == (Decimal("58.33"), "2")
    assert (pay.next_level, pay.next_min, pay.points_needed) == ("3", Decimal(50), Decimal(0))
    assert pay.capped_by == ("pay.recon",)
    recon, share = pay.steps
    # pay.recon yes: 100 × (1×1 + 2×2/3 + 1×1) ÷ 4 = 83.333… → 83.33, level 4, no cap.
    # Overall: (2 × 83.33 + 75.00) ÷ 3 = 80.5533… → 80.55; 80.55 − 63.89 = 16.66.
    assert recon == Step(
        question="pay.recon",
        answer=True,
        gate="3",
        dimension_gain=Decimal("25.00"),
        overall_gain=Decimal("16.66"),
        new_level="4",
        reaches_next=True,
        new_score=Decimal("83.33"),
    )
    # pay.share 90 (the top band's min): 100 × (1 + 2×1 + 0) ÷ 4 = 75.00, still capped at 2.
    # Overall: (2 × 75.00 + 75.00) ÷ 3 = 75.00; 75.00 − 63.89 = 11.11.
    assert share == Step(
        question="pay.share",
        answer=Decimal(90),
        gate=None,
        dimension_gain=Decimal("16.67"),
        overall_gain=Decimal("11.11"),
        new_level="2",
        reaches_next=False,
        new_score=Decimal("75.00"),
    )
    assert pay.path == ("pay.recon",)
    assert pay.reachable


def test_worked_example_id_is_at_the_top(examples: Path) -> None:
    q, given_answers = worked(examples)
    result = lift(q, given_answers)
    assert list(result) == ["pay", "id"]
    assert result["id"] == Lift("id", Decimal("75.00"), "4", None, None, None, (), (), (), False)


def test_worked_example_na_is_not_suggested_and_lift_is_pure(examples: Path) -> None:
    q, given_answers = worked(examples)
    before = dict(given_answers)
    result = lift(q, given_answers)
    assert given_answers == before
    assert all(s.question != "id.kyc" for d in result.values() for s in d.steps)


# -- best answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("q", BUILTIN, ids=lambda q: q.key)
def test_best_answer_scores_one_on_every_builtin_question(q: Questionnaire) -> None:
    scored = 0
    for question in q.iter_questions():
        best = best_answer(question)
        if not question.is_scored_type:
            assert best is None, question.code
            continue
        if best is None:
            # Only a weight-0 question whose points are all 0 has no answer worth anything.
            assert question.weight == 0, question.code
            assert all(o.points == 0 for o in question.options), question.code
            continue
        assert question_score(question, best) == 1, question.code
        # A valid answer too: it survives the interchange form and the answer checks.
        assert parse_json_value(question, to_json_value(best)) == best, question.code
        scored += 1
    assert scored >= 50


def _number_question(**extra: object) -> Questionnaire:
    return questionnaire(dimension("d", {"code": "d.n", "type": "number", "text": "n", **extra}))


def test_best_band_respects_min_integer_and_max() -> None:
    bands = {"bands": [{"min": 0, "points": 0}, {"min": 30, "points": 1}, {"min": 60, "points": 2}]}
    assert best_answer(_number_question(scoring=bands).question("d.n")) == Decimal(60)
    question = _number_question(
        min=0,
        max=100,
        integer=True,
        scoring={"bands": [{"min": 0, "points": 0}, {"min": 2.5, "points": 1}]},
    ).question("d.n")
    assert best_answer(question) == Decimal(3)
    # The top band lies beyond max: the best reachable band it is.
    capped = _number_question(max=50, scoring=bands).question("d.n")
    assert best_answer(capped) == Decimal(30)
    assert question_score(capped, Decimal(30)) < 1


def test_best_linear_goes_to_the_to_end() -> None:
    up = _number_question(min=0, max=100, scoring={"linear": {"from": 50, "to": 90}})
    assert best_answer(up.question("d.n")) == Decimal(90)
    down = _number_question(min=0, integer=True, scoring={"linear": {"from": 30, "to": 2.5}})
    best = best_answer(down.question("d.n"))
    assert best == Decimal(2)
    assert question_score(down.question("d.n"), Decimal(2)) == 1
    unscored = _number_question(min=0)
    assert best_answer(unscored.question("d.n")) is None


def test_best_options() -> None:
    q = questionnaire(
        dimension(
            "d",
            {
                "code": "d.c",
                "type": "choice",
                "text": "c",
                "options": options(("a", 1), ("b", 3), ("c", 3)),
            },
            {
                "code": "d.m",
                "type": "multi",
                "text": "m",
                "max_points": 3,
                "options": [
                    {"value": "none", "label": "none", "points": 0, "exclusive": True},
                    *options(("x", 1), ("y", 2), ("z", 1), ("w", 2)),
                ],
            },
            {"code": "d.t", "type": "text", "text": "t"},
        )
    )
    assert best_answer(q.question("d.c")) == "b"
    multi = q.question("d.m")
    # Fewest options, largest points first: y (2) then w (2) passes 3.
    assert best_answer(multi) == ("y", "w")
    # Builds on what the agency already has: x (1) + y (2) = 3.
    assert best_answer(multi, ("x",)) == ("x", "y")
    # "None of these" is dropped once options are added.
    assert best_answer(multi, ("none",)) == ("y", "w")
    assert best_answer(q.question("d.t")) is None


# -- show_if side effects, unreachable levels, N/A ------------------------------------------


def _revealing(gate: bool) -> Questionnaire:
    has = yesno("d.has", **({"gate": "3"} if gate else {}))
    return questionnaire(
        dimension("d", has, yesno("d.detail", show_if="d.has == yes", weight=3), yesno("d.other"))
    )


def test_a_reveal_that_lowers_the_score_is_not_advice_and_the_next_level_is_unreachable() -> None:
    q = _revealing(gate=False)
    given_answers = answers(q, {"d.has": False, "d.other": True})
    d = lift(q, given_answers)["d"]
    # 100 × 1 ÷ 2 = 50.00: level 3. Answering yes reveals d.detail (weight 3, unanswered):
    # 100 × (1 + 0 + 1) ÷ 5 = 40.00, a loss, so it is no step.
    assert (d.score, d.level, d.next_level, d.points_needed) == (Decimal(50), "3", "4", Decimal(25))
    assert score_response(q, {**given_answers, "d.has": True}).dimensions["d"].score == 40
    assert d.steps == ()
    assert d.path == ()
    assert not d.reachable


def test_a_gate_step_reports_its_reveal_truthfully() -> None:
    q = _revealing(gate=True)
    given_answers = answers(q, {"d.has": False, "d.other": True})
    d = lift(q, given_answers)["d"]
    # Score 50.00 (level 3 by score) capped at 2 by d.has.
    assert (d.score, d.level, d.capped_by, d.points_needed) == (
        Decimal(50),
        "2",
        ("d.has",),
        Decimal(0),
    )
    (step,) = d.steps
    # Yes removes the cap but reveals d.detail: 40.00, level 2 all the same.
    assert step.question == "d.has"
    assert (step.gate, step.dimension_gain, step.new_level) == ("3", Decimal("-10.00"), "2")
    assert not step.reaches_next
    # Together with everything else (nothing else) it still does not reach 3.
    assert (d.path, d.reachable) == ((), False)


def test_a_hidden_answer_that_comes_back_counts() -> None:
    q = _revealing(gate=True)
    # d.detail was answered yes earlier and is hidden now; revealing it brings it back.
    given_answers = answers(q, {"d.has": False, "d.detail": True, "d.other": True})
    d = lift(q, given_answers)["d"]
    (step,) = d.steps
    assert (step.dimension_gain, step.new_level, step.reaches_next) == (Decimal(50), "4", True)
    assert (d.path, d.reachable) == (("d.has",), True)


def test_not_applicable_answers_are_never_suggested() -> None:
    q = questionnaire(
        dimension("d", yesno("d.a", allow_na=True, weight=5), yesno("d.b"), yesno("d.c"))
    )
    given_answers = answers(q, {"d.a": {"na": True}, "d.b": False})
    d = lift(q, given_answers)["d"]
    assert [s.question for s in d.steps] == ["d.b", "d.c"]
    # Each alone: 100 × 1 ÷ 2 = 50.00 (level 3); both: 100.00.
    assert [s.dimension_gain for s in d.steps] == [Decimal(50), Decimal(50)]
    assert (d.next_level, d.path, d.reachable) == ("2", ("d.b",), True)


def test_all_na_dimension_is_not_scored() -> None:
    q = questionnaire(dimension("d", yesno("d.a", allow_na=True)), dimension("e", yesno("e.a")))
    result = lift(q, answers(q, {"d.a": {"na": True}}))
    assert result["d"] == Lift("d", None, None, None, None, None, (), (), (), False)
    assert result["e"].steps[0].question == "e.a"


def test_gates_barring_the_next_level_come_first_in_the_path() -> None:
    q = questionnaire(
        dimension(
            "d",
            yesno("d.gate", gate="2"),
            yesno("d.big", weight=4),
            yesno("d.small"),
        )
    )
    # Score 0, level 1; d.gate bars level 2 although the score does not reach it either,
    # so it is no cap yet (capped_by is empty) but its step is marked as a gate.
    d = lift(q, answers(q, {"d.gate": False, "d.big": False, "d.small": False}))["d"]
    assert (d.level, d.capped_by, d.next_level, d.points_needed) == ("1", (), "2", Decimal(25))
    by_code = {s.question: s for s in d.steps}
    assert by_code["d.gate"].gate == "2"
    # d.big alone: 66.67 but capped at 1 by the gate; it does not reach 2 by itself.
    assert (by_code["d.big"].dimension_gain, by_code["d.big"].new_level) == (Decimal("66.67"), "1")
    assert [s.question for s in d.steps] == ["d.big", "d.gate", "d.small"]
    assert d.path == ("d.gate", "d.big")


def test_top_level_has_no_next_level() -> None:
    q = questionnaire(dimension("d", yesno("d.a"), yesno("d.b")))
    d = lift(q, answers(q, {"d.a": True, "d.b": True}))["d"]
    assert (d.score, d.level, d.next_level, d.steps, d.path, d.reachable) == (
        Decimal(100),
        "4",
        None,
        (),
        (),
        False,
    )


def test_rescore_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    q = BUILTIN[-1]
    given_answers = agency_answers(q, 0.4, random.Random(7), 0.9)
    calls = 0

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return score_response(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whatif, "score_response", counting)
    result = lift(q, given_answers)
    monkeypatch.undo()
    candidates = _candidates(q, given_answers)
    # One current score, then per dimension: a re-score per candidate, one for "all steps"
    # and one per path element after the first (so at most one when there is no path).
    budget = 1 + sum(
        len(candidates[d.dimension]) + (max(len(d.path), 1) if d.steps else 0)
        for d in result.values()
    )
    assert any(d.path for d in result.values())
    assert calls <= budget


def test_the_core_stays_free_of_the_web_stack() -> None:
    code = (
        "import sys, assess.scoring.whatif\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy',"
        " 'werkzeug'} or m == 'assess.models'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- properties on synthetic answers ---------------------------------------------------------


def _candidates(q: Questionnaire, given: Mapping[str, AnswerValue]) -> dict[str, list[str]]:
    """Per dimension: visible, scored, not N/A, not fully met questions (by hand)."""
    visible = visibility(q, given)
    out: dict[str, list[str]] = {}
    for dim in q.dimensions:
        out[dim.code] = []
        for question in dim.questions:
            value = given.get(question.code)
            if not visible[question.code] or not question.is_scored or value is NA:
                continue
            if value is None or question_score(question, value) < 1:
                out[dim.code].append(question.code)
    return out


def check_lift(q: Questionnaire, given: dict[str, AnswerValue]) -> None:
    """Every figure of lift() against re-scoring by hand."""
    current = score_response(q, given)
    result = lift(q, given)
    candidates = _candidates(q, given)
    assert list(result) == [d.code for d in q.dimensions]
    for code, d in result.items():
        now = current.dimensions[code]
        assert (d.score, d.level, d.capped_by) == (now.score, now.level, now.capped_by)
        if d.next_level is None:
            assert (d.steps, d.path, d.reachable) == ((), (), False)
            assert now.level is None or now.level == q.levels[-1].code
            continue
        assert now.score is not None
        assert now.level is not None
        assert current.overall is not None
        target = q.level_index(d.next_level)
        assert target == q.level_index(now.level) + 1
        assert d.points_needed == max(Decimal(0), q.levels[target].min - now.score)
        order = {c: i for i, c in enumerate(candidates[code])}
        for step in d.steps:
            assert step.question in order, step.question
            question = q.question(step.question)
            assert question_score(question, step.answer) == 1
            assert parse_json_value(question, to_json_value(step.answer)) == step.answer
            again = score_response(q, {**given, step.question: step.answer})
            after = again.dimensions[code]
            assert after.score is not None
            assert after.level is not None
            assert again.overall is not None
            assert step.dimension_gain == after.score - now.score
            assert step.overall_gain == again.overall - current.overall
            assert step.new_level == after.level
            assert step.reaches_next == (q.level_index(after.level) >= target)
            assert step.dimension_gain > 0 or step.gate is not None or step.reaches_next
        # Candidates left out are no advice: they do not raise the score, level or a gate.
        for left_out in set(candidates[code]) - {s.question for s in d.steps}:
            question = q.question(left_out)
            best = best_answer(question, given.get(left_out))
            assert best is not None
            after = score_response(q, {**given, left_out: best}).dimensions[code]
            assert after.score is not None
            assert after.level is not None
            assert after.score <= now.score
            assert q.level_index(after.level) <= q.level_index(now.level)
            assert left_out not in now.capped_by
        keys = [(not s.reaches_next, -s.dimension_gain, order[s.question]) for s in d.steps]
        assert keys == sorted(keys)
        assert d.reachable == bool(d.path)
        if d.reachable:
            assert set(d.path) <= {s.question for s in d.steps}
            answers_of = {s.question: s.answer for s in d.steps}
            lifted = score_response(q, {**given, **{c: answers_of[c] for c in d.path}})
            level = lifted.dimensions[code].level
            assert level is not None
            assert q.level_index(level) >= target
        else:
            assert d.path == ()
            everything = {**given, **{s.question: s.answer for s in d.steps}}
            level = score_response(q, everything).dimensions[code].level
            assert level is None or q.level_index(level) < target


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(BUILTIN),
    maturity=st.floats(0, 1),
    seed=st.integers(0, 2**32),
    completeness=st.sampled_from([1.0, 0.9, 0.6]),
)
def test_property_builtin_synthetic(
    version: Questionnaire, maturity: float, seed: int, completeness: float
) -> None:
    check_lift(version, agency_answers(version, maturity, random.Random(seed), completeness))


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_property_random_questionnaires(data: st.DataObject) -> None:
    q = data.draw(random_questionnaires())
    maturity = data.draw(st.floats(0, 1))
    seed = data.draw(st.integers(0, 2**32))
    given_answers = agency_answers(
        q, maturity, random.Random(seed), data.draw(st.sampled_from([1.0, 0.7]))
    )
    for question in q.iter_questions():
        best = best_answer(question)
        if question.is_scored:
            assert best is not None
            assert question_score(question, best) == 1
    check_lift(q, given_answers)


def test_every_question_type_is_covered_by_the_builtin_best_answers() -> None:
    kinds = {
        q.type
        for version in BUILTIN
        for q in version.iter_questions()
        if best_answer(q) is not None
    }
    assert kinds == set(QuestionType) - {QuestionType.TEXT}
