"""The bulk scorecard job on Redis: the web app queues it, an ``assess worker`` process runs
it (the same job code as the embedded queue, tested in test_routes.py); SIGTERM, as systemd
stops the worker, lets it finish the job at hand."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
import uuid
import zipfile
from dataclasses import dataclass

import pytest

from assess import jobs
from assess.extensions import db
from assess.models import Job
from tests.conftest import assess_executable

#: A database number of its own, and a queue name per test: nothing else's keys are touched.
REDIS_URL = os.environ.get("ASSESS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass
class RedisQueue:
    """The app's queue and the ``assess worker`` process that takes its jobs."""

    jobs: jobs.Jobs
    worker: subprocess.Popen[str]


@pytest.fixture
def redis_queue(app, database_url):  # type: ignore[no-untyped-def]
    """The app queues on Redis; one ``assess worker`` takes the jobs. Cleaned up after."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    name = f"assess-test-{uuid.uuid4().hex[:12]}"
    app.config.update(REDIS_URL=REDIS_URL, JOBS_QUEUE=name, SCORECARD_PROCESSES=2)
    queue = jobs.init_app(app)
    assert queue.redis
    assert not queue.embedded
    env = {
        **os.environ,
        "ASSESS_DATABASE_URL": database_url,
        "ASSESS_INSTANCE_PATH": app.instance_path,
        "ASSESS_REDIS_URL": REDIS_URL,
        "ASSESS_SECRET_KEY": app.config["SECRET_KEY"],
        "ASSESS_SCORECARD_PROCESSES": "2",
    }
    worker = subprocess.Popen(
        [assess_executable(), "worker", "--queue", name],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield RedisQueue(queue, worker)
    finally:
        worker.send_signal(signal.SIGINT)  # a graceful stop (if still running)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        queue.flush()
        leftover = redis.Redis.from_url(REDIS_URL).keys(f"*{name}*")
        assert not leftover, leftover
        print(output)


def test_bulk_export_on_redis_workers(client, auth, scene, redis_queue):
    auth.login("r@example.go.th")
    reply = client.post(
        f"/central/rounds/{scene.round.id}/scorecards",
        data={"lang": "th"},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 202
    job_id = reply.get_json()["job"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.status != "queued":
            break
        time.sleep(0.05)
    assert job.status == "running", (job.status, job.error)
    # systemd stops the service (SIGTERM) while the worker makes the archive: it finishes
    # the job at hand, then exits.
    redis_queue.worker.send_signal(signal.SIGTERM)
    assert redis_queue.worker.wait(timeout=180) == 0
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "done", (job.status, job.error)
    state = client.get(f"/central/rounds/{scene.round.id}/scorecards/status").get_json()
    assert state["done"] == state["total"] == 5
    download = client.get(state["download_url"])
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert len(archive.namelist()) == 5
    assert all(archive.read(n).startswith(b"%PDF-") for n in archive.namelist())
    download.close()
