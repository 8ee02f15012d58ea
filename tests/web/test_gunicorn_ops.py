"""gunicorn.conf.py: an access log on stderr with the request's id and time (and no header
of the request), and a worker that stops stops its embedded job consumer."""

from __future__ import annotations

import logging
import os
import re
import runpy
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG = "5b0e7c1d9a8f6e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"


@pytest.fixture
def settings() -> dict[str, object]:
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_the_access_log_names_no_header_of_the_request(settings):
    assert settings["accesslog"] == "-"
    form = str(settings["access_log_format"])
    assert "%({x-request-id}o)s" in form  # the id the app sent back
    assert "%(M)s" in form  # milliseconds
    # Not the user of a Basic Authorization (%(u)s), nor any request header (%({…}i)s):
    # never Authorization or Cookie.
    assert "%(u)s" not in form
    assert not re.search(r"\{[^}]*\}i", form)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_gunicorn_logs_each_request_on_stderr(sqlite_database_url, tmp_path):
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSESS_")}
    env = {
        **clean,
        "ASSESS_INSTANCE_PATH": str(tmp_path),
        "ASSESS_DATABASE_URL": sqlite_database_url,
        "ASSESS_SECRET_KEY": STRONG,
        "ASSESS_WARM_DASHBOARDS": "0",
    }
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr, (tmp_path / "stdout.txt").open("w") as stdout:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, err.read_text()
                assert time.monotonic() < deadline, err.read_text()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).close()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.2)
            asked = urllib.request.Request(  # noqa: S310
                f"http://127.0.0.1:{port}/login?lang=en",
                headers={
                    "Authorization": "Bearer as_secret_token",
                    "Cookie": "session=secret-cookie",
                    "X-Request-Id": "nginx-77aa",
                },
            )
            with urllib.request.urlopen(asked, timeout=10) as reply:  # noqa: S310
                assert reply.headers["X-Request-Id"] == "nginx-77aa"
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(30)
    text = err.read_text()
    line = next(line for line in text.splitlines() if "nginx-77aa" in line)
    assert re.fullmatch(
        r'127\.0\.0\.1 \[[^]]+\] "GET /login\?lang=en HTTP/1\.1" 200 \d+ \d+ms request=nginx-77aa',
        line,
    ), line
    assert "secret" not in text
    assert (tmp_path / "stdout.txt").read_text() == ""


def test_a_stopping_worker_stops_its_job_consumer(settings, app, monkeypatch):
    from assess import jobs

    stopped: list[tuple[object, float]] = []
    monkeypatch.setattr(jobs, "shutdown", lambda app, wait: stopped.append((app, wait)))
    server = SimpleNamespace(cfg=SimpleNamespace(graceful_timeout=30), log=logging.getLogger("t"))
    settings["worker_exit"](server, SimpleNamespace(wsgi=app))  # type: ignore[operator]
    (called,) = stopped
    assert called[0] is app
    assert 0 < called[1] < 30  # within gunicorn's graceful timeout, before the kill
    # Never raises: another app, no app, or a stop that fails is logged at most.
    settings["worker_exit"](server, SimpleNamespace(wsgi=lambda environ, reply: []))  # type: ignore[operator]
    settings["worker_exit"](server, SimpleNamespace())  # type: ignore[operator]

    def broken(app: object, wait: float) -> None:
        raise RuntimeError("consumer gone")

    monkeypatch.setattr(jobs, "shutdown", broken)
    settings["worker_exit"](server, SimpleNamespace(wsgi=app))  # type: ignore[operator]


def test_without_shutdown_the_queue_is_stopped(settings, app, monkeypatch):
    """(assess.jobs without ``shutdown``: its ``Jobs.stop``.)"""
    from assess import jobs

    stopped: list[bool] = []
    monkeypatch.delattr(jobs, "shutdown")
    monkeypatch.setitem(app.extensions, jobs.EXTENSION, SimpleNamespace(stop=lambda: stopped.append(True)))  # fmt: skip
    server = SimpleNamespace(cfg=SimpleNamespace(graceful_timeout=30), log=logging.getLogger("t"))
    settings["worker_exit"](server, SimpleNamespace(wsgi=app))  # type: ignore[operator]
    assert stopped == [True]
