"""One agency's results in a round: what its results page and its PDF scorecard show.

Scores and levels (verified, beside the self-assessed ones), the agency's rank, percentile
and peer figures in each comparison group it belongs to (scoring.md §7), the change from the
previous published round (§8), and what would lift each dimension to the next level (the
engine's what-if, :mod:`assess.scoring.whatif`). Everything comes from the stored results
through :mod:`assess.services.reports`; nothing here scores a response except the what-if.

For many agencies of one round (bulk scorecards) build one :class:`RoundContext` and call
:meth:`RoundContext.agency` for each: the round's tables are loaded, its comparison groups
indexed (:class:`PeerIndex`) and its trend computed once. The web pages and single
scorecards use a context kept per state of the round's data
(:func:`assess.reports.data.agency_results`).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from assess.models import Agency, Response, Round
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import AnswerValue
from assess.questionnaires.model import Level
from assess.scoring.benchmark import group_figures, round_div
from assess.scoring.whatif import Lift, lift
from assess.services import reports
from assess.services.results import answer_sets

#: The comparison group the radar chart and the scorecard's table use: agencies of the
#: same type (a department with departments, a province with provinces).
PRIMARY_GROUPING = "type"


#: The fewest agencies a comparison group must have for its figures to be shown to someone
#: who sees the other agencies anonymised (a coordinator, in a round that anonymises them).
#: In a smaller group a median and a best, beside one's own score, tell the others' scores,
#: and who is in a province or under a parent agency is public: together they would tell who
#: scored what.
MIN_ANONYMOUS_GROUP = 5


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


@dataclass(frozen=True)
class AgencyRecord:
    """The agency as the round's results show it: the record kept when they came out, else
    the agency list's (:func:`assess.services.reports.shown_records`), so that its names,
    type and parent read the same as the groups it is compared in."""

    code: str
    name_th: str
    name_en: str
    type: str
    parent: str  # the parent's code ("" for none)
    parent_name_th: str
    parent_name_en: str
    province: str

    def name(self, lang: str = "th") -> str:
        """The agency's name in ``lang``, falling back to the other language."""
        if lang == "en":
            return self.name_en or self.name_th
        return self.name_th or self.name_en

    def parent_name(self, lang: str = "th") -> str:
        """The parent agency's name in ``lang``, falling back to the other ("" for none)."""
        if lang == "en":
            return self.parent_name_en or self.parent_name_th
        return self.parent_name_th or self.parent_name_en

    @classmethod
    def of(cls, data: reports.RoundResults, agency: Agency) -> AgencyRecord:
        """The record of ``agency`` in the round of ``data`` (the agency's own, if the round's
        table does not hold it)."""
        if agency.code in data.agencies.index:
            row = data.agencies.loc[agency.code]
            return cls(
                code=agency.code,
                **{name: str(row[name]) for name in _RECORD_FIELDS},
            )
        return cls.now(agency)

    @classmethod
    def now(cls, agency: Agency) -> AgencyRecord:
        """The record of ``agency`` as the agency list has it now."""
        parent = agency.parent
        return cls(
            code=agency.code,
            name_th=agency.name_th,
            name_en=agency.name_en,
            type=agency.type,
            parent=parent.code if parent else "",
            parent_name_th=parent.name_th if parent else "",
            parent_name_en=parent.name_en if parent else "",
            province=agency.province or "",
        )


_RECORD_FIELDS = (
    "name_th", "name_en", "type", "parent", "parent_name_th", "parent_name_en", "province",
)  # fmt: skip


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
    #: The agency as the round shows it (None: as the agency list has it now).
    shown: AgencyRecord | None = None

    @property
    def record(self) -> AgencyRecord:
        """The agency as the round's results show it."""
        return self.shown if self.shown is not None else AgencyRecord.now(self.agency)

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
            if data["group"] is None:  # no figures of that group (left out, or none)
                data["median"], data["best"] = [], []
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
            "round": {"id": self.round.id, "name": self.round.name, "name_en": self.round.name_en,
                      "fiscal_year": self.round.fiscal_year, "status": self.round.status},
            "questionnaire": {"code": self.questionnaire.code,
                              "version": self.questionnaire.version},
            "agency": {"code": self.record.code, "name_th": self.record.name_th,
                       "name_en": self.record.name_en, "type": self.record.type},
            "status": self.response.status,
            "completeness": float(self.response.completeness),
            "overall": measure(self.overall),
            "dimensions": {m.code: measure(m) for m in self.dimensions},
            "previous_round": self.previous_round.id if self.previous_round else None,
            "comparability": self.comparability,
        }  # fmt: skip


