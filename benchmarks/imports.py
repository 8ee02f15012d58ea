"""Importing a whole round's answers at national scale (``assess answers import``), beside
the bare loading of the same rows.

    python benchmarks/imports.py [--database-url URL] [--agencies 8000]
                                 [--formats csv,json,xlsx] [--json FILE]

On a copy of the national database of ``benchmarks/national.py`` (``CREATE DATABASE …
TEMPLATE``, dropped at the end: an import leaves audit events, which nothing may delete),
round 2569's answers are exported in each format with ``assess answers export``, and each
file is imported with ``assess answers import`` into a new open round twice: first every
response new, then every answer replaced. Each command runs as a process of its own, as an
operator runs it: its wall time (the command's start included) and its peak memory.

Beside them, the physical reference of the same run: the same answer rows COPYed, in one
process, into a table made like ``answer`` (its indexes included): what loading those rows
costs the database at the least. There is no target for imports in issue 8; the figures
show what a central office waits for when it loads a round from another system.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import national  # noqa: E402
from recompute import describe, machine  # noqa: E402

from assess.thai import BANGKOK, fiscal_year  # noqa: E402

#: The copy's name: the national database's, with this suffix.
COPY_SUFFIX = "_imports"


def main() -> None:
    """Copy the national database, then time each export and import beside the reference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--formats", default="csv,json,xlsx")
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies)
    url = _copy_of(args.database_url)
    figures: dict[str, Any] = {"agencies": args.agencies, "formats": {}}
    try:
        figures["machine"] = machine()
        figures["machine"]["postgresql"] = _scalar(url, "SHOW server_version")
        answers = _scalar(
            url,
            "SELECT count(*) FROM answer a JOIN response r ON r.id = a.response_id "
            "WHERE r.round_id = %s",
            (built.current_id,),
        )
        figures["answers"] = answers
        print(describe(figures["machine"]))
        print(
            f"round {built.current_id}: {answers:,} answers of {args.agencies:,} agencies; "
            "each command a process of its own (its start included)"
        )
        with tempfile.TemporaryDirectory(prefix="assess-imports-") as folder:
            # Each import into a round of its own, of a coming fiscal year (new rounds
            # belong to years near today's).
            first = fiscal_year(dt.datetime.now(BANGKOK).date()) + 1
            for year, fmt in enumerate(args.formats.split(","), start=first):
                figures["formats"][fmt] = _one_format(url, built.current_id, fmt, year, folder)
        # Last: the rows it holds would count in the commands' peak memory (a child
        # process starts with its parent's, and Linux keeps that peak across exec).
        reference = figures["reference"] = _bare_copy(url, built.current_id)
        print(
            f"  reference: COPY of the same answer rows into a table like answer {reference:.2f} s"
        )
        for fmt, row in figures["formats"].items():
            for step in ("export", "import, new", "import, again"):
                took, peak = row[step]["seconds"], row[step]["peak_mib"]
                print(
                    f"  {fmt:<5} {step:<14} {took:8.2f} s  {took / reference:5.1f}× the "
                    f"reference  peak memory {peak:6.0f} MiB"
                    + (f"  ({row['bytes'] / 2**20:.1f} MiB file)" if step == "export" else "")
                )
    finally:
        _drop(url)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def _one_format(url: str, round_id: int, fmt: str, year: int, folder: str) -> dict[str, Any]:
    """Export round ``round_id`` as ``fmt``, then import it into a new round twice."""
    path = Path(folder) / f"answers.{fmt}"
    row: dict[str, Any] = {}
    row["export"] = _timed(
        url, ["answers", "export", str(round_id), "--format", fmt, "-o", str(path)]
    )
    row["bytes"] = path.stat().st_size
    created = _assess(
        url,
        ["round", "create", "--questionnaire", "dg-readiness@2569", "--name",
         f"import {fmt}", "--fiscal-year", str(year)],
    )  # fmt: skip
    new_round = created.strip().splitlines()[-1]
    _assess(url, ["round", "open", new_round])
    # The new round has none of the evidence the exported statuses (submitted, accepted)
    # would need: the import is that of a past round's answers, evidence left out.
    command = ["answers", "import", new_round, str(path), "--no-evidence-check"]
    row["import, new"] = _timed(url, command)
    row["import, again"] = _timed(url, command)
    return row


def _environment(url: str) -> dict[str, str]:
    return {**os.environ, "ASSESS_DATABASE_URL": url}


def _command() -> list[str]:
    return [str(Path(sys.executable).with_name("assess"))]


def _assess(url: str, arguments: list[str]) -> str:
    done = subprocess.run(  # noqa: S603 (the project's own command)
        [*_command(), *arguments],
        env=_environment(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"assess {' '.join(arguments)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _timed(url: str, arguments: list[str]) -> dict[str, float]:
    """Run one ``assess`` command; its wall time and peak memory (the process's own)."""
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (the project's own command)
        [*_command(), *arguments],
        env=_environment(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"assess {' '.join(arguments)} failed:\n{errors[-2000:]}")
    return {"seconds": took, "peak_mib": usage.ru_maxrss / 1024, "cpu": usage.ru_utime}


def _bare_copy(url: str, round_id: int) -> float:
    """Seconds to COPY the round's answer rows (read beforehand) into a new table made like
    ``answer``, indexes included, and commit."""
    import psycopg

    with psycopg.connect(_plain(url)) as connection:
        rows = connection.execute(
            "SELECT a.response_id, a.question_code, a.value::text, a.updated_at, "
            "a.updated_by_id FROM answer a JOIN response r ON r.id = a.response_id "
            "WHERE r.round_id = %s",
            (round_id,),
        ).fetchall()
        connection.execute(
            "CREATE TABLE bench_answer (LIKE answer INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        connection.commit()
        start = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                "COPY bench_answer (response_id, question_code, value, updated_at, updated_by_id) "
                "FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        connection.commit()
        took = time.perf_counter() - start
        connection.execute("DROP TABLE bench_answer")
        connection.commit()
    return took


def _plain(url: str) -> str:
    """A SQLAlchemy URL as libpq's."""
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)


def _scalar(url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    import psycopg

    with psycopg.connect(_plain(url)) as connection:
        found = connection.execute(sql, params).fetchone()
    return found[0] if found else None


def _copy_of(url: str) -> str:
    """A fresh copy of the database at ``url``; its URL."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}{COPY_SUFFIX}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(False)


def _drop(url: str) -> None:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
    admin.dispose()


if __name__ == "__main__":
    main()
