"""Responses: answering, evidence, the workflow, review and verified values.

Workflow (interfaces.md): ``not_started → draft → submitted → accepted``, with
``submitted|accepted → returned → submitted``. Coordinators change answers only in
``not_started``, ``draft`` or ``returned`` while the round accepts answers. Every change is
written to the audit trail and the stored results are recomputed in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    func,
    insert,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from assess import i18n, thai
from assess.extensions import db
from assess.labels import RESPONSE_STATUS, ROUND_STATUS
from assess.models import (
    EDITABLE_STATUSES,
    Agency,
    Answer,
    AuditEvent,
    Comment,
    Response,
    Round,
    User,
    VerifiedAnswer,
    utcnow,
)
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import (
    AnswerError,
    AnswerValue,
    dumps,
    parse_json_value,
    to_json_value,
    unknown_question,
)
from assess.questionnaires.model import Question
from assess.scoring.engine import ResponseScore
from assess.services import audit, locks, results, rounds, writes
from assess.services.errors import (
    MAX_PROBLEMS,
    InvalidAnswers,
    NotAllowed,
    NotFound,
    ServiceError,
    StaleRevision,
    WrongState,
)
from assess.services.questionnaires import questionnaire_of


class Incomplete(ServiceError):
    """Submit refused: questions or evidence are missing (details list them)."""

    status = 422


def stored(value: AnswerValue) -> Any:
    """A parsed answer as the JSON value kept in the database."""
    return json.loads(dumps(to_json_value(value)))


def get_response(round_: Round, agency: Agency) -> Response:
    """The response of ``agency`` to ``round_``; :class:`NotFound` if it was not invited."""
    found = db.session.scalar(select(Response).filter_by(round_id=round_.id, agency_id=agency.id))
    if found is None:
        raise NotFound(
            _(
                "agency %(agency)s is not invited to round %(round)s",
                agency=agency.code,
                round=round_.id,
            )
        )
    return found


def can_view(user: User, response: Response) -> bool:
    """Central office sees every response; a coordinator only the own agency's, once open."""
    if user.is_central:
        return True
    return user.agency_id == response.agency_id and response.round.status != "draft"


def require_view(user: User, response: Response) -> None:
    """:class:`NotFound` (not 403: nothing leaks about other agencies) unless allowed."""
    if not can_view(user, response):
        raise NotFound(_("no such response"))


def blocked(response: Response, now: dt.datetime | None = None) -> str | None:
    """Why the coordinator cannot change answers now, as a code, or ``None`` when they can.

    ``status`` (submitted or accepted), else :func:`rounds.why_closed`'s code.
    """
    if response.status not in EDITABLE_STATUSES:
        return "status"
    return rounds.why_closed(response.round, now)


def editable(response: Response, now: dt.datetime | None = None) -> str | None:
    """Why the coordinator cannot change answers now, in words, or ``None`` when they can."""
    why = blocked(response, now)
    if why is None:
        return None
    if why == "status":
        return _("the response is %(status)s", status=i18n.word(response.status, RESPONSE_STATUS))
    return rounds.closed_reason(response.round, now)


#: Refusals as whole sentences, (what was refused, why) → message: a translation never
#: has to glue a reason into another sentence.
_REFUSALS = {
    ("answers", "status"): _l("answers cannot be changed: the response is %(status)s"),
    ("answers", "not_open"): _l("answers cannot be changed: the round has not opened yet"),
    ("answers", "closed"): _l("answers cannot be changed: the round is closed"),
    ("answers", "results"): _l("answers cannot be changed: the round's results are out"),
    ("answers", "opens_later"): _l("answers cannot be changed: the round opens on %(date)s"),
    ("answers", "deadline"): _l("answers cannot be changed: the deadline has passed"),
    ("evidence", "status"): _l("evidence cannot be changed: the response is %(status)s"),
    ("evidence", "not_open"): _l("evidence cannot be changed: the round has not opened yet"),
    ("evidence", "closed"): _l("evidence cannot be changed: the round is closed"),
    ("evidence", "results"): _l("evidence cannot be changed: the round's results are out"),
    ("evidence", "opens_later"): _l("evidence cannot be changed: the round opens on %(date)s"),
    ("evidence", "deadline"): _l("evidence cannot be changed: the deadline has passed"),
    ("submit", "not_open"): _l("cannot submit: the round has not opened yet"),
    ("submit", "closed"): _l("cannot submit: the round is closed"),
    ("submit", "results"): _l("cannot submit: the round's results are out"),
    ("submit", "opens_later"): _l("cannot submit: the round opens on %(date)s"),
    ("submit", "deadline"): _l("cannot submit: the deadline has passed"),
}


