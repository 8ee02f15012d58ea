"""The dashboards' filters and league table, as pure functions over a round's tables.

Filters (agency type, parent agency, province, tag) choose a population among the round's
agencies; every section of the dashboards shows that population. The league table ranks the
filtered accepted responses by their verified overall score with the rule of scoring.md §7
(1 + the number of agencies scoring strictly more: ties share a rank, 1, 2, 2, 4), sorts by
any column and cuts one page. Nothing here reads the database or the request.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assess import provinces, thai
from assess.models import AGENCY_TYPES

#: Filter fields, in the order the form shows them.
FILTER_FIELDS = ("type", "parent", "province", "tag")
PER_PAGE = 50
#: Prefix of the score columns in :func:`league_frame`.
MEASURE = "score:"


def agency_name(row: Mapping[str, Any], lang: str) -> str:
    """An agency's name in the page's language (Thai when it has no English name)."""
    if lang == "en" and row.get("name_en"):
        return str(row["name_en"])
    return str(row.get("name_th") or row.get("name_en") or row.get("agency") or "")


@dataclass(frozen=True)
class Options:
    """The choices of the filter form, taken from the round's agencies."""

    types: list[str]
    parents: list[tuple[str, str]]
    provinces: list[str]
    tags: list[str]

    @classmethod
    def of(cls, agencies: pd.DataFrame, lang: str) -> Options:
        """The types, parents (code, name), provinces and tags present in the round."""
        order = {t: i for i, t in enumerate(AGENCY_TYPES)}
        # Plain lists: iterating pandas' string arrays costs ten times more.
        types = sorted(
            set(agencies["type"].dropna().tolist()) - {""}, key=lambda t: (order.get(t, 99), t)
        )
        parents = (
            agencies.loc[
                agencies["parent"].fillna("") != "", ["parent", "parent_name_th", "parent_name_en"]
            ]
            .drop_duplicates("parent")
            .itertuples(index=False, name=None)
        )
        named = [
            (code, agency_name({"name_th": th, "name_en": en, "agency": code}, lang))
            for code, th, en in parents
        ]
        provinces = sorted(set(agencies["province"].dropna().tolist()) - {""})
        tags = sorted({t for tags in agencies["tags"].tolist() for t in (tags or [])})
        return cls(
            types=types,
            parents=sorted(named, key=lambda p: (thai.sort_key(p[1].casefold()), p[0])),
            provinces=provinces,
            tags=tags,
        )


@dataclass(frozen=True)
class Filters:
    """The population chosen by the filter form (empty fields choose everyone)."""

    type: str = ""
    parent: str = ""
    province: str = ""
    tag: str = ""
    #: The filters given (name, value) with a value no agency of the round has: left out,
    #: and the page says so (a mistyped link would otherwise show everyone as if filtered).
    ignored: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str], options: Options) -> Filters:
        """Filters from a query string; a value the round does not have is left out (and
        listed in ``ignored``)."""
        allowed = {
            "type": set(options.types),
            "parent": {code for code, _name in options.parents},
            "province": set(options.provinces),
            "tag": set(options.tags),
        }
        chosen = {}
        ignored = []
        for name in FILTER_FIELDS:
            given = value = (args.get(name) or "").strip()
            if name == "province" and value not in allowed[name]:
                value = provinces.canonical(value)  # "เชียงใหม่" for the stored "Chiang Mai"
            chosen[name] = value if value in allowed[name] else ""
            if given and not chosen[name]:
                ignored.append((name, given[:100]))
        return cls(**chosen, ignored=tuple(ignored))

    def args(self) -> dict[str, str]:
        """The non-empty filters, for links that keep them."""
        return {name: getattr(self, name) for name in FILTER_FIELDS if getattr(self, name)}

    def apply(self, agencies: pd.DataFrame) -> pd.DataFrame:
        """The rows of the agency table (``RoundResults.agencies``) in the population."""
        if not self.args():
            return agencies
        mask = np.ones(len(agencies), dtype=bool)
        for name in ("type", "parent", "province"):
            value = getattr(self, name)
            if value:
                mask &= (agencies[name] == value).to_numpy()
        if self.tag:
            mask &= np.fromiter(
                (self.tag in (t or ()) for t in agencies["tags"]), bool, len(agencies)
            )
        return agencies[mask]


