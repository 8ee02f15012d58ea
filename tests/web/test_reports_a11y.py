"""Accessibility of the results pages, as the server writes them: the league table's row
headers and level names in words, the full names of cut column headers, a data table beside
every chart (whose drawing screen readers then skip), sorting and filtering that lead back to
the table (``#results``), names marked with their language, scrolling tables in their own box,
and the peers table's own name.

The round is :mod:`tests.web.test_reports`'s hand-made one (English pages).
"""

from __future__ import annotations

import re

import pytest

from assess.extensions import db
from tests.web.test_reports import Scene, page

pytestmark = pytest.mark.usefixtures("forget_cache")


@pytest.fixture
def scene(world) -> Scene:  # type: ignore[no-untyped-def]
    """The hand-made rounds of the results tests."""
    return Scene(world)


@pytest.fixture
def reviewer(client, auth, scene):  # type: ignore[no-untyped-def]
    """A test client signed in as the reviewer (English pages)."""
    auth.login("reviewer@example.go.th")
    return client


def body(html: str) -> str:
    """The rows of a page's first table."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def level_words(scene: Scene, code: str) -> str:
    """What screen readers hear of a level: "Level 3: Defined"."""
    return f"Level {code}: {scene.questionnaire.level(code).name.get('en')}"


# -- the league table -----------------------------------------------------------------------------


def test_each_row_is_named_by_its_agency(reviewer, scene):
    """The agency cell is the row's header (not bold, not centred: set as the other cells)."""
    rows = body(page(reviewer, scene.base))
    headers = re.findall(r'<th scope="row" class="([^"]+)">\s*<a [^>]*>([^<]+)</a>', rows)
    assert [name for _class, name in headers] == [
        "Alpha Department", "Bravo Department", "Charlie Province", "Delta Municipality",
    ]  # fmt: skip
    assert all({"agency-col", "fw-normal", "text-start"} <= set(c.split()) for c, _ in headers)
    assert '<td class="agency-col' not in rows


def test_a_dimension_cell_says_its_level_in_words(reviewer, scene):
    """Colour alone says nothing to a screen reader: the level's name is in the cell's text
    (visually hidden), as well as in its tooltip."""
    rows = body(page(reviewer, scene.base))
    cells = re.findall(
        r'<td class="text-end score dim-cell lvl-\d" title="([^"]+)">(\d+\.\d\d)'
        r'<span class="visually-hidden"> ([^<]+)</span></td>',
        rows,
    )
    dimensions = len(scene.questionnaire.dimensions)
    assert len(cells) == 4 * dimensions
    for title, _score, words in cells:
        assert words == title
        assert re.fullmatch(r"Level \d: \w+", words), words
    names = {level_words(scene, level.code) for level in scene.questionnaire.levels}
    assert {words for _t, _s, words in cells} <= names


def test_a_level_badge_is_read_as_level_and_name(reviewer, scene):
    """Not a bare digit: "Level 5: Optimized", the digit itself hidden from screen readers."""
    html = page(reviewer, scene.base)
    badges = re.findall(
        r'<span class="level-badge level-\d" title="([^"]+)"><span aria-hidden="true">([^<]+)'
        r'</span><span class="visually-hidden">([^<]+)</span></span>',
        body(html),
    )
    assert len(badges) == 4  # the overall column
    for name, code, words in badges:
        assert words == level_words(scene, code)
        assert name == scene.questionnaire.level(code).name.get("en")
    # Elsewhere too (the macro): the response's page.
    html = page(reviewer, f"/central/rounds/{scene.round.id}/responses/DEP-A")
    assert '<span class="visually-hidden">Level ' in html


