"""The results dashboards in a real browser, at scale, in Thai (the default language).

A round of 2,000 synthetic agencies (built by ``benchmarks/league_table.py``'s ``build``:
answers through the synthetic generator, scores through ``results.recompute_round``; most
responses accepted, a few verified far below what the agency claimed) and the published
round before it. A reviewer opens every section; each chart must be drawn by the served
Plotly, in Sarabun, with no JavaScript error and no server error. Full-page screenshots
are kept as ``test-artifacts/screenshots/dashboard-*.png``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from assess.reports import data as cache

pytestmark = pytest.mark.e2e

AGENCIES = 2000
ROOT = Path(__file__).resolve().parents[2]

#: section → (URL suffix, how many charts it draws).
SECTIONS = {
    "league": ("", 0),
    "distributions": ("/distributions", 1),
    "heatmap": ("/heatmap", 1),
    "levels": ("/levels", 1),
    "progress": ("/progress", 2),
    "trend": ("/trend", 1),
    "flags": ("/flags", 0),
}

#: The font family the browser actually uses for a chart's tick labels.
TICK_FONT = """() => {
    const label = document.querySelector('.results-chart .main-svg .xtick text, .results-chart .main-svg .ytick text');
    return label ? getComputedStyle(label).fontFamily || label.style.fontFamily : null;
}"""

#: Each chart's margins as the page gave them, and as Plotly laid the chart out.
MARGINS = """() => Array.from(document.querySelectorAll('.results-chart'),
    (chart) => [chart.layout.margin, chart._fullLayout._size])"""

#: A chart's width, its plot area's, and the names of its rows in full and as shown.
NARROW = """(chart) => [
    chart._fullLayout.width,
    chart._fullLayout._size.w,
    chart.layout.yaxis.tickvals,
    chart.layout.yaxis.ticktext,
]"""

#: Whether the page is wider than the window (a phone would scroll sideways).
OVERFLOWS = "() => document.scrollingElement.scrollWidth > window.innerWidth"
#: The top of a chart's legend and the bottom of its x axis (ticks and title).
BELOW = """(chart) => [
    chart.querySelector('.legend').getBoundingClientRect().top,
    Math.max(...Array.from(chart.querySelectorAll('.xtick text, .g-xtitle text'),
        (text) => text.getBoundingClientRect().bottom)),
]"""


def builder() -> ModuleType:
    """The benchmark's data builder (benchmarks/ is not a package: loaded from its file)."""
    spec = importlib.util.spec_from_file_location(
        "league_table", ROOT / "benchmarks" / "league_table.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboards_with_2000_agencies(app, person):  # type: ignore[no-untyped-def]
    """Every section in Chromium with 2,000 agencies: drawn, in Sarabun, no errors."""
    cache.clear()
    bench = builder()
    _before, round_id = bench.build(AGENCIES)
    reviewer = person()
    console: list[str] = []
    reviewer.page.on(
        "console", lambda message: console.append(message.text) if message.type == "error" else None
    )
    reviewer.login(bench.EMAIL, bench.PASSWORD, lands_on="**/central/rounds")
    page = reviewer.page
    base = f"/central/rounds/{round_id}/results"

    for name, (suffix, charts) in SECTIONS.items():
        reviewer.goto(base + suffix)
        assert page.locator("html").get_attribute("lang") == "th"
        if charts:
            page.wait_for_selector(
                f"html[data-charts-drawn='{charts}']", state="attached", timeout=60_000
            )
            assert page.locator(".results-chart[data-drawn='true'] .main-svg").count() >= charts
            assert "Sarabun" in (page.evaluate(TICK_FONT) or ""), name
            if name in ("distributions", "heatmap", "levels", "progress"):
                # The margins hold the chart's labels as Chromium lays them out: Plotly
                # pushed none of them (a push lays the chart out again).
                for given, used in page.evaluate(MARGINS):
                    assert {side: used[side] for side in given} == given, name
            # Each chart can be downloaded: the mode bar's PNG button and a CSV link.
            page.locator(".results-chart").first.hover()
            assert page.locator(".modebar-btn[data-title]").count() > 0
            titles = (
                page.locator(".results-chart")
                .first.locator(".modebar-btn")
                .evaluate_all("buttons => buttons.map(b => b.getAttribute('data-title'))")
            )
            assert "ดาวน์โหลดแผนภูมิ (PNG)" in titles, titles  # in Thai, as the page
            # Nothing offers to send an agency's figures to Plotly's cloud.
            assert not [t for t in titles if "Share" in t or "Chart Studio" in t], titles
            assert page.locator("[data-attr='sendDataToCloud'], .modebar-btn--share").count() == 0
            assert page.locator("a[download][href*='.csv']").count() >= charts
            page.mouse.move(0, 0)  # the screenshot shows the charts at rest
            page.wait_for_timeout(300)
        assert page.evaluate("document.fonts.check('16px Sarabun', 'ภาษาไทย')")
        reviewer.shot(f"dashboard-{name}")

    # The league table: 50 rows a page, sortable, ranks within a filter.
    reviewer.goto(base)
    assert page.locator(".league-table tbody tr").count() == 50
    assert page.locator(".league-table th[aria-sort='ascending']").count() == 1
    reviewer.goto(f"{base}?type=local&sort=change&order=desc")
    assert page.locator(".league-table th[aria-sort='descending']").count() == 1
    assert page.locator(".league-table tbody tr").first.locator("td").first.inner_text() != ""
    reviewer.shot("dashboard-league-filtered")

    # The trend's 2,000 lines are one SVG path per direction (a trace would make an element
    # per line), and the legend still shows and hides each direction's lines: Plotly's
    # legend hides the shapes of a legend group with its traces.
    reviewer.goto(f"{base}/trend")
    page.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=60_000)
    chart = page.locator(".results-chart .main-svg").first
    assert chart.locator("path").count() < 100
    lines = chart.locator(".shapelayer path")
    directions = lines.count()
    assert directions >= 2
    falling = page.locator(".legend .traces", has_text="ลดลง")
    falling.locator(".legendtoggle").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.shapelayer path').length === {directions - 1}"
    )
    hidden = page.evaluate(
        "document.querySelector('.results-chart').layout.shapes"
        ".filter(s => s.visible === 'legendonly').map(s => s.legendgroup)"
    )
    assert hidden == ["ลดลง"]
    falling.locator(".legendtoggle").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.shapelayer path').length === {directions}"
    )

    # One dimension's trend, re-based against the previous version.
    reviewer.goto(f"{base}/trend?measure=opendata")
    page.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=60_000)
    reviewer.shot("dashboard-trend-dimension")

    # On a phone no page is wider than the screen. The rows' names are cut to two fifths of
    # the chart (whole letters, then an ellipsis), leaving the rows most of it; hovering
    # still names a row in full. The heatmap keeps its coloured cells, without the colour
    # bar and the scores written in them. A legend that stands above a chart goes below it,
    # one entry a row, clear of the axis, and the trend's note becomes its title's second
    # line.
    page.set_viewport_size({"width": 390, "height": 844})
    for name, (suffix, charts) in SECTIONS.items():
        reviewer.goto(base + suffix)
        if charts:
            page.wait_for_selector(
                f"html[data-charts-drawn='{charts}']", state="attached", timeout=60_000
            )
        assert not page.evaluate(OVERFLOWS), name
        if name in ("levels", "trend"):
            legend, axis = page.locator(".results-chart").first.evaluate(BELOW)
            assert legend >= axis, name
            # In a bottom margin made to hold it: Plotly pushed nothing.
            for given, used in page.evaluate(MARGINS):
                assert {side: used[side] for side in given} == given, name
        if name not in ("progress", "distributions", "levels", "heatmap"):
            reviewer.shot(f"dashboard-{name}-phone")
            continue
        chart = page.locator(".results-chart").first
        width, plot, names, shown = chart.evaluate(NARROW)
        assert width < 400, name
        assert plot >= 0.4 * width, name
        assert any(text.endswith("…") for text in shown), name
        for full, cut in zip(names, shown, strict=True):
            assert cut == full or full.startswith(cut[:-1].rstrip()), (name, full, cut)
        if name == "heatmap":
            assert chart.locator(".colorbar").count() == 0
            assert chart.locator(".heatmaplayer text").count() == 0
        reviewer.shot(f"dashboard-{name}-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    assert not reviewer.problems, reviewer.problems
    assert not console, console

    # The same 2,000 agencies seen by one of them, once the results are published.
    agency_results_page(person, round_id)


def agency_results_page(person, round_id: int) -> None:  # type: ignore[no-untyped-def]
    """An agency's results page among 2,000 (the same data, once published): the radar drawn
    in Sarabun, peers, the what-if; in Thai and in English."""
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Agency, Response, Round
    from assess.services import rounds, users

    round_ = db.session.get(Round, round_id)
    rounds.move(round_, "published")
    agency = db.session.scalars(
        select(Agency)
        .join(Response, Response.agency_id == Agency.id)
        .where(Response.round_id == round_id, Response.status == "accepted")
        .order_by(Agency.code)
    ).first()
    users.create_user("results@example.go.th", "coordinator", agency=agency, password="pw-2569-ok")
    db.session.commit()

    coordinator = person()
    console: list[str] = []
    coordinator.page.on(
        "console", lambda message: console.append(message.text) if message.type == "error" else None
    )
    coordinator.login("results@example.go.th", "pw-2569-ok", lands_on="**/my")
    page = coordinator.page
    coordinator.goto(f"/rounds/{round_id}/results")
    assert page.locator("html").get_attribute("lang") == "th"
    page.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=60_000)
    assert page.locator("#radar .main-svg").count() >= 1
    assert agency.name_th in page.locator("h1").inner_text()
    # Peers are shown after publication; the what-if lists questions with their gains.
    assert page.locator("#groups-title").count() == 1
    assert page.locator(".lift-card").count() >= 1
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    assert page.evaluate("document.fonts.check('16px Sarabun', 'ภาษาไทย')")
    coordinator.shot("agency-results-th")
    page.locator("button[lang='en']").click()
    page.wait_for_selector(
        "html[lang='en'][data-charts-drawn='1']", state="attached", timeout=60_000
    )
    coordinator.shot("agency-results-en")
    assert not coordinator.problems, coordinator.problems
    assert not console, console
