"""The audit trail: who changed what and when, old → new. Append-only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assess.extensions import db
from assess.models import AuditEvent, Response, Round, User


def record(
    action: str,
    actor: User | None,
    *,
    response: Response | None = None,
    round: Round | None = None,
    question: str | None = None,
    old: Any = None,
    new: Any = None,
    detail: str = "",
) -> AuditEvent:
    """Add one audit event to the session (committed with the change it describes)."""
    if round is None and response is not None:
        round = response.round
    if (response is not None and response.id is None) or (round is not None and round.id is None):
        db.session.flush()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "system",
        response_id=response.id if response is not None else None,
        round_id=round.id if round is not None else None,
        question_code=question,
        old=old,
        new=new,
        detail=detail,
    )
    db.session.add(event)
    return event


def insert(action: str, actor: User | None, events: Sequence[dict[str, Any]]) -> None:
    """Write audit events of one action at once, as one plain INSERT (no ORM objects): each
    of ``events`` gives the columns that differ (``response_id``, ``question_code``, ``old``,
    ``new``, …)."""
    if events:
        db.session.connection().execute(*insert_write(action, actor, events))


def insert_write(
    action: str, actor: User | None, events: Sequence[dict[str, Any]]
) -> tuple[Any, list[dict[str, Any]]]:
    """:func:`insert`'s statement and its rows, for the caller to run with its other
    writes (:mod:`assess.services.writes`)."""
    actor_columns = {
        "action": action,
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor.email if actor is not None else "system",
    }
    return _INSERT, [{"detail": "", **actor_columns, **e} for e in events]


#: Inline: no ``RETURNING id`` (nobody reads the new ids; reading them back cost an autosave
#: about 1 % of its CPU).
_INSERT = AuditEvent.__table__.insert().inline()
