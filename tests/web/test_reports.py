"""The central office's results dashboards: league table, distributions, heatmap, levels,
response progress, year-over-year change, flags; their CSVs; Plotly's script.

A small hand-made round: two departments answered identically (a tie), a province, a local
administration, one response still submitted and one not started; the previous published
round (same questionnaire version: comparable) gives trends; one agency jumped since then
and another was verified far below what it claimed.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from assess.extensions import db
from assess.models import utcnow
from assess.questionnaires.diff import comparability
from assess.reports import data as cache
from assess.reports.assets import PLOTLY_VERSION
from assess.reports.league import Filters, Options, Page, Sort, league, ranks
from assess.services import reports, responses, results, rounds
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers

pytestmark = pytest.mark.usefixtures("forget_cache")


def fill(response, maturity: float, seed: int, status: str = "accepted") -> None:
    """Answer a response (answers from a latent maturity and a seed) and set its status."""
    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, maturity, random.Random(seed), 1.0)
    responses.replace_answers(response, answers, actor=None, source="test")
    for step in {"draft": ["draft"], "submitted": ["draft", "submitted"]}.get(
        status, ["draft", "submitted", "accepted"]
    ):
        responses.set_status(response, step, None)
    if status != "draft":
        response.submitted_at = utcnow()
    db.session.flush()


class Scene:
    """Round 2569 (closed) and the published round 2568 before it, on one version."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        """Build both rounds through the services, as agencies and reviewers would."""
        self.version = world.questionnaire()
        self.questionnaire = questionnaire_of(self.version)
        ministry = world.agency("MIN", name_en="Ministry of Tests", type="ministry")
        self.a1 = world.agency(
            "DEP-A", name_en="Alpha Department", parent=ministry, province="Bangkok", tags=["pilot"]
        )
        self.a2 = world.agency(
            "DEP-B", name_en="Bravo Department", parent=ministry, province="Bangkok"
        )
        self.a3 = world.agency(
            "PROV-C",
            name_en="Charlie Province",
            type="province",
            province="Chiang Mai",
            tags=["pilot"],
        )
        self.a4 = world.agency(
            "LAO-D", name_en="Delta Municipality", type="local", province="Chiang Mai"
        )
        self.a5 = world.agency("DEP-E", name_en="Echo Department", parent=ministry)
        self.a6 = world.agency("DEP-F", name_en="Foxtrot Department", parent=ministry)
        self.reviewer = world.user("reviewer@example.go.th", role="reviewer")
        self.reviewer.language = "en"  # the tests read English words
        self.coordinator = world.user("a@example.go.th", agency=self.a1)
        db.session.commit()
        everyone = [self.a1, self.a2, self.a3, self.a4, self.a5, self.a6]

        self.before = world.round(
            self.version, agencies=[self.a1, self.a3, self.a4], name="Round 2568", fiscal_year=2568
        )
        fill(world.response(self.before, self.a1), 0.15, 11)  # far lower than now: a jump
        fill(world.response(self.before, self.a3), 0.55, 3)  # the same answers as now
        fill(world.response(self.before, self.a4), 0.30, 14)
        results.recompute_round(self.before)
        rounds.move(self.before, "closed")
        rounds.move(self.before, "published")
        db.session.commit()

        self.round = world.round(self.version, agencies=everyone, name="Round 2569")
        fill(world.response(self.round, self.a1), 0.9, 1)
        fill(world.response(self.round, self.a2), 0.9, 1)  # the same answers: a tie
        fill(world.response(self.round, self.a3), 0.55, 3)
        fill(world.response(self.round, self.a4), 0.25, 4)
        fill(world.response(self.round, self.a5), 0.7, 5, status="submitted")
        results.recompute_round(self.round)
        db.session.commit()
        # The reviewer found no evidence for the province's claimed levels in one dimension.
        province = world.response(self.round, self.a3)
        for question in self.questionnaire.dimensions[0].questions:
            if question.type.value in ("level", "choice"):
                lowest = min(question.options, key=lambda o: o.points).value
                responses.verify(province, self.reviewer, question.code, lowest, "no evidence")
            elif question.type.value == "yesno":
                responses.verify(province, self.reviewer, question.code, False, "no evidence")
        rounds.move(self.round, "closed")
        db.session.commit()
        self.base = f"/central/rounds/{self.round.id}/results"

    def scores(self, measure: str = "overall") -> dict[str, float]:
        """Stored verified scores of this round's accepted responses, by agency code."""
        out = {}
        for response in self.round.responses:
            result = results.result_of(response, "verified")
            if response.status != "accepted" or result is None:
                continue
            if measure == "overall":
                out[response.agency.code] = float(result.overall_score)
            else:
                out[response.agency.code] = float(result.dimensions[measure]["score"])
        return out


