"""Results of a round as plain tables: what dashboards, exports, the API and PDFs read.

One query loads a round's responses, agencies and stored results (no ORM objects, so 8,000
agencies load in a few tens of milliseconds); everything else is pandas over that table and
the pure :mod:`assess.scoring` functions (benchmark §7, trend §8, what-if lift). Views and
PDFs never compute scores: they call these functions.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Row, Select, Text, cast, func, select
from sqlalchemy.orm import aliased

from assess.extensions import db
from assess.heap import without_collection
from assess.models import Agency, QuestionnaireVersion, Response, ResponseAgency, Result, Round
from assess.questionnaires import Questionnaire
from assess.scoring.benchmark import BENCHMARK_COLUMNS, benchmark, level_distribution
from assess.scoring.trend import TREND_COLUMNS, hundredths_table, prior_table, trend_of_priors
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
#: The columns of an agency table row that hold the agency's record (not its response's).
_RECORD = slice(AGENCY_COLUMNS.index("name_th"), None)
#: Rows of the agency table :func:`refresh` replaces in a copy of it at most: beyond, a new
#: table is made sooner (each row replaced costs about 0.3 ms, a new table of 8,000 rows
#: 10-30 ms).
PATCHED_ROWS = 25
#: The record's fields of an agency table row but its tags (the last).
_FIELDS = slice(_RECORD.start, -1)


@dataclass(frozen=True)
class Block:
    """One kind of a round's stored results: a row per response that has it, in agency code
    order.

    ``scores`` (floats, NaN when not scored) and ``levels`` (level codes, ``None`` when not
    placed) are agency × measure arrays, the measures being overall then the dimensions in
    questionnaire order; a score is the float of the stored decimal string.
    """

    codes: npt.NDArray[np.object_]
    response_ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    levels: npt.NDArray[np.object_]

    def without(self, response_ids: Collection[int]) -> Block:
        """The rows of other responses."""
        keep = ~np.isin(self.response_ids, np.fromiter(response_ids, dtype=np.int64))
        return self.take(np.flatnonzero(keep))

    def take(self, rows: npt.NDArray[np.intp]) -> Block:
        """The given rows, in that order."""
        return Block(*(getattr(self, f.name)[rows] for f in fields(Block)))

    def plus(self, other: Block) -> Block:
        """Both blocks' rows, in agency code order."""
        joined = Block(
            *(
                np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in fields(Block)
            )
        )
        return joined.take(np.argsort(joined.codes, kind="stable"))


