"""One agency's peer figures from the index of the round's comparison groups
(``agency_results.PeerIndex``) are exactly those of a benchmark of its groups (scoring.md §7,
``assess.scoring.benchmark``), for every agency: members and outsiders, ties, several tags,
unscored measures; and the web pages and scorecards read them from a context kept per state
of the round's data."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from assess.extensions import db
from assess.reports import data as cache
from assess.scoring.benchmark import benchmark
from assess.services import reports, responses
from assess.services.agency_results import PeerFigures, PeerIndex, RoundContext
from tests.conftest import fill

#: Each test's database is new, with the same ids: nothing cached by an earlier test.
pytestmark = pytest.mark.usefixtures("forget_cache")


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """The figures are pandas and numpy over loaded tables: one backend is enough."""
    return sqlite_database_url


@pytest.fixture
def crowd(world):  # type: ignore[no-untyped-def]
    """30 agencies of three types in three provinces, some under a parent, with zero to
    two tags; answers at a few maturities (so scores tie), most accepted, some not, and
    verified values for a few."""
    rng = random.Random(7)
    parents = [world.agency("MIN-1", type="ministry"), world.agency("MIN-2", type="ministry")]
    agencies = list(parents)
    for i in range(28):
        agencies.append(
            world.agency(
                f"AG-{i:02d}",
                type=rng.choice(["department", "province", "local"]),
                province=rng.choice(["Bangkok", "Chiang Mai", "Khon Kaen", None]),
                parent_id=rng.choice([None, parents[0].id, parents[1].id]),
                tags=rng.sample(["pilot", "border", "coastal"], rng.randint(0, 2)),
            )
        )
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    round_ = world.round(agencies=agencies)
    statuses = ["accepted"] * 6 + ["submitted", "returned", "draft"]
    for agency in agencies[:-2]:  # two never start
        response = world.response(round_, agency)
        fill(response, reviewer, rng.choice([0.2, 0.45, 0.45, 0.7, 0.9]), rng.choice(statuses))
        if rng.random() < 0.2 and response.status == "accepted":
            question = next(
                q
                for q in reports.load(round_).questionnaire.dimensions[0].questions
                if q.type.value in ("level", "choice")
            )
            lowest = min(question.options, key=lambda o: o.points).value
            responses.verify(response, reviewer, question.code, lowest, "no evidence")
    db.session.commit()
    return round_, reviewer


def reference(data: reports.RoundResults, code: str) -> dict[str, list[PeerFigures]]:
    """The figures as the benchmark of the agency's groups gives them: the population is the
    accepted responses and the agency; an outsider gets each group's figures without it."""
    if code not in data.agencies.index:
        return {}
    accepted = data.accepted
    population = set(accepted) | {code}
    memberships = []
    for by in reports.GROUPINGS:
        mine = data.groups(by, [code])
        if not mine.empty:
            members = data.groups(by, population)
            memberships.append(members[members["group"].isin(mine["group"])])
    if not memberships:
        return {}
    groups = pd.concat(memberships, ignore_index=True)
    verified = data.results("verified", accepted_only=False)
    verified = verified[verified["agency"].isin(set(groups["agency"]))]
    included = code in accepted
    out: dict[str, list[PeerFigures]] = {}
    for (by, group, measure), rows in benchmark(verified, groups).groupby(
        ["by", "group", "measure"], sort=False
    ):
        own = rows[rows["agency"] == code]
        if own.empty:
            continue
        row = own.iloc[0]
        if not included:
            others = benchmark(
                verified[(verified["agency"] != code) & (verified["measure"] == measure)],
                groups[(groups["by"] == by) & (groups["group"] == group)],
            )
            if others.empty:
                continue
            row = others.iloc[0]
        out.setdefault(str(measure), []).append(
            PeerFigures(
                by=str(by),
                group=str(group),
                n=int(row["n"]),
                rank=int(own.iloc[0]["rank"]) if included else None,
                percentile=float(own.iloc[0]["percentile"]) if included else None,
                quartile=int(own.iloc[0]["quartile"]) if included else None,
                mean=float(row["mean"]),
                median=float(row["median"]),
                p25=float(row["p25"]),
                p75=float(row["p75"]),
                best=float(row["max"]),
                lowest=float(row["min"]),
            )
        )
    order = {by: i for i, by in enumerate(reports.GROUPINGS)}
    for items in out.values():
        items.sort(key=lambda p: (order[p.by], p.group))
    return out