def without_small_groups(result: AgencyResults) -> AgencyResults:
    """``result`` as someone who sees the other agencies anonymised gets it: the figures
    of comparison groups of fewer than :data:`MIN_ANONYMOUS_GROUP` agencies left out."""

    def kept(measure: Measure) -> Measure:
        peers = tuple(p for p in measure.peers if p.n >= MIN_ANONYMOUS_GROUP)
        return measure if len(peers) == len(measure.peers) else replace(measure, peers=peers)

    return replace(
        result, overall=kept(result.overall), dimensions=[kept(m) for m in result.dimensions]
    )


class PeerIndex:
    """Every comparison group's sorted verified scores (§7), so that one agency's peer
    figures come from a few binary searches instead of a benchmark of its groups.

    Who is in which group is laid out when the index is made (at 8,000 agencies some 20
    ms); each group's sorted scores and figures are made the first time an agency of it
    asks (a few milliseconds for the agencies' own groups: everyone, their type, parent,
    province and tags), or all at once by :meth:`figure_all` (65–80 ms for the 187 groups
    of a national round, where the benchmark of one agency's groups took 150 ms and the
    figures of every agency at once 250–300 ms and 124 MB). A review or a verified value
    then has only the groups of the agencies it moved figured again (:meth:`updated`).
    The figures are those :func:`assess.scoring.benchmark.benchmark` gives, to the
    hundredth: the same whole-number arithmetic on the same sorted hundredths.
    """

    def __init__(self, data: reports.RoundResults) -> None:
        """The groups of the accepted responses of ``data``, laid out, none yet figured."""
        self._data = data
        self._accepted = set(data.accepted)
        self._wide = wide = data.wide("verified")
        self._whole, self._scored = _hundredths(wide)
        # Each group's figures per measure, once figured ({} for a group with no member).
        self._groups: dict[tuple[str, str], dict[str, _Group]] = {}
        # Every group's agencies (members or not). A grouping lists each agency and group
        # once (peer_groups).
        self._members: dict[tuple[str, str], npt.NDArray[np.object_]] = {}
        # Per grouping, the agencies it lists in code order, each one's group as a number,
        # and the names of the groups: an agency's groups are found by binary search.
        self._layout: dict[str, tuple[npt.NDArray[np.object_], npt.NDArray[np.intp], list[str]]]
        self._layout = {}
        for by in reports.GROUPINGS:
            everyone = data.groups(by)
            codes = everyone["agency"].to_numpy(dtype=object)
            labels = np.array([str(group) for group in everyone["group"].tolist()], dtype=object)
            if len(codes) > 1 and not (codes[:-1] <= codes[1:]).all():
                order = np.argsort(codes, kind="stable")
                codes, labels = codes[order], labels[order]
            # Each row's group as a number; the rows of each group together.
            numbers, names = pd.factorize(labels)
            names = names.tolist()
            order = np.argsort(numbers, kind="stable")
            bounds = np.searchsorted(numbers[order], np.arange(len(names) + 1))
            for k, name in enumerate(names):
                self._members[(by, name)] = codes[order[bounds[k] : bounds[k + 1]]]
            self._layout[by] = (codes, numbers, names)

    def memberships(self, code: str) -> list[tuple[str, str]]:
        """The groups an agency belongs to (a member or not), groupings in the order of
        §7, each grouping's in the order it lists them."""
        out = []
        for by, (codes, numbers, names) in self._layout.items():
            start = int(np.searchsorted(codes, code, side="left"))
            end = int(np.searchsorted(codes, code, side="right"))
            out += [(by, names[number]) for number in numbers[start:end].tolist()]
        return out

    def figure_all(self) -> None:
        """Figure every group not figured yet (a process that will serve many agencies: the
        warm-up, bulk scorecards), a grouping and measure at a time."""
        measures = list(self._wide.columns)
        whole, scored = self._whole, self._scored
        for by, (codes, numbers, names) in self._layout.items():
            keys = [(by, name) for name in names]
            if all(key in self._groups for key in keys):
                continue
            figured: dict[tuple[str, str], dict[str, _Group]] = {key: {} for key in keys}
            # The members' rows in the table of scores.
            rows = _member_rows(self._wide, codes, self._accepted)
            numbers, rows = numbers[rows >= 0], rows[rows >= 0]
            for j, measure in enumerate(measures):
                # Each group's scores of the measure, sorted, as one slice of one array:
                # ordered by group, then by score.
                kept = scored[rows, j]
                group, score = numbers[kept], whole[rows[kept], j]
                order = np.lexsort((score, group))
                group, score = group[order], score[order]
                bounds = np.searchsorted(group, np.arange(len(names) + 1))
                for k, key in enumerate(keys):
                    if bounds[k] < bounds[k + 1]:
                        figured[key][str(measure)] = _Group.of(score[bounds[k] : bounds[k + 1]])
            for key, figures in figured.items():
                self._groups.setdefault(key, figures)

    def group(self, key: tuple[str, str]) -> dict[str, _Group]:
        """One group's figures per measure (figured now if not yet; ``{}`` for a group
        with no member)."""
        found = self._groups.get(key)
        if found is None:
            rows = _member_rows(self._wide, self._members[key], self._accepted)
            rows = rows[rows >= 0]
            found = {}
            for j, measure in enumerate(self._wide.columns):
                column = np.sort(self._whole[rows[self._scored[rows, j]], j])
                if len(column):
                    found[str(measure)] = _Group.of(column)
            # Two threads may both figure it: the same figures, either kept.
            found = self._groups.setdefault(key, found)
        return found

    def on(self, data: reports.RoundResults) -> PeerIndex:
        """This index for a later state of the same round's data in which no accepted
        response and no agency record changed (the groups and their figures stand, and
        are shared with this index; an agency's own scores are read from ``data``)."""
        index = copy.copy(self)
        index._data = data
        return index

    def updated(self, data: reports.RoundResults) -> PeerIndex:
        """This index for a later state of the same round's data in which no agency record
        changed but accepted responses did (a review, a verified value, a round reopened):
        the groups of every agency that joined or left the accepted responses or whose
        verified scores moved are left to be figured again, the others kept. The same
        index as one made anew from ``data``, in a few milliseconds."""
        wide = data.wide("verified")
        before = self._wide
        if list(wide.columns) != list(before.columns):
            return PeerIndex(data)
        moved = set(wide.index.symmetric_difference(before.index).tolist())
        common = wide.index.intersection(before.index)
        now = wide.loc[common].to_numpy(dtype=np.float64)
        then = before.loc[common].to_numpy(dtype=np.float64)
        same = (now == then) | (np.isnan(now) & np.isnan(then))
        moved.update(common[~same.all(axis=1)].tolist())
        if len(moved) > len(wide) // 4:  # the round scored again: every group moved
            return PeerIndex(data)
        index = copy.copy(self)
        index._data, index._accepted, index._wide = data, set(data.accepted), wide
        index._whole, index._scored = _hundredths(wide)
        stale = {key for code in moved for key in self.memberships(code)}
        index._groups = {key: figures for key, figures in self._groups.items() if key not in stale}
        return index

    def figures(self, code: str) -> dict[str, list[PeerFigures]]:
        """Peer figures per measure for one agency (any response of the round), in every
        group it belongs to, groupings in the order of §7. An agency outside the population
        (its response not accepted) gets each group's figures without a rank."""
        data = self._data
        if code not in data.agencies.index:
            return {}
        scores = data.wide("verified", accepted_only=False)
        if code not in scores.index:
            return {}
        mine = scores.loc[code]
        included = code in self._accepted
        out: dict[str, list[PeerFigures]] = {}
        for by, group in self.memberships(code):
            groups = self.group((by, group))
            for measure, score in mine.items():
                figures = groups.get(str(measure))
                if figures is None:
                    continue
                # No score of its own (nothing applies): the group's figures, without a place.
                ranked = included and not pd.isna(score)
                place = figures.place(int(np.rint(float(score) * 100))) if ranked else None
                out.setdefault(str(measure), []).append(figures.peer(by, group, place))
        order = {by: i for i, by in enumerate(reports.GROUPINGS)}
        for items in out.values():
            items.sort(key=lambda p: (order[p.by], p.group))
        return out