@dataclass
class RoundResults:
    """A round's responses and stored results, loaded once.

    ``agencies`` has one row per response (:data:`AGENCY_COLUMNS`, indexed by agency code,
    in code order). ``verified`` and ``self`` are long tables ``agency, measure, score,
    level`` (score a float with exactly the stored 2 decimals, missing when not scored) for
    every response that has results, by agency code then measure. :func:`refresh` brings
    them up to date by reading again only the responses that changed.
    """

    round: Round
    questionnaire: Questionnaire
    agencies: pd.DataFrame
    _rows: dict[str, tuple[Any, ...]] = field(default_factory=dict, repr=False)
    _marks: dict[int, str] = field(default_factory=dict, repr=False)
    _stored: dict[str, Block] = field(default_factory=dict, repr=False)
    _wide: dict[tuple[str, bool], pd.DataFrame] = field(default_factory=dict, repr=False)
    #: What is made of the accepted responses' tables alone, for others' use (the trend's
    #: earlier side): carried over with ``accepted_state``.
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    #: The same object as an earlier state's of the round when :func:`refresh` found that
    #: no accepted response changed since (nor any response became accepted): the tables of
    #: the accepted responses, and all that is derived from them alone, still stand.
    accepted_state: object = field(default_factory=object, repr=False)
    #: Likewise when no agency came or went and no agency record (name, type, parent,
    #: province, tags) read again differed: what is made of the agency records alone (the
    #: comparison groups, the filter choices, the names) still stands.
    agency_state: object = field(default_factory=object, repr=False)
    #: What the caller knew of the round's state when these tables were made (the
    #: dashboards' cache keeps its signature here, see :mod:`assess.reports.data`).
    made_for: Any = field(default=None, repr=False, compare=False)

    def _long_verified(self) -> pd.DataFrame:
        return _long(self._stored["verified"], self.measures)

    def _long_self(self) -> pd.DataFrame:
        return _long(self._stored["self"], self.measures)

    # Built on first use: the dashboards read the agency × measure tables instead.
    verified = cached_property(_long_verified)
    self = cached_property(_long_self)

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
            block = self._chosen(kind, accepted_only)
            self._wide[key] = self._table(block.codes, block.scores)
        return self._wide[key]

    def levels(self, kind: str = "verified", *, accepted_only: bool = True) -> pd.DataFrame:
        """agency × measure level codes (missing when not placed), measures in order."""
        key = (f"{kind}-levels", accepted_only)
        if key not in self._wide:
            block = self._chosen(kind, accepted_only)
            self._wide[key] = self._table(block.codes, block.levels, dtype="str")
        return self._wide[key]

    def _chosen(self, kind: str, accepted_only: bool) -> Block:
        """The results of one kind, of the accepted responses unless told otherwise."""
        block = self._stored["verified" if kind == "verified" else "self"]
        if not accepted_only:
            return block
        accepted = set(self.accepted)  # (numpy's isin compares text pair by pair)
        chosen = [i for i, code in enumerate(block.codes.tolist()) if code in accepted]
        return block.take(np.array(chosen, dtype=np.intp))

    def _table(self, codes: Any, values: Any, dtype: str | None = None) -> pd.DataFrame:
        """An agency × measure table (as pivoting the long table would give)."""
        return pd.DataFrame(
            values,
            index=pd.Index(codes, name="agency", dtype="str"),
            columns=pd.Index(self.measures, name="measure", dtype="str"),
            dtype=dtype,
        )

    def groups(self, by: str, agencies: Iterable[str] | None = None) -> pd.DataFrame:
        """Comparison groups (``agency, by, group``) of one grouping, for the given agencies."""
        return peer_groups(self.agencies, by, agencies)


@without_collection
def load(round_: Round) -> RoundResults:
    """Load a round's responses, agencies and stored results in two queries.

    The responses come one row per agency and the results one row per response and kind, so
    every JSON value (tags, dimension scores) is decoded once. Stored scores are decimal
    strings with two places; ``float`` of such a string is the nearest double, exactly as
    the JSON numbers of the contract.
    """
    questionnaire = questionnaire_of(round_.questionnaire)
    rows, marks = _agency_rows(core_rows(_agency_query(round_.id)))
    code_of = {row[1]: code for code, row in rows.items()}
    stored = _blocks(
        _driver_rows(_result_query(round_.id)),
        code_of,
        [d.code for d in questionnaire.dimensions],
        [level.code for level in questionnaire.levels],
    )
    return _assemble(round_, questionnaire, rows, marks, stored)


