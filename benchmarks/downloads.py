"""Downloads at national scale (8,000 agencies): every CSV and JSON a central office takes
away, and the API's long lists, by server time and size.

    python benchmarks/downloads.py [--database-url URL] [--agencies 8000] [--requests 3]
                                   [--workbooks] [--json FILE]

On the national database of ``benchmarks/national.py`` (built on first use), a reviewer
signs in through Flask's test client (and gets an API token, removed at the end), and each
download of round 2569 is requested once unmeasured, then ``--requests`` times: the
progress table (all responses, and the pending ones with their coordinators' e-mails), the
agency register, the results pages' tables (league, flags, heatmap, trend), the exports
page (scores, benchmark, answers as CSV and JSON; the workbooks with ``--workbooks``: they
take many seconds each) and the API's scores and benchmark rows. Prints the median server
time, the size and the rate at which the body was made (MB/s); ``--json FILE`` also writes
them. Beside them, the physical reference of the same run: reading the round's stored
results with a plain ``SELECT`` into a list. There is no target for downloads in issue 8:
these figures show where a download at national scale still costs.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import imports  # noqa: E402  (its plain one-value query)
import national  # noqa: E402
from recompute import best, describe, machine  # noqa: E402

#: name → (path under the round or the site, with ``{round}`` for the round's id and
#: ``{agency}`` for an accepted agency's code; by API)
DOWNLOADS: dict[str, tuple[str, bool]] = {
    "progress, every response (CSV)": ("/central/rounds/{round}/responses.csv", False),
    "progress, pending, with e-mails (CSV)": (
        "/central/rounds/{round}/responses.csv?status=pending",
        False,
    ),
    "agency register (CSV)": ("/central/agencies?format=csv", False),
    "league table (CSV)": ("/central/rounds/{round}/results/league.csv", False),
    "flags (CSV)": ("/central/rounds/{round}/results/flags.csv", False),
    "heatmap (CSV)": ("/central/rounds/{round}/results/heatmap.csv", False),
    "trend (CSV)": ("/central/rounds/{round}/results/trend.csv", False),
    "export: scores (CSV)": ("/central/rounds/{round}/exports/scores.csv", False),
    "export: benchmark (CSV)": ("/central/rounds/{round}/exports/benchmark.csv", False),
    "export: answers (CSV)": ("/central/rounds/{round}/exports/answers.csv", False),
    "export: answers (JSON)": ("/central/rounds/{round}/exports/answers.json", False),
    "API: scores": ("/api/v1/rounds/{round}/scores", True),
    "API: benchmark, all": ("/api/v1/rounds/{round}/benchmark", True),
    "API: benchmark, by province": ("/api/v1/rounds/{round}/benchmark?by=province", True),
    # An agency's own system asking for its figures alone (an accepted agency's).
    "API: scores, one agency": ("/api/v1/rounds/{round}/scores?agency={agency}", True),
    "API: benchmark, one agency": ("/api/v1/rounds/{round}/benchmark?agency={agency}", True),
}
WORKBOOKS: dict[str, tuple[str, bool]] = {
    "export: scores (workbook)": ("/central/rounds/{round}/exports/scores.xlsx", False),
    "export: benchmark (workbook)": ("/central/rounds/{round}/exports/benchmark.xlsx", False),
    "export: answers (workbook)": ("/central/rounds/{round}/exports/answers.xlsx", False),
}


def main() -> None:
    """Build or reuse the national database, then time every download."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=3, help="measured requests each")
    parser.add_argument("--workbooks", action="store_true", help="the XLSX exports too")
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies)
    app = national.make_app(args.database_url)
    # As gunicorn's master does once the app is loaded (gunicorn.conf.py), before the
    # workers that serve these requests are forked: the app's own objects are left out
    # of the collector's full scans.
    gc.freeze()

    from sqlalchemy import text

    from assess.extensions import db

    downloads = DOWNLOADS | (WORKBOOKS if args.workbooks else {})
    figures: dict[str, Any] = {"machine": machine(), "agencies": args.agencies, "downloads": {}}
    with app.app_context():
        figures["machine"]["postgresql"] = db.session.scalar(text("SHOW server_version"))
        national.compact()

        def read_results() -> None:
            with db.session.connection().connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(
                    "SELECT r.response_id, r.kind, r.completeness, r.overall_score, "
                    "r.overall_level, r.dimensions::text FROM result r "
                    "JOIN response p ON p.id = r.response_id WHERE p.round_id = %s",
                    (built.current_id,),
                )
                cursor.fetchall()

        figures["reference"] = best(3, read_results)
        client = app.test_client()
        reply = client.post("/login", data={"email": national.EMAIL, "password": national.PASSWORD})
        assert reply.status_code in (302, 303), reply.status_code
        agency = imports._scalar(args.database_url, national.BUSIEST_REVIEW, (built.current_id,))
        assert agency is not None, f"round {built.current_id} has no accepted response"
        with national.api_token(national.EMAIL, "downloads benchmark") as token:
            for name, (path, api) in downloads.items():
                url = path.format(round=built.current_id, agency=agency)
                headers = {"Authorization": f"Bearer {token}"} if api else {}

                def get(url: str = url, headers: dict[str, str] = headers) -> int:
                    reply = client.get(url, headers=headers)
                    assert reply.status_code == 200, (url, reply.status_code)
                    return len(reply.data)  # the whole body, streamed or not

                size = get()  # unmeasured: the round's tables loaded, templates compiled
                times = []
                for _ in range(args.requests):
                    start = time.perf_counter()
                    size = get()
                    times.append(time.perf_counter() - start)
                figures["downloads"][name] = {
                    "url": url,
                    "bytes": size,
                    "seconds": statistics.median(times),
                    "worst": max(times),
                }
        db.engine.dispose()

    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(describe(figures["machine"]))
    print(
        f"round {built.current_id} with {args.agencies:,} agencies; "
        f"medians of {args.requests} requests after one unmeasured"
    )
    print(
        f"  reference: read the round's stored results (SELECT → list)   "
        f"{figures['reference'] * 1000:8.1f} ms"
    )
    print(f"  {'download':42} {'ms':>9} {'worst':>9} {'MB':>8} {'MB/s':>7}")
    for name, found in figures["downloads"].items():
        megabytes = found["bytes"] / 1e6
        print(
            f"  {name:42} {found['seconds'] * 1000:9.1f} {found['worst'] * 1000:9.1f} "
            f"{megabytes:8.2f} {megabytes / found['seconds']:7.1f}"
        )


if __name__ == "__main__":
    main()