@dataclass(frozen=True)
class Page:
    """One page of a list, with what the ``pager`` macro reads (Flask-SQLAlchemy's names)."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first item (1-based; 0 when there are none)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        """The position of the page's last item."""
        return min(self.total, self.page * self.per_page)

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        """The number of the page before, if any."""
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        """The number of the page after, if any."""
        return self.page + 1 if self.has_next else None

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> Iterator[int | None]:
        """Page numbers to link, ``None`` where a gap is (as Flask-SQLAlchemy yields them)."""
        pages = self.pages
        shown = sorted(
            {
                *range(1, min(left_edge, pages) + 1),
                *range(max(1, self.page - left_current), min(pages, self.page + right_current) + 1),
                *range(max(1, pages - right_edge + 1), pages + 1),
            }
        )
        previous = 0
        for number in shown:
            if number > previous + 1:
                yield None
            yield number
            previous = number


def paginate(frame: pd.DataFrame, page: int, per_page: int = PER_PAGE) -> tuple[pd.DataFrame, Page]:
    """One page of a table's rows; a page past the end shows the last one."""
    pages = max(1, math.ceil(len(frame) / per_page))
    page = min(max(1, page), pages)
    rows = frame.iloc[(page - 1) * per_page : page * per_page]
    return rows, Page(items=[], page=page, per_page=per_page, total=len(frame))


def ranks(scores: pd.Series) -> pd.Series:
    """§7 ranks of two-decimal scores: 1 + how many score strictly more (missing: none)."""
    hundredths = np.rint(scores.to_numpy(dtype="float64") * 100)
    return pd.Series(hundredths, index=scores.index).rank(method="min", ascending=False)


@dataclass(frozen=True)
class Sort:
    """A sort of the league table: a column key and a direction."""

    key: str = "rank"
    descending: bool = False

    @staticmethod
    def default_descending(key: str) -> bool:
        """Scores and changes sort best first; rank and name from the top of the alphabet."""
        return key not in ("rank", "name")

    @classmethod
    def from_args(cls, args: Mapping[str, str], keys: Sequence[str]) -> Sort:
        """The sort asked for in a query string (``sort``, ``order``); rank when unknown."""
        key = args.get("sort") or "rank"
        if key not in keys:
            key = "rank"
        order = args.get("order")
        descending = order == "desc" if order in ("asc", "desc") else cls.default_descending(key)
        return cls(key, descending)

    def next_for(self, key: str) -> Sort:
        """The sort a click on a column header asks for: the other way round if the table
        is already sorted by it, else the column's natural direction."""
        if key == self.key:
            return Sort(key, not self.descending)
        return Sort(key, self.default_descending(key))

    def args(self) -> dict[str, str]:
        """Query arguments of this sort."""
        return {"sort": self.key, "order": "desc" if self.descending else "asc"}

    def aria(self, key: str) -> str | None:
        """The ``aria-sort`` value of a column header."""
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"


@dataclass
class LeagueRow:
    """One agency of the league table."""

    agency: str
    name: str
    type: str
    province: str
    rank: int | None
    scores: dict[str, float | None]
    levels: dict[str, str | None]
    change: float | None
    flags: set[str] = field(default_factory=set)
    #: Each score as shown: two decimals, "–" when not scored.
    texts: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        """Format the scores once (a page shows 500 of them)."""
        self.texts = {m: "–" if v is None else f"{v:.2f}" for m, v in self.scores.items()}


@dataclass
class League:
    """One page of the league table and the figures around it."""

    rows: list[LeagueRow]
    page: Page
    sort: Sort
    invited: int
    accepted: int


