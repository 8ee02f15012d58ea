"""Dashboards ready before anyone asks: a new server loads the rounds under way.

Every process keeps its own cache of the rounds' tables (:mod:`assess.reports.data`), so
without this the first dashboard request a new gunicorn worker serves loads both rounds it
compares (about half a second at 8,000 agencies; some 0.2 s from the rounds' snapshots, see
:mod:`assess.reports.data`), then derives what the page shows from them. The project's ``gunicorn.conf.py`` loads
the app once, in the master, and there calls :func:`warm` before it forks the workers:
every worker starts with the rounds people are following already loaded, the tables the
league table reads derived, the comparison groups the scorecards and results pages
read indexed, and the dashboards' templates compiled. Each worker then calls
:func:`start`: a background thread brings those tables up to date (they are as old as the
master: a worker that replaces one that died may start long after), or loads them when the
app was not preloaded, while the worker already answers requests. A dashboard request that
arrives meanwhile waits for that work instead of doing it again (the cache builds one entry
at a time per round). Later changes are picked up by the cache as usual.

Which rounds: those under way (open, closed for review, preliminary results) and the latest
published one, newest first, at most :data:`ROUNDS` (each brings its previous round too).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from assess.extensions import db
from assess.models import Round
from assess.reports import data

log = logging.getLogger(__name__)

#: Rounds prepared per process (with their previous rounds, within the cache's size).
ROUNDS = 3
#: Statuses of the rounds under way.
UNDER_WAY = ("open", "closed", "preliminary")
#: The dashboards' templates, compiled once per process: the folder of their pages and
#: parts, and the layout they extend.
TEMPLATE_FOLDER = "reports/"
LAYOUT = ("base.html", "macros.html")


@dataclass(frozen=True)
class Warmed:
    """What :func:`warm` prepared: round ids, newest first, and the seconds it took."""

    rounds: tuple[int, ...]
    seconds: float

    def __str__(self) -> str:
        names = ", ".join(str(r) for r in self.rounds) or "none"
        return f"dashboards ready for rounds {names} in {self.seconds * 1000:.0f} ms"


def rounds_to_warm() -> list[Round]:
    """The rounds under way and the latest published round, newest first."""
    under_way = db.session.scalars(
        select(Round)
        .where(Round.status.in_(UNDER_WAY))
        .order_by(Round.fiscal_year.desc(), Round.id.desc())
        .limit(ROUNDS)
    ).all()
    published = db.session.scalars(
        select(Round)
        .where(Round.status == "published")
        .order_by(Round.fiscal_year.desc(), Round.id.desc())
        .limit(1)
    ).all()
    return [*under_way, *published][:ROUNDS]


def warm(app: Flask) -> Warmed:
    """Load and derive the dashboards' tables of :func:`rounds_to_warm` into this process's
    cache with what the agencies' scorecards read (as the central office sees them), and
    compile the dashboards' templates."""
    start = time.perf_counter()
    with app.app_context():
        try:
            for name in app.jinja_env.list_templates(filter_func=_dashboard_template):
                app.jinja_env.get_template(name)
            ids = []
            for round_ in rounds_to_warm():
                data.dashboard(round_).prepare(round_.flag_change, round_.flag_verified_gap)
                data.round_context(round_, peers_visible=True).prepare()
                ids.append(round_.id)
        finally:
            db.session.remove()
    return Warmed(tuple(ids), time.perf_counter() - start)


def _dashboard_template(name: str) -> bool:
    return name.startswith(TEMPLATE_FOLDER) or name in LAYOUT


def start(app: Flask, report: logging.Logger | None = None) -> threading.Thread:
    """:func:`warm` in a background thread; what it did (or why it failed) goes to
    ``report`` (this module's logger by default). A failure only means a colder first
    request: the worker serves as before."""
    logger = report or log

    def run() -> None:
        try:
            logger.info("assess: %s", warm(app))
        except Exception:
            logger.exception("assess: the dashboards could not be prepared in advance")

    thread = threading.Thread(target=run, name="assess-warm-dashboards", daemon=True)
    thread.start()
    return thread
