"""The results dashboards of a round (central office): one page per section, one filter
form shared by all, a CSV of every table and chart, and Plotly's script from the installed
package.

Views are thin: they read the filters and the section's own arguments, ask
:mod:`assess.reports.data` for the round's tables (cached), call the pure functions of
:mod:`assess.reports.sections`, :mod:`assess.reports.league` and :mod:`assess.reports.flags`,
and hand the result to a template (or to :mod:`assess.reports.charts` for a figure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd
from flask import Response as HttpResponse
from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from assess import levels
from assess.app import current_language
from assess.auth import central_required
from assess.extensions import db
from assess.labels import AGENCY_TYPE, RESPONSE_STATUS
from assess.models import AGENCY_TYPES, RESPONSE_STATUSES, Round
from assess.questionnaires import Questionnaire
from assess.reports import bp, charts, sections
from assess.reports import data as cache
from assess.reports.data import Dashboard
from assess.reports.flags import CHANGE, KINDS, VERIFIED_GAP
from assess.reports.league import (
    MEASURE,
    Filters,
    Options,
    Sort,
    league,
    league_frame,
    paginate,
    sort_keys,
)
from assess.review.routes import csv_response, page_number

#: The sections, in the order of the tabs: endpoint → label.
SECTIONS = {
    "league": _l("League table"),
    "distributions": _l("Distributions"),
    "heatmap": _l("Heatmap"),
    "levels": _l("Levels"),
    "progress": _l("Response progress"),
    "trend": _l("Year-over-year change"),
    "flags": _l("Flags"),
}
FLAG_LABELS = {
    CHANGE: _l("Large change from last round"),
    VERIFIED_GAP: _l("Verified far below self-assessed"),
}
COMPARABILITY = {"comparable": _l("comparable"), "re-based": _l("re-based")}
COMPARABILITY_NOTE = {
    "comparable": _l("Same dimensions: trends compare like with like."),
    "re-based": _l("The dimensions differ: trends against the older version are re-based."),
}

#: A year: the file's URL names the package version, so a new version is a new URL.


# -- what every section reads -----------------------------------------------------------------


@dataclass
class Scope:
    """A round's dashboard narrowed by the filter form: the population every section shows."""

    round: Round
    board: Dashboard
    questionnaire: Questionnaire
    options: Options
    filters: Filters
    agencies: pd.DataFrame  # the filtered agency table (every response)
    accepted: list[str]  # codes of the filtered accepted responses: the benchmark population
    names: pd.Series  # agency code → name in the reader's language
    lang: str

    def memo(self, section: str, build: Callable[[], Any]) -> Any:
        """A section's table for this population, computed once per state of the data."""
        return self.board.memo((section, self.filters), build)

    @property
    def measures(self) -> list[str]:
        """``overall`` then the dimension codes."""
        return self.board.data.measures

    def labels(self, limit: int = 30) -> dict[str, str]:
        """Short labels of the measures in the reader's language."""
        return charts.measure_labels(self.questionnaire, self.lang, _("Overall"), limit)

    def titles(self) -> dict[str, str]:
        """Full titles of the measures in the reader's language."""
        return charts.measure_labels(self.questionnaire, self.lang, _("Overall"), 10_000)


def scope(round_id: int) -> Scope:
    """The round (404 when there is none), its cached tables and the filtered population."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        abort(404)
    board = cache.dashboard(round_)
    lang = current_language()
    agencies = board.data.agencies
    options = board.options(lang)
    filters = Filters.from_args(request.args, options)
    chosen = filters.apply(agencies)
    accepted = chosen.index[chosen["status"] == "accepted"].tolist()
    return Scope(
        round=round_,
        board=board,
        questionnaire=board.data.questionnaire,
        options=options,
        filters=filters,
        agencies=chosen,
        accepted=accepted,
        names=board.names(lang),
        lang=lang,
    )


def render(section: str, view: Scope, **context: Any) -> str:
    """A section's page with what the shared layout (tabs, filters, figures) reads."""
    board = view.board
    return render_template(
        f"reports/{section}.html",
        section=section,
        sections=SECTIONS,
        round=view.round,
        questionnaire=view.questionnaire,
        options=view.options,
        filters=view.filters,
        invited=len(view.agencies),
        accepted=len(view.accepted),
        previous=board.previous,
        comparability=board.comparability,
        comparability_labels=COMPARABILITY,
        comparability_notes=COMPARABILITY_NOTE,
        plotly_url=url_for("assets.plotly_js"),
        # Plotly's script (4.6 MB, cached) is only asked for by a page that draws a chart.
        has_charts=any(key.endswith("_spec") and value for key, value in context.items()),
        **context,
    )


