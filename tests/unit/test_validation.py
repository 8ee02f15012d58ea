"""Every validation rule of ``questionnaire-format.md``, each with the exact line reported.

The documents are built from a small valid questionnaire (:data:`HEAD` + a question block)
so that every case states only what it changes. Line numbers in the tables are absolute
lines of the built file: :data:`HEAD` is lines 1–12 and the question block starts at 13.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from assess.questionnaires import QuestionnaireError, QuestionType, loads
from assess.questionnaires.model import Questionnaire

SOURCE = "q.yaml"

#: A valid questionnaire up to the first question (lines 1–12).
HEAD = """\
schema: assess/questionnaire@1
code: demo
version: "2568"
title: {th: แบบทดสอบ, en: Test}
levels:
  - {code: "1", min: 0, name: Initial}
  - {code: "2", min: 50, name: Developing}
  - {code: "3", min: 80, name: Managed}
dimensions:
  - code: dim
    title: Dimension
    questions:
"""
HEAD_LINES = HEAD.count("\n")
assert HEAD_LINES == 12

#: One valid question (lines 13–15).
YESNO = """
- code: q1
  type: yesno
  text: First question
"""


def doc(
    questions: str = YESNO,
    *,
    edits: dict[int, str | None] | None = None,
    tail: str = "",
) -> str:
    """The questionnaire text.

    ``questions`` is the question list of the first dimension, written at column 0 (it is
    indented into place); ``edits`` replaces lines of :data:`HEAD` by number (``None``
    deletes the line, a value with newlines inserts lines); ``tail`` is appended at the
    indentation of a dimension (``- code: …`` at column 0) for further dimensions.
    """
    lines: list[str] = HEAD.splitlines()
    for number, new in sorted((edits or {}).items(), reverse=True):
        if new is None:
            del lines[number - 1]
        else:
            lines[number - 1 : number] = new.split("\n")
    text = "\n".join(lines) + "\n"
    text += textwrap.indent(textwrap.dedent(questions).lstrip("\n"), " " * 6)
    if tail:
        text += textwrap.indent(textwrap.dedent(tail).lstrip("\n"), " " * 2)
    return text


def problems_of(text: str | bytes) -> list[str]:
    """Every problem of a refused text, as ``FILE:LINE: message``."""
    with pytest.raises(QuestionnaireError) as info:
        loads(text, source=SOURCE)
    problems = info.value.problems
    assert problems == sorted(problems)
    assert str(info.value) == "\n".join(str(p) for p in problems)
    return [str(p) for p in problems]


def assert_problems(text: str | bytes, expected: list[tuple[int, str]]) -> None:
    """The text is refused with exactly these problems: (line, part of the message)."""
    found = problems_of(text)
    unmatched = list(found)
    for line, fragment in expected:
        prefix = f"{SOURCE}:{line}: "
        match = next((p for p in unmatched if p.startswith(prefix) and fragment in p), None)
        assert match is not None, f"no problem {prefix}…{fragment}… in:\n" + "\n".join(found)
        unmatched.remove(match)
    assert not unmatched, "unexpected problems:\n" + "\n".join(unmatched)


def load_ok(text: str | bytes) -> Questionnaire:
    """Load a text that must be valid, showing the problems if it is not."""
    try:
        return loads(text, source=SOURCE)
    except QuestionnaireError as exc:  # pragma: no cover - shows why a case failed
        pytest.fail(f"expected a valid questionnaire, got:\n{exc}")


Case = tuple[str, str, list[tuple[int, str]]]


def cases(*items: Case) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in items]
    )


def test_base_document_is_valid() -> None:
    questionnaire = load_ok(doc())
    assert questionnaire.key == "demo@2568"
    assert [q.code for q in questionnaire.iter_questions()] == ["q1"]
    assert questionnaire.question("q1").line == 13


# ---------------------------------------------------------------------------------------
# Top level


# fmt: off
@cases(
    ("schema-missing", doc(edits={1: None}), [(1, "the file: missing required key 'schema'")]),
    ("schema-wrong", doc(edits={1: "schema: assess/questionnaire@2"}), [(1, "schema must be 'assess/questionnaire@1', not 'assess/questionnaire@2'")]),
    ("schema-not-text", doc(edits={1: "schema: 1"}), [(1, "schema must be 'assess/questionnaire@1', not 1")]),
    ("schema-anywhere", doc(edits={1: None, 4: "title: Test\nschema: assess/questionnaire@0"}), [(4, "schema must be 'assess/questionnaire@1'")]),
    ("root-not-a-mapping", "- schema: assess/questionnaire@1\n", [(1, "the file must be a mapping")]),
    ("code-missing", doc(edits={2: None}), [(1, "missing required key 'code'")]),
    ("code-upper-case", doc(edits={2: "code: Demo"}), [(2, "code 'Demo' must be 2–64")]),
    ("code-too-short", doc(edits={2: "code: d"}), [(2, "code 'd' must be 2–64")]),
    ("code-starts-with-digit", doc(edits={2: "code: 1demo"}), [(2, "code '1demo' must be")]),
    ("code-space", doc(edits={2: "code: my demo"}), [(2, "code 'my demo' must be")]),
    ("code-too-long", doc(edits={2: "code: d" + "x" * 64}), [(2, "must be 2–64")]),
    # A final line break is not part of a code ('$' would let it through: one line only).
    ("code-trailing-newline", doc(edits={2: 'code: "demo\\n"'}), [(2, "code 'demo\\n' must be 2–64")]),
    ("code-not-text", doc(edits={2: "code: [demo]"}), [(2, "code must be text, not a list")]),
    ("version-missing", doc(edits={3: None}), [(1, "missing required key 'version'")]),
    ("version-list", doc(edits={3: "version: [2568]"}), [(3, 'version must be text such as "2569", not a list')]),
    ("version-mapping", doc(edits={3: "version: {year: 2568}"}), [(3, "version must be text such as")]),
    ("version-bool", doc(edits={3: "version: true"}), [(3, "not true")]),
    ("version-null", doc(edits={3: "version:"}), [(3, "not nothing")]),
    ("version-empty", doc(edits={3: 'version: ""'}), [(3, "version must be non-empty text")]),
    ("version-spaces", doc(edits={3: 'version: " 2568"'}), [(3, "without surrounding spaces")]),
    ("supersedes-itself", doc(edits={3: 'version: "2568"\nsupersedes: "2568"'}), [(4, "supersedes names this version itself ('2568')")]),
    ("supersedes-itself-unquoted", doc(edits={3: "version: 2568\nsupersedes: 2568"}), [(4, "supersedes names this version itself")]),
    ("supersedes-not-text", doc(edits={3: 'version: "2"\nsupersedes: [1]'}), [(4, "supersedes must be text")]),
    ("title-missing", doc(edits={4: None}), [(1, "missing required key 'title'")]),
    ("title-empty", doc(edits={4: 'title: ""'}), [(4, "title is empty")]),
    ("title-blank", doc(edits={4: 'title: "   "'}), [(4, "title is empty")]),
    ("title-null", doc(edits={4: "title:"}), [(4, "title must be text or a mapping with th and en")]),
    ("title-number", doc(edits={4: "title: 12"}), [(4, "title must be text or a mapping")]),
    ("title-no-language", doc(edits={4: "title: {}"}), [(4, "title needs th or en")]),
    ("title-unknown-language", doc(edits={4: "title: {th: ทดสอบ, fr: Essai}"}), [(4, "title: unknown language 'fr' (localized text takes th and en)")]),
    ("title-unknown-language-block", doc(edits={4: "title:\n  th: ทดสอบ\n  jp: テスト"}), [(6, "title: unknown language 'jp'")]),
    ("title-only-unknown-language", doc(edits={4: "title: {de: Test}"}), [(4, "title: unknown language 'de'")]),
    ("title-empty-en", doc(edits={4: 'title: {th: ทดสอบ, en: ""}'}), [(4, "title: en must be non-empty text")]),
    ("title-en-not-text", doc(edits={4: "title:\n  th: ทดสอบ\n  en: [Test]"}), [(6, "title: en must be non-empty text")]),
    ("description-empty", doc(edits={4: "title: Test\ndescription: ''"}), [(5, "description is empty")]),
    ("overall-level-bad", doc(edits={4: "title: Test\noverall_level: average"}), [(5, "overall_level must be one of score, lowest, not 'average'")]),
    ("overall-level-typo", doc(edits={4: "title: Test\noverall_level: lowset"}), [(5, "overall_level must be one of score, lowest, not 'lowset' (did you mean 'lowest'?)")]),
    ("na-policy-bad", doc(edits={4: "title: Test\nna_policy: ful"}), [(5, "na_policy must be one of exclude, full, not 'ful' (did you mean 'full'?)")]),
    ("na-policy-bool", doc(edits={4: "title: Test\nna_policy: true"}), [(5, "na_policy must be one of exclude, full, not true")]),
    ("unknown-top-key", doc(edits={4: "title: Test\ntitel: Test"}), [(5, "the file: unknown key 'titel' (did you mean 'title'?)")]),
    ("unknown-top-key-no-suggestion", doc(edits={4: "title: Test\nowner: DGA"}), [(5, "the file: unknown key 'owner'")]),
    ("levels-missing", doc(edits={5: None, 6: None, 7: None, 8: None}), [(1, "missing required key 'levels'")]),
    ("dimensions-missing", doc("", edits={9: None, 10: None, 11: None, 12: None}), [(1, "missing required key 'dimensions'")]),
)
# fmt: on
def test_top_level(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_missing_keys_are_all_reported() -> None:
    text = "schema: assess/questionnaire@1\n"
    assert_problems(
        text,
        [
            (1, "missing required key 'code'"),
            (1, "missing required key 'version'"),
            (1, "missing required key 'title'"),
            (1, "missing required key 'levels'"),
            (1, "missing required key 'dimensions'"),
        ],
    )


# fmt: off
@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("2568", "2568"),
        ('"2568"', "2568"),
        ("2569.10", "2569.10"),
        ("2569.1", "2569.1"),
        ('"2569.10"', "2569.10"),
        ("v2", "v2"),
        ("2569-r1", "2569-r1"),
    ],
)
# fmt: on
def test_version_is_kept_as_written(written: str, kept: str) -> None:
    questionnaire = load_ok(doc(edits={3: f"version: {written}"}))
    assert questionnaire.version == kept
    assert questionnaire.key == f"demo@{kept}"


def test_supersedes_is_kept_as_written() -> None:
    questionnaire = load_ok(doc(edits={3: "version: 2569.10\nsupersedes: 2569.1"}))
    assert (questionnaire.version, questionnaire.supersedes) == ("2569.10", "2569.1")


def test_localized_text_forms() -> None:
    one = load_ok(doc(edits={4: "title: ทดสอบ"}))
    assert (one.title.th, one.title.en) == ("ทดสอบ", "ทดสอบ")
    th_only = load_ok(doc(edits={4: "title: {th: ทดสอบ}"}))
    assert th_only.title.get("en") == "ทดสอบ"
    en_only = load_ok(doc(edits={4: "title: {en: Test}"}))
    assert en_only.title.get("th") == "Test"


def test_top_level_defaults_and_choices() -> None:
    default = load_ok(doc())
    assert (default.overall_level.value, default.na_policy.value) == ("score", "exclude")
    chosen = load_ok(doc(edits={4: "title: Test\noverall_level: lowest\nna_policy: full"}))
    assert (chosen.overall_level.value, chosen.na_policy.value) == ("lowest", "full")


# ---------------------------------------------------------------------------------------
# Levels (lines 5–8 of HEAD)


def level(code: str, minimum: str, name: str = "Name", extra: str = "") -> str:
    return f"  - {{code: {code}, min: {minimum}, name: {name}{extra}}}"


# fmt: off
@cases(
    ("levels-not-a-list", doc(edits={5: "levels: 3", 6: None, 7: None, 8: None}), [(5, "levels must be a list, lowest level first")]),
    ("levels-mapping", doc(edits={5: "levels: {a: 1}", 6: None, 7: None, 8: None}), [(5, "levels must be a list")]),
    ("levels-empty", doc(edits={5: "levels: []", 6: None, 7: None, 8: None}), [(5, "levels: at least two levels are needed")]),
    ("levels-one", doc(edits={7: None, 8: None}), [(5, "levels: at least two levels are needed")]),
    ("levels-one-flow", doc(edits={5: 'levels: [{code: "1", min: 0, name: Only}]', 6: None, 7: None, 8: None}), [(5, "at least two levels")]),
    ("first-min-not-0", doc(edits={6: level('"1"', "10")}), [(6, "level '1': the first level's min must be 0")]),
    ("min-equal", doc(edits={8: level('"3"', "50")}), [(8, "level '3': min 50 must be greater than the previous level's 50")]),
    ("min-decreasing", doc(edits={7: level('"2"', "90")}), [(8, "level '3': min 80 must be greater than the previous level's 90")]),
    ("min-above-100", doc(edits={8: level('"3"', "101")}), [(8, "level '3': min must be between 0 and 100, not 101")]),
    ("min-negative", doc(edits={7: level('"2"', "-5")}), [(7, "level '2': min must be at least 0, not -5")]),
    ("min-quoted", doc(edits={7: level('"2"', '"50"')}), [(7, "level '2': min must be a number, not '50'")]),
    ("min-missing", doc(edits={7: '  - {code: "2", name: Developing}'}), [(7, "level 2: missing required key 'min'")]),
    ("code-missing", doc(edits={7: "  - {min: 50, name: Developing}"}), [(7, "level 2: missing required key 'code'")]),
    ("name-missing", doc(edits={7: '  - {code: "2", min: 50}'}), [(7, "level 2: missing required key 'name'")]),
    ("name-empty", doc(edits={7: level('"2"', "50", '""')}), [(7, "level '2': name is empty")]),
    ("duplicate-code", doc(edits={8: level('"2"', "80")}), [(8, "duplicate level code '2' (first at line 7)")]),
    ("duplicate-code-int-and-text", doc(edits={8: level("2", "80")}), [(8, "duplicate level code '2' (first at line 7)")]),
    ("code-empty", doc(edits={7: level('""', "50")}), [(7, "level code is empty")]),
    ("code-bool", doc(edits={7: level("true", "50")}), [(7, "level 2: code must be text, not true")]),
    ("unknown-key", doc(edits={7: level('"2"', "50", "D", ", nmae: x")}), [(7, "level 2: unknown key 'nmae' (did you mean 'name'?)")]),
    ("unknown-key-block", doc(edits={7: '  - code: "2"\n    min: 50\n    name: D\n    minimum: 50'}), [(10, "level 2: unknown key 'minimum' (did you mean 'min'?)")]),
    ("level-not-a-mapping", doc(edits={7: "  - two"}), [(7, "level 2 must be a mapping")]),
)
# fmt: on
def test_levels(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_level_codes_unquoted_integers_are_text() -> None:
    questionnaire = load_ok(
        doc(edits={6: level("1", "0"), 7: level("2", "50"), 8: level("3", "80.5")})
    )
    assert [lv.code for lv in questionnaire.levels] == ["1", "2", "3"]
    assert questionnaire.levels[2].min == Decimal("80.5")


def test_grade_band_levels() -> None:
    questionnaire = load_ok(
        doc(
            edits={
                6: level("F", "0"),
                7: level("A", "50"),
                8: level("AA", "80", "Top", ", description: Best"),
            }
        )
    )
    assert [lv.code for lv in questionnaire.levels] == ["F", "A", "AA"]
    assert questionnaire.levels[2].description is not None


def test_level_min_100_is_allowed() -> None:
    questionnaire = load_ok(doc(edits={8: level('"3"', "100")}))
    assert questionnaire.levels[-1].min == 100


# ---------------------------------------------------------------------------------------
# Dimensions (lines 9–12 of HEAD)


SECOND_DIMENSION = """
- code: dim2
  title: Second
  questions:
    - code: q2
      type: yesno
      text: Second question
