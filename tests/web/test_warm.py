"""A new worker prepares the dashboards of the rounds under way before anyone asks
(``assess.reports.warm``, started by the project's ``gunicorn.conf.py``), and a request that
comes meanwhile waits for that work instead of doing it again."""

from __future__ import annotations

import gc
import logging
import os
import runpy
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from assess.config import ConfigurationError, from_environment
from assess.extensions import db
from assess.reports import data as cache
from assess.reports import warm
from assess.services import reports
from tests.conftest import fill

ROOT = Path(__file__).resolve().parents[2]


#: Each test's database is new, with the same ids: nothing cached by an earlier test.
pytestmark = pytest.mark.usefixtures("forget_cache")


@pytest.fixture
def rounds(world):  # type: ignore[no-untyped-def]
    """Last year's published round and this year's closed one, both with results; a draft
    round and an older published one beside them."""
    agencies = [world.agency(f"DEP-{c}", name_en=f"Agency {c}") for c in "ABC"]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    older = world.round(agencies=agencies, status="published", fiscal_year=2567, name="2567")
    before = world.round(agencies=agencies, status="open", fiscal_year=2568, name="2568")
    for share, agency in zip((0.4, 0.6, 0.8), agencies, strict=True):
        fill(world.response(before, agency), reviewer, share)
    from assess.services import rounds as round_service

    for target in ("closed", "published"):
        round_service.move(before, target)
    current = world.round(agencies=agencies, status="open", fiscal_year=2569, name="2569")
    for share, agency in zip((0.5, 0.7, 0.9), agencies, strict=True):
        fill(world.response(current, agency), reviewer, share)
    round_service.move(current, "closed")
    world.round(agencies=agencies, status="draft", fiscal_year=2570, name="2570")
    db.session.commit()
    return older, before, current


def test_the_rounds_under_way_and_the_latest_published_are_prepared(rounds):
    older, before, current = rounds
    assert [r.id for r in warm.rounds_to_warm()] == [current.id, before.id]


def test_warming_fills_the_cache_so_the_league_table_loads_nothing(
    rounds, app, client, auth, monkeypatch
):
    _, before, current = rounds
    done = warm.warm(app)
    assert done.rounds == (current.id, before.id)
    assert f"rounds {current.id}, {before.id} in " in str(done)
    board = cache.dashboard(current)
    # What the league table reads was derived in advance, for both languages.
    for name in ("own", "levels", "trend", "overall_change"):
        assert name in board.__dict__
    assert set(board._options) == {"th", "en"}
    assert board._kinds  # the flag icons for the round's limits
    compiled = {template.name for template in app.jinja_env.cache.values()}
    assert {"base.html", "reports/league.html", "reports/_page.html"} <= compiled
    # What the scorecards and results pages read, as the central office sees them.
    context = cache.round_context(current, peers_visible=True)
    assert context._index is not None
    assert context._trend is not None

    def no_load(round_):  # type: ignore[no-untyped-def]
        raise AssertionError(f"round {round_.id} loaded again")

    monkeypatch.setattr(reports, "load", no_load)
    auth.login("reviewer@example.go.th")
    html = client.get(f"/central/rounds/{current.id}/results?lang=en").get_data(as_text=True)
    assert "Agency A" in html
    assert "League table" in html
    scorecard = client.get(f"/rounds/{current.id}/responses/DEP-A/scorecard.pdf?lang=en")
    assert scorecard.status_code == 200
    assert scorecard.data.startswith(b"%PDF")


def test_a_request_during_the_preparation_waits_for_it(rounds, app, monkeypatch):
    """Two callers of the same round at once: one load, both get its tables."""
    _, _, current = rounds
    real, loads = reports.load, []
    started = threading.Event()

    def slow_load(round_):  # type: ignore[no-untyped-def]
        loads.append(round_.id)
        started.set()
        time.sleep(0.3)
        return real(round_)

    monkeypatch.setattr(reports, "load", slow_load)
    got = []

    def other() -> None:
        with app.app_context():
            got.append(cache.round_results(db.session.merge(current, load=False)))
            db.session.remove()

    thread = threading.Thread(target=other)
    thread.start()
    assert started.wait(10)
    mine = cache.round_results(current)
    thread.join(10)
    assert loads == [current.id]
    assert got == [mine]