def level_info(questionnaire: Questionnaire, lang: str) -> dict[str, tuple[int, str]]:
    """Each level's colour index (``assess.css``'s ``--level-N``) and its words ("Level 3:
    Defined") for a cell's tooltip and screen readers (a cell's colour alone says nothing to
    them), made once per page rather than once per cell."""
    return {
        level.code: (
            levels.palette_index(questionnaire, level.code),
            _("Level %(code)s: %(name)s", code=level.code, name=level.name.get(lang)),
        )
        for level in questionnaire.levels
    }


def thai_named(view: Scope) -> set[str]:
    """Codes of the agencies an English page names in Thai (they have no English name), for
    a ``lang="th"`` on their names; none on a Thai page."""
    if view.lang == "th":
        return set()
    english = view.agencies["name_en"].fillna("").to_numpy()
    return set(view.agencies.index[english == ""])


def figure_json(figure: Any) -> str:
    """A chart for the page (see :func:`assess.reports.charts.to_json`)."""
    return charts.to_json(figure)


def score_cell(value: Any) -> str:
    """A score as CSV writes it: two decimals, empty when missing."""
    return "" if value is None or pd.isna(value) else f"{float(value):.2f}"


# -- the sections -----------------------------------------------------------------------------


def _summary(view: Scope) -> pd.DataFrame:
    """§7 figures per measure of the population (benchmark over every score: memoised)."""
    return cast(
        pd.DataFrame,
        view.memo(
            "summary",
            lambda: sections.summary(
                view.board.data.results("verified"), view.accepted, view.measures
            ),
        ),
    )


def _level_table(view: Scope) -> pd.DataFrame:
    """Agencies per level and measure of the population (memoised)."""
    codes = [level.code for level in view.questionnaire.levels]
    return cast(
        pd.DataFrame,
        view.memo(
            "levels",
            lambda: sections.level_table(
                view.board.data.results("verified"), view.accepted, codes, view.measures
            ),
        ),
    )


def _league_sort(view: Scope) -> Sort:
    """The league table's sort from the query string (rank when it names no column)."""
    return Sort.from_args(request.args, sort_keys(view.measures))


@bp.route("/rounds/<int:round_id>/results", endpoint="league")
@central_required
def league_page(round_id: int) -> str:
    """The league table: ranks within the population, sortable, a page at a time."""
    view = scope(round_id)
    board = view.board
    table = league(
        view.agencies,
        board.verified,
        board.levels,
        board.overall_change,
        board.flag_kinds(view.round.flag_change, view.round.flag_verified_gap),
        view.measures,
        sort=_league_sort(view),
        page=page_number(),
        lang=view.lang,
    )
    return render(
        "league",
        view,
        table=table,
        page=table.page,
        export_args={**view.filters.args(), **table.sort.args()},
        labels=view.labels(24),
        titles=view.titles(),
        flag_labels=FLAG_LABELS,
        level_info=level_info(view.questionnaire, view.lang),
        thai_named=thai_named(view),
    )


@bp.route("/rounds/<int:round_id>/results/distributions", endpoint="distributions")
@central_required
def distributions_page(round_id: int) -> str:
    """Score distribution per measure (box plots), with the §7 figures as a table."""
    view = scope(round_id)
    figures = _summary(view)
    dots = None
    if 0 < len(view.accepted) <= charts.MAX_POINTS:
        dots = sections.points(view.board.verified, view.accepted, view.names, view.measures)
    labels = view.labels()
    chart = charts.distributions(figures, labels, dots) if not figures.empty else None
    return render(
        "distributions",
        view,
        figures=figures,
        titles=view.titles(),
        chart_spec=figure_json(chart) if chart is not None else None,
    )


@dataclass
class HeatmapRow:
    """One agency of the heatmap's table: its rank, and score and level per measure."""

    agency: str
    name: str
    rank: int | None
    cells: list[tuple[str, str | None]]  # (score as shown, level code) per measure