"""


# fmt: off
@cases(
    ("dimensions-empty", doc("", edits={9: "dimensions: []", 10: None, 11: None, 12: None}), [(9, "dimensions must be a list of at least one dimension")]),
    ("dimensions-mapping", doc("", edits={9: "dimensions: {dim: 1}", 10: None, 11: None, 12: None}), [(9, "dimensions must be a list")]),
    ("dimension-not-a-mapping", doc("", edits={10: "  - dim", 11: None, 12: None}), [(10, "dimension 1 must be a mapping")]),
    ("code-upper", doc(edits={10: "  - code: Dim"}), [(10, "dimension code 'Dim' must be 1–32 lower-case letters, digits or '_'")]),
    ("code-dash", doc(edits={10: "  - code: e-pay"}), [(10, "dimension code 'e-pay' must be")]),
    ("code-dot", doc(edits={10: "  - code: e.pay"}), [(10, "dimension code 'e.pay' must be")]),
    ("code-too-long", doc(edits={10: "  - code: d" + "x" * 32}), [(10, "must be 1–32")]),
    ("code-trailing-newline", doc(edits={10: '  - code: "dim\\n"'}), [(10, "dimension code 'dim\\n' must be")]),
    ("code-reserved", doc(edits={10: "  - code: overall"}), [(10, "dimension code 'overall' is reserved")]),
    ("code-missing", doc(edits={10: "  - title: Dimension", 11: None}), [(10, "dimension 1: missing required key 'code'")]),
    ("title-missing", doc(edits={11: None}), [(10, "dimension 1: missing required key 'title'")]),
    ("title-empty", doc(edits={11: "    title: ''"}), [(11, "dimension 'dim': title is empty")]),
    ("questions-missing", doc("", edits={12: None}), [(10, "dimension 1: missing required key 'questions'")]),
    ("questions-empty", doc("", edits={12: "    questions: []"}), [(12, "dimension 'dim': questions must be a list of at least one question")]),
    ("questions-null", doc("", edits={12: "    questions:"}), [(12, "dimension 'dim': questions must be a list")]),
    ("question-not-a-mapping", doc("- q1\n"), [(13, "dimension 'dim': a question must be a mapping")]),
    ("duplicate-code", doc(tail=SECOND_DIMENSION.replace("dim2", "dim")), [(16, "duplicate dimension code 'dim' (first at line 10)")]),
    ("weight-zero", doc(edits={11: "    title: D\n    weight: 0"}), [(12, "dimension 'dim': weight must be greater than 0, not 0")]),
    ("weight-negative", doc(edits={11: "    title: D\n    weight: -1"}), [(12, "weight must be greater than 0, not -1")]),
    ("weight-text", doc(edits={11: "    title: D\n    weight: heavy"}), [(12, "dimension 'dim': weight must be a number, not 'heavy'")]),
    ("weight-quoted", doc(edits={11: '    title: D\n    weight: "2"'}), [(12, "weight must be a number, not '2'")]),
    ("weight-bool", doc(edits={11: "    title: D\n    weight: true"}), [(12, "weight must be a number, not true")]),
    ("weight-infinite", doc(edits={11: "    title: D\n    weight: .inf"}), [(12, "weight must be a finite number")]),
    ("maps-from-not-a-list", doc(edits={11: "    title: D\n    maps_from: dim"}), [(12, "dimension 'dim': maps_from must be a list of dimension codes")]),
    ("maps-from-bad-code", doc(edits={11: "    title: D\n    maps_from: [dim, Old-Dim]"}), [(12, "dimension 'dim': maps_from: 'Old-Dim' is not a dimension code")]),
    ("maps-from-bad-code-block", doc(edits={11: "    title: D\n    maps_from:\n      - old\n      - 9old"}), [(14, "maps_from: '9old' is not a dimension code")]),
    ("maps-from-duplicate", doc(edits={11: "    title: D\n    maps_from:\n      - old\n      - old"}), [(14, "dimension 'dim': maps_from lists 'old' twice")]),
    ("maps-from-not-text", doc(edits={11: "    title: D\n    maps_from: [[old]]"}), [(12, "maps_from must be text, not a list")]),
    ("unknown-key-typo", doc(edits={11: "    title: D\n    wieght: 2"}), [(12, "dimension 1: unknown key 'wieght' (did you mean 'weight'?)")]),
    ("unknown-key", doc(edits={11: "    title: D\n    owner: DGA"}), [(12, "dimension 1: unknown key 'owner'")]),
)
# fmt: on
def test_dimensions(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_dimension_defaults_and_values() -> None:
    questionnaire = load_ok(
        doc(
            edits={11: "    title: D\n    weight: 0.5\n    maps_from: [old, older]"},
            tail=SECOND_DIMENSION,
        )
    )
    first, second = questionnaire.dimensions
    assert first.weight == Decimal("0.5")
    assert first.maps_from == ("old", "older")
    assert second.weight == 1
    assert second.maps_from is None
    assert [q.dimension for q in questionnaire.iter_questions()] == ["dim", "dim2"]


def test_maps_from_may_be_empty() -> None:
    """``maps_from: []`` says "a new dimension, continues nothing" (no trend)."""
    questionnaire = load_ok(doc(edits={11: "    title: D\n    maps_from: []"}))
    assert questionnaire.dimensions[0].maps_from == ()


# ---------------------------------------------------------------------------------------
# Common question keys (the question block starts at line 13)


# fmt: off
@cases(
    ("code-missing", doc("- type: yesno\n  text: Q\n"), [(13, "question: missing required key 'code'")]),
    ("code-upper", doc("- code: Q1\n  type: yesno\n  text: Q\n"), [(13, "question code 'Q1' must be 1–64 lower-case letters, digits, '_' or '.'")]),
    ("code-digit-first", doc("- code: 1q\n  type: yesno\n  text: Q\n"), [(13, "question code '1q' must be")]),
    ("code-dash", doc("- code: q-1\n  type: yesno\n  text: Q\n"), [(13, "question code 'q-1' must be")]),
    ("code-too-long", doc(f"- code: q{'x' * 64}\n  type: yesno\n  text: Q\n"), [(13, "must be 1–64")]),
    ("code-not-text", doc("- code: [q1]\n  type: yesno\n  text: Q\n"), [(13, "question code must be text, not a list")]),
    ("duplicate-code-same-dimension", doc(YESNO + "- code: q1\n  type: yesno\n  text: Again\n"), [(16, "duplicate question code 'q1' (first at line 13)")]),
    ("duplicate-code-across-dimensions", doc(tail=SECOND_DIMENSION.replace("q2", "q1")), [(19, "duplicate question code 'q1' (first at line 13)")]),
    ("type-missing", doc("- code: q1\n  text: Q\n"), [(13, "question 'q1': missing required key 'type'")]),
    ("type-typo", doc("- code: q1\n  type: yesnoo\n  text: Q\n"), [(14, "question 'q1': type must be one of level, choice, multi, yesno, number, text, not 'yesnoo' (did you mean 'yesno'?)")]),
    ("type-unknown", doc("- code: q1\n  type: rating\n  text: Q\n"), [(14, "type must be one of level, choice, multi, yesno, number, text, not 'rating'")]),
    ("type-capitalised", doc("- code: q1\n  type: YesNo\n  text: Q\n"), [(14, "not 'YesNo'")]),
    ("code-trailing-newline", doc('- code: "q1\\n"\n  type: yesno\n  text: Q\n'), [(13, "question code 'q1\\n' must be 1–64")]),
    ("text-missing", doc("- code: q1\n  type: yesno\n"), [(13, "question 'q1': missing required key 'text'")]),
    ("text-empty", doc("- code: q1\n  type: yesno\n  text: ''\n"), [(15, "question 'q1': text is empty")]),
    ("text-bad-language", doc("- code: q1\n  type: yesno\n  text: {th: ก, eng: Q}\n"), [(15, "question 'q1': text: unknown language 'eng'")]),
    ("help-empty", doc(YESNO + "  help: ' '\n"), [(16, "question 'q1': help is empty")]),
    ("unknown-key-typo", doc(YESNO + "  wieght: 2\n"), [(16, "question 'q1': unknown key 'wieght' (did you mean 'weight'?)")]),
    ("unknown-key-typo-2", doc(YESNO + "  show-if: q0 == yes\n"), [(16, "unknown key 'show-if' (did you mean 'show_if'?)")]),
    ("unknown-key", doc(YESNO + "  colour: red\n"), [(16, "question 'q1': unknown key 'colour'")]),
    ("options-on-yesno", doc(YESNO + "  options: [{value: a, label: A, points: 1}, {value: b, label: B, points: 0}]\n"), [(16, "question 'q1': 'options' does not apply to a yesno question")]),
    ("max-points-on-choice", doc("- code: q1\n  type: choice\n  text: Q\n  max_points: 1\n  options: [{value: a, label: A, points: 1}, {value: b, label: B, points: 0}]\n"), [(16, "'max_points' does not apply to a choice question")]),
    ("min-on-level", doc("- code: q1\n  type: level\n  text: Q\n  min: 0\n  options: [{value: 0, label: A, points: 0}, {value: 1, label: B, points: 1}]\n"), [(16, "'min' does not apply to a level question")]),
    ("scoring-on-text", doc("- code: q1\n  type: text\n  text: Q\n  scoring: {linear: {from: 0, to: 1}}\n"), [(16, "'scoring' does not apply to a text question")]),
    ("max-length-on-number", doc("- code: q1\n  type: number\n  text: Q\n  max_length: 10\n"), [(16, "'max_length' does not apply to a number question")]),
    ("unit-on-yesno", doc(YESNO + "  unit: '%'\n"), [(16, "'unit' does not apply to a yesno question")]),
    ("weight-negative", doc(YESNO + "  weight: -1\n"), [(16, "question 'q1': weight must be at least 0, not -1")]),
    ("weight-negative-decimal", doc(YESNO + "  weight: -0.5\n"), [(16, "weight must be at least 0, not -0.5")]),
    ("weight-text", doc(YESNO + "  weight: high\n"), [(16, "question 'q1': weight must be a number, not 'high'")]),
    ("weight-nan", doc(YESNO + "  weight: .nan\n"), [(16, "weight must be a finite number")]),
    ("required-not-bool", doc(YESNO + "  required: maybe\n"), [(16, "question 'q1': required must be true or false, not 'maybe'")]),
    ("required-number", doc(YESNO + "  required: 1\n"), [(16, "required must be true or false, not 1")]),
    ("required-on", doc(YESNO + "  required: on\n"), [(16, "required must be true or false, not 'on'")]),
    ("allow-na-not-bool", doc(YESNO + "  allow_na: sometimes\n"), [(16, "question 'q1': allow_na must be true or false, not 'sometimes'")]),
    ("allow-na-null", doc(YESNO + "  allow_na:\n"), [(16, "allow_na must be true or false, not nothing")]),
    ("evidence-bad", doc(YESNO + "  evidence: mandatory\n"), [(16, "question 'q1': evidence must be one of none, optional, required, not 'mandatory'")]),
    ("evidence-typo", doc(YESNO + "  evidence: requried\n"), [(16, "not 'requried' (did you mean 'required'?)")]),
    ("evidence-bool", doc(YESNO + "  evidence: true\n"), [(16, "evidence must be one of none, optional, required, not true")]),
    ("tags-not-a-list", doc(YESNO + "  tags: dg-act:no-copy\n"), [(16, "question 'q1': tags must be a list of text")]),
    ("tags-duplicate", doc(YESNO + "  tags: [pmqa:4, dg-act:no-copy, pmqa:4]\n"), [(16, "question 'q1': tag 'pmqa:4' is listed twice")]),
    ("tags-duplicate-block", doc(YESNO + "  tags:\n    - a\n    - b\n    - a\n"), [(19, "tag 'a' is listed twice")]),
    ("tags-not-text", doc(YESNO + "  tags:\n    - a\n    - 4\n"), [(18, "question 'q1': a tag must be non-empty text, not 4")]),
    ("tags-empty-text", doc(YESNO + "  tags: ['']\n"), [(16, "a tag must be non-empty text")]),
    ("gate-unknown-level", doc(YESNO + "  gate: '9'\n"), [(16, "question 'q1': gate '9' is not a level (levels: 1, 2, 3)")]),
    ("gate-unknown-level-unquoted", doc(YESNO + "  gate: 4\n"), [(16, "gate '4' is not a level")]),
    ("gate-lowest-level", doc(YESNO + "  gate: '1'\n"), [(16, "question 'q1': gate '1' is the lowest level, which every dimension reaches")]),
    ("gate-not-text", doc(YESNO + "  gate: [2]\n"), [(16, "question 'q1': gate must be text, not a list")]),
    ("gate-on-text", doc("- code: q1\n  type: text\n  text: Q\n  gate: '2'\n"), [(16, "question 'q1': a gate on an unscored question (weight 0, text, or number without scoring) can never cap the level")]),
    ("gate-on-weight-0", doc(YESNO + "  weight: 0\n  gate: '2'\n"), [(17, "a gate on an unscored question")]),
    ("gate-on-unscored-number", doc("- code: q1\n  type: number\n  text: Q\n  weight: 3\n  gate: '2'\n"), [(17, "a gate on an unscored question")]),
)
# fmt: on
def test_common_question_keys(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_question_defaults() -> None:
    questionnaire = load_ok(
        doc(
            YESNO
            + "- code: q2\n  type: text\n  text: Note\n- code: q3\n  type: number\n  text: N\n"
        )
    )
    yesno, text, number = questionnaire.iter_questions()
    assert (yesno.weight, yesno.required, yesno.allow_na, yesno.evidence.value) == (
        1,
        True,
        False,
        "none",
    )
    assert (yesno.gate, yesno.tags, yesno.show_if, yesno.help) == (None, (), None, None)
    assert text.required is False
    assert text.max_length == 5000
    assert not text.is_scored
    assert number.scoring is None
    assert not number.is_scored
    assert (number.min, number.max, number.integer) == (None, None, False)


@pytest.mark.parametrize(
    ("written", "value"),
    [("true", True), ("false", False), ("yes", True), ("no", False), ("True", True)],
)
def test_flags_accept_yes_and_no(written: str, value: bool) -> None:
    questionnaire = load_ok(doc(YESNO + f"  required: {written}\n  allow_na: {written}\n"))
    question = questionnaire.question("q1")
    assert (question.required, question.allow_na) == (value, value)


def test_common_keys_are_kept() -> None:
    questionnaire = load_ok(
        doc(
            YESNO
            + "  help: {th: คำอธิบาย, en: Guidance}\n  weight: 0.25\n  evidence: required\n"
            + "  gate: 3\n  tags: [dg-act:no-copy, pmqa:4]\n"
        )
    )
    question = questionnaire.question("q1")
    assert question.help is not None
    assert question.help.get("en") == "Guidance"
    assert question.weight == Decimal("0.25")
    assert question.evidence.value == "required"
    assert question.gate == "3"
    assert question.tags == ("dg-act:no-copy", "pmqa:4")


def test_weight_zero_is_allowed() -> None:
    question = load_ok(doc(YESNO + "  weight: 0\n")).question("q1")
    assert question.weight == 0
    assert not question.is_scored


# ---------------------------------------------------------------------------------------
# level / choice / multi options


def options_question(qtype: str, *options: str, extra: str = "") -> str:
    """A question q1 of ``qtype``; its ``options:`` key is line 16, options from line 17."""
    lines = [
        "- code: q1",
        f"  type: {qtype}",
        "  text: Pick one",
        "  options:",
        *(f"    - {o}" for o in options),
    ]
    return "\n".join(lines) + "\n" + extra


A = "{value: a, label: A, points: 0}"
B = "{value: b, label: B, points: 1}"


# fmt: off
@cases(
    ("options-missing-choice", doc("- code: q1\n  type: choice\n  text: Q\n"), [(13, "question 'q1': a choice question needs options")]),
    ("options-missing-level", doc("- code: q1\n  type: level\n  text: Q\n"), [(13, "a level question needs options")]),
    ("options-missing-multi", doc("- code: q1\n  type: multi\n  text: Q\n"), [(13, "a multi question needs options")]),
    ("options-null", doc(options_question("choice")), [(16, "question 'q1': options must be a list of at least 2")]),
    ("options-one-choice", doc(options_question("choice", B)), [(16, "question 'q1': options must be a list of at least 2")]),
    ("options-one-level", doc(options_question("level", B)), [(16, "options must be a list of at least 2")]),
    ("options-empty-multi", doc("- code: q1\n  type: multi\n  text: Q\n  options: []\n"), [(16, "options must be a list of at least 1")]),
    ("options-mapping", doc("- code: q1\n  type: choice\n  text: Q\n  options: {a: A, b: B}\n"), [(16, "options must be a list of at least 2")]),
    ("option-not-a-mapping", doc(options_question("choice", A, "b")), [(18, "question 'q1': option 2 must be a mapping")]),
    ("duplicate-value", doc(options_question("choice", A, B, "{value: a, label: C, points: 2}")), [(19, "question 'q1': duplicate option value 'a' (first at line 17)")]),
    ("duplicate-value-int-and-text", doc(options_question("choice", "{value: 1, label: One, points: 0}", '{value: "1", label: Also one, points: 1}')), [(18, "duplicate option value '1' (first at line 17)")]),
    ("duplicate-value-text-and-int", doc(options_question("level", '{value: "2", label: Two, points: 0}', "{value: 2, label: Also two, points: 1}")), [(18, "duplicate option value 2 (first at line 17)")]),
    ("value-hash", doc(options_question("choice", A, '{value: "#NA", label: N/A, points: 1}')), [(18, "question 'q1': option 2: value '#NA' must not start with '#' (reserved for #NA)")]),
    ("value-hash-other", doc(options_question("choice", A, "{value: '#1', label: One, points: 1}")), [(18, "value '#1' must not start with '#'")]),
    ("value-pipe", doc(options_question("multi", A, "{value: 'a|b', label: AB, points: 1}")), [(18, "question 'q1': option 2: value 'a|b' must not contain '|'")]),
    ("value-true", doc(options_question("choice", A, "{value: true, label: Yes, points: 1}")), [(18, "question 'q1': option 2: value must be text or a whole number, not true")]),
    ("value-false", doc(options_question("choice", "{value: false, label: No, points: 0}", B)), [(17, "option 1: value must be text or a whole number, not false")]),
    ("value-decimal", doc(options_question("choice", A, "{value: 1.5, label: X, points: 1}")), [(18, "value must be text or a whole number, not 1.5")]),
    ("value-null", doc(options_question("choice", A, "{value: , label: X, points: 1}")), [(18, "value must be text or a whole number, not nothing")]),
    ("value-list", doc(options_question("choice", A, "{value: [b], label: X, points: 1}")), [(18, "value must be text or a whole number, not a list")]),
    ("value-empty", doc(options_question("choice", A, "{value: '', label: X, points: 1}")), [(18, "option 2: value is empty")]),
    ("value-spaces", doc(options_question("choice", A, "{value: ' b', label: X, points: 1}")), [(18, "value ' b' has spaces around it")]),
    ("value-missing", doc(options_question("choice", A, "{label: X, points: 1}")), [(18, "question 'q1': option 2: missing required key 'value'")]),
    ("label-missing", doc(options_question("choice", A, "{value: b, points: 1}")), [(18, "question 'q1': option 2: missing required key 'label'")]),
    ("label-empty", doc(options_question("choice", A, "{value: b, label: '', points: 1}")), [(18, "question 'q1': option 'b': label is empty")]),
    ("points-missing", doc(options_question("choice", A, "{value: b, label: B}")), [(18, "question 'q1': option 2: missing required key 'points'")]),
    ("points-negative", doc(options_question("choice", A, "{value: b, label: B, points: -1}")), [(18, "question 'q1': option 'b': points must be at least 0, not -1")]),
    ("points-text", doc(options_question("choice", A, "{value: b, label: B, points: one}")), [(18, "option 'b': points must be a number, not 'one'")]),
    ("option-unknown-key", doc(options_question("choice", A, "{value: b, lable: B, points: 1}")), [(18, "option 2: unknown key 'lable' (did you mean 'label'?)"), (18, "option 2: missing required key 'label'")]),
    ("option-unknown-key-block", doc(options_question("choice", A, "value: b\n      label: B\n      points: 1\n      pionts: 2")), [(21, "question 'q1': option 2: unknown key 'pionts' (did you mean 'points'?)")]),
    ("exclusive-on-choice", doc(options_question("choice", A, "{value: b, label: B, points: 1, exclusive: true}")), [(18, "question 'q1': option 2: unknown key 'exclusive'")]),
    ("exclusive-on-level", doc(options_question("level", "{value: 0, label: Z, points: 0, exclusive: true}", "{value: 1, label: O, points: 1}")), [(17, "option 1: unknown key 'exclusive'")]),
    ("rubric-equal-points", doc(options_question("level", "{value: 0, label: Z, points: 1}", "{value: 1, label: O, points: 1}")), [(18, "question 'q1': a level rubric lists options lowest first with strictly increasing points; 1 has 1 after 1")]),
    ("rubric-decreasing", doc(options_question("level", "{value: 0, label: Z, points: 0}", "{value: 1, label: O, points: 2}", "{value: 2, label: T, points: 1}")), [(19, "strictly increasing points; 2 has 1 after 2")]),
    ("rubric-text-values", doc(options_question("level", "{value: high, label: H, points: 2}", "{value: low, label: L, points: 1}")), [(18, "'low' has 1 after 2")]),
    ("largest-points-zero", doc(options_question("choice", A, "{value: b, label: B, points: 0}")), [(16, "question 'q1': the largest option points must be greater than 0 (or weight: 0)")]),
    ("largest-points-zero-level", doc(options_question("level", "{value: 0, label: Z, points: 0}", "{value: 1, label: O, points: 0}")), [(18, "strictly increasing"), (16, "the largest option points must be greater than 0")]),
)
# fmt: on
def test_option_questions(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


# fmt: off
@cases(
    ("max-points-zero", doc(options_question("multi", A, B, extra="  max_points: 0\n")), [(19, "question 'q1': max_points must be greater than 0")]),
    ("max-points-negative", doc(options_question("multi", A, B, extra="  max_points: -1\n")), [(19, "max_points must be at least 0, not -1")]),
    ("max-points-text", doc(options_question("multi", A, B, extra="  max_points: all\n")), [(19, "max_points must be a number, not 'all'")]),
    ("max-points-above-sum", doc(options_question("multi", A, B, "{value: c, label: C, points: 2}", extra="  max_points: 4\n")), [(20, "question 'q1': max_points 4 is more than all options give together (3): no answer could score fully")]),
    ("points-sum-zero", doc(options_question("multi", A, "{value: b, label: B, points: 0}")), [(16, "question 'q1': the options' points add up to 0; give points or weight: 0")]),
    ("all-exclusive", doc(options_question("multi", "{value: a, label: A, points: 1, exclusive: true}", "{value: b, label: B, points: 0, exclusive: yes}")), [(16, "question 'q1': every option is exclusive; use a choice question")]),
    ("exclusive-not-bool", doc(options_question("multi", A, "{value: b, label: B, points: 1, exclusive: 1}")), [(18, "question 'q1': option 'b': exclusive must be true or false, not 1")]),
    ("max-points-on-level", doc(options_question("level", "{value: 0, label: Z, points: 0}", "{value: 1, label: O, points: 1}", extra="  max_points: 1\n")), [(19, "'max_points' does not apply to a level question")]),
)
# fmt: on
def test_multi_questions(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


# fmt: off
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(doc(options_question("choice", A, "{value: b, label: B, points: 0}", extra="  weight: 0\n")), id="choice-all-zero-weight-0"),
        pytest.param(doc(options_question("level", "{value: 0, label: Z, points: 0}", "{value: 1, label: O, points: 0.5}")), id="level-decimal-points"),
        pytest.param(doc(options_question("multi", B)), id="multi-one-option"),
        pytest.param(doc(options_question("multi", A, "{value: b, label: B, points: 0}", extra="  weight: 0\n")), id="multi-all-zero-weight-0"),
        pytest.param(doc(options_question("multi", A, B, extra="  weight: 0\n  max_points: 0\n")), id="multi-max-points-0-weight-0"),
        pytest.param(doc(options_question("multi", A, B, extra="  max_points: 1\n")), id="multi-max-points-equal-sum"),
        pytest.param(doc(options_question("multi", B, "{value: none, label: None, points: 0, exclusive: true}")), id="multi-one-exclusive"),
        pytest.param(doc(options_question("choice", "{value: -1, label: M, points: 0}", "{value: 0, label: Z, points: 1}")), id="negative-integer-values"),
        pytest.param(doc(options_question("choice", A, B, "{value: 'a-b c', label: X, points: 1, description: {en: D}}")), id="value-with-space-inside"),
    ],
)
# fmt: on
def test_option_questions_valid(text: str) -> None:
    load_ok(text)


def test_option_values_keep_their_type() -> None:
    questionnaire = load_ok(
        doc(
            options_question(
                "choice",
                "{value: 1, label: One, points: 1}",
                '{value: "2", label: Two, points: 2}',
                "{value: yes, label: Yes, points: 0}",
                "{value: on, label: On, points: 0}",
                "{value: 0x10, label: Hex, points: 0}",
            )
        )
    )
    values = [o.value for o in questionnaire.question("q1").options]
    assert values == [1, "2", "yes", "on", 16]
    assert [type(v) for v in values] == [int, str, str, str, int]


# ---------------------------------------------------------------------------------------
# number


def number_question(*lines: str) -> str:
    """A number question q1; its own keys start at line 16."""
    return "- code: q1\n  type: number\n  text: Amount\n" + "".join(f"  {x}\n" for x in lines)


# fmt: off
@cases(
    ("min-equals-max", doc(number_question("min: 5", "max: 5")), [(17, "question 'q1': max 5 must be greater than min 5")]),
    ("min-above-max", doc(number_question("min: 10", "max: 1.5")), [(17, "max 1.5 must be greater than min 10")]),
    ("min-text", doc(number_question("min: low")), [(16, "question 'q1': min must be a number, not 'low'")]),
    ("max-bool", doc(number_question("max: false")), [(16, "max must be a number, not false")]),
    ("integer-not-bool", doc(number_question("integer: whole")), [(16, "question 'q1': integer must be true or false, not 'whole'")]),
    ("unit-empty", doc(number_question("unit: ''")), [(16, "question 'q1': unit is empty")]),
    ("scoring-both", doc(number_question("scoring:", "  bands: [{min: 0, points: 1}]", "  linear: {from: 0, to: 1}")), [(16, "question 'q1': scoring takes exactly one of bands or linear")]),
    ("scoring-neither", doc(number_question("scoring: {}")), [(16, "scoring takes exactly one of bands or linear")]),
    ("scoring-not-a-mapping", doc(number_question("scoring: linear")), [(16, "question 'q1': scoring must be a mapping")]),
    ("scoring-unknown-key", doc(number_question("scoring:", "  band:", "    - {min: 0, points: 1}")), [(17, "question 'q1': scoring: unknown key 'band' (did you mean 'bands'?)"), (16, "scoring takes exactly one of bands or linear")]),
    ("bands-empty", doc(number_question("scoring: {bands: []}")), [(16, "question 'q1': bands must be a list of at least one {min, points}")]),
    ("bands-mapping", doc(number_question("scoring:", "  bands: {min: 0, points: 1}")), [(17, "bands must be a list")]),
    ("bands-not-increasing", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: 0}", "    - {min: 50, points: 1}", "    - {min: 50, points: 2}")), [(20, "question 'q1': band 3: min 50 must be greater than the previous band's 50")]),
    ("bands-decreasing", doc(number_question("scoring:", "  bands:", "    - {min: 50, points: 1}", "    - {min: 10, points: 2}")), [(19, "band 2: min 10 must be greater than the previous band's 50")]),
    ("first-band-above-min", doc(number_question("min: 0", "max: 100", "scoring:", "  bands:", "    - {min: 10, points: 0}", "    - {min: 50, points: 1}")), [(20, "question 'q1': band 1: the first band's min 10 is above the question's min 0, so some allowed answers fall below every band")]),
    ("largest-band-points-zero", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: 0}", "    - {min: 50, points: 0}")), [(17, "question 'q1': the largest band points must be greater than 0")]),
    ("band-points-negative", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: -1}", "    - {min: 50, points: 1}")), [(18, "question 'q1': band 1: points must be at least 0, not -1")]),
    ("band-unknown-key", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: 0}", "    - {min: 50, pionts: 1}")), [(19, "question 'q1': band 2: unknown key 'pionts' (did you mean 'points'?)"), (19, "band 2: missing required key 'points'")]),
    ("band-min-missing", doc(number_question("scoring:", "  bands:", "    - {points: 1}")), [(18, "band 1: missing required key 'min'")]),
    ("linear-equal", doc(number_question("scoring:", "  linear: {from: 5, to: 5}")), [(17, "question 'q1': linear from and to must differ")]),
    ("linear-equal-block", doc(number_question("scoring:", "  linear:", "    from: 5", "    to: 5.0")), [(17, "linear from and to must differ")]),
    ("linear-unknown-key", doc(number_question("scoring:", "  linear: {from: 0, too: 100}")), [(17, "question 'q1': linear: unknown key 'too' (did you mean 'to'?)"), (17, "linear: missing required key 'to'")]),
    ("linear-unknown-key-block", doc(number_question("scoring:", "  linear:", "    from: 0", "    to: 100", "    step: 5")), [(20, "linear: unknown key 'step'")]),
    ("linear-to-text", doc(number_question("scoring:", "  linear: {from: 0, to: max}")), [(17, "question 'q1': linear to must be a number, not 'max'")]),
    ("linear-not-a-mapping", doc(number_question("scoring:", "  linear: [0, 100]")), [(17, "linear must be a mapping")]),
)
# fmt: on
def test_number_questions(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_number_question_values() -> None:
    questionnaire = load_ok(
        doc(
            number_question(
                "min: 0",
                "max: 100",
                "unit: {th: ร้อยละ, en: '%'}",
                "integer: true",
                "scoring:",
                "  bands:",
                "    - {min: -5, points: 0}",
                "    - {min: 0.5, points: 1.5}",
            )
            + number_question("scoring: {linear: {from: 100, to: 0}}").replace("q1", "q2")
            + number_question("scoring: {bands: [{min: 10, points: 1}]}").replace("q1", "q3")
        )
    )
    banded, linear, no_min = questionnaire.iter_questions()
    assert (banded.min, banded.max, banded.integer) == (0, 100, True)
    assert banded.unit is not None
    assert banded.unit.get("en") == "%"
    assert [(b.min, b.points) for b in banded.scoring.bands] == [
        (-5, 0),
        (Decimal("0.5"), Decimal("1.5")),
    ]
    assert (linear.scoring.from_, linear.scoring.to) == (100, 0)
    assert linear.is_scored
    assert no_min.scoring.bands[0].min == 10  # no question min: the first band may start anywhere


# ---------------------------------------------------------------------------------------
# Bounds of numbers: what scoring can take, refused before any arithmetic on the number

RANGE = "between -999,999,999,999,999 and 999,999,999,999,999"


def dimension_weight(value: str) -> str:
    """The base document with a dimension weight (line 12)."""
    return doc(edits={11: f"    title: D\n    weight: {value}"})


def choice_points(value: str) -> str:
    """A choice question whose option 'b' has these points (line 18)."""
    return doc(options_question("choice", A, f"{{value: b, label: B, points: {value}}}"))


# fmt: off
@cases(
    ("dimension-weight-1e20", dimension_weight("1e20"), [(12, "dimension 'dim': weight must be greater than 0 and at most 1,000,000, not 1e20")]),
    ("dimension-weight-1e400", dimension_weight("1e400"), [(12, "weight must be greater than 0 and at most 1,000,000, not 1e400")]),
    ("dimension-weight-huge-exponent", dimension_weight("1e99999999"), [(12, "at most 1,000,000, not 1e99999999")]),
    ("dimension-weight-beyond-decimal", dimension_weight("1e999999999999999999999"), [(12, "'1e999999999999999999999' is not a number"), (12, "weight must be a number, not nothing")]),
    ("dimension-weight-just-above", dimension_weight("1000000.000001"), [(12, "at most 1,000,000, not 1000000.000001")]),
    ("dimension-weight-big-integer", dimension_weight("1" + "0" * 400), [(12, "at most 1,000,000, not 10000000000000000000…0000000000")]),
    ("dimension-weight-tiny", dimension_weight("1e-99999999"), [(12, "dimension 'dim': weight must have at most 15 significant digits and decimal places, not 1e-99999999")]),
    ("dimension-weight-16-places", dimension_weight("0.0000000000000001"), [(12, "at most 15 significant digits and decimal places, not 0.0000000000000001")]),
    ("dimension-weight-16-digits", dimension_weight("1.234567890123456"), [(12, "at most 15 significant digits and decimal places, not 1.234567890123456")]),
    ("dimension-weight-negative-huge", dimension_weight("-1e99999999"), [(12, "weight must be greater than 0, not -1e99999999")]),
    ("question-weight-1e20", doc(YESNO + "  weight: 1e20\n"), [(16, "question 'q1': weight must be between 0 and 1,000,000, not 1e20")]),
    ("question-weight-17-places", doc(YESNO + "  weight: 0.00000000000000001\n"), [(16, "question 'q1': weight must have at most 15 significant digits and decimal places")]),
    ("points-1e30", choice_points("1e30"), [(18, "question 'q1': option 'b': points must be between 0 and 1,000,000, not 1e30")]),
    ("points-1e18", choice_points("1e18"), [(18, "points must be between 0 and 1,000,000, not 1e18")]),
    ("points-tiny", choice_points("1e-999999999"), [(18, "option 'b': points must have at most 15 significant digits and decimal places, not 1e-999999999")]),
    ("max-points-huge", doc(options_question("multi", A, B, extra="  max_points: 1e99999999\n")), [(19, "question 'q1': max_points must be between 0 and 1,000,000, not 1e99999999")]),
    ("band-points-huge", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: 0}", "    - {min: 50, points: 2e6}")), [(19, "question 'q1': band 2: points must be between 0 and 1,000,000, not 2e6")]),
    ("number-max-1e999999999", doc(number_question("min: 0", "max: 1e999999999")), [(17, f"question 'q1': max must be {RANGE}, not 1e999999999")]),
    ("number-min-negative-huge", doc(number_question("min: -1e15")), [(16, f"question 'q1': min must be {RANGE}, not -1e15")]),
    ("number-max-10-to-15", doc(number_question("max: 1000000000000000")), [(16, f"max must be {RANGE}, not 1000000000000000")]),
    ("number-max-16-digits", doc(number_question("max: 99999999999999.99")), [(16, "question 'q1': max must have at most 15 significant digits and decimal places, not 99999999999999.99")]),
    ("number-min-16-places", doc(number_question("min: 0.0000000000000001")), [(16, "min must have at most 15 significant digits and decimal places")]),
    ("linear-to-1e999999999", doc(number_question("min: 0", "max: 100", "scoring:", "  linear: {from: 0, to: 1e999999999}")), [(19, f"question 'q1': linear to must be {RANGE}, not 1e999999999")]),
    ("linear-from-huge-negative", doc(number_question("scoring:", "  linear: {from: -1e20, to: 0}")), [(17, f"question 'q1': linear from must be {RANGE}, not -1e20")]),
    ("band-min-huge", doc(number_question("scoring:", "  bands:", "    - {min: 0, points: 0}", "    - {min: 1e16, points: 1}")), [(19, f"question 'q1': band 2: min must be {RANGE}, not 1e16")]),
    ("level-min-huge", doc(edits={8: level('"3"', "1e99999999")}), [(8, "level '3': min must be between 0 and 100, not 1e99999999")]),
    ("level-min-17-places", doc(edits={8: level('"3"', "80.00000000000000001")}), [(8, "level '3': min must have at most 15 significant digits and decimal places")]),
    ("max-length-huge", doc("- code: q1\n  type: text\n  text: Q\n  max_length: 1e99999999\n"), [(16, "question 'q1': max_length must be greater than 0 and at most 1,000,000, not 1e99999999")]),
    ("max-length-just-above", doc("- code: q1\n  type: text\n  text: Q\n  max_length: 1000001\n"), [(16, "max_length must be greater than 0 and at most 1,000,000, not 1000001")]),
    ("option-value-huge", doc(options_question("level", "{value: 0, label: Z, points: 0}", "{value: 1000000000000000, label: O, points: 1}")), [(18, "question 'q1': option 2: value 1000000000000000 must be between -999,999,999,999,999 and 999,999,999,999,999 (a longer code is written as text, in quotes)")]),
    ("option-value-huge-negative", doc(options_question("choice", A, "{value: -1000000000000000, label: X, points: 1}")), [(18, "option 2: value -1000000000000000 must be between")]),
    ("option-value-huge-hex", doc(options_question("choice", A, "{value: 0x10000000000000000, label: X, points: 1}")), [(18, "option 2: value 0x10000000000000000 must be between")]),
)
# fmt: on
def test_number_bounds(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_every_number_at_its_bounds_is_valid() -> None:
    text = doc(
        options_question(
            "multi",
            "{value: -999999999999999, label: Lowest, points: 0.000000000000001}",
            "{value: 999999999999999, label: Highest, points: 1000000}",
            "{value: c, label: C, points: 999999.999999999}",
            extra="  weight: 1000000\n  max_points: 1000000\n",
        )
        + number_question(
            "weight: 0.000000000000001",
            "min: -999999999999999",
            "max: 999999999999999",
            "scoring:",
            "  linear: {from: 0.000000000000001, to: -999999999999999}",
        ).replace("code: q1", "code: q2")
        + "- code: q3\n  type: text\n  text: T\n  max_length: 1000000\n",
        edits={8: level('"3"', "99.9999999999999"), 11: "    title: D\n    weight: 1000000"},
    )
    questionnaire = load_ok(text)
    dimension = questionnaire.dimensions[0]
    assert dimension.weight == 1_000_000
    multi, number, free = (questionnaire.question(c) for c in ("q1", "q2", "q3"))
    assert [o.value for o in multi.options[:2]] == [-999999999999999, 999999999999999]
    assert multi.options[0].points == Decimal("1e-15")
    assert (multi.weight, multi.max_points) == (1_000_000, 1_000_000)
    assert (number.min, number.max) == (-(10**15) + 1, 10**15 - 1)
    assert free.max_length == 1_000_000
    assert questionnaire.levels[2].min == Decimal("99.9999999999999")


def test_exponents_and_trailing_zeros_within_the_bounds_are_valid() -> None:
    """Any way of writing a number in range is fine; zeros past 15 decimals are dropped
    (they would only make scoring scale the weights by a larger power of ten)."""
    text = doc(
        YESNO.rstrip("\n") + "\n  weight: 0.50000000000000000000000000000\n"
        + "- code: q2\n  type: yesno\n  text: Q\n  weight: 1e5\n"
        + "- code: q3\n  type: yesno\n  text: Q\n  weight: 0e-99999999\n"
        + "- code: q4\n  type: yesno\n  text: Q\n  weight: 2.5E-3\n",
        edits={11: "    title: D\n    weight: 1.000000000000000000000000000000000000000"},
    )
    questionnaire = load_ok(text)
    weights = [questionnaire.question(c).weight for c in ("q1", "q2", "q3", "q4")]
    assert weights == [Decimal("0.5"), 100_000, 0, Decimal("0.0025")]
    for number in [*weights, questionnaire.dimensions[0].weight]:
        assert int(number.as_tuple().exponent) >= -15, number
    assert questionnaire.dimensions[0].weight == 1


def test_a_huge_number_is_refused_at_once() -> None:
    """The checks read digits and exponents: no Decimal or Fraction arithmetic blows up."""
    import time

    started = time.monotonic()
    texts = [
        dimension_weight("1e999999999"),
        dimension_weight("9" * 4000),
        doc(number_question("max: 1e999999999", "scoring:", "  linear: {from: 0, to: 1e999999999}")),
        doc(number_question("min: -1e999999999", "scoring:", "  bands: [{min: -1e999999999, points: 1e999999999}]")),
        choice_points("0." + "0" * 100_000 + "1"),
    ]
    for text in texts:
        assert problems_of(text)
    assert time.monotonic() - started < 5


def test_the_bounds_keep_scoring_exact_and_quick() -> None:
    """A questionnaire at the bounds scores with both engines, identically and quickly."""
    from assess.scoring.batch import score_many
    from assess.scoring.engine import score_response

    text = doc(
        options_question(
            "choice",
            "{value: a, label: A, points: 0.000000000000001}",
            "{value: b, label: B, points: 1000000}",
            extra="  weight: 999999.999999999\n",
        )
        + number_question(
            "weight: 0.000000000000001",
            "min: -999999999999999",
            "max: 999999999999999",
            "scoring:",
            "  linear: {from: -999999999999999, to: 0.000000000000001}",
        ).replace("code: q1", "code: q2")
        + number_question(
            "weight: 0.123456789012345",
            "scoring:",
            "  bands:",
            "    - {min: -999999999999999, points: 0.000000000000001}",
            "    - {min: 0.000000000000001, points: 999999.999999999}",
        ).replace("code: q1", "code: q3"),
        edits={11: "    title: D\n    weight: 0.000000000000001"},
        tail=SECOND_DIMENSION.replace("title: Second", "weight: 1000000\n  title: Second").replace(
            "code: q2", "code: q4"
        ),
    )
    questionnaire = load_ok(text)
    answers = {
        "low": {"q1": "a", "q2": Decimal("-999999999999999"), "q3": Decimal("-1")},
        "high": {"q1": "b", "q2": Decimal("999999999999999"), "q3": Decimal("1"), "q4": True},
        "mid": {"q1": "b", "q2": Decimal("-0.000000000000001"), "q3": Decimal("0.000000000000001")},
    }
    answers = {k: {c: v for c, v in a.items() if c in questionnaire.questions} for k, a in answers.items()}
    batch = {r["agency"]: r for r in score_many(questionnaire, answers).records()}
    for agency, given in answers.items():
        exact = score_response(questionnaire, given)
        assert batch[agency]["overall"]["score"] == float(exact.overall), agency


# ---------------------------------------------------------------------------------------
# text


# fmt: off
@cases(
    ("max-length-zero", doc("- code: q1\n  type: text\n  text: Note\n  max_length: 0\n"), [(16, "question 'q1': max_length must be greater than 0, not 0")]),
    ("max-length-negative", doc("- code: q1\n  type: text\n  text: Note\n  max_length: -3\n"), [(16, "max_length must be greater than 0, not -3")]),
    ("max-length-fraction", doc("- code: q1\n  type: text\n  text: Note\n  max_length: 10.5\n"), [(16, "question 'q1': max_length must be a whole number")]),
    ("max-length-text", doc("- code: q1\n  type: text\n  text: Note\n  max_length: long\n"), [(16, "max_length must be a number, not 'long'")]),
)
# fmt: on
def test_text_questions(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_text_max_length() -> None:
    questionnaire = load_ok(
        doc("- code: q1\n  type: text\n  text: Note\n  max_length: 200\n  required: true\n")
    )
    question = questionnaire.question("q1")
    assert (question.max_length, question.required) == (200, True)


# ---------------------------------------------------------------------------------------
# show_if

#: Earlier questions of every type, then ``target`` (show_if on line 55), then ``later``.
SHOW_IF_QUESTIONS = """
- code: q1
  type: yesno
  text: Yes/no