def refusal(what: str, response: Response, why: str) -> str:
    """The refusal of ``what`` (``answers``, ``evidence``, ``submit``) for the reason ``why``
    (a code of :func:`blocked`), as one sentence in the current language."""
    opens_on = response.round.opens_on
    return str(_REFUSALS[what, why]) % {
        "status": i18n.word(response.status, RESPONSE_STATUS),
        "date": i18n.day(opens_on) if opens_on else "",
    }


def current_json(response: Response) -> dict[str, Any]:
    """The stored answers as their JSON values."""
    return {a.question_code: a.value for a in response.answers}


@dataclass(frozen=True)
class Saved:
    """What a save leaves: the self score (with evidence), the stored answers as JSON
    values and as parsed answers (for a reply that shows them)."""

    result: ResponseScore
    answers: dict[str, Any]
    parsed: dict[str, AnswerValue]


def save_answers(
    response: Response,
    raw: Mapping[str, Any],
    *,
    revision: int | None,
    actor: User,
    now: dt.datetime | None = None,
    check_state: bool = True,
    questionnaire: Questionnaire | None = None,
) -> ResponseScore:
    """Merge answers into a response (``None`` clears one); all or nothing.

    ``revision`` must be the response's current revision (``None`` skips the check, for
    imports); otherwise :class:`StaleRevision` carries the current values and nothing is
    saved. Invalid values raise :class:`InvalidAnswers` naming each question. Only the
    dimensions of the answers that changed are scored again when that is enough (see
    :func:`results.recompute`). ``questionnaire``: the response's, when the caller has it.
    """
    return save(
        response,
        raw,
        revision=revision,
        actor=actor,
        now=now,
        check_state=check_state,
        questionnaire=questionnaire,
    ).result


def save(
    response: Response,
    raw: Mapping[str, Any],
    *,
    revision: int | None,
    actor: User,
    now: dt.datetime | None = None,
    check_state: bool = True,
    questionnaire: Questionnaire | None = None,
) -> Saved:
    """:func:`save_answers`, returning the answers too.

    The save reads what it needs as plain values in one query (:func:`results.read_state`),
    scores the change before it writes anything, then claims the next revision (with the
    new completeness) and writes the answers, their audit events and the results that
    changed as plain statements: an autosave loads and flushes no ORM object. What the
    session holds of the response's answers and results is expired.
    """
    if check_state:
        if actor.role == "coordinator" and actor.agency_id != response.agency_id:
            raise NotFound(_("no such response"))
        why = blocked(response, now)
        if why is not None:
            raise WrongState(refusal("answers", response, why))
    if revision is not None and revision != response.revision:
        raise StaleRevision(response.revision, current_json(response))
    questionnaire = questionnaire or questionnaire_of(response.questionnaire)
    parsed: dict[str, AnswerValue | None] = {}
    problems: dict[str, str] = {}  # the first MAX_PROBLEMS, as messages
    count = 0  # and how many there are
    for code, value in raw.items():
        question = questionnaire.questions.get(code)
        try:
            if question is None:
                raise unknown_question(questionnaire)
            parsed[code] = parse_json_value(question, value)
        except AnswerError as exc:
            count += 1
            if count <= MAX_PROBLEMS:
                problems[code] = i18n.reason(exc)
    if problems:
        raise InvalidAnswers(problems, total=count)
    held = locks.hold_for_save(response)
    if held is not None:
        # PostgreSQL: the round and the response are now this save's until it commits; the
        # checks above saw them before, so they are made again on what holds now.
        revision = _recheck(response, held, revision, now, check_state)
    elif revision is None:
        # No check asked (scripts): the current revision (SQLite: one writer at a time).
        revision = db.session.connection().execute(_REVISION, {"c_id": response.id}).scalar_one()
    state = results.read_state(response.id)
    values = dict(state.answers)
    changes: dict[str, tuple[Any, Any]] = {}  # code → (old, new) stored JSON values
    previous: dict[str, AnswerValue | None] = {}
    for code, value in parsed.items():
        old = values.get(code)
        new = None if value is None else stored(value)
        if old == new:
            continue
        changes[code] = (old, new)
        previous[code] = None if old is None else _parse_stored_value(questionnaire, code, old)
        if new is None:
            values.pop(code, None)
        else:
            values[code] = new
    own: dict[str, AnswerValue] = {}
    for code, value in values.items():
        question = questionnaire.questions.get(code)
        if question is not None:
            answer = parse_json_value(question, value)
            if answer is not None:
                own[code] = answer
    mine, checked = results.rescore(questionnaire, state, own, changes, previous)
    if changes:
        # (A save that changes nothing writes nothing: its revision stays, so other tabs
        # are not told of a change that was not made.)
        now_ = utcnow()
        completeness = results.completeness_text(mine)
        _write(
            response,
            revision,
            now_,
            completeness,
            [
                *_answer_writes(response, changes, state.answers, actor, now_),
                *results.result_writes(
                    response.id, state, mine, checked, questionnaire.content_hash, now_
                ),
            ],
            editable_only=check_state,
        )
        _forget_answers(response, changes)
        for row in response.__dict__.get("results") or ():
            db.session.expire(row)
        db.session.expire(response, ["results"])
    if response.status == "not_started":
        set_status(response, "draft", actor)
    return Saved(mine, values, own)


