"""survey.js evaluates show_if exactly like the scoring engine (run with Node when present).

The page sends each condition as a JSON tree (``routes.condition_json``); the script's
``visibility`` must agree with ``engine.visibility`` on every answer set: hidden,
unanswered and N/A references make comparisons false (and their ``not`` true), option
values 1 and '1' differ, ordering works on numbers and integer option values.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assess.questionnaires import Questionnaire, loads
from assess.questionnaires.answers import NA, AnswerValue
from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.model import QuestionType
from assess.scoring.engine import visibility
from assess.services.responses import stored
from assess.survey.routes import condition_json

SCRIPT = Path(__file__).resolve().parents[2] / "assess" / "static" / "js" / "survey.js"
NODE = shutil.which("node") or shutil.which("nodejs")

TRICKY = {
    "schema": "assess/questionnaire@1",
    "code": "tricky",
    "version": "1",
    "title": "Conditions",
    "levels": [{"code": "1", "min": 0, "name": "Low"}, {"code": "2", "min": 50, "name": "High"}],
    "dimensions": [
        {
            "code": "a",
            "title": "A",
            "questions": [
                {
                    "code": "lvl",
                    "type": "level",
                    "text": "Level",
                    "allow_na": True,
                    "options": [
                        {"value": 0, "label": "0", "points": 0},
                        {"value": 1, "label": "1", "points": 1},
                        {"value": 2, "label": "2", "points": 2},
                        {"value": 3, "label": "3", "points": 3},
                    ],
                },
                {
                    "code": "pick",
                    "type": "choice",
                    "text": "Pick",
                    "allow_na": True,
                    "options": [
                        {"value": "1", "label": "text one", "points": 1},
                        {"value": "b", "label": "b", "points": 0},
                        {"value": "it's", "label": "quote", "points": 2},
                    ],
                },
                {"code": "yn", "type": "yesno", "text": "Yes or no", "allow_na": True},
                {
                    "code": "many",
                    "type": "multi",
                    "text": "Many",
                    "options": [
                        {"value": "x", "label": "x", "points": 1},
                        {"value": 7, "label": "seven", "points": 1},
                        {"value": "none", "label": "none", "points": 0, "exclusive": True},
                    ],
                },
                {"code": "num", "type": "number", "text": "Number", "allow_na": True},
                {"code": "txt", "type": "text", "text": "Text"},
                {"code": "c1", "type": "yesno", "text": "c1", "show_if": "lvl >= 2"},
                {"code": "c2", "type": "yesno", "text": "c2", "show_if": "not lvl >= 2"},
                {"code": "c3", "type": "yesno", "text": "c3", "show_if": "pick == '1'"},
                {"code": "c4", "type": "yesno", "text": "c4", "show_if": "pick != 'b'"},
                {"code": "c5", "type": "yesno", "text": "c5", "show_if": "pick in ['b', 'it''s']"},
                {"code": "c6", "type": "yesno", "text": "c6", "show_if": "yn == no"},
                {"code": "c7", "type": "yesno", "text": "c7", "show_if": "yn != yes"},
                {"code": "c8", "type": "yesno", "text": "c8", "show_if": "many contains 7"},
                {"code": "c9", "type": "yesno", "text": "c9", "show_if": "not many contains 'x'"},
                {
                    "code": "c10",
                    "type": "yesno",
                    "text": "c10",
                    "show_if": "num > 2.5 and num <= 10",
                },
                {"code": "c11", "type": "yesno", "text": "c11", "show_if": "num in [0, 1.5, -3]"},
                {
                    "code": "c12",
                    "type": "yesno",
                    "text": "c12",
                    "show_if": "answered(txt) or answered(num)",
                },
                {
                    "code": "c13",
                    "type": "number",
                    "text": "c13",
                    "show_if": "c1 == yes or (c6 == yes and not answered(many))",
                },
                {"code": "c14", "type": "yesno", "text": "c14", "show_if": "c13 < 5"},
                {"code": "c15", "type": "yesno", "text": "c15", "show_if": "not c14 == yes"},
                {
                    "code": "c16",
                    "type": "yesno",
                    "text": "c16",
                    "show_if": "lvl in [1, 3] and not (pick == 'b' or yn == yes)",
                },
                {"code": "c17", "type": "yesno", "text": "c17", "show_if": "lvl != 0"},
            ],
        }
    ],
}


def random_answers(questionnaire: Questionnaire, rng: random.Random) -> dict[str, AnswerValue]:
    answers: dict[str, AnswerValue] = {}
    for question in questionnaire.iter_questions():
        if rng.random() < 0.25:
            continue
        if question.allow_na and rng.random() < 0.15:
            answers[question.code] = NA
            continue
        kind = question.type
        if kind in (QuestionType.LEVEL, QuestionType.CHOICE):
            answers[question.code] = rng.choice(question.options).value
        elif kind is QuestionType.MULTI:
            plain = [o.value for o in question.options if not o.exclusive]
            exclusive = [o.value for o in question.options if o.exclusive]
            chosen = [v for v in plain if rng.random() < 0.5]
            if not chosen and exclusive and rng.random() < 0.5:
                chosen = exclusive[:1]
            if chosen:
                answers[question.code] = tuple(chosen)
        elif kind is QuestionType.YESNO:
            answers[question.code] = rng.random() < 0.5
        elif kind is QuestionType.NUMBER:
            low = float(question.min) if question.min is not None else -5.0
            high = float(question.max) if question.max is not None else 20.0
            value = rng.choice([0, 1.5, -3, 2.5, 10, rng.uniform(low, high)])
            value = min(max(value, low), high)
            if question.integer:
                value = round(value)
            answers[question.code] = Decimal(str(value))
        else:
            answers[question.code] = rng.choice(["text", "ข้อความ"])
    return answers


def run_node(conditions: list[Any], cases: list[dict[str, Any]]) -> list[dict[str, bool]]:
    program = (
        "const s = require(process.argv[1]);"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify("
        "input.cases.map(a => s.visibility(input.conditions, a))));"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", program, str(SCRIPT)],
        input=json.dumps({"conditions": conditions, "cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def questionnaires() -> list[Questionnaire]:
    found = [loads(json.dumps(TRICKY).encode(), "tricky.json")]
    for version in ("2568", "2569"):
        path = builtin_path("dg-readiness", version)
        assert path is not None
        found.append(loads(path.read_bytes(), str(path)))
    return found


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
@pytest.mark.parametrize("index", [0, 1, 2])
def test_script_visibility_matches_the_engine(index: int) -> None:
    questionnaire = questionnaires()[index]
    conditions = [
        [q.code, condition_json(q.show_if) if q.show_if is not None else None]
        for q in questionnaire.iter_questions()
    ]
    rng = random.Random(2569 + index)  # noqa: S311 (reproducible cases)
    sets = [random_answers(questionnaire, rng) for _ in range(400)]
    sets.append({})
    cases = [{code: stored(value) for code, value in answers.items()} for answers in sets]
    got = run_node(conditions, cases)
    hidden_seen = shown_seen = 0
    for answers, mine in zip(sets, got, strict=True):
        expected = visibility(questionnaire, answers)
        assert mine == expected, (answers, {k for k in mine if mine[k] != expected[k]})
        hidden_seen += sum(1 for v in expected.values() if not v)
        shown_seen += sum(
            1 for q in questionnaire.iter_questions() if q.show_if is not None and expected[q.code]
        )
    assert hidden_seen
    assert shown_seen


def test_condition_json_shapes() -> None:
    tricky = questionnaires()[0]
    by_code = {q.code: condition_json(q.show_if) for q in tricky.iter_questions() if q.show_if}
    assert by_code["c1"] == {"op": ">=", "ref": "lvl", "value": 2}
    assert by_code["c3"] == {"op": "==", "ref": "pick", "value": "1"}
    assert by_code["c5"] == {"op": "in", "ref": "pick", "values": ["b", "it's"]}
    assert by_code["c6"] == {"op": "==", "ref": "yn", "value": False}
    assert by_code["c8"] == {"op": "contains", "ref": "many", "value": 7}
    assert by_code["c10"]["op"] == "and"
    assert by_code["c10"]["args"][0]["value"] == 2.5
    assert by_code["c12"] == {
        "op": "or",
        "args": [{"op": "answered", "ref": "txt"}, {"op": "answered", "ref": "num"}],
    }
    assert by_code["c15"] == {"op": "not", "arg": {"op": "==", "ref": "c14", "value": True}}
