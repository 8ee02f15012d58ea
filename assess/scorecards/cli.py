"""``assess scorecard``, ``assess scorecards`` and ``assess worker`` (interfaces.md).

The operator's commands see every round that has results (closed, preliminary or
published), with peer figures, as the central office does; in a round that anonymises other
agencies, without the figures of groups of fewer than five agencies, as every scorecard of
it (:func:`assess.scorecards.render.as_issued`).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from assess.cli import _round, fail

# The PDF machinery (WeasyPrint, the job queue) is imported by the commands that use it:
# every other command of `assess` starts without it.
LANG = click.option(
    "--lang",
    type=click.Choice(["th", "en"]),
    default="th",
    show_default=True,
    help="The scorecard's language.",
)


def _warn_without_site() -> None:
    """Say on stderr when scorecards will carry no address to check them at.

    Off the web there is no request to take the site's address from: without
    ``ASSESS_PUBLIC_URL`` a scorecard can only name the verification page, not link to it.
    """
    if not current_app.config.get("PUBLIC_URL"):
        click.echo(
            "warning: ASSESS_PUBLIC_URL is not set: scorecards carry their verification code "
            "but no address to check it at (set it to the site's address, "
            "e.g. https://assess.example.go.th)",
            err=True,
        )


def _check_round(round_id: str):  # type: ignore[no-untyped-def]
    """The round, if its scorecards can be made (it has results)."""
    from assess.scorecards import bulk

    found = _round(round_id)
    if found.status not in bulk.ROUND_STATUSES:
        fail(
            [
                f"round {found.id} is {found.status}: scorecards are made once it is closed "
                f"({', '.join(bulk.ROUND_STATUSES)})"
            ]
        )
    return found


@click.command("scorecard")
@click.argument("round_id", metavar="ROUND")
@click.argument("agency_code", metavar="AGENCY")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@LANG
@with_appcontext
def scorecard_command(round_id: str, agency_code: str, output: Path, lang: str) -> None:
    """Write AGENCY's PDF scorecard for ROUND to -o FILE.pdf."""
    from assess.scorecards import bulk, render
    from assess.scorecards.routes import find_response

    found = _check_round(round_id)
    response = find_response(found.id, agency_code)
    if response is None:
        fail([f"agency {agency_code}: no response in round {found.id}"])
    if not bulk.has_scores(response):
        fail(
            [
                f"agency {agency_code}: its response to round {found.id} was never started: "
                "no scores, so no scorecard ('assess scorecards' leaves it out too)"
            ]
        )
    _warn_without_site()
    _name, data = render.scorecard(response, lang, peers_visible=True)
    output.write_bytes(data)
    click.echo(
        f"{output}: scorecard of {agency_code}, round {found.id} ({lang}, {len(data)} bytes)"
    )


@click.command("scorecards")
@click.argument("round_id", metavar="ROUND")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@LANG
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes laying out PDFs (default: 2, or 1 on one core).",
)
@with_appcontext
def scorecards_command(round_id: str, output: Path, lang: str, processes: int | None) -> None:
    """Write every scorecard of ROUND into one archive -o FILE.zip, with a progress bar."""
    from assess.scorecards import bulk

    found = _check_round(round_id)
    partial = output.with_name(output.name + ".part")
    total = len(bulk.responses_of(found))
    _warn_without_site()
    # A bar on a terminal; nothing when the output goes to a file or a pipe (interfaces.md).
    shown = sys.stdout.isatty()
    try:
        with click.progressbar(
            length=total,
            label=f"round {found.id}: {total} scorecards",
            file=sys.stdout if shown else io.StringIO(),
            show_pos=True,
            show_eta=True,
        ) as bar:

            def progress(done: int, _total: int) -> None:
                """Move the bar to ``done``."""
                bar.update(done - bar.pos)

            count = bulk.export(
                found,
                partial,
                lang=lang,
                processes=processes
                or current_app.config.get("SCORECARD_PROCESSES")
                or bulk.default_processes(),
                progress=progress,
            )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"{output}: {count} scorecards of round {found.id} ({lang})")


@click.command("worker")
@click.option("--workers", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--queue", default=None, help="The queue's name (default: assess).")
@with_appcontext
def worker_command(workers: int, queue: str | None) -> None:
    """Take background jobs (bulk scorecards) until stopped with Ctrl+C or SIGTERM.

    With ASSESS_REDIS_URL the queue is in Redis: run workers on any host that shares the
    database and the instance folder. Without it, the web app runs its own worker thread.
    """
    import logging

    from assess import jobs

    # huey reports each job it takes and any failure through logging: show them.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if queue:
        current_app.config["JOBS_QUEUE"] = queue
    queue_jobs = jobs.init_app(current_app._get_current_object())  # type: ignore[attr-defined]
    where = "Redis" if queue_jobs.redis else "the instance folder (jobs.db)"
    click.echo(f"worker: {workers} thread(s) taking jobs from {where}", err=True)
    queue_jobs.worker(workers)