@without_collection
def refresh(data: RoundResults, round_: Round, *, records: bool = False) -> RoundResults:
    """The round's results now, reading again only what changed since ``data`` (the same
    round's, loaded earlier).

    One light query lists every response's marks (:data:`_RESPONSE_MARK`: status,
    completeness, save and submission times, and how many times its results were written).
    A response whose marks differ from what ``data`` holds other than in that count (or
    that is new, or gone) has its agency row read again, and its results; a response whose
    results were written again has its results read again; the rest is kept.

    The outcome equals a fresh :func:`load`, except for agency records that changed
    without a change to the response: the marks cannot show those. Callers recheck them
    (see :mod:`assess.reports.data`) and, when they changed, ask for ``records``: every
    agency record of the round is then read as well (:func:`_edited`), and the agency rows
    of those that differ from what ``data`` holds are read again (with their results too
    when the agency took another code: results are placed by code).

    When more than a quarter of the responses moved, the round is simply loaded again; when
    more than a quarter of them moved or have an edited record, every agency row is read
    again; when more than a quarter of them were scored again (a scoring rule changed), all
    the results are read again but the agency rows kept. ``accepted_state`` (with the accepted
    responses' agency × measure tables) and ``agency_state`` are carried over while they
    stand, so that callers keep what they derived from them.
    """
    questionnaire = questionnaire_of(round_.questionnaire)
    if questionnaire is not data.questionnaire:
        return load(round_)
    # Each row's marks as one text that starts with its response's id: no timestamp
    # objects to make, and what changed is a difference of two sets of strings.
    now = _driver_values(select(_RESPONSE_MARK).where(Response.round_id == round_.id))
    held = data._marks
    known, current = set(held.values()), set(now)
    new_marks = [mark for mark in now if mark not in known]
    moved: set[int] = set()
    rescored: dict[int, str] = {}  # response id → its new mark
    for mark in new_marks:
        response_id = _response_of(mark)
        before = held.get(response_id)
        # The same but for the count of its results' writes (the last field): only its
        # results were written.
        if before is not None and _moved_part(before) == _moved_part(mark):
            rescored[response_id] = mark
        else:
            moved.add(response_id)
    # Responses whose agency record alone was edited: their agency rows are read again.
    edited: set[int] = set()
    if records:
        edited, recoded = _edited(data, round_.id)
        moved |= recoded
        edited -= moved
    gone = {rid for rid, mark in held.items() if mark not in current} - moved - rescored.keys()
    quarter = len(now) // 4
    if len(moved) + len(gone) > quarter:
        return load(round_)
    # The whole round scored again: every result is read again below.
    wholesale = quarter > 0 and len(rescored) > quarter
    changed = (moved | rescored.keys()) - gone
    if not changed and not gone and not wholesale and not edited:
        return data
    dimensions = [d.code for d in questionnaire.dimensions]
    levels = [level.code for level in questionnaire.levels]
    kept: dict[str, Any] = {}
    if moved or gone or edited:
        reread = moved | edited
        # Many records edited (an import of the agency list): every agency row read again,
        # the results still only where they changed.
        every = len(reread) > quarter
        again, remarked = _agency_rows(
            core_rows(_agency_query(round_.id, None if every else reread)) if reread else []
        )
        dropped = held.keys() if every else reread | gone
        rows = {code: row for code, row in data._rows.items() if row[1] not in dropped}
        rows.update(again)
        marks = {rid: mark for rid, mark in held.items() if rid not in dropped}
        marks.update(remarked)
        agencies = None
        # No response gone, and no agency new: the same table, some of its rows read again.
        same = not gone and all(code in data._rows for code in again)
        if (
            same
            and len(again) <= PATCHED_ROWS
            and all(data._rows[code][1] == row[1] for code, row in again.items())
        ):
            # The same responses (a save, a review, a status moved): their rows replaced in
            # a copy of the table (4 ms) instead of a new table of 8,000 rows (20-30 ms).
            agencies = _patched(data.agencies, again)
        if same and all(data._rows[code][_RECORD] == row[_RECORD] for code, row in again.items()):
            kept["agency_state"] = data.agency_state
    else:  # only results were written again: the agency table stands
        rows, marks, agencies = data._rows, held, data.agencies
        kept["agency_state"] = data.agency_state
    marks = {**marks, **rescored}
    # A coordinator's save, the usual change in a round's busy days, touches no accepted
    # response: what the dashboards derive from the accepted ones alone is kept.
    statuses = [_status_of(held[rid]) for rid in (changed | gone) & held.keys()]
    statuses += [_status_of(mark) for mark in new_marks]
    if "accepted" not in statuses and not wholesale:
        kept.update(
            accepted_state=data.accepted_state,
            _wide=_accepted_tables(data),
            _derived=data._derived,
        )
    if wholesale or len(changed) > quarter:
        stored = _blocks(
            _driver_rows(_result_query(round_.id)),
            {row[1]: code for code, row in rows.items()},
            dimensions,
            levels,
        )
    else:
        fresh = _blocks(
            _driver_rows(_result_query(round_.id, changed)) if changed else [],
            {row[1]: code for code, row in rows.items() if row[1] in changed},
            dimensions,
            levels,
        )
        stored = {
            kind: block.without(changed | gone).plus(fresh[kind])
            for kind, block in data._stored.items()
        }
    return _assemble(round_, questionnaire, rows, marks, stored, agencies, **kept)


#: The layout of :func:`snapshot`'s bytes; a snapshot of another layout is not read. One
#: more whenever :data:`AGENCY_COLUMNS`, :data:`_RESPONSE_MARK`, :class:`Block` or the
#: structs below change.
SNAPSHOT_LAYOUT = 2


