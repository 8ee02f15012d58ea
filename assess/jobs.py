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

A job is ``queued``, then ``running``, then ``done``, ``failed`` or ``cancelled``. A round has
at most one job of a kind queued or running (a partial unique index, migration 0012): of two
requests at once, the second is told of the first (:class:`Busy`). A running job writes a
heartbeat (``progress_at``) as it starts, with each progress write and every
:data:`HEARTBEAT_EVERY` seconds from a thread of its own. A process that dies (kill -9, a
restart that does not wait) leaves its job without a heartbeat: after :data:`STALE` it counts
as interrupted, and a queued job no worker takes counts as never started (:func:`settle`,
which :func:`latest` applies): it is recorded as failed when seen, and a new job may start.
A cancelled job (:func:`cancel`) stops at its next progress write. ``Job.error`` keeps why a
job failed as a code (:data:`ERROR`, …): the pages say it in the reader's language
(:func:`failure_message`), the details go to the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

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

#: The statuses of a job not finished; a round has at most one job of a kind in them.
ACTIVE = ("queued", "running")
#: A running job writes its heartbeat at least this often (seconds), also through a long
#: step that writes no progress (loading a big round).
HEARTBEAT_EVERY = 10.0
#: A running job whose heartbeat is older than this died with its process.
STALE = dt.timedelta(minutes=2)
#: A queued job that no worker took within this, while no job was running, never will:
#: Redis workers (``assess worker``) not running, or its task lost.
QUEUED_LIMIT = dt.timedelta(minutes=10)
#: The same on the embedded queue. Its tasks wait in ``instance/jobs.db``, which outlives a
#: restart, and every web process that shows a queued job starts its consumer, which polls
#: the file every second: a job still queued after this, with nothing running and this
#: process's consumer polling for :data:`CONSUMER_SETTLED` seconds, has no task left.
QUEUED_LIMIT_EMBEDDED = dt.timedelta(minutes=2)
CONSUMER_SETTLED = 10.0
#: Seconds a job asked to stop by its stopping process has to record it (:meth:`Jobs.stop`).
HALT_GRACE = 10.0

#: Why a job failed, as ``Job.error`` keeps it. The exception's text is in the log only: it
#: is English and may name the server's paths.
ERROR = "error"
UNAVAILABLE = "unavailable"
INTERRUPTED = "interrupted"
NOT_TAKEN = "not_taken"


def unavailable_message() -> str:
    """What the central office reads when a job cannot be queued."""
    return _(
        "background jobs are unavailable: the job queue cannot be reached. Try again later, "
        "or tell the system administrator."
    )


def failure_message(job: Job) -> str:
    """Why ``job`` failed, in the reader's language."""
    if job.error == INTERRUPTED:
        return _("interrupted (the server stopped while it ran) — start again")
    if job.error == NOT_TAKEN:
        return _("it never started (no background worker took it) — start again")
    if job.error == UNAVAILABLE:
        return unavailable_message()
    return _(
        "an error occurred on the server (the details are in its log) — start again, and tell "
        "the system administrator if it happens again"
    )


class Busy(Exception):
    """The round has a job of this kind queued or running already: ``job`` (``None`` if it
    finished meanwhile)."""

    def __init__(self, job: Job | None) -> None:
        super().__init__(f"job {job.id if job else '?'} is under way")
        self.job = job


class Unavailable(Exception):
    """The job could not be queued; it is recorded as failed (``job``)."""

    def __init__(self, job: Job) -> None:
        super().__init__(unavailable_message())
        self.job = job


