"""Every scoring rule of scoring.md §1–§5, table-driven, on both engines.

Each case scores with the exact engine (``score_response``) and the vectorised one
(``score_many``) and expects the same numbers from both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from assess.questionnaires.answers import NA
from assess.scoring import round_half_away, score_response
from assess.scoring.batch import score_many
from tests.unit.builders import answers, dimension, options, questionnaire, yesno

LEVEL_Q = {
    "code": "d.level",
    "type": "level",
    "text": "rubric",
    "options": options((0, 0), (1, 1), (2, 2), (3, 3)),
}
CHOICE_Q = {
    "code": "d.choice",
    "type": "choice",
    "text": "choice",
    "options": options(("yes", 2), ("partly", 1), ("no", 0)),
}
MULTI_CAPPED = {
    "code": "d.multi",
    "type": "multi",
    "text": "multi",
    "max_points": 3,
    "options": options(("a", 1), ("b", 1), ("c", 2)),
}
MULTI_SUM = {**MULTI_CAPPED, "max_points": None}
del MULTI_SUM["max_points"]
BANDS_Q = {
    "code": "d.share",
    "type": "number",
    "text": "share",
    "scoring": {
        "bands": [
            {"min": 10, "points": 0},
            {"min": 30, "points": 1},
            {"min": 60, "points": 2},
            {"min": 90, "points": 3},
        ]
    },
}
LINEAR_Q = {
    "code": "d.count",
    "type": "number",
    "text": "count",
    "scoring": {"linear": {"from": 0, "to": 200}},
}
SMALLER_BETTER = {
    "code": "d.hours",
    "type": "number",
    "text": "hours",
    "scoring": {"linear": {"from": 48, "to": 0}},
}


def score(q_or_dims: Any, raw: dict[str, Any], **top: Any) -> dict[str, Any]:
    """Score with both engines, check they agree, return the exact result's dict."""
    q = q_or_dims if hasattr(q_or_dims, "dimensions") else questionnaire(*q_or_dims, **top)
    parsed = answers(q, raw)
    result = score_response(q, parsed)
    exact = result.as_dict()
    batch = score_many(q, {"X": parsed})
    assert batch.as_dict("X") == exact
    assert batch.unanswered is not None
    assert batch.unanswered["X"] == len(result.missing)
    return exact


def dim_score(question: dict[str, Any], value: Any) -> float | None:
    result = score([dimension("d", question)], {question["code"]: value})
    return result["dimensions"]["d"]["score"]


# -- §1 question scores ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "value", "expected"),
    [
        pytest.param(LEVEL_Q, 0, 0.0, id="level-lowest"),
        pytest.param(LEVEL_Q, 2, 66.67, id="level-2-of-3"),
        pytest.param(LEVEL_Q, 3, 100.0, id="level-top"),
        pytest.param(CHOICE_Q, "partly", 50.0, id="choice-half"),
        pytest.param(CHOICE_Q, "no", 0.0, id="choice-zero"),
        pytest.param(MULTI_CAPPED, ["a", "c"], 100.0, id="multi-reaches-cap"),
        pytest.param(MULTI_CAPPED, ["a", "b", "c"], 100.0, id="multi-above-cap"),
        pytest.param(MULTI_CAPPED, ["b"], 33.33, id="multi-under-cap"),
        pytest.param(MULTI_SUM, ["c"], 50.0, id="multi-default-cap-is-sum"),
        pytest.param(yesno("d.yn"), True, 100.0, id="yes"),
        pytest.param(yesno("d.yn"), False, 0.0, id="no"),
        pytest.param(BANDS_Q, 65, 66.67, id="bands-middle"),
        pytest.param(BANDS_Q, 60, 66.67, id="bands-exactly-on-min"),
        pytest.param(BANDS_Q, Decimal("59.999"), 33.33, id="bands-just-below-min"),
        pytest.param(BANDS_Q, 5, 0.0, id="bands-below-first"),
        pytest.param(BANDS_Q, 1000, 100.0, id="bands-top"),
        pytest.param(LINEAR_Q, 50, 25.0, id="linear"),
        pytest.param(LINEAR_Q, 500, 100.0, id="linear-clamped-high"),
        pytest.param(LINEAR_Q, -5, 0.0, id="linear-clamped-low"),
        pytest.param(SMALLER_BETTER, 12, 75.0, id="linear-smaller-is-better"),
        pytest.param(SMALLER_BETTER, 72, 0.0, id="linear-smaller-is-better-clamped"),
    ],
)
def test_question_score(question: dict[str, Any], value: Any, expected: float) -> None:
    assert dim_score(question, value) == expected


