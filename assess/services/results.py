"""Stored results: scoring responses and keeping the figures every page and export reads.

The scoring engine is pure; this module feeds it the stored answers and stores what it
returns, as the exact rounded decimal strings, for ``self`` (as answered) and ``verified``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import (
    Integer,
    Text,
    bindparam,
    cast,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from assess.extensions import db
from assess.heap import without_collection
from assess.models import (
    Agency,
    Answer,
    Evidence,
    Response,
    Result,
    Round,
    VerifiedAnswer,
    utcnow,
)
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import AnswerValue, parse_json_value
from assess.scoring.batch import BatchScores, score_many, score_table
from assess.scoring.engine import (
    DimensionScore,
    ResponseScore,
    _completeness,
    rescore_dimension,
    score_response,
    visibility,
)
from assess.services import locks
from assess.services.questionnaires import questionnaire_of
from assess.services.reports import core_rows

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


def answer_sets(
    response: Response, questionnaire: Questionnaire | None = None
) -> tuple[dict[str, AnswerValue], dict[str, AnswerValue]]:
    """The self-assessed answers, and the verified ones (verified values over the respondent's)."""
    questionnaire = questionnaire or questionnaire_of(response.questionnaire)
    own = parse_stored(questionnaire, response.answers)
    return own, _overlay(
        questionnaire, own, ((r.question_code, r.value) for r in response.verified)
    )


def _overlay(
    questionnaire: Questionnaire,
    own: dict[str, AnswerValue],
    verified: Iterable[tuple[str, Any]],
) -> dict[str, AnswerValue]:
    """Verified values (code, stored JSON value) over the respondent's answers; a verified
    empty value removes the answer."""
    checked = dict(own)
    for code, stored in verified:
        question = questionnaire.questions.get(code)
        if question is None:
            continue
        value = parse_json_value(question, stored)
        if value is None:
            checked.pop(code, None)
        else:
            checked[code] = value
    return checked


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


def completeness_text(result: ResponseScore) -> str:
    """A score's completeness as :class:`Response` and :class:`Result` store it ("87.5")."""
    return _text(result.completeness, "0.1") or "0.0"


def _store(
    response: Response, kind: str, record: dict[str, Any], digest: str, now: dt.datetime
) -> None:
    existing = next((r for r in response.results if r.kind == kind), None)
    if existing is None:
        existing = Result(kind=kind)
        response.results.append(existing)
    for column, value in _columns(record, digest).items():
        setattr(existing, column, value)
    existing.computed_at = now


def lock_responses(*criteria: Any) -> dict[int, int] | None:
    """Lock the rows of the responses ``criteria`` select, in id order (PostgreSQL), before
    their results are written; their ids and ``results_version`` once locked (``None`` on
    SQLite, which takes one writer at a time: nothing to lock).

    Writing a result also updates its response: the database counts each response's result
    writes (``Response.results_version``, migration 0006). A save locks its response first
    (the revision claim), then writes its results; a writer that took a result first and
    its response after could deadlock with it, so every other writer of results locks the
    responses first.
    """
    if db.session.connection().dialect.name != "postgresql":
        return None
    locked = db.session.execute(
        select(Response.id, Response.results_version)
        .where(*criteria)
        .order_by(Response.id)
        .with_for_update()
    )
    return {row[0]: row[1] for row in locked}


def recompute(response: Response, *, questionnaire: Questionnaire | None = None) -> ResponseScore:
    """Score one response in full (self and verified), store both, and return the self score.

    An autosave scores only what its change can move: see :func:`read_state`,
    :func:`rescore` and :func:`result_writes`.
    """
    db.session.flush()
    if not locks.held(response.id):  # (a verified value holds it already)
        lock_responses(Response.id == response.id)
    # Read again (under the lock, on PostgreSQL): another request may have changed them
    # since this one read them, a second reviewer's verified value say.
    db.session.expire(response, ["answers", "evidence", "verified"])
    questionnaire = questionnaire or questionnaire_of(response.questionnaire)
    own, verified = answer_sets(response, questionnaire)
    mine = score_response(questionnaire, own, evidence=evidence_codes(response))
    checked = mine if not response.verified else score_response(questionnaire, verified)
    now = utcnow()
    _store(response, "self", _record(mine), questionnaire.content_hash, now)
    _store(response, "verified", _record(checked), questionnaire.content_hash, now)
    response.completeness = completeness_text(mine)
    return mine


# -- one response, as an autosave sees it ------------------------------------------------------
#
# An autosave changes one answer of ~90. It reads what scoring needs as plain values in one
# query (no ORM objects), scores only the dimensions the change can move, and writes only
# the results that changed, with plain statements.


@dataclass(frozen=True)
class StoredRow:
    """A result as stored: the columns :class:`Result` keeps, as plain values
    (``dimensions`` as its JSON text)."""

    completeness: str
    overall_score: str | None
    overall_level: str | None
    dimensions: str
    questionnaire_hash: str


@dataclass(frozen=True)
class SaveState:
    """One response as the database holds it, as plain values: the answers and verified
    values (question code → stored JSON value), the questions with evidence, and the stored
    results (kind → (id, row))."""

    answers: dict[str, Any]
    verified: dict[str, Any]
    evidence: set[str]
    results: dict[str, tuple[int, StoredRow]]


class _JsonObjectOfRows(FunctionElement[Any]):
    """The rows' ``key: value`` pairs (a JSON column) as one JSON object, with each
    database's own aggregate: ``null`` or ``{}`` without rows."""

    name = "json_object_of_rows"
    inherit_cache = True


@compiles(_JsonObjectOfRows)
def _json_object_of_rows(element: _JsonObjectOfRows, compiler: SQLCompiler, **kw: Any) -> str:
    key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_group_object({key}, json({value}))"  # SQLite keeps JSON as text


@compiles(_JsonObjectOfRows, "postgresql")
def _json_object_of_rows_pg(element: _JsonObjectOfRows, compiler: SQLCompiler, **kw: Any) -> str:
    key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_object_agg({key}, {value})"


def _state_query() -> Any:
    """The query of :func:`read_state`, built once (plain tables: no ORM layer per call).

    The answers come as one row holding them all as one JSON object, and so do the
    verified values: one row and one decode each, instead of one per answer (some 90).
    """
    answer, verified = Answer.__table__, VerifiedAnswer.__table__
    evidence, result = Evidence.__table__, Result.__table__
    response_id = bindparam("response_id", type_=Integer)
    none_text, none_int = cast(null(), Text), cast(null(), Integer)
    return union_all(
        *(
            select(
                literal_column(f"'{tag}'"), none_text,
                cast(_JsonObjectOfRows(table.c.question_code, table.c.value), Text),
                none_int, none_text, none_text, none_text, none_text,
            ).where(table.c.response_id == response_id)
            for tag, table in (("a", answer), ("v", verified))
        ),
        select(
            literal_column("'e'"), evidence.c.question_code, none_text,
            none_int, none_text, none_text, none_text, none_text,
        ).where(evidence.c.response_id == response_id),
        select(
            literal_column("'r'"), result.c.kind, cast(result.c.dimensions, Text), result.c.id,
            result.c.completeness, result.c.overall_score, result.c.overall_level,
            result.c.questionnaire_hash,
        ).where(result.c.response_id == response_id),
    )  # fmt: skip


_STATE = _state_query()


def read_state(response_id: int) -> SaveState:
    """:class:`SaveState` of a response, with one query (pending changes are flushed first)."""
    db.session.flush()
    answers: dict[str, Any] = {}
    verified: dict[str, Any] = {}
    evidence: set[str] = set()
    stored: dict[str, tuple[int, StoredRow]] = {}
    rows = db.session.connection().execute(_STATE, {"response_id": response_id})
    for tag, code, text, id_, completeness, score, level, digest in rows:
        if tag == "a":
            answers = json.loads(text) if text else {}
        elif tag == "v":
            verified = json.loads(text) if text else {}
        elif tag == "e":
            evidence.add(code)
        else:
            stored[code] = (id_, StoredRow(completeness, score, level, text or "null", digest))
    return SaveState(answers, verified, evidence, stored)


def rescore(
    questionnaire: Questionnaire,
    state: SaveState,
    own: dict[str, AnswerValue],
    changed: Collection[str],
    previous: Mapping[str, AnswerValue | None],
) -> tuple[ResponseScore, ResponseScore]:
    """The self and verified scores of a response after an autosave.

    ``own``: its answers after the save, parsed; ``changed``: the questions whose answers
    the save changed, ``previous`` their values before (``None``: unanswered). Without
    verified values, only the changed questions' dimensions, and those where the change
    showed or hid a question, are scored again; the other dimensions' figures are the
    stored ones (:func:`_rescored`), the same figures a full scoring gives. Completeness
    and the missing lists are always computed afresh. The self score then carries the
    dimensions' score and level only (no ``score_level``/``capped_by`` for the dimensions
    taken from the stored result). With verified values, both are scored in full.
    """
    if state.verified:
        mine = score_response(questionnaire, own, evidence=state.evidence)
        return mine, score_response(
            questionnaire, _overlay(questionnaire, own, state.verified.items())
        )
    found = state.results.get("self")
    mine = None
    if found is not None:
        mine = _rescored(questionnaire, own, changed, previous, state.evidence, found[1])
    if mine is None:
        mine = score_response(questionnaire, own, evidence=state.evidence)
    return mine, mine


def _result_statements() -> tuple[Any, Any, Any]:
    """The statements of :func:`result_writes`, built once: update a response's two results at
    once, update one, insert one."""
    table = Result.__table__
    columns = {
        name: bindparam(f"r_{name}")
        for name in (
            "completeness", "overall_score", "overall_level", "dimensions",
            "questionnaire_hash", "computed_at",
        )
    }  # fmt: skip
    both = table.update().where(table.c.response_id == bindparam("r_response_id"))
    one = table.update().where(table.c.id == bindparam("r_id"))
    # Inline: no RETURNING of the new id, which nobody reads.
    new = (
        table.insert()
        .inline()
        .values(response_id=bindparam("r_response_id"), kind=bindparam("r_kind"), **columns)
    )
    return both.values(**columns), one.values(**columns), new


_UPDATE_BOTH, _UPDATE_ONE, _INSERT_ONE = _result_statements()


def result_writes(
    response_id: int,
    state: SaveState,
    mine: ResponseScore,
    checked: ResponseScore,
    digest: str,
    now: dt.datetime,
) -> list[tuple[Any, dict[str, Any]]]:
    """The writes (statement, parameters) that store a response's self and verified
    results where they differ from ``state``'s: none, one or two."""
    rows = {"self": _columns(_record(mine), digest)}
    rows["verified"] = rows["self"] if checked is mine else _columns(_record(checked), digest)
    stale = {
        kind: row
        for kind, row in rows.items()
        if kind not in state.results or not _same(state.results[kind][1], row)
    }
    if not stale:
        return []

    def params(row: dict[str, Any]) -> dict[str, Any]:
        return {f"r_{name}": value for name, value in row.items()} | {"r_computed_at": now}

    if checked is mine and len(stale) == len(KINDS) == len(state.results):
        # The usual autosave: no verified values, both rows get the same figures.
        return [(_UPDATE_BOTH, params(rows["self"]) | {"r_response_id": response_id})]
    return [
        (_UPDATE_ONE, params(row) | {"r_id": state.results[kind][0]})
        if kind in state.results
        else (_INSERT_ONE, params(row) | {"r_response_id": response_id, "r_kind": kind})
        for kind, row in stale.items()
    ]


def _columns(record: dict[str, Any], digest: str) -> dict[str, Any]:
    """A scored record (:func:`_record`) as the columns of its :class:`Result`."""
    overall = record["overall"]
    return {
        "completeness": _text(record["completeness"], "0.1") or "0.0",
        "overall_score": _text(overall["score"]),
        "overall_level": overall["level"],
        "dimensions": {
            code: {"score": _text(d["score"]), "level": d["level"]}
            for code, d in record["dimensions"].items()
        },
        "questionnaire_hash": digest,
    }


def _same(found: StoredRow, row: dict[str, Any]) -> bool:
    return (
        found.completeness == row["completeness"]
        and found.overall_score == row["overall_score"]
        and found.overall_level == row["overall_level"]
        and found.questionnaire_hash == row["questionnaire_hash"]
        and json.loads(found.dimensions) == row["dimensions"]
    )


def _rescored(
    questionnaire: Questionnaire,
    answers: dict[str, AnswerValue],
    changed: Collection[str],
    previous: Mapping[str, AnswerValue | None],
    evidence: set[str],
    stored: StoredRow,
) -> ResponseScore | None:
    """The self score after answers to ``changed`` changed, scoring only their dimensions
    and those where the change showed or hid a question; ``None`` when it must be scored
    in full: the stored result is of another questionnaire (or another shape)."""
    dimensions = json.loads(stored.dimensions)
    if (
        stored.questionnaire_hash != questionnaire.content_hash
        or not isinstance(dimensions, dict)
        or set(dimensions) != {d.code for d in questionnaire.dimensions}
    ):
        return None
    touched = {questionnaire.dimension_of(c) for c in changed if c in questionnaire.questions}
    visible = visibility(questionnaire, answers)
    if not questionnaire.show_if_refs.isdisjoint(changed):
        before = dict(answers)
        for code in changed:
            old = previous.get(code)
            if old is None:
                before.pop(code, None)
            else:
                before[code] = old
        shown_before = visibility(questionnaire, before)
        touched |= {
            questionnaire.dimension_of(c)
            for c, shown in visible.items()
            if shown != shown_before[c]
        }
    completeness, missing, missing_evidence = _completeness(
        questionnaire, answers, visible, evidence
    )
    result = ResponseScore(
        None,
        None,
        {
            code: DimensionScore(
                code, None if d.get("score") is None else Decimal(d["score"]), d.get("level")
            )
            for code, d in dimensions.items()
        },
        completeness,
        missing,
        missing_evidence,
    )
    # With nothing to score again, one dimension still gives the overall from the others.
    for code in touched or [questionnaire.dimensions[0].code]:
        result = rescore_dimension(questionnaire, result, answers, visible, code)
    return result


def _record(result: ResponseScore) -> dict[str, Any]:
    return {
        "completeness": result.completeness,
        "overall": {"score": result.overall, "level": result.level},
        "dimensions": {
            code: {"score": d.score, "level": d.level} for code, d in result.dimensions.items()
        },
    }


def of_round(round_: Round, ids: Collection[int] | None = None) -> list[Response]:
    """Every response of a round (or those of ``ids``), with what scoring and imports read
    loaded in bulk."""
    query = select(Response).filter_by(round_id=round_.id)
    if ids is not None:
        query = query.where(Response.id.in_(list(ids)))
    return list(
        db.session.scalars(
            query.options(
                selectinload(Response.agency),
                selectinload(Response.answers),
                selectinload(Response.verified),
                selectinload(Response.results),
            )
        )
    )


def recompute_round(round_: Round, responses: Sequence[Response] | None = None) -> int:
    """Score responses of a round at once with the vectorised engine; returns how many.

    Without ``responses``, the whole round is recomputed set-based (see
    :func:`recompute_all`): nothing is loaded as ORM objects. With ``responses`` (ORM objects
    the caller holds, answers and results loaded), those are scored and their results set on
    the objects.
    """
    if responses is None:
        return recompute_all(round_)
    if not responses:
        return 0
    lock_responses(Response.id.in_([response.id for response in responses]))
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


#: Beyond this many responses, :func:`recompute_responses` scores the whole round set-based
#: (about a second at 8,000 responses) rather than load these as ORM objects (a few ms each).
SET_BASED_FROM = 200


def recompute_responses(round_: Round, ids: Collection[int]) -> int:
    """Recompute these responses of a round (written behind the ORM's back, as an import
    does); returns how many. Many at once: the whole round set-based, which writes only
    the results that changed (:func:`recompute_all`)."""
    if not ids:
        return 0
    if len(ids) > SET_BASED_FROM:
        recompute_all(round_)
        return len(ids)
    return recompute_round(round_, of_round(round_, ids))


# -- the whole round, set-based ----------------------------------------------------------------
#
# A national round holds 8,000 responses and about 700,000 answers: loading them as ORM
# objects takes most of a minute. Here every table is read with one plain query, each
# distinct stored JSON text of a question is parsed once (a question has few distinct
# answers), the vectorised engine scores every response, and only the results that differ
# from the stored ones are written, with one statement per table.


def round_answers(
    round_id: int, model: type[Answer] | type[VerifiedAnswer] = Answer
) -> tuple[list[tuple[str, str | None]], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every answer (or verified value) of a round, grouped by question and stored JSON
    text: the distinct ``(question code, JSON text)`` pairs, how many answers each has, and
    the response ids of all answers, group after group.

    One query through the database driver. A question has few distinct answers, so each
    is parsed once (see :class:`_Parser`) and placed for all its responses at once. On
    PostgreSQL the database groups them and sends each group's response ids as one packed
    binary string, so some 700,000 answers arrive as about 10,000 rows and no Python object
    is made per answer.
    """
    table = model.__tablename__
    source = (
        f"FROM {table} a JOIN response r ON r.id = a.response_id "  # noqa: S608 (table name, int)
        f"WHERE r.round_id = {int(round_id)}"
    )
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute(
                "SELECT a.question_code, CAST(a.value AS TEXT), "
                "string_agg(int4send(a.response_id), ''::bytea) " + source + " GROUP BY 1, 2"
            )
            rows = cursor.fetchall()
        pairs = [(code, text) for code, text, _packed in rows]
        packed = [bytes(row[2]) for row in rows]
        sizes = np.fromiter((len(p) // 4 for p in packed), dtype=np.int64, count=len(packed))
        ids = np.frombuffer(b"".join(packed), dtype=">i4").astype(np.int64)
        return pairs, sizes, ids
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SELECT a.response_id, a.question_code, CAST(a.value AS TEXT) " + source)
        groups: dict[tuple[str, str | None], list[int]] = {}
        for response_id, code, text in cursor.fetchall():
            groups.setdefault((code, text), []).append(response_id)
    finally:
        cursor.close()
    sizes = np.fromiter((len(g) for g in groups.values()), dtype=np.int64, count=len(groups))
    ids = np.fromiter(
        (i for g in groups.values() for i in g), dtype=np.int64, count=int(sizes.sum())
    )
    return list(groups), sizes, ids


class _Parser:
    """Stored JSON texts into (column, parsed answer), each distinct (question, text) once."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questions = questionnaire.questions
        self.position = {code: i for i, code in enumerate(questionnaire.questions)}
        self.memo: dict[tuple[str, str | None], tuple[int, AnswerValue | None]] = {}

    def __call__(self, code: str, text: str | None) -> tuple[int, AnswerValue | None]:
        """The question's column (-1: a question the version lacks) and the parsed value
        (``None``: unanswered)."""
        key = (code, text)
        found = self.memo.get(key)
        if found is None:
            question = self.questions.get(code)
            if question is None:
                found = (-1, None)
            else:
                value = None if text is None else parse_json_value(question, json.loads(text))
                found = (self.position[code], value)
            self.memo[key] = found
        return found


def round_answer_sets(
    questionnaire: Questionnaire, round_id: int
) -> dict[int, dict[str, AnswerValue]]:
    """Every response's answers in a round, parsed as :func:`parse_stored` parses them
    (values of unknown codes skipped), by response id, in questionnaire order: read through
    :func:`round_answers`, each distinct stored value parsed once, no ORM object made (an
    export of 8,000 agencies' 650,000 answers read them as objects in about 16 s)."""
    parse = _Parser(questionnaire)
    pairs, sizes, response_ids = round_answers(round_id, Answer)
    found: dict[int, list[tuple[int, str, AnswerValue]]] = {}
    for (code, text), size, start in zip(
        pairs, sizes.tolist(), (np.cumsum(sizes) - sizes).tolist(), strict=True
    ):
        column, value = parse(code, text)
        if column < 0 or value is None:
            continue
        for response_id in response_ids[start : start + size].tolist():
            found.setdefault(response_id, []).append((column, code, value))
    return {
        response_id: {code: value for _column, code, value in sorted(items, key=_first)}
        for response_id, items in found.items()
    }


def _first(item: tuple[int, str, AnswerValue]) -> int:
    return item[0]


def answer_tables(
    questionnaire: Questionnaire, round_id: int, ids: Sequence[int]
) -> tuple[npt.NDArray[np.object_], list[int], npt.NDArray[np.object_]]:
    """The answers of a round's responses as the table :func:`score_table` scores (one row
    per response of ``ids``, one column per question), and the verified answer sets of the
    responses that have verified values (their ids and table: verified values over the
    respondent's; a verified empty value removes the answer), as :func:`answer_sets` gives
    them for one response."""
    parse = _Parser(questionnaire)
    row_of = {response_id: i for i, response_id in enumerate(ids)}
    own = np.full((len(ids), len(parse.position)), None, dtype=object)
    pairs, sizes, response_ids = round_answers(round_id, Answer)
    columns = np.empty(len(pairs), dtype=np.int64)
    values = np.empty(len(pairs), dtype=object)
    for i, (code, text) in enumerate(pairs):
        columns[i], values[i] = parse(code, text)
    # Every answer placed with one array assignment: the group of each answer, its row.
    group = np.repeat(np.arange(len(pairs)), sizes)
    keep = columns[group] >= 0
    rows = pd.Index(ids).get_indexer(response_ids[keep])
    own[rows, columns[group[keep]]] = values[group[keep]]
    overrides: dict[int, list[tuple[int, AnswerValue | None]]] = {}
    pairs, sizes, response_ids = round_answers(round_id, VerifiedAnswer)
    for (code, text), size, start in zip(
        pairs, sizes.tolist(), (np.cumsum(sizes) - sizes).tolist(), strict=True
    ):
        column, value = parse(code, text)
        if column >= 0:
            for response_id in response_ids[start : start + size].tolist():
                overrides.setdefault(response_id, []).append((column, value))
    checked_ids = sorted(overrides)
    checked = own[[row_of[i] for i in checked_ids]] if checked_ids else own[:0].copy()
    for row, response_id in enumerate(checked_ids):
        for column, value in overrides[response_id]:
            checked[row, column] = value
    return own, checked_ids, checked


def stored_rows(batch: BatchScores, digest: str) -> dict[Hashable, StoredRow]:
    """Each response's result as it is stored (exact decimal strings; the dimensions as the
    JSON text the database column gets), from a batch."""
    dims = [d.code for d in batch.questionnaire.dimensions]
    measures = ["overall", *dims]
    scores = batch.scores.loc[:, measures].to_numpy(dtype="float64").tolist()
    levels = batch.levels.loc[:, measures].to_numpy(dtype=object).tolist()
    completeness = batch.completeness.to_numpy(dtype="float64").tolist()
    # The JSON of {code: {"score": "58.33", "level": "2"}, …} as json.dumps writes it.
    keys = [json.dumps(code) for code in dims]
    quoted: dict[str | None, str] = {None: "null"}
    out: dict[Hashable, StoredRow] = {}
    for i, response in enumerate(batch.responses):
        # Scores are whole hundredths (completeness whole tenths) as floats: the format of
        # the nearest double is the exact decimal, as _text gives it.
        texts = [None if math.isnan(v) else f"{v:.2f}" for v in scores[i]]
        level = levels[i]
        parts = []
        for j, key in enumerate(keys):
            code = level[j + 1]
            if code not in quoted:
                quoted[code] = json.dumps(code)
            score = texts[j + 1]
            shown = "null" if score is None else '"' + score + '"'
            parts.append(f'{key}: {{"score": {shown}, "level": {quoted[code]}}}')
        out[response] = StoredRow(
            completeness=f"{completeness[i]:.1f}",
            overall_score=texts[0],
            overall_level=level[0],
            dimensions="{" + ", ".join(parts) + "}",
            questionnaire_hash=digest,
        )
    return out


@without_collection
def recompute_all(round_: Round) -> int:
    """Recompute every response of a round set-based; returns how many responses.

    The same figures as :func:`recompute` per response (minus ``missing_evidence``, which is
    not stored). Results and completeness that did not change are not written, so their
    ``computed_at`` stays the time they were last changed and a recomputation that changes
    nothing changes nothing (dashboards' caches stay valid).
    """
    db.session.flush()
    questionnaire = questionnaire_of(round_.questionnaire)
    digest = questionnaire.content_hash
    states = core_rows(
        select(Response.id, Response.completeness, Response.results_version).where(
            Response.round_id == round_.id
        )
    )
    if not states:
        return 0
    responses = {row[0]: row[1] for row in states}
    ids = sorted(responses)
    own, checked_ids, checked = answer_tables(questionnaire, round_.id, ids)
    computed = stored_rows(score_table(questionnaire, ids, own), digest)
    verified = (
        stored_rows(score_table(questionnaire, checked_ids, checked), digest) if checked_ids else {}
    )
    existing: dict[tuple[int, str], tuple[int, StoredRow]] = {}
    for found_row in core_rows(
        select(
            Result.id,
            Result.response_id,
            Result.kind,
            Result.completeness,
            Result.overall_score,
            Result.overall_level,
            cast(Result.dimensions, Text),
            Result.questionnaire_hash,
        )
        .join(Response, Result.response_id == Response.id)
        .where(Response.round_id == round_.id)
    ):
        existing[(found_row[1], found_row[2])] = (
            found_row[0],
            StoredRow(found_row[3], found_row[4], found_row[5], found_row[6], found_row[7]),
        )
    now = utcnow()
    changed: list[tuple[int | None, int, str, StoredRow]] = []
    moves: list[tuple[int, str]] = []
    for response_id in ids:
        mine = computed[response_id]
        for kind, row in (("self", mine), ("verified", verified.get(response_id, mine))):
            found = existing.get((response_id, kind))
            if found is None or found[1] != row:
                changed.append((None if found is None else found[0], response_id, kind, row))
        if responses[response_id] != mine.completeness:
            moves.append((response_id, mine.completeness))
    if changed or moves:
        written = {row[1] for row in changed} | {i for i, _ in moves}
        # Many: the round's every response rather than a list of thousands of ids.
        many = len(written) > 1000
        locked = lock_responses(
            Response.round_id == round_.id, *([] if many else [Response.id.in_(written)])
        )
        if locked is not None:
            # Results written since they were read here (a save of an open round, a
            # verified value) were scored by their writer on what it read then, newer
            # than what was read here: they stand.
            read = {row[0]: row[2] for row in states}
            newer = {i for i in written if locked.get(i) != read[i]}
            changed = [row for row in changed if row[1] not in newer]
            moves = [move for move in moves if move[0] not in newer]
        if changed or moves:
            _write_results(changed, moves, now)
        _expire_round(round_.id)
    return len(ids)


def _write_results(
    changed: Sequence[tuple[int | None, int, str, StoredRow]],
    moves: Sequence[tuple[int, str]],
    now: dt.datetime,
) -> None:
    """Store changed results (``id`` None: a new one) and responses' completeness.

    PostgreSQL: the rows are COPYed into temporary tables and written with one statement
    per table; other databases: executemany.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        values = [
            {
                "response_id": response_id,
                "kind": kind,
                "completeness": row.completeness,
                "overall_score": row.overall_score,
                "overall_level": row.overall_level,
                "dimensions": json.loads(row.dimensions),
                "questionnaire_hash": row.questionnaire_hash,
                "computed_at": now,
                "id": id_,
            }
            for id_, response_id, kind, row in changed
        ]
        inserts = [{k: v for k, v in r.items() if k != "id"} for r in values if r["id"] is None]
        updates = [r for r in values if r["id"] is not None]
        if inserts:
            db.session.execute(insert(Result), inserts)
        if updates:
            db.session.execute(update(Result), updates)
        if moves:
            db.session.execute(update(Response), [{"id": i, "completeness": c} for i, c in moves])
        return
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(
            "CREATE TEMP TABLE recompute_result (id int, response_id int, kind text, "
            "completeness text, overall_score text, overall_level text, dimensions text, "
            "questionnaire_hash text)"
        )
        with cursor.copy(
            "COPY recompute_result (id, response_id, kind, completeness, overall_score, "
            "overall_level, dimensions, questionnaire_hash) FROM STDIN"
        ) as copy:
            for id_, response_id, kind, row in changed:
                copy.write_row(
                    (id_, response_id, kind, row.completeness, row.overall_score,
                     row.overall_level, row.dimensions, row.questionnaire_hash)
                )  # fmt: skip
        cursor.execute(
            "UPDATE result SET completeness = t.completeness, overall_score = t.overall_score, "
            "overall_level = t.overall_level, dimensions = t.dimensions::json, "
            "questionnaire_hash = t.questionnaire_hash, computed_at = %s "
            "FROM recompute_result t WHERE t.id IS NOT NULL AND result.id = t.id",
            (now,),
        )
        cursor.execute(
            "INSERT INTO result (response_id, kind, completeness, overall_score, overall_level, "
            "dimensions, questionnaire_hash, computed_at) SELECT response_id, kind, "
            "completeness, overall_score, overall_level, dimensions::json, questionnaire_hash, "
            "%s FROM recompute_result WHERE id IS NULL",
            (now,),
        )
        cursor.execute("DROP TABLE recompute_result")
        if moves:
            cursor.execute("CREATE TEMP TABLE recompute_move (id int, completeness text)")
            with cursor.copy("COPY recompute_move (id, completeness) FROM STDIN") as copy:
                for move in moves:
                    copy.write_row(move)
            cursor.execute(
                "UPDATE response SET completeness = m.completeness FROM recompute_move m "
                "WHERE response.id = m.id"
            )
            cursor.execute("DROP TABLE recompute_move")


def _expire_round(round_id: int) -> None:
    """Forget what the session holds of the round's responses and results (just rewritten
    behind the ORM's back), so they are read again when next used."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Result) or (isinstance(obj, Response) and obj.round_id == round_id):
            db.session.expire(obj)


def number(text: str | None) -> float | None:
    """A stored score as the JSON number of interfaces.md (``null`` when empty)."""
    return None if text is None else float(Decimal(text))


def score_records(
    round_: Round, *, verified: bool = True, agency_ids: set[int] | None = None
) -> list[dict[str, Any]]:
    """``assess scores`` / ``GET …/scores``: one record per response, from the stored results.

    A response never started (``not_started``) has no scores: its record gives its status,
    completeness 0.0 and ``null`` for every score and level (interfaces.md: an empty score
    is ``null``), whether or not a round scored as a whole stored the zeros of its empty
    answers: it has no results page and no scorecard either (``scorecards.bulk.has_scores``).
    """
    kind = "verified" if verified else "self"
    # Plain columns in one query, the one kind of result joined: no ORM objects (8,000
    # responses, their agencies and both kinds of their results took 2.8 s).
    query = (
        select(
            Agency.code,
            Response.status,
            Result.id,
            Result.completeness,
            Result.overall_score,
            Result.overall_level,
            Result.dimensions,
        )
        .select_from(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .outerjoin(Result, (Result.response_id == Response.id) & (Result.kind == kind))
        .where(Response.round_id == round_.id)
    )
    if agency_ids is not None:
        query = query.where(Response.agency_id.in_(agency_ids))
    questionnaire = questionnaire_of(round_.questionnaire)
    empty: Result | None = None
    records = []
    # Sorted here, by code point, whatever the database's collation.
    for row in sorted(core_rows(query), key=lambda row: row[0]):
        code, status, result_id, completeness, overall_score, overall_level, dimensions = row
        if status == "not_started":
            records.append(_unscored(code, status, questionnaire))
            continue
        if result_id is None:  # started but never scored: the figures of an empty response
            empty = empty or _empty(questionnaire)
            completeness, overall_score = empty.completeness, empty.overall_score
            overall_level, dimensions = empty.overall_level, empty.dimensions
        records.append(
            {
                "agency": code,
                "status": status,
                "completeness": float(Decimal(completeness)),
                "overall": {"score": number(overall_score), "level": overall_level},
                "dimensions": {
                    d.code: {
                        "score": number(dimensions.get(d.code, {}).get("score")),
                        "level": dimensions.get(d.code, {}).get("level"),
                    }
                    for d in questionnaire.dimensions
                },
            }
        )
    return records


def _unscored(code: str, status: str, questionnaire: Questionnaire) -> dict[str, Any]:
    """The record of a response never started: no score, no level."""
    return {
        "agency": code,
        "status": status,
        "completeness": 0.0,
        "overall": {"score": None, "level": None},
        "dimensions": {d.code: {"score": None, "level": None} for d in questionnaire.dimensions},
    }


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
