"""Every scorecard of a round in one ZIP archive: the command line and the background job.

The round's tables are loaded once, and its comparison groups indexed once
(:class:`~assess.services.agency_results.RoundContext`); each agency's HTML is made here, in the app, and laid out to PDF either
here (one process) or in worker processes that import only :mod:`assess.scorecards.pdf`.
At most a few scorecards are in flight at once and each is written to the archive as soon as
it is done, so memory stays flat whatever the round's size.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import IO
from zipfile import ZIP_STORED, ZipFile

from assess import jobs
from assess.models import Job, Response, Round, utcnow
from assess.scorecards import pdf, render
from assess.services import results
from assess.services.agency_results import RoundContext

#: Round statuses whose scorecards the central office may make (results exist).
ROUND_STATUSES = ("closed", "preliminary", "published")
KIND = "scorecards"


def default_processes() -> int:
    """Worker processes for a bulk export: two, or one on a single-core machine."""
    return max(1, min(2, os.cpu_count() or 1))


def has_scores(response: Response) -> bool:
    """Whether a response has a scorecard: it was started and has stored results. One never
    started has nothing to show (a round scored as a whole gives it zeros, which neither a
    page of scores nor a PDF should present as its results)."""
    return response.status != "not_started" and bool(response.results)


def responses_of(round_: Round) -> list[Response]:
    """The round's responses that have stored results, by agency code."""
    found = [r for r in results.of_round(round_) if has_scores(r)]
    return sorted(found, key=lambda r: r.agency.code)


def _pdfs(items: Iterable[pdf.Prepared], processes: int) -> Iterator[tuple[str, bytes]]:
    """``(file name, PDF)`` per prepared scorecard, in order, made by ``processes`` workers."""
    if processes <= 1:
        for item in items:
            yield item.file_name, pdf.write_pdf(item)
        return
    # Spawned, not forked: the parent may run threads (a web server, the job consumer),
    # and a fork would copy their locks mid-use. Workers import only assess.scorecards.pdf.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=pdf.warm_up) as pool:
        window: deque[tuple[str, Future[bytes]]] = deque()
        for item in items:
            window.append((item.file_name, pool.submit(pdf.write_pdf, item)))
            # Two per worker in flight: workers never wait, memory never grows.
            if len(window) >= 2 * processes:
                name, future = window.popleft()
                yield name, future.result()
        while window:
            name, future = window.popleft()
            yield name, future.result()


def export(
    round_: Round,
    target: str | Path | IO[bytes],
    *,
    lang: str = "th",
    processes: int = 1,
    progress: Callable[[int, int], None] | None = None,
    site: str | None = None,
) -> int:
    """Write every scorecard of ``round_`` into a ZIP at ``target``; returns how many.

    Peer figures are shown (the central office makes these), without those of small groups
    when the round anonymises other agencies (:func:`render.as_issued`, in
    :func:`render.prepare`). ``progress(done, total)`` is called before the first and after
    each scorecard.
    """
    if lang not in render.LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(render.LANGUAGES)}")
    context = RoundContext(round_, peers_visible=True)
    context.prepare()  # every comparison group figured at once: all agencies will ask
    chosen = responses_of(round_)
    total = len(chosen)
    generated = utcnow()
    if progress is not None:
        progress(0, total)
    names: set[str] = set()

    def prepared() -> Iterator[pdf.Prepared]:
        """Each agency's HTML in turn, made only as the PDF workers need the next."""
        for response in chosen:
            item = render.prepare(context.agency(response), lang, generated=generated, site=site)
            name = item.file_name
            if name in names:  # two codes made alike by safe_name: keep both files
                name = f"{name[:-4]}-{response.id}.pdf"
            names.add(name)
            yield pdf.Prepared(item.html, item.scores, item.attachment_name, name)

    done = 0
    # PDFs are compressed already: stored, not deflated again.
    with ZipFile(target, "w", ZIP_STORED) as archive:
        for name, data in _pdfs(prepared(), processes):
            archive.writestr(name, data)
            done += 1
            if progress is not None:
                progress(done, total)
    return done


def archive_name(round_: Round, lang: str) -> str:
    """``scorecards-2569-round-3-th.zip``."""
    return f"scorecards-{round_.fiscal_year}-round-{round_.id}-{lang}.zip"


def fingerprint(round_: Round) -> str:
    """What a round's scorecards are made of, in a few characters: the dashboards' signature
    of its results and statuses (:func:`assess.reports.data.signature`: a response saved,
    submitted, reviewed or moved, a result written, the round moved or published), the
    agency records as the round shows them (:func:`assess.reports.data.agency_fingerprint`:
    edits move a round not yet out; one whose results are out keeps its records), and the
    round's names and anonymisation."""
    from assess.reports import data

    seen = (
        data.signature(round_),
        data.agency_fingerprint(round_.id),
        round_.name,
        round_.name_en,
        round_.anonymise_peers,
    )
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:32]


def outdated(job: Job, round_: Round) -> bool | None:
    """Whether a finished archive was made before the round's latest changes (``None``:
    made before this was recorded)."""
    made_for = job.params.get("made_for")
    return None if not made_for else made_for != fingerprint(round_)


@jobs.kind(KIND)
def run_job(job: Job, progress: Callable[[int, int], None]) -> str:
    """The background job: the round's archive, written under ``instance/exports``."""
    from flask import current_app

    round_ = job.round
    if round_ is None:
        raise ValueError("the job names no round")
    lang = str(job.params.get("lang", "th"))
    processes = int(current_app.config.get("SCORECARD_PROCESSES") or default_processes())
    folder = jobs.exports_folder()
    name = f"job-{job.id}-{archive_name(round_, lang)}"
    partial = folder / (name + ".part")
    # The round as the archive shows it, taken before it is read (outdated).
    jobs.note(job, made_for=fingerprint(round_))
    # Written aside, then renamed: a download never sees half an archive.
    try:
        export(
            round_,
            partial,
            lang=lang,
            processes=processes,
            progress=progress,
            site=job.params.get("site"),
        )
        partial.replace(folder / name)
    finally:
        partial.unlink(missing_ok=True)
    return name