class Stopped(Exception):
    """Raised by a job's ``progress`` callback: the job is no longer running (cancelled, or
    recorded as interrupted), or its process is stopping (``reason`` :data:`INTERRUPTED`:
    the job records it)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "no longer running")
        self.reason = reason


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
        self._started = 0.0
        self._lock = threading.Lock()
        #: Set when this process stops: its running jobs stop at their next progress write.
        self.halt = threading.Event()

    def _execute(self, job_id: int) -> None:
        """Run job ``job_id`` (in a worker: a consumer thread or an ``assess worker``)."""
        with self.app.app_context():
            run(job_id, self.halt)

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
            self.halt = threading.Event()
            consumer.start()
            self._consumer = consumer
            self._started = time.monotonic()

    def settled(self) -> bool:
        """Whether a job left in the queue would have been taken by now: always with Redis
        workers (they poll on their own); embedded, once this process's consumer has polled
        for :data:`CONSUMER_SETTLED` seconds."""
        if not self.embedded:
            return True
        return self._consumer is not None and time.monotonic() - self._started >= CONSUMER_SETTLED

    def ensure_worker(self) -> None:
        """Start the embedded consumer if this app has one and it is not running: a job
        queued by a web process that has since stopped is then taken by this one."""
        if self.embedded:
            self.start_embedded()

    def stop(self, wait: float | None = None) -> None:
        """Stop the embedded consumer (tests, a web process that exits).

        ``wait=None``: the job at hand finishes, however long it takes. Otherwise it has
        ``wait`` seconds; then it stops at its next progress write, recorded as interrupted
        (its partial file removed), within :data:`HALT_GRACE` more seconds.
        """
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        if wait is None:
            consumer.stop(graceful=True)
            return
        consumer.stop_flag.set()
        self._finish([thread for _, thread in consumer.worker_threads], wait)

    def _finish(self, threads: Iterable[threading.Thread], wait: float) -> None:
        """Give the jobs running on ``threads`` ``wait`` seconds, then halt them."""
        threads = list(threads)
        deadline = time.monotonic() + wait
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if not any(thread.is_alive() for thread in threads):
            return
        self.halt.set()
        deadline = time.monotonic() + HALT_GRACE
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def worker(self, workers: int = 1) -> None:
        """Run a consumer in the foreground until SIGINT or SIGTERM (``assess worker``).

        Either signal stops it after the job at hand (systemd stops a service with SIGTERM;
        huey's default takes only SIGINT so, and SIGTERM as "stop now"); a second signal
        stops it at once, the job at hand recorded as interrupted.
        """
        if self.redis:
            _wait_for_redis(self.huey)  # one line per try, not huey's tracebacks
            # Redis lost later: huey's consumer logs a traceback at every try, one line now.
            for handler in logging.getLogger().handlers:
                handler.addFilter(RedisLostFilter())
        consumer = self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=False,
            max_delay=2.0,
            graceful_signal="TERM",
        )
        # With TERM graceful, huey takes SIGINT (Ctrl+C) as "stop now": graceful too.
        actions = getattr(consumer, "_signal_actions", None)
        if actions is not None:
            actions[signal.SIGINT] = (False, True)
        consumer.run()
        # Stopped at once: the jobs still running record that they were interrupted.
        self._finish([thread for _, thread in consumer.worker_threads], 0.0)

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


def shutdown(app: Flask, wait: float) -> None:
    """Stop ``app``'s embedded consumer, if it has one running (gunicorn's ``worker_exit``):
    the job at hand has ``wait`` seconds, then is recorded as interrupted."""
    found: Jobs | None = app.extensions.get(EXTENSION)
    if found is not None:
        found.stop(wait)


def submit(kind_name: str, round_: Round | None, user: User | None, params: dict[str, Any]) -> Job:
    """Record a job, commit, and queue it. Returns the job (status ``queued``).

    Raises :class:`Busy` when the round has a job of this kind queued or running: the
    database holds one at a time, so of two requests at once the second is told of the
    first. Raises :class:`Unavailable` when the queue cannot be reached: the job is then
    recorded as failed, with that reason (the details in the log).
    """
    if kind_name not in KINDS:
        raise ValueError(f"unknown job kind {kind_name!r}")
    if round_ is not None:
        found = latest(kind_name, round_)  # a dead job gives way (settle)
        if found is not None and found.status in ACTIVE:
            raise Busy(found)
    for attempt in (1, 2):
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
        try:
            db.session.commit()
            break
        except IntegrityError:
            db.session.rollback()
            # Another request started one first (the index of migration 0012) ...
            other = active(kind_name, round_.id) if round_ is not None else None
            if other is not None:
                raise Busy(other) from None
            if attempt == 2:
                raise
            # ... which has finished since: try again.
    try:
        jobs().enqueue(job)
    except Exception as exc:
        log.exception("job %s (%s): could not be queued", job.id, kind_name)
        if _mark(job, ("queued",), status="failed", error=UNAVAILABLE, finished_at=utcnow()):
            raise Unavailable(job) from exc
    return job


def active(kind_name: str, round_id: int) -> Job | None:
    """The round's job of a kind that is queued or running, if any."""
    return db.session.scalars(
        db.select(Job).where(
            Job.kind == kind_name, Job.round_id == round_id, Job.status.in_(ACTIVE)
        )
    ).first()


def _write(job_id: int, **values: Any) -> None:
    """Update a job's row on a connection of its own, committed at once.

    The job's work keeps its session (and the ORM objects it loaded) untouched: committing
    that session would expire every object and reload them one by one.
    """
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def _mark(job: Job, statuses: tuple[str, ...], *conditions: Any, **values: Any) -> bool:
    """Update ``job``'s row if it is in one of ``statuses`` (and meets ``conditions``), on a
    connection of its own, committed at once; the session's copy follows. Whether it was."""
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.in_(statuses), *conditions)
            .values(**values)
        ).rowcount
    if changed:
        for name, value in values.items():
            set_committed_value(job, name, value)
    else:
        db.session.expire(job)  # another process moved it: read it again
    return bool(changed)


