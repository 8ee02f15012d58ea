"""Background jobs on huey: embedded by default, Redis-backed workers with ``ASSESS_REDIS_URL``.

- **Embedded** (no Redis): the queue is a SQLite file in the instance folder
  (``instance/jobs.db``) and a consumer thread inside the app's own process takes the jobs;
  it starts the first time a job is queued. Nothing to run beside the app.
- **Redis** (``ASSESS_REDIS_URL``): the queue lives in Redis and ``assess worker`` processes
  (on any host sharing the database and the instance folder) take the jobs.

Either way the same code runs a job: huey carries only a :class:`~assess.models.Job`'s id;
the job's kind, parameters and progress live in the ``job`` table, which the pages read.
A job kind is a function registered with :func:`kind`, given the job and a ``progress``
callback, returning the name of the file it made under ``instance/exports/``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import update

from assess.extensions import db
from assess.models import Job, Round, User, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Runner = Callable[[Job, Progress], str | None]

#: Job kinds: name → the function that runs one.
KINDS: dict[str, Runner] = {}
#: Progress is written at most this often (seconds): pages poll, nobody needs every step.
PROGRESS_EVERY = 0.5
EXTENSION = "assess_jobs"


def kind(name: str) -> Callable[[Runner], Runner]:
    """Register the function that runs jobs of kind ``name``."""

    def register(runner: Runner) -> Runner:
        """Record ``runner`` under ``name``."""
        KINDS[name] = runner
        return runner

    return register


def exports_folder(app: Flask | None = None) -> Path:
    """Where jobs write their files: ``instance/exports`` (never under the web root)."""
    folder = Path((app or current_app).instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer without signal handlers: it runs in a thread of the app's process,
    where the web server (or the test runner) owns the signals."""

    def _set_signal_handlers(self) -> None:
        """Leave the process's signals alone."""
        return None


class Jobs:
    """One app's job queue (huey) and, when embedded, its consumer thread."""

    def __init__(self, app: Flask) -> None:
        """Choose the backend from the app's configuration."""
        self.app = app
        name = app.config.get("JOBS_QUEUE") or "assess"
        redis_url = app.config.get("REDIS_URL")
        self.huey: Huey
        if redis_url:
            self.huey = RedisHuey(name, url=redis_url, results=False)
        else:
            path = os.path.join(app.instance_path, "jobs.db")
            self.huey = SqliteHuey(name, filename=path, results=False)
        self.redis = bool(redis_url)
        # The embedded consumer runs unless Redis workers are there to take the jobs.
        self.embedded = bool(app.config.get("JOBS_EMBEDDED_WORKER", not self.redis))
        # A bound method as the task: each app's queue runs its jobs in its own app.
        self.task = self.huey.task(name="assess.job")(self._execute)
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    def _execute(self, job_id: int) -> None:
        """Run job ``job_id`` (in a worker: a consumer thread or an ``assess worker``)."""
        with self.app.app_context():
            run(job_id)

    def enqueue(self, job: Job) -> None:
        """Queue a committed job; start the embedded consumer if this app has one."""
        self.task(job.id)
        if self.embedded:
            self.start_embedded()

    def start_embedded(self) -> None:
        """Start the consumer thread of this process (once)."""
        with self._lock:
            if self._consumer is not None:
                return
            consumer = _EmbeddedConsumer(
                self.huey,
                workers=1,
                worker_type="thread",
                periodic=False,
                check_worker_health=False,
                initial_delay=0.1,
                max_delay=1.0,
            )
            consumer.start()
            self._consumer = consumer

    def ensure_worker(self) -> None:
        """Start the embedded consumer if this app has one and it is not running: a job
        queued by a web process that has since stopped is then taken by this one."""
        if self.embedded:
            self.start_embedded()

    def stop(self) -> None:
        """Stop the embedded consumer, letting a running job finish (tests, shutdown)."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop(graceful=True)

    def worker(self, workers: int = 1) -> None:
        """Run a consumer in the foreground until SIGINT or SIGTERM (``assess worker``)."""
        consumer = self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=False, max_delay=2.0
        )
        consumer.run()

    def flush(self) -> None:
        """Drop every queued task (tests)."""
        self.huey.flush()


_made = threading.Lock()


def init_app(app: Flask) -> Jobs:
    """This app's :class:`Jobs` (made on first use: most requests never queue a job)."""
    with _made:  # two first requests at once must not make two queues and two consumers
        found: Jobs | None = app.extensions.get(EXTENSION)
        if found is None:
            found = app.extensions[EXTENSION] = Jobs(app)
        return found


def jobs() -> Jobs:
    """The current app's :class:`Jobs`."""
    return init_app(current_app._get_current_object())  # type: ignore[attr-defined]


def submit(kind_name: str, round_: Round | None, user: User | None, params: dict[str, Any]) -> Job:
    """Record a job, commit, and queue it. Returns the job (status ``queued``)."""
    if kind_name not in KINDS:
        raise ValueError(f"unknown job kind {kind_name!r}")
    job = Job(
        kind=kind_name,
        round_id=round_.id if round_ is not None else None,
        requested_by_id=user.id if user is not None else None,
        params=params,
        status="queued",
        done=0,
        total=0,
        error="",
    )
    db.session.add(job)
    db.session.commit()
    jobs().enqueue(job)
    return job


def _write(job_id: int, **values: Any) -> None:
    """Update a job's row on a connection of its own, committed at once.

    The job's work keeps its session (and the ORM objects it loaded) untouched: committing
    that session would expire every object and reload them one by one.
    """
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def run(job_id: int) -> None:
    """Run one job: claim it, call its kind's function, record the outcome."""
    # Claim: only a queued job starts, so a task delivered twice runs once.
    with db.engine.begin() as conn:
        claimed = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=utcnow())
        ).rowcount
    if not claimed:
        log.info("job %s: not queued any more, skipped", job_id)
        return
    job = db.session.get(Job, job_id)
    assert job is not None
    last = [0.0]

    def progress(done: int, total: int) -> None:
        """Record ``done`` of ``total``, at most every PROGRESS_EVERY seconds (and at the end)."""
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        _write(job_id, done=done, total=total)

    try:
        file_name = KINDS[job.kind](job, progress)
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, job.kind)
        _write(job_id, status="failed", error=str(exc)[:2000] or type(exc).__name__,
               finished_at=utcnow())  # fmt: skip
        return
    finally:
        db.session.remove()
    _write(job_id, status="done", file_name=file_name, finished_at=utcnow())


def latest(kind_name: str, round_: Round) -> Job | None:
    """The round's most recent job of a kind."""
    return db.session.scalars(
        db.select(Job)
        .where(Job.kind == kind_name, Job.round_id == round_.id)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
