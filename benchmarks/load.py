"""Load: simulated coordinators autosaving against gunicorn + PostgreSQL.

    python benchmarks/load.py                      # full: 200 coordinators, 5 minutes
    python benchmarks/load.py --short --json out.json   # CI: 20 coordinators, 8 s

Each simulated coordinator signs in through the real login form, opens the answer page of
its own agency's response (the CSRF token and the revision come from the page, as for the
page's script), then autosaves one random answer at a time with a think time of 1–3 s,
exactly as ``survey.js`` does: ``POST /rounds/<id>/answers`` with the revision of the
previous reply, ``X-CSRFToken`` and ``X-Requested-With: fetch``. A save whose reply never
comes (a 5xx, a reset connection, a timeout) is sent again unchanged, as the page does; a
409 "stale" reply is adopted (the page shows the server's values). After the run every
acknowledged save is checked against the database (:func:`verify`). Prints throughput,
latency percentiles, errors and the CPU of server, client and PostgreSQL; ``--json`` writes
the same as a machine-readable summary. Exit status 1 when a save failed or was lost.

The client is a small HTTP/1.1 client on asyncio streams (no dependency): gunicorn's sync
workers close the connection after each reply, so each request opens its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server  # noqa: E402

# -- a lean HTTP/1.1 client ------------------------------------------------------------------


class HttpError(Exception):
    """No reply: connection refused or reset, or a timeout."""


_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_SURVEY_DATA = re.compile(r'<script type="application/json" id="survey-data">(.*?)</script>', re.S)


class Browser:
    """One user's cookies against one server."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.location = ""  # the last reply's Location header

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, body, headers), self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise HttpError(f"{type(exc).__name__}: {exc}") from None

    async def _request(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None
    ) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
            if self.cookies:
                lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
            for name, value in (headers or {}).items():
                lines.append(f"{name}: {value}")
            lines.append(f"Content-Length: {len(body)}")
            lines.append("Connection: close")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            length = None
            self.location = ""
            for line in header_lines:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "location":
                    self.location = value.strip()
                elif name == "set-cookie":
                    pair = value.strip().split(";", 1)[0]
                    key, _, val = pair.partition("=")
                    if val:
                        self.cookies[key] = val
                    else:
                        self.cookies.pop(key, None)
            data = await (reader.readexactly(length) if length is not None else reader.read())
            return status, data
        finally:
            writer.close()

    async def sign_in(self, email: str, password: str) -> None:
        status, page = await self.request("GET", "/login")
        token = _CSRF_INPUT.search(page.decode())
        if status != 200 or token is None:
            raise RuntimeError(f"login page: HTTP {status}")
        form = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": token.group(1)}
        ).encode()
        status, _ = await self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {email}: HTTP {status}")

    async def open_answers(self, round_id: int) -> tuple[str, dict[str, Any]]:
        """The answer page: its CSRF token and the page data (revision, answers)."""
        status, page = await self.request("GET", f"/rounds/{round_id}/answer")
        if status in (301, 302, 303) and self.location:  # to the first dimension to answer
            target = urllib.parse.urlsplit(self.location)
            path = target.path + (f"?{target.query}" if target.query else "")
            status, page = await self.request("GET", path)
        text = page.decode()
        token, data = _CSRF_META.search(text), _SURVEY_DATA.search(text)
        if status != 200 or token is None or data is None:
            raise RuntimeError(f"answer page: HTTP {status}")
        return token.group(1), json.loads(data.group(1))


# -- simulated coordinators -------------------------------------------------------------------


@dataclass
class Attempt:
    """One POST of a save, as the client saw it."""

    user: int
    response_id: int
    chain: int  # attempts of the same save (a save and its resends) share a chain
    question: str
    value: Any
    revision: int  # the revision sent
    outcome: str  # ok | stale | unknown | error
    status: int  # HTTP status, 0 when no reply came
    new_revision: int | None  # the reply's revision (ok, stale)
    start: float
    end: float
    detail: str = ""