class _SnapshotBlock(msgspec.Struct, array_like=True, frozen=True):
    """A :class:`Block` as plain values: its arrays as raw bytes, and its levels as
    positions in a list of the level codes found (two bytes each rather than one string)."""

    codes: list[str]
    response_ids: bytes  # int64
    scores: bytes  # float64, agency × measure
    level_codes: list[str]
    levels: bytes  # int16, agency × measure: a position in level_codes, -1 when not placed


class _Snapshot(msgspec.Struct, array_like=True, frozen=True):
    """What :func:`snapshot` writes: everything :func:`load` reads from the database."""

    layout: int
    questionnaire: str  # the content hash of the round's questionnaire version
    measures: int
    rows: list[
        tuple[
            str, int, str, float, dt.datetime | None, dt.datetime | None,
            str, str, str, str, str, str, str, list[str],
        ]
    ]  # fmt: skip
    marks: list[str]  # each row's response's, in the order of the rows
    stored: dict[str, _SnapshotBlock]


_SNAPSHOT_DECODER = msgspec.msgpack.Decoder(_Snapshot)


def snapshot(data: RoundResults) -> bytes:
    """``data``'s tables as bytes that :func:`restore` turns back into equal tables, much
    faster than :func:`load` reads them from the database (a sixth of its time at 8,000
    agencies). msgpack with typed fields: decoding validates them and runs no code."""
    stored = {}
    for kind, block in data._stored.items():
        level_codes = sorted({level for level in block.levels.flat if level is not None})
        position = {code: i for i, code in enumerate(level_codes)}
        stored[kind] = _SnapshotBlock(
            codes=block.codes.tolist(),
            response_ids=block.response_ids.astype("<i8").tobytes(),
            scores=block.scores.astype("<f8").tobytes(),
            level_codes=level_codes,
            levels=np.array(
                [-1 if level is None else position[level] for level in block.levels.flat],
                dtype="<i2",
            ).tobytes(),
        )
    return msgspec.msgpack.encode(
        _Snapshot(
            layout=SNAPSHOT_LAYOUT,
            questionnaire=data.round.questionnaire.content_hash,
            measures=len(data.measures),
            rows=list(data._rows.values()),  # type: ignore[arg-type]
            marks=[data._marks[row[1]] for row in data._rows.values()],
            stored=stored,
        )
    )


@without_collection
def restore(blob: bytes, round_: Round) -> RoundResults | None:
    """The tables a :func:`snapshot` of ``round_`` holds, as they were when it was made
    (:func:`refresh` brings them up to date); ``None`` when the bytes are not a snapshot of
    this layout, of this round's questionnaire, that holds together."""
    try:
        held = _SNAPSHOT_DECODER.decode(blob)
    except msgspec.DecodeError:  # (ValidationError is one)
        return None
    questionnaire = questionnaire_of(round_.questionnaire)
    width = len(questionnaire.dimensions) + 1
    if (
        held.layout != SNAPSHOT_LAYOUT
        or held.questionnaire != round_.questionnaire.content_hash
        or held.measures != width
        or set(held.stored) != {"verified", "self"}
    ):
        return None
    stored = {}
    for kind, part in held.stored.items():
        count = len(part.codes)
        if (
            len(part.response_ids) != 8 * count
            or len(part.scores) != 8 * width * count
            or len(part.levels) != 2 * width * count
        ):
            return None
        positions = np.frombuffer(part.levels, dtype="<i2")
        if count and not -1 <= positions.min() <= positions.max() < len(part.level_codes):
            return None
        # Each level code one string object, as load() makes them (None last: position -1).
        codes = np.array([*map(sys.intern, part.level_codes), None], dtype=object)
        stored[kind] = Block(
            codes=np.array(part.codes, dtype=object),
            response_ids=np.frombuffer(part.response_ids, dtype="<i8").astype(np.int64),
            scores=np.frombuffer(part.scores, dtype="<f8").astype(np.float64).reshape(count, width),
            levels=codes[positions].reshape(count, width),
        )
    rows = {row[0]: row for row in held.rows}
    marks = {row[1]: mark for row, mark in zip(held.rows, held.marks, strict=False)}
    if not len(rows) == len(marks) == len(held.rows) == len(held.marks):
        return None
    return _assemble(round_, questionnaire, rows, marks, stored)  # type: ignore[arg-type]


