"""Saves throughput: answer saves through the web app beside a bare upsert loop, same run.

    python benchmarks/saves.py                        # 100 users, 60 s each phase
    python benchmarks/saves.py --targets --ceiling    # every issue-8 target judged
    python benchmarks/saves.py --short --json out.json   # 20 users, 8 s each phase

Phase 1, the web app: ``gunicorn wsgi:app`` (cores + 1 sync workers unless
``--workers``/``--threads`` say otherwise) on PostgreSQL; ``--users`` coordinators, each
signed in through the login form on its own agency's response, save one answer after
another with no think time (or paced to ``--rate`` saves/s in all), as the answer page's
autosave does (``load.py``'s client). With no think time, latency is users ÷ throughput
(Little's law): p95 ≤ 150 ms at 100 users with no think time would take 670 saves/s, so
the p95 target is judged with the users paced to offer 300 saves/s in all (``--rate 300``,
or ``--targets``, which runs the app as fast as possible and then paced, and judges the
throughput and the share of the bare upsert on the first, the p95 on the second).
Phase 2, the bare database: as many concurrent asyncio tasks each run a single-row
``INSERT … ON CONFLICT … DO UPDATE`` (autocommit) in a loop on a table shaped like
``answer``, in the same database, over ``--connections`` connections (default: as many as
the users, within what the server allows); then the same upsert as one plain loop on one
connection (the issue's "bare single-row upsert loop" read literally). Prints saves/s,
p50/p95/p99, errors and the CPU of server, PostgreSQL and client for each phase and the
ratios (the target is checked against the first, the stricter); ``--json`` writes them.
``--ceiling`` adds phase 3, the web stack's own ceiling: the same gunicorn serving only the
bare upsert, from a bare WSGI callable and from a one-route Flask app (``_ceiling.py``),
with the same clients. ``--phases`` adds where the server's CPU goes, step by step, inside
the workers (``_phases.py``: gunicorn, Flask, the session check, the view's reads, scoring,
writes and commit, the reply). The issue-8 targets (2 cores): ≥ 300 saves/s with p95
≤ 150 ms at 100 users, and ≥ 25 % of the bare upsert throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _phases  # noqa: E402
import _server  # noqa: E402
import load  # noqa: E402
from _ceiling import UPSERT  # noqa: E402  (the bare upsert, as the ceiling's apps run it)


async def bare_upserts(
    conninfo: str, users: int, connections: int, duration: float, database: str
) -> dict[str, Any]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin:
        await admin.execute("DROP TABLE IF EXISTS bench_upsert")
        await admin.execute(
            "CREATE TABLE bench_upsert (id serial PRIMARY KEY, response_id integer NOT NULL, "
            "question_code varchar(100) NOT NULL, value json, updated_at timestamptz, "
            "updated_by_id integer, UNIQUE (response_id, question_code))"
        )
    pool = [
        await psycopg.AsyncConnection.connect(conninfo, autocommit=True) for _ in range(connections)
    ]
    free: asyncio.Queue[Any] = asyncio.Queue()
    for conn in pool:
        free.put_nowait(conn)
    timings: list[float] = []
    errors: list[str] = []
    cpu0 = load._own_cpu()
    pg0 = _server.postgres_cpu(database)
    started = time.monotonic()
    stop_at = started + duration

    async def user(i: int) -> None:
        rng = random.Random(i)
        while time.monotonic() < stop_at:
            code = f"Q{rng.randrange(90):02d}"
            value = json.dumps(rng.choice(["a", "b", 3, True, ["x", "y"]]))
            start = time.monotonic()
            conn = await free.get()
            try:
                await conn.execute(UPSERT, (i + 1, code, value, i + 1), prepare=True)
            except psycopg.Error as exc:
                errors.append(str(exc))
            finally:
                free.put_nowait(conn)
            timings.append((time.monotonic() - start) * 1000)

    await asyncio.gather(*(user(i) for i in range(users)))
    seconds = time.monotonic() - started
    client_cpu = load._own_cpu() - cpu0
    pg_cpu = _server.postgres_cpu_delta(pg0, _server.postgres_cpu(database))
    for conn in pool:
        await conn.close()
    return {
        **_rate(timings, seconds),
        "errors": len(errors),
        "error_samples": errors[:5],
        "cpu": {"postgres": round(pg_cpu, 1), "client": round(client_cpu, 1)},
    }


def one_loop(conninfo: str, duration: float) -> dict[str, Any]:
    """The bare upsert as one plain loop on one connection (the issue's words read
    literally): the same statement and table as :func:`bare_upserts`, prepared, autocommit,
    one after another for ``duration`` seconds."""
    import psycopg

    timings: list[float] = []
    rng = random.Random(0)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.monotonic()
        stop_at = started + duration
        while time.monotonic() < stop_at:
            i = rng.randrange(100)
            code = f"Q{rng.randrange(90):02d}"
            value = json.dumps(rng.choice(["a", "b", 3, True, ["x", "y"]]))
            start = time.monotonic()
            conn.execute(UPSERT, (i + 1, code, value, i + 1), prepare=True)
            timings.append((time.monotonic() - start) * 1000)
        seconds = time.monotonic() - started
    return _rate(timings, seconds)


def _rate(timings: list[float], seconds: float) -> dict[str, Any]:
    """Upserts (or saves), their rate and latency percentiles (ms) from their timings."""
    return {
        "saves": len(timings),
        "seconds": round(seconds, 2),
        "saves_per_second": round(len(timings) / seconds, 1),
        **{f"p{p}_ms": round(load.percentile(timings, p), 2) for p in (50, 95, 99)},
    }


async def ceiling_saves(port: int, users: int, duration: float, warmup: float) -> dict[str, Any]:
    """``users`` clients POSTing one bare upsert after another to ``_ceiling``'s app, each
    on a new connection as the web phase's clients do; figures after ``warmup``."""
    timings: list[tuple[float, float]] = []
    errors: list[str] = []
    started = time.monotonic()
    stop_at = started + warmup + duration

    async def user(i: int) -> None:
        rng = random.Random(i)
        browser = load.Browser(port)
        while time.monotonic() < stop_at:
            body = json.dumps(
                {
                    "response_id": i + 1,
                    "code": f"Q{rng.randrange(90):02d}",
                    "value": rng.choice(["a", "b", 3, True, ["x", "y"]]),
                }
            ).encode()
            start = time.monotonic()
            try:
                status, _ = await browser.request(
                    "POST", "/save", body, {"Content-Type": "application/json"}
                )
                if status != 200:
                    errors.append(f"HTTP {status}")
            except load.HttpError as exc:
                errors.append(str(exc))
            timings.append((start, (time.monotonic() - start) * 1000))

    await asyncio.gather(*(user(i) for i in range(users)))
    kept = [ms for at, ms in timings if at >= started + warmup]
    return {
        **_rate(kept, duration),
        "requests": len(timings),
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def ceiling(
    conninfo: str, folder: Path, workers: int, users: int, duration: float, warmup: float
) -> dict[str, Any]:
    """The web stack's ceiling: the same gunicorn serving ``_ceiling``'s two applications."""
    found: dict[str, Any] = {}
    for name in ("plain", "flask"):
        with _server.Server(
            conninfo,
            folder,
            workers=workers,
            preload=False,
            app=f"_ceiling:{name}",
            extra_env={"CEILING_CONNINFO": conninfo},
        ) as server:
            cpu0 = server.cpu_seconds()
            found[name] = asyncio.run(ceiling_saves(server.port, users, duration, warmup))
            cpu = server.cpu_seconds() - cpu0
            found[name]["server_cpu_ms_per_save"] = round(cpu * 1000 / found[name]["requests"], 2)
    return found


def available_connections(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity"
        ).fetchone()
    assert row is not None
    return int(row[0])


#: The issue-8 targets (2 cores): saves/s, p95 in ms at :data:`TARGET_USERS` users, and the
#: share of the bare upsert's throughput.
TARGET_RATE, TARGET_P95, TARGET_SHARE, TARGET_USERS = 300.0, 150.0, 0.25, 100


def through_app(
    url: str,
    prepared: Any,
    users: int,
    duration: float,
    warmup: float,
    args: argparse.Namespace,
    rate: float,
) -> tuple[dict[str, Any], list[str], str]:
    """Phase 1: ``users`` coordinators saving through gunicorn, as fast as possible (``rate``
    0) or paced to offer ``rate`` saves/s in all; their figures, errors and the server's
    log tail."""
    database = url.rsplit("/", 1)[-1]
    phases = prepared.folder / "phases" if args.phases else None
    if phases is not None:
        phases.mkdir(exist_ok=True)
    server = _server.Server(
        url,
        prepared.folder,
        workers=args.workers,
        threads=args.threads,
        extra_env={"ASSESS_BENCH_PHASES": str(phases)} if phases else None,
    )
    with server as app:
        marks: dict[str, Any] = {}

        async def measure(started: float) -> None:
            await asyncio.sleep(warmup)
            marks["pg"], marks["cpu"] = _server.postgres_cpu(database), app.cpu_seconds()
            marks["client"] = load._own_cpu()
            marks["from"] = time.time()
            await asyncio.sleep(duration)
            marks["to"] = time.time()
            marks["pg_cpu"] = _server.postgres_cpu_delta(
                marks["pg"], _server.postgres_cpu(database)
            )
            marks["server_cpu"] = app.cpu_seconds() - marks["cpu"]
            marks["client_cpu"] = load._own_cpu() - marks["client"]

        run = asyncio.run(
            load.simulate(
                app.port, prepared, users, warmup + duration, (0.0, 0.0), during=measure, rate=rate
            )
        )
        log = app.log_tail()
    web = load.figures(run, (warmup, warmup + duration))
    if phases is not None:  # written by the workers as they stopped
        web["phases"] = _phases.collect(phases, marks["from"], marks["to"])
    errors = load.errors_of(run)
    web.update(
        offered_rate=rate or None,
        errors=len(errors) + web["outcomes"].get("unknown", 0) + web["outcomes"].get("stale", 0),
        error_samples=errors[:5],
        cpu={
            "server": round(marks["server_cpu"], 1),
            "postgres": round(marks["pg_cpu"], 1),
            "client": round(marks["client_cpu"], 1),
        },
    )
    return web, errors, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="20 users, 8 s per phase")
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float, help="seconds per phase (default 60)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds not measured")
    parser.add_argument("--workers", type=int, default=_server.WORKERS)
    parser.add_argument("--threads", type=int, default=1, help="gthread workers when > 1")
    parser.add_argument("--connections", type=int, help="bare loop connections")
    parser.add_argument(
        "--rate",
        type=float,
        help="offer this many saves/s in all (each user paced) instead of as fast as possible",
    )
    parser.add_argument(
        "--targets",
        action="store_true",
        help=f"judge the issue-8 targets: the web app as fast as possible (throughput, share "
        f"of the bare upsert), then paced to {TARGET_RATE:g} saves/s in all (p95)",
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also measure the web stack's ceiling: the same gunicorn serving only the bare "
        "upsert, from a bare WSGI callable and from a Flask route (benchmarks/_ceiling.py)",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also tell where a save's server CPU goes, step by step (benchmarks/_phases.py)",
    )
    parser.add_argument("--database-url", help="default: assess_bench_saves on local PostgreSQL")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.phases and args.threads > 1:
        parser.error("--phases measures gunicorn's sync workers: leave out --threads")
    users = args.users or (20 if args.short else 100)
    duration = args.duration or (8.0 if args.short else 60.0)
    warmup = args.warmup if args.warmup is not None else min(5.0, duration / 5)
    url = args.database_url or _server.default_url("assess_bench_saves")
    database = url.rsplit("/", 1)[-1]
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    prepared = _server.prepare(url, users)

    # Phase 1: through the web app (twice with --targets: as fast as possible, then paced).
    web, errors, log = through_app(url, prepared, users, duration, warmup, args, args.rate or 0.0)
    paced: dict[str, Any] | None = None
    if args.targets:
        paced, paced_errors, paced_log = through_app(
            url, prepared, users, duration, warmup, args, TARGET_RATE
        )
        errors, log = errors + paced_errors, log + paced_log

    # Phase 2: the bare upsert loop on the same database.
    connections = args.connections or max(1, min(users, available_connections(conninfo) - 10))
    bare = asyncio.run(bare_upserts(conninfo, users, connections, duration, database))
    bare["connections"] = connections
    ratio = web["saves_per_second"] / bare["saves_per_second"] if bare["saves_per_second"] else 0
    single = one_loop(conninfo, duration)
    single_ratio = web["saves_per_second"] / single["saves_per_second"]

    # Phase 3: the web stack's ceiling (gunicorn and the bare upsert, no app).
    stack = (
        ceiling(conninfo, prepared.folder, args.workers, users, duration, warmup)
        if args.ceiling
        else {}
    )
    summary = {
        "mode": "short" if args.short else "full",
        "users": users,
        "duration": duration,
        "warmup": warmup,
        "workers": args.workers,
        "threads": args.threads,
        "offered_rate": args.rate,
        "cores": os.cpu_count(),
        "web": web,
        "bare_upsert": bare,
        "web_vs_bare": round(ratio, 3),
        "one_loop": single,
        "web_vs_one_loop": round(single_ratio, 3),
        "ceiling": stack,
        "paced": paced,
        "targets": targets(web, paced, ratio, users),
    }
    print(
        f"saves: {users} users, {duration:.0f} s per phase after {warmup:.0f} s warm-up, "
        f"{os.cpu_count()} cores; gunicorn {args.workers} workers"
        + (f" × {args.threads} threads" if args.threads > 1 else "")
        + (f"; {args.rate:g} saves/s offered" if args.rate else "; as fast as possible")
    )
    print(
        f"  web app   {web['saves_per_second']:>8} saves/s   p50 {web['p50_ms']} ms   "
        f"p95 {web['p95_ms']} ms   p99 {web['p99_ms']} ms   errors {web['errors']}   "
        f"CPU s: server {web['cpu']['server']}, postgres {web['cpu']['postgres']}, "
        f"client {web['cpu']['client']}"
    )
    if paced is not None:
        print(
            f"  web app   {paced['saves_per_second']:>8} saves/s   p50 {paced['p50_ms']} ms   "
            f"p95 {paced['p95_ms']} ms   p99 {paced['p99_ms']} ms   errors {paced['errors']}   "
            f"CPU s: server {paced['cpu']['server']}   ({TARGET_RATE:g} saves/s offered)"
        )
    for figures in (web, paced):
        if figures is not None and "phases" in figures:
            print(*_phases.report(figures["phases"]), sep="\n")
    print(
        f"  bare      {bare['saves_per_second']:>8} upserts/s p50 {bare['p50_ms']} ms   "
        f"p95 {bare['p95_ms']} ms   p99 {bare['p99_ms']} ms   errors {bare['errors']}   "
        f"CPU s: postgres {bare['cpu']['postgres']}, client {bare['cpu']['client']}   "
        f"({connections} connections)"
    )
    print(
        f"  one loop  {single['saves_per_second']:>8} upserts/s p50 {single['p50_ms']} ms   "
        f"p95 {single['p95_ms']} ms   p99 {single['p99_ms']} ms   "
        f"(the same upsert, one connection, one after another)"
    )
    for name, label in (("plain", "bare WSGI"), ("flask", "Flask route")):
        if name in stack:
            c = stack[name]
            print(
                f"  ceiling: gunicorn + {label} + the bare upsert  {c['saves_per_second']:>8} "
                f"saves/s   p50 {c['p50_ms']} ms   p95 {c['p95_ms']} ms   errors {c['errors']}   "
                f"server CPU {c['server_cpu_ms_per_save']} ms/save   "
                f"(bare upsert / this = {bare['saves_per_second'] / max(c['saves_per_second'], 1):.1f}×; "
                f"web app / this = {web['saves_per_second'] / max(c['saves_per_second'], 1):.1%})"
            )
    print(
        f"  web / bare = {ratio:.1%}   web / one loop = {single_ratio:.1%}   "
        f"targets: {summary['targets']}"
    )
    if errors:
        print("  first errors:", *errors[:5], sep="\n    ")
        print("  server log:", log, sep="\n")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    failed = web["errors"] or bare["errors"] or (paced is not None and paced["errors"])
    return 1 if failed else 0


def targets(
    web: dict[str, Any], paced: dict[str, Any] | None, ratio: float, users: int
) -> dict[str, bool | None]:
    """Each issue-8 target met or not, ``None`` when this run did not measure it: the
    throughput and the share of the bare upsert from a run as fast as possible, the p95 from
    the paced run (``--targets``), else from a run paced at the target rate (``--rate``);
    all at :data:`TARGET_USERS` users."""
    fastest = web if not web["offered_rate"] else None
    at_rate = paced or (web if web["offered_rate"] == TARGET_RATE else None)
    right = users == TARGET_USERS
    return {
        f"saves_per_second>={TARGET_RATE:g}": (
            fastest["saves_per_second"] >= TARGET_RATE if fastest and right else None
        ),
        f"p95_ms<={TARGET_P95:g}": (
            at_rate["p95_ms"] <= TARGET_P95 and at_rate["saves_per_second"] >= 0.99 * TARGET_RATE
            if at_rate and right
            else None
        ),
        f"web_vs_bare>={TARGET_SHARE:g}": ratio >= TARGET_SHARE if fastest and right else None,
    }


if __name__ == "__main__":
    sys.exit(main())