- code: q2
  type: choice
  text: Choice with text values
  options:
    - {value: a, label: A, points: 0}
    - {value: b, label: B, points: 1}
- code: q3
  type: level
  text: Level with integer values
  options:
    - {value: 0, label: Zero, points: 0}
    - {value: 1, label: One, points: 1}
- code: q4
  type: multi
  text: Multi
  options:
    - {value: x, label: X, points: 1}
    - {value: y, label: Y, points: 1}
- code: q5
  type: number
  text: Number
- code: q6
  type: text
  text: Text
- code: q7
  type: choice
  text: Choice with yes/no text values
  options:
    - {value: "yes", label: Yes, points: 1}
    - {value: "no", label: No, points: 0}
- code: q8
  type: choice
  text: Choice with digit text values
  options:
    - {value: "1", label: One, points: 0}
    - {value: "2", label: Two, points: 1}
- code: target
  type: yesno
  text: Conditional
  show_if: CONDITION
- code: later
  type: yesno
  text: Later
"""
SHOW_IF_LINE = 55


def yaml_single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def with_condition(condition: str, tail: str = "") -> str:
    return doc(SHOW_IF_QUESTIONS.replace("CONDITION", yaml_single_quoted(condition)), tail=tail)


def test_show_if_line_is_where_the_fixture_says() -> None:
    text = with_condition("q1 == yes")
    assert text.splitlines()[SHOW_IF_LINE - 1].strip().startswith("show_if:")
    assert load_ok(text).question("target").line == SHOW_IF_LINE - 3


# fmt: off
@pytest.mark.parametrize(
    "condition",
    [
        "q1 == yes",
        "q1 != no",
        "q1 in [yes, no]",
        "q2 == 'a'",
        "q2 in ['a', 'b']",
        "q3 >= 1",
        "q3 < 1 or q3 == 0",
        "q3 in [0, 1]",
        "q3 == 1.0",
        "q4 contains 'x'",
        "q5 > -2.5",
        "q5 == 3 or q5 in [1, 2.5]",
        "answered(q1)",
        "answered(q4) and answered(q5) and answered(q6)",
        "not answered(q6)",
        "q7 == yes",
        "q7 in [yes, 'no']",
        "q7 == 'yes'",
        "q8 == '1'",
        "not (q1 == yes or q2 == 'b') and q3 > 0",
    ],
)
# fmt: on
def test_show_if_valid(condition: str) -> None:
    question = load_ok(with_condition(condition)).question("target")
    assert question.show_if is not None
    assert question.show_if_source == condition


# fmt: off
@pytest.mark.parametrize(
    ("condition", "message"),
    [
        # syntax (the column is within the condition)
        ("q1 ==", "show_if: expected a number, a 'quoted string', yes or no at the end"),
        ("q1 = yes", "show_if: unexpected '=' at column 4 (equality is ==)"),
        ("q1 == yes and", "show_if: expected a question code at the end"),
        ("(q1 == yes", "show_if: expected ')' at the end"),
        ("q1 == yes)", "show_if: expected 'and', 'or' or the end at column 10, found ')'"),
        ("q2 in ['a' 'b']", "show_if: expected ',' or ']' at column 12, found \"'b'\""),
        ("q2 == a", "show_if: expected a number, a 'quoted string', yes or no at column 7, found 'a' (a text value takes quotes: 'a')"),
        ("Q1 == yes", "show_if: unexpected 'Q' at column 1 (question codes and keywords are lower case)"),
        ("q1 yes", "show_if: expected an operator (==, !=, <, <=, >, >=, in, contains) after 'q1' at column 4, found 'yes'"),
        ("q2 == 'a", "show_if: unterminated string at column 7"),
        ('q2 == "a"', "show_if: unexpected '\"' at column 7 (strings take single quotes: 'text')"),
        ("", "show_if: the condition is empty"),
        # references
        ("nope == yes", "question 'target': show_if refers to unknown question 'nope'"),
        ("later == yes", "question 'target': show_if refers to 'later', which comes after this question (a condition may only use earlier questions)"),
        ("answered(later)", "which comes after this question"),
        ("target == yes", "question 'target': show_if refers to the question itself"),
        ("q1 == yes and answered(target)", "show_if refers to the question itself"),
        # types
        ("q4 == 'x'", "show_if: 'q4' is a multi question: test it with 'q4 contains …'"),
        ("q4 in ['x']", "'q4' is a multi question"),
        ("q2 contains 'a'", "show_if: 'contains' works only on multi questions, and 'q2' is choice"),
        ("q1 contains yes", "'contains' works only on multi questions, and 'q1' is yesno"),
        ("q6 == 'x'", "show_if: 'q6' is a text question: only answered(q6) can test it"),
        ("q6 contains 'x'", "'q6' is a text question"),
        ("q1 > yes", "show_if: > cannot compare yes/no question 'q1'; use == or !="),
        ("q1 <= no", "<= cannot compare yes/no question 'q1'"),
        ("q2 >= 1", "show_if: >= needs integer option values, and 'q2' has text values; use == or in"),
        ("q8 < 2", "< needs integer option values, and 'q8' has text values"),
        ("q3 > 'a'", "show_if: 'a' cannot be ordered against 'q3'"),
        ("q3 > yes", "yes cannot be ordered against 'q3'"),
        ("q2 == 'c'", "show_if: 'c' is not an option of 'q2' (options: 'a', 'b')"),
        ("q2 in ['a', 'z']", "'z' is not an option of 'q2'"),
        ("q4 contains 'z'", "'z' is not an option of 'q4' (options: 'x', 'y')"),
        ("q3 == '1'", "show_if: '1' is not an option of 'q3' (options: 0, 1); write 1"),
        ("q3 == 2", "2 is not an option of 'q3' (options: 0, 1)"),
        ("q3 == 0.5", "0.5 is not an option of 'q3'"),
        ("q8 == 1", "show_if: 1 is not an option of 'q8' (options: '1', '2'); write '1'"),
        ("q2 == yes", "'yes' is not an option of 'q2'"),
        ("q1 == 'yes'", "show_if: 'q1' is a yes/no question: compare it with yes or no"),
        ("q1 == 1", "'q1' is a yes/no question"),
        ("q5 == 'x'", "show_if: 'q5' is a number question: compare it with a number"),
        ("q5 > yes", "'q5' is a number question"),
        # limits
        ("(" * 33 + "q1 == yes" + ")" * 33, "question 'target': show_if: parentheses and 'not' are nested more than 32 levels deep (at column 33)"),
        ("(" * 260 + "q1 == yes" + ")" * 260, "show_if: parentheses and 'not' are nested more than 32 levels deep (at column 33)"),
        ("not " * 1000 + "q1 == yes", "show_if: parentheses and 'not' are nested more than 32 levels deep (at column 129)"),
        ("q5 > 1e5", "show_if: expected 'and', 'or' or the end at column 7, found 'e5'"),
        ("q5 > 1000000000000000", "show_if: 1000000000000000 at column 6 is too large: a number must be smaller than 10^15"),
        ("q3 == " + "9" * 5000, "show_if: 99999999999999999999…9999999999 at column 7 is too large: a number must be smaller than 10^15"),
        ("q2 == " + "9" * 5000, "at column 7 is too large"),
        ("q5 > 0.1234567890123456", "show_if: 0.1234567890123456 at column 6 has more than 15 significant digits or decimal places"),
    ],
)
# fmt: on
def test_show_if_problems(condition: str, message: str) -> None:
    assert_problems(with_condition(condition), [(SHOW_IF_LINE, message)])


def test_show_if_nested_to_the_limit_is_valid() -> None:
    condition = "(" * 16 + "not " * 16 + "q1 == yes" + ")" * 16
    question = load_ok(with_condition(condition)).question("target")
    assert question.show_if is not None


def test_show_if_error_message_without_a_hint() -> None:
    found = problems_of(with_condition("q3 == 2"))
    assert found == [
        f"{SOURCE}:{SHOW_IF_LINE}: question 'target': show_if: 2 is not an option of 'q3' (options: 0, 1)"
    ]


def test_show_if_not_text() -> None:
    text = doc(YESNO + "- code: q2\n  type: yesno\n  text: Q\n  show_if: true\n")
    assert_problems(text, [(19, "question 'q2': show_if must be a condition written as text")])


def test_show_if_yes_unquoted_is_text_and_does_not_parse() -> None:
    text = doc(YESNO + "- code: q2\n  type: yesno\n  text: Q\n  show_if: yes\n")
    assert_problems(
        text, [(19, "show_if: expected a question code at column 1, found the keyword 'yes'")]
    )


def test_show_if_on_a_question_in_a_later_dimension() -> None:
    """File order runs across dimensions: a condition may use any earlier dimension…"""
    tail = SECOND_DIMENSION.replace(
        "      text: Second question\n", "      text: Second question\n      show_if: q1 == yes\n"
    )
    question = load_ok(doc(tail=tail)).question("q2")
    assert question.show_if is not None


def test_show_if_referring_to_a_later_dimension() -> None:
    """…but never a later one."""
    text = doc(YESNO + "  show_if: q2 == yes\n", tail=SECOND_DIMENSION)
    assert_problems(
        text, [(16, "question 'q1': show_if refers to 'q2', which comes after this question")]
    )


def test_show_if_on_a_broken_question_still_checks_order() -> None:
    """A question with a bad code still reports a show_if on a later question."""
    text = doc(
        "- code: Q1\n  type: yesno\n  text: Q\n  show_if: q2 == yes\n"
        "- code: q2\n  type: yesno\n  text: Q\n"
    )
    assert_problems(
        text,
        [
            (13, "question code 'Q1' must be"),
            (16, "show_if refers to 'q2', which comes after this question"),
        ],
    )


def test_show_if_on_a_broken_reference_is_reported_once() -> None:
    """A condition on a question that has problems of its own adds no second message."""
    text = doc(
        "- code: q1\n  type: yesno\n  text: Q\n  weight: -1\n"
        "- code: q2\n  type: yesno\n  text: Q\n  show_if: q1 == yes\n"
    )
    assert_problems(text, [(16, "weight must be at least 0")])


# ---------------------------------------------------------------------------------------
# YAML and JSON


# fmt: off
@cases(
    # An opened bracket or quote is reported where it opens, not where PyYAML gives up.
    ("syntax-error", doc(YESNO + "  text: [unclosed\n"), [(16, "not valid YAML")]),
    ("unclosed-flow-mapping", doc(YESNO + "  options: {value: b, label: B\n  weight: 1\n"), [(16, "(found on line 17)")]),
    ("unclosed-quote", doc(YESNO + '  help: "open\n  weight: 1\n'), [(16, "a quote is opened and not closed")]),
    # A character YAML refuses: its own line, one line of words.
    ("nul-character", doc(YESNO + "  help: a\x00b\n"), [(16, "unacceptable character #x0000: special characters are not allowed")]),
    ("syntax-error-bad-indent", doc(YESNO.replace("  text:", " text:")), [(15, "not valid YAML")]),
    ("tab-indentation-in-yaml", doc(YESNO.replace("  text:", "\ttext:")), [(15, "not valid YAML")]),
    ("duplicate-top-key", doc(edits={4: "title: Test\ncode: again"}), [(5, "duplicate key 'code' (first at line 2)")]),
    ("duplicate-question-key", doc(YESNO + "  type: choice\n"), [(16, "duplicate key 'type' (first at line 14)")]),
    ("duplicate-flow-key", doc(edits={6: '  - {code: "1", min: 0, min: 5, name: Initial}'}), [(6, "duplicate key 'min' (first at line 6)")]),
    ("several-documents", doc() + "---\nschema: assess/questionnaire@1\n", [(17, "the file holds several YAML documents; one file is one version")]),
    ("empty", "", [(1, "the file is empty")]),
    ("only-comments", "# nothing here\n\n", [(1, "the file is empty")]),
    ("non-text-key", doc(YESNO + "  1: one\n"), [(16, "key '1' must be text")]),
    ("unsupported-tag", doc(YESNO + "  weight: !!binary aGVsbG8=\n"), [(16, "unsupported tag tag:yaml.org,2002:binary"), (16, "weight must be a number")]),
)
# fmt: on
def test_yaml_problems(text: str, expected: list[tuple[int, str]]) -> None:
    assert_problems(text, expected)


def test_several_documents_even_when_the_first_is_valid() -> None:
    text = "---\n" + doc() + "...\n---\n" + doc()
    found = problems_of(text)
    assert len(found) == 1
    assert "several YAML documents" in found[0]


def test_non_utf8_bytes() -> None:
    data = doc().encode("utf-8").replace(b"First question", b"First \xe0\xb8 question")
    assert_problems(data, [(15, "the file is not UTF-8 text (save it as UTF-8)")])


def test_tis620_file_is_refused_with_the_line() -> None:
    """Thai text saved in the legacy TIS-620 encoding is the likely real-world case."""
    data = (
        doc(edits={4: "title: TITLE"}).encode("utf-8").replace(b"TITLE", "แบบทดสอบ".encode("cp874"))
    )
    assert_problems(data, [(4, "not UTF-8")])


def test_utf8_bom_is_accepted() -> None:
    questionnaire = load_ok(b"\xef\xbb\xbf" + doc().encode("utf-8"))
    assert questionnaire.code == "demo"


def test_a_bom_does_not_change_the_content_hash() -> None:
    """The hash is of the text (which keeps no byte order mark): a file saved with one and
    the same file saved, or downloaded back, without one are the same content; a file
    without one keeps the SHA-256 of its bytes."""
    import hashlib

    data = doc().encode("utf-8")
    plain = load_ok(data)
    assert plain.content_hash == hashlib.sha256(data).hexdigest()
    assert load_ok(b"\xef\xbb\xbf" + data).content_hash == plain.content_hash


def test_a_version_or_title_longer_than_the_database_holds_is_refused() -> None:
    """The format sets no limit; the database holds 50 characters of a version and 300 of
    each language of the title: refused here, with the line, not by the database."""
    fits = load_ok(doc(edits={3: f'version: "{"9" * 50}"', 4: f"title: {'ก' * 300}"}))
    assert len(fits.version) == 50
    long_version = "2570." + "1" * 46
    assert_problems(
        doc(edits={3: f'version: "{long_version}"\nsupersedes: "{long_version}x"'}),
        [
            (3, "version is 51 characters long; the database stores at most 50"),
            (4, "supersedes is 52 characters long; the database stores at most 50"),
        ],
    )
    assert_problems(
        doc(edits={4: f"title:\n  th: {'ก' * 301}\n  en: {'x' * 300}"}),
        [(5, "title: th is 301 characters long; the database stores at most 300")],
    )
    assert_problems(
        doc(edits={4: f"title: {'x' * 400}"}),
        [(4, "title is 400 characters long; the database stores at most 300")],
    )


def test_bytes_and_text_give_the_same_content_hash() -> None:
    text = doc()
    assert load_ok(text).content_hash == load_ok(text.encode("utf-8")).content_hash
    assert load_ok(text).content_hash != load_ok(text + "# changed\n").content_hash


# fmt: off
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("Yes", "Yes"),
        ("1:20", "1:20"),
        ("07", 7),
        ("0o17", 15),
        ("-3", -3),
    ],
)
# fmt: on
def test_yaml_12_option_values(written: str, expected: object) -> None:
    text = doc(
        options_question(
            "choice",
            f"{{value: {written}, label: X, points: 1}}",
            "{value: zz, label: Z, points: 0}",
        )
    )
    value = load_ok(text).question("q1").options[0].value
    assert value == expected
    assert type(value) is type(expected)


# fmt: off
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("0.1", Decimal("0.1")),
        ("0.10", Decimal("0.10")),
        ("1e-1", Decimal("0.1")),
        ("2", Decimal(2)),
        ("+0.3", Decimal("0.3")),
        (".5", Decimal("0.5")),
    ],
)
# fmt: on
def test_yaml_12_numbers_are_exact(written: str, expected: Decimal) -> None:
    question = load_ok(doc(YESNO + f"  weight: {written}\n")).question("q1")
    assert question.weight == expected
    assert isinstance(question.weight, Decimal)


def test_decimal_weights_add_up_exactly() -> None:
    questionnaire = load_ok(
        doc(
            YESNO.replace("First question", "A")
            + "  weight: 0.1\n- code: q2\n  type: yesno\n  text: B\n  weight: 0.2\n"
        )
    )
    total = sum(q.weight for q in questionnaire.iter_questions())
    assert total == Decimal("0.3")


def _worked_example_as_data(examples: Path) -> object:
    # PyYAML's own loader is independent of the project's reader; the example quotes every
    # scalar whose meaning differs between YAML 1.1 and 1.2.
    return yaml.safe_load((examples / "worked-example.yaml").read_text(encoding="utf-8"))


def _comparable(questionnaire: Questionnaire) -> Questionnaire:
    """The questionnaire without what depends on the file's layout (lines, hash, name)."""
    dimensions = tuple(
        dataclasses.replace(
            d, line=0, questions=tuple(dataclasses.replace(q, line=0) for q in d.questions)
        )
        for d in questionnaire.dimensions
    )
    return dataclasses.replace(questionnaire, dimensions=dimensions, content_hash="", source="")