@dataclass
class Run:
    attempts: list[Attempt] = field(default_factory=list)
    sign_in_errors: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    client_cpu: float = 0.0


def value_pools(users: int, seed: int) -> list[dict[str, list[Any]]]:
    """For each user, candidate values per question (as stored: the JSON the server keeps)."""
    from assess.questionnaires import loads
    from assess.questionnaires.builtin import builtin_path
    from assess.services.responses import stored
    from assess.synthetic import agency_answers

    path = builtin_path(*_server.QUESTIONNAIRE)
    assert path is not None
    questionnaire = loads(path.read_bytes(), str(path))
    rng = random.Random(seed)
    pools = []
    for _ in range(users):
        pool: dict[str, list[Any]] = {}
        for maturity in (0.1, 0.4, 0.7, 0.95):
            for code, value in agency_answers(questionnaire, maturity, rng).items():
                candidate = stored(value)
                if candidate not in pool.setdefault(code, []):
                    pool[code].append(candidate)
        pools.append({c: v for c, v in pool.items() if len(v) >= 2})
    return pools


async def open_session(
    who: _server.Coordinator, port: int, round_id: int, rng: random.Random, light: bool = False
) -> tuple[Browser, str, dict[str, Any]]:
    """Sign in through the form and open the answer page (tries again while the server is
    busy). ``light``: instead of the page, ask ``/csrf-token`` for the token and start from
    revision 0 (a response nobody touched yet): quicker for many users."""
    browser = Browser(port, timeout=60.0)
    for attempt in range(10):
        try:
            await browser.sign_in(who.email, _server.PASSWORD)
            if light:
                status, body = await browser.request("GET", "/csrf-token")
                if status != 200:
                    raise RuntimeError(f"/csrf-token: HTTP {status}")
                token, data = json.loads(body)["csrf_token"], {"revision": 0, "answers": {}}
            else:
                token, data = await browser.open_answers(round_id)
            browser.timeout = 30.0
            return browser, token, data
        except (HttpError, RuntimeError):
            if attempt == 9:
                raise
            await asyncio.sleep(0.5 + rng.random())
    raise AssertionError("unreachable")


async def coordinator(
    index: int,
    who: _server.Coordinator,
    session: tuple[Browser, str, dict[str, Any]],
    round_id: int,
    pool: dict[str, list[Any]],
    run: Run,
    stop_at: float,
    think: tuple[float, float],
    rng: random.Random,
    chains: list[int],
    pace: float = 0.0,
) -> None:
    browser, token, data = session
    revision: int = data["revision"]
    confirmed: dict[str, Any] = dict(data.get("answers") or {})
    headers = {
        "Content-Type": "application/json",
        "X-CSRFToken": token,
        "X-Requested-With": "fetch",
        "Accept": "application/json",
    }
    path = f"/rounds/{round_id}/answers"
    codes = sorted(pool)
    next_start = time.monotonic()
    while time.monotonic() < stop_at:
        if pace > 0:  # one save every ``pace`` seconds (at once when behind)
            next_start += pace
            await asyncio.sleep(max(0.0, next_start - pace - time.monotonic()))
        elif think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))
        if time.monotonic() >= stop_at:
            break
        code = rng.choice(codes)
        value = rng.choice([v for v in pool[code] if v != confirmed.get(code)])
        chains[0] += 1
        chain = chains[0]
        body = json.dumps({"revision": revision, "answers": {code: value}}).encode()
        sent_revision = revision
        while True:  # resend until a definite reply, as the page does
            start = time.monotonic()
            status, reply, detail = 0, None, ""
            try:
                status, raw = await browser.request("POST", path, body, headers)
                try:
                    reply = json.loads(raw)
                except ValueError:
                    reply = None
            except HttpError as exc:
                detail = str(exc)
            end = time.monotonic()
            if status == 200 and isinstance(reply, dict):
                outcome, new = "ok", reply["revision"]
                revision, confirmed[code] = new, value
            elif status == 409 and isinstance(reply, dict) and reply.get("error") == "stale":
                outcome, new = "stale", reply["revision"]
                revision, confirmed = new, dict(reply.get("answers") or {})
            elif status == 0 or status >= 500:
                outcome, new = "unknown", None
                detail = detail or f"HTTP {status}"
            else:
                outcome, new = "error", None
                detail = f"HTTP {status}: {(reply or {}).get('error') if isinstance(reply, dict) else ''}"
            run.attempts.append(
                Attempt(
                    index, who.response_id, chain, code, value, sent_revision, outcome, status,
                    new, start - run.started, end - run.started, detail,
                )
            )  # fmt: skip
            if outcome != "unknown":
                break
            if time.monotonic() > stop_at + 30:
                break  # the server stayed away: give up (counted as unknown)
            await asyncio.sleep(rng.uniform(0.3, 1.0))