def test_every_agency_gets_what_a_benchmark_of_its_groups_gives(crowd):
    round_, _ = crowd
    data = reports.load(round_)
    index = PeerIndex(data)
    accepted = set(data.accepted)
    assert 10 < len(accepted) < len(data.agencies)  # members and outsiders
    outsiders = 0
    for code in data.agencies.index:
        expected = reference(data, code)
        assert index.figures(code) == expected, code
        outsiders += code not in accepted and bool(expected)
    assert outsiders  # outsiders that still see their groups' figures
    assert index.figures("NO-SUCH") == {}
    # Ties: some agencies share a rank.
    overall = [p.rank for code in accepted for p in index.figures(code)["overall"] if p.by == "all"]
    assert len(set(overall)) < len(overall)
    # Every group figured at once (the warm-up, bulk scorecards) gives the groups that each
    # agency's asking figured one by one.
    whole = PeerIndex(data)
    whole.figure_all()
    assert whole._groups.keys() == index._groups.keys() == whole._members.keys()
    for key, figures in whole._groups.items():
        one_by_one = index._groups[key]
        assert figures.keys() == one_by_one.keys(), key
        for measure, group in figures.items():
            other = one_by_one[measure]
            assert group.scores.tolist() == other.scores.tolist(), (key, measure)
            assert (group.mean, group.median, group.p25, group.p75) == (
                other.mean, other.median, other.p25, other.p75
            ), (key, measure)  # fmt: skip
    for code in data.agencies.index:
        assert whole.figures(code) == index.figures(code), code


def test_pages_and_scorecards_use_one_context_per_state_of_the_round(crowd, world, monkeypatch):
    round_, reviewer = crowd
    built = []
    real = RoundContext.__init__

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(kwargs.get("data") is not None)
        real(self, *args, **kwargs)

    monkeypatch.setattr(RoundContext, "__init__", counted)
    accepted = [r for r in round_.responses if r.status == "accepted"]
    first = cache.agency_results(accepted[0], peers_visible=True)
    second = cache.agency_results(accepted[1], peers_visible=True)
    assert built == [True]  # one context, on the cached tables
    assert first.round is round_
    assert second.overall.peers == tuple(
        PeerIndex(reports.load(round_)).figures(accepted[1].agency.code)["overall"]
    )
    # A change to the round: a new context on the refreshed tables, with the new figures.
    responses.review(
        next(r for r in round_.responses if r.status == "submitted"), reviewer, "accept"
    )
    db.session.commit()
    again = cache.agency_results(accepted[1], peers_visible=True)
    assert built == [True, True]
    assert again.overall.peer("all").n == second.overall.peer("all").n + 1


def test_a_context_keeps_its_index_while_no_accepted_response_or_agency_changed(crowd, world):
    """A draft saved: the next context reuses the comparison groups' index, and every
    agency's figures are still those of an index made afresh. An acceptance: brought up to
    date (:func:`test_an_index_brought_up_to_date_equals_one_made_anew`)."""
    round_, reviewer = crowd
    first = cache.round_context(round_, peers_visible=True)
    first.prepare()
    draft = next(r for r in round_.responses if r.status == "draft")
    code = next(iter(draft.answers)).question_code
    responses.save_answers(draft, {code: None}, revision=draft.revision, actor=reviewer)
    db.session.commit()
    second = cache.round_context(round_, peers_visible=True)
    assert second is not first
    assert second._index is not None
    assert first._index is not None
    assert second._index._groups is first._index._groups
    fresh = PeerIndex(reports.load(round_))
    for agency in second.data.agencies.index:
        assert second.peers(agency) == fresh.figures(agency), agency
    responses.review(
        next(r for r in round_.responses if r.status == "submitted"), reviewer, "accept"
    )
    db.session.commit()
    third = cache.round_context(round_, peers_visible=True)
    assert third._index is not None  # brought up to date for the new population
    assert third._index._groups is not second._index._groups
    fresh = PeerIndex(reports.load(round_))
    for agency in third.data.agencies.index:
        assert third.peers(agency) == fresh.figures(agency), agency


def _same_as_anew(context: RoundContext) -> None:
    """Every agency's figures and every group of ``context``'s index are those of an index
    made anew from the round's tables."""
    assert context._index is not None
    fresh = PeerIndex(context.data)
    fresh.figure_all()
    context._index.figure_all()  # what the change left to figure again
    assert context._index._groups.keys() == fresh._groups.keys()
    for key, figures in fresh._groups.items():
        held = context._index._groups[key]
        assert held.keys() == figures.keys(), key
        for measure, group in figures.items():
            assert held[measure].scores.tolist() == group.scores.tolist(), (key, measure)
    for agency in context.data.agencies.index:
        assert context.peers(agency) == fresh.figures(agency), agency