@pytest.fixture
def scene(world) -> Scene:  # type: ignore[no-untyped-def]
    """The hand-made rounds of this module."""
    return Scene(world)


@pytest.fixture
def reviewer(client, auth, scene):  # type: ignore[no-untyped-def]
    """A test client signed in as the reviewer (English pages)."""
    auth.login("reviewer@example.go.th")
    return client


def page(client, url: str) -> str:
    """The HTML of a page that must answer 200."""
    reply = client.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    return reply.get_data(as_text=True)


def figures(html: str) -> dict[str, dict]:
    """The chart specs of a page, by holder id."""
    found = re.findall(
        r'<script type="application/json" id="([^"]+)-spec">(.*?)</script>', html, re.S
    )
    return {name: json.loads(text) for name, text in found}


def array(value) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A data array of a chart spec: a JSON list, or Plotly's typed array (base64)."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.array([np.nan if v is None else v for v in value], dtype="float64")


def read_csv(reply) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The rows of a CSV download (UTF-8 with a byte-order mark)."""
    assert reply.status_code == 200
    assert reply.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))


def league_codes(html: str) -> list[str]:
    """Agency codes of the league table's rows, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<span class="font-monospace">([^<]+)</span>', body)


def league_ranks(html: str) -> list[str]:
    """The rank column of the league table's rows, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td class="text-end score fw-semibold">([^<]+)</td>', body)


SECTIONS = ("", "/distributions", "/heatmap", "/levels", "/progress", "/trend", "/flags")
CSVS = ("league", "distributions", "heatmap", "levels", "progress", "submissions", "trend", "flags")


# -- who may see them --------------------------------------------------------------------------


def test_only_the_central_office_sees_the_dashboards(client, auth, scene):
    """Anonymous visitors sign in first, coordinators get 403, reviewers 200."""
    urls = [scene.base + s for s in SECTIONS] + [f"{scene.base}/{name}.csv" for name in CSVS]
    urls.append(f"/assets/plotly-{PLOTLY_VERSION}.min.js")
    for url in urls:
        reply = client.get(url)
        assert reply.status_code == 302, url
        assert "/login" in reply.headers["Location"]
    auth.login("a@example.go.th")
    for url in urls[:-1]:
        assert client.get(url).status_code == 403, url
    # Plotly is a public library: coordinators load it for their own results page.
    assert client.get(urls[-1]).status_code == 200
    auth.logout()
    auth.login("reviewer@example.go.th")
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/central/rounds/9999/results").status_code == 404


# -- the league table ----------------------------------------------------------------------------


def test_league_table_ranks_accepted_responses_with_ties(reviewer, scene):
    """Accepted responses only, ranked by verified overall score; ties share a rank."""
    scores = scene.scores()
    assert scores["DEP-A"] == scores["DEP-B"]  # identical answers
    html = page(reviewer, scene.base)
    codes = league_codes(html)
    # Accepted responses only: the submitted one and the one not started are left out.
    assert sorted(codes) == ["DEP-A", "DEP-B", "LAO-D", "PROV-C"]
    assert codes[:2] == ["DEP-A", "DEP-B"]  # a tie falls back to the code
    assert league_ranks(html) == ["1", "1", "3", "4"]
    assert [scores[c] for c in codes] == sorted(scores[c] for c in codes)[::-1]
    assert 'data-figure="accepted">4<' in html
    assert 'data-figure="invited">6<' in html
    # Scores with two decimals, level badges, links to the review of each response.
    assert f"{scores['LAO-D']:.2f}" in html
    assert 'class="level-badge level-' in html
    assert f'href="/central/rounds/{scene.round.id}/responses/PROV-C"' in html


def test_league_table_filters_rank_within_the_population(reviewer, scene):
    """Filters choose the population, and ranks are within it."""
    html = page(reviewer, f"{scene.base}?province=Chiang+Mai")
    assert league_codes(html) == ["PROV-C", "LAO-D"]
    assert league_ranks(html) == ["1", "2"]
    assert 'data-figure="invited">2<' in html
    assert page(reviewer, f"{scene.base}?type=department").count('font-monospace">DEP-') == 2
    assert league_codes(page(reviewer, f"{scene.base}?tag=pilot")) == ["DEP-A", "PROV-C"]
    assert league_codes(page(reviewer, f"{scene.base}?parent=MIN")) == ["DEP-A", "DEP-B"]
    # A value the round does not have is left out, not an error, and the page says so
    # (a mistyped link showed everyone as if filtered).
    html = page(reviewer, f"{scene.base}?province=Atlantis&type=department&tag=<b>x</b>")
    assert league_codes(html) == ["DEP-A", "DEP-B"]
    notice = html.split('data-notice="ignored-filters">', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Province “Atlantis”: no agency of this round has it" in notice
    assert "Tag “&lt;b&gt;x&lt;/b&gt;”: no agency" in notice
    assert "Agency type" not in notice
    assert "ignored-filters" not in page(reviewer, f"{scene.base}?province=Chiang+Mai")
    # Every section honours the filters (the tabs keep them).
    html = page(reviewer, f"{scene.base}/levels?province=Chiang+Mai")
    assert f'href="/central/rounds/{scene.round.id}/results/trend?province=Chiang+Mai"' in html
    levels_csv = read_csv(reviewer.get(f"{scene.base}/levels.csv?province=Chiang+Mai"))
    assert sum(int(r["count"]) for r in levels_csv if r["measure"] == "overall") == 2


def test_league_table_sorts_by_any_column(reviewer, scene):
    """Sorting by rank, name, overall, a dimension or change, both ways, with aria-sort."""
    scores = scene.scores()
    html = page(reviewer, f"{scene.base}?sort=overall&order=asc")
    assert league_codes(html) == sorted(scores, key=lambda c: (scores[c], c))
    assert 'aria-sort="ascending"' in html
    html = page(reviewer, f"{scene.base}?sort=name")
    assert league_codes(html) == [
        "DEP-A",
        "DEP-B",
        "PROV-C",
        "LAO-D",
    ]  # Alpha, Bravo, Charlie, Delta
    dimension = scene.questionnaire.dimensions[0].code
    html = page(reviewer, f"{scene.base}?sort={dimension}&order=desc")
    assert 'aria-sort="descending"' in html
    by_dimension = scene.scores(dimension)
    assert league_codes(html) == sorted(by_dimension, key=lambda c: (-by_dimension[c], c))
    html = page(reviewer, f"{scene.base}?sort=change")
    assert league_codes(html)[0] == "DEP-A"  # the jump since last round
    assert league_codes(html)[-1] == "DEP-B"  # no previous score: always last
    # Clicking the active column's header turns it round.
    assert f"sort={dimension}&amp;order=asc" in page(
        reviewer, f"{scene.base}?sort={dimension}&order=desc"
    )
    # An unknown column sorts by rank.
    assert league_ranks(page(reviewer, f"{scene.base}?sort=nonsense")) == ["1", "1", "3", "4"]


def test_league_table_csv_follows_filters_and_sort(reviewer, scene):
    """The league table's CSV holds every row, filtered and sorted as the page."""
    rows = read_csv(reviewer.get(f"{scene.base}/league.csv?sort=name"))
    assert [r["agency"] for r in rows] == ["DEP-A", "DEP-B", "PROV-C", "LAO-D"]
    assert {r["rank"] for r in rows[:2]} == {"1"}
    assert re.fullmatch(r"\d+\.\d\d", rows[0]["overall_score"])
    assert "change" in rows[0]["flags"]
    assert "verified_gap" in next(r for r in rows if r["agency"] == "PROV-C")["flags"]
    rows = read_csv(reviewer.get(f"{scene.base}/league.csv?type=local"))
    assert [r["agency"] for r in rows] == ["LAO-D"]