def _answer_statements() -> tuple[Any, Any, Any]:
    """The statements of :func:`_answer_writes`, built once: insert, update and delete one
    answer."""
    table = Answer.__table__
    where = (table.c.response_id == bindparam("a_response_id")) & (
        table.c.question_code == bindparam("a_code")
    )
    columns = {
        "value": bindparam("a_value"),
        "updated_at": bindparam("a_at"),
        "updated_by_id": bindparam("a_by"),
    }
    # Inline: no RETURNING of the new id, which nobody reads.
    insert_ = (
        table.insert()
        .inline()
        .values(
            response_id=bindparam("a_response_id"), question_code=bindparam("a_code"), **columns
        )
    )
    return insert_, table.update().where(where).values(**columns), table.delete().where(where)


_INSERT_ANSWER, _UPDATE_ANSWER, _DELETE_ANSWER = _answer_statements()


def _answer_writes(
    response: Response,
    changes: Mapping[str, tuple[Any, Any]],
    stored_before: Mapping[str, Any],
    actor: User,
    now: dt.datetime,
) -> list[tuple[Any, Any]]:
    """The writes of changed answers (new JSON value ``None``: removed) and of one audit
    event each (none when nothing changed)."""
    if not changes:
        return []
    found: list[tuple[Any, Any]] = []
    for code, (_old, new) in changes.items():
        key = {"a_response_id": response.id, "a_code": code}
        if new is None:
            found.append((_DELETE_ANSWER, key))
        else:
            statement = _UPDATE_ANSWER if code in stored_before else _INSERT_ANSWER
            found.append((statement, key | {"a_value": new, "a_at": now, "a_by": actor.id}))
    found.append(
        audit.insert_write(
            "answer",
            actor,
            [
                {
                    "response_id": response.id,
                    "round_id": response.round_id,
                    "question_code": code,
                    "old": old,
                    "new": new,
                    "at": now,
                }
                for code, (old, new) in changes.items()
            ],
        )
    )
    return found


def _forget_answers(response: Response, changes: Mapping[str, tuple[Any, Any]]) -> None:
    """Forget the session's copies of the answers that changed: rows it holds (answers
    loaded before the save) would keep their old values when the collection is read again."""
    if not changes:
        return
    for row in response.__dict__.get("answers") or ():
        if row.question_code in changes:
            if changes[row.question_code][1] is None:
                db.session.expunge(row)
            else:
                db.session.expire(row)
    db.session.expire(response, ["answers"])


