"""The results dashboards at national scale (8,000 agencies): server time and payload.

    python benchmarks/dashboards.py [--database-url URL] [--agencies 8000] [--requests 10]
                                    [--json FILE]

On the national database of ``benchmarks/national.py`` (built on first use), a reviewer
signs in through Flask's test client and every dashboard page of round 2569 is requested
(league table, distributions, heatmap, levels, progress, trend, flags, and the league
table filtered and sorted):

- *first request* of the process: the questionnaires parsed (or read from the instance
  folder's cache), templates compiled, both rounds' tables read from the snapshots that
  another process kept of them (:class:`assess.models.RoundSnapshot`);
- *cold*: the dashboards' cache emptied before each request, so both rounds (2569 and the
  published 2568 it is compared with) are read from their snapshots again and checked
  against the database; and, for the league table, *cold with no snapshot* (the first
  process ever to open the rounds): both loaded from the database again;
- *warm*: the usual case, the round's tables cached in the process;
- *after a change*: a verified value changed and the round recomputed, then the league
  table: the changed round's tables are brought up to date (only the changed response is
  read again) and the derived tables (trend, flags) computed again;
- *after a review*: the same after a reviewer accepted a submitted response (its status
  moves), then, the same way, an accepted agency's results page as the central office
  sees it (its peer groups figured again);
- *after a coordinator's save*: one answer of a draft response saved (the usual change
  during a round's busy days: no accepted response changes), then the league table, and
  then, the same way, an accepted agency's results page as the central office sees it;
- *after an agency's record was edited* (its name): the league table once the process
  checks the agency records again (within a minute; at once here), and in a new process,
  whose rounds' snapshots were made for the records before the edit;
- *after the round was scored again*: every stored result of the round rewritten (as
  when a scoring rule changed), then the league table: the round is loaded again;
- *a new server*: gunicorn started with the project's ``gunicorn.conf.py`` (its master
  prepares the dashboards of the rounds under way before it forks the workers, and each
  worker brings them up to date in the background, :mod:`assess.reports.warm`): how long it
  takes to answer, the league table requested over HTTP the moment it first answers, and
  again once every worker has logged that its tables are up to date. Times measured by the
  client, on the loopback.

Beside each figure, the physical reference of the same run: reading the two rounds' stored
results (the ``result`` rows, JSON left as text) with a plain ``SELECT`` into a list. Prints
the median (and worst) server time and the HTML size; ``--json FILE`` also writes them as
JSON. Target (issue 8): league table ≤ 300 ms server time at 8,000 agencies.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _server  # noqa: E402
import load  # noqa: E402
import national  # noqa: E402
from recompute import describe, machine  # noqa: E402

PAGES = {
    "league": "",
    "distributions": "/distributions",
    "heatmap": "/heatmap",
    "levels": "/levels",
    "progress": "/progress",
    "trend": "/trend",
    "flags": "/flags",
    "league, local, by change": "?type=local&sort=change",
    "league, page 100": "?page=100",
}


def main() -> None:
    """Build or reuse the national database, then time every dashboard page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=10, help="warm requests per page")
    parser.add_argument("--cold", type=int, default=3, help="cold requests per page")
    parser.add_argument(
        "--workers",
        type=int,
        default=_server.WORKERS,
        help="gunicorn workers for the new-worker figures (0: leave them out)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies)
    start = time.perf_counter()
    app = national.make_app(args.database_url)
    startup = time.perf_counter() - start
    # As gunicorn's master does once the app is loaded (gunicorn.conf.py), before the
    # workers that serve these requests are forked: the app's own objects are left out
    # of the collector's full scans.
    gc.freeze()

    from sqlalchemy import select, text

    from assess.extensions import db
    from assess.models import Agency, Response, Round, User, VerifiedAnswer
    from assess.reports import data as cache
    from assess.services import reports, responses, results
    from assess.services.questionnaires import questionnaire_of

    figures: dict[str, Any] = {
        "machine": machine(),
        "agencies": args.agencies,
        "app_startup": startup,
        "pages": {},
    }
    base = f"/central/rounds/{built.current_id}/results"

    def get(client: Any, url: str) -> tuple[float, int]:
        start = time.perf_counter()
        reply = client.get(url)
        took = time.perf_counter() - start
        assert reply.status_code == 200, (url, reply.status_code)
        return took, len(reply.data)

    with app.app_context():
        figures["machine"]["postgresql"] = db.session.scalar(text("SHOW server_version"))
        national.compact()  # measured on tables of their real size, whatever ran before

        def read_results() -> None:
            with db.session.connection().connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(
                    "SELECT r.response_id, r.kind, r.completeness, r.overall_score, "
                    "r.overall_level, r.dimensions::text FROM result r "
                    "JOIN response p ON p.id = r.response_id WHERE p.round_id IN (%s, %s)",
                    (built.before_id, built.current_id),
                )
                cursor.fetchall()

        reference = min(_timed(read_results) for _ in range(3))
        figures["reference"] = reference
        # What a process finds in production: the rounds' snapshots, kept by the last
        # process that loaded them (made in another process, so that this one's first
        # request still starts with nothing parsed, compiled or loaded).
        _keep_snapshots(args.database_url, (built.before_id, built.current_id))
        client = app.test_client()
        reply = client.post("/login", data={"email": national.EMAIL, "password": national.PASSWORD})
        assert reply.status_code in (302, 303), reply.status_code
        first, size = get(client, base)
        figures["first_request"] = {"seconds": first, "bytes": size}

        def forget_all() -> None:
            cache.clear()
            db.session.execute(text("DELETE FROM round_snapshot"))
            db.session.commit()

        for name, suffix in PAGES.items():
            url = base + suffix
            cold = []
            for _ in range(args.cold):
                cache.clear()
                cold.append(get(client, url)[0])
            warm, size = [], 0
            for _ in range(args.requests):
                took, size = get(client, url)
                warm.append(took)
            if name == "league":
                # As the first process to open the round finds it: no snapshot either.
                unkept = []
                for _ in range(args.cold):
                    forget_all()
                    unkept.append(get(client, url)[0])
                figures["cold_unkept"] = statistics.median(unkept)
            figures["pages"][name] = {
                "url": url,
                "bytes": size,
                "cold": statistics.median(cold),
                "warm": statistics.median(warm),
                "warm_max": max(warm),
            }

        # After a change: one verified value moves, the round is recomputed (one result
        # changes), and the next request loads the changed round again.
        round_ = db.session.get(Round, built.current_id)
        assert round_ is not None
        questionnaire = questionnaire_of(round_.questionnaire)
        changes = []
        for _ in range(args.cold):
            get(client, base)
            row = db.session.scalars(
                select(VerifiedAnswer)
                .join(VerifiedAnswer.response)
                .where(VerifiedAnswer.response.has(round_id=built.current_id))
                .order_by(VerifiedAnswer.id)
                .limit(1)
            ).one()
            options = [o.value for o in questionnaire.questions[row.question_code].options]
            row.value = options[(options.index(row.value) + 1) % len(options)]
            db.session.commit()
            round_ = db.session.get(Round, built.current_id)
            assert round_ is not None
            results.recompute_round(round_)
            db.session.commit()
            changes.append(get(client, base)[0])
        figures["after_change"] = statistics.median(changes)

        def in_status(status: str) -> Sequence[Response]:
            """The first few responses of the round in ``status``."""
            return db.session.scalars(
                select(Response)
                .where(Response.round_id == built.current_id, Response.status == status)
                .order_by(Response.id)
                .limit(args.cold)
            ).all()

        # A results page of an accepted agency as the central office sees it.
        accepted_code = db.session.scalar(
            select(Agency.code)
            .join(Response, Response.agency_id == Agency.id)
            .where(Response.round_id == built.current_id, Response.status == "accepted")
            .order_by(Agency.code)
            .limit(1)
        )
        results_url = f"/central/rounds/{built.current_id}/responses/{accepted_code}/results"

        # After a review: a submitted response accepted (then put back, for the next run),
        # then the league table, and the same way the results page.
        reviewer = db.session.scalar(select(User).where(User.email == national.EMAIL))
        reviewed_league, reviewed_results = [], []
        for page_url, timings in ((base, reviewed_league), (results_url, reviewed_results)):
            for response in in_status("submitted"):
                get(client, page_url)
                responses.review(response, reviewer, "accept")
                db.session.commit()
                timings.append(get(client, page_url)[0])
                responses.set_status(response, "submitted", None)
                db.session.commit()
        figures["after_review"] = statistics.median(reviewed_league) if reviewed_league else None
        figures["results_after_review"] = (
            statistics.median(reviewed_results) if reviewed_results else None
        )

        # After a coordinator's save (the usual change during a round's busy days): one
        # answer of a draft response removed or put back, then the league table, and the
        # results page.
        drafts = in_status("draft")
        saved_league, saved_results = [], []
        for page_url, timings in ((base, saved_league), (results_url, saved_results)):
            for response in drafts:
                get(client, page_url)
                answer = response.answers[0]
                code, value = answer.question_code, answer.value
                responses.save_answers(
                    response, {code: None}, revision=response.revision, actor=reviewer,
                    check_state=False,
                )  # fmt: skip
                db.session.commit()
                timings.append(get(client, page_url)[0])
                responses.save_answers(
                    response, {code: value}, revision=response.revision, actor=reviewer,
                    check_state=False,
                )  # fmt: skip
                db.session.commit()
        figures["after_save"] = statistics.median(saved_league) if saved_league else None
        figures["results_after_save"] = statistics.median(saved_results) if saved_results else None

        # After an agency's record was edited (its name): records have no timestamp, so a
        # process sees the edit at its next check of them (data.RECHECK, a minute; at once
        # here), and reads the round's agency rows again. Then a new process, which finds
        # the rounds' snapshots made for the records before the edit.
        agency = db.session.scalar(
            select(Agency)
            .join(Response, Response.agency_id == Agency.id)
            .where(Response.round_id == built.current_id)
            .order_by(Agency.code)
            .limit(1)
        )
        assert agency is not None
        named = agency.name_en
        recheck = cache.RECHECK

        def rename() -> None:
            """The agency renamed, or given its name back."""
            agency.name_en = f"{named} (renamed)" if agency.name_en == named else named
            db.session.commit()

        edited, edited_anew = [], []
        for _ in range(args.cold):
            get(client, base)
            rename()
            cache.RECHECK = 0.0
            try:
                edited.append(get(client, base)[0])
            finally:
                cache.RECHECK = recheck
            rename()
            cache.clear()
            edited_anew.append(get(client, base)[0])
        agency.name_en = named
        db.session.commit()
        figures["after_agency_edit"] = statistics.median(edited)
        figures["after_agency_edit_anew"] = statistics.median(edited_anew)

        # After the whole round was scored again (a rule changed): every result rewritten.
        rescored = []
        for _ in range(args.cold):
            get(client, base)
            db.session.execute(
                text(
                    "UPDATE result SET computed_at = computed_at + interval '1 millisecond' "
                    "FROM response WHERE response.id = result.response_id "
                    "AND response.round_id = :round"
                ),
                {"round": built.current_id},
            )
            db.session.commit()
            rescored.append(get(client, base)[0])
        figures["after_rescoring"] = statistics.median(rescored)
        loads = []
        for _ in range(3):
            round_ = db.session.get(Round, built.current_id)
            assert round_ is not None
            loads.append(_timed(lambda round_=round_: reports.load(round_)))
        figures["load_one_round"] = min(loads)
        national.compact()  # the changes above rewrote results and responses
        db.engine.dispose()

    if args.workers:
        figures["new_worker"] = new_workers(args.database_url, base, args.workers, args.requests)

    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(describe(figures["machine"]))
    print(
        f"round {built.current_id} with {args.agencies:,} agencies (trend against round "
        f"{built.before_id}); medians of {args.cold} cold and {args.requests} warm requests"
    )
    print(
        f"  reference: read both rounds' stored results (SELECT → list)  {reference * 1000:7.1f} ms"
    )
    print(f"  application start (create_app)                            {startup * 1000:7.1f} ms")
    print(
        f"  first request of the process (league table)               {first * 1000:7.1f} ms"
        f"   {first / reference:5.1f}× the reference"
    )
    print(f"  {'page':<26} {'cold ms':>9} {'warm ms':>9} {'worst':>8} {'KiB':>8}  warm/ref")
    print("  (cold: the process holds nothing of the rounds, and reads their snapshots)")
    for name, page in figures["pages"].items():
        print(
            f"  {name:<26} {page['cold'] * 1000:9.1f} {page['warm'] * 1000:9.1f} "
            f"{page['warm_max'] * 1000:8.1f} {page['bytes'] / 1024:8.1f}  "
            f"{page['warm'] / reference:5.2f}×"
        )
    print(
        f"  league table, cold, no snapshot kept either:              "
        f"{figures['cold_unkept'] * 1000:7.1f} ms (the first process to open the rounds)"
    )
    print(
        f"  league table after a verified value changed (recomputed): "
        f"{figures['after_change'] * 1000:7.1f} ms"
    )
    if figures["after_save"] is not None:
        print(
            f"  league table after a coordinator saved a draft:          "
            f"{figures['after_save'] * 1000:7.1f} ms"
        )
        print(
            f"  an accepted agency's results page after that save:       "
            f"{figures['results_after_save'] * 1000:7.1f} ms"
        )
    if figures["after_review"] is not None:
        print(
            f"  league table after a reviewer accepted a response:        "
            f"{figures['after_review'] * 1000:7.1f} ms"
        )
        print(
            f"  an accepted agency's results page after that review:     "
            f"{figures['results_after_review'] * 1000:7.1f} ms"
        )
    print(
        f"  league table after an agency's record was edited:         "
        f"{figures['after_agency_edit'] * 1000:7.1f} ms (at the process's next check of them)"
    )
    print(
        f"    the same, a new process (the snapshots are older):      "
        f"{figures['after_agency_edit_anew'] * 1000:7.1f} ms"
    )
    print(
        f"  league table after the whole round was scored again:      "
        f"{figures['after_rescoring'] * 1000:7.1f} ms"
    )
    print(f"  load one round's tables (services.reports.load):          "
          f"{figures['load_one_round'] * 1000:7.1f} ms")  # fmt: skip
    fresh = figures.get("new_worker")
    if fresh is not None:
        print(
            f"  a new gunicorn ({fresh['workers']} workers, gunicorn.conf.py): answering "
            f"{fresh['answering'] * 1000:,.0f} ms after the start; the master prepared the "
            f"dashboards in {fresh['master_ms']:,.0f} ms before forking, each worker brought "
            f"them up to date in {', '.join(f'{ms:,.0f}' for ms in fresh['worker_ms'])} ms"
        )
        print(
            f"    league table the moment the new server answers:       "
            f"{fresh['during'] * 1000:7.1f} ms"
        )
        print(
            f"    league table once every worker is up to date:         "
            f"{fresh['first'] * 1000:7.1f} ms (then median {fresh['then'] * 1000:.1f} ms)"
        )
    league = figures["pages"]["league"]["warm"]
    changed = figures["after_change"]
    print(
        f"target: league table ≤ 300 ms: warm {'met' if league <= 0.3 else 'NOT met'} "
        f"({league * 1000:.0f} ms), after a change {'met' if changed <= 0.3 else 'NOT met'} "
        f"({changed * 1000:.0f} ms), cold (cache emptied, from the snapshots) "
        f"{'met' if figures['pages']['league']['cold'] <= 0.3 else 'NOT met'} "
        f"({figures['pages']['league']['cold'] * 1000:.0f} ms), cold with no snapshot "
        f"{figures['cold_unkept'] * 1000:.0f} ms"
        + (
            f", a new server at once {'met' if fresh['during'] <= 0.3 else 'NOT met'} "
            f"({fresh['during'] * 1000:.0f} ms)"
            if fresh is not None
            else ""
        )
    )


#: What a worker logs once its dashboards are prepared (assess.reports.warm.Warmed).
_READY = re.compile(r"dashboards ready for rounds .* in (\d+) ms")


def new_workers(url: str, path: str, workers: int, requests: int) -> dict[str, Any]:
    """The league table from a new gunicorn (the project's gunicorn.conf.py): asked the
    moment the server first answers, then once every worker has logged that its dashboards
    are up to date."""
    folder = Path(tempfile.mkdtemp(prefix="assess-dashboards-"))
    config = ROOT / "gunicorn.conf.py"
    figures: dict[str, Any] = {"workers": workers}

    async def timed_get(browser: load.Browser) -> float:
        start = time.perf_counter()
        status, _ = await browser.request("GET", path)
        took = time.perf_counter() - start
        assert status == 200, (path, status)
        return took

    def server() -> _server.Server:
        # preload=False: the project's file asks for it itself (preload_app).
        return _server.Server(
            url, folder, workers=workers, preload=False, config=config, log_level="info"
        )

    try:
        # A session first (kept in the database, so its cookie holds for the next server).
        with server() as first:
            browser = load.Browser(first.port, timeout=60)
            asyncio.run(browser.sign_in(national.EMAIL, national.PASSWORD))
            cookies = dict(browser.cookies)
        first.log.unlink()
        fresh = server()
        start = time.perf_counter()
        with fresh:
            figures["answering"] = time.perf_counter() - start
            browser = load.Browser(fresh.port, timeout=60)
            browser.cookies = cookies
            figures["during"] = asyncio.run(timed_get(browser))
            # The master's line, then one per worker.
            prepared: list[int] = []
            while len(prepared) < workers + 1:
                if time.perf_counter() - start > 120:
                    raise RuntimeError(f"workers not ready in 120 s:\n{fresh.log_tail()}")
                time.sleep(0.02)
                prepared = [int(ms) for ms in _READY.findall(fresh.log.read_text())]
            figures["ready"] = time.perf_counter() - start
            figures["master_ms"], figures["worker_ms"] = prepared[0], prepared[1:]
            first_time = asyncio.run(timed_get(browser))
            then = [asyncio.run(timed_get(browser)) for _ in range(requests)]
            figures["first"], figures["then"] = first_time, statistics.median(then)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


def _keep_snapshots(url: str, round_ids: Sequence[int]) -> None:
    """Have another process load the rounds' tables, keeping their snapshots as they are."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import national\n"
        "from assess.extensions import db\n"
        "from assess.models import Round\n"
        "from assess.reports import data\n"
        "with national.make_app(sys.argv[2]).app_context():\n"
        "    for round_id in sys.argv[3:]:\n"
        "        data.round_results(db.session.get(Round, int(round_id)))\n"
    )
    subprocess.run(  # noqa: S603 (this interpreter, on a script of its own)
        [sys.executable, "-c", script, str(ROOT / "benchmarks"), url, *map(str, round_ids)],
        check=True,
    )


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