def _patched(table: pd.DataFrame, rows: Mapping[str, tuple[Any, ...]]) -> pd.DataFrame:
    """A copy of an agency ``table`` with the rows of ``rows`` (agency code → the row of
    :data:`AGENCY_COLUMNS`; every code already in it) put in place of its own, cell by
    cell: the columns keep their types, as a table made anew would have them."""
    table = table.copy()
    for code, row in rows.items():
        for column, value in zip(AGENCY_COLUMNS, row, strict=True):
            table.at[code, column] = value
    return table


def _accepted_tables(data: RoundResults) -> dict[tuple[str, bool], pd.DataFrame]:
    """The agency × measure tables of ``data`` made of the accepted responses alone."""
    return {key: table for key, table in data._wide.items() if key[1]}


def _assemble(
    round_: Round,
    questionnaire: Questionnaire,
    rows: dict[str, tuple[Any, ...]],
    marks: dict[int, str],
    stored: dict[str, Block],
    agencies: pd.DataFrame | None = None,
    **kept: Any,
) -> RoundResults:
    """The round's tables from its agency rows (or their table, already made) and stored
    results, in agency code order; ``kept``: fields of an earlier state that still stand."""
    if agencies is None:
        codes = sorted(rows)
        table = pd.DataFrame([rows[code] for code in codes], columns=list(AGENCY_COLUMNS))
        agencies = table.set_index("agency", drop=False)
    return RoundResults(
        round=round_,
        questionnaire=questionnaire,
        agencies=agencies,
        _rows=rows,
        _marks=marks,
        _stored=stored,
        **kept,
    )


def _long(block: Block, measures: list[str]) -> pd.DataFrame:
    """One kind's long table: a row per agency (in code order) and measure."""
    n, m = len(block.codes), len(measures)
    return pd.DataFrame(
        {
            "agency": np.repeat(block.codes, m),
            "measure": np.tile(np.array(measures, dtype=object), n),
            "score": block.scores.reshape(n * m),
            "level": block.levels.reshape(n * m),
        }
    )


def _text(column: Any) -> Any:
    """A column as text, NULL as the empty string."""
    return func.coalesce(cast(column, Text), "")


#: What tells that a response changed (:func:`refresh`): its id, status, completeness, save
#: and submission times, and last how many times its results were written (moved on by the
#: database itself, see :class:`~assess.models.Response`), as one text.
_RESPONSE_MARK = (
    cast(Response.id, Text) + "|" + Response.status + "|" + _text(Response.completeness)
    + "|" + _text(Response.updated_at) + "|" + _text(Response.submitted_at)
    + "|" + cast(Response.results_version, Text)
).label("mark")  # fmt: skip


def _response_of(mark: str) -> int:
    """The response id a mark starts with."""
    return int(mark.partition("|")[0])


def _moved_part(mark: str) -> str:
    """A response's mark without the count of its results' writes."""
    return mark.rpartition("|")[0]


def _status_of(mark: str) -> str:
    """The status a response's mark holds."""
    return mark.split("|", 2)[1]


def shown_records() -> tuple[tuple[Any, ...], Callable[[Select[Any]], Select[Any]]]:
    """The agency record a round's results show, as columns: names, type, parent's code and
    names, province, and tags as JSON text, no value missing. It is the record kept when
    the round's results came out (:class:`~assess.models.ResponseAgency`), else the agency's
    as it is now. With it, what adds the joins it needs to a select of the round's responses
    joined to their agencies."""
    parent = aliased(Agency)
    kept = aliased(ResponseAgency)
    columns = (
        func.coalesce(kept.name_th, Agency.name_th),
        func.coalesce(kept.name_en, Agency.name_en),
        func.coalesce(kept.type, Agency.type),
        func.coalesce(kept.parent_code, parent.code, ""),
        func.coalesce(kept.parent_name_th, parent.name_th, ""),
        func.coalesce(kept.parent_name_en, parent.name_en, ""),
        func.coalesce(kept.province, Agency.province, ""),
        cast(func.coalesce(kept.tags, Agency.tags), Text),
    )

    def joined(query: Select[Any]) -> Select[Any]:
        return query.outerjoin(parent, Agency.parent_id == parent.id).outerjoin(
            kept, kept.response_id == Response.id
        )

    return columns, joined


