"""PDF scorecards: time per scorecard beside a bare WeasyPrint render, bulk throughput, memory.

    python benchmarks/scorecards.py [--agencies 120] [--sample 30] [--count 500]
                                    [--processes 2] [--lang th] [--national]

Builds a published round of ``--agencies`` synthetic agencies (departments, provinces,
local administrations) on a fresh SQLite file, then prints:

1. the median time per scorecard over ``--sample`` agencies, split into its parts — the
   agency's data (``RoundContext.agency``: peers, change, what-if), the HTML (Jinja, Babel)
   and the PDF (WeasyPrint with the cached fonts and stylesheet, PDF/A-3b, tagged, the JSON
   attachment) — beside a bare WeasyPrint render of the same HTML (``HTML(string).write_pdf``
   with the stylesheet parsed anew, default options) and the ratio of the two;
2. the bulk export's throughput (every scorecard of the round into one ZIP) with 1 and
   with ``--processes`` processes;
3. the resident memory of one process making ``--count`` scorecards in a row (data, HTML
   and PDF each time), every 50, and its growth after the first 100: flat is the target.

With ``--national``, instead: one scorecard in the 8,000-agency round of ``national.py`` (on
PostgreSQL), as the web makes it (see :func:`national`).

Targets (issue 6): at most 0.25 s per scorecard and 1.3× the bare render; memory flat.
(Issue 8: 1.3× the bare render at national scale.)
CPU seconds are printed beside wall-clock seconds: on a shared machine the first are the
steadier measure, and "cores busy" tells whether the bulk export had the cores it asked for.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (bulk workers)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(app, agencies: int) -> int:  # type: ignore[no-untyped-def]
    """A published round of ``agencies`` answered, accepted and scored responses; its id."""
    from assess.extensions import db
    from assess.models import Agency
    from assess.questionnaires.builtin import builtin_path
    from assess.services import questionnaires, responses, results, rounds, users
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers

    path = builtin_path("dg-readiness", "2569")
    assert path is not None
    version, _ = questionnaires.import_text(path.read_bytes(), str(path))
    kinds = ("department", "province", "local")
    rows = []
    for i in range(agencies):
        kind = kinds[i % len(kinds)]
        rows.append(
            Agency(
                code=f"B-{i:05d}",
                name_th=f"หน่วยงานทดสอบที่ {i} ({kind})",
                name_en=f"Benchmark agency {i}",
                type=kind,
                province="Chiang Mai",
                tags=["pilot"] if i % 4 == 0 else [],
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    round_ = rounds.create_round(version, "Benchmark round", 2569, agencies=rows)
    rounds.move(round_, "open")
    db.session.commit()
    loader = users.create_user("bench@example.go.th", "reviewer", password="bench-password-1")
    questionnaire = questionnaire_of(version)
    rng = random.Random(2569)  # noqa: S311  (synthetic data)
    for agency in rows:
        response = responses.get_response(round_, agency)
        answers = agency_answers(questionnaire, rng.uniform(0.15, 0.95), rng, 1.0)
        raw = {code: responses.stored(value) for code, value in answers.items()}
        responses.save_answers(response, raw, revision=None, actor=loader, check_state=False)
        responses.set_status(response, "accepted", None)
    rounds.move(round_, "closed")
    results.recompute_round(round_)
    rounds.move(round_, "published")
    db.session.commit()
    return round_.id


def timed_parts(chosen: Any, agency_data: Any, lang: str) -> dict[str, float]:
    """Median seconds of each part of a scorecard over the ``chosen`` responses (the agency's
    data from ``agency_data(response)``, HTML, PDF, and the CPU of the three), and of a bare
    render of the same HTML."""
    from assess.scorecards import pdf, render

    parts: dict[str, list[float]] = {"data": [], "html": [], "pdf": [], "bare": [], "cpu": []}
    for response in chosen:
        cpu = time.process_time()
        start = time.perf_counter()
        result = agency_data(response)
        after_data = time.perf_counter()
        prepared = render.prepare(result, lang)
        after_html = time.perf_counter()
        pdf.write_pdf(prepared)
        done = time.perf_counter()
        parts["cpu"].append(time.process_time() - cpu)
        parts["data"].append(after_data - start)
        parts["html"].append(after_html - after_data)
        parts["pdf"].append(done - after_html)
        bare_start = time.perf_counter()
        pdf.bare_pdf(prepared.html)
        parts["bare"].append(time.perf_counter() - bare_start)
    return {k: statistics.median(v) for k, v in parts.items()}


def per_scorecard(round_id: int, sample: int, lang: str) -> None:
    """Median time of each part of one scorecard, and of a bare render of the same HTML."""
    from assess.extensions import db
    from assess.models import Round
    from assess.scorecards import bulk, pdf
    from assess.services.agency_results import RoundContext

    round_ = db.session.get(Round, round_id)
    context = RoundContext(round_, peers_visible=True)
    chosen = bulk.responses_of(round_)[:sample]
    pdf.warm_up()
    med = timed_parts(chosen, context.agency, lang)
    total = med["data"] + med["html"] + med["pdf"]
    ours = med["html"] + med["pdf"]
    print(f"per scorecard (median of {len(chosen)}, {lang}):")
    print(f"  agency data (peers, change, what-if) {med['data'] * 1000:8.1f} ms")
    print(f"  HTML (Jinja, Babel)                  {med['html'] * 1000:8.1f} ms")
    print(f"  PDF (WeasyPrint, PDF/A-3b, tagged)   {med['pdf'] * 1000:8.1f} ms")
    print(
        f"  = one scorecard                      {total * 1000:8.1f} ms  (CPU {med['cpu'] * 1000:.1f} ms)"
    )
    print(f"  bare WeasyPrint, same HTML           {med['bare'] * 1000:8.1f} ms")
    print(f"  HTML+PDF / bare render               {ours / med['bare']:8.2f} x")
    print(f"  whole scorecard / bare render        {total / med['bare']:8.2f} x")
    print(f"  share of the agency data             {100 * med['data'] / total:8.1f} %")


def national(round_id: int, sample: int, lang: str) -> None:
    """One scorecard at national scale (the 8,000-agency round of ``national.py``), as the web
    makes it: the agency's data from the context kept per state of the round's data
    (``reports.data.agency_results``), then HTML and PDF; beside a bare render of the same
    HTML. Also the first scorecard after the round changed (both rounds' tables and the
    context built again), the first after a coordinator saved a draft (the usual change
    during a round's busy days: the tables brought up to date, the comparison groups'
    index kept), the first after a review (the index brought up to date), and the former
    way, a context loaded for each scorecard."""
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Response, User
    from assess.reports import data as cache
    from assess.scorecards import pdf
    from assess.services import responses
    from assess.services.agency_results import for_response

    chosen = db.session.scalars(
        select(Response)
        .where(Response.round_id == round_id, Response.status == "accepted")
        .order_by(Response.id)
        .limit(sample)
    ).all()
    pdf.warm_up()
    cache.clear()
    start = time.perf_counter()
    cache.agency_results(chosen[0], peers_visible=True)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for_response(chosen[0], peers_visible=True)
    uncached = time.perf_counter() - start
    med = timed_parts(
        chosen, lambda response: cache.agency_results(response, peers_visible=True), lang
    )
    total = med["data"] + med["html"] + med["pdf"]
    draft = db.session.scalars(
        select(Response)
        .where(Response.round_id == round_id, Response.status == "draft")
        .order_by(Response.id)
        .limit(1)
    ).first()
    after_save = None
    if draft is not None:
        actor = db.session.scalar(select(User).where(User.role != "coordinator").limit(1))
        answer = draft.answers[0]
        code, value = answer.question_code, answer.value
        saves = []
        for new in (None, value, None, value, None, value):
            responses.save_answers(
                draft, {code: new}, revision=draft.revision, actor=actor, check_state=False
            )
            db.session.commit()
            start = time.perf_counter()
            cache.agency_results(chosen[0], peers_visible=True)
            saves.append(time.perf_counter() - start)
        after_save = statistics.median(saves)
    # After a review: a submitted response accepted, then put back (for the next run).
    reviewer = db.session.scalar(select(User).where(User.role == "reviewer").limit(1))
    reviews = []
    for response in db.session.scalars(
        select(Response)
        .where(Response.round_id == round_id, Response.status == "submitted")
        .order_by(Response.id)
        .limit(3)
    ).all():
        cache.agency_results(chosen[0], peers_visible=True)
        responses.review(response, reviewer, "accept")
        db.session.commit()
        start = time.perf_counter()
        cache.agency_results(chosen[0], peers_visible=True)
        reviews.append(time.perf_counter() - start)
        responses.set_status(response, "submitted", None)
        db.session.commit()
    after_review = statistics.median(reviews) if reviews else None
    agencies = db.session.scalar(
        select(db.func.count(Response.id)).where(Response.round_id == round_id)
    )
    print(
        f"one scorecard at national scale ({agencies:,} agencies; median of {len(chosen)}, {lang}):"
    )
    print(f"  agency data, from the kept context     {med['data'] * 1000:8.1f} ms")
    print(f"  HTML (Jinja, Babel)                    {med['html'] * 1000:8.1f} ms")
    print(f"  PDF (WeasyPrint, PDF/A-3b, tagged)     {med['pdf'] * 1000:8.1f} ms")
    print(f"  = one scorecard                        {total * 1000:8.1f} ms")
    print(f"  bare WeasyPrint, same HTML             {med['bare'] * 1000:8.1f} ms")
    print(f"  whole scorecard / bare render          {total / med['bare']:8.2f} x")
    print(
        f"  agency data, first after a change      {first * 1000:8.1f} ms  (both rounds, groups indexed)"
    )
    if after_save is not None:
        print(
            f"  agency data, first after a draft saved {after_save * 1000:8.1f} ms  "
            "(median of 6: the tables refreshed, the groups' index kept)"
        )
    if after_review is not None:
        print(
            f"  agency data, first after a review      {after_review * 1000:8.1f} ms  "
            "(median of 3: the tables refreshed, the groups of the agency figured again)"
        )
    print(f"  agency data, a context loaded for it   {uncached * 1000:8.1f} ms  (the former way)")


def throughput(round_id: int, processes: int, lang: str, folder: Path) -> None:
    """Every scorecard of the round into one ZIP, with 1 and with ``processes`` processes."""
    from assess.extensions import db
    from assess.models import Round
    from assess.scorecards import bulk

    round_ = db.session.get(Round, round_id)
    for count in sorted({1, processes}):
        target = folder / f"bulk-{count}.zip"
        start = time.perf_counter()
        cpu, children = time.process_time(), _children_cpu()
        made = bulk.export(round_, target, lang=lang, processes=count)
        seconds = time.perf_counter() - start
        used = time.process_time() - cpu + _children_cpu() - children
        size = target.stat().st_size / 1e6
        print(
            f"bulk export, {count} process{'es' if count > 1 else ''}: {made} scorecards in "
            f"{seconds:.1f} s = {made / seconds:.2f} per second ({seconds / made * 1000:.0f} ms "
            f"each), archive {size:.1f} MB; CPU {used:.0f} s, {used / seconds:.2f} cores busy"
        )


def memory(round_id: int, count: int, lang: str) -> None:
    """Resident memory of one process making ``count`` scorecards in a row."""
    from assess.extensions import db
    from assess.models import Round
    from assess.scorecards import bulk, pdf, render
    from assess.services.agency_results import RoundContext

    round_ = db.session.get(Round, round_id)
    context = RoundContext(round_, peers_visible=True)
    chosen = bulk.responses_of(round_)
    readings = []
    for i in range(count):
        response = chosen[i % len(chosen)]
        pdf.write_pdf(render.prepare(context.agency(response), lang))
        if (i + 1) % 50 == 0 or i + 1 == count:  # every 50, and after the last
            readings.append((i + 1, _rss_mb()))
    print(f"resident memory over {count} scorecards (one process):")
    print("  " + "  ".join(f"{n}: {mb:.0f} MB" for n, mb in readings))
    # The first scorecards fill caches (fonts, templates, Pango's); growth after is a leak.
    settled = next((r for r in readings if r[0] >= 100), readings[0])
    print(f"  growth after the first {settled[0]}: {readings[-1][1] - settled[1]:+.1f} MB")


def main() -> None:
    """Build the round, then print the three measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--agencies", type=int, help="agencies of the round (120; with --national 8,000)"
    )
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--lang", choices=("th", "en"), default="th")
    parser.add_argument(
        "--national",
        action="store_true",
        help="one scorecard in the 8,000-agency round of national.py instead (PostgreSQL)",
    )
    parser.add_argument("--database-url", help="with --national: the national round's database")
    args = parser.parse_args()
    if args.national:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import national as national_round

        url = args.database_url or national_round.DEFAULT_URL
        built = national_round.ensure(url, args.agencies or 8000)
        with national_round.make_app(url).app_context():
            national(built.current_id, args.sample, args.lang)
        return
    args.agencies = args.agencies or 120

    from flask_migrate import upgrade

    from assess import create_app

    folder = Path(tempfile.mkdtemp(prefix="assess-bench-scorecards-"))
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'a.db'}",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        round_id = build(app, args.agencies)
        print(
            f"built a published round of {args.agencies} agencies in {time.perf_counter() - start:.0f} s"
        )
        per_scorecard(round_id, args.sample, args.lang)
        throughput(round_id, args.processes, args.lang, folder)
        memory(round_id, args.count, args.lang)


if __name__ == "__main__":
    # The guard matters: bulk worker processes are spawned, and they import this file.
    main()