def test_worked_example_loads(examples: Path) -> None:
    questionnaire = loads(
        (examples / "worked-example.yaml").read_bytes(), source="worked-example.yaml"
    )
    assert questionnaire.key == "worked-example@1"
    assert [d.code for d in questionnaire.dimensions] == ["pay", "id"]
    assert len(questionnaire.questions) == 7
    assert questionnaire.question("id.ndid").show_if_source == "id.login >= 1"
    assert questionnaire.question("pay.recon").gate == "3"
    assert questionnaire.question("id.login").type is QuestionType.LEVEL
    assert [o.value for o in questionnaire.question("id.ndid").options] == ["yes", "partly", "no"]


@pytest.mark.parametrize("indent", [None, 2, "\t"], ids=["compact", "spaces", "tabs"])
def test_json_questionnaire_loads(examples: Path, indent: int | str | None) -> None:
    from_yaml = loads((examples / "worked-example.yaml").read_bytes(), source="worked-example.yaml")
    text = json.dumps(_worked_example_as_data(examples), ensure_ascii=False, indent=indent)
    if indent == "\t":
        assert "\n\t\t" in text
    from_json = loads(text, source="worked-example.json")
    assert _comparable(from_json) == _comparable(from_yaml)


def test_json_with_escaped_tab_in_a_string() -> None:
    data = yaml.safe_load(doc())
    data["title"] = {"th": "แบบ\tทดสอบ", "en": "Test"}
    text = json.dumps(data, ensure_ascii=False, indent="\t")
    assert load_ok(text).title.th == "แบบ\tทดสอบ"


