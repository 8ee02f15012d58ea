"""Recompute and benchmark a whole national round from the database, beside just reading it.

    python benchmarks/recompute.py [--database-url URL] [--agencies 8000] [--repeat 3]
                                   [--legacy] [--copies 1]
                                   [--json FILE]

On the national database of ``benchmarks/national.py`` (built on first use), in one process
and against the same PostgreSQL database, the round 2569 (8,000 agencies) is:

- *read*: the physical reference — its answers (response, question, JSON value) read into
  Python as fast as plainly possible: a ``SELECT`` fetched into a list of tuples (values
  decoded from JSON, or left as JSON text), and a ``COPY … TO STDOUT`` read as text lines;
  the fastest of the three is the reference;
- *recomputed* (every result changed: a rule change): ``results.recompute_round`` with every
  stored result made stale beforehand, then committed;
- *recomputed* (one verified value changed, nothing else): the usual case during review;
- *benchmarked*: the stored results loaded (``services.reports.load``) and the benchmark
  figures of scoring.md §7 computed for every grouping (all, type, parent, province, tag),
  as ``assess benchmark`` does;
- with ``--legacy``, the former ORM path too (every response, answer and result loaded as
  objects, then scored: ``recompute_round(round, of_round(round))``).

Prints each figure (best of ``--repeat``) beside the reference and their ratio; ``--json
FILE`` also writes them as one JSON object. Targets (issue 8, 2 cores): recompute +
benchmark of a full round ≤ 10 s and ≤ 4× the time of reading its answers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import national  # noqa: E402

ANSWERS_SQL = (
    "SELECT a.response_id, a.question_code, a.value FROM answer a "
    "JOIN response r ON r.id = a.response_id WHERE r.round_id = {round_id}"
)


def best(repeat: int, run: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    """The least wall time of ``repeat`` runs (``before`` runs untimed ahead of each)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> dict[str, Any]:
    """The CPU, its cores, the memory, Python and PostgreSQL versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except OSError:  # pragma: no cover (not Linux)
        memory = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": memory,
        "python": platform.python_version(),
    }


def describe(m: dict[str, Any]) -> str:
    """The line that names the machine of :func:`machine` (PostgreSQL's version added)."""
    return (
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_mib']:,} MiB; Python "
        f"{m['python']}, PostgreSQL {m['postgresql']}"
    )


def main() -> None:
    """Build or reuse the national database, then time each figure beside the reference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--copies", type=int, default=1, help="each question this many times (see national.py)"
    )
    parser.add_argument("--legacy", action="store_true", help="time the former ORM path too")
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies, copies=args.copies)
    app = national.make_app(args.database_url)

    from sqlalchemy import func, select, text

    from assess.extensions import db
    from assess.models import Answer, Response, Round, VerifiedAnswer
    from assess.services import reports, results
    from assess.services.questionnaires import questionnaire_of

    figures: dict[str, Any] = {"machine": machine(), "agencies": args.agencies}
    with app.app_context():
        figures["machine"]["postgresql"] = db.session.scalar(text("SHOW server_version"))
        round_id = built.current_id
        round_ = db.session.get(Round, round_id)
        assert round_ is not None
        questionnaire_of(round_.questionnaire)  # parsed once per process, not timed here
        answers = db.session.scalar(
            select(func.count(Answer.id))
            .join(Response, Answer.response_id == Response.id)
            .where(Response.round_id == round_id)
        )
        verified = db.session.scalar(
            select(func.count(VerifiedAnswer.id))
            .join(Response, VerifiedAnswer.response_id == Response.id)
            .where(Response.round_id == round_id)
        )
        responses = db.session.scalar(select(func.count()).where(Response.round_id == round_id))
        figures.update(round=round_id, responses=responses, answers=answers, verified=verified)
        sql = ANSWERS_SQL.format(round_id=int(round_id))

        def raw() -> Any:
            return db.session.connection().connection.driver_connection

        def select_all() -> None:
            with raw().cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            assert len(rows) == answers

        def select_text() -> None:
            with raw().cursor() as cursor:
                cursor.execute(sql.replace("a.value", "a.value::text"))
                rows = cursor.fetchall()
            assert len(rows) == answers

        def copy_lines() -> None:
            chunks = []
            with raw().cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
                for block in copy:
                    chunks.append(bytes(block))
            lines = b"".join(chunks).decode().splitlines()
            assert len(lines) == answers

        read_select = best(args.repeat, select_all)
        read_text = best(args.repeat, select_text)
        read_copy = best(args.repeat, copy_lines)
        reference = min(read_select, read_text, read_copy)
        figures["read"] = {
            "select": read_select,
            "select_text": read_text,
            "copy": read_copy,
            "reference": reference,
        }

        def stale() -> None:
            db.session.execute(
                text(
                    "UPDATE result SET questionnaire_hash = 'stale' FROM response "
                    "WHERE response.id = result.response_id AND response.round_id = :r"
                ),
                {"r": round_id},
            )
            db.session.commit()

        def recompute() -> None:
            round_ = db.session.get(Round, round_id)
            assert round_ is not None
            results.recompute_round(round_)
            db.session.commit()

        def benchmark() -> None:
            round_ = db.session.get(Round, round_id)
            assert round_ is not None
            data = reports.load(round_)
            reports.benchmark_frame(data, reports.GROUPINGS)

        full = best(args.repeat, recompute, before=stale)
        nothing = best(args.repeat, recompute)
        flip_row = db.session.execute(
            select(VerifiedAnswer.id, VerifiedAnswer.value)
            .join(Response, VerifiedAnswer.response_id == Response.id)
            .where(Response.round_id == round_id)
            .order_by(VerifiedAnswer.id)
            .limit(1)
        ).first()
        assert flip_row is not None, "the national round has verified values"
        choice = [flip_row[1]]

        def flip() -> None:
            # Move one verified value to another option of its question, back and forth.
            q = questionnaire_of(round_.questionnaire)
            row = db.session.get(VerifiedAnswer, flip_row[0])
            assert row is not None
            options = [o.value for o in q.questions[row.question_code].options]
            choice[0] = options[(options.index(row.value) + 1) % len(options)]
            row.value = choice[0]
            db.session.commit()

        one = best(args.repeat, recompute, before=flip)
        bench = best(args.repeat, benchmark)
        figures["recompute"] = {
            "all_changed": full,
            "nothing_changed": nothing,
            "one_verified": one,
        }
        figures["benchmark"] = bench
        figures["total"] = full + bench
        figures["ratio"] = (full + bench) / reference
        if args.legacy:

            def legacy() -> None:
                round_ = db.session.get(Round, round_id)
                assert round_ is not None
                results.recompute_round(round_, results.of_round(round_))
                db.session.commit()
                db.session.expunge_all()

            figures["legacy"] = best(1, legacy, before=stale)
        national.compact()  # every run rewrote the round's results several times
        db.engine.dispose()

    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(describe(figures["machine"]))
    print(
        f"round {round_id}: {responses:,} responses, {answers:,} answers, {verified:,} verified "
        f"values (best of {args.repeat})"
    )
    print(f"  reference: read the answers, SELECT → list   {read_select:7.3f} s  (JSON decoded)")
    print(f"  reference: read the answers, SELECT → list   {read_text:7.3f} s  (JSON as text)")
    print(f"  reference: read the answers, COPY → lines    {read_copy:7.3f} s")
    rows = [
        ("recompute, every result changed", full),
        ("recompute, nothing changed", nothing),
        ("recompute, one verified value changed", one),
        ("benchmark (load + §7 figures, 5 groupings)", bench),
        ("recompute (all changed) + benchmark", full + bench),
    ]
    if args.legacy:
        rows.append(("former ORM recompute, every result changed", figures["legacy"]))
    for label, value in rows:
        print(f"  {label:<44} {value:7.3f} s   {value / reference:5.1f}× the reference")
    print(
        f"targets: recompute + benchmark ≤ 10 s: {'met' if full + bench <= 10 else 'NOT met'} "
        f"({full + bench:.2f} s); ≤ 4× reading the answers: "
        f"{'met' if figures['ratio'] <= 4 else 'NOT met'} ({figures['ratio']:.1f}×)"
    )


if __name__ == "__main__":
    main()
