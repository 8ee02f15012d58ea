"""Data helpers shared by the journeys: a small PDF, answers for any question, finishing a
questionnaire through the services (as another tab would), Thai labels as the UI shows them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from assess.extensions import db
from assess.questionnaires.model import Question, QuestionType
from assess.services import evidence, responses, results
from assess.services.questionnaires import questionnaire_of


def minimal_pdf() -> bytes:
    """A small but well-formed one-page PDF (header, objects, xref table, trailer)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def thai_label(app, label) -> str:  # type: ignore[no-untyped-def]
    """A lazily translated label as the Thai interface shows it."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("th"):
        return str(label)


def fresh(row):  # type: ignore[no-untyped-def]
    """The row as the database has it now (the server commits from its threads)."""
    db.session.expire_all()
    return row


def some_value(question: Question) -> Any:
    """A valid JSON answer for any question (the best option, a mid-range number …)."""
    if question.type in (QuestionType.LEVEL, QuestionType.CHOICE):
        return max(question.options, key=lambda o: o.points).value
    if question.type is QuestionType.MULTI:
        return [o.value for o in question.options if not o.exclusive][:2]
    if question.type is QuestionType.YESNO:
        return True
    if question.type is QuestionType.NUMBER:
        low = question.min if question.min is not None else Decimal(0)
        high = question.max if question.max is not None else low + 100
        return int((low + high) / 2)
    return "ข้อมูลประกอบการประเมินของหน่วยงาน"


def complete_the_rest(response, user, skip: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Answer every dimension but ``skip`` through the services, as another tab would, and
    attach a link wherever evidence is required; repeated while conditions reveal questions."""
    questionnaire = questionnaire_of(response.questionnaire)
    for _ in range(5):
        fresh(response)
        result = results.score(response)
        todo = [c for c in result.missing if skip is None or not c.startswith(f"{skip}.")]
        if not todo and not result.missing_evidence:
            return
        if todo:
            answers = {code: some_value(questionnaire.questions[code]) for code in todo}
            responses.save_answers(response, answers, revision=response.revision, actor=user)
        for code in result.missing_evidence:
            evidence.add_url(response, user, code, f"https://data.example.go.th/evidence/{code}")
        db.session.commit()
    pytest.fail(f"could not complete the questionnaire: {results.score(response).missing}")