def test_a_page_past_the_end_shows_the_last_one(reviewer, scene):
    """A page number past the end shows the last page, not an error."""
    assert len(league_codes(page(reviewer, f"{scene.base}?page=7"))) == 4


# -- the pure functions behind the table --------------------------------------------------------


def test_ranks_follow_the_tie_rule():
    """§7: 1 + how many score strictly more (1, 2, 2, 4); unscored: no rank."""
    scores = pd.Series([80.0, 70.0, 70.0, 60.0, float("nan")], index=list("abcde"))
    assert ranks(scores).tolist()[:4] == [1, 2, 2, 4]
    assert pd.isna(ranks(scores)["e"])


def _population(count: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A pure population of ``count`` accepted agencies, two by two on equal scores."""
    codes = [f"AG{i:03d}" for i in range(count)]
    agencies = pd.DataFrame(
        {
            "agency": codes,
            "status": ["accepted"] * count,
            "name_th": [f"หน่วยงาน {i:03d}" for i in range(count)],
            "name_en": [f"Agency {i:03d}" for i in range(count)],
            "type": ["local" if i % 2 else "department" for i in range(count)],
            "parent": [""] * count,
            "parent_name_th": [""] * count,
            "parent_name_en": [""] * count,
            "province": ["Nan"] * count,
            "tags": [["even"] if i % 2 == 0 else [] for i in range(count)],
        },
        index=codes,
    )
    # Scores in steps of 0.5: every two agencies share one.
    verified = pd.DataFrame({"overall": [100 - (i // 2) * 0.5 for i in range(count)]}, index=codes)
    levels = pd.DataFrame({"overall": ["3"] * count}, index=codes)
    return agencies, verified, levels


def test_league_pages_and_ranks_a_large_population():
    """Pagination, ranks across pages, and ranks recomputed within a filter."""
    agencies, verified, levels = _population(120)
    empty: dict[str, set[str]] = {}
    second = league(
        agencies, verified, levels, pd.Series(dtype="float64"), empty, ["overall"],
        sort=Sort(), page=2, lang="en",
    )  # fmt: skip
    assert (second.page.total, second.page.pages) == (120, 3)
    assert (second.page.first, second.page.last) == (51, 100)
    assert [r.rank for r in second.rows[:3]] == [51, 51, 53]
    assert second.rows[0].texts["overall"] == "87.50"
    assert list(
        second.page.iter_pages(left_edge=1, left_current=2, right_current=3, right_edge=1)
    ) == [1, 2, 3]
    # Filtering first, then ranking: the even agencies rank among themselves.
    options = Options.of(agencies, "en")
    even = Filters.from_args({"tag": "even"}, options).apply(agencies)
    first = league(
        even, verified, levels, pd.Series(dtype="float64"), empty, ["overall"],
        sort=Sort(), page=1, lang="en",
    )  # fmt: skip
    assert [r.rank for r in first.rows[:3]] == [1, 2, 3]
    assert first.accepted == first.invited == 60
    assert Sort.from_args({"sort": "name"}, ["rank", "name"]).next_for("name").descending
    gaps = Page(items=[], page=10, per_page=10, total=200)
    assert list(gaps.iter_pages(left_edge=1, left_current=2, right_current=3, right_edge=1)) == [
        1, None, 8, 9, 10, 11, 12, 13, None, 20,
    ]  # fmt: skip


# -- the charts ----------------------------------------------------------------------------------


def test_distributions_show_each_measure(reviewer, scene):
    """A box per measure with every agency as a dot; its CSV holds the §7 figures."""
    html = page(reviewer, f"{scene.base}/distributions")
    spec = figures(html)["chart-distributions"]
    box, dots = spec["data"]
    assert box["type"] == dots["type"] == "box"
    assert dots["boxpoints"] == "all"  # few agencies: every one is a dot
    assert len(dots["x"]) == 4 * (1 + len(scene.questionnaire.dimensions))
    assert dots["fillcolor"] == "rgba(0, 0, 0, 0)"  # its own box (Plotly's quartiles) unseen
    assert spec["layout"]["boxmode"] == "overlay"
    assert spec["layout"]["font"]["family"].startswith("Sarabun")
    assert f"/assets/plotly-{PLOTLY_VERSION}.min.js" in html
    assert "js/charts.js" in html
    rows = read_csv(reviewer.get(f"{scene.base}/distributions.csv"))
    overall = rows[0]
    assert (overall["measure"], overall["n"]) == ("overall", "4")
    scores = sorted(Decimal(str(v)) for v in scene.scores().values())
    assert (overall["min"], overall["max"]) == (f"{scores[0]:.2f}", f"{scores[-1]:.2f}")
    median = ((scores[1] + scores[2]) / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert overall["median"] == str(median)
    # The box is drawn at the §7 figures of the table and the CSV, whatever the population.
    by_measure = {row["measure"]: row for row in rows}
    labels = box["y"]
    assert len(labels) == len(by_measure)
    for name in ("q1", "median", "q3", "lowerfence", "upperfence"):
        column = {"q1": "p25", "q3": "p75", "lowerfence": "min", "upperfence": "max"}.get(
            name, name
        )
        drawn = [round(v, 2) for v in array(box[name])]
        assert drawn == [float(by_measure[m][column]) for m in by_measure], name


def test_heatmap_orders_agencies_by_overall_score(reviewer, scene):
    """Rows in the order of the overall score, one column per measure."""
    spec = figures(page(reviewer, f"{scene.base}/heatmap"))["chart-heatmap"]
    trace = spec["data"][0]
    assert trace["type"] == "heatmap"
    names = trace["y"]
    assert [n.split(". ", 1)[1] for n in names] == [
        "Alpha Department", "Bravo Department", "Charlie Province", "Delta Municipality",
    ]  # fmt: skip
    assert [n[:3] for n in names] == ["1. ", "1. ", "3. ", "4. "]  # ties share a rank
    assert (len(trace["z"]), len(trace["z"][0])) == (4, 1 + len(scene.questionnaire.dimensions))
    rows = read_csv(reviewer.get(f"{scene.base}/heatmap.csv"))
    assert [r["agency"] for r in rows] == ["DEP-A", "DEP-B", "PROV-C", "LAO-D"]


def test_levels_are_stacked_in_level_colours_with_their_names(reviewer, scene):
    """One trace per level, in its colour, named in the page's language."""
    from assess import levels

    spec = figures(page(reviewer, f"{scene.base}/levels"))["chart-levels"]
    bars = spec["data"]
    assert [b["marker"]["color"] for b in bars] == [
        levels.colour(scene.questionnaire, level.code) for level in scene.questionnaire.levels
    ]
    assert [b["name"] for b in bars] == [
        f"{level.code} {level.name.get('en')}" for level in scene.questionnaire.levels
    ]
    assert spec["layout"]["barmode"] == "stack"
    rows = read_csv(reviewer.get(f"{scene.base}/levels.csv"))
    overall = [r for r in rows if r["measure"] == "overall"]
    assert sum(int(r["count"]) for r in overall) == 4
    assert {r["level_name"] for r in overall} == {
        lv.name.get("en") for lv in scene.questionnaire.levels
    }


def test_progress_counts_statuses_by_type_and_submissions_over_time(reviewer, scene):
    """Statuses by agency type, and the running total of submissions."""
    html = page(reviewer, f"{scene.base}/progress")
    charts = figures(html)
    assert {"chart-status", "chart-submissions"} <= set(charts)
    statuses = {b["name"]: sum(b["x"]) for b in charts["chart-status"]["data"]}
    assert (statuses["Accepted"], statuses["Submitted"], statuses["Not started"]) == (4, 1, 1)
    rows = read_csv(reviewer.get(f"{scene.base}/progress.csv"))
    department = {r["status"]: int(r["count"]) for r in rows if r["type"] == "department"}
    assert (department["accepted"], department["submitted"]) == (2, 1)
    days = read_csv(reviewer.get(f"{scene.base}/submissions.csv"))
    assert int(days[-1]["running_total"]) == 5  # four accepted and one submitted


def test_trend_is_a_slope_chart_labelled_comparable_or_rebased(reviewer, scene):
    """Previous → current per agency, labelled as scoring.md §8 says."""
    # Version 2569 names ``maps_from`` on three dimensions, codes of 2568 (the version it
    # supersedes): against itself each dimension is itself and the pair is comparable
    # (scoring.md §8), and the page says so.
    label = comparability(scene.questionnaire, scene.questionnaire)
    assert label == "comparable"
    html = page(reviewer, f"{scene.base}/trend")
    assert '<span class="badge text-bg-success">comparable</span>' in html
    # Without JavaScript, the page points to the data it has: the table below and the CSV.
    assert "its data is in the table below and in the CSV file" in html
    spec = figures(html)["chart-trend"]
    assert spec["layout"]["xaxis"]["ticktext"] == ["2568", "2569"]
    assert spec["layout"]["title"]["text"].endswith("comparable")
    lines = [
        t for t in spec["data"] if t.get("name", "").startswith(("Higher", "Lower", "Unchanged"))
    ]
    assert sum(int(np.isfinite(array(t["y"])).sum()) // 2 for t in lines) == 3
    rows = read_csv(reviewer.get(f"{scene.base}/trend.csv"))
    overall = {r["agency"]: r for r in rows if r["measure"] == "overall"}
    assert set(overall) == {"DEP-A", "PROV-C", "LAO-D"}  # in both rounds
    # The page says that the fourth accepted agency is left out, and why.
    assert (
        '<p class="small text-muted" data-figure="left-out">1 accepted agency of these filters '
        "has no score in both rounds (new in this round, or not accepted in 2568): it is not "
        "in the chart nor in its CSV file.</p>"
    ) in html
    assert "left-out" not in page(reviewer, f"{scene.base}/trend?province=Chiang+Mai")
    assert float(overall["DEP-A"]["change"]) > 15
    assert all(r["comparability"] == label for r in rows)
    # The province answered as before: each dimension the reviewer did not verify lower is
    # unchanged, the merged and the split ones (service, opendata, exchange) too.
    province = {r["measure"]: r for r in rows if r["agency"] == "PROV-C"}
    for dim in scene.questionnaire.dimensions[1:]:
        assert float(province[dim.code]["change"]) == 0.0, dim.code
    # One dimension at a time.
    dimension = scene.questionnaire.dimensions[1].code
    html = page(reviewer, f"{scene.base}/trend?measure={dimension}")
    assert scene.questionnaire.dimensions[1].title.get("en") in html


@pytest.mark.parametrize("accepted_only", [True, False])
def test_the_trend_of_tables_is_the_trend_of_long_results(scene, accepted_only):
    """§8 from the agency × measure tables (dashboards, results pages) gives the rows of
    ``scoring.trend`` over long results, of the accepted responses or of every one."""
    from assess.scoring.trend import trend

    returned = next(r for r in scene.round.responses if r.agency.code == "LAO-D")
    returned.status = "returned"  # in both rounds, not accepted in this one
    db.session.commit()
    data, before = reports.load(scene.round), reports.load(scene.before)

    def reference() -> pd.DataFrame:
        """``scoring.trend`` over the long results of ``data`` and ``before``."""
        return trend(
            data.results("verified", accepted_only=accepted_only),
            before.results("verified"),
            data.questionnaire,
            before.questionnaire,
        )

    found = reports.trend_frame(data, before, accepted_only=accepted_only)
    assert ("LAO-D" in set(found["agency"])) is not accepted_only
    assert {"DEP-A", "PROV-C"} <= set(found["agency"])
    pd.testing.assert_frame_equal(found, reference())

    # The earlier round's side is kept with its tables, and serves this round again once it
    # changed (LAO-D accepted now).
    assert list(before._derived) == [("priors", data.questionnaire.content_hash)]
    returned.status = "accepted"
    db.session.commit()
    data = reports.load(scene.round)
    found = reports.trend_frame(data, before, accepted_only=accepted_only)
    assert "LAO-D" in set(found["agency"])
    pd.testing.assert_frame_equal(found, reference())


def test_trend_without_an_earlier_round(reviewer, scene):
    """Without an earlier published round, the trend says so instead of drawing."""
    scene.before.status = "closed"  # no published round before this one any more
    db.session.commit()
    html = page(reviewer, f"{scene.base}/trend")
    assert "no earlier published round" in html.lower()
    assert "chart-trend-spec" not in html


def test_flags_a_big_change_and_a_verified_gap(reviewer, scene):
    """A jump since last round and a verified score far below the claim are flagged."""
    html = page(reviewer, f"{scene.base}/flags")
    flagged = set(re.findall(r'data-flag="([^"]+)" data-agency="([^"]+)"', html))
    assert ("change", "DEP-A") in flagged
    assert ("verified_gap", "PROV-C") in flagged
    assert not any(agency == "LAO-D" and kind == "verified_gap" for kind, agency in flagged)
    rows = read_csv(reviewer.get(f"{scene.base}/flags.csv?kind=verified_gap"))
    assert {r["agency"] for r in rows} == {"PROV-C"}
    gap = next(r for r in rows if r["measure"] == scene.questionnaire.dimensions[0].code)
    assert float(gap["difference"]) < -10
    assert float(gap["score"]) - float(gap["reference"]) == pytest.approx(float(gap["difference"]))
    # The league table shows the same flags as icons.
    league_html = page(reviewer, scene.base)
    assert league_html.count("flag-icon flag-change") >= 1
    assert league_html.count("flag-icon flag-gap") == 1
    # A higher limit: the change is no longer flagged (the most there is: one version in
    # both rounds, each dimension is compared with itself, and DEP-A's exchange went from
    # 0.00 to 100.00, a change of 100 points, not more).
    scene.round.flag_change = 100
    db.session.commit()
    assert 'data-flag="change"' not in page(reviewer, f"{scene.base}/flags")


def test_the_dashboards_follow_a_new_review(reviewer, scene):
    """The cache is never stale: an accepted response shows at once."""
    assert 'data-figure="accepted">4<' in page(reviewer, scene.base)
    response = next(r for r in scene.round.responses if r.agency.code == "DEP-E")
    responses.review(response, scene.reviewer, "accept")
    db.session.commit()
    html = page(reviewer, scene.base)
    assert 'data-figure="accepted">5<' in html
    assert "DEP-E" in league_codes(html)


def test_an_edited_agency_shows_once_the_cache_rechecks(reviewer, scene, monkeypatch):
    """Agency records have no timestamp: the cache rechecks them after a while."""
    assert "Delta Municipality" in page(reviewer, scene.base)
    scene.a4.name_en = "Delta City"
    db.session.commit()
    assert "Delta Municipality" in page(reviewer, scene.base)  # within the recheck delay
    monkeypatch.setattr(cache, "RECHECK", 0.0)
    loads = []
    real = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r.id) or real(r))
    html = page(reviewer, scene.base)
    assert "Delta City" in html
    assert "Delta Municipality" not in html
    assert loads == []  # the agency rows read again, not the round