def _parse_stored_value(questionnaire: Questionnaire, code: str, value: Any) -> AnswerValue | None:
    """A stored value as a parsed answer; ``None`` when it no longer parses (it is then
    treated as unanswered, as :func:`results.parse_stored` would fail on it anyway)."""
    try:
        return parse_json_value(questionnaire.questions[code], value)
    except AnswerError:
        return None


def _recheck(
    response: Response,
    held: locks.Held,
    revision: int | None,
    now: dt.datetime | None,
    check_state: bool,
) -> int:
    """The revision a save claims, once its round and response are held (``held``: the
    response's status and revision as they are now); :class:`WrongState` or
    :class:`StaleRevision` as :func:`save`'s first checks, on what holds now. (The round's
    status is checked again by the claim.)"""
    set_committed_value(response, "status", held.status)
    if check_state:
        why = blocked(response, now)
        if why is not None:
            raise WrongState(refusal("answers", response, why))
    if revision is not None and revision != held.revision:
        set_committed_value(response, "revision", held.revision)
        db.session.expire(response, ["answers"])
        raise StaleRevision(held.revision, current_json(response))
    return int(held.revision)


def _revision_claims() -> tuple[Any, Any, Any]:
    """The statements of :func:`save`'s revision, built once: the next revision if the
    current one is the expected one (and, for a coordinator's save, if the response may
    still be changed and its round is open); the current one."""
    table = Response.__table__
    mine = table.c.id == bindparam("c_id")
    expected = bindparam("c_expected", type_=Integer)
    claim = (
        table.update()
        .where(mine, table.c.revision == expected)
        .values(
            revision=expected + 1,
            updated_at=bindparam("c_at"),
            completeness=bindparam("c_completeness"),
        )
    )
    rounds_ = Round.__table__
    open_round = (
        select(rounds_.c.id)
        .where(rounds_.c.id == table.c.round_id, rounds_.c.status == "open")
        .exists()
    )
    # (The statuses written out: the pipeline of writes takes no list of values.)
    statuses = [literal_column(f"'{status}'") for status in EDITABLE_STATUSES]
    editable = claim.where(table.c.status.in_(statuses), open_round)
    return claim, editable, select(table.c.revision).where(mine)


_CLAIM_REVISION, _CLAIM_EDITABLE, _REVISION = _revision_claims()