def test_an_index_brought_up_to_date_equals_one_made_anew(crowd, world, monkeypatch):
    """After each change of the accepted responses (one accepted, one returned, a verified
    value recorded, one more accepted with no verified value yet) the next context's index
    is the earlier one brought up to date, not one made anew: only the groups of the agency
    that moved are figured again, and the index equals one made anew. An agency's record
    edited: made anew."""
    round_, reviewer = crowd
    made = []
    real = PeerIndex.__init__

    def counted(self, data):  # type: ignore[no-untyped-def]
        made.append(data)
        real(self, data)

    monkeypatch.setattr(PeerIndex, "__init__", counted)
    context = cache.round_context(round_, peers_visible=True)
    context.prepare()
    assert len(made) == 1
    submitted = [r for r in round_.responses if r.status == "submitted"]
    accepted = [r for r in round_.responses if r.status == "accepted"]
    assert len(submitted) >= 2
    assert len(accepted) >= 2
    # A verified value worth other points than the answer of a scored question.
    answered = {a.question_code: a.value for a in accepted[0].answers}
    question, value = next(
        (q, o.value)
        for d in context.data.questionnaire.dimensions
        for q in d.questions
        if q.type.value in ("level", "choice") and q.is_scored and not q.show_if_source
        for o in q.options
        if o.points != next((p.points for p in q.options if p.value == answered.get(q.code)), None)
    )

    def accept() -> None:
        responses.review(submitted.pop(), reviewer, "accept")

    def give_back() -> None:
        responses.set_status(accepted.pop(), "returned", reviewer)

    def verify() -> None:
        responses.verify(accepted[0], reviewer, question.code, value, "checked")

    for change in (accept, give_back, verify, accept):
        before, count = context._index, len(made)
        change()
        db.session.commit()
        context = cache.round_context(round_, peers_visible=True)
        assert context._index is not None
        assert context._index is not before
        assert len(made) == count, change.__name__  # brought up to date, not made anew
        if change is verify:  # the agency's verified scores moved
            code = accepted[0].agency.code
            assert not context._index._wide.loc[code].equals(before._wide.loc[code])
        # Groups that no change touched are the same objects; the others are left to be
        # figured again, the group of everyone always among them.
        kept = context._index._groups
        assert any(kept.get(key) is figures for key, figures in before._groups.items()), (
            change.__name__
        )
        assert ("all", "all") not in kept, change.__name__
        _same_as_anew(context)
    # An agency's record edited (its type: its groups move): the index is made anew.
    agency = accepted[0].agency
    agency.type = "province" if agency.type != "province" else "local"
    db.session.commit()
    cache.RECHECK, recheck = 0.0, cache.RECHECK
    try:
        context = cache.round_context(round_, peers_visible=True)
    finally:
        cache.RECHECK = recheck
    assert context._index is None  # made anew on first use
    context.prepare()
    _same_as_anew(context)