def test_an_edited_agency_keeps_what_the_accepted_results_make(scene, monkeypatch):
    """An agency renamed, in both rounds: the dashboard's names and filter choices are made
    again, but its trend and flags (made of the accepted responses' scores alone, in both
    rounds) are kept, and equal those of a dashboard made anew. The previous round, published,
    keeps the record its results came out with: its tables stand."""
    first = cache.dashboard(scene.round)
    made = (first.trend, first.overall_change, first.flag_kinds(0, 0))
    assert first.names("en")["LAO-D"] == "Delta Municipality"
    scene.a4.name_en = "Delta City"
    db.session.commit()
    monkeypatch.setattr(cache, "RECHECK", 0.0)
    again = cache.dashboard(scene.round)
    assert again.data is not first.data
    assert again.before is first.before
    assert first.before.agencies.loc["LAO-D", "name_en"] == "Delta Municipality"
    assert again.names("en")["LAO-D"] == "Delta City"
    assert all(
        kept is now
        for kept, now in zip(
            made, (again.trend, again.overall_change, again.flag_kinds(0, 0)), strict=True
        )
    )
    cache.clear()
    fresh = cache.dashboard(scene.round)
    pd.testing.assert_frame_equal(again.trend, fresh.trend)
    assert again.flag_kinds(0, 0) == fresh.flag_kinds(0, 0)