def _hundredths(wide: pd.DataFrame) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """An agency × measure table of scores as whole hundredths, and where it is scored."""
    values = wide.to_numpy(dtype=np.float64)
    scored = ~np.isnan(values)
    return np.rint(np.where(scored, values, 0) * 100).astype(np.int64), scored


def _member_rows(
    wide: pd.DataFrame, codes: npt.NDArray[np.object_], accepted: set[str]
) -> npt.NDArray[np.intp]:
    """The rows in ``wide`` of the agencies ``codes`` that are members of their groups
    (accepted, with verified scores); -1 for the others."""
    rows = wide.index.get_indexer(codes)
    rows[~pd.Index(codes).isin(accepted)] = -1
    return rows


@dataclass(frozen=True)
class _Group:
    """One group's scores for one measure as sorted whole hundredths, and its figures."""

    scores: npt.NDArray[np.int64]
    mean: int
    median: int
    p25: int
    p75: int

    @classmethod
    def of(cls, scores: npt.NDArray[np.int64]) -> _Group:
        """The figures of sorted, non-empty hundredths (§7: quartiles by linear
        interpolation, everything rounded half away from zero)."""
        mean, p25, median, p75 = group_figures(scores)
        return cls(scores, mean, median, p25, p75)

    def place(self, score: int) -> tuple[int, int, int]:
        """Rank, percentile (hundredths) and quartile of a member's score."""
        n = len(self.scores)
        below = int(np.searchsorted(self.scores, score, side="left"))
        equal = int(np.searchsorted(self.scores, score, side="right")) - below
        quartile = (
            1 if score >= self.p75 else 2 if score >= self.median else 3 if score >= self.p25 else 4
        )
        return n - below - equal + 1, round_div(5000 * (2 * below + equal), n), quartile

    def peer(self, by: str, group: str, place: tuple[int, int, int] | None) -> PeerFigures:
        """The figures of this group for a member (``place``) or an outsider (``None``)."""
        return PeerFigures(
            by=by,
            group=group,
            n=len(self.scores),
            rank=place[0] if place else None,
            percentile=place[1] / 100 if place else None,
            quartile=place[2] if place else None,
            mean=self.mean / 100,
            median=self.median / 100,
            p25=self.p25 / 100,
            p75=self.p75 / 100,
            best=int(self.scores[-1]) / 100,
            lowest=int(self.scores[0]) / 100,
        )


