"""Faults: autosaves while PostgreSQL restarts and gunicorn workers are SIGKILLed.

    python benchmarks/faults.py                          # full: 200 users, 180 s
    python benchmarks/faults.py --short --json out.json  # CI: 20 users, 10 s

Three parts, each checked against the database afterwards:

1. *Load under faults*: ``load.py``'s coordinators (sign-in through the form, autosave
   with think time, a save without a reply sent again as the page does) against gunicorn
   on PostgreSQL, while a random worker is killed with SIGKILL every ``--kill-every``
   seconds and PostgreSQL is restarted every ``--restart-every`` seconds. Afterwards every
   save that got a 2xx must be stored as the revision its reply named, and nothing stored
   twice (see ``load.verify``: one revision and one audit event per stored save).
2. *20 parallel submissions* of one complete response (one coordinator's session, 20
   concurrent ``POST /rounds/<id>/submit``): exactly one ``submitted`` transition on the
   audit trail, every other request refused (409).
3. *SQLite*: the same app on the embedded SQLite database, 50 coordinators saving at
   once with no think time through gunicorn's threaded workers (50 concurrent writers):
   no error (no "database is locked"), nothing lost or duplicated.

PostgreSQL: by default a throwaway cluster of its own (``initdb`` on a free port,
``--postgres private``), so that restarting it disturbs no one else;
``--postgres system --database-url URL`` restarts the machine's cluster instead
(``pg_ctlcluster … restart``). Prints the figures; ``--json`` writes them. Exit status 1
when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server  # noqa: E402
import load  # noqa: E402

SUBMITTERS = 20


# -- 1. load under faults -----------------------------------------------------------------------


def fault_schedule(
    server: _server.Server,
    restart: Any,
    duration: float,
    kill_every: float,
    restart_every: float,
    events: list[dict[str, Any]],
) -> Any:
    rng = random.Random(7)

    async def during(started: float) -> None:
        plan = []
        t = kill_every
        while kill_every and t < duration - 1:
            plan.append((t, "kill"))
            t += kill_every
        t = restart_every
        while restart_every and t < duration - 1:
            plan.append((t, "restart"))
            t += restart_every
        for at, what in sorted(plan):
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            began = time.monotonic() - started
            if what == "kill":
                pid = server.kill_worker(rng)
                events.append({"at": round(began, 1), "event": "SIGKILL worker", "pid": pid})
            else:
                await asyncio.to_thread(restart)
                took = time.monotonic() - started - began
                events.append(
                    {"at": round(began, 1), "event": "PostgreSQL restart", "took": round(took, 1)}
                )

    return during


def load_under_faults(
    url: str,
    restart: Any,
    users: int,
    duration: float,
    think: tuple[float, float],
    kill_every: float,
    restart_every: float,
    workers: int,
) -> dict[str, Any]:
    prepared = _server.prepare(url, users + 1)
    submitter = prepared.coordinators[-1]
    complete_response(prepared, submitter)
    events: list[dict[str, Any]] = []
    with _server.Server(url, prepared.folder, workers=workers) as app:
        run = asyncio.run(
            load.simulate(
                app.port,
                prepared,
                users,
                duration,
                think,
                during=fault_schedule(app, restart, duration, kill_every, restart_every, events),
            )
        )
        submissions = asyncio.run(parallel_submissions(app.port, prepared, submitter))
        log = app.log_tail(20)
    check = load.verify(url, run)
    submissions.update(transitions_of(url, submitter.response_id))
    errors = load.errors_of(run)
    figures = load.figures(run)
    return {
        "users": users,
        "duration": duration,
        "faults": events,
        "figures": figures,
        "errors": len(errors),
        "error_samples": errors[:10],
        "check": check,
        "submissions": submissions,
        "server_log_tail": log if errors else "",
    }


# -- 2. parallel submissions ---------------------------------------------------------------------


def complete_response(prepared: _server.Prepared, who: _server.Coordinator) -> None:
    """Answer every question of ``who``'s response and link the evidence it requires."""
    from assess.extensions import db
    from assess.models import Response, User
    from assess.services import evidence, responses, results
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers

    app = _server.app_for(prepared.url, prepared.folder)
    with app.app_context():
        response = db.session.get(Response, who.response_id)
        user = db.session.query(User).filter_by(email=who.email).one()
        assert response is not None
        questionnaire = questionnaire_of(response.questionnaire)
        answers = agency_answers(questionnaire, 0.7, random.Random(3), 1.0)
        raw = {c: responses.stored(v) for c, v in answers.items()}
        responses.save_answers(response, raw, revision=None, actor=user)
        for code in results.score(response).missing_evidence:
            evidence.add_url(response, user, code, f"https://example.go.th/evidence/{code}")
        db.session.commit()
        result = results.score(response)
        assert result.submittable, (result.missing, result.missing_evidence)
        db.session.remove()
        db.engine.dispose()


