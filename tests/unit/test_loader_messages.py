"""Problems of questionnaire files are translatable: every message of the loader, the
condition language and the YAML reader has a Thai translation with the same placeholders,
renders in Thai, and keeps its English (what the command line prints) unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.support import Translations

from assess.questionnaires import Problem, QuestionnaireError, loads
from assess.questionnaires.conditions import ConditionError
from assess.questionnaires.conditions import parse as parse_condition
from assess.questionnaires.messages import Message

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    ROOT / "assess" / "questionnaires" / name
    for name in ("loader.py", "conditions.py", "source.py")
]
TRANSLATIONS = ROOT / "assess" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
THAI = re.compile(r"[\u0e00-\u0e7f]")

#: A valid questionnaire using every part of the format; the cases below break it.
BASE = """\
schema: assess/questionnaire@1
code: demo
version: "2569"
title: {th: แบบทดสอบ, en: Test}
levels:
  - {code: "1", min: 0, name: Initial}
  - {code: "2", min: 50, name: Developing}
dimensions:
  - code: mgmt
    title: Management
    maps_from: [old]
    questions:
      - code: mgmt.lead
        type: level
        text: {th: ผู้นำ, en: Leadership}
        gate: "2"
        tags: [core]
        options:
          - {value: 0, label: None, points: 0}
          - {value: 1, label: Some, points: 1}
      - code: mgmt.kind
        type: choice
        text: Kind
        show_if: mgmt.lead >= 1
        options:
          - {value: a, label: A, points: 0}
          - {value: b, label: B, points: 1}
      - code: mgmt.channels
        type: multi
        text: Channels
        max_points: 2
        options:
          - {value: web, label: Web, points: 2}
          - {value: none, label: None, points: 0, exclusive: true}
  - code: service
    title: Service
    questions:
      - code: service.count
        type: number
        text: Count
        min: 0
        max: 100
        scoring:
          bands:
            - {min: 0, points: 0}
            - {min: 10, points: 1}
      - code: service.note
        type: text
        text: Note
        weight: 0
        show_if: service.count > 3