def _beat(engine: Engine, job_id: int, **values: Any) -> bool:
    """Write a running job's heartbeat (and ``values``); whether it is still running (not
    cancelled, nor recorded as interrupted by a page that found it silent)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(progress_at=utcnow(), **values)
        ).rowcount
    return bool(changed)


def _heartbeat(
    engine: Engine, job_id: int, finished: threading.Event, stopping: threading.Event
) -> None:
    """Write the job's heartbeat every HEARTBEAT_EVERY seconds until it finishes; set
    ``stopping`` when it is no longer running (its next progress write then stops it)."""
    while not finished.wait(HEARTBEAT_EVERY):
        try:
            if not _beat(engine, job_id):
                stopping.set()
                return
        except SQLAlchemyError:
            log.warning("job %s: heartbeat not written", job_id, exc_info=True)


def run(job_id: int, halt: threading.Event | None = None) -> None:
    """Run one job: claim it, call its kind's function, record the outcome.

    ``halt``: set when the process stops; the job then stops at its next progress write and
    is recorded as interrupted.
    """
    # Claim: only a queued job starts, so a task delivered twice (or cancelled) runs once.
    now = utcnow()
    with db.engine.begin() as conn:
        claimed = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, progress_at=now)
        ).rowcount
    if not claimed:
        log.info("job %s: not queued any more, skipped", job_id)
        return
    job = db.session.get(Job, job_id)
    assert job is not None
    kind_name, round_id = job.kind, job.round_id
    engine = db.engine
    last = [0.0]
    finished = threading.Event()
    stopping = threading.Event()  # the row is no longer "running": cancelled

    def progress(done: int, total: int) -> None:
        """Record ``done`` of ``total``, at most every PROGRESS_EVERY seconds (and at the end);
        raise :class:`Stopped` when the job is to stop."""
        if halt is not None and halt.is_set():
            raise Stopped(INTERRUPTED)
        if stopping.is_set():
            raise Stopped()
        now = time.monotonic()
        if done < total and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        if not _beat(engine, job_id, done=done, total=total):
            raise Stopped()

    heart = threading.Thread(
        target=_heartbeat,
        args=(engine, job_id, finished, stopping),
        name=f"job-{job_id}-heartbeat",
        daemon=True,
    )
    heart.start()
    try:
        tidy(kind_name, round_id)
        file_name = KINDS[kind_name](job, progress)
    except Stopped as stop:
        db.session.rollback()
        if stop.reason:
            log.warning("job %s (%s): interrupted, its process is stopping", job_id, kind_name)
            _beat(engine, job_id, status="failed", error=stop.reason, finished_at=utcnow())
        else:
            log.info("job %s (%s): stopped, it was cancelled", job_id, kind_name)
        return
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed", job_id, kind_name)
        _beat(engine, job_id, status="failed", error=ERROR, finished_at=utcnow())
        return
    finally:
        finished.set()
        heart.join(5)
        db.session.remove()
    try:
        if _beat(engine, job_id, status="done", file_name=file_name, finished_at=utcnow()):
            tidy(kind_name, round_id)  # the archive it supersedes
        elif file_name:
            log.info("job %s (%s): cancelled as it finished, its file removed", job_id, kind_name)
            (exports_folder() / file_name).unlink(missing_ok=True)
    finally:
        db.session.remove()


#: A partial file of a job: ``job-<id>-….part``.
_PARTIAL = re.compile(r"job-(\d+)-.+\.part")


def tidy(kind_name: str, round_id: int | None) -> None:
    """Remove the files no job needs any more: the archives of a round's older finished jobs
    of a kind (its newest finished one stays, offered while the next is made) and the partial
    files of jobs no longer running (left by a process that died). Never fails a job: what
    cannot be removed is logged."""
    try:
        folder = exports_folder()
        running = set(db.session.scalars(select(Job.id).where(Job.status == "running")))
        for path in folder.glob("job-*.part"):
            found = _PARTIAL.fullmatch(path.name)
            if found is not None and int(found.group(1)) not in running:
                path.unlink(missing_ok=True)
        if round_id is None:
            return
        names = db.session.scalars(
            select(Job.file_name)
            .where(
                Job.kind == kind_name,
                Job.round_id == round_id,
                Job.status == "done",
                Job.file_name.is_not(None),
            )
            .order_by(Job.id.desc())
        ).all()
        for name in names[1:]:
            path = folder / str(name)
            if path.parent == folder:
                path.unlink(missing_ok=True)
    except (OSError, SQLAlchemyError):
        log.warning("job files of round %s not tidied", round_id, exc_info=True)


def note(job: Job, **values: Any) -> None:
    """Add ``values`` to a job's parameters (what pages read of it later), written at once."""
    params = {**(job.params or {}), **values}
    _write(job.id, params=params)
    set_committed_value(job, "params", params)


