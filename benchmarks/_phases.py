"""Where a save's server CPU goes, measured inside gunicorn's workers under load
(``saves.py --phases``).

Each worker wraps the steps of an autosave request (gunicorn's handling, Flask's request
context, the checks before the view, the view's reads, scoring and writes, the commit, the
reply) and adds up the CPU time of its own thread in each (``time.thread_time``: what the
worker itself spent, not the time it waited for PostgreSQL or for a core), for the autosave
requests alone (``POST …/answers``), in one-second buckets of the wall clock. It writes them
when it exits; :func:`collect` sums the buckets of the measured window over every worker.
Wrapping costs a little CPU itself (1.4 µs a step, some 25 µs a save: under 1 % here): the
figures are for comparing the steps, the run's own throughput is that of a slightly slower
server.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

#: The steps, as (label, where), in the order printed; where a step runs inside another,
#: its label says so by indentation (two spaces a level). ``view`` is the endpoint's view
#: function as the app registered it.
STEPS: tuple[tuple[str, str], ...] = (
    ("gunicorn: accept, read, reply, close", "gunicorn.workers.sync:SyncWorker.handle"),
    ("  the WSGI app (Flask)", "flask.app:Flask.wsgi_app"),
    ("    request context: session cookie, routing", "flask.ctx:RequestContext.push"),
    ("    before the view (body, CSRF, language)", "flask.app:Flask.preprocess_request"),
    ("      the session check: user and session row", "assess.auth.sessions:load"),
    ("    the view", "view"),
    ("      reading the response and round", "assess.survey.routes:_load_for_save"),
    ("      responses.save", "assess.services.responses:save"),
    ("        reading the answers, verified values, results", "assess.services.results:read_state"),
    ("        scoring what the change moves", "assess.services.results:rescore"),
    ("        the writes (one pipeline)", "assess.services.writes:run"),
    ("      the reply's state", "assess.survey.routes:State.__init__"),
    ("      the commit", "sqlalchemy.orm.session:Session.commit"),
    ("      JSON reply", "flask.json.provider:DefaultJSONProvider.response"),
    ("    after the view (headers, cookie)", "flask.app:Flask.finalize_request"),
    ("    teardown: session closed, connection returned", "flask.ctx:RequestContext.pop"),
)
ENDPOINT = "survey.save"

_totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
_saves: dict[int, int] = defaultdict(int)
_state = {"save": False}


def _is_save(environ: dict[str, Any]) -> bool:
    return environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith(
        "/answers"
    )


def _timed(label: str, function: Any, *, outer: bool = False) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if outer:  # the outermost step decides whether this request counts
            _state["save"] = False
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            if _state["save"]:
                _totals[int(time.time())][label] += time.thread_time() - start
                if outer:
                    _saves[int(time.time())] += 1

    return wrapper


def _wsgi(label: str, function: Any) -> Any:
    timed = _timed(label, function)

    @functools.wraps(function)
    def wrapper(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        _state["save"] = _is_save(environ)
        return timed(self, environ, start_response)

    return wrapper


def install(app: Any) -> None:
    """Wrap the steps in this process (a worker, once forked)."""
    for label, where in STEPS:
        if where == "view":
            app.view_functions[ENDPOINT] = _timed(label, app.view_functions[ENDPOINT])
            continue
        module_name, _, path = where.partition(":")
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        function = getattr(owner, name)
        if where == "flask.app:Flask.wsgi_app":
            wrapped = _wsgi(label, function)
        else:
            wrapped = _timed(label, function, outer=where.startswith("gunicorn"))
        setattr(owner, name, wrapped)


def dump(folder: Path) -> None:
    """Write this worker's buckets into ``folder`` (at the worker's exit)."""
    if not _saves:
        return
    data = {"totals": _totals, "saves": _saves}
    (folder / f"phases-{os.getpid()}.json").write_text(json.dumps(data))


def collect(folder: Path, start: float, end: float) -> dict[str, Any]:
    """The steps' CPU per save (ms) over every worker's buckets within [start, end)."""
    totals: dict[str, float] = defaultdict(float)
    saves = 0
    for path in folder.glob("phases-*.json"):
        data = json.loads(path.read_text())
        for second, count in data["saves"].items():
            if start <= int(second) < end:
                saves += count
                for label, seconds in data["totals"].get(second, {}).items():
                    totals[label] += seconds
        path.unlink()
    return {
        "saves": saves,
        "ms_per_save": {
            label: round(totals[label] / saves * 1000, 3) for label, _ in STEPS if saves
        },
    }


def report(phases: dict[str, Any]) -> list[str]:
    """Printable lines of :func:`collect`'s figures, each step beside the part of it that no
    step within it accounts for."""
    figures = phases["ms_per_save"]
    lines = [
        f"  where a save's server CPU goes (the workers' own CPU, {phases['saves']:,} saves "
        f"of the measured window), ms per save:"
    ]
    labels = [label for label, _ in STEPS]
    for i, label in enumerate(labels):
        depth = len(label) - len(label.lstrip())
        inner = []
        for other in labels[i + 1 :]:
            other_depth = len(other) - len(other.lstrip())
            if other_depth <= depth:
                break
            if other_depth == depth + 2:
                inner.append(figures.get(other, 0.0))
        rest = f"   (rest {figures.get(label, 0.0) - sum(inner):.3f})" if inner else ""
        lines.append(f"    {label:<56} {figures.get(label, 0.0):7.3f}{rest}")
    return lines