def test_unanswered_question_counts_zero_and_stays_in_denominator() -> None:
    result = score([dimension("d", yesno("d.a"), yesno("d.b"))], {"d.a": True})
    assert result["dimensions"]["d"]["score"] == 50.0


@pytest.mark.parametrize(
    ("policy", "expected"), [("exclude", 100.0), ("full", 100.0)], ids=["exclude", "full"]
)
def test_na_with_a_yes(policy: str, expected: float) -> None:
    dims = [dimension("d", yesno("d.a"), yesno("d.b", allow_na=True))]
    assert (
        score(dims, {"d.a": True, "d.b": {"na": True}}, na_policy=policy)["dimensions"]["d"][
            "score"
        ]
        == expected
    )


@pytest.mark.parametrize(("policy", "expected"), [("exclude", 0.0), ("full", 50.0)])
def test_na_policies(policy: str, expected: float) -> None:
    dims = [dimension("d", yesno("d.a"), yesno("d.b", allow_na=True))]
    result = score(dims, {"d.a": False, "d.b": {"na": True}}, na_policy=policy)
    assert result["dimensions"]["d"]["score"] == expected


def test_only_na_under_exclude_leaves_the_dimension_unscored() -> None:
    dims = [dimension("d", yesno("d.a", allow_na=True)), dimension("e", yesno("e.a"))]
    result = score(dims, {"d.a": {"na": True}, "e.a": True})
    assert result["dimensions"]["d"] == {"score": None, "level": None}
    assert result["overall"] == {"score": 100.0, "level": "4"}


def test_hidden_question_is_ignored_even_with_a_stored_answer() -> None:
    dims = [dimension("d", yesno("d.a"), yesno("d.b", show_if="d.a == yes"))]
    # d.b was answered yes earlier, then d.a changed to no: the stored d.b is ignored.
    result = score(dims, {"d.a": False, "d.b": True})
    assert result["dimensions"]["d"]["score"] == 0.0
    assert result["completeness"] == 100.0


def test_visible_conditional_question_counts() -> None:
    dims = [dimension("d", yesno("d.a"), yesno("d.b", show_if="d.a == yes"))]
    assert score(dims, {"d.a": True})["dimensions"]["d"]["score"] == 50.0


def test_condition_on_a_hidden_question_is_false_and_its_not_true() -> None:
    dims = [
        dimension(
            "d",
            yesno("d.a"),
            yesno("d.b", show_if="d.a == yes"),
            yesno("d.c", show_if="d.b == yes"),
            yesno("d.d", show_if="not d.b == yes"),
        )
    ]
    q = questionnaire(*dims)
    from assess.scoring.engine import visibility

    seen = visibility(q, answers(q, {"d.a": False, "d.b": True}))
    assert seen == {"d.a": True, "d.b": False, "d.c": False, "d.d": True}
    score(q, {"d.a": False, "d.b": True})


@pytest.mark.parametrize(
    ("question", "value"),
    [
        pytest.param(yesno("d.w0", weight=0), True, id="weight-0"),
        pytest.param({"code": "d.t", "type": "text", "text": "t"}, "note", id="text"),
        pytest.param(
            {"code": "d.n", "type": "number", "text": "n"}, 5, id="number-without-scoring"
        ),
        pytest.param(
            {"code": "d.n", "type": "number", "text": "n", "weight": 3},
            5,
            id="number-weight-without-scoring",
        ),
    ],
)
def test_unscored_questions_leave_the_calculation(question: dict[str, Any], value: Any) -> None:
    result = score([dimension("d", yesno("d.a"), question)], {"d.a": True, question["code"]: value})
    assert result["dimensions"]["d"]["score"] == 100.0


def test_weights_within_a_dimension() -> None:
    dims = [dimension("d", yesno("d.a", weight=3), yesno("d.b", weight=1))]
    assert score(dims, {"d.a": True, "d.b": False})["dimensions"]["d"]["score"] == 75.0


def test_decimal_weights_are_exact() -> None:
    dims = [dimension("d", yesno("d.a", weight=0.1), yesno("d.b", weight=0.2))]
    # 100 × 0.1 / 0.3 = 33.333… exactly, not a float artefact
    assert score(dims, {"d.a": True, "d.b": False})["dimensions"]["d"]["score"] == 33.33