def test_a_failure_is_logged_and_leaves_the_worker_serving(app, caplog, monkeypatch):
    def broken(app):  # type: ignore[no-untyped-def]
        raise RuntimeError("database away")

    monkeypatch.setattr(warm, "warm", broken)
    with caplog.at_level(logging.INFO, logger=warm.__name__):
        warm.start(app).join(10)
    assert "could not be prepared in advance" in caplog.text
    assert "database away" in caplog.text
    # In gunicorn's master too: logged, and the workers are started all the same.
    caplog.clear()
    monkeypatch.setattr(gc, "freeze", lambda: None)  # (not this test process's heap)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    master = SimpleNamespace(
        cfg=SimpleNamespace(preload_app=True),
        app=SimpleNamespace(wsgi=lambda: app),
        log=logging.getLogger(warm.__name__),
    )
    with caplog.at_level(logging.INFO, logger=warm.__name__):
        settings["when_ready"](master)
    assert "could not be prepared in advance" in caplog.text


def test_gunicorn_conf_prepares_in_the_master_then_in_each_worker(rounds, app, monkeypatch):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == (os.cpu_count() or 1) + 1
    assert settings["preload_app"] is True
    assert settings["timeout"] >= 60  # whole-round workbooks of a national round
    log = logging.getLogger("gunicorn.error")
    # The master: prepared synchronously, then its connections closed.
    prepared, closed, steps = [], [], []
    monkeypatch.setattr(warm, "warm", lambda app: prepared.append(app) or steps.append("warm"))
    monkeypatch.setattr(db.engine, "dispose", lambda close=True: closed.append(close))
    # The loaded app set aside from the collector's scans, before the tables are made.
    monkeypatch.setattr(gc, "freeze", lambda: steps.append("freeze"))
    master = SimpleNamespace(
        cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda: app), log=log
    )
    settings["when_ready"](master)
    assert prepared == [app]
    assert closed == [True]
    assert steps == ["freeze", "warm"]
    master.cfg.preload_app = False  # without preloading the master has no app to prepare
    settings["when_ready"](master)
    assert prepared == [app]
    # Each worker: connections inherited from the master dropped (not closed: the
    # master's), then brought up to date in the background.
    started, closed[:] = [], []
    monkeypatch.setattr(warm, "start", lambda app, log: started.append((app, log)))
    settings["post_worker_init"](SimpleNamespace(wsgi=app, log=log))
    assert started == [(app, log)]
    assert closed == [False]
    # Not another application (or gunicorn's page for an app that failed to load)…
    settings["post_worker_init"](SimpleNamespace(wsgi=lambda environ, reply: [], log=log))
    # … and not when turned off.
    app.config["WARM_DASHBOARDS"] = False
    master.cfg.preload_app = True
    steps.clear()
    settings["when_ready"](master)
    settings["post_worker_init"](SimpleNamespace(wsgi=app, log=log))
    assert prepared == [app]
    assert started == [(app, log)]
    assert steps == ["freeze"]  # (the app is loaded all the same)


def test_the_switch_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("ASSESS_WARM_DASHBOARDS", raising=False)
    assert from_environment()["WARM_DASHBOARDS"] is True
    for raw, value in (("0", False), ("off", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("ASSESS_WARM_DASHBOARDS", raw)
        assert from_environment()["WARM_DASHBOARDS"] is value
    monkeypatch.setenv("ASSESS_WARM_DASHBOARDS", "sometimes")
    with pytest.raises(ConfigurationError, match="ASSESS_WARM_DASHBOARDS='sometimes'"):
        from_environment()


def test_a_real_gunicorn_worker_prepares_the_dashboards(rounds, app, tmp_path):
    """gunicorn reads the project's gunicorn.conf.py from the project folder."""
    expected = f"dashboards ready for rounds {rounds[2].id}, {rounds[1].id} in "
    db.session.remove()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "ASSESS_ENV": "development",
        "ASSESS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "ASSESS_INSTANCE_PATH": str(tmp_path),
        "ASSESS_SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789",
    }
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
         "--log-level", "info", "--error-logfile", str(log), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        text = ""
        # The master prepares them before it forks the worker, which brings them up to date.
        while text.count("dashboards ready") < 2 and "could not be prepared" not in text:
            assert time.monotonic() < deadline, text
            assert server.poll() is None, text
            time.sleep(0.1)
            text = log.read_text() if log.exists() else ""
    finally:
        server.terminate()
        server.wait(20)
    assert text.count(expected) == 2, text
    assert text.index(expected) < text.index("Booting worker"), text