def _heatmap_table(
    rows: pd.DataFrame, level_table: pd.DataFrame, measures: Sequence[str]
) -> list[HeatmapRow]:
    """The heatmap's page of agencies as its table shows them (the chart's data in words)."""
    scores = rows[[MEASURE + m for m in measures]].to_numpy(dtype="float64")
    codes = level_table.to_numpy(dtype=object)
    return [
        HeatmapRow(
            agency=code,
            name=name,
            rank=None if pd.isna(rank) else int(rank),
            cells=[
                (charts.score_text(v), None if pd.isna(level) else str(level))
                for v, level in zip(scores[i], codes[i], strict=True)
            ],
        )
        for i, (code, name, rank) in enumerate(
            rows[["agency", "name", "rank"]].itertuples(index=False, name=None)
        )
    ]


@bp.route("/rounds/<int:round_id>/results/heatmap", endpoint="heatmap")
@central_required
def heatmap_page(round_id: int) -> str:
    """Agency × dimension heatmap in the order of the overall score, 50 agencies a page."""
    view = scope(round_id)
    board = view.board
    ordered = league_frame(
        view.agencies, board.verified, board.overall_change, view.measures, Sort(), view.lang
    )
    rows, page = paginate(ordered, page_number())
    scale = charts.level_scale(view.questionnaire, view.lang)
    levels_shown = board.levels.reindex(index=rows.index, columns=view.measures)
    chart = None
    if not rows.empty:
        chart = charts.heatmap(
            board.verified.reindex(index=rows.index, columns=view.measures),
            levels_shown,
            [
                f"{'' if pd.isna(r) else int(r)}. {n}"
                for r, n in zip(rows["rank"], rows["name"], strict=True)
            ],
            view.labels(26),
            scale,
        )
    return render(
        "heatmap",
        view,
        page=page,
        scale=scale,
        titles=view.titles(),
        table=_heatmap_table(rows, levels_shown, view.measures),
        thai_named=thai_named(view),
        chart_spec=figure_json(chart) if chart is not None else None,
    )


@bp.route("/rounds/<int:round_id>/results/levels", endpoint="levels")
@central_required
def levels_page(round_id: int) -> str:
    """How many agencies sit at each level, per measure (stacked bars in level colours)."""
    view = scope(round_id)
    table = _level_table(view)
    scale = charts.level_scale(view.questionnaire, view.lang)
    chart = charts.level_bars(table, view.labels(), scale) if not table.empty else None
    return render(
        "levels",
        view,
        table=table,
        scale=scale,
        titles=view.titles(),
        chart_spec=figure_json(chart) if chart is not None else None,
    )


def _status_labels() -> list[tuple[str, str]]:
    """Response statuses in workflow order, with their labels in the reader's language."""
    return [(code, str(RESPONSE_STATUS[code])) for code in RESPONSE_STATUSES]


@bp.route("/rounds/<int:round_id>/results/progress", endpoint="progress")
@central_required
def progress_page(round_id: int) -> str:
    """Responses by agency type and status, and submissions over time."""
    view = scope(round_id)
    table = sections.status_table(view.agencies, AGENCY_TYPES)
    days = sections.submission_days(view.board.submitted_at, view.agencies.index.tolist())
    shown = table.assign(type=[str(AGENCY_TYPE.get(t, t)) for t in table["type"]])
    status_chart = charts.status_bars(shown, _status_labels()) if not table.empty else None
    timeline = None
    if not days.empty:
        timeline = charts.submissions(
            days, view.lang, invited=len(view.agencies), deadline=view.round.closes_on
        )
    counts = view.agencies["status"].value_counts()
    return render(
        "progress",
        view,
        table=table,
        statuses=_status_labels(),
        counts={s: int(counts.get(s, 0)) for s in RESPONSE_STATUSES},
        # The submissions chart's data for its table: (day, submitted that day, running total).
        days=list(
            days.sort_values("day")[["day", "count", "total"]].itertuples(index=False, name=None)
        ),
        status_spec=figure_json(status_chart) if status_chart is not None else None,
        timeline_spec=figure_json(timeline) if timeline is not None else None,
    )


def _trend_measure(view: Scope) -> str:
    """The measure the trend section shows (``?measure=``; overall when unknown)."""
    wanted = request.args.get("measure", "overall")
    return wanted if wanted in view.measures else "overall"