def _with_records(round_id: int, *columns: Any) -> Select[*tuple[Any, ...]]:
    """The round's responses, one row per agency: ``columns``, then the agency's record as
    an agency table row holds it (:data:`_RECORD`, no value missing; :func:`shown_records`)
    but its tags as JSON text."""
    record, joined = shown_records()
    return joined(
        select(*columns, *record)
        .select_from(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_id)
    )


def _agency_query(round_id: int, only: Collection[int] | None = None) -> Select[*tuple[Any, ...]]:
    """The round's responses with their agencies' records, one row per agency, and their
    marks."""
    query = _with_records(
        round_id,
        Agency.code,
        Response.id,
        Response.status,
        Response.completeness,
        Response.updated_at,
        Response.submitted_at,
    ).add_columns(_RESPONSE_MARK)
    return query if only is None else query.where(Response.id.in_(only))


def _record_query(round_id: int) -> Select[*tuple[Any, ...]]:
    """The round's agency records alone (what the marks of :func:`refresh` cannot show):
    response id and agency code, then the record (:func:`_with_records`)."""
    return _with_records(round_id, Response.id, Agency.code)


def _edited(data: RoundResults, round_id: int) -> tuple[set[int], set[int]]:
    """The responses of the round whose agency record (:data:`_RECORD`) alone differs from
    what ``data`` holds, and those whose agency took another code. One query of the records
    alone, as plain values: some half of the time of reading the agency rows."""
    read = _driver_rows(_record_query(round_id))
    tags = _json_column([row[9] for row in read])
    held = {row[1]: row for row in data._rows.values()}
    edited, recoded = set(), set()
    for row, tagged in zip(read, tags, strict=True):
        was = held.get(row[0])
        if was is None:
            continue  # a new response: its marks tell
        if row[1] != was[0]:
            recoded.add(row[0])
        elif row[2:9] != was[_FIELDS] or (tagged or []) != was[-1]:
            edited.add(row[0])
    return edited, recoded


def core_rows(statement: Select[Any]) -> Sequence[Row[Any]]:
    """The rows of a select of plain columns, through SQLAlchemy's Core: their types
    processed (timestamps made aware), without the ORM's layer around the execution, which
    costs some 10 ms more for a round's 8,000 agency rows. The session's pending changes
    are flushed first, as its own execution does."""
    db.session.flush()
    return db.session.connection().execute(statement).all()


def _driver_rows(statement: Select[Any], *, binary: bool = False) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the database driver gives them, as tuples.

    For the big reads of plain values (texts, integers, bytes; nothing that needs
    SQLAlchemy's type processing, such as timestamps or JSON to decode): 16,000 result rows
    come in two thirds of the time that SQLAlchemy's result objects take. ``binary``: in
    psycopg 3's binary format (the package's driver; others read text), for bytes of a few
    MB, which then come as they are rather than as hexadecimal text to decode.
    """
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    options = {"binary": True} if binary and connection.dialect.driver == "psycopg" else {}
    cursor = connection.connection.cursor(**options)
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def _driver_values(statement: Select[Any]) -> list[Any]:
    """The first column of :func:`_driver_rows`."""
    return [row[0] for row in _driver_rows(statement)]


def _result_query(round_id: int, only: Collection[int] | None = None) -> Select[*tuple[Any, ...]]:
    """The round's stored results, their dimensions as JSON text."""
    query = (
        select(
            Result.response_id,
            Result.kind,
            Result.overall_score,
            Result.overall_level,
            cast(Result.dimensions, Text),
        )
        .join(Response, Result.response_id == Response.id)
        .where(Response.round_id == round_id)
    )
    return query if only is None else query.where(Result.response_id.in_(only))


def _agency_rows(
    rows: Sequence[Sequence[Any]],
) -> tuple[dict[str, tuple[Any, ...]], dict[int, str]]:
    """Agency table rows (:data:`AGENCY_COLUMNS`) by agency code, and each response's
    marks by response id."""
    # Every JSON value is decoded in one call (8,000 calls of json.loads cost ten times more).
    tags = _json_column([row[13] for row in rows])
    marks = {row[1]: row[14] for row in rows}
    return {
        row[0]: (*row[:3], float(row[3] or 0), *row[4:13], list(tagged or []))
        for row, tagged in zip(rows, tags, strict=True)
    }, marks