def _claim_write(
    response: Response,
    expected: int,
    now: dt.datetime,
    completeness: str,
    *,
    editable_only: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """The revision claim: the response moves to its next revision, stamped ``now`` with its
    new ``completeness``, if it is still at ``expected`` (and with ``editable_only``, still
    open to its coordinator: checked as it is written, whatever the database)."""
    return _CLAIM_EDITABLE if editable_only else _CLAIM_REVISION, {
        "c_id": response.id,
        "c_at": now,
        "c_completeness": completeness,
        "c_expected": expected,
    }


def _write(
    response: Response,
    expected: int,
    now: dt.datetime,
    completeness: str,
    found: list[tuple[Any, Any]],
    *,
    editable_only: bool = False,
) -> None:
    """Run a save's writes after its revision claim (:func:`_claim_write`), atomically with
    the move to the next revision.

    Two tabs saving at once both pass the revision check above; the conditional UPDATE
    lets only the first through (the database serialises the two writes), so the second
    gets :class:`StaleRevision` instead of silently overwriting the first (its other writes
    are rolled back with it). A claim refused because the response was submitted, or its
    round closed, meanwhile gets :class:`WrongState`, as if the save had come after.
    """
    busy: OperationalError | None = None
    try:
        claimed = writes.run(
            db.session.connection(),
            [
                _claim_write(response, expected, now, completeness, editable_only=editable_only),
                *found,
            ],
        )
    except OperationalError as exc:
        # SQLite refuses to write from a snapshot older than another tab's commit.
        claimed, busy = 0, exc
    if claimed != 1:
        db.session.rollback()
        current = db.session.get(Response, response.id)
        assert current is not None
        db.session.refresh(current)
        if current.revision == expected:
            if editable_only:
                db.session.refresh(current.round)
                why = blocked(current)
                if why is not None:
                    raise WrongState(refusal("answers", current, why)) from busy
            if busy is not None:
                raise busy  # not a conflict: the database stayed busy too long
        raise StaleRevision(current.revision, current_json(current))
    set_committed_value(response, "revision", expected + 1)
    set_committed_value(response, "updated_at", now)
    set_committed_value(response, "completeness", completeness)


def replace_answers(
    response: Response, answers: Mapping[str, AnswerValue], *, actor: User | None, source: str
) -> None:
    """Replace every answer of a response (an import): one audit event for the whole set."""
    before = len(response.answers)
    response.answers.clear()
    db.session.flush()
    now = utcnow()
    for code, value in answers.items():
        response.answers.append(
            Answer(
                question_code=code,
                value=stored(value),
                updated_at=now,
                updated_by_id=actor.id if actor else None,
            )
        )
    response.revision += 1
    response.updated_at = now
    audit.record(
        "answers.import",
        actor,
        response=response,
        old={"answers": before},
        new={"answers": len(answers)},
        detail=source,
    )


@dataclass(frozen=True)
class Replacement:
    """One response's answers replaced by a round's import, and the status it moves to."""

    response_id: int
    #: Its status as the import read it: the response moves only if it is still so.
    seen: str
    status: str
    answers: Mapping[str, AnswerValue]


#: Each response's id, its agency's code and its status (callers add their conditions).
AGENCY_STATUSES = select(Response.id, Agency.code, Response.status).join(
    Agency, Response.agency_id == Agency.id
)
#: Ids bound per statement when a list of responses is deleted from or counted.
_CHUNK = 1000
#: Answers per executemany of an import where there is no COPY (SQLite).
_ROWS_PER_INSERT = 10_000


def replace_many(
    round_id: int, rows: Sequence[Replacement], *, actor: User | None, source: str
) -> None:
    """Replace every answer of many responses of a round (an import), and move their status:
    what :func:`replace_answers` and :func:`set_status` do one response at a time, with the
    same audit events, in a few statements (no ORM object per answer: a national round's
    import, 7,835 responses and 650,000 answers, took two minutes and 1.6 GB one by one).

    A response moves only from the status the import read (``seen``), and its revision
    moves on, so an autosave begun before the import is refused as stale rather than
    written over it. If any response moved meanwhile, nothing is written and
    :class:`WrongState` is raised. The caller commits, and recomputes the results.
    """
    if not rows:
        return
    db.session.flush()
    locks.share_round(round_id)  # before its responses' rows (see assess.services.locks)
    now = utcnow()
    ids = [row.response_id for row in rows]
    before: dict[int, int] = {}
    for chunk in _chunks(ids):
        before.update(
            db.session.execute(  # type: ignore[arg-type]
                select(Answer.response_id, func.count())
                .where(Answer.response_id.in_(chunk))
                .group_by(Answer.response_id)
            ).all()
        )
    try:
        claimed = db.session.execute(
            _CLAIM,
            # In id order: two imports claiming the same responses lock them in one order,
            # and neither waits for the other in a circle.
            [
                {"rid": r.response_id, "seen": r.seen, "status": r.status, "now": now}
                for r in sorted(rows, key=_response_id)
            ],
            execution_options={"synchronize_session": False},
        ).rowcount  # type: ignore[attr-defined]
    except OperationalError:
        claimed = 0  # SQLite: another transaction wrote since this one read
    if claimed != len(rows):
        db.session.rollback()
        raise WrongState(_moved_meanwhile(rows))
    for chunk in _chunks(ids):
        db.session.execute(
            delete(Answer).where(Answer.response_id.in_(chunk)),
            execution_options={"synchronize_session": False},
        )
    _insert_answers(rows, actor, now)
    audit.insert(
        "answers.import",
        actor,
        [
            {
                "response_id": r.response_id,
                "round_id": round_id,
                "old": {"answers": before.get(r.response_id, 0)},
                "new": {"answers": len(r.answers)},
                "detail": source,
            }
            for r in rows
        ],
    )
    audit.insert(
        "status",
        actor,
        [
            {
                "response_id": r.response_id,
                "round_id": round_id,
                "old": r.seen,
                "new": r.status,
                "detail": f"import {source}",
            }
            for r in rows
            if r.status != r.seen
        ],
    )
    _forget(set(ids))


def _moved_meanwhile(rows: Sequence[Replacement]) -> str:
    """Which responses of ``rows`` are no longer in the status the import read (after the
    import's transaction was rolled back), named by agency and status now."""
    seen = {r.response_id: r.seen for r in rows}
    moved: list[str] = []
    for chunk in _chunks(list(seen)):
        found = db.session.execute(AGENCY_STATUSES.where(Response.id.in_(chunk)))
        moved += [
            f"{code} ({i18n.word(status, RESPONSE_STATUS)})"
            for rid, code, status in found
            if status != seen[rid]
        ]
    db.session.rollback()  # nothing of this transaction is kept
    if not moved:  # (SQLite: another transaction was writing)
        return _("responses changed while the file was read; nothing was imported: import it again")
    return _(
        "responses changed while the file was read: %(agencies)s; nothing was imported: "
        "import it again",
        agencies=", ".join(sorted(moved)[:5]) + (", …" if len(moved) > 5 else ""),
    )


#: The import's claim on a response: revision and save time move on, the status is set; only
#: while the status is the one read.
_CLAIM = (
    update(Response.__table__)
    .where(Response.id == bindparam("rid"), Response.status == bindparam("seen"))
    .values(revision=Response.revision + 1, updated_at=bindparam("now"), status=bindparam("status"))
)


def _response_id(row: Replacement) -> int:
    return row.response_id


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _insert_answers(rows: Sequence[Replacement], actor: User | None, now: dt.datetime) -> None:
    """Insert the answers of ``rows``: COPY on PostgreSQL, one executemany elsewhere. Each
    distinct value is made into what is stored once (a question has few distinct answers)."""
    by = actor.id if actor is not None else None
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    # The stored JSON value; on PostgreSQL its text, as the JSON column writes it (json.dumps).
    made: dict[tuple[type, AnswerValue], Any] = {}

    def stored_once(value: AnswerValue) -> Any:
        key = (value.__class__, value)  # True, 1 and Decimal(1) are equal keys otherwise
        found = made.get(key)
        if found is None:
            found = made[key] = json.dumps(stored(value)) if postgresql else stored(value)
        return found

    if not postgresql:
        values = (
            {
                "response_id": r.response_id,
                "question_code": code,
                "value": stored_once(value),
                "updated_at": now,
                "updated_by_id": by,
            }
            for r in rows
            for code, value in r.answers.items()
        )
        # In batches: a national round's 650,000 rows at once would hold them all in memory.
        while batch := list(itertools.islice(values, _ROWS_PER_INSERT)):
            db.session.execute(insert(Answer), batch)
        return
    at = now.isoformat()  # as text once: adapting the datetime of every row took half the time
    raw = connection.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(  # type: ignore[union-attr]
            "COPY answer (response_id, question_code, value, updated_at, updated_by_id) FROM STDIN"
        ) as copy,
    ):
        for r in rows:
            for code, value in r.answers.items():
                copy.write_row((r.response_id, code, stored_once(value), at, by))