async def sign_in_all(
    port: int, prepared: _server.Prepared, users: int, run: Run, light: bool = False
) -> list[tuple[Browser, str, dict[str, Any]] | None]:
    """Every coordinator signs in and opens its answer page (10 at a time), before the clock."""
    gate = asyncio.Semaphore(10)

    async def one(i: int) -> tuple[Browser, str, dict[str, Any]] | None:
        async with gate:
            who = prepared.coordinators[i]
            try:
                return await open_session(who, port, prepared.round_id, random.Random(i), light)
            except (HttpError, RuntimeError) as exc:
                run.sign_in_errors.append(f"{who.email}: {exc}")
                return None

    return list(await asyncio.gather(*(one(i) for i in range(users))))


async def simulate(
    port: int,
    prepared: _server.Prepared,
    users: int,
    duration: float,
    think: tuple[float, float],
    seed: int = 1,
    during: Callable[[float], Any] | None = None,
    ready: Callable[[], Any] | None = None,
    light: bool = False,
    rate: float = 0.0,
) -> Run:
    """``users`` coordinators sign in, then save for ``duration`` seconds; ``during`` is
    awaited alongside the saves (a fault schedule) with the time they started, ``ready``
    called just before (to start measuring CPU); ``light`` as for :func:`open_session`;
    ``rate`` (saves/s of all users together), instead of a think time: each user starts a
    save every ``users / rate`` seconds, or at once when its previous one took longer."""
    pools = value_pools(users, seed)
    run = Run()
    sessions = await sign_in_all(port, prepared, users, run, light)
    if ready is not None:
        ready()
    cpu0 = _own_cpu()
    run.started = time.monotonic()
    stop_at = run.started + duration
    chains = [0]
    rng = random.Random(seed)

    async def start(i: int, session: tuple[Browser, str, dict[str, Any]]) -> None:
        pace = users / rate if rate else 0.0
        first = pace or think[1]
        if first > 0:  # spread the first saves over one think time (or pace)
            await asyncio.sleep(rng.uniform(0, first))
        await coordinator(
            i, prepared.coordinators[i], session, prepared.round_id, pools[i], run, stop_at,
            (think[0], think[1]), random.Random(seed * 1000 + i), chains, pace,
        )  # fmt: skip

    tasks = [start(i, session) for i, session in enumerate(sessions) if session is not None]
    if during is not None:
        tasks.append(during(run.started))
    await asyncio.gather(*tasks)
    run.ended = time.monotonic()
    run.client_cpu = _own_cpu() - cpu0
    return run


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- figures and the check against the database --------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def figures(run: Run, window: tuple[float, float] | None = None) -> dict[str, Any]:
    """Throughput and latency of acknowledged saves (within ``window`` seconds of the run)."""
    done = [a for a in run.attempts if a.outcome == "ok"]
    if window:
        done = [a for a in done if window[0] <= a.end < window[1]]
    span = (window[1] - window[0]) if window else (run.ended - run.started)
    ms = [(a.end - a.start) * 1000 for a in done]
    outcomes: dict[str, int] = {}
    for a in run.attempts:
        outcomes[a.outcome] = outcomes.get(a.outcome, 0) + 1
    return {
        "saves": len(done),
        "seconds": round(span, 2),
        "saves_per_second": round(len(done) / span, 1) if span else 0.0,
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else 0.0,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else 0.0,
        "outcomes": outcomes,
    }


