"""One change at a time: a round's responses against the round's moves, and each response
against itself.

Every change checks a state, then writes: an autosave checks that the response is a draft
and the round open; a submission scores the answers and the evidence it finds; a verified
value scores the answers with the other verified values. Two requests at once could each
check, then each write, and the second would act on what the first changed: an answer
written after the submission, a round closed under a save that then wrote, two verified
values each scored without the other.

On PostgreSQL a change therefore takes, before it reads what it checks,

1. its round's lock in **shared** mode: a transaction-level advisory lock, held to the
   commit or rollback and writing nothing, so the saves of a busy round do not queue
   behind one another; a move of the round (:func:`own_round`) takes it exclusively, so
   it waits for the changes under way, and every change after it sees the moved round;
2. its response's row (``FOR UPDATE``): two changes of one response run one after the
   other, the second reading what the first wrote.

Always in that order, round then response (a move then locks the round's responses to
score them): nothing waits in a circle.

SQLite takes one writer at a time; there the writes carry their conditions themselves (the
revision claim names the status and the round's; a status moves only from the one seen),
evaluated as they write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from assess.extensions import db
from assess.models import Response, Round
from assess.services import writes
from assess.services.errors import WrongState

#: The advisory locks' first key: which kind of object the second key names.
ROUND = 0x726E64  # "rnd"


def _lock_round(function: Any, round_id: int) -> bool:
    """Take round ``round_id``'s advisory lock with ``function`` (PostgreSQL); whether it
    was taken."""
    if db.session.connection().dialect.name != "postgresql":
        return False
    db.session.execute(select(function(ROUND, round_id)))
    return True


def share_round(round_id: int) -> bool:
    """Take round ``round_id``'s lock in shared mode (PostgreSQL); whether it was taken.
    (A response's change takes it with :func:`hold`.)"""
    return _lock_round(func.pg_advisory_xact_lock_shared, round_id)


def own_round(round_id: int) -> bool:
    """Take round ``round_id``'s lock exclusively, for a move (PostgreSQL); whether it was
    taken."""
    return _lock_round(func.pg_advisory_xact_lock, round_id)


def hold(response: Response, *, same_status: bool = False) -> None:
    """Take ``response``'s round (shared) and its row, then forget what the session knew of
    both: what the caller reads next is what the database holds now. Once per transaction:
    a second call (evidence sent with the answers' form) keeps what the first one read
    and what the transaction changed since.

    ``same_status``: a decision taken on the status the request saw (a review): refused
    with :class:`WrongState` if the response has moved since. Other changes check what
    they need on what holds now (a response started meanwhile by another tab is still a
    draft one may attach evidence to).
    """
    if held(response.id):
        return
    db.session.flush()
    seen = response.__dict__.get("status")  # what the request saw, if it looked
    now = hold_for_save(response)
    if now is None:
        return
    if same_status and seen is not None and now.status != seen:
        # Another reviewer (or tab) moved it first: what was decided on what the request
        # saw is not applied to what it has become.
        db.session.rollback()
        raise WrongState(_("the response changed meanwhile; reload the page and try again"))
    db.session.expire(response)
    round_ = db.session.get(Round, response.round_id)
    if round_ is not None:
        db.session.expire(round_)


class Held(NamedTuple):
    """A response as it is once held: its revision and status."""

    revision: int
    status: str


def hold_for_save(response: Response) -> Held | None:
    """Take the round (shared) and the response's row with one statement, and read the
    response's revision and status as they are now; ``None`` on SQLite (nothing to lock).

    An autosave checks its round's status in the revision claim, a later statement that
    sees what holds once the round is held.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return None
    _mark_held(response.id)
    # On the session's connection, without the ORM: one of an autosave's statements.
    revision, status, _lock = writes.fetch_one(connection, _HOLD, {"r_id": response.id})
    return Held(revision, status)


#: The round's shared lock is taken as the response's row is read, before the row is locked
#: (the function is computed by the scan, below the plan's LockRows): round, then response.
_RESPONSE = Response.__table__
_HOLD = (
    select(
        _RESPONSE.c.revision,
        _RESPONSE.c.status,
        func.pg_advisory_xact_lock_shared(ROUND, _RESPONSE.c.round_id),
    )
    .where(_RESPONSE.c.id == bindparam("r_id"))
    .with_for_update()
)


_HELD = "assess.locks.held"


def held(response_id: int) -> bool:
    """Whether this transaction holds the response already (:func:`hold`)."""
    found = db.session.info.get(_HELD)
    return (
        found is not None and found[0] is db.session().get_transaction() and response_id in found[1]
    )


def _mark_held(response_id: int) -> None:
    transaction = db.session().get_transaction()
    found = db.session.info.get(_HELD)
    if found is None or found[0] is not transaction:
        found = db.session.info[_HELD] = (transaction, set())
    found[1].add(response_id)


def move_status(obj: Response | Round, seen: Sequence[Any], status: str, refused: str) -> None:
    """Set ``obj``'s status with an UPDATE conditional on ``seen`` (what the caller checked:
    the status it saw, say): of two requests moving it at once, only the first does; the
    other's transaction is rolled back and it gets :class:`WrongState` with ``refused``."""
    try:
        moved = db.session.execute(
            update(type(obj))
            .where(*seen)
            .values(status=status)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    except OperationalError:
        moved = 0  # SQLite: another transaction wrote since this one read
    if moved != 1:
        db.session.rollback()
        raise WrongState(refused)
    set_committed_value(obj, "status", status)
