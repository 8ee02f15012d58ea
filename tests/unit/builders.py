"""Small builders for questionnaires and answers in tests."""

from __future__ import annotations

import json
from typing import Any

from assess.questionnaires import Questionnaire, loads
from assess.questionnaires.answers import AnswerValue, check_answers

LEVELS = [
    {"code": "1", "min": 0, "name": "Initial"},
    {"code": "2", "min": 25, "name": "Developing"},
    {"code": "3", "min": 50, "name": "Defined"},
    {"code": "4", "min": 75, "name": "Managed"},
]


def questionnaire(*dimensions: dict[str, Any], **top: Any) -> Questionnaire:
    """A questionnaire from plain dicts (dumped to JSON, loaded through the real loader)."""
    document = {
        "schema": "assess/questionnaire@1",
        "code": "test",
        "version": "1",
        "title": "Test",
        "levels": LEVELS,
        "dimensions": list(dimensions),
        **top,
    }
    return loads(json.dumps(document), source="test.json")


def dimension(code: str, *questions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A dimension dict."""
    return {"code": code, "title": code, "questions": list(questions), **extra}


def yesno(code: str, **extra: Any) -> dict[str, Any]:
    """A yes/no question dict."""
    return {"code": code, "type": "yesno", "text": code, **extra}


def options(*pairs: tuple[Any, Any], **extra: Any) -> list[dict[str, Any]]:
    """Options from (value, points) pairs."""
    return [{"value": v, "label": str(v), "points": p, **extra} for v, p in pairs]


def answers(q: Questionnaire, raw: dict[str, Any]) -> dict[str, AnswerValue]:
    """Answers parsed exactly as from a JSON file (numbers given as text stay exact)."""
    parsed, problems = check_answers(q, raw, form="json")
    assert not problems, problems
    return parsed
