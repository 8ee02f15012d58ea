"""One agency's results in a round: what its results page and its PDF scorecard show.

Scores and levels (verified, beside the self-assessed ones), the agency's rank, percentile
and peer figures in each comparison group it belongs to (scoring.md §7), the change from the
previous published round (§8), and what would lift each dimension to the next level (the
engine's what-if, :mod:`assess.scoring.whatif`). Everything comes from the stored results
through :mod:`assess.services.reports`; nothing here scores a response except the what-if.

For many agencies of one round (bulk scorecards) build one :class:`RoundContext` and call
:meth:`RoundContext.agency` for each: the round's tables are loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assess.models import Agency, Response, Round
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import AnswerValue
from assess.questionnaires.model import Level
from assess.scoring.benchmark import benchmark
from assess.scoring.trend import trend
from assess.scoring.whatif import Lift, lift
from assess.services import reports
from assess.services.results import answer_sets

#: The comparison group the radar chart and the scorecard's table use: agencies of the
#: same type (a department with departments, a province with provinces).
PRIMARY_GROUPING = "type"


@dataclass(frozen=True)
class PeerFigures:
    """Where one measure of the agency stands in one comparison group (§7)."""

    by: str
    group: str
    n: int
    rank: int | None  # None when the agency is not in the population (response not accepted)
    percentile: float | None
    quartile: int | None
    mean: float
    median: float
    p25: float
    p75: float
    best: float
    lowest: float


@dataclass(frozen=True)
class Measure:
    """The overall result or one dimension's, with its peers and its change."""

    code: str
    score: float | None
    level: str | None
    self_score: float | None
    self_level: str | None
    previous: float | None = None
    change: float | None = None
    peers: tuple[PeerFigures, ...] = ()

    @property
    def differs(self) -> bool:
        """Whether the verified result differs from the self-assessed one."""
        return (self.score, self.level) != (self.self_score, self.self_level)

    def peer(self, by: str = PRIMARY_GROUPING) -> PeerFigures | None:
        """The figures in the first group of grouping ``by``."""
        return next((p for p in self.peers if p.by == by), None)


@dataclass
class AgencyResults:
    """Everything the results page and the scorecard show for one agency and round."""

    round: Round
    response: Response
    agency: Agency
    questionnaire: Questionnaire
    overall: Measure
    dimensions: list[Measure]
    peers_visible: bool
    previous_round: Round | None
    comparability: str | None
    lifts: dict[str, Lift] = field(default_factory=dict)
    #: The parsed answers the figures come from: as answered, and with verified values.
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    verified_answers: dict[str, AnswerValue] = field(default_factory=dict)

    @property
    def measures(self) -> list[Measure]:
        """The overall measure, then each dimension in questionnaire order."""
        return [self.overall, *self.dimensions]

    @property
    def differs(self) -> bool:
        """Whether any verified figure differs from the self-assessed one."""
        return any(m.differs for m in self.measures)

    @property
    def accepted(self) -> bool:
        """Whether the response is in the benchmark population."""
        return self.response.status == "accepted"

    def level(self, code: str | None) -> Level | None:
        """The questionnaire's level of that code."""
        return next((lv for lv in self.questionnaire.levels if lv.code == code), None)

    def dimension_title(self, code: str, lang: str) -> str:
        """A dimension's title in ``lang`` (the overall measure has none)."""
        dim = next((d for d in self.questionnaire.dimensions if d.code == code), None)
        return dim.title.get(lang) if dim is not None else code

    def radar(self, by: str = PRIMARY_GROUPING) -> dict[str, Any]:
        """Radar data: dimension codes, the agency's scores, the group's median and best.

        The one data function behind the web radar and the PDF's SVG radar.
        """
        data: dict[str, Any] = {
            "dimensions": [m.code for m in self.dimensions],
            "agency": [m.score for m in self.dimensions],
            "median": [],
            "best": [],
            "group": None,
        }
        if self.peers_visible:
            for m in self.dimensions:
                peer = m.peer(by)
                data["median"].append(peer.median if peer else None)
                data["best"].append(peer.best if peer else None)
                if peer and data["group"] is None:
                    data["group"] = peer.group
        return data

    def as_json(self) -> dict[str, Any]:
        """The scores as a plain record (the scorecard's JSON attachment, exports)."""

        def measure(m: Measure) -> dict[str, Any]:
            item: dict[str, Any] = {
                "score": m.score,
                "level": m.level,
                "self_assessed": {"score": m.self_score, "level": m.self_level},
            }
            if self.previous_round is not None:
                item["previous"] = m.previous
                item["change"] = m.change
            if self.peers_visible:
                item["peers"] = [
                    {
                        "by": p.by,
                        "group": p.group,
                        "n": p.n,
                        "rank": p.rank,
                        "percentile": p.percentile,
                        "median": p.median,
                        "best": p.best,
                    }
                    for p in m.peers
                ]
            return item

        return {
            "round": {"id": self.round.id, "name": self.round.name,
                      "fiscal_year": self.round.fiscal_year, "status": self.round.status},
            "questionnaire": {"code": self.questionnaire.code,
                              "version": self.questionnaire.version},
            "agency": {"code": self.agency.code, "name_th": self.agency.name_th,
                       "name_en": self.agency.name_en, "type": self.agency.type},
            "status": self.response.status,
            "completeness": float(self.response.completeness),
            "overall": measure(self.overall),
            "dimensions": {m.code: measure(m) for m in self.dimensions},
            "previous_round": self.previous_round.id if self.previous_round else None,
            "comparability": self.comparability,
        }  # fmt: skip