def _forget(ids: set[int]) -> None:
    """Drop what the session holds of these responses' answers and expire the responses
    (rewritten behind the ORM's back): they are read again when next used."""
    for obj in list(db.session.identity_map.values()):
        state = inspect(obj)  # read without loading: an expired answer's row is gone
        if isinstance(obj, Answer) and state.dict.get("response_id") in ids:
            db.session.expunge(obj)
        elif isinstance(obj, Response) and state.identity and state.identity[0] in ids:
            db.session.expire(obj)


def set_status(
    response: Response,
    status: str,
    actor: User | None,
    detail: str = "",
    *,
    revision: int | None = None,
) -> None:
    """Move a response to ``status``, on the audit trail (callers check the move is allowed).

    The move is a conditional UPDATE on the status the caller saw (and on ``revision``, the
    answers it checked, when given): of two reviewers (or a double click) acting at once,
    only the first moves the response; the other gets :class:`WrongState` instead of a
    second, contradictory move.
    """
    old = response.status
    seen = [Response.id == response.id, Response.status == old]
    if revision is not None:
        seen.append(Response.revision == revision)
    locks.move_status(
        response,
        seen,
        status,
        _("the response changed meanwhile; reload the page and try again"),
    )
    audit.record("status", actor, response=response, old=old, new=status, detail=detail)