class RoundContext:
    """A round's tables, loaded once, for the results of any of its agencies."""

    def __init__(
        self,
        round_: Round,
        *,
        peers_visible: bool,
        data: reports.RoundResults | None = None,
        previous: tuple[Round, reports.RoundResults] | None = None,
    ) -> None:
        """The round's tables are loaded unless given (``data``; ``previous``: the round to
        compare with and its tables, given with ``data``)."""
        self.round = round_
        self.peers_visible = peers_visible
        if data is None:
            self.data = reports.load(round_)
            self.previous_round = reports.previous_round(round_)
            self._before: reports.RoundResults | None = None
        else:
            self.data = data
            self.previous_round, self._before = previous or (None, None)
        self._trend: pd.DataFrame | None = None
        self._index: PeerIndex | None = None
        # The trend's agency column when in code order, else the rows of each agency.
        self._rows: npt.NDArray[np.object_] | dict[str, npt.NDArray[np.intp]] | None = None

    def keeping(self, earlier: RoundContext | None) -> RoundContext:
        """This context, with the comparison groups' index of ``earlier`` (the same round's,
        for an earlier state of its data) when no agency record changed since
        (:attr:`~reports.RoundResults.agency_state`): as it was when no accepted response
        changed either (:attr:`reports.RoundResults.accepted_state`), else brought up to
        date (:meth:`PeerIndex.updated`). The trend is made again: it holds every
        response's scores."""
        if (
            earlier is not None
            and earlier._index is not None
            and earlier.peers_visible == self.peers_visible
            and earlier.data.agency_state is self.data.agency_state
        ):
            if earlier.data.accepted_state is self.data.accepted_state:
                self._index = earlier._index.on(self.data)
            else:  # a review or a verified value: the groups it moved figured again
                self._index = earlier._index.updated(self.data)
        return self

    def trend(self) -> pd.DataFrame | None:
        """Trend rows (§8) of every agency against the previous round, computed once."""
        if self.previous_round is None:
            return None
        if self._trend is None:
            if self._before is None:
                self._before = reports.load(self.previous_round)
            self._trend = reports.trend_frame(self.data, self._before, accepted_only=False)
        return self._trend

    def prepare(self) -> None:
        """Index the comparison groups and compute the trend now, not for the first agency."""
        self.trend()
        if self.peers_visible:
            if self._index is None:
                self._index = PeerIndex(self.data)
            self._index.figure_all()

    def peers(self, code: str) -> dict[str, list[PeerFigures]]:
        """Peer figures per measure for one agency, in every group it belongs to."""
        if self._index is None:
            self._index = PeerIndex(self.data)
        return self._index.figures(code)

    def _trend_rows(self, trend: pd.DataFrame, code: str) -> pd.DataFrame:
        """The agency's trend rows. The trend comes in agency code order (the tables it is
        made from are): two binary searches in its agency column, which is read once (at
        8,000 agencies 1 ms, where finding every agency's rows took 8-15 ms). Otherwise the
        rows of each agency are found once."""
        if self._rows is None:
            column = trend["agency"]
            if column.is_monotonic_increasing:
                self._rows = column.to_numpy(dtype=object)
            else:
                self._rows = trend.groupby("agency", sort=False).indices
        if isinstance(self._rows, dict):
            rows = self._rows.get(code)
            return trend.iloc[0:0] if rows is None else trend.take(rows)
        start = int(np.searchsorted(self._rows, code, side="left"))
        end = int(np.searchsorted(self._rows, code, side="right"))
        return trend.iloc[start:end]

    def agency(self, response: Response, previous_round: Round | None = None) -> AgencyResults:
        """One agency's results (the response must belong to this round). The rounds in them
        are the response's and ``previous_round`` (or the context's): those of the caller's
        session, for a context kept longer than one request."""
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
            round=response.round,
            response=response,
            agency=response.agency,
            questionnaire=questionnaire,
            overall=measure(reports.OVERALL),
            dimensions=[measure(d.code) for d in questionnaire.dimensions],
            peers_visible=self.peers_visible,
            previous_round=previous_round or self.previous_round,
            comparability=comparability,
            lifts=_lifts(questionnaire, verified_answers),
            answers=own_answers,
            verified_answers=verified_answers,
            shown=AgencyRecord.of(data, response.agency),
        )