class RoundContext:
    """A round's tables, loaded once, for the results of any of its agencies."""

    def __init__(self, round_: Round, *, peers_visible: bool, bulk: bool = False) -> None:
        """``bulk``: results of many agencies will be asked for, so the benchmark of every
        group is computed once up front instead of the groups of one agency each time."""
        self.round = round_
        self.peers_visible = peers_visible
        self.data = reports.load(round_)
        self.previous_round = reports.previous_round(round_)
        self._before: reports.RoundResults | None = None
        self._trend: pd.DataFrame | None = None
        self._figures: dict[str, dict[str, list[PeerFigures]]] | None = None
        self._changes: dict[str, pd.DataFrame] | None = None
        self._bulk = bulk
        if bulk and peers_visible:
            self._figures = _peer_figures(reports.benchmark_frame(self.data, reports.GROUPINGS))

    def trend(self) -> pd.DataFrame | None:
        """Trend rows (§8) of every agency against the previous round, computed once."""
        if self.previous_round is None:
            return None
        if self._trend is None:
            self._before = reports.load(self.previous_round)
            self._trend = trend(
                self.data.results("verified", accepted_only=False),
                self._before.results("verified"),
                self.data.questionnaire,
                self._before.questionnaire,
            )
        return self._trend

    def peers(self, code: str) -> dict[str, list[PeerFigures]]:
        """Peer figures per measure for one agency, in every group it belongs to."""
        data = self.data
        if code not in data.agencies.index:
            return {}
        if self._figures is not None and code in self._figures:
            return self._figures[code]
        accepted = data.accepted
        population = set(accepted) | {code}
        memberships = []
        for by in reports.GROUPINGS:
            mine = data.groups(by, [code])
            if mine.empty:
                continue
            members = data.groups(by, population)
            members = members[members["group"].isin(mine["group"])]
            memberships.append(members)
        if not memberships:
            return {}
        groups = pd.concat(memberships, ignore_index=True)
        verified = data.results("verified", accepted_only=False)
        verified = verified[verified["agency"].isin(set(groups["agency"]))]
        included = code in accepted
        return self._collect(
            benchmark(verified, groups), code, included=included, verified=verified, groups=groups
        )

    @staticmethod
    def _collect(
        figures: pd.DataFrame,
        code: str,
        *,
        included: bool,
        verified: pd.DataFrame | None = None,
        groups: pd.DataFrame | None = None,
    ) -> dict[str, list[PeerFigures]]:
        """Peer figures per measure from benchmark rows of the agency's groups.

        An agency outside the population (not ``included``; ``verified`` and ``groups``
        given) gets the group's figures computed without it, and no rank.
        """
        out: dict[str, list[PeerFigures]] = {}
        order = {by: i for i, by in enumerate(reports.GROUPINGS)}
        for (by, group, measure), rows in figures.groupby(["by", "group", "measure"], sort=False):
            own = rows[rows["agency"] == code]
            if own.empty:
                continue
            row = own.iloc[0]
            if included or verified is None or groups is None:
                figure = _figures(by, group, row, row)
            else:
                # Not in the population: the group's figures without this agency.
                others = benchmark(
                    verified[(verified["agency"] != code) & (verified["measure"] == measure)],
                    groups[(groups["by"] == by) & (groups["group"] == group)],
                )
                if others.empty:
                    continue
                figure = _figures(by, group, others.iloc[0], None)
            out.setdefault(str(measure), []).append(figure)
        for items in out.values():
            items.sort(key=lambda p: (order[p.by], p.group))
        return out

    def _trend_rows(self, trend: pd.DataFrame, code: str) -> pd.DataFrame:
        """The agency's trend rows; in bulk, from the trend split by agency once."""
        if not self._bulk:
            return trend[trend["agency"] == code]
        if self._changes is None:
            self._changes = dict(tuple(trend.groupby("agency", sort=False)))  # type: ignore[arg-type]
        return self._changes.get(code, trend.iloc[0:0])

    def agency(self, response: Response) -> AgencyResults:
        """One agency's results (the response must belong to this round)."""
        data = self.data
        code = response.agency.code
        scores = data.wide("verified", accepted_only=False)
        levels = data.levels("verified", accepted_only=False)
        own_scores = data.wide("self", accepted_only=False)
        own_levels = data.levels("self", accepted_only=False)
        peers = self.peers(code) if self.peers_visible else {}
        trend = self.trend()
        changes: dict[str, tuple[float | None, float | None]] = {}
        comparability = None
        if trend is not None:
            for row in self._trend_rows(trend, code).itertuples(index=False):
                changes[str(row.measure)] = (_value(row.previous), _value(row.change))
                comparability = str(row.comparability)

        def measure(name: str) -> Measure:
            previous, change = changes.get(name, (None, None))
            return Measure(
                code=name,
                score=_cell(scores, code, name),
                level=_cell(levels, code, name),
                self_score=_cell(own_scores, code, name),
                self_level=_cell(own_levels, code, name),
                previous=previous,
                change=change,
                peers=tuple(peers.get(name, ())),
            )

        questionnaire = data.questionnaire
        own_answers, verified_answers = answer_sets(response)
        return AgencyResults(
            round=self.round,
            response=response,
            agency=response.agency,
            questionnaire=questionnaire,
            overall=measure(reports.OVERALL),
            dimensions=[measure(d.code) for d in questionnaire.dimensions],
            peers_visible=self.peers_visible,
            previous_round=self.previous_round,
            comparability=comparability,
            lifts=lift(questionnaire, verified_answers),
            answers=own_answers,
            verified_answers=verified_answers,
        )


