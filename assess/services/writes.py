"""The plain writes of one save, sent to the database together.

An autosave ends with a handful of small writes: the revision claim, the answers, their
audit events and the results that moved. Sent one by one, each is a round trip to the
database, and on these machines a round trip costs the web worker more CPU (the socket's
system calls, the driver's and SQLAlchemy's work per statement) than the statement costs
PostgreSQL. On PostgreSQL with psycopg they therefore go out as one pipeline: sent
together, their results read together, in the transaction under way. Elsewhere (SQLite)
they run one after another through SQLAlchemy.

The first write is a guard (the revision claim): the others count only when it changed
exactly one row. One after another, they are not run when it did not; in a pipeline they
have already run by then, and the caller's rollback undoes them, as it undoes the claim.

SQLAlchemy's cursor events still see every statement (``before_cursor_execute`` and
``after_cursor_execute`` as each is queued, without an execution context; a listener's
return value is not used), so what watches them (tests, logs, profilers) keeps seeing what
a save sends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

#: One write: a statement and its parameters (a list of them: the same statement for each).
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class _Compiled:
    """A statement as psycopg takes it: its SQL text, and what turns a row of parameters
    into the driver's values (the literals SQLAlchemy binds itself, and the types' own
    conversions, such as JSON)."""

    sql: str
    literals: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]

    def values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        values = self.literals | dict(row)
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


@functools.lru_cache(maxsize=128)
def _compiled(statement: Executable, keys: frozenset[str], dialect: Dialect) -> _Compiled:
    """``statement`` compiled for ``dialect`` with the parameters named ``keys``."""
    compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))  # type: ignore[attr-defined]
    if (
        compiled.positional
        or getattr(compiled, "insert_prefetch", None)
        or getattr(compiled, "update_prefetch", None)
    ):
        # Positional parameters, or column defaults SQLAlchemy computes at execution time:
        # not what these plain writes are made of.
        raise ValueError(f"not a plain write: {compiled}")
    sql = str(compiled)
    binds = {name: bind for name, bind in compiled.binds.items() if f"%({name})s" in sql}
    literals = {
        name: bind.value
        for name, bind in binds.items()
        if name not in keys and bind.value is not None and not bind.required
    }
    processors = {}
    for name, bind in binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    return _Compiled(sql, literals, processors)


def pipelined(connection: Connection) -> bool:
    """Whether writes on ``connection`` go out as one pipeline (PostgreSQL with psycopg)."""
    dialect = connection.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def run(connection: Connection, writes: Sequence[tuple[Executable, Params]]) -> int:
    """Run ``writes`` in order in ``connection``'s transaction; the number of rows the first
    changed (see the module's description: the others count only when it is 1)."""
    if not writes:
        raise ValueError("no writes")
    if not pipelined(connection):
        first, params = writes[0]
        changed = connection.execute(first, params).rowcount  # type: ignore[arg-type]
        if changed == 1:
            for statement, params in writes[1:]:
                connection.execute(statement, params)  # type: ignore[arg-type]
        return int(changed)
    return _pipeline(connection, writes)


def fetch_one(
    connection: Connection, statement: Executable, params: Mapping[str, Any]
) -> tuple[Any, ...]:
    """The one row a small SELECT returns, in ``connection``'s transaction: on PostgreSQL
    with psycopg straight through the driver, as the writes go (SQLAlchemy's work per
    statement is most of what a one-row read costs the web worker); elsewhere through
    SQLAlchemy. Cursor events see it as they see the writes."""
    if not pipelined(connection):
        return tuple(connection.execute(statement, params).one())  # type: ignore[arg-type]
    import psycopg

    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    compiled = _compiled(statement, frozenset(params), connection.dialect)
    values = compiled.values(params)
    dispatch = connection.dispatch
    try:
        with driver.cursor() as cursor:
            dispatch.before_cursor_execute(connection, cursor, compiled.sql, values, None, False)
            cursor.execute(compiled.sql, values)
            dispatch.after_cursor_execute(connection, cursor, compiled.sql, values, None, False)
            row = cursor.fetchone()
    except psycopg.Error as exc:
        gone = driver.closed
        if gone:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=gone, dialect=connection.dialect
        ) from exc
    if row is None:
        raise LookupError("no row")
    return tuple(row)


def _pipeline(connection: Connection, writes: Sequence[tuple[Executable, Params]]) -> int:
    import psycopg

    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    dispatch = connection.dispatch
    cursors = []
    try:
        with driver.pipeline():
            for statement, params in writes:
                many = not isinstance(params, Mapping)
                rows: Sequence[Mapping[str, Any]] = params if many else [params]  # type: ignore[list-item,assignment]
                compiled = _compiled(statement, frozenset(rows[0]), connection.dialect)
                values = [compiled.values(row) for row in rows]
                cursor = driver.cursor()
                cursors.append(cursor)
                sent: Any = values if many else values[0]
                dispatch.before_cursor_execute(connection, cursor, compiled.sql, sent, None, many)
                if many:
                    cursor.executemany(compiled.sql, values)
                else:
                    cursor.execute(compiled.sql, values[0])
                dispatch.after_cursor_execute(connection, cursor, compiled.sql, sent, None, many)
        # Read before the cursors close (a closed cursor forgets its count).
        changed = cursors[0].rowcount
    except psycopg.Error as exc:
        # A later write failed after the guard changed nothing (another save's insert of
        # the same answer, say): the caller rolls back and reports the guard's outcome.
        if cursors and cursors[0].rowcount == 0:
            return 0
        gone = driver.closed
        if gone:
            connection.invalidate(exc)  # as SQLAlchemy does when the server went away
        # As SQLAlchemy raises what the driver raised (IntegrityError, OperationalError, …);
        # the driver's message names the statement's problem.
        raise DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=gone, dialect=connection.dialect
        ) from exc
    finally:
        for cursor in cursors:
            cursor.close()
    return changed