def test_a_cut_column_header_gives_screen_readers_the_whole_name(reviewer, scene):
    """The visible label is cut short to fit; the link's text for screen readers is whole."""
    html = page(reviewer, scene.base)
    cut = [d for d in scene.questionnaire.dimensions if len(d.title.get("en")) > 24]
    assert cut
    for dimension in cut:
        title = dimension.title.get("en")
        header = re.search(
            rf'<th scope="col"[^>]* title="{re.escape(title)}">(.*?)</th>', html, re.S
        )
        assert header, title
        shown = re.search(r'<span aria-hidden="true">([^<]+)</span>', header.group(1))
        assert shown
        assert shown.group(1).endswith("…")
        assert title.startswith(shown.group(1).rstrip("…").rstrip())
        assert f'<span class="visually-hidden">{title}</span>' in header.group(1)
    # A label shown whole stays plain text.
    assert re.search(r'sort=did[^"]*#results">Digital identity<span class="sort-mark"', html)


def test_sorting_and_filtering_lead_back_to_the_table(reviewer, scene):
    """Sort links and the filter form end in #results, the id of the section's content:
    the browser lands on the table, not at the top of the page."""
    html = page(reviewer, f"{scene.base}?province=Bangkok")
    links = re.findall(r'<a class="sort-link[^"]*" href="([^"]+)"', html)
    assert len(links) == 4 + len(scene.questionnaire.dimensions)  # rank, name, overall, change
    assert all(link.endswith("#results") for link in links), links
    assert all("province=Bangkok" in link for link in links)
    assert html.count('id="results"') == 1
    assert html.index('id="results"') < html.index('<table class="table table-sm table-dense')
    for section in ("", "/trend", "/flags"):
        form = re.search(
            r'<form class="[^"]*results-filters"[^>]*>', page(reviewer, scene.base + section)
        )
        assert form
        assert f'action="{scene.base}{section}#results"' in form.group(0)


# -- the charts' data tables ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "holders"),
    [
        ("/heatmap", ["chart-heatmap"]),
        ("/progress", ["chart-status", "chart-submissions"]),
        ("/trend", ["chart-trend"]),
        ("/distributions", ["chart-distributions"]),
        ("/levels", ["chart-levels"]),
    ],
)
def test_every_chart_has_its_data_as_a_table(reviewer, scene, tail, holders):
    """A data table under each chart, folded in a <details>; the holder says so, for
    charts.js to hide the drawing from screen readers (the figure keeps its title)."""
    html = page(reviewer, scene.base + tail)
    for holder in holders:
        start = html.index(
            f'<figure class="card chart-card mb-3" aria-labelledby="{holder}-title">'
        )
        figure = html[start : html.index("</figure>", start)]
        tag = re.search(rf'<div class="results-chart" id="{holder}"[^>]*>', figure)
        assert tag
        assert 'data-alternative="table"' in tag.group(0)
        assert 'role="figure"' not in tag.group(0)  # the <figure> around it is the figure
        assert re.search(r"<details>\s*<summary>Figures \(table\)</summary>", figure), holder
        assert '<th scope="row"' in figure
        assert "<caption" in figure


def test_the_heatmap_table_holds_each_agency_score_and_level(reviewer, scene):
    html = page(reviewer, f"{scene.base}/heatmap")
    table = html[html.index("<summary>Figures (table)</summary>") :]
    rows = re.findall(r'<th scope="row" class="fw-normal">([^<]+)</th>(.*?)</tr>', table, re.S)
    assert [name for name, _cells in rows] == [
        "Alpha Department", "Bravo Department", "Charlie Province", "Delta Municipality",
    ]  # fmt: skip
    scores = scene.scores()
    first = re.findall(
        r'score text-nowrap">(\d+\.\d\d) <span class="text-muted">\((\w+)\)', rows[0][1]
    )
    assert len(first) == 1 + len(scene.questionnaire.dimensions)
    assert first[0][0] == f"{scores['DEP-A']:.2f}"
    assert "Levels: 1 Initial" in table


def test_the_progress_table_counts_submissions_by_day(reviewer, scene):
    html = page(reviewer, f"{scene.base}/progress")
    start = html.index('aria-labelledby="chart-submissions-title"')
    figure = html[start : html.index("</figure>", start)]
    days = re.findall(
        r'<tr><th scope="row" class="fw-normal">([^<]+)</th><td class="text-end score">(\d+)</td><td class="text-end score">(\d+)</td></tr>',
        figure,
    )
    assert days
    assert int(days[-1][2]) == 5  # four accepted and one submitted
    assert sum(int(count) for _day, count, _total in days) == 5


