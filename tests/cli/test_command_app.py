"""Which commands build the web views: only those that serve, list or render pages (the
others start about a second sooner without them). A command found only once the app is
loaded (Flask-Migrate's ``db``) gets the app of the group itself, without the views."""

from __future__ import annotations

import os
import subprocess

import click
import pytest

from assess import cli
from tests.conftest import assess_executable


def _views_for(*names: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the app made for ``assess NAMES…`` has the web views."""
    asked: list[bool] = []
    monkeypatch.setattr(cli, "create_app", lambda views: asked.append(views))
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
    return asked == [True]


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