# -- §3 levels and gates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected_score", "expected_level"),
    [
        pytest.param(
            {"d.a": True, "d.b": True, "d.g": True, "d.x": True}, 100.0, "4", id="gate-met"
        ),
        pytest.param(
            {"d.a": True, "d.b": True, "d.g": False, "d.x": True}, 75.0, "2", id="gate-unmet-caps"
        ),
        pytest.param({"d.a": True, "d.b": True, "d.x": True}, 75.0, "2", id="gate-unanswered-caps"),
        pytest.param(
            {"d.a": True, "d.b": True, "d.g": {"na": True}, "d.x": True},
            100.0,
            "4",
            id="gate-na-does-not-cap",
        ),
        pytest.param(
            {"d.a": True, "d.b": True, "d.x": False, "d.g": False},
            66.67,
            "3",
            id="gate-hidden-does-not-cap",
        ),
        pytest.param(
            {"d.a": False, "d.b": False, "d.g": False, "d.x": True},
            25.0,
            "2",
            id="cap-above-score-level",
        ),
    ],
)
def test_gates(raw: dict[str, Any], expected_score: float, expected_level: str) -> None:
    dims = [
        dimension(
            "d",
            yesno("d.a"),
            yesno("d.b"),
            yesno("d.x"),
            yesno("d.g", gate="3", allow_na=True, show_if="d.x == yes"),
        )
    ]
    result = score(dims, raw)["dimensions"]["d"]
    assert result == {"score": expected_score, "level": expected_level}


def test_gate_on_a_partly_met_level_question_caps() -> None:
    gated = {**LEVEL_Q, "gate": "4"}
    result = score([dimension("d", gated)], {"d.level": 2})
    assert result["dimensions"]["d"] == {"score": 66.67, "level": "3"}
    capped = score_response(questionnaire(dimension("d", gated)), {"d.level": 2}).dimensions["d"]
    assert capped.capped_by == ()  # the score level is 3 already: the gate at 4 does not bite


def test_gate_reports_which_question_capped() -> None:
    q = questionnaire(dimension("d", yesno("d.a"), yesno("d.b"), yesno("d.g", gate="2")))
    result = score_response(q, {"d.a": True, "d.b": True, "d.g": False}).dimensions["d"]
    assert (result.score_level, result.level, result.capped_by) == ("3", "1", ("d.g",))


def test_gate_under_na_full_policy_counts_as_met() -> None:
    dims = [dimension("d", yesno("d.a"), yesno("d.g", gate="4", allow_na=True))]
    result = score(dims, {"d.a": True, "d.g": {"na": True}}, na_policy="full")
    assert result["dimensions"]["d"] == {"score": 100.0, "level": "4"}


@pytest.mark.parametrize(
    ("minimum", "score_value", "level"),
    [
        (Decimal("62.34"), "62.34", "high"),
        (Decimal("62.35"), "62.34", "low"),
        (Decimal("62.345"), "62.35", "high"),
    ],
)
def test_level_boundary_is_inclusive_on_the_rounded_score(
    minimum: Decimal, score_value: str, level: str
) -> None:
    levels = [
        {"code": "low", "min": 0, "name": "low"},
        {"code": "high", "min": float(minimum), "name": "high"},
    ]
    question = {
        "code": "d.n",
        "type": "number",
        "text": "n",
        "scoring": {"linear": {"from": 0, "to": 100}},
    }
    q = questionnaire(dimension("d", question), levels=levels)
    result = score(q, {"d.n": Decimal(score_value)})
    assert result["dimensions"]["d"] == {
        "score": float(Decimal(score_value).quantize(Decimal("0.01"), "ROUND_HALF_UP")),
        "level": level,
    }


# -- §4 overall --------------------------------------------------------------------------------


def test_overall_is_weighted_by_dimension() -> None:
    dims = [dimension("a", yesno("a.1"), weight=3), dimension("b", yesno("b.1"))]
    assert score(dims, {"a.1": True, "b.1": False})["overall"] == {"score": 75.0, "level": "4"}


