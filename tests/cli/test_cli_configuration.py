"""A wrong setting is one line naming the variable, from every command: not a traceback of
46 lines with the message on the last (the audit). And `assess db upgrade` says where the
database ends up, even when there was nothing to do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from assess import cli, schema
from tests.conftest import assess_executable


def _run(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSESS_")}
    env = {**clean, "ASSESS_INSTANCE_PATH": str(tmp_path / "instance"), **settings}
    return subprocess.run(
        [assess_executable(), *args], capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ASSESS_SESSION_IDLE_MINUTES", "abc", "ASSESS_SESSION_IDLE_MINUTES='abc' is not a whole number"),
        ("ASSESS_PROXY_COUNT", "abc", "ASSESS_PROXY_COUNT='abc' is not a whole number"),
        ("ASSESS_LOGIN_RATE_LIMIT", "lots", "- ASSESS_LOGIN_RATE_LIMIT='lots' is not a rate limit"),
        ("ASSESS_ENV", "prod", "ASSESS_ENV='prod': use 'production' or 'development'"),
        ("ASSESS_WARM_DASHBOARDS", "maybe", "ASSESS_WARM_DASHBOARDS='maybe': use 1 (on) or 0 (off)"),
        ("ASSESS_LOGIN_MAX_FAILURES", "0", "ASSESS_LOGIN_MAX_FAILURES='0' must be at least 1"),
        ("ASSESS_SCORECARD_PROCESSES", "two", "ASSESS_SCORECARD_PROCESSES='two' is not a whole number"),
        ("ASSESS_DATABASE_URL", "nonsense", "ASSESS_DATABASE_URL='nonsense' is not a database URL: give e.g. postgresql+psycopg://"),
        ("ASSESS_DATABASE_URL", "oracle+nodriver://u:secret@h/d", "ASSESS_DATABASE_URL='oracle+nodriver://u:***@h/d': SQLAlchemy knows no"),
        ("ASSESS_PUBLIC_URL", "assess.example.go.th", "ASSESS_PUBLIC_URL='assess.example.go.th' is not a web address"),
    ],
)  # fmt: skip
def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path, name, value, message):
    done = _run(tmp_path, "questionnaire", "list", **{name: value})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert message in lines[-1], done.stderr
    # One line; the checks that list every problem at once put a heading above them.
    assert len(lines) == 1 or lines[:-1] == ["assess refuses to start in the configuration:"]
    assert "secret" not in done.stderr


def test_db_upgrade_says_so_too(tmp_path):
    """``db`` is found in the app, loaded before the command runs."""
    done = _run(tmp_path, "db", "upgrade", ASSESS_SESSION_IDLE_MINUTES="abc")
    assert (done.returncode, done.stderr) == (
        1,
        "ASSESS_SESSION_IDLE_MINUTES='abc' is not a whole number\n",
    )


def test_a_postgres_url_is_the_installed_driver(tmp_path):
    """``postgres://`` was NoSuchModuleError tracebacks; now the database is tried, and its
    absence is the usual one line."""
    done = _run(
        tmp_path, "questionnaire", "list", ASSESS_DATABASE_URL="postgres://nobody:pw@127.0.0.1:1/assess"
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("the database cannot be used: OperationalError")
    assert len(done.stderr.splitlines()) == 1
    assert "pw@" not in done.stderr


def test_an_address_sqlalchemy_refuses_is_one_line(monkeypatch):
    """Should one get past the configuration's checks (an app made by other means)."""
    from sqlalchemy.exc import NoSuchModuleError

    def refused(**parts: bool) -> None:
        raise NoSuchModuleError("Can't load plugin: sqlalchemy.dialects:postgres")

    monkeypatch.setattr(cli, "create_app", refused)
    done = CliRunner().invoke(cli.main, ["questionnaire", "list"])
    assert done.exit_code == 1
    assert done.output == (
        "ASSESS_DATABASE_URL cannot be used (Can't load plugin: sqlalchemy.dialects:postgres): "
        "give e.g. postgresql+psycopg://assess@db.internal/assess\n"
    )


def test_db_upgrade_says_where_the_database_is(tmp_path):
    """It said nothing when there was nothing to do."""
    (head,) = schema.code_heads()
    done = _run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"the database's tables were created (revision {head})\n"
    done = _run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"the database is up to date (revision {head})\n"
    assert _run(tmp_path, "db", "downgrade").returncode == 0
    done = _run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("the database was upgraded from revision ")
    assert done.stdout.endswith(f" to {head}\n")
    # Offline (SQL on stdout): nothing added to the SQL.
    done = _run(tmp_path, "db", "upgrade", "--sql", f"{head}:{head}")
    assert done.returncode == 0, done.stderr
    assert "the database" not in done.stdout


def test_help_with_a_wrong_setting_names_it_in_one_line_and_lists_the_commands(tmp_path):
    done = _run(tmp_path, "--help", ASSESS_SESSION_IDLE_MINUTES="abc")
    assert done.returncode == 0
    assert done.stderr.strip() == "Error: ASSESS_SESSION_IDLE_MINUTES='abc' is not a whole number"
    assert "Traceback" not in done.stderr
    assert "questionnaire" in done.stdout
    assert "scores" in done.stdout
