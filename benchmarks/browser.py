"""The results dashboards at national scale in a real browser: what the central office waits
for, from the request to the last chart drawn.

    python benchmarks/browser.py [--database-url URL] [--agencies 8000] [--requests 3]
                                 [--warmup N] [--json FILE]

``dashboards.py`` times the server; a person also waits for the browser to lay the page out
and for Plotly to draw its charts, and a chart of 8,000 agencies can cost more there than
on the server. On the national database of ``benchmarks/national.py`` (built on first use),
gunicorn serves the app as in production (the project's ``gunicorn.conf.py``: its master
prepares the rounds' tables before it forks the workers), and headless Chromium (Debian's
``chromium``, driven by Playwright; ``ASSESS_CHROMIUM`` names another) signs the reviewer in
through the sign-in form and opens every dashboard page of round 2569 in a window of
1366 × 900. Each page is opened unmeasured ``--warmup`` times (by default as many as
gunicorn has workers), then ``--requests`` times; for each the median of:

- *server*: the time to the first byte of the page (navigation timing);
- *ready*: the document parsed and its scripts run (``DOMContentLoaded``);
- *drawn*: every chart drawn (``charts.js`` marks ``<html data-charts-drawn>``; a page
  without charts is drawn once it has loaded);
- *busy*: the time the page's main thread spent on tasks (Chromium's ``TaskDuration``):
  parsing, styles, layout, painting, scripts; the part of *drawn* a faster network or
  server would not take away;
- the page's elements (SVG included) and its HTML size.

Beside them, the physical reference of the same run: the browser's own fixed cost of a page
of the app, the exports page (the same layout, scripts and web fonts, a few links, no chart
and no table). After the dashboards, the two pages a reviewer works in between them: the
round's monitor, and the review page of the accepted response with the most verified
values (every question with its answer, evidence and verification form: the biggest page
of the app). And once, a first visit with an empty browser cache: the trend page right
after signing in, Plotly's script downloaded and compiled; then that page with the script
not cached from assess's build of Plotly (``tools/plotly``) and from the whole of Plotly,
alternately, three times each: what the build saves. There is no target for the
browser in issue 8; these figures show where a dashboard still makes a person wait. The
browser and the server share the machine's cores here, as they would not in use.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _server  # noqa: E402
import imports  # noqa: E402  (its plain one-value query)
import national  # noqa: E402
from dashboards import PAGES  # noqa: E402  (the same pages as the server's figures)
from recompute import describe, machine  # noqa: E402

#: The reference: a page of the app's layout with no chart and no table.
REFERENCE = "/central/rounds/{round}/exports"
#: The pages a reviewer works in between the dashboards: the round's monitor, and the review
#: page of the accepted response with the most verified values (``{agency}``, found by
#: national.BUSIEST_REVIEW), the biggest.
REVIEW_PAGES = {
    "round monitor": "/central/rounds/{round}",
    "a response's review page": "/central/rounds/{round}/responses/{agency}",
}
#: Chromium's switches, as the browser tests' (tests/e2e/conftest.py).
SWITCHES = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
#: Resolves once the page is complete: its charts drawn, or loaded when it has none; then
#: the page's own figures (milliseconds from the navigation's start).
FIGURES = """async () => {
    while (document.querySelector('[data-chart]')
           && !document.documentElement.hasAttribute('data-charts-drawn')) {
        await new Promise(requestAnimationFrame);
    }
    const drawn = performance.now();
    const nav = performance.getEntriesByType('navigation')[0];
    return {
        server: nav.responseStart,
        ready: nav.domContentLoadedEventEnd,
        drawn: Math.max(drawn, nav.loadEventEnd),
        elements: document.querySelectorAll('*').length,
        bytes: nav.decodedBodySize,
        charts: document.querySelectorAll('[data-chart]').length,
    };
}"""


def chromium() -> str:
    """The browser: ``ASSESS_CHROMIUM``, else Debian's ``chromium``."""
    found = os.environ.get("ASSESS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise SystemExit("no Chromium: install Debian's chromium or set ASSESS_CHROMIUM")
    return found


def main() -> None:
    """Build or reuse the national database, serve it, and time every page in Chromium."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=national.DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=3, help="measured visits per page")
    parser.add_argument(
        "--warmup",
        type=int,
        default=_server.WORKERS,
        help="unmeasured visits per page first (default: one per gunicorn worker)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    built = national.ensure(args.database_url, args.agencies)
    executable = chromium()
    figures: dict[str, Any] = {
        "machine": machine(),
        "agencies": args.agencies,
        "pages": {},
        "review": {},
    }
    figures["machine"]["postgresql"] = imports._scalar(args.database_url, "SHOW server_version")
    busiest = imports._scalar(args.database_url, national.BUSIEST_REVIEW, (built.current_id,))
    if busiest is None:
        raise SystemExit(f"round {built.current_id} has no accepted response to review")
    folder = Path(tempfile.mkdtemp(prefix="assess-browser-"))
    base = f"/central/rounds/{built.current_id}/results"
    reference = REFERENCE.format(round=built.current_id)

    from playwright.sync_api import sync_playwright

    try:
        server = _server.Server(
            args.database_url, folder, preload=False, config=ROOT / "gunicorn.conf.py"
        )
        with server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=SWITCHES)
            try:
                figures["browser"] = browser.version
                session = _Session(browser, server.base)
                figures["first_visit"] = session.visit(base + PAGES["trend"])
                session.close()
                figures["plotly"] = _plotly_builds(browser, server.base, base + PAGES["trend"])
                session = _Session(browser, server.base)
                figures["reference"] = session.measure(reference, args.requests, args.warmup)
                for name, suffix in PAGES.items():
                    figures["pages"][name] = session.measure(
                        base + suffix, args.requests, args.warmup
                    )
                for name, path in REVIEW_PAGES.items():
                    url = path.format(round=built.current_id, agency=busiest)
                    figures["review"][name] = session.measure(url, args.requests, args.warmup)
                session.close()
            finally:
                browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


#: Visits of each Plotly build, alternately, for :func:`_plotly_builds`.
BUILD_VISITS = 3


def _plotly_builds(browser: Any, base: str, path: str) -> dict[str, Any]:
    """The trend page with Plotly's script not cached, served from assess's build
    (``tools/plotly``) and from the whole of Plotly (the plotly package's own file, when
    installed): the reference for what the build saves. A fresh browser context each
    visit, both scripts given from memory by the same route (Playwright routes bypass the
    browser's cache), alternately."""
    import plotly

    from assess.reports.assets import PLOTLY_JS

    whole = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not whole.is_file():
        return {}
    scripts = {"assess build": PLOTLY_JS.read_bytes(), "whole Plotly": whole.read_bytes()}
    visits: dict[str, list[dict[str, float]]] = {name: [] for name in scripts}
    for _ in range(BUILD_VISITS):
        for name, body in scripts.items():
            session = _Session(browser, base, script=body)
            visits[name].append(session.visit(path))
            session.close()
    found: dict[str, Any] = {
        name: {key: statistics.median(v[key] for v in runs) for key in runs[0]}
        for name, runs in visits.items()
    }
    for name, body in scripts.items():
        found[name]["script_bytes"] = len(body)
    return found


class _Session:
    """A reviewer signed in at a fresh browser context (its own cookies and cache)."""

    def __init__(self, browser: Any, base: str, script: bytes | None = None) -> None:
        self.base = base
        self.context = browser.new_context(viewport=VIEWPORT, locale="th-TH")
        if script is not None:  # Plotly's script given from memory (_plotly_builds)
            self.context.route(
                "**/assets/plotly-*.min.js",
                lambda route: route.fulfill(body=script, content_type="text/javascript"),
            )
        self.page = self.context.new_page()
        self.devtools = self.context.new_cdp_session(self.page)
        self.devtools.send("Performance.enable")
        self.page.goto(base + "/login")
        self.page.fill("input[name=email]", national.EMAIL)
        self.page.fill("input[name=password]", national.PASSWORD)
        self.page.locator("main form [type=submit]").click()
        self.page.wait_for_url("**/central/**")

    def visit(self, path: str) -> dict[str, float]:
        """Open ``path`` and wait until it is complete; its figures."""
        self.page.goto(self.base + path, wait_until="load")
        found: dict[str, float] = self.page.evaluate(FIGURES)
        # The main thread's task time since this document started (Chromium counts per
        # document).
        metrics = self.devtools.send("Performance.getMetrics")["metrics"]
        found["busy"] = next(m["value"] for m in metrics if m["name"] == "TaskDuration") * 1000
        return found

    def measure(self, path: str, requests: int, warmup: int) -> dict[str, float]:
        """The median figures of ``requests`` visits after ``warmup`` unmeasured ones. Each
        gunicorn worker computes a page's derived tables on its first request
        (``dashboards.py`` times that), and a visit may land on any worker: by default as
        many unmeasured visits as there are workers."""
        for _ in range(warmup):
            self.visit(path)
        visits = [self.visit(path) for _ in range(max(1, requests))]
        return {key: statistics.median(v[key] for v in visits) for key in visits[0]}

    def close(self) -> None:
        self.context.close()


def report(figures: dict[str, Any]) -> None:
    """Print the figures, a page a line."""
    print(describe(figures["machine"]) + f"; Chromium {figures.get('browser', '?')}")
    print(
        f"results dashboards of {figures['agencies']:,} agencies in headless Chromium "
        "(milliseconds from the navigation's start; medians)"
    )
    header = f"  {'page':<26} {'server':>7} {'ready':>7} {'drawn':>7} {'busy':>7} "
    print(header + f"{'elements':>9} {'HTML':>9}")

    def line(name: str, found: dict[str, float]) -> None:
        print(
            f"  {name:<26} {found['server']:7.0f} {found['ready']:7.0f} {found['drawn']:7.0f} "
            f"{found['busy']:7.0f} {found['elements']:9,.0f} {found['bytes'] / 1024:7.1f} KiB"
        )

    line("reference: exports page", figures["reference"])
    for name, found in figures["pages"].items():
        line(name, found)
    for name, found in figures["review"].items():
        line(name, found)
    line("trend, first visit", figures["first_visit"])
    print("  (first visit: a new browser, Plotly's script not yet cached)")
    for name, found in figures.get("plotly", {}).items():
        line(f"trend, {name}", found)
        print(f"    (script {found['script_bytes'] / 1024 / 1024:.2f} MiB, not cached)")


if __name__ == "__main__":
    main()