def test_overall_uses_rounded_dimension_scores() -> None:
    # a = 33.333… → 33.33 and b = 66.666… → 66.67; overall from the rounded values: 50.00.
    # From the unrounded values the weighted mean 2:1 would differ; use weights 1:1 here and
    # 2:1 in the next case.
    dims = [
        dimension("a", yesno("a.1"), yesno("a.2"), yesno("a.3")),
        dimension("b", yesno("b.1"), yesno("b.2"), yesno("b.3"), weight=2),
    ]
    result = score(dims, {"a.1": True, "b.1": True, "b.2": True})
    # (1 × 33.33 + 2 × 66.67) / 3 = 55.5566… → 55.56 (unrounded scores would give 55.555… → 55.56 too)
    assert result["overall"]["score"] == 55.56
    dims = [
        dimension("a", yesno("a.1"), yesno("a.2"), yesno("a.3")),
        dimension("b", yesno("b.1"), yesno("b.2"), yesno("b.3")),
    ]
    # (33.33 + 66.67) / 2 = 50.00 exactly
    assert score(dims, {"a.1": True, "b.1": True, "b.2": True})["overall"]["score"] == 50.0


def test_overall_level_lowest_mode() -> None:
    dims = [dimension("a", yesno("a.1")), dimension("b", yesno("b.1"), yesno("b.2"))]
    raw = {"a.1": True, "b.1": True}
    assert score(dims, raw)["overall"] == {"score": 75.0, "level": "4"}
    assert score(dims, raw, overall_level="lowest")["overall"] == {"score": 75.0, "level": "3"}


def test_overall_level_lowest_uses_gated_levels() -> None:
    dims = [dimension("a", yesno("a.1"), yesno("a.g", gate="2")), dimension("b", yesno("b.1"))]
    result = score(dims, {"a.1": True, "a.g": False, "b.1": True}, overall_level="lowest")
    assert result["dimensions"]["a"]["level"] == "1"
    assert result["overall"]["level"] == "1"


def test_nothing_scored_gives_empty_overall() -> None:
    dims = [
        dimension("d", yesno("d.a", allow_na=True), {"code": "d.t", "type": "text", "text": "t"})
    ]
    result = score(dims, {"d.a": {"na": True}})
    assert result["overall"] == {"score": None, "level": None}
    assert result["dimensions"]["d"] == {"score": None, "level": None}


# -- §5 completeness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param({}, 0.0, id="nothing"),
        pytest.param({"d.a": True}, 33.3, id="one-of-three"),
        pytest.param({"d.a": True, "d.b": {"na": True}}, 66.7, id="na-counts-as-answered"),
        pytest.param({"d.a": True, "d.b": False, "d.c": 1}, 100.0, id="all"),
        pytest.param({"d.a": False, "d.b": False}, 100.0, id="hidden-required-not-counted"),
    ],
)
def test_completeness(raw: dict[str, Any], expected: float) -> None:
    dims = [
        dimension(
            "d",
            yesno("d.a"),
            yesno("d.b", allow_na=True),
            {"code": "d.c", "type": "number", "text": "c", "show_if": "d.a == yes"},
            {"code": "d.t", "type": "text", "text": "t"},
            yesno("d.opt", required=False),
        )
    ]
    assert score(dims, raw)["completeness"] == expected


def test_completeness_rounds_a_tie_up() -> None:
    # 1 of 16 answered = 6.25 % → 6.3 (half away from zero, not to even)
    dims = [dimension("d", *(yesno(f"d.q{i}") for i in range(16)))]
    assert score(dims, {"d.q0": True})["completeness"] == 6.3


def test_missing_and_missing_evidence() -> None:
    q = questionnaire(
        dimension(
            "d",
            yesno("d.a", evidence="required"),
            yesno("d.b", evidence="required", allow_na=True),
            yesno("d.c"),
            yesno("d.d", evidence="required"),
        )
    )
    parsed = answers(q, {"d.a": True, "d.b": {"na": True}, "d.d": False})
    result = score_response(q, parsed, evidence={"d.d"})
    assert result.missing == ("d.c",)
    assert result.missing_evidence == ("d.a",)  # N/A needs no evidence; d.d has some
    assert not result.submittable
    complete = score_response(q, {**parsed, "d.c": True}, evidence={"d.a", "d.d"})
    assert complete.submittable


