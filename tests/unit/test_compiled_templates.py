"""The templates Jinja compiled are kept in the instance folder (``cache/templates``): the
next process reads them back instead of compiling them again, and anything wrong with that
folder only means compiling again."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from tests.conftest import make_app

PAGE = "reports/league.html"  # and the templates it extends and imports


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from their source from now on."""
    names: list[str] = []
    compile_source = jinja2.Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        names.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


def load(folder: Path, url: str) -> jinja2.Template:
    """``PAGE`` loaded by a new app (a new process's) with the instance folder ``folder``."""
    app = make_app(folder, url)
    with app.app_context():
        return app.jinja_env.get_template(PAGE)


def test_a_new_process_reads_the_compiled_templates_back(
    tmp_path: Path, sqlite_database_url: str, compiles: list[str]
) -> None:
    first = load(tmp_path, sqlite_database_url)
    assert PAGE in compiles
    kept = list((tmp_path / "cache" / "templates").glob("*/__jinja2_*.cache"))
    assert kept

    compiles.clear()
    again = load(tmp_path, sqlite_database_url)
    assert compiles == []  # read back, not compiled
    assert again.filename == first.filename
    assert again is not first

    # A damaged file is compiled again (and written again).
    for path in kept:
        path.write_bytes(path.read_bytes()[:40])
    load(tmp_path, sqlite_database_url)
    assert PAGE in compiles
    compiles.clear()
    load(tmp_path, sqlite_database_url)
    assert compiles == []


def test_an_edited_template_is_compiled_again(
    tmp_path: Path, sqlite_database_url: str, compiles: list[str]
) -> None:
    app = make_app(tmp_path, sqlite_database_url)
    with app.app_context():
        app.jinja_env.loader = jinja2.DictLoader({"page.html": "{{ 1 + 1 }}"})
        assert app.jinja_env.get_template("page.html").render() == "2"
    compiles.clear()
    app = make_app(tmp_path, sqlite_database_url)
    with app.app_context():
        app.jinja_env.loader = jinja2.DictLoader({"page.html": "{{ 2 + 2 }}"})
        assert app.jinja_env.get_template("page.html").render() == "4"
    assert compiles == ["page.html"]


def test_a_folder_that_cannot_be_written_only_means_compiling(
    tmp_path: Path, sqlite_database_url: str, compiles: list[str]
) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "templates").write_text("not a folder")
    for _ in range(2):
        compiles.clear()
        assert load(tmp_path, sqlite_database_url).filename.endswith(PAGE)
        assert PAGE in compiles