def test_the_agency_fingerprint_moves_with_every_shown_field(scene):
    """What the recheck compares: any field the dashboards show of an agency of the round, or
    of its parent, moves the fingerprint; putting it back puts the fingerprint back."""
    ministry = scene.a1.parent
    first = cache.agency_fingerprint(scene.round.id)
    assert cache.agency_fingerprint(scene.round.id) == first
    changes = [
        (scene.a1, "name_th", "กรมอัลฟา"),
        (scene.a1, "name_en", "Alpha"),
        (scene.a1, "type", "province"),
        (scene.a1, "province", "Chiang Mai"),
        (scene.a1, "tags", ["pilot", "east"]),
        (scene.a1, "parent", None),
        (ministry, "name_en", "Ministry of Trials"),
        (ministry, "name_th", "กระทรวงทดลอง"),
        (ministry, "code", "MIN-Z"),
    ]
    for agency, name, value in changes:
        before = getattr(agency, name)
        setattr(agency, name, value)
        db.session.commit()
        assert cache.agency_fingerprint(scene.round.id) != first, name
        setattr(agency, name, before)
        db.session.commit()
        assert cache.agency_fingerprint(scene.round.id) == first, name
    # Two agencies trading their provinces: each record changed, the set of values did not.
    scene.a1.province, scene.a4.province = scene.a4.province, scene.a1.province
    db.session.commit()
    assert cache.agency_fingerprint(scene.round.id) != first
    # An agency of another round only.
    outsider = scene.a1.__class__(code="ZZ-OUT", name_th="นอกรอบ", tags=[])
    db.session.add(outsider)
    db.session.commit()
    changed = cache.agency_fingerprint(scene.round.id)
    outsider.name_th = "ยังนอกรอบ"
    db.session.commit()
    assert cache.agency_fingerprint(scene.round.id) == changed