def cancel(job: Job) -> bool:
    """Cancel a queued or running job: recorded at once as ``cancelled``; a running one stops
    at its next progress write and removes its partial file. Whether it was cancelled
    (``False``: it had finished)."""
    return _mark(job, ACTIVE, status="cancelled", finished_at=utcnow())


def settle(job: Job) -> None:
    """Record as failed a job that is queued or running in appearance only: running without
    a heartbeat for :data:`STALE` (interrupted), or queued and taken by no worker (never
    started). An embedded queue's consumer is started first: a job left in its file by a
    process that stopped is taken by this one."""
    now = utcnow()
    if job.status == "queued":
        queue = jobs()
        queue.ensure_worker()
        limit = QUEUED_LIMIT_EMBEDDED if queue.embedded else QUEUED_LIMIT
        if now - job.created_at <= limit or not queue.settled() or _any_alive(now):
            return
        if _mark(job, ("queued",), status="failed", error=NOT_TAKEN, finished_at=now):
            log.warning("job %s (%s): no worker took it, recorded as failed", job.id, job.kind)
    elif job.status == "running":
        beat = job.progress_at or job.started_at or job.created_at
        cutoff = now - STALE
        if beat >= cutoff:
            return
        silent = func.coalesce(Job.progress_at, Job.started_at, Job.created_at) < cutoff
        if _mark(job, ("running",), silent, status="failed", error=INTERRUPTED, finished_at=now):
            log.warning(
                "job %s (%s): no heartbeat since %s, recorded as interrupted",
                job.id,
                job.kind,
                beat.isoformat(),
            )


def _any_alive(now: dt.datetime) -> bool:
    """Whether some job is running with a recent heartbeat (the workers are busy)."""
    beat = func.coalesce(Job.progress_at, Job.started_at)
    found = db.session.scalar(
        select(Job.id).where(Job.status == "running", beat >= now - STALE).limit(1)
    )
    return found is not None


def latest(kind_name: str, round_: Round) -> Job | None:
    """The round's most recent job of a kind; one queued or running in appearance only is
    recorded as failed first (:func:`settle`)."""
    job = db.session.scalars(
        db.select(Job)
        .where(Job.kind == kind_name, Job.round_id == round_.id)
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    if job is not None and job.status in ACTIVE:
        settle(job)
    return job


def finished(kind_name: str, round_: Round) -> Job | None:
    """The round's newest finished job of a kind whose file is still there."""
    job = db.session.scalars(
        db.select(Job)
        .where(
            Job.kind == kind_name,
            Job.round_id == round_.id,
            Job.status == "done",
            Job.file_name.is_not(None),
        )
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    if job is None or not (exports_folder() / str(job.file_name)).is_file():
        return None
    return job


class RedisLostFilter(logging.Filter):
    """huey's consumer reports every failed read of a lost Redis with its traceback (one or
    two a second, for as long as Redis is away): each becomes one line without it, and at
    most one line every ``every`` seconds gets through."""

    def __init__(self, every: float = 30.0) -> None:
        super().__init__()
        self.every = every
        self.last = -every

    def filter(self, record: logging.LogRecord) -> bool:
        from redis.exceptions import RedisError

        if not record.name.startswith("huey.consumer") or not record.exc_info:
            return True
        error = record.exc_info[1]
        if not isinstance(error, RedisError):
            return True
        now = time.monotonic()
        if now - self.last < self.every:
            return False
        self.last = now
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        record.msg = "Redis (ASSESS_REDIS_URL) cannot be reached (%s); the worker keeps trying"
        record.args = (reason,)
        record.exc_info = None
        record.exc_text = None
        return True


def _wait_for_redis(huey: Huey, pause: float = 1.0, longest: float = 60.0) -> None:
    """Return once Redis answers; until then one line per try, the pauses doubling up to
    ``longest`` seconds (huey's consumer would write two tracebacks a second meanwhile)."""
    from redis.exceptions import RedisError

    while True:
        try:
            huey.storage.conn.ping()
            return
        except RedisError as exc:
            log.warning(
                "Redis (ASSESS_REDIS_URL) cannot be reached (%s); trying again in %.0f s",
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                pause,
            )
        time.sleep(pause)
        pause = min(pause * 2, longest)