def test_a_large_peer_group_shows_its_top_and_the_agency_s_neighbourhood(app):
    """The results page's table of agencies of the same type: whole up to 30, else the top
    10 and five on each side of the agency, with how many are left out between (a local
    administration of a national round has thousands of peers)."""
    from types import SimpleNamespace

    import numpy as np

    from assess.survey.results_page import AROUND, TOP, WHOLE, peer_table

    def table(size: int, own: int, accepted: bool = True) -> list:  # type: ignore[type-arg]
        codes = [f"LAO-{i:04d}" for i in range(size)] + ["DEP-0001"]
        agencies = pd.DataFrame(
            {
                "type": ["local"] * size + ["department"],
                "name_th": [f"อบต. {i}" for i in range(size)] + ["กรม"],
                "name_en": [f"SAO {i}" for i in range(size)] + ["Department"],
            },
            index=codes,
        )
        scores = pd.DataFrame({"overall": np.linspace(90, 10, size).tolist() + [50.0]}, index=codes)
        levels = pd.DataFrame({"overall": ["3"] * (size + 1)}, index=codes)
        data = SimpleNamespace(
            agencies=agencies,
            accepted=[c for i, c in enumerate(codes) if accepted or i != own],
            wide=lambda kind: scores,
            levels=lambda kind: levels,
        )
        result = SimpleNamespace(record=SimpleNamespace(code=codes[own], type="local"))
        with app.test_request_context("/"):  # Thai, the default
            return peer_table(data, result, anonymise=False)  # type: ignore[arg-type]

    small = table(WHOLE, 7)
    assert len(small) == WHOLE
    assert not any(row.hidden for row in small)

    rows = table(5000, 2500)
    shown = [row for row in rows if not row.hidden]
    assert [row.rank for row in shown[:TOP]] == list(range(1, TOP + 1))
    assert [row.rank for row in shown[TOP:]] == list(range(2501 - AROUND, 2502 + AROUND))
    assert [row.mine for row in shown].count(True) == 1
    assert next(row for row in shown if row.mine).label == "อบต. 2500"
    assert [row.hidden for row in rows if row.hidden] == [2500 - AROUND - TOP, 5000 - 2501 - AROUND]
    assert len(shown) + sum(row.hidden for row in rows) == 5000  # the department is not a peer

    # At the top, or at the bottom: one gap.
    assert [row.hidden for row in table(5000, 0) if row.hidden] == [5000 - TOP]
    assert [row.hidden for row in table(5000, 4999) if row.hidden] == [5000 - TOP - AROUND - 1]
    # A response not accepted is not among its peers: the top, then how many follow.
    outside = table(5000, 2500, accepted=False)
    assert not any(row.mine for row in outside)
    assert [row.hidden for row in outside if row.hidden] == [5000 - 1 - TOP]
    assert not any(row.mine for row in table(WHOLE, 3, accepted=False))


@pytest.mark.parametrize("in_order", [True, False])
def test_an_agency_s_trend_rows_are_found_in_order_or_not(in_order):
    """A context finds an agency's trend rows by binary search when the trend is in agency
    code order (as trend_frame makes it), else through the rows of each agency: the same
    rows either way, none for an agency the trend does not hold."""
    codes = ["DEP-0001", "DEP-0002", "LAO-0001", "LAO-0010", "PRV-0003"]
    trend = pd.DataFrame(
        {
            "agency": [code for code in codes for _ in range(3)],
            "measure": ["overall", "ea", "pay"] * len(codes),
            "change": [float(i) for i in range(3 * len(codes))],
        }
    )
    if not in_order:
        trend = trend.sample(frac=1, random_state=3).reset_index(drop=True)
    context = RoundContext.__new__(RoundContext)
    context._rows = None
    for code in [*codes, "DEP-0000", "ZZZ"]:
        found = context._trend_rows(trend, code)
        expected = trend[trend["agency"] == code]
        assert found["change"].tolist() == expected["change"].tolist(), code
        assert found["measure"].tolist() == expected["measure"].tolist(), code
    assert isinstance(context._rows, dict) is not in_order


def test_what_would_lift_each_dimension_is_figured_once_per_set_of_answers(crowd, monkeypatch):
    """A results page asks on every view: the what-if is figured again only when the
    answers it is figured from (the verified ones) changed."""
    from collections import OrderedDict

    from assess.services import agency_results

    round_, reviewer = crowd
    figured = []
    real = agency_results.lift

    def counted(questionnaire, answers):  # type: ignore[no-untyped-def]
        figured.append(dict(answers))
        return real(questionnaire, answers)

    monkeypatch.setattr(agency_results, "lift", counted)
    monkeypatch.setattr(agency_results, "_LIFTS", OrderedDict())
    response = next(r for r in round_.responses if r.status == "accepted")
    first = cache.agency_results(response, peers_visible=True)
    again = cache.agency_results(response, peers_visible=True)
    assert len(figured) == 1
    assert again.lifts == first.lifts
    assert again.lifts is not first.lifts  # each caller its own dict
    answered = {a.question_code: a.value for a in response.answers}
    question, value = next(
        (q.code, o.value)
        for d in first.questionnaire.dimensions
        for q in d.questions
        if q.type.value in ("level", "choice") and q.is_scored and not q.show_if_source
        for o in q.options
        if q.code in answered and o.value != answered[q.code]
    )
    responses.verify(response, reviewer, question, value, "checked")
    db.session.commit()
    changed = cache.agency_results(response, peers_visible=True)
    assert len(figured) == 2
    assert figured[-1][question] == changed.verified_answers[question]
    assert changed.lifts == real(first.questionnaire, changed.verified_answers)
