"""The served app refuses a database at another migration than its own, in one line.

The audit: gunicorn started on a database made by older code and answered 500 to every
sign-in (``no such column: round.name_en``), without a word about `assess db upgrade`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assess import schema

ROOT = Path(__file__).resolve().parents[2]
STRONG = "5b0e7c1d9a8f6e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"


def _previous() -> str:
    """The revision before this code's newest: a database one upgrade behind."""
    from alembic.script import ScriptDirectory

    (head,) = schema.code_heads()
    down = ScriptDirectory(str(schema.MIGRATIONS)).get_revision(head).down_revision
    assert isinstance(down, str)
    return down


def _at(url: str, revision: str) -> None:
    """Mark the migrated SQLite database of ``url`` as being at ``revision``."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSESS_")}
    return {
        **clean,
        "ASSESS_INSTANCE_PATH": str(tmp_path / "instance"),
        "ASSESS_DATABASE_URL": url,
        "ASSESS_SECRET_KEY": STRONG,
        "ASSESS_WARM_DASHBOARDS": "0",
    }


def _import_wsgi(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import wsgi; print('served')"], cwd=ROOT,
        env=_env(tmp_path, url), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_messages_name_the_revisions_and_the_cure():
    (head,) = schema.code_heads()
    assert head in schema.known_revisions()
    assert schema.problem((head,)) is None
    older = _previous()
    assert schema.problem((older,)) == (
        f"the database is at revision {older}; this software needs {head}: run `assess db upgrade`"
    )
    assert "run `assess db upgrade`" in (schema.problem(()) or "")
    newer = schema.problem(("9999",)) or ""
    assert newer.startswith("the database is at revision 9999, newer than this software")
    assert "assess db upgrade" not in newer  # (it cannot go back)


def test_the_revision_is_read_in_one_query(sqlite_database_url, tmp_path):
    import sqlalchemy as sa

    engine = sa.create_engine(sqlite_database_url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert schema.database_revisions(engine) == schema.code_heads()
    assert statements == ["SELECT version_num FROM alembic_version"]
    empty = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert schema.database_revisions(empty) == ()  # `assess db upgrade` never ran
    engine.dispose()
    empty.dispose()


def test_wsgi_serves_only_an_up_to_date_database(sqlite_database_url, tmp_path):
    done = _import_wsgi(tmp_path, sqlite_database_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "served"
    (head,) = schema.code_heads()
    _at(sqlite_database_url, _previous())
    done = _import_wsgi(tmp_path, sqlite_database_url)
    assert done.returncode != 0
    assert "served" not in done.stdout
    assert done.stderr.strip().splitlines()[-1] == (
        f"assess.schema.SchemaMismatch: the database is at revision {_previous()}; this "
        f"software needs {head}: run `assess db upgrade`"
    )


@pytest.mark.parametrize("where", ["newer", "empty"])
def test_wsgi_refuses_a_newer_or_an_empty_database(sqlite_database_url, tmp_path, where):
    url = sqlite_database_url
    if where == "newer":
        _at(url, "9999")
        expected = "the database is at revision 9999, newer than this software"
    else:
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        expected = "the database has no tables of assess"
    done = _import_wsgi(tmp_path, url)
    assert done.returncode != 0
    assert "served" not in done.stdout
    assert (
        done.stderr.strip().splitlines()[-1].startswith(f"assess.schema.SchemaMismatch: {expected}")
    )


def test_gunicorn_refuses_an_older_database_in_one_line(sqlite_database_url, tmp_path):
    """As gunicorn prints a wrong setting: ``Error: …``, exit status 1, no traceback (it
    served 500s before)."""
    _at(sqlite_database_url, _previous())
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT, env=_env(tmp_path, sqlite_database_url), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        out, err = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
        pytest.fail(f"gunicorn served a database one migration behind:\n{err}")
    assert server.returncode == 1
    assert "Traceback" not in err
    (head,) = schema.code_heads()
    assert (
        f"Error: the database is at revision {_previous()}; this software needs {head}: "
        "run `assess db upgrade`"
    ) in err.splitlines()


def test_a_database_that_cannot_be_reached_is_only_logged(tmp_path, caplog):
    """The server starts, and serves once the database is back: not a refusal."""
    from assess import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"})  # fmt: skip
    with caplog.at_level(logging.WARNING):
        schema.check(app)
    assert "the database's schema could not be checked: OperationalError" in caplog.text
