"""An agency's results page: the same page for its coordinator and for the central office.

The coordinator sees it once the round's results are preliminary or published; other
agencies' figures (peer medians, ranks, the peer table) only after the final publication,
with names or anonymised labels as the round says. The central office sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from flask import render_template, url_for
from flask_babel import gettext as _

from assess.app import current_language
from assess.models import Response
from assess.questionnaires.model import Question
from assess.scoring.whatif import Lift, Step
from assess.services import rounds
from assess.services.agency_results import (
    MIN_ANONYMOUS_GROUP,
    AgencyResults,
    without_small_groups,
)
from assess.services.errors import NotFound
from assess.services.reports import RoundResults


@dataclass(frozen=True)
class StepView:
    """One way to lift a dimension, as the agency reads it."""

    step: Step
    question: Question
    current: Any  # review.routes.Shown
    best: Any
    in_path: bool


@dataclass(frozen=True)
class LiftView:
    """What would lift one dimension to its next level."""

    lift: Lift
    title: str
    steps: list[StepView]


@dataclass(frozen=True)
class PeerRow:
    """One line of the peer table (a coordinator may see anonymised labels), or, with
    ``hidden`` > 0, the place of that many agencies left out of a long table."""

    rank: int
    label: str
    score: float | None
    level: str | None
    mine: bool
    hidden: int = 0


#: A peer group up to this size is shown whole; a larger one (the local administrations of
#: a national round: thousands) as its top :data:`TOP` and the agencies around the agency's
#: own place, :data:`AROUND` on each side.
WHOLE, TOP, AROUND = 30, 10, 5


def lift_views(result: AgencyResults, lang: str) -> list[LiftView]:
    """The what-if of each dimension with question texts and readable answers."""
    from assess.review.routes import show_value  # the review page's rendering of answers

    verified = result.verified_answers
    questions = result.questionnaire.questions
    views = []
    for dim in result.questionnaire.dimensions:
        found = result.lifts.get(dim.code)
        if found is None:
            continue
        steps = []
        for step in found.steps:
            question = questions[step.question]
            steps.append(
                StepView(
                    step=step,
                    question=question,
                    current=show_value(question, verified.get(step.question), lang),
                    best=show_value(question, step.answer, lang),
                    in_path=step.question in found.path,
                )
            )
        views.append(LiftView(lift=found, title=dim.title.get(lang), steps=steps))
    return views


def peer_table(data: RoundResults, result: AgencyResults, *, anonymise: bool) -> list[PeerRow]:
    """The agency's type group ranked by overall verified score (accepted responses): whole
    up to :data:`WHOLE` agencies, else the top and the agency's neighbourhood, with the
    number of agencies left out between them."""
    table = data.agencies
    accepted = data.accepted
    own_code = result.record.code
    same_type = (table.loc[accepted, "type"] == result.record.type).to_numpy()
    members = [
        code for code, same in zip(accepted, same_type, strict=True) if same or code == own_code
    ]
    scores = data.wide("verified").reindex(members)["overall"]
    levels = data.levels("verified").reindex(members)["overall"]
    ranked = scores.rank(method="min", ascending=False)
    filled = dict(zip(members, scores.fillna(-1).tolist(), strict=True))
    order = sorted(members, key=lambda c: (-filled[c], c))
    shown = set(range(len(order)))
    if len(order) > WHOLE:
        shown = set(range(TOP))
        if own_code in members:  # (a response not accepted is not among them)
            own = order.index(own_code)
            shown |= set(range(max(own - AROUND, 0), own + AROUND + 1))
    rows = []
    lang = current_language()
    name_column = "name_en" if lang == "en" else "name_th"
    left_out = 0
    for position, code in enumerate(order, start=1):
        if position - 1 not in shown:
            left_out += 1
            continue
        if left_out:
            rows.append(
                PeerRow(rank=0, label="", score=None, level=None, mine=False, hidden=left_out)
            )
            left_out = 0
        mine = code == own_code
        if anonymise and not mine:
            label = _("Agency %(n)d", n=position)
        else:
            label = str(table.at[code, name_column] or table.at[code, "name_th"] or code)
        scored = not pd.isna(scores[code])
        rows.append(
            PeerRow(
                rank=int(ranked[code]) if scored else 0,
                label=label,
                score=float(scores[code]) if scored else None,
                level=None if pd.isna(levels[code]) else levels[code],
                mine=mine,
            )
        )
    if left_out:
        rows.append(PeerRow(rank=0, label="", score=None, level=None, mine=False, hidden=left_out))
    return rows


def verified_changes(result: AgencyResults, lang: str) -> list[dict[str, Any]]:
    """Questions where the central office recorded a verified value, with its reason."""
    from assess.review.routes import show_value

    questions = result.questionnaire.questions
    rows = []
    for row in result.response.verified:
        question = questions.get(row.question_code)
        if question is None:
            continue
        code = row.question_code
        rows.append(
            {
                "question": question,
                "answer": show_value(question, result.answers.get(code), lang),
                "verified": show_value(question, result.verified_answers.get(code), lang),
                "reason": row.reason,
            }
        )
    return rows


def radar_figure(result: AgencyResults, lang: str) -> str:
    """The radar of the dimensions against the peer median and best (JSON for charts.js)."""
    # Imported here: the reports package registers the dashboards, which import the review
    # views, which render this page for the central office.
    from assess.reports.charts import NAVY, radar, short, to_json

    data = result.radar()
    labels = [short(result.dimension_title(code, lang), 22) for code in data["dimensions"]]
    series = [(result.record.name(lang), data["agency"], NAVY, "solid")]
    if data["median"]:
        series.append((_("Peer median"), data["median"], "#6c757d", "dash"))
        series.append((_("Best in the peer group"), data["best"], "#2e8540", "dot"))
    return to_json(radar(labels, series))


def render(response: Response, *, central: bool) -> str:
    """The results page of one response (none for a response never started: 404)."""
    from assess.scorecards.bulk import has_scores

    if not has_scores(response):
        raise NotFound(
            _(
                "%(agency)s never started its response to this round: it has no results.",
                agency=response.agency.code,
            )
        )
    round_ = response.round
    lang = current_language()
    peers_visible = central or round_.status == "published"
    # Imported here, as in radar_figure.
    from assess.reports import data as cache

    result, data = cache.agency_results_and_round(response, peers_visible=peers_visible)
    anonymise = round_.anonymise_peers and not central
    peers = peer_table(data, result, anonymise=anonymise) if peers_visible else []
    if anonymise:
        # Small groups would tell who is who: their figures are left out, and so is the
        # table of the agency's type when it is one of them.
        result = without_small_groups(result)
        if result.overall.peer() is None:  # the table is of the agency's type group
            peers = []
    can_dispute = not central and rounds.disputes_open(round_) and response.status == "accepted"
    return render_template(
        "survey/results.html",
        round=round_,
        response=response,
        result=result,
        questionnaire=result.questionnaire,
        central=central,
        lifts=lift_views(result, lang),
        peers=peers,
        anonymise=anonymise,
        min_anonymous_group=MIN_ANONYMOUS_GROUP,
        verified_rows=verified_changes(result, lang),
        radar=radar_figure(result, lang),
        can_dispute=can_dispute,
        disputes=list(response.disputes),
        # One undecided dispute per question: those are not offered again.
        waiting={d.question_code for d in response.disputes if d.status == "open"},
        back=url_for("review.response", round_id=round_.id, agency_code=response.agency.code)
        if central
        else url_for("survey.home"),
        scorecard_urls=[
            (
                code,
                url_for(
                    "scorecards.download",
                    round_id=round_.id,
                    agency_code=response.agency.code,
                    lang=code,
                ),
            )
            for code in ("th", "en")
            if has_scores(response)
        ],
        plotly_url=url_for("assets.plotly_js"),
    )
