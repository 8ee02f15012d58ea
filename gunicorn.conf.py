"""gunicorn's settings for assess, read from the project folder: ``gunicorn 'wsgi:app'``.

Options given on the command line (``-w``, ``-b``, …) take precedence over these.
"""

from __future__ import annotations

import os
from typing import Any

#: One more worker than the cores: the app is CPU-bound, and more workers only share the
#: cores among themselves (BENCHMARKS.md, saves through gunicorn).
workers = (os.cpu_count() or 1) + 1


def post_worker_init(worker: Any) -> None:
    """In each new worker, once the app is loaded: drop database connections inherited from
    the master (``--preload``), then prepare the dashboards of the rounds under way in the
    background (assess.reports.warm; ``ASSESS_WARM_DASHBOARDS=0`` turns it off)."""
    from flask import Flask

    app = worker.wsgi
    if not isinstance(app, Flask):  # another application, or gunicorn's error page
        return
    from assess.extensions import db
    from assess.reports import warm

    with app.app_context():
        db.engine.dispose(close=False)
    if app.config.get("WARM_DASHBOARDS", True):
        warm.start(app, worker.log)