def test_json_problems_have_lines() -> None:
    data = yaml.safe_load(doc())
    data["dimensions"][0]["questions"][0]["wieght"] = 2
    text = json.dumps(data, indent="\t")
    line = next(i for i, x in enumerate(text.splitlines(), start=1) if '"wieght"' in x)
    assert_problems(text, [(line, "unknown key 'wieght' (did you mean 'weight'?)")])


def test_json_duplicate_key() -> None:
    text = '{\n\t"schema": "assess/questionnaire@1",\n\t"schema": "assess/questionnaire@1"\n}\n'
    found = problems_of(text)
    assert f"{SOURCE}:3: duplicate key 'schema' (first at line 2)" in found


def test_invalid_json_with_tabs_is_a_yaml_syntax_error() -> None:
    text = '{\n\t"schema": "assess/questionnaire@1",\n}\n'
    found = problems_of(text)
    assert len(found) == 1
    assert found[0].startswith(f"{SOURCE}:2: not valid YAML")


def test_anchors_and_aliases_share_options() -> None:
    """A rubric written once and reused with an alias: problems of the whole list point at
    the key that uses it, problems of an option at the option itself."""
    rubric = (
        "- code: q1\n  type: level\n  text: A\n  options: &rubric\n"
        "    - {value: 0, label: None, points: 0}\n    - {value: 1, label: Full, points: 1}\n"
        "- code: q2\n  type: level\n  text: B\n  options: *rubric\n"
    )
    questionnaire = load_ok(doc(rubric))
    assert questionnaire.question("q1").options == questionnaire.question("q2").options
    broken = rubric.replace("points: 1}", "points: 0}")
    assert_problems(
        doc(broken),
        [
            (18, "question 'q1': a level rubric lists options lowest first"),
            (16, "question 'q1': the largest option points must be greater than 0"),
            (18, "question 'q2': a level rubric lists options lowest first"),
            (22, "question 'q2': the largest option points must be greater than 0"),
        ],
    )


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    found = problems_of("\n".join(lines) + "\n")
    assert any("more than 1,000,000 values" in p for p in found)