def sort_keys(measures: Sequence[str]) -> list[str]:
    """The columns the league table sorts by."""
    return ["rank", "name", *measures, "change"]


def league_frame(
    agencies: pd.DataFrame,
    verified: pd.DataFrame,
    change: pd.Series,
    measures: Sequence[str],
    sort: Sort,
    lang: str,
) -> pd.DataFrame:
    """The whole league table of a population, sorted: one row per accepted agency with its
    rank (§7, within the population), name, scores per measure and overall change.

    ``agencies``: the filtered agency table; ``verified``: agency × measure verified scores
    of accepted responses; ``change``: overall change per agency (may be empty).
    """
    accepted = agencies[agencies["status"] == "accepted"]
    codes = accepted.index
    scores = verified.reindex(index=codes, columns=list(measures))
    if lang == "en":
        names = accepted["name_en"].where(accepted["name_en"].fillna("") != "", accepted["name_th"])
    else:
        names = accepted["name_th"]
    # Measures are prefixed so that a dimension code can never clash with another column.
    frame = pd.DataFrame(
        {
            "agency": codes.to_numpy(),
            "name": names.to_numpy(),
            "type": accepted["type"].to_numpy(),
            "province": accepted["province"].to_numpy(),
            "rank": ranks(scores[measures[0]]).to_numpy(),
            "change": change.reindex(codes).to_numpy(dtype="float64"),
            **{MEASURE + m: scores[m].to_numpy(dtype="float64") for m in measures},
        },
        index=codes,
    )
    # Ties fall back to the agency code (missing values always last), so the order is the
    # same on every request and pages never overlap: the rows are in code order, and a
    # stable sort keeps that order among equals in either direction.
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    column = frame[sort.key if sort.key in ("rank", "name", "change") else MEASURE + sort.key]
    if sort.key == "name":  # in Thai dictionary order (thai.sort_key)
        column = column.fillna("").str.casefold().map(thai.sort_key)
    positions = column.reset_index(drop=True).sort_values(
        ascending=not sort.descending, na_position="last", kind="stable"
    )
    return frame.iloc[positions.index.to_numpy()]


def league(
    agencies: pd.DataFrame,
    verified: pd.DataFrame,
    levels: pd.DataFrame,
    change: pd.Series,
    flags: Mapping[str, set[str]],
    measures: Sequence[str],
    *,
    sort: Sort,
    page: int,
    lang: str,
    per_page: int = PER_PAGE,
) -> League:
    """One page of the league table of a population (see :func:`league_frame`), with the
    level of each score, the kinds of flag each agency has (``flags``: agency → kinds), and
    how many agencies of the population were invited and accepted."""
    frame = league_frame(agencies, verified, change, measures, sort, lang)
    rows, pager = paginate(frame, page, per_page)
    shown = rows.index
    # Plain arrays for the page's 50 rows: label lookups per cell cost more than the rest.
    level_table = levels.reindex(index=shown, columns=list(measures)).to_numpy(dtype=object)
    score_table = rows[[MEASURE + m for m in measures]].to_numpy(dtype="float64")
    out = []
    for i, (code, name, kind, province, rank, moved) in enumerate(
        rows[["agency", "name", "type", "province", "rank", "change"]].itertuples(
            index=False, name=None
        )
    ):
        out.append(
            LeagueRow(
                agency=code,
                name=name,
                type=kind,
                province=province,
                rank=None if np.isnan(rank) else int(rank),
                scores={
                    m: None if np.isnan(v) else float(v)
                    for m, v in zip(measures, score_table[i], strict=True)
                },
                levels={
                    m: None if pd.isna(v) else str(v)
                    for m, v in zip(measures, level_table[i], strict=True)
                },
                change=None if np.isnan(moved) else float(moved),
                flags=set(flags.get(code, ())),
            )
        )
    return League(
        rows=out,
        page=Page(items=out, page=pager.page, per_page=per_page, total=pager.total),
        sort=sort,
        invited=len(agencies),
        accepted=int((agencies["status"] == "accepted").sum()),
    )