def test_an_empty_round_shows_empty_sections(reviewer, scene, world):
    """A round with nothing accepted yet: every section and CSV answers."""
    empty = world.round(scene.version, agencies=[scene.a1], name="Nothing yet")
    for section in SECTIONS:
        page(reviewer, f"/central/rounds/{empty.id}/results{section}")
    for name in CSVS:
        assert reviewer.get(f"/central/rounds/{empty.id}/results/{name}.csv").status_code == 200


def test_thai_is_the_default_language_with_buddhist_era_dates(client, auth, scene):
    """Thai pages, Buddhist Era years and the questionnaire's Thai level names."""
    scene.reviewer.language = "th"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = page(client, f"{scene.base}/progress")
    assert "ปีงบประมาณ พ.ศ. 2569" in html
    level = scene.questionnaire.levels[0].name.get("th")
    assert level in page(client, f"{scene.base}/levels")
    ticks = figures(html)["chart-submissions"]["layout"]["xaxis"]["ticktext"]
    assert all(re.search(r"25\d\d$", t) for t in ticks)  # Buddhist Era years


# -- Plotly's script ------------------------------------------------------------------------------


def test_plotly_is_served_from_its_build(reviewer):
    """assess's own build of Plotly (tools/plotly), compressed, cached for a year,
    revalidated."""
    from assess.reports.assets import PLOTLY_JS

    url = f"/assets/plotly-{PLOTLY_VERSION}.min.js"
    reply = reviewer.get(url)
    assert reply.status_code == 200
    assert reply.mimetype == "text/javascript"
    original = PLOTLY_JS.read_bytes()
    assert reply.data == original
    assert "max-age=31536000" in reply.headers["Cache-Control"]
    assert "immutable" in reply.headers["Cache-Control"]
    compressed = reviewer.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    import gzip

    assert gzip.decompress(compressed.data) == original
    again = reviewer.get(url, headers={"If-None-Match": reply.headers["ETag"]})
    assert again.status_code == 304


