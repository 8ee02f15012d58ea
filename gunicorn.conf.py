"""gunicorn's settings for assess, read from the project folder: ``gunicorn 'wsgi:app'``.

Options given on the command line (``-w``, ``-b``, …) take precedence over these.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import Any

from gunicorn.glogging import Logger

#: One more worker than the cores: the app is CPU-bound, and more workers only share the
#: cores among themselves (BENCHMARKS.md, saves through gunicorn).
workers = (os.cpu_count() or 1) + 1

#: Seconds a worker may spend on one request before gunicorn replaces it (default 30). The
#: whole-round workbooks of a national round take 1-7 s to write here (BENCHMARKS.md,
#: exports): room for a slower or busier server, not for a hung one.
timeout = 120

#: The app is loaded once, in the master, which prepares the dashboards of the rounds under
#: way before it starts the workers (:func:`when_ready`): every worker starts with them, and
#: shares their memory. New code therefore takes a restart of the service, not a HUP.
#: Loading it (wsgi.py) refuses a database that ``assess db upgrade`` has not brought to
#: this code's migration, in one line ("Error: the database is at revision …").
preload_app = True

#: One line per request on stderr, beside gunicorn's and the app's own messages: the
#: client (as the trusted proxies gave it: ``ASSESS_PROXY_COUNT``), the request line, the
#: status, the bytes sent, the time taken and the request's id (``X-Request-Id``, which the
#: app's log records of the request and its 500 page carry too: assess.request_log). No
#: header of the request is written: never ``Authorization`` (API tokens) or ``Cookie``
#: (sessions); no query string of the app holds a password or token (``?code=`` of the
#: scorecard check is printed on the scorecard itself).
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms request=%({x-request-id}o)s'


class _Logger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the access log (``-``) on stderr instead of stdout: one
    stream, in order, for the requests and the errors they meet."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if cfg.accesslog == "-":
            for handler in self.access_log.handlers:
                if getattr(handler, "_gunicorn", False) and isinstance(
                    handler, logging.StreamHandler
                ):
                    handler.setStream(sys.stderr)


logger_class = _Logger


def _assess_app(candidate: Any) -> Any:
    """The assess application, or ``None`` for another one (or gunicorn's error page)."""
    from flask import Flask

    return candidate if isinstance(candidate, Flask) else None


def when_ready(server: Any) -> None:
    """In the master, once it listens and before any worker starts: set aside what the
    loaded app is made of from the collector's scans, prepare the dashboards of the rounds
    under way (assess.reports.warm; ``ASSESS_WARM_DASHBOARDS=0`` turns it off), then close
    its database connections (the workers open their own)."""
    if not server.cfg.preload_app:
        return
    app = _assess_app(server.app.wsgi())
    if app is None:
        return
    # The modules, classes and functions of the loaded app (some 200,000 objects) live as
    # long as the process: frozen, the collector's full scans in the workers skip them
    # (at 8,000 agencies such a scan paused a dashboard request for 140 ms, 23 ms once
    # frozen), and the workers do not copy the pages that hold them. The prepared tables
    # below are made after, so they can still be collected once replaced.
    gc.freeze()
    if not app.config.get("WARM_DASHBOARDS", True):
        return
    from assess.extensions import db
    from assess.reports import warm

    try:
        server.log.info("assess: %s", warm.warm(app))
    except Exception:
        server.log.exception("assess: the dashboards could not be prepared in advance")
    finally:
        with app.app_context():
            db.engine.dispose()


def post_worker_init(worker: Any) -> None:
    """In each new worker, once the app is loaded: drop database connections inherited from
    the master, then bring the dashboards of the rounds under way up to date in the
    background: the tables the master prepared, or none without ``preload_app``."""
    app = _assess_app(worker.wsgi)
    if app is None:
        return
    from assess.extensions import db
    from assess.reports import warm

    with app.app_context():
        db.engine.dispose(close=False)
    if app.config.get("WARM_DASHBOARDS", True):
        warm.start(app, worker.log)


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker that stops (restart, SIGTERM, ``max_requests``): stop its embedded job
    consumer, so that the job at hand finishes, or is recorded as interrupted, instead of
    being cut off unnoticed when the master kills the worker at the end of
    ``graceful_timeout`` (assess.jobs.shutdown: the job has what is left of that time).
    Never raises: the worker is on its way out."""
    try:
        app = _assess_app(getattr(worker, "wsgi", None))
        jobs = sys.modules.get("assess.jobs")  # None: nothing of the jobs was loaded
        if app is None or jobs is None:
            return
        shutdown = getattr(jobs, "shutdown", None)
        if callable(shutdown):
            grace = float(getattr(jobs, "HALT_GRACE", 0.0))
            shutdown(app, max(0.0, float(server.cfg.graceful_timeout) - grace - 5.0))
            return
        stop = getattr(app.extensions.get(jobs.EXTENSION), "stop", None)
        if callable(stop):
            stop()
    except Exception:
        server.log.exception("assess: the job consumer could not be stopped")