# -- rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("62.345"), 2, "62.35"),
        (Decimal("62.344999"), 2, "62.34"),
        (Decimal("-62.345"), 2, "-62.35"),
        (Decimal("3.125"), 2, "3.13"),
        (Decimal("2.5"), 0, "3"),
        (Decimal("0.05"), 1, "0.1"),
        (Decimal("6.25"), 1, "6.3"),
    ],
)
def test_round_half_away_from_zero(value: Decimal, places: int, expected: str) -> None:
    assert round_half_away(value, places) == Decimal(expected)
    assert str(round_half_away(value, places)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # linear 0→100: S = the answer; 62.345 is a float hair *below* the tie (62.34499…)
        pytest.param(Decimal("62.345"), 62.35, id="float-below-tie"),
        pytest.param(Decimal("0.005"), 0.01, id="tiny-tie"),
        pytest.param(Decimal("62.3449999999999"), 62.34, id="just-below-tie"),
        pytest.param(Decimal("62.3450000000001"), 62.35, id="just-above-tie"),
    ],
)
def test_exact_ties_round_up_in_both_engines(raw: Decimal, expected: float) -> None:
    question = {
        "code": "d.n",
        "type": "number",
        "text": "n",
        "scoring": {"linear": {"from": 0, "to": 100}},
    }
    assert dim_score(question, raw) == expected


def test_binary_exact_tie_rounds_away_from_zero() -> None:
    # 100 × 1/32 = 3.125 exactly (a binary-exact tie that round() would send to even: 3.12)
    dims = [dimension("d", yesno("d.a", weight=1), yesno("d.b", weight=31))]
    assert score(dims, {"d.a": True, "d.b": False})["dimensions"]["d"]["score"] == 3.13


def test_overall_tie_rounds_up() -> None:
    # dimension scores 10.00 and 10.01 → overall 10.005 → 10.01 (float 10.005 is 10.00499…)
    ten = {
        "code": "a.n",
        "type": "number",
        "text": "n",
        "scoring": {"linear": {"from": 0, "to": 100}},
    }
    dims = [dimension("a", ten), dimension("b", {**ten, "code": "b.n"})]
    result = score(dims, {"a.n": Decimal("10.00"), "b.n": Decimal("10.01")})
    assert result["overall"]["score"] == 10.01


def test_band_threshold_a_hair_away_is_exact() -> None:
    # 59.99999999999999999 is below the band at 60 though its float equals 60.0. (An answer
    # of more than 15 digits is refused as it comes in; the engine is exact all the same.)
    q = questionnaire(dimension("d", BANDS_Q))
    below: dict[str, Any] = {"d.share": Decimal("59.99999999999999999")}
    batch = score_many(q, {"X": below})
    assert batch.as_dict("X")["dimensions"]["d"]["score"] == 33.33
    assert batch.exact_rows == 1


def test_show_if_threshold_a_hair_away_is_exact() -> None:
    number = {"code": "d.n", "type": "number", "text": "n"}
    q = questionnaire(dimension("d", number, yesno("d.b", show_if="d.n >= 1")))
    hair: dict[str, Any] = {"d.n": Decimal("0.99999999999999999999"), "d.b": True}
    assert score_many(q, {"X": hair}).as_dict("X") == score_response(q, hair).as_dict()
    assert score_response(q, hair).dimensions["d"].score is None  # d.b hidden: nothing scored
    # Its float would show d.b, whose answer is missing: the exact engine counts again.
    missing: dict[str, Any] = {"d.n": Decimal("0.99999999999999999999")}
    batch = score_many(q, {"X": missing})
    assert batch.exact_rows == 1
    assert batch.unanswered is not None
    assert batch.unanswered["X"] == 0


def test_score_many_reads_a_long_frame() -> None:
    import pandas as pd

    q = questionnaire(dimension("d", yesno("d.a", allow_na=True), LEVEL_Q))
    frame = pd.DataFrame(
        {
            "response": ["r1", "r1", "r2", "r3"],
            "question": ["d.a", "d.level", "d.level", "d.a"],
            "value": [True, 3, 1, NA],
        }
    )
    batch = score_many(q, frame)
    assert batch.responses == ["r1", "r2", "r3"]
    assert batch.as_dict("r1")["dimensions"]["d"]["score"] == 100.0
    assert batch.as_dict("r2")["dimensions"]["d"]["score"] == 16.67
    assert batch.as_dict("r3")["completeness"] == 50.0


def test_score_many_of_nothing() -> None:
    q = questionnaire(dimension("d", yesno("d.a")))
    batch = score_many(q, {})
    assert len(batch) == 0
    assert batch.records() == []