def test_the_trend_tables_give_the_middle_half_and_each_agency(reviewer, scene):
    html = page(reviewer, f"{scene.base}/trend")
    start = html.index('aria-labelledby="chart-trend-title"')
    figure = html[start : html.index("</figure>", start)]
    years = re.findall(r'<th scope="row" class="fw-normal">(25\d\d)</th>', figure)
    assert years == ["2568", "2569"]
    agencies = re.findall(r'<th scope="row" class="fw-normal">([A-Z][^<]+)</th>', figure)
    assert agencies[0] == "Alpha Department"  # the largest rise first
    assert sorted(agencies) == ["Alpha Department", "Charlie Province", "Delta Municipality"]
    assert 'class="change-up score">+' in figure


# -- names in the other language --------------------------------------------------------------------


def test_a_thai_name_on_an_english_page_is_marked_thai(reviewer, scene):
    """An agency with no English name is named in Thai on an English page: lang="th"."""
    scene.a4.name_en = ""
    db.session.commit()
    for tail in ("", "/heatmap", "/trend"):
        html = page(reviewer, scene.base + tail)
        assert re.search(r'lang="th">หน่วยงาน LAO-D<', html), tail
        main = html[html.index("<main") :]
        assert main.count('lang="th"') == 1, tail  # the others have English names
    main = page(reviewer, f"{scene.base}/flags").split("<main", 1)[1]
    flagged = re.findall(r'data-agency="([^"]+)">\s*<td><a [^>]*?( lang="th")?>', main)
    assert ("LAO-D", ' lang="th"') in flagged
    assert all(bool(mark) == (code == "LAO-D") for code, mark in flagged), flagged


def test_the_agency_list_marks_the_other_languages_name(client, auth, world):
    """The admin's agency list: each name with its language (the page's is the page's)."""
    admin = world.user("admin@example.go.th", role="admin")
    world.agency("BOTH", name_th="กรมทั้งสอง", name_en="Both Department")
    world.agency("THONLY", name_th="กรมภาษาไทย", name_en="")
    auth.login("admin@example.go.th")
    html = page(client, "/central/agencies")  # Thai, the default
    assert '<div class="small text-muted" lang="en">Both Department</div>' in html
    assert ">กรมทั้งสอง<" in html
    admin.language = "en"
    db.session.commit()
    html = page(client, "/central/agencies")
    assert 'Both Department<div class="small text-muted" lang="th">กรมทั้งสอง</div>' in html
    assert '<span lang="th">กรมภาษาไทย</span>' in html


# -- tables that scroll in their own box ------------------------------------------------------------


def test_wide_tables_scroll_in_their_own_box(reviewer, scene):
    """The round's response rates and the questionnaire's tables: each in a .table-responsive
    box (a11y.js makes one that scrolls a named, focusable region)."""
    html = page(reviewer, f"/central/rounds/{scene.round.id}")
    rates = html.index("Response rate by agency type</h2>")
    assert re.match(r'</h2>\s*<div class="table-responsive">\s*<table', html[rates + 28 :])
    html = page(reviewer, f"/central/questionnaires/{scene.version.id}")
    tables = html.count("<table")
    assert tables > 3
    assert len(re.findall(r'<div class="table-responsive">\s*<table', html)) == tables
    assert '<caption class="visually-hidden">Options · ' in html


def test_the_peers_table_has_a_name_of_its_own(reviewer, scene):
    """The section is named by its heading; the scrolling box inside it by its own words."""
    html = page(reviewer, f"/central/rounds/{scene.round.id}/responses/DEP-A/results")
    assert html.count('aria-labelledby="peers-title"') == 1
    region = re.search(r'<div class="table-responsive peers-scroll"[^>]*>', html)
    assert region
    assert 'aria-label="Agencies of the same type (scrolls sideways)"' in region.group(0)