def test_the_plotly_build_holds_every_trace_type_the_charts_draw():
    """A chart of a type the build lacks would stay empty in the browser: every trace the
    Python code makes (``go.Bar(…)``) is registered in tools/plotly/entry.js, and the built
    file says so in its first line, with the version its name gives."""
    from pathlib import Path

    from assess.reports.assets import PLOTLY_JS

    root = Path(__file__).resolve().parents[2]
    drawn = {
        name.lower()
        for path in (root / "assess").rglob("*.py")
        for name in re.findall(r"\bgo\.([A-Z][a-z]+)\(", path.read_text(encoding="utf-8"))
        if name != "Figure"
    }
    assert drawn == {"bar", "box", "heatmap", "scatter", "scatterpolar"}
    entry = (root / "tools" / "plotly" / "entry.js").read_text(encoding="utf-8")
    registered = set(re.findall(r'require\("plotly\.js/lib/([a-z]+)"\)', entry)) | {"scatter"}
    assert drawn <= registered
    banner = PLOTLY_JS.read_text(encoding="utf-8").splitlines()[0]
    version = PLOTLY_VERSION.removesuffix("-assess")
    assert banner.startswith(f"/*! plotly.js v{version}, traces: ")
    assert drawn <= set(banner.split("traces: ")[1].split(" (")[0].split())
    assert f'version="{version}"' in PLOTLY_JS.read_text(encoding="utf-8")[:2000]