#: What would lift each dimension, by questionnaire and answers: a results page asks on
#: every view (20-30 ms for the built-in questionnaire's 150 questions), and the answers
#: change far less often. Each entry keeps its questionnaire, so that its id stays its own.
_LIFTS: OrderedDict[tuple[int, frozenset[Any]], tuple[Questionnaire, dict[str, Lift]]]
_LIFTS = OrderedDict()
#: Entries kept (some 35 KB each at 150 questions: 9 MB a process).
LIFTS_KEPT = 256
_lifts_lock = threading.Lock()


def _lifts(questionnaire: Questionnaire, answers: Mapping[str, AnswerValue]) -> dict[str, Lift]:
    """:func:`~assess.scoring.whatif.lift` of ``answers``, figured once per set of answers."""
    key = (id(questionnaire), frozenset(answers.items()))
    with _lifts_lock:
        found = _LIFTS.get(key)
        if found is not None and found[0] is questionnaire:
            _LIFTS.move_to_end(key)
            return dict(found[1])
    lifts = lift(questionnaire, answers)
    with _lifts_lock:
        _LIFTS[key] = (questionnaire, lifts)
        while len(_LIFTS) > LIFTS_KEPT:
            _LIFTS.popitem(last=False)
    return dict(lifts)


def for_response(response: Response, *, peers_visible: bool) -> AgencyResults:
    """One agency's results, loading what it needs (a page or one scorecard)."""
    return RoundContext(response.round, peers_visible=peers_visible).agency(response)


def _value(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def _cell(frame: pd.DataFrame, code: str, measure: str) -> Any:
    if code not in frame.index or measure not in frame.columns:
        return None
    value = frame.at[code, measure]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return round(float(value), 2) if not isinstance(value, str) else value