@functools.lru_cache(maxsize=64)
def _dimensions_decoders(
    dimensions: tuple[str, ...], levels: tuple[str, ...]
) -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    """Decoders of a list of stored ``dimensions`` JSON objects into records with one field
    per dimension of the questionnaire (others are skipped), in one call. Each dimension is
    a record of its score (a decimal string, read as the nearest double, as ``float`` reads
    it) and level code.

    The first reads a level only as one of the questionnaire's ``levels`` codes, and gives
    that code's own string object (not one new string per cell); the second, for stored
    results that hold another code, reads any text.
    """

    def decoder(level: Any, name: str) -> msgspec.json.Decoder[Any]:
        dimension = msgspec.defstruct(
            f"Stored{name}Dimension",
            [("score", float | None, None), ("level", level | None, None)],
            gc=False,
        )
        record = msgspec.defstruct(
            f"Stored{name}Dimensions",
            [(f"d{i}", dimension | None, None) for i in range(len(dimensions))],  # type: ignore[valid-type]
            rename={f"d{i}": code for i, code in enumerate(dimensions)},
            gc=False,
        )
        # Not strict: a score stored as a decimal string is read as a number.
        return msgspec.json.Decoder(list[record | None], strict=False)  # type: ignore[valid-type]

    known = decoder(Literal[levels], "Known") if levels else decoder(str, "Known")
    return known, decoder(str, "Any")


def _blocks(
    rows: Sequence[Sequence[Any]],
    code_of: Mapping[int, str],
    dimensions: Sequence[str],
    levels: Sequence[str],
) -> dict[str, Block]:
    """Stored results by kind (rows of responses not in ``code_of`` left out); ``levels``:
    the questionnaire's level codes.

    Column by column: one JSON decode for every row's dimensions, straight into records of
    the questionnaire's dimensions with float scores (faster than 16,000 decodes, than
    decoding to dictionaries, and than asking the database to take the fields out of its
    json column); then every row's dimensions in one flat list, its scores and its levels
    in one list each, which numpy shapes into the agency × measure arrays.
    """
    known, anything = _dimensions_decoders(tuple(dimensions), tuple(levels))
    width = len(dimensions)
    nothing = (None,) * width
    astuple = msgspec.structs.astuple
    out = {}
    for kind in ("verified", "self"):
        chosen = [row for row in rows if row[1] == kind and row[0] in code_of]
        text = _json_list([row[4] for row in chosen])
        try:
            records = known.decode(text)
        except msgspec.ValidationError:  # a level code the questionnaire does not have
            records = anything.decode(text)
        cells = [cell for r in records for cell in (nothing if r is None else astuple(r))]
        n = len(chosen)
        # Measures: overall (the row's own columns), then the dimensions in order.
        scores = np.empty((n, width + 1), dtype=np.float64)
        levels_array = np.empty((n, width + 1), dtype=object)
        # float of each stored decimal string; None (not scored) becomes NaN.
        scores[:, 0] = np.array([row[2] for row in chosen], dtype=np.float64)
        # Level codes are a handful of strings: one object each, not one per cell.
        levels_array[:, 0] = [None if row[3] is None else sys.intern(row[3]) for row in chosen]
        if width:
            scores[:, 1:] = np.array(
                [None if c is None else c.score for c in cells], dtype=np.float64
            ).reshape(n, width)
            levels_array[:, 1:] = np.array(
                [None if c is None else c.level for c in cells], dtype=object
            ).reshape(n, width)
        block = Block(
            codes=np.array([code_of[row[0]] for row in chosen], dtype=object),
            response_ids=np.array([row[0] for row in chosen], dtype=np.int64),
            scores=scores,
            levels=levels_array,
        )
        out[kind] = block.take(np.argsort(block.codes, kind="stable"))
    return out


def _json_list(texts: Sequence[str | None]) -> str:
    """Stored JSON texts as one JSON array (``null`` for SQL NULL)."""
    return "[" + ",".join("null" if t is None else t for t in texts) + "]"