async def parallel_submissions(
    port: int, prepared: _server.Prepared, who: _server.Coordinator
) -> dict[str, Any]:
    """One coordinator's session submits the same response 20 times at once."""
    browser = load.Browser(port, timeout=60)
    await browser.sign_in(who.email, _server.PASSWORD)
    status, page = await browser.request("GET", f"/rounds/{prepared.round_id}/submit")
    token = load._CSRF_INPUT.search(page.decode())
    assert status == 200, status
    assert token is not None
    form = urllib.parse.urlencode({"confirm": "1", "csrf_token": token.group(1)}).encode()
    tabs = []
    for _ in range(SUBMITTERS):
        tab = load.Browser(port, timeout=60)
        tab.cookies = dict(browser.cookies)
        tabs.append(tab)

    async def submit(tab: load.Browser) -> int:
        try:
            status, _ = await tab.request(
                "POST",
                f"/rounds/{prepared.round_id}/submit",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
        except load.HttpError:
            return 0
        return status

    statuses = await asyncio.gather(*(submit(tab) for tab in tabs))
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    return {"requests": SUBMITTERS, "statuses": counts}


def transitions_of(url: str, response_id: int) -> dict[str, Any]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        moves = conn.scalar(
            sa.text(
                "SELECT count(*) FROM audit_event WHERE response_id = :r AND action = 'status' "
                "AND CAST(new AS TEXT) = '\"submitted\"'"
            ),
            {"r": response_id},
        )
        status = conn.scalar(
            sa.text("SELECT status FROM response WHERE id = :r"), {"r": response_id}
        )
    engine.dispose()
    return {"submitted_transitions": moves, "final_status": status}


# -- 3. SQLite under concurrent writers -----------------------------------------------------------


def sqlite_writers(writers: int, duration: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="assess-sqlite-"))
    url = f"sqlite:///{folder / 'assess.db'}"
    prepared = _server.prepare(url, writers, folder)
    threads = max(1, -(-writers // 2))
    with _server.Server(url, folder, workers=2, threads=threads) as app:
        run = asyncio.run(
            load.simulate(app.port, prepared, writers, duration, (0.0, 0.0), light=True)
        )
        log = app.log.read_text(errors="replace") if app.log.exists() else ""
    check = load.verify(url, run)
    errors = load.errors_of(run)
    figures = load.figures(run)
    locked = log.count("database is locked")
    return {
        "writers": writers,
        "server": f"gunicorn 2 workers × {threads} threads",
        "duration": duration,
        "figures": figures,
        "errors": len(errors) + figures["outcomes"].get("unknown", 0),
        "error_samples": errors[:10],
        "database_is_locked": locked,
        "check": check,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI: 20 users, 10 s; SQLite 4 s")
    parser.add_argument("--users", type=int)
    parser.add_argument("--duration", type=float, help="seconds of load (default 180)")
    parser.add_argument("--think", help="think time range in seconds (1,3; short 0.2,0.8)")
    parser.add_argument("--kill-every", type=float, help="seconds between SIGKILLs (15; short 3)")
    parser.add_argument(
        "--restart-every", type=float, help="seconds between PostgreSQL restarts (60; short 5)"
    )
    parser.add_argument("--workers", type=int, default=_server.WORKERS)
    parser.add_argument("--postgres", choices=("private", "system"), default="private")
    parser.add_argument(
        "--database-url", help="with --postgres system (default assess_bench_faults)"
    )
    parser.add_argument(
        "--sqlite-writers", type=int, default=50, help="0 leaves the SQLite phase out"
    )
    parser.add_argument("--sqlite-duration", type=float, help="seconds (default 30; short 4)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    short = args.short
    users = args.users or (20 if short else 200)
    duration = args.duration or (10.0 if short else 180.0)
    kill_every = args.kill_every if args.kill_every is not None else (3.0 if short else 15.0)
    restart_every = (
        args.restart_every if args.restart_every is not None else (5.0 if short else 60.0)
    )
    args.think = args.think or ("0.2,0.8" if short else "1,3")
    think = tuple(float(x) for x in args.think.split(","))
    started = time.monotonic()

    if args.postgres == "private":
        with _server.private_postgres() as cluster:
            url = cluster.url("assess_faults")
            faults = load_under_faults(
                url, cluster.restart, users, duration, (think[0], think[1]), kill_every,
                restart_every, args.workers,
            )  # fmt: skip
    else:
        url = args.database_url or _server.default_url("assess_bench_faults")
        faults = load_under_faults(
            url, _server.restart_system_postgres, users, duration, (think[0], think[1]),
            kill_every, restart_every, args.workers,
        )  # fmt: skip
    sqlite = (
        sqlite_writers(args.sqlite_writers, args.sqlite_duration or (4.0 if short else 30.0))
        if args.sqlite_writers > 0
        else None
    )

    check, subs = faults["check"], faults["submissions"]
    ok = {
        "no_errors": faults["errors"] == 0,
        "none_lost": check["lost"] == 0,
        "none_duplicated": check["duplicated"] == 0 and check["mismatched"] == 0,
        "faults_happened": bool(faults["faults"]),
        "one_submission": subs["submitted_transitions"] == 1
        and subs["final_status"] == "submitted"
        and subs["statuses"].get("302") == 1
        and subs["statuses"].get("409") == SUBMITTERS - 1,
    }
    if sqlite is not None:
        ok["sqlite_no_errors"] = sqlite["errors"] == 0 and sqlite["database_is_locked"] == 0
        ok["sqlite_none_lost"] = (
            sqlite["check"]["lost"] == 0
            and sqlite["check"]["duplicated"] == 0
            and sqlite["check"]["mismatched"] == 0
        )
    summary = {
        "mode": "short" if short else "full",
        "postgres": args.postgres,
        "seconds": round(time.monotonic() - started, 1),
        "load": faults,
        "sqlite": sqlite,
        "ok": ok,
        "passed": all(ok.values()),
    }
    kills = sum(1 for e in faults["faults"] if e["event"] == "SIGKILL worker")
    restarts = len(faults["faults"]) - kills
    load.report(
        f"faults: {users} coordinators autosaving for {duration:.0f} s (think {args.think} s), "
        f"{kills} workers SIGKILLed, PostgreSQL restarted {restarts} times ({args.postgres})",
        faults,
    )
    print(
        f"  {SUBMITTERS} parallel submissions: HTTP {subs['statuses']}, "
        f"{subs['submitted_transitions']} 'submitted' transition(s), status {subs['final_status']}"
    )
    if sqlite is not None:
        load.report(
            f"SQLite: {sqlite['writers']} concurrent writers for {sqlite['duration']:.0f} s "
            f"({sqlite['server']})",
            sqlite,
        )
        print(f"  'database is locked' in the server log: {sqlite['database_is_locked']}")
    print(f"checks: {ok}  ({summary['seconds']} s)")
    samples = [*faults["error_samples"], *(sqlite["error_samples"] if sqlite else [])]
    if samples:
        print("  errors:", *samples, sep="\n    ")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