def submit(response: Response, actor: User, now: dt.datetime | None = None) -> ResponseScore:
    """Submit for review: only complete, with every required evidence, before the deadline."""
    if actor.role == "coordinator" and actor.agency_id != response.agency_id:
        raise NotFound(_("no such response"))
    locks.hold(response)  # what is scored below is what is submitted
    if response.status not in ("draft", "returned", "not_started"):
        raise WrongState(
            _(
                "the response is %(status)s; only a draft or a returned response can be submitted",
                status=i18n.word(response.status, RESPONSE_STATUS),
            )
        )
    why = rounds.why_closed(response.round, now)
    if why is not None:
        raise WrongState(refusal("submit", response, why))
    result = results.score(response)
    if not result.submittable:
        problems = [_("question %(code)s: not answered", code=c) for c in result.missing]
        problems += [
            _("question %(code)s: evidence required", code=c) for c in result.missing_evidence
        ]
        raise Incomplete(
            problems,
            details={
                "missing": list(result.missing),
                "missing_evidence": list(result.missing_evidence),
            },
        )
    response.submitted_at = utcnow()
    set_status(response, "submitted", actor, revision=response.revision)
    return result


def review(
    response: Response,
    actor: User,
    action: str,
    comment: str = "",
    question_comments: Mapping[str, str] | None = None,
    *,
    expected_status: str | None = None,
    expected_revision: int | None = None,
) -> None:
    """Accept a submitted response, or return it with comments (general or per question).

    ``expected_status`` and ``expected_revision``: the response as the reviewer's page showed
    it. A decision taken on what no longer holds (a colleague accepted it meanwhile, and the
    page still said submitted) is refused with :class:`WrongState` naming who moved it and
    when, rather than undoing the colleague's decision; ``None`` checks nothing (the API)."""
    if not actor.is_central:
        raise NotAllowed(_("only the central office reviews responses"))
    locks.hold(response, same_status=True)
    if expected_status is not None and response.status != expected_status:
        raise WrongState(_reviewed_meanwhile(response))
    if expected_revision is not None and response.revision != expected_revision:
        raise WrongState(_("the response changed meanwhile; reload the page and try again"))
    if response.round.status not in ("open", "closed"):
        raise WrongState(
            _(
                "the round is %(status)s; reviews happen while it is open or closed",
                status=i18n.word(response.round.status, ROUND_STATUS),
            )
        )
    question_comments = {
        c: t.strip() for c, t in (question_comments or {}).items() if t and t.strip()
    }
    questionnaire = questionnaire_of(response.questionnaire)
    unknown = [c for c in question_comments if c not in questionnaire.questions]
    if unknown:
        raise InvalidAnswers(dict.fromkeys(unknown, i18n.reason(unknown_question(questionnaire))))
    status = i18n.word(response.status, RESPONSE_STATUS)
    if action == "accept":
        if response.status != "submitted":
            raise WrongState(
                _(
                    "the response is %(status)s; only a submitted response can be accepted",
                    status=status,
                )
            )
        _add_comments(response, actor, comment, question_comments)
        response.reviewed_at = utcnow()
        set_status(response, "accepted", actor)
    elif action == "return":
        if response.status not in ("submitted", "accepted"):
            raise WrongState(
                _(
                    "the response is %(status)s; only a submitted or accepted response can be returned",
                    status=status,
                )
            )
        if not comment.strip() and not question_comments:
            raise ServiceError(_("say why the response is returned: add a comment"))
        _add_comments(response, actor, comment, question_comments)
        response.reviewed_at = utcnow()
        set_status(response, "returned", actor)
    else:
        raise ServiceError(
            _("action must be 'accept' or 'return', not %(action)s", action=repr(action))
        )