@bp.route("/rounds/<int:round_id>/results/trend", endpoint="trend")
@central_required
def trend_page(round_id: int) -> str:
    """Change from the previous published round: a slope chart of one measure."""
    view = scope(round_id)
    board = view.board
    measure = _trend_measure(view)
    rows = sections.trend_rows(board.trend, view.accepted, measure, view.names)
    both = rows[rows["previous"].notna() & rows["score"].notna()]
    chart = None
    if board.previous is not None and not rows.empty:
        label = board.comparability or "comparable"
        chart = charts.slope(
            rows,
            str(board.previous.fiscal_year),
            str(view.round.fiscal_year),
            title=(
                f"{view.titles()[measure]}: {board.previous.fiscal_year} → "
                f"{view.round.fiscal_year} · {COMPARABILITY[label]}"
            ),
            note=str(COMPARABILITY_NOTE[label]),
        )
    return render(
        "trend",
        view,
        measure=measure,
        titles=view.titles(),
        figures=sections.trend_summary(rows),
        # The chart's data for its tables: the middle half and median of each round, and each
        # agency's scores when the chart names them (beyond, the CSV does).
        middle=charts.middle_figures(rows) if not both.empty else None,
        agency_rows=(
            both.sort_values(["change", "agency"], ascending=[False, True], kind="stable")[
                ["agency", "name", "previous", "score", "change"]
            ].itertuples(index=False, name=None)
            if len(both) <= charts.MAX_NAMED
            else None
        ),
        compared=len(both),
        # Accepted agencies of the population that the chart leaves out: new this round, not
        # accepted in the earlier one, or without a score of the measure in either (§8).
        left_out=len(set(view.accepted) - set(both["agency"])),
        thai_named=thai_named(view),
        chart_spec=figure_json(chart) if chart is not None else None,
    )


def _flag_rows(view: Scope) -> pd.DataFrame:
    """The flags of the population, of one kind when ``?kind=`` names one."""
    frame = view.board.flags(view.round.flag_change, view.round.flag_verified_gap)
    frame = frame[frame["agency"].isin(view.accepted)]
    kind = request.args.get("kind", "")
    if kind in KINDS:
        frame = frame[frame["kind"] == kind]
    return frame


@bp.route("/rounds/<int:round_id>/results/flags", endpoint="flags")
@central_required
def flags_page(round_id: int) -> str:
    """Large changes from last round and verified scores far below the self-assessed ones."""
    view = scope(round_id)
    frame = _flag_rows(view)
    rows, page = paginate(frame, page_number())
    all_flags = view.board.flags(view.round.flag_change, view.round.flag_verified_gap)
    mine = all_flags[all_flags["agency"].isin(view.accepted)]
    return render(
        "flags",
        view,
        rows=rows.to_dict("records"),
        page=page,
        kind=request.args.get("kind", "") if request.args.get("kind") in KINDS else "",
        counts={k: int((mine["kind"] == k).sum()) for k in KINDS},
        names=view.names,
        thai_named=thai_named(view),
        titles=view.titles(),
        flag_labels=FLAG_LABELS,
    )


# -- CSV of every table and chart -------------------------------------------------------------


def _texts(values: Iterable[Any]) -> list[str]:
    """Scores as CSV cells, a whole column at once."""
    return [score_cell(v) for v in values]


def _measure_columns(
    frame: pd.DataFrame, level_table: pd.DataFrame, measures: Sequence[str]
) -> list[list[str]]:
    """Score and level cells of every measure, column by column (``<m>_score, <m>_level``)."""
    columns: list[list[str]] = []
    for m in measures:
        columns.append(_texts(frame[MEASURE + m].to_numpy()))
        columns.append(["" if pd.isna(v) else str(v) for v in level_table[m].to_numpy()])
    return columns


def _ranks(frame: pd.DataFrame) -> list[Any]:
    """Ranks as CSV cells (empty when not ranked)."""
    return ["" if pd.isna(r) else int(r) for r in frame["rank"].to_numpy()]


def _league_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Every row of the league table, in the page's sort, with levels and flags."""
    board = view.board
    frame = league_frame(
        view.agencies,
        board.verified,
        board.overall_change,
        view.measures,
        _league_sort(view),
        view.lang,
    )
    levels = board.levels.reindex(index=frame.index, columns=view.measures)
    flagged = board.flags(view.round.flag_change, view.round.flag_verified_gap)
    kinds = flagged.groupby("agency")["kind"].agg(lambda k: " ".join(sorted(set(k))))
    yield [
        "rank", "agency", "name", "type", "province",
        *[c for m in view.measures for c in (f"{m}_score", f"{m}_level")],
        "change", "flags",
    ]  # fmt: skip
    yield from zip(
        _ranks(frame),
        frame.index,
        frame["name"],
        frame["type"],
        frame["province"],
        *_measure_columns(frame, levels, view.measures),
        _texts(frame["change"].to_numpy()),
        kinds.reindex(frame.index).fillna(""),
        strict=True,
    )


