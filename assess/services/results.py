"""Stored results: scoring responses and keeping the figures every page and export reads.

The scoring engine is pure; this module feeds it the stored answers and stores what it
returns, as the exact rounded decimal strings, for ``self`` (as answered) and ``verified``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assess.extensions import db
from assess.models import Answer, Response, Result, Round, VerifiedAnswer, utcnow
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import AnswerValue, parse_json_value
from assess.scoring.batch import score_many
from assess.scoring.engine import ResponseScore, score_response
from assess.services.questionnaires import questionnaire_of

KINDS = ("self", "verified")


def parse_stored(
    questionnaire: Questionnaire, rows: Sequence[Answer | VerifiedAnswer]
) -> dict[str, AnswerValue]:
    """Stored JSON values back into parsed answers (values of unknown codes are skipped)."""
    answers: dict[str, AnswerValue] = {}
    for row in rows:
        question = questionnaire.questions.get(row.question_code)
        if question is None:
            continue
        value = parse_json_value(question, row.value)
        if value is not None:
            answers[row.question_code] = value
    return answers


def answer_sets(response: Response) -> tuple[dict[str, AnswerValue], dict[str, AnswerValue]]:
    """The self-assessed answers, and the verified ones (verified values over the respondent's)."""
    questionnaire = questionnaire_of(response.questionnaire)
    own = parse_stored(questionnaire, response.answers)
    verified = dict(own)
    for row in response.verified:
        question = questionnaire.questions.get(row.question_code)
        if question is None:
            continue
        value = parse_json_value(question, row.value)
        if value is None:
            verified.pop(row.question_code, None)
        else:
            verified[row.question_code] = value
    return own, verified


def evidence_codes(response: Response) -> set[str]:
    """Questions of the response that have at least one evidence item."""
    return {e.question_code for e in response.evidence}


def score(response: Response, kind: str = "self") -> ResponseScore:
    """Score a response now (with evidence, so ``missing_evidence`` is filled)."""
    questionnaire = questionnaire_of(response.questionnaire)
    own, verified = answer_sets(response)
    return score_response(
        questionnaire, own if kind == "self" else verified, evidence=evidence_codes(response)
    )


def _text(value: Decimal | float | None, places: str = "0.01") -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(Decimal(str(value)).quantize(Decimal(places)))


def _store(
    response: Response, kind: str, record: dict[str, Any], digest: str, now: dt.datetime
) -> None:
    existing = next((r for r in response.results if r.kind == kind), None)
    if existing is None:
        existing = Result(kind=kind)
        response.results.append(existing)
    overall = record["overall"]
    existing.completeness = _text(record["completeness"], "0.1") or "0.0"
    existing.overall_score = _text(overall["score"])
    existing.overall_level = overall["level"]
    existing.dimensions = {
        code: {"score": _text(d["score"]), "level": d["level"]}
        for code, d in record["dimensions"].items()
    }
    existing.questionnaire_hash = digest
    existing.computed_at = now


def recompute(response: Response) -> ResponseScore:
    """Score one response (self and verified), store both, and return the self score."""
    questionnaire = questionnaire_of(response.questionnaire)
    own, verified = answer_sets(response)
    evidence = evidence_codes(response)
    mine = score_response(questionnaire, own, evidence=evidence)
    checked = mine if not response.verified else score_response(questionnaire, verified)
    now = utcnow()
    _store(response, "self", _record(mine), questionnaire.content_hash, now)
    _store(response, "verified", _record(checked), questionnaire.content_hash, now)
    response.completeness = _text(mine.completeness, "0.1") or "0.0"
    return mine


def _record(result: ResponseScore) -> dict[str, Any]:
    return {
        "completeness": result.completeness,
        "overall": {"score": result.overall, "level": result.level},
        "dimensions": {
            code: {"score": d.score, "level": d.level} for code, d in result.dimensions.items()
        },
    }


def of_round(round_: Round) -> list[Response]:
    """Every response of a round, with what scoring and imports read loaded in bulk."""
    return list(
        db.session.scalars(
            select(Response)
            .filter_by(round_id=round_.id)
            .options(
                selectinload(Response.agency),
                selectinload(Response.answers),
                selectinload(Response.verified),
                selectinload(Response.results),
            )
        )
    )


def recompute_round(round_: Round, responses: Sequence[Response] | None = None) -> int:
    """Score many responses of a round at once with the vectorised engine; returns how many."""
    if responses is None:
        responses = of_round(round_)
    if not responses:
        return 0
    questionnaire = questionnaire_of(round_.questionnaire)
    own: dict[int, dict[str, AnswerValue]] = {}
    checked: dict[int, dict[str, AnswerValue]] = {}
    for response in responses:
        mine, verified = answer_sets(response)
        own[response.id] = mine
        if response.verified:
            checked[response.id] = verified
    batch = score_many(questionnaire, own)
    verified_batch = score_many(questionnaire, checked) if checked else None
    now = utcnow()
    for response in responses:
        record = batch.as_dict(response.id)
        _store(response, "self", record, questionnaire.content_hash, now)
        if verified_batch is not None and response.id in checked:
            _store(
                response,
                "verified",
                verified_batch.as_dict(response.id),
                questionnaire.content_hash,
                now,
            )
        else:
            _store(response, "verified", record, questionnaire.content_hash, now)
        response.completeness = _text(record["completeness"], "0.1") or "0.0"  # type: ignore[arg-type]
    return len(responses)


def number(text: str | None) -> float | None:
    """A stored score as the JSON number of interfaces.md (``null`` when empty)."""
    return None if text is None else float(Decimal(text))


def score_records(
    round_: Round, *, verified: bool = True, agency_ids: set[int] | None = None
) -> list[dict[str, Any]]:
    """``assess scores`` / ``GET …/scores``: one record per response, from the stored results."""
    kind = "verified" if verified else "self"
    query = (
        select(Response)
        .filter_by(round_id=round_.id)
        .options(selectinload(Response.results), selectinload(Response.agency))
    )
    if agency_ids is not None:
        query = query.where(Response.agency_id.in_(agency_ids))
    questionnaire = questionnaire_of(round_.questionnaire)
    records = []
    for response in sorted(db.session.scalars(query), key=lambda r: r.agency.code):
        result = next((r for r in response.results if r.kind == kind), None)
        if result is None:
            result = _empty(questionnaire)
        records.append(
            {
                "agency": response.agency.code,
                "status": response.status,
                "completeness": float(Decimal(result.completeness)),
                "overall": {"score": number(result.overall_score), "level": result.overall_level},
                "dimensions": {
                    d.code: {
                        "score": number(result.dimensions.get(d.code, {}).get("score")),
                        "level": result.dimensions.get(d.code, {}).get("level"),
                    }
                    for d in questionnaire.dimensions
                },
            }
        )
    return records


def _empty(questionnaire: Questionnaire) -> Result:
    record = _record(score_response(questionnaire, {}))
    result = Result(kind="self")
    result.completeness = _text(record["completeness"], "0.1") or "0.0"
    result.overall_score = _text(record["overall"]["score"])
    result.overall_level = record["overall"]["level"]
    result.dimensions = {
        c: {"score": _text(d["score"]), "level": d["level"]}
        for c, d in record["dimensions"].items()
    }
    return result


def result_of(response: Response, kind: str = "self") -> Result | None:
    """The stored result of a response, if it was ever scored."""
    return next((r for r in response.results if r.kind == kind), None)
