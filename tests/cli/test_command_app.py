"""Which commands build the web views: only those that serve, list or render pages (the
others start about a second sooner without them). A command found only once the app is
loaded (Flask-Migrate's ``db``) gets the app of the group itself, without the views and
with the migrations, which only that app and the demo's have."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from assess import cli
from tests.conftest import assess_executable


def _app_for(*names: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """What the app made for ``assess NAMES…`` has: ``{"views": …, "migrations": …}``."""
    asked: list[dict[str, bool]] = []
    monkeypatch.setattr(cli, "create_app", lambda **parts: asked.append(parts))
    ctx = click.Context(cli.main, info_name="assess")
    command: click.Command = cli.main
    for name in names:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None, name
        command = found
        ctx = click.Context(command, parent=ctx, info_name=name)
    with ctx:
        cli.command_app()
    (parts,) = asked
    return parts


def _views_for(*names: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the app made for ``assess NAMES…`` has the web views."""
    return _app_for(*names, monkeypatch=monkeypatch)["views"]


@pytest.mark.parametrize(
    "names",
    [("round", "open"), ("scores",), ("export",), ("answers", "import"), ("user", "create"),
     ("questionnaire", "import")],
)  # fmt: skip
def test_data_commands_do_without_the_views(names, monkeypatch):
    assert not _views_for(*names, monkeypatch=monkeypatch)


@pytest.mark.parametrize(
    "names", [("run",), ("routes",), ("shell",), ("demo",), ("scorecard",), ("scorecards",),
              ("worker",)],
)  # fmt: skip
def test_commands_that_serve_or_render_pages_have_them(names, monkeypatch):
    assert _views_for(*names, monkeypatch=monkeypatch)


def test_the_web_app_has_them_and_an_app_without_them_has_none(tmp_path, app):
    from assess import create_app

    assert "survey.save" in app.view_functions
    assert any(name.startswith("api") for name in app.view_functions)
    bare = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"}, views=False)
    assert {name for name in bare.view_functions if not name.endswith("static")} == set()


def test_routes_lists_the_pages(tmp_path):
    env = {**os.environ, "ASSESS_INSTANCE_PATH": str(tmp_path / "instance")}
    shown = subprocess.run(
        [assess_executable(), "routes"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "/rounds/<int:round_id>/answers" in shown.stdout


def test_flask_runs_the_same_commands(tmp_path, examples):
    """interfaces.md: a Flask CLI group, so ``flask --app assess …`` works too."""
    flask = Path(assess_executable()).parent / "flask"
    env = {**os.environ, "ASSESS_INSTANCE_PATH": str(tmp_path / "instance")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(flask), "--app", "assess", *args], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip

    assert run("db", "upgrade").returncode == 0
    imported = run("questionnaire", "import", str(examples / "worked-example.yaml"))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "worked-example@1"
    listed = run("questionnaire", "list")
    assert listed.returncode == 0, listed.stderr
    assert "worked-example@1" in listed.stdout
    refused = run("round", "open", "9")
    assert (refused.returncode, refused.stderr.strip()) == (1, "round 9: no such round")


@pytest.mark.parametrize(
    ("names", "migrations"),
    [((), True), (("demo",), True), (("round", "open"), False), (("scores",), False),
     (("questionnaire", "import"), False), (("run",), False)],
)  # fmt: skip
def test_only_the_root_group_and_the_demo_have_the_migrations(names, migrations, monkeypatch):
    assert _app_for(*names, monkeypatch=monkeypatch)["migrations"] is migrations


#: What a data command does without (each costs a tenth of a second or more at every start):
#: Flask-Limiter's command (a plugin of Flask's; it brings rich), Flask-Migrate and Alembic,
#: pandas, the API's flask-smorest, WeasyPrint.
HEAVY = ("flask_limiter.commands", "flask_migrate", "alembic", "pandas", "flask_smorest",
         "weasyprint")  # fmt: skip


def _imported_by(tmp_path, *args: str) -> tuple[list[str], str]:
    """Which of :data:`HEAVY` ``assess ARGS…`` imported, and what it printed."""
    script = (
        "import json, sys\n"
        "from assess.cli import main\n"
        f"try:\n    main({list(args)!r})\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "ASSESS_INSTANCE_PATH": str(tmp_path / "instance")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    *output, imported = done.stdout.strip().splitlines()
    return json.loads(imported), "\n".join(output)


def test_a_data_command_starts_without_the_heavy_libraries(tmp_path):
    """Flask loads other packages' plugin commands (Flask-Limiter's) and Flask-Migrate
    brings Alembic: a data command needs neither, nor pandas or the API's libraries
    (``assess questionnaire list``: 2.1–2.7 s → 1.1–1.5 s on 2 cores)."""
    imported, _ = _imported_by(tmp_path, "db", "upgrade")
    assert "alembic" in imported  # (and makes the database the next command reads)
    imported, shown = _imported_by(tmp_path, "questionnaire", "list")
    assert imported == []
    assert "no questionnaire" in shown.lower() or shown == "", shown
