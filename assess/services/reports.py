"""Results of a round as plain tables: what dashboards, exports, the API and PDFs read.

One query loads a round's responses, agencies and stored results (no ORM objects, so 8,000
agencies load in a few tens of milliseconds); everything else is pandas over that table and
the pure :mod:`assess.scoring` functions (benchmark §7, trend §8, what-if lift). Views and
PDFs never compute scores: they call these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import aliased

from assess.extensions import db
from assess.models import Agency, Response, Result, Round
from assess.questionnaires import Questionnaire
from assess.scoring.benchmark import BENCHMARK_COLUMNS, benchmark, level_distribution
from assess.scoring.trend import TREND_COLUMNS, trend
from assess.services.questionnaires import questionnaire_of

OVERALL = "overall"
#: Comparison groupings of scoring.md §7, in the order pages list them.
GROUPINGS = ("all", "type", "parent", "province", "tag")
#: Columns of the agency table (one row per response of the round).
AGENCY_COLUMNS = (
    "agency", "response_id", "status", "completeness", "updated_at", "submitted_at",
    "name_th", "name_en", "type", "parent", "parent_name_th", "parent_name_en", "province",
    "tags",
)  # fmt: skip


@dataclass
class RoundResults:
    """A round's responses and stored results, loaded once.

    ``agencies`` has one row per response (:data:`AGENCY_COLUMNS`, indexed by agency code).
    ``verified`` and ``self`` are long tables ``agency, measure, score, level`` (score a
    float with exactly the stored 2 decimals, missing when not scored) for every response
    that has results.
    """

    round: Round
    questionnaire: Questionnaire
    agencies: pd.DataFrame
    verified: pd.DataFrame
    self: pd.DataFrame
    _wide: dict[tuple[str, bool], pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def measures(self) -> list[str]:
        """``overall`` then the dimension codes, in questionnaire order."""
        return [OVERALL, *(d.code for d in self.questionnaire.dimensions)]

    @property
    def accepted(self) -> list[str]:
        """Codes of the agencies whose response was accepted: the benchmark population."""
        frame = self.agencies
        return frame.index[frame["status"] == "accepted"].tolist()

    def results(self, kind: str = "verified", *, accepted_only: bool = True) -> pd.DataFrame:
        """Long results of one kind, of the accepted responses unless told otherwise."""
        frame = self.verified if kind == "verified" else self.self
        if accepted_only:
            frame = frame[frame["agency"].isin(self.accepted)]
        return frame.reset_index(drop=True)

    def wide(self, kind: str = "verified", *, accepted_only: bool = True) -> pd.DataFrame:
        """agency × measure scores (floats, NaN when not scored), measures in order."""
        key = (kind, accepted_only)
        if key not in self._wide:
            long = self.results(kind, accepted_only=accepted_only)
            table = long.pivot(index="agency", columns="measure", values="score")
            self._wide[key] = table.reindex(columns=self.measures).astype("float64")
        return self._wide[key]

    def levels(self, kind: str = "verified", *, accepted_only: bool = True) -> pd.DataFrame:
        """agency × measure level codes (None when not placed), measures in order."""
        key = (f"{kind}-levels", accepted_only)
        if key not in self._wide:
            long = self.results(kind, accepted_only=accepted_only)
            table = long.pivot(index="agency", columns="measure", values="level")
            self._wide[key] = table.reindex(columns=self.measures)
        return self._wide[key]

    def groups(self, by: str, agencies: Iterable[str] | None = None) -> pd.DataFrame:
        """Comparison groups (``agency, by, group``) of one grouping, for the given agencies."""
        return peer_groups(self.agencies, by, agencies)


def load(round_: Round) -> RoundResults:
    """Load a round's responses, agencies and stored results in three queries.

    The responses come one row per agency and the results one row per response and kind, so
    every JSON value (tags, dimension scores) is decoded once. Stored scores are decimal
    strings with two places; ``float`` of such a string is the nearest double, exactly as
    the JSON numbers of the contract.
    """
    questionnaire = questionnaire_of(round_.questionnaire)
    parent = aliased(Agency)
    rows = db.session.execute(
        select(
            Agency.code,
            Response.id,
            Response.status,
            Response.completeness,
            Response.updated_at,
            Response.submitted_at,
            Agency.name_th,
            Agency.name_en,
            Agency.type,
            parent.code,
            parent.name_th,
            parent.name_en,
            Agency.province,
            cast(Agency.tags, Text),
        )
        .join(Agency, Response.agency_id == Agency.id)
        .outerjoin(parent, Agency.parent_id == parent.id)
        .where(Response.round_id == round_.id)
        .order_by(Agency.code)
    ).all()
    # Every JSON value is decoded in one call (8,000 calls of json.loads cost ten times more).
    tags = _json_column([row[13] for row in rows])
    table = pd.DataFrame(
        [
            (*row[:3], float(row[3] or 0), *row[4:9], row[9] or "", row[10] or "",
             row[11] or "", row[12] or "", list(tagged or []))
            for row, tagged in zip(rows, tags, strict=True)
        ],
        columns=list(AGENCY_COLUMNS),
    )  # fmt: skip
    table = table.set_index("agency", drop=False)
    code_of = dict(zip(table["response_id"], table["agency"], strict=True))

    dimension_codes = [d.code for d in questionnaire.dimensions]
    stored = db.session.execute(
        select(
            Result.response_id,
            Result.kind,
            Result.overall_score,
            Result.overall_level,
            cast(Result.dimensions, Text),
        )
        .join(Response, Result.response_id == Response.id)
        .where(Response.round_id == round_.id)
    ).all()
    # One JSON decode for every row's dimensions (faster than 16,000 decodes, and than
    # asking the database to take the fields out of its json column).
    decoded = _json_column([row[4] for row in stored])
    measures = [OVERALL, *dimension_codes]
    frames = {}
    for kind in ("verified", "self"):
        # Column by column, then row-major over responses × measures: one long row per
        # response and measure, in the order the rows came.
        chosen = [i for i, row in enumerate(stored) if row[1] == kind]
        dims = [decoded[i] or {} for i in chosen]
        scores = [[stored[i][2] for i in chosen]]
        levels = [[stored[i][3] for i in chosen]]
        for dim in dimension_codes:
            found = [d.get(dim) or {} for d in dims]
            scores.append([f.get("score") for f in found])
            levels.append([f.get("level") for f in found])
        n = len(chosen)
        frames[kind] = pd.DataFrame(
            {
                "agency": np.repeat(
                    np.array([code_of[stored[i][0]] for i in chosen], dtype=object), len(measures)
                ),
                "measure": np.tile(np.array(measures, dtype=object), n),
                "score": pd.to_numeric(
                    pd.Series(np.array(scores, dtype=object).T.reshape(n * len(measures)))
                ),
                "level": np.array(levels, dtype=object).T.reshape(n * len(measures)),
            }
        )
    columns = ["agency", "measure", "score", "level"]
    return RoundResults(
        round=round_,
        questionnaire=questionnaire,
        agencies=table,
        verified=_long(frames["verified"], columns),
        self=_long(frames["self"], columns),
    )


def _json_column(texts: Sequence[str | None]) -> list[Any]:
    """Stored JSON texts decoded with one call (``None`` for SQL NULL)."""
    return json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]")  # type: ignore[no-any-return]


def _long(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.loc[:, columns]
    frame["score"] = frame["score"].astype("float64")
    return frame


def peer_groups(agencies: pd.DataFrame, by: str, only: Iterable[str] | None = None) -> pd.DataFrame:
    """The comparison groups of one grouping (scoring.md §7) each agency belongs to.

    ``all``: one group; ``type``, ``parent`` (the parent agency's code), ``province``: the
    attribute, none when empty; ``tag``: every tag of the agency.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}: one of {', '.join(GROUPINGS)}")
    frame = agencies if only is None else agencies.loc[agencies.index.intersection(list(only))]
    codes = frame["agency"]
    if by == "all":
        groups = pd.DataFrame({"agency": codes, "group": "all"})
    elif by == "tag":
        exploded = frame[["agency", "tags"]].explode("tags").dropna()
        groups = exploded.rename(columns={"tags": "group"}).drop_duplicates()
    else:
        column = {"type": "type", "parent": "parent", "province": "province"}[by]
        groups = pd.DataFrame({"agency": codes, "group": frame[column]})
        groups = groups[groups["group"].fillna("") != ""]
    groups = groups.assign(by=by)
    return groups.loc[:, ["agency", "by", "group"]].reset_index(drop=True)