def _json_column(texts: Sequence[str | None]) -> list[Any]:
    """Stored JSON texts decoded with one call (``None`` for SQL NULL)."""
    return json.loads(_json_list(texts))  # type: ignore[no-any-return]


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
    """The round to compare with: a published round of an earlier fiscal year on the same
    questionnaire (code), or ``None``.

    Another questionnaire is never compared with (its scores measure something else; a
    version's ``supersedes`` chain stays within its code, so every version of the code is
    reachable or matched by dimension code, scoring.md §8). A year may hold several rounds
    (the national round and a small pilot of a few agencies), and the national one is the
    comparison readers expect; so: the nearest earlier year, then the round that invited
    the most agencies, then the latest.
    """
    invited = (
        select(func.count(Response.id))
        .where(Response.round_id == Round.id)
        .correlate(Round)
        .scalar_subquery()
    )
    return db.session.scalar(
        select(Round)
        .join(QuestionnaireVersion, Round.questionnaire_id == QuestionnaireVersion.id)
        .where(
            QuestionnaireVersion.code == round_.questionnaire.code,
            Round.fiscal_year < round_.fiscal_year,
            Round.status == "published",
            Round.id != round_.id,
        )
        .order_by(Round.fiscal_year.desc(), invited.desc(), Round.id.desc())
        .limit(1)
    )


def trend_frame(
    data: RoundResults, before: RoundResults, *, accepted_only: bool = True
) -> pd.DataFrame:
    """Trend rows (§8) between two rounds, verified results of accepted responses (of
    every response of ``data`` that has results, when not ``accepted_only``) against the
    accepted ones of ``before``."""
    new, old = data.questionnaire, before.questionnaire
    # The earlier round's side is kept with its tables: it stands while they do, however
    # often this round changes (a review, a verified value).
    key = ("priors", new.content_hash)
    priors = before._derived.get(key)
    if priors is None:
        priors = prior_table(hundredths_table(before.wide("verified")), new, old)
        before._derived[key] = priors
    return trend_of_priors(
        hundredths_table(data.wide("verified", accepted_only=accepted_only)), priors, new, old
    )


def trend_records(data: RoundResults, before: RoundResults) -> list[dict[str, Any]]:
    """The rows of ``assess trend --format json``."""
    return records(trend_frame(data, before), TREND_COLUMNS)


#: Columns that are whole numbers, and columns that are text, in report rows.
_INTEGER_COLUMNS = {"n", "rank", "quartile", "count"}
_TEXT_COLUMNS = {"agency", "by", "group", "measure", "level", "comparability", "status"}


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: ints, floats with the stored decimals, ``None`` when empty.

    Column by column (a benchmark of every grouping has a million cells): each column's
    values as plain Python values, then a dict per row.
    """
    values = [_column_values(key, frame[key]) for key in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _column_values(key: str, column: pd.Series) -> list[Any]:
    """One column of :func:`records`."""
    missing = column.isna().to_numpy(dtype=bool).tolist()
    if key in _INTEGER_COLUMNS or key in _TEXT_COLUMNS:
        kind = int if key in _INTEGER_COLUMNS else str
        values = column.tolist()
        return [None if gone else kind(v) for v, gone in zip(values, missing, strict=True)]
    values = rounded(column.to_numpy(dtype=float, na_value=np.nan))
    return [None if gone else v for v, gone in zip(values, missing, strict=True)]


def rounded(values: npt.NDArray[np.float64]) -> list[float]:
    """``round(v, 2)`` of each value, as Python floats, at numpy's speed.

    numpy rounds ``v × 100`` to a whole number; that product is itself rounded in binary,
    which can move a value lying within a hair of a half across it, where ``round()``
    decides on the exact value. Those few values (and any too big for the test) are left to
    ``round()``: the outcome is ``round()``'s for every value (NaN stays NaN).
    """
    with np.errstate(over="ignore", invalid="ignore"):  # (those go to round() below)
        scaled = values * 100
        out = (np.rint(scaled) / 100).tolist()
        close = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    huge = ~(np.abs(scaled) < 1e12) & ~np.isnan(values)  # (infinities included)
    for i in np.flatnonzero(close | huge).tolist():
        out[i] = round(float(values[i]), 2)
    return out
