"""`assess worker` with Redis unreachable: one line per try, the pauses growing, instead of
huey's tracebacks (the audit: 31 of them, 1,625 lines, in 12 s)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from assess import jobs
from tests.conftest import assess_executable


def test_the_worker_waits_for_redis_with_growing_pauses(monkeypatch, caplog):
    answers = [RedisConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused."),
               RedisConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused."),
               RedisConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused."),
               None]  # fmt: skip

    def ping() -> None:
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    pauses: list[float] = []
    monkeypatch.setattr(jobs.time, "sleep", pauses.append)
    huey = SimpleNamespace(storage=SimpleNamespace(conn=SimpleNamespace(ping=ping)))
    jobs._wait_for_redis(huey, pause=1.0, longest=3.0)  # type: ignore[arg-type]
    assert pauses == [1.0, 2.0, 3.0]
    lines = [r.getMessage() for r in caplog.records if r.name == "assess.jobs"]
    assert lines[0] == (
        "Redis (ASSESS_REDIS_URL) cannot be reached (Error 111 connecting to 127.0.0.1:6399. "
        "Connection refused.); trying again in 1 s"
    )
    assert len(lines) == 3
    assert all(r.exc_info is None for r in caplog.records)  # no traceback


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_assess_worker_says_redis_cannot_be_reached_in_one_line(database_url, tmp_path: Path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "ASSESS_DATABASE_URL": database_url,
        "ASSESS_INSTANCE_PATH": str(tmp_path / "instance"),
        "ASSESS_REDIS_URL": f"redis://:a-password@127.0.0.1:{port}/15",
    }
    worker = subprocess.Popen(  # noqa: S603
        [assess_executable(), "worker"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(5)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert "Traceback" not in err
    tries = [line for line in err.splitlines() if "cannot be reached" in line]
    assert 2 <= len(tries) <= 4, err  # 1 s, 2 s, 4 s…
    assert f"Redis (ASSESS_REDIS_URL) cannot be reached (Error 111 connecting to 127.0.0.1:{port}" in tries[0]  # fmt: skip
    assert "a-password" not in err
    assert len(err.splitlines()) <= 6, err


def test_a_redis_lost_while_the_worker_runs_is_one_line_now_and_then():
    """huey reads the queue again and again while Redis is away, logging each failure with
    its traceback: the filter makes the first one line, drops the next ones for a while,
    and leaves every other record alone."""
    import logging

    lost = RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def record(name: str, error: BaseException | None) -> logging.LogRecord:
        info = (type(error), error, None) if error is not None else None
        return logging.LogRecord(
            name, logging.ERROR, __file__, 1, "Error reading from queue", (), info
        )

    keep = jobs.RedisLostFilter(every=30.0)
    first = record("huey.consumer.Worker-1", lost)
    assert keep.filter(first)
    assert first.exc_info is None
    assert first.getMessage() == (
        "Redis (ASSESS_REDIS_URL) cannot be reached (Error 111 connecting to 127.0.0.1:6379. "
        "Connection refused.); the worker keeps trying"
    )
    assert not keep.filter(record("huey.consumer.Worker-1", lost))  # within 30 s: dropped
    other = record("huey.consumer.Worker-1", ValueError("a job's own failure"))
    assert keep.filter(other)
    assert other.exc_info is not None  # a job's failure keeps its traceback
    assert keep.filter(record("assess.jobs", lost))  # not huey's
    keep.last -= 31
    assert keep.filter(record("huey.consumer.Worker-1", lost))  # later: one more line