def benchmark_frame(data: RoundResults, by: str | Sequence[str] = "all") -> pd.DataFrame:
    """Benchmark figures (§7) of the accepted responses' verified results."""
    kinds = [by] if isinstance(by, str) else list(by)
    accepted = data.accepted
    groups = pd.concat([data.groups(b, accepted) for b in kinds], ignore_index=True)
    results = data.results("verified")
    # The figures sort and group by these text columns (some 300,000 rows at national scale
    # with every grouping): as categories with sorted categories they sort by small integer
    # codes in the same order, several times faster; the rows come back as text.
    text = {"agency": results, "measure": results, "by": groups, "group": groups}
    dtypes = {column: frame[column].dtype for column, frame in text.items()}
    for column, frame in text.items():
        frame[column] = frame[column].astype(pd.CategoricalDtype(sorted(frame[column].unique())))
    out = benchmark(results, groups)
    for column, dtype in dtypes.items():
        out[column] = out[column].astype(dtype)
    return out


def benchmark_records(data: RoundResults, by: str = "all") -> list[dict[str, Any]]:
    """The rows of ``assess benchmark --format json``: JSON numbers, ints, codes."""
    return records(benchmark_frame(data, by), BENCHMARK_COLUMNS)


def level_counts(data: RoundResults, by: str = "all") -> pd.DataFrame:
    """Level distribution (§7): ``by, group, measure, level, count`` over accepted responses."""
    levels = [level.code for level in data.questionnaire.levels]
    groups = data.groups(by, data.accepted)
    return level_distribution(data.results("verified"), levels, groups)


