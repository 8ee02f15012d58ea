"""Request and response schemas of the JSON API (they also make the OpenAPI document)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from assess.models import ROUND_STATUSES

BENCHMARK_GROUPINGS = ("all", "type", "parent", "province", "tag")
RESPONSE_STATUSES = ("not_started", "draft", "submitted", "returned", "accepted")


class ErrorSchema(ma.Schema):
    """Every error: ``{"error": "...", "details": ...}``."""

    error = fields.String(required=True, metadata={"description": "What went wrong"})
    details = fields.Raw(
        allow_none=True,
        metadata={
            "description": "More about it: per question code for 422, the current revision "
            "and answers for a stale revision, what is missing for an incomplete submission"
        },
    )


class RoundSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "the round's name (Thai)"})
    name_en = fields.String(
        required=True, metadata={"description": "its English name (empty when it has none)"}
    )
    fiscal_year = fields.Integer(required=True, metadata={"description": "Buddhist Era"})
    questionnaire = fields.String(required=True, metadata={"description": "CODE@VERSION"})
    status = fields.String(required=True, validate=validate.OneOf(ROUND_STATUSES))
    opens_on = fields.Date(allow_none=True)
    closes_on = fields.Date(allow_none=True)


class ResponseSchema(ma.Schema):
    agency = fields.String(required=True, metadata={"description": "agency code"})
    round = fields.Integer(required=True, metadata={"description": "round id"})
    questionnaire = fields.String(required=True, metadata={"description": "CODE@VERSION"})
    status = fields.String(required=True, validate=validate.OneOf(RESPONSE_STATUSES))
    revision = fields.Integer(required=True)
    completeness = fields.Float(required=True)
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata={"description": "question code → answer value (interchange form)"},
    )


class AnswersPatchSchema(ma.Schema):
    revision = fields.Integer(
        required=True, strict=True, metadata={"description": "the revision these edits start from"}
    )
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "question code → new value; null clears the answer"},
    )


class SavedSchema(ma.Schema):
    revision = fields.Integer(required=True)
    completeness = fields.Float(required=True)


class StatusSchema(ma.Schema):
    agency = fields.String(required=True)
    round = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RESPONSE_STATUSES))
    revision = fields.Integer(required=True)
    completeness = fields.Float(required=True)


class ReviewSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(("accept", "return")))
    comment = fields.String(load_default="")
    question_comments = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        load_default=dict,
        metadata={"description": "optional comments per question code"},
    )


class VerifySchema(ma.Schema):
    value = fields.Raw(
        required=True,
        allow_none=True,
        metadata={"description": "the verified value; null removes the verified value"},
    )
    reason = fields.String(required=True, validate=validate.Length(min=1))


class VerifiedSchema(ma.Schema):
    question = fields.String(required=True)
    value = fields.Raw(allow_none=True, required=True)
    reason = fields.String(required=True)


class MeasureSchema(ma.Schema):
    score = fields.Float(allow_none=True, required=True)
    level = fields.String(allow_none=True, required=True)


class ScoreSchema(ma.Schema):
    agency = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RESPONSE_STATUSES))
    completeness = fields.Float(required=True)
    overall = fields.Nested(MeasureSchema, required=True)
    dimensions = fields.Dict(
        keys=fields.String(), values=fields.Nested(MeasureSchema), required=True
    )


def _agency_filter() -> fields.String:
    return fields.String(
        metadata={
            "description": "only this agency's rows: its code (or the anonymous id a "
            "coordinator sees another agency under when the round anonymises them)"
        }
    )


class ScoresQuerySchema(ma.Schema):
    agency = _agency_filter()


class BenchmarkQuerySchema(ma.Schema):
    by = fields.String(load_default="all", validate=validate.OneOf(BENCHMARK_GROUPINGS))
    agency = _agency_filter()


class BenchmarkRowSchema(ma.Schema):
    agency = fields.String(required=True)
    by = fields.String(required=True, validate=validate.OneOf(BENCHMARK_GROUPINGS))
    group = fields.String(required=True)
    measure = fields.String(required=True, metadata={"description": "overall or a dimension"})
    score = fields.Float(required=True)
    level = fields.String(allow_none=True, required=True)
    n = fields.Integer(required=True)
    rank = fields.Integer(required=True)
    percentile = fields.Float(required=True)
    mean = fields.Float(required=True)
    median = fields.Float(required=True)
    p25 = fields.Float(required=True)
    p75 = fields.Float(required=True)
    min = fields.Float(required=True)
    max = fields.Float(required=True)
    gap_to_median = fields.Float(required=True)
    gap_to_top = fields.Float(required=True)
    quartile = fields.Integer(required=True, validate=validate.Range(1, 4))


class ScorecardQuerySchema(ma.Schema):
    lang = fields.String(
        load_default="th",
        validate=validate.OneOf(("th", "en")),
        metadata={"description": "The scorecard's language (Thai by default)"},
    )
