"""The built-in questionnaire dg-readiness: valid, complete, and a real next-year revision."""

from __future__ import annotations

import pytest

from assess.questionnaires import QuestionType, load
from assess.questionnaires.builtin import builtin_files, builtin_path
from assess.questionnaires.diff import diff
from assess.questionnaires.model import BandScoring, Evidence, LinearScoring, Questionnaire


@pytest.fixture(scope="module", params=["2568", "2569"])
def version(request: pytest.FixtureRequest) -> Questionnaire:
    path = builtin_path("dg-readiness", request.param)
    assert path is not None
    return load(path)


def test_both_versions_are_shipped() -> None:
    assert [p.name for p in builtin_files()] == ["dg-readiness-2568.yaml", "dg-readiness-2569.yaml"]


def test_size_and_coverage(version: Questionnaire) -> None:
    assert len(version.dimensions) >= 8
    assert len(version.questions) >= 60
    assert {q.type for q in version.iter_questions()} == set(QuestionType)
    assert len(version.levels) == 5


def test_every_text_is_in_thai_and_english(version: Questionnaire) -> None:
    texts = [
        version.title,
        *(d.title for d in version.dimensions),
        *(lvl.name for lvl in version.levels),
    ]
    for question in version.iter_questions():
        texts.append(question.text)
        texts.extend(o.label for o in question.options)
    for text in texts:
        assert text.th, text
        assert text.en, text
        assert text.th != text.en, text


def test_uses_every_feature(version: Questionnaire) -> None:
    questions = list(version.iter_questions())
    assert any(q.gate for q in questions)
    assert any(q.show_if for q in questions)
    assert any(q.allow_na for q in questions)
    assert any(q.evidence is Evidence.REQUIRED for q in questions)
    assert any(q.weight == 0 for q in questions)
    assert any(o.exclusive for q in questions for o in q.options)
    linear = [q.scoring for q in questions if isinstance(q.scoring, LinearScoring)]
    assert any(s.from_ < s.to for s in linear)
    assert any(s.from_ > s.to for s in linear)
    assert any(isinstance(q.scoring, BandScoring) for q in questions)
    levels = [q for q in questions if q.type is QuestionType.LEVEL]
    assert all(o.description for q in levels for o in q.options), (
        "every rubric option has a descriptor"
    )


def test_scored_questions_are_tagged(version: Questionnaire) -> None:
    for question in version.iter_questions():
        if question.is_scored:
            assert any(t.startswith("dg-act:") for t in question.tags), question.code
            assert any(t.startswith("pmqa:") for t in question.tags), question.code


def test_2569_supersedes_2568_with_a_remap() -> None:
    old = load(builtin_path("dg-readiness", "2568"))  # type: ignore[arg-type]
    new = load(builtin_path("dg-readiness", "2569"))  # type: ignore[arg-type]
    assert new.supersedes == old.version
    changes = diff(old, new)
    assert changes.comparability == "re-based"
    assert changes.dimensions_remapped
    assert changes.questions_added
    assert changes.questions_removed
    assert changes.questions_changed
