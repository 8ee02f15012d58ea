"""The national benchmark's widened questionnaire (``national.py --copies``): the issue's
"8,000 × 150 answers" from the built-in questionnaire's 90 questions."""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import pytest

from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.loader import loads
from assess.scoring.engine import score_response
from assess.synthetic import agency_answers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import national  # noqa: E402


@pytest.mark.parametrize("year", ["2568", "2569"])
def test_every_question_twice_with_its_conditions_on_its_own_copy(year):
    path = builtin_path("dg-readiness", year)
    assert path is not None
    original = loads(path.read_text(), str(path))
    wide = loads(national.widened(path.read_bytes(), 2).decode(), str(path))

    assert len(wide.questions) == 2 * len(original.questions)
    assert [d.code for d in wide.dimensions] == [d.code for d in original.dimensions]
    for code, question in original.questions.items():
        twin = wide.questions[f"{code}_2"]
        assert twin.type == question.type
        assert twin.dimension == question.dimension
        assert (twin.scoring, twin.weight, twin.gate) == (
            question.scoring,
            question.weight,
            question.gate,
        )
        # The same condition, on the copies of the questions it names.
        expected = re.sub(r"ref='([^']+)'", r"ref='\1_2'", repr(question.show_if))
        assert repr(twin.show_if) == expected
        assert repr(wide.questions[code].show_if) == repr(question.show_if)
    answers = agency_answers(wide, 0.6, random.Random(1), 1.0)
    assert len(answers) >= 150  # the answers per agency
    assert score_response(wide, answers).overall is not None


def test_one_copy_is_the_questionnaire_itself():
    path = builtin_path("dg-readiness", "2569")
    assert path is not None
    assert national.widened(path.read_bytes(), 1) == path.read_bytes()