# ---------------------------------------------------------------------------------------
# Every problem of a file at once


def test_a_file_with_many_problems_reports_all_of_them() -> None:
    text = textwrap.dedent(
        """\
        schema: assess/questionnaire@1
        code: Bad Code
        version: "2568"
        supersedes: "2568"
        title: {th: แบบทดสอบ, fr: Essai}
        na_policy: partial
        levels:
          - {code: "1", min: 0, name: Initial}
          - {code: "2", min: 0, name: Developing}
        dimensions:
          - code: dim
            title: Dimension
            wieght: 2
            questions:
              - code: q1
                type: yesnoo
                text: First
              - code: q2
                type: choice
                text: Second
                show_if: q3 == yes
                options:
                  - {value: a, label: A, points: 1}
                  - {value: a, label: B, points: 2}
              - code: q3
                type: yesno
                text: Third
                gate: "1"
          - code: dim
            title: Again
            questions:
              - code: q1
                type: number
                text: Duplicate
                scoring: {linear: {from: 1, to: 1}}
        """
    )
    found = problems_of(text)
    assert [p.split(": ", 1)[0] for p in found] == [
        "q.yaml:2",  # code regex
        "q.yaml:4",  # supersedes names the version
        "q.yaml:5",  # unknown language
        "q.yaml:6",  # na_policy
        "q.yaml:9",  # level min not increasing
        "q.yaml:13",  # unknown dimension key
        "q.yaml:16",  # bad type
        "q.yaml:21",  # show_if on a later question
        "q.yaml:24",  # duplicate option value
        "q.yaml:28",  # gate on the lowest level
        "q.yaml:29",  # duplicate dimension code
        "q.yaml:32",  # duplicate question code
        "q.yaml:35",  # linear from == to
    ]
    assert "(did you mean 'weight'?)" in found[5]
    assert "(did you mean 'yesno'?)" in found[6]
    assert "comes after" in found[7]
    assert "first at line 23" in found[8]
    assert "first at line 11" in found[10]
    assert "first at line 15" in found[11]


def test_validate_lists_problems_of_a_file(tmp_path: Path) -> None:
    from assess.questionnaires import validate

    good = tmp_path / "good.yaml"
    good.write_text(doc(), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(doc(YESNO + "  wieght: 1\n"), encoding="utf-8")
    assert validate(good) == []
    problems = validate(bad)
    assert [(p.file, p.line) for p in problems] == [(str(bad), 16)]
    missing = validate(tmp_path / "missing.yaml")
    assert len(missing) == 1
    assert "cannot read" in missing[0].message


@pytest.mark.parametrize("word", ["and", "no", "answered", "contains"])
def test_question_code_may_not_be_a_condition_keyword(word: str) -> None:
    assert_problems(
        doc(f"- code: {word}\n  type: yesno\n  text: Keyword\n"),
        [(13, f"question code {word!r} is a word of the show_if language")],
    )