"""

#: Edits of :data:`BASE` (old text, new text), each making a file with problems.
EDITS = [
    [("schema: assess/questionnaire@1", "schema: assess/questionnaire@2")],
    [("code: demo", "code: Demo"), ('version: "2569"', "version: [1]"), ("title:", "titel:")],
    [('  - {code: "2", min: 50', '  - {code: "1", min: 150')],
    [("type: level", "type: leve"), ("tags: [core]", "tags: [core, core, '']")],
    [('gate: "2"', 'gate: "1"'), ("maps_from: [old]", "maps_from: [old, old, Bad]")],
    [("show_if: mgmt.lead >= 1", 'show_if: mgmt.lead == "a"')],
    [("show_if: mgmt.lead >= 1", "show_if: mgmt.lead == 'x'")],
    [("show_if: mgmt.lead >= 1", "show_if: mgmt.channels == 'web'")],
    [("show_if: mgmt.lead >= 1", "show_if: service.count > 1")],
    [("show_if: service.count > 3", "show_if: mgmt.kind < 2")],
    [("show_if: service.count > 3", "show_if: (service.count > 3")],
    [("show_if: service.count > 3", "show_if: service.note == 'x'")],
    [
        ("max_points: 2", "max_points: 20"),
        ("{value: web, label: Web, points: 2}", "{value: '#web', label: '', points: -1}"),
    ],
    [("{value: b, label: B, points: 1}", "{value: a, label: B, points: 1}")],
    [("- {min: 10, points: 1}", "- {min: 0, points: 0, extra: 1}"), ("max: 100", "max: nan")],
    [("min: 0\n        max: 100", "min: 5\n        max: 1")],
    [
        ("code: service\n", "code: overall\n"),
        ("weight: 0", "weight: x"),
        ("type: text", "type: texts"),
    ],
    [("- code: mgmt.kind", "- code: mgmt.lead"), ("code: service.note", "code: and")],
    # Bounds of numbers and conditions.
    [
        ("title: Management", "title: Management\n    weight: 1e20"),
        ("{value: b, label: B, points: 1}", "{value: b, label: B, points: 1e30}"),
        ("max: 100", "max: 1e999999999"),
        ("weight: 0", "weight: 0.0000000000000001"),
        (
            "{value: 1, label: Some, points: 1}",
            "{value: 10000000000000000, label: Some, points: 1}",
        ),
    ],
    [("show_if: mgmt.lead >= 1", "show_if: " + "(" * 33 + "mgmt.lead >= 1" + ")" * 33)],
    [("show_if: mgmt.lead >= 1", "show_if: mgmt.lead >= 10000000000000000")],
    [("show_if: service.count > 3", "show_if: service.count > 0.0000000000000001")],
]

#: Files that are not questionnaires at all.
RAW = [b"", b"\xff\xfe", b"a: [", b"a: 1\n---\nb: 2\n", b"a: 1\na: 2\n? [k]\n: 1\nb: !!set {x}\n"]


def problems() -> list[Problem]:
    found: list[Problem] = []
    texts: list[str | bytes] = [*RAW]
    for edits in EDITS:
        text = BASE
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        texts.append(text)
    for text in texts:
        with pytest.raises(QuestionnaireError) as caught:
            loads(text, source="q.yaml")
        found += caught.value.problems
    return found


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    with (TRANSLATIONS / "th" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="th")


@pytest.fixture(scope="module")
def thai() -> Translations:
    return Translations.load(str(TRANSLATIONS), ["th"])


def test_every_message_of_questionnaire_files_has_a_thai_translation(catalogue) -> None:  # type: ignore[no-untyped-def]
    templates = {
        message
        for path in MODULES
        for _, message, _, _ in extract_from_file("python", str(path), keywords={"N_": None})
    }
    assert len(templates) > 120
    for template in templates:
        assert isinstance(template, str)
        entry = catalogue.get(template)
        assert entry is not None, f"not in the catalogue (pybabel update): {template!r}"
        assert entry.string, f"not translated: {template!r}"
        assert not entry.fuzzy, f"fuzzy: {template!r}"
        assert set(PLACEHOLDER.findall(entry.string)) == set(PLACEHOLDER.findall(template)), (
            template
        )


def test_problems_render_in_thai_and_keep_their_english(catalogue, thai) -> None:  # type: ignore[no-untyped-def]
    looked_up: set[str] = set()

    def gettext(template: str) -> str:
        looked_up.add(template)
        return str(thai.gettext(template))

    found = problems()
    assert len(found) > 40
    for problem in found:
        assert problem.translatable is not None, problem
        assert problem.render() == str(problem) == f"q.yaml:{problem.line}: {problem.message}"
        rendered = problem.render(gettext)
        assert rendered.startswith(f"q.yaml:{problem.line}: "), rendered
        assert THAI.search(rendered), f"not in Thai: {rendered}"
    for template in looked_up:
        entry = catalogue.get(template)
        assert entry is not None, template
        assert entry.string, template


def test_a_suggestion_and_a_condition_translate_with_their_sentence(thai) -> None:  # type: ignore[no-untyped-def]
    text = BASE.replace("type: level", "type: leve").replace(
        "show_if: mgmt.lead >= 1", "show_if: mgmt.lead = 1"
    )
    with pytest.raises(QuestionnaireError) as caught:
        loads(text, source="q.yaml")
    rendered = [p.render(thai.gettext) for p in caught.value.problems]
    assert rendered == [
        "q.yaml:14: ข้อคำถาม 'mgmt.lead': type ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: level, choice, "
        "multi, yesno, number, text (ค่าที่พบ: 'leve') (หมายถึง 'level' หรือไม่)",
        "q.yaml:24: ข้อคำถาม 'mgmt.kind': show_if: พบ '=' ที่คอลัมน์ 11 ซึ่งไม่ถูกต้อง "
        "(การเปรียบเทียบว่าเท่ากันใช้ ==)",
    ]
    assert [str(p) for p in caught.value.problems] == [
        "q.yaml:14: question 'mgmt.lead': type must be one of level, choice, multi, yesno, "
        "number, text, not 'leve' (did you mean 'level'?)",
        "q.yaml:24: question 'mgmt.kind': show_if: unexpected '=' at column 11 (equality is ==)",
    ]


def test_the_translatable_message_takes_no_part_in_comparisons() -> None:
    plain = Problem("q.yaml", 3, "the file is empty")
    translatable = Problem.of("q.yaml", 3, Message("the file is empty"))
    assert plain == translatable
    assert hash(plain) == hash(translatable)
    assert sorted([Problem.of("q.yaml", 9, Message("b")), plain]) == [
        plain,
        Problem("q.yaml", 9, "b"),
    ]
    assert repr(translatable) == "Problem(file='q.yaml', line=3, message='the file is empty')"
    assert plain.render(lambda text: "ไฟล์ว่างเปล่า") == "q.yaml:3: the file is empty"


def test_condition_errors_keep_their_message(thai) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConditionError) as caught:
        parse_condition("a ==")
    assert str(caught.value) == "expected a number, a 'quoted string', yes or no at the end"
    assert str(caught.value.message) == str(caught.value)
    assert caught.value.message.translate(thai.gettext) == (
        "ต้องมีตัวเลข 'ข้อความในเครื่องหมายคำพูด' yes หรือ no แต่พบจุดสิ้นสุดของเงื่อนไข"
    )


def test_a_file_that_cannot_be_read_has_no_line(tmp_path: Path, thai) -> None:  # type: ignore[no-untyped-def]
    """A problem of the whole file (line 0) reads ``FILE: message``, in every language."""
    from assess.questionnaires import load, validate

    missing = tmp_path / "nope.yaml"
    with pytest.raises(QuestionnaireError) as caught:
        load(missing)
    [problem] = caught.value.problems
    assert problem.line == 0
    assert str(problem) == f"{missing}: cannot read: No such file or directory"
    assert problem.render() == str(problem) == str(caught.value)
    assert problem.render(thai.gettext) == f"{missing}: อ่านไฟล์ไม่ได้: No such file or directory"
    assert validate(missing) == [problem]
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    assert [str(p) for p in validate(folder)] == [f"{folder}: cannot read: Is a directory"]
    assert str(Problem("q.yaml", 0, "x")) == Problem("q.yaml", 0, "x").render() == "q.yaml: x"
    assert Problem("q.yaml", 0, "x").where == "q.yaml"
    assert Problem("q.yaml", 1, "x").where == "q.yaml:1"


def test_messages_of_the_limits_name_the_allowed_range() -> None:
    found = [str(p) for p in problems()]
    for expected in [
        "q.yaml:11: dimension 'mgmt': weight must be greater than 0 and at most 1,000,000, not 1e20",
        "question 'mgmt.kind': option 'b': points must be between 0 and 1,000,000, not 1e30",
        "question 'service.count': max must be between -999,999,999,999,999 and "
        "999,999,999,999,999, not 1e999999999",
        "question 'service.note': weight must have at most 15 significant digits and decimal "
        "places, not 0.0000000000000001",
        "question 'mgmt.lead': option 2: value 10000000000000000 must be between "
        "-999,999,999,999,999 and 999,999,999,999,999 (a longer code is written as text, in "
        "quotes)",
        "question 'mgmt.kind': show_if: parentheses and 'not' are nested more than 32 levels "
        "deep (at column 33)",
        "question 'mgmt.kind': show_if: 10000000000000000 at column 14 is too large: a number "
        "must be smaller than 10^15",
        "question 'service.note': show_if: 0.0000000000000001 at column 17 has more than 15 "
        "significant digits or decimal places",
    ]:
        assert any(expected in problem for problem in found), expected


@pytest.mark.parametrize(
    ("text", "english", "thai_hint"),
    [
        (
            "title: หมายเหตุ: ระบุ\n",
            "text with ': ' in it: put the text in quotes",
            "ใส่เครื่องหมายคำพูด",
        ),
        ("code: x\n\tversion: '1'\n", "a tab: indent with spaces only", "ย่อหน้าด้วยเว้นวรรค"),
        (
            "levels:\n  - code: '1'\n    min: 0\n   name: x\n",
            "the indentation does not line up",
            "ย่อหน้า",
        ),
        ("title: {th: เชื่อมต่อ?, en: x}\n", "inside { … } or [ … ]", "เครื่องหมายคำพูด"),
        ('title: "abc\nx: 1\n', "a quote is opened and not closed", "เครื่องหมายคำพูด"),
    ],
)
def test_yaml_mistakes_are_explained_in_the_readers_language(
    text, english, thai_hint, thai
) -> None:  # type: ignore[no-untyped-def]
    """PyYAML's English jargon stays, in brackets, after what it usually means."""
    with pytest.raises(QuestionnaireError) as caught:
        loads(text, source="q.yaml")
    (problem,) = caught.value.problems
    assert f"not valid YAML: {english}" in str(problem)
    rendered = problem.render(thai.gettext)
    assert rendered.startswith("q.yaml:")
    assert "รูปแบบ YAML ไม่ถูกต้อง: " in rendered
    assert thai_hint in rendered.split("(")[0]