def previous_round(round_: Round) -> Round | None:
    """The round to compare with: the latest published round of an earlier fiscal year."""
    return db.session.scalar(
        select(Round)
        .where(
            Round.fiscal_year < round_.fiscal_year,
            Round.status == "published",
            Round.id != round_.id,
        )
        .order_by(Round.fiscal_year.desc(), Round.id.desc())
        .limit(1)
    )


def trend_frame(data: RoundResults, before: RoundResults) -> pd.DataFrame:
    """Trend rows (§8) between two rounds, verified results of accepted responses."""
    return trend(
        data.results("verified"),
        before.results("verified"),
        data.questionnaire,
        before.questionnaire,
    )


def trend_records(data: RoundResults, before: RoundResults) -> list[dict[str, Any]]:
    """The rows of ``assess trend --format json``."""
    return records(trend_frame(data, before), TREND_COLUMNS)


#: Columns that are whole numbers, and columns that are text, in report rows.
_INTEGER_COLUMNS = {"n", "rank", "quartile", "count"}
_TEXT_COLUMNS = {"agency", "by", "group", "measure", "level", "comparability", "status"}


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: ints, floats with the stored decimals, ``None`` when empty."""
    out = []
    for row in frame.loc[:, list(columns)].itertuples(index=False, name=None):
        item: dict[str, Any] = {}
        for key, value in zip(columns, row, strict=True):
            if value is None or (not isinstance(value, str | list) and pd.isna(value)):
                item[key] = None
            elif key in _INTEGER_COLUMNS:
                item[key] = int(value)
            elif key in _TEXT_COLUMNS:
                item[key] = str(value)
            else:
                item[key] = round(float(value), 2)
        out.append(item)
    return out
