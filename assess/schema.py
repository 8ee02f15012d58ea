"""Whether the database's schema is the one this code needs (Alembic's ``alembic_version``).

A web server started on a database that ``assess db upgrade`` has not brought up to date
answers 500 to every page (a column the code reads is missing); one made by newer code may
lack nothing yet mean something else. :func:`check` refuses to serve either, in one line
naming the cure, at the cost of one query (``wsgi.py`` calls it). The command line does not:
``assess db upgrade`` is what brings the database up to date, and the other commands say
"run `assess db upgrade`" when they meet a missing table or column (assess.cli).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from assess.config import ConfigurationError

#: The migrations this code comes with (Alembic's script folder).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaMismatch(ConfigurationError):
    """The database's schema is not the one this code needs; the message names the cure."""


@lru_cache(maxsize=1)
def _revisions() -> tuple[tuple[str, ...], frozenset[str]]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return tuple(sorted(scripts.get_heads())), known


def code_heads() -> tuple[str, ...]:
    """The newest migration(s) of this code: the revision a database must be at."""
    return _revisions()[0]


def known_revisions() -> frozenset[str]:
    """Every migration of this code."""
    return _revisions()[1]


def database_revisions(engine: Engine) -> tuple[str, ...]:
    """The revision(s) the database is at (one query); ``()`` for a database that
    ``assess db upgrade`` never ran on. Raises the driver's error (wrapped by SQLAlchemy)
    when the database cannot be reached."""
    with engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return tuple(sorted(str(row) for row in rows))
        except DBAPIError:
            conn.rollback()
            if inspect(conn).has_table("alembic_version"):
                raise
            return ()


def _named(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions)


def problem(found: tuple[str, ...]) -> str | None:
    """Why a database at revision(s) ``found`` cannot be served by this code, or ``None``."""
    heads = code_heads()
    if found == heads:
        return None
    needs = _named(heads)
    if not found:
        return (
            "the database has no tables of assess (or is another database: see "
            f"ASSESS_DATABASE_URL); this software needs revision {needs}: "
            "run `assess db upgrade`"
        )
    unknown = tuple(revision for revision in found if revision not in known_revisions())
    if unknown:
        return (
            f"the database is at revision {_named(found)}, newer than this software (which "
            f"knows revisions up to {needs}): a newer version of assess upgraded it; deploy "
            "that version (or restore the database's backup from before the upgrade)"
        )
    return (
        f"the database is at revision {_named(found)}; this software needs {needs}: "
        "run `assess db upgrade`"
    )


def check(app: Flask) -> None:
    """Refuse to serve a database at another revision than this code's (:exc:`SchemaMismatch`,
    one line). A database that cannot be reached is only logged: the server starts, and
    its pages work once the database is back."""
    from assess.extensions import db

    with app.app_context():
        try:
            found = database_revisions(db.engine)
        except DBAPIError as exc:
            original = getattr(exc, "orig", None) or exc
            first = str(original).strip().splitlines()[:1]
            app.logger.warning(
                "assess: the database's schema could not be checked: %s: %s",
                type(original).__name__,
                first[0] if first else "",
            )
            return
        finally:
            db.engine.dispose()
    reason = problem(found)
    if reason:
        raise SchemaMismatch(reason)