def _reviewed_meanwhile(response: Response) -> str:
    """Why a review decided on a page showing another status is refused: the status now,
    and who moved it there and when (the latest status change of the audit trail)."""
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.response_id == response.id, AuditEvent.action == "status")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    status = i18n.word(response.status, RESPONSE_STATUS)
    if event is None or event.new != response.status:
        return _(
            "the response is %(status)s now, no longer as your page showed it: reload the "
            "page, then decide again",
            status=status,
        )
    return _(
        "the response was %(status)s by %(who)s at %(when)s meanwhile: reload the page, then "
        "decide again",
        status=status,
        who=event.actor_label,
        when=thai.format_datetime(event.at, i18n.language()),
    )


def _add_comments(
    response: Response, actor: User, comment: str, per_question: Mapping[str, str]
) -> None:
    if comment.strip():
        response.comments.append(
            Comment(body=comment.strip(), author_id=actor.id, revision=response.revision)
        )
        audit.record("comment", actor, response=response, new=comment.strip())
    for code, text in per_question.items():
        response.comments.append(
            Comment(question_code=code, body=text, author_id=actor.id, revision=response.revision)
        )
        audit.record("comment", actor, response=response, question=code, new=text)


def latest_comments(response: Response) -> list[Comment]:
    """The comments of the latest review (those the coordinator must act on)."""
    if not response.comments:
        return []
    # A review stamps its comments with the revision it saw; a resubmission after changes
    # has a newer revision, so older reviews' comments drop out.
    last = max(c.revision for c in response.comments)
    return [c for c in response.comments if c.revision == last]


def question_of(response: Response, code: str) -> Question:
    """The question ``code`` of the response's questionnaire; :class:`NotFound` otherwise."""
    questionnaire = questionnaire_of(response.questionnaire)
    question = questionnaire.questions.get(code)
    if question is None:
        raise NotFound(
            _(
                "question %(code)s: no such question in %(questionnaire)s",
                code=code,
                questionnaire=questionnaire.key,
            )
        )
    return question


#: The longest reason for a verified value kept, as a dispute's explanation and decision.
REASON_LIMIT = 4000


def reason_too_long() -> str:
    """Why a verified value's reason is refused for its length."""
    return _("the reason is too long (at most %(limit)s characters)", limit=f"{REASON_LIMIT:,}")


def verify(response: Response, actor: User, code: str, value: Any, reason: str) -> None:
    """Record (or, with ``value`` ``None``, remove) a verified value for one question."""
    if not actor.is_central:
        raise NotAllowed(_("only the central office records verified values"))
    # Two reviewers' verified values of one response are scored one after the other, each
    # with the other's; and none after the round was published.
    locks.hold(response)
    if response.round.status == "draft":
        raise WrongState(_("the round has not opened"))
    if response.round.status == "published":
        # Published figures are final: a verified value now would change them silently.
        raise WrongState(_("the round is published: its verified values can no longer change"))
    question = question_of(response, code)
    if not reason or not reason.strip():
        raise InvalidAnswers({code: _("give the reason for the verified value")})
    if len(reason.strip()) > REASON_LIMIT:
        raise InvalidAnswers({code: reason_too_long()})
    try:
        parsed = parse_json_value(question, value)
    except AnswerError as exc:
        raise InvalidAnswers({code: i18n.reason(exc)}) from None
    row = next((v for v in response.verified if v.question_code == code), None)
    old = row.value if row is not None else None
    new = None if parsed is None else stored(parsed)
    if new is None:
        if row is not None:
            response.verified.remove(row)
    elif row is None:
        response.verified.append(
            VerifiedAnswer(
                question_code=code, value=new, reason=reason.strip(), verified_by_id=actor.id
            )
        )
    else:
        row.value, row.reason, row.verified_by_id, row.verified_at = (
            new,
            reason.strip(),
            actor.id,
            utcnow(),
        )
    audit.record(
        "verify", actor, response=response, question=code, old=old, new=new, detail=reason.strip()
    )
    try:
        results.recompute(response)  # (which flushes the verified value first)
    except IntegrityError:  # SQLite: another reviewer's value for the question came first
        db.session.rollback()
        raise WrongState(
            _("the response changed meanwhile; reload the page and try again")
        ) from None