def test_provinces_are_named_in_the_readers_language(client, auth, scene):
    """The province filter and the league table name provinces in Thai on a Thai page;
    the Thai name in a link filters as the stored spelling does."""
    scene.reviewer.language = "th"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = page(client, scene.base)
    assert '<option value="Chiang Mai" selected>' not in html
    assert ">เชียงใหม่</option>" in html
    assert "· เชียงใหม่</div>" in html
    assert "· Chiang Mai</div>" not in html
    thai = page(client, f"{scene.base}?province=เชียงใหม่")
    assert league_codes(thai) == ["PROV-C", "LAO-D"]
    assert '<option value="Chiang Mai" selected>เชียงใหม่</option>' in thai


@pytest.mark.parametrize(
    ("tail", "holder", "has_table"),
    [
        ("heatmap", "chart-heatmap", True),
        ("progress", "chart-submissions", True),
        ("progress", "chart-status", True),
        ("trend", "chart-trend", True),
        ("distributions", "chart-distributions", True),
        ("levels", "chart-levels", True),
    ],
)
def test_without_javascript_a_chart_points_to_the_data_it_has(
    reviewer, scene, tail, holder, has_table
):
    """A chart with a table under it says so; one without points to its CSV."""
    html = page(reviewer, f"{scene.base}/{tail}")
    start = html.index(f'id="{holder}"')
    note = html[html.index("<noscript>", start) : html.index("</noscript>", start)]
    if has_table:
        assert "in the table below" in note
    else:
        assert "“Data (CSV)” link above" in note