def verify(url: str, run: Run) -> dict[str, Any]:
    """Check every acknowledged save against the database.

    Every save changes exactly one answer, so every save that the database kept is one
    revision of its response and one ``answer`` event on its audit trail. Hence:

    - *lost*: an acknowledged save with reply revision ``r`` whose response's ``r``-th
      answer event is not that question and value (or does not exist);
    - *duplicated*: a stored change that no save explains: the response's revision differs
      from its number of answer events, or the ``i``-th event is neither an acknowledged
      save with revision ``i`` nor a save sent with revision ``i - 1`` whose reply never
      came (a save and its resends can only ever take the one revision they were sent for);
    - the stored answers must equal, per question, the value of the last answer event.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    by_response: dict[int, list[Attempt]] = {}
    for a in run.attempts:
        by_response.setdefault(a.response_id, []).append(a)
    lost, duplicated, mismatched, unknown_kept = [], [], [], 0
    acknowledged = sum(1 for a in run.attempts if a.outcome == "ok")
    with engine.connect() as conn:
        for response_id, attempts in by_response.items():
            events = [
                (row.question_code, _json(row.new))
                for row in conn.execute(
                    sa.text(
                        "SELECT question_code, CAST(new AS TEXT) AS new FROM audit_event "
                        "WHERE response_id = :r AND action = 'answer' ORDER BY id"
                    ),
                    {"r": response_id},
                )
            ]
            revision = conn.scalar(
                sa.text("SELECT revision FROM response WHERE id = :r"), {"r": response_id}
            )
            stored = {
                row.question_code: _json(row.value)
                for row in conn.execute(
                    sa.text(
                        "SELECT question_code, CAST(value AS TEXT) AS value FROM answer "
                        "WHERE response_id = :r"
                    ),
                    {"r": response_id},
                )
            }
            if revision != len(events):
                duplicated.append(
                    f"response {response_id}: revision {revision}, {len(events)} answer events"
                )
            acked = {a.new_revision: a for a in attempts if a.outcome == "ok"}
            unsure = {}
            for a in attempts:
                if a.outcome == "unknown":
                    unsure.setdefault(a.revision + 1, a)
            for a in acked.values():
                slot = a.new_revision
                assert slot is not None
                if slot > len(events) or events[slot - 1] != (a.question, a.value):
                    lost.append(
                        f"response {response_id}: save of {a.question} acknowledged as "
                        f"revision {slot} is not stored as such"
                    )
            for i, event in enumerate(events, start=1):
                if i in acked:
                    continue
                maybe = unsure.get(i)
                if maybe is not None and (maybe.question, maybe.value) == event:
                    unknown_kept += 1
                    continue
                duplicated.append(f"response {response_id}: change {i} ({event[0]}) unexplained")
            last: dict[str, Any] = {}
            for code, value in events:
                last[code] = value
            for code, value in last.items():
                if stored.get(code) != value:
                    mismatched.append(f"response {response_id}: {code} stored differs")
    engine.dispose()
    return {
        "acknowledged": acknowledged,
        "unknown_outcome_chains": len({a.chain for a in run.attempts if a.outcome == "unknown"}),
        "unknown_kept": unknown_kept,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "mismatched": len(mismatched),
        "problems": (lost + duplicated + mismatched)[:20],
    }


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def errors_of(run: Run) -> list[str]:
    """Saves refused for a reason other than the revision (and sign-ins that failed)."""
    found = [f"{a.question}: {a.detail}" for a in run.attempts if a.outcome == "error"]
    return run.sign_in_errors + found


def report(title: str, summary: dict[str, Any]) -> None:
    f = summary["figures"]
    print(title)
    print(
        f"  {f['saves']} acknowledged saves in {f['seconds']} s: "
        f"{f['saves_per_second']} saves/s   p50 {f['p50_ms']} ms   p95 {f['p95_ms']} ms   "
        f"p99 {f['p99_ms']} ms   max {f['max_ms']} ms"
    )
    print(f"  attempts by outcome: {f['outcomes']}   errors: {summary['errors']}")
    cpu = summary.get("cpu", {})
    if cpu:
        print(
            "  CPU seconds: "
            + "   ".join(f"{k} {v}" for k, v in cpu.items())
            + f"   (wall {f['seconds']} s, {os.cpu_count()} cores)"
        )
    check = summary.get("check")
    if check:
        print(
            f"  database check: {check['acknowledged']} acknowledged, {check['lost']} lost, "
            f"{check['duplicated']} duplicated, {check['mismatched']} mismatched; "
            f"{check['unknown_outcome_chains']} saves without a reply at first "
            f"({check['unknown_kept']} of them kept)"
        )
        for line in check["problems"]:
            print("   ", line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI: 20 users for 8 s")
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float, help="seconds (default 300, short 8)")
    parser.add_argument("--think", default="1,3", help="think time range in seconds (1,3)")
    parser.add_argument("--workers", type=int, default=_server.WORKERS)
    parser.add_argument("--threads", type=int, default=1, help="gthread workers when > 1")
    parser.add_argument(
        "--database-url",
        help="database to empty and use (default: assess_bench_load on the local PostgreSQL)",
    )
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args()
    users = args.users or (20 if args.short else 200)
    duration = args.duration or (8.0 if args.short else 300.0)
    think = tuple(float(x) for x in args.think.split(","))
    url = args.database_url or _server.default_url("assess_bench_load")
    prepared = _server.prepare(url, users)
    database = url.rsplit("/", 1)[-1]
    with _server.Server(url, prepared.folder, workers=args.workers, threads=args.threads) as app:
        marks: dict[str, Any] = {}

        def ready() -> None:
            marks["pg"], marks["cpu"] = _server.postgres_cpu(database), app.cpu_seconds()

        run = asyncio.run(
            simulate(app.port, prepared, users, duration, (think[0], think[1]), ready=ready)
        )
        server_cpu = app.cpu_seconds() - marks["cpu"]
        pg_cpu = _server.postgres_cpu_delta(marks["pg"], _server.postgres_cpu(database))
        log = app.log_tail()
    check = verify(url, run)
    errors = errors_of(run)
    summary = {
        "mode": "short" if args.short else "full",
        "users": users,
        "duration": duration,
        "workers": args.workers,
        "threads": args.threads,
        "database": url.split(":")[0],
        "figures": figures(run),
        "errors": len(errors),
        "error_samples": errors[:10],
        "cpu": {
            "server": round(server_cpu, 1),
            "postgres": round(pg_cpu, 1),
            "client": round(run.client_cpu, 1),
        },
        "check": check,
    }
    report(
        f"load: {users} coordinators autosaving for {duration:.0f} s (think {args.think} s), "
        f"gunicorn {args.workers} workers, {url.split(':')[0]}",
        summary,
    )
    if errors:
        print("  first errors:", *errors[:5], sep="\n    ")
        print("  server log:", log, sep="\n")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    ok = not errors and check["lost"] == 0 and check["duplicated"] == 0
    ok = ok and check["mismatched"] == 0 and summary["figures"]["outcomes"].get("unknown", 0) == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