def for_response(response: Response, *, peers_visible: bool) -> AgencyResults:
    """One agency's results, loading what it needs (a page or one scorecard)."""
    return RoundContext(response.round, peers_visible=peers_visible).agency(response)


def _peer_figures(frame: pd.DataFrame) -> dict[str, dict[str, list[PeerFigures]]]:
    """Benchmark rows of every group (§7) as each accepted agency's peer figures per
    measure, in one pass (a bulk export asks for all of them)."""
    order = {by: i for i, by in enumerate(reports.GROUPINGS)}
    out: dict[str, dict[str, list[PeerFigures]]] = {}
    for row in frame.to_dict("records"):
        figure = _figures(row["by"], row["group"], row, row)
        out.setdefault(str(row["agency"]), {}).setdefault(str(row["measure"]), []).append(figure)
    for measures in out.values():
        for items in measures.values():
            items.sort(key=lambda p: (order[p.by], p.group))
    return out


def _figures(by: str, group: str, row: Any, own: Any | None) -> PeerFigures:
    return PeerFigures(
        by=str(by),
        group=str(group),
        n=int(row["n"]),
        rank=int(own["rank"]) if own is not None else None,
        percentile=float(own["percentile"]) if own is not None else None,
        quartile=int(own["quartile"]) if own is not None else None,
        mean=float(row["mean"]),
        median=float(row["median"]),
        p25=float(row["p25"]),
        p75=float(row["p75"]),
        best=float(row["max"]),
        lowest=float(row["min"]),
    )


def _value(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def _cell(frame: pd.DataFrame, code: str, measure: str) -> Any:
    if code not in frame.index or measure not in frame.columns:
        return None
    value = frame.at[code, measure]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return round(float(value), 2) if not isinstance(value, str) else value
