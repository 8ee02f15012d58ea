"""Every other page that grows with a round, at national scale (8,000 agencies): server time
and payload.

    python benchmarks/pages.py                     # the national round (builds it first)
    python benchmarks/pages.py --agencies 200 --database-url …   # a small round

The dashboards have their own script (``dashboards.py``), and so do the downloads, the
exports and the API's long lists (``downloads.py``); this one takes the rest of the pages
the central office and the coordinators open, and the API's short answers, on a round of
8,000 agencies, through the app's test client (server time, no network):

- the central office: the rounds, the round's monitor (first page, page 50, a status
  filter, a search), one response's review page (an accepted response with verified
  values, the busiest kind), its audit trail, the agency's results page, the disputes, the
  activity log, the agencies' register (first page, page 40, a search), one agency's
  record, the users, the questionnaires, the exports page;
- a coordinator (of an agency of the published round): the home page and the results page;
- the API (a reviewer's token, deleted at the end): the rounds and one response.

Each is requested ``--requests`` times after a first request (which also compiles its
templates and, for the results pages, reads the rounds' tables into the process); the median
and the worst of those and the first are printed with the payload. Beside them, the physical
reference of the same run: reading the round's responses with their agencies (the monitor's
data) with a plain ``SELECT`` into a list. ``--json FILE`` also writes the figures.

A coordinator's and an administrator's accounts are added to the national database the
first time (the national build makes only the reviewer's).
"""

from __future__ import annotations

import argparse
import contextlib
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
from recompute import describe, machine  # noqa: E402

ADMIN = "bench-admin@example.go.th"
COORDINATOR = "bench-coordinator@example.go.th"


def main() -> None:
    """Build or reuse the national database, then time each page beside the reference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=5, help="requests per page after the first")
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies)
    app = national.make_app(args.database_url)
    gc.freeze()  # as gunicorn's master does before it forks (gunicorn.conf.py)

    from sqlalchemy import select, text

    from assess.extensions import db
    from assess.models import Response, User
    from assess.services import users

    figures: dict[str, Any] = {"machine": machine(), "agencies": args.agencies, "pages": {}}
    current, before = built.current_id, built.before_id
    with app.app_context(), contextlib.ExitStack() as stack:
        figures["machine"]["postgresql"] = db.session.scalar(text("SHOW server_version"))

        def account(email: str, role: str, agency: Any = None) -> User:
            found = db.session.scalar(select(User).where(User.email == email))
            if found is None:
                found = users.create_user(email, role, agency=agency, password=national.PASSWORD)
                db.session.commit()
            return found

        # The busiest review page.
        code = imports._scalar(args.database_url, national.BUSIEST_REVIEW, (current,))
        assert code is not None, f"round {current} has no accepted response to review"
        # A coordinator of an agency in the published round.
        published = db.session.scalars(
            select(Response).where(Response.round_id == before).order_by(Response.id).limit(1)
        ).one()
        account(COORDINATOR, "coordinator", published.agency)
        account(ADMIN, "admin")

        def read_responses() -> None:
            connection = db.session.connection().connection.driver_connection
            with connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(
                    "SELECT p.id, p.status, p.completeness, p.updated_at, p.submitted_at, "
                    "a.code, a.name_th, a.name_en, a.type, a.province FROM response p "
                    "JOIN agency a ON a.id = p.agency_id WHERE p.round_id = %s ORDER BY a.code",
                    (current,),
                )
                cursor.fetchall()

        reference = min(_timed(read_responses) for _ in range(3))
        figures["reference"] = reference

        def client(email: str) -> Any:
            signed_in = app.test_client()
            reply = signed_in.post("/login", data={"email": email, "password": national.PASSWORD})
            assert reply.status_code in (302, 303), (email, reply.status_code)
            return signed_in

        token = stack.enter_context(national.api_token(national.EMAIL, "pages benchmark"))
        central, admin, coordinator, api = (
            client(national.EMAIL),
            client(ADMIN),
            client(COORDINATOR),
            app.test_client(),
        )
        bearer = {"Authorization": f"Bearer {token}"}
        round_ = f"/central/rounds/{current}"
        pages: list[tuple[str, Any, str, dict[str, str]]] = [
            ("rounds", central, "/central/rounds", {}),
            ("round monitor", central, round_, {}),
            ("round monitor, page 50", central, f"{round_}?page=50", {}),
            ("round monitor, accepted", central, f"{round_}?status=accepted", {}),
            ("round monitor, a search", central, f"{round_}?q=12", {}),
            ("a response's review page", central, f"{round_}/responses/{code}", {}),
            ("its audit trail", central, f"{round_}/responses/{code}/audit", {}),
            ("its results page", central, f"{round_}/responses/{code}/results", {}),
            ("disputes", central, f"{round_}/disputes", {}),
            ("activity", central, "/central/activity", {}),
            ("agencies", admin, "/central/agencies", {}),
            ("agencies, page 40", admin, "/central/agencies?page=40", {}),
            ("agencies, a search", admin, "/central/agencies?q=12", {}),
            ("an agency's record", admin, f"/central/agencies/{code}", {}),
            ("users", admin, "/central/users", {}),
            ("questionnaires", admin, "/central/questionnaires", {}),
            ("exports page", central, f"{round_}/exports", {}),
            ("coordinator: home", coordinator, "/my", {}),
            ("coordinator: results", coordinator, f"/rounds/{before}/results", {}),
            ("API: rounds", api, "/api/v1/rounds", bearer),
            ("API: a response", api, f"/api/v1/rounds/{current}/responses/{code}", bearer),
        ]
        for name, who, url, headers in pages:
            times, size = [], 0
            for _ in range(args.requests + 1):
                start = time.perf_counter()
                reply = who.get(url, headers=headers)
                times.append(time.perf_counter() - start)
                assert reply.status_code == 200, (name, url, reply.status_code)
                size = len(reply.data)
            figures["pages"][name] = {
                "url": url,
                "bytes": size,
                "first": times[0],
                "median": statistics.median(times[1:]),
                "worst": max(times[1:]),
            }
        db.engine.dispose()

    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(describe(figures["machine"]))
    print(
        f"round {current} with {args.agencies:,} agencies; the first request of each page, "
        f"then the median and worst of {args.requests}"
    )
    print(
        f"  reference: read the round's responses and agencies (SELECT → list) "
        f"{reference * 1000:7.1f} ms"
    )
    print(f"  {'page':<28} {'first ms':>9} {'median':>8} {'worst':>8} {'KiB':>9}  median/ref")
    for name, page in figures["pages"].items():
        print(
            f"  {name:<28} {page['first'] * 1000:9.1f} {page['median'] * 1000:8.1f} "
            f"{page['worst'] * 1000:8.1f} {page['bytes'] / 1024:9.1f}  "
            f"{page['median'] / reference:6.1f}×"
        )


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