def _distributions_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """The §7 figures of each measure (the distribution chart's data)."""
    figures = _summary(view)
    yield ["measure", *sections.SUMMARY_COLUMNS]
    for measure, row in figures.iterrows():
        yield [measure, int(row["n"]), *[score_cell(row[c]) for c in sections.SUMMARY_COLUMNS[1:]]]


def _heatmap_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Every agency's scores and levels per measure, best overall first."""
    board = view.board
    frame = league_frame(
        view.agencies, board.verified, board.overall_change, view.measures, Sort(), view.lang
    )
    levels = board.levels.reindex(index=frame.index, columns=view.measures)
    yield [
        "rank",
        "agency",
        "name",
        *[c for m in view.measures for c in (f"{m}_score", f"{m}_level")],
    ]
    yield from zip(
        _ranks(frame),
        frame.index,
        frame["name"],
        *_measure_columns(frame, levels, view.measures),
        strict=True,
    )


def _levels_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Agencies per level and measure, with the level's name and share."""
    names = {level.code: level.name.get(view.lang) for level in view.questionnaire.levels}
    table = _level_table(view)
    yield ["measure", "level", "level_name", "count", "share_percent"]
    for measure, level, count, share in table[["measure", "level", "count", "share"]].itertuples(
        index=False, name=None
    ):
        yield [measure, level, names.get(level, ""), int(count), f"{share:.1f}"]


def _progress_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Responses per agency type and status."""
    table = sections.status_table(view.agencies, AGENCY_TYPES)
    yield ["type", "status", "count"]
    for kind, status, count in table[["type", "status", "count"]].itertuples(
        index=False, name=None
    ):
        yield [kind, status, int(count)]


def _submissions_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Submissions per day and their running total."""
    days = sections.submission_days(view.board.submitted_at, view.agencies.index.tolist())
    yield ["day", "submitted", "running_total"]
    for day, count, total in days[["day", "count", "total"]].itertuples(index=False, name=None):
        yield [day.isoformat(), int(count), int(total)]


def _trend_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """Trend rows (§8) of every measure, with the comparability label."""
    rows = sections.trend_rows(view.board.trend, view.accepted, None, view.names)
    yield ["agency", "name", "measure", "previous", "score", "change", "comparability"]
    yield from zip(
        rows["agency"],
        rows["name"],
        rows["measure"],
        _texts(rows["previous"].to_numpy()),
        _texts(rows["score"].to_numpy()),
        _texts(rows["change"].to_numpy()),
        rows["comparability"],
        strict=True,
    )


def _flags_csv(view: Scope) -> Iterable[Sequence[Any]]:
    """The flags table, every page."""
    rows = _flag_rows(view)
    yield ["agency", "name", "kind", "measure", "score", "reference", "difference"]
    yield from zip(
        rows["agency"],
        view.names.reindex(rows["agency"]).fillna(""),
        rows["kind"],
        rows["measure"],
        _texts(rows["score"].to_numpy()),
        _texts(rows["reference"].to_numpy()),
        _texts(rows["difference"].to_numpy()),
        strict=True,
    )


#: name → (what the CSV holds); each is ``/central/rounds/<id>/results/<name>.csv``.
CSV_TABLES: dict[str, Callable[[Scope], Iterable[Sequence[Any]]]] = {
    "league": _league_csv,
    "distributions": _distributions_csv,
    "heatmap": _heatmap_csv,
    "levels": _levels_csv,
    "progress": _progress_csv,
    "submissions": _submissions_csv,
    "trend": _trend_csv,
    "flags": _flags_csv,
}


def _csv_view(name: str) -> Callable[[int], HttpResponse]:
    """The view of one CSV download (filters and sort of the query string applied)."""

    def view(round_id: int) -> HttpResponse:
        """One CSV download of the round's dashboards."""
        chosen = scope(round_id)
        suffix = "".join(f"-{v}" for v in chosen.filters.args().values())
        return csv_response(CSV_TABLES[name](chosen), f"round-{round_id}-{name}{suffix}.csv")

    view.__name__ = f"{name}_csv"
    view.__doc__ = f"The {name} table of the results dashboards as CSV."
    return view


for _name in CSV_TABLES:
    bp.add_url_rule(
        f"/rounds/<int:round_id>/results/{_name}.csv",
        endpoint=f"{_name}_csv",
        view_func=central_required(_csv_view(_name)),
    )
