"""What the dashboards (and the results pages and scorecards) read of a round, loaded once
per state of its data.

Every dashboard page needs the whole round (ranks, distributions and flags are over the
whole filtered population, whichever page of the table is shown), and a round of 8,000
agencies takes a noticeable part of the page's time budget to load and reshape. So the
loaded tables are kept in this process, keyed by the round and a *signature*: two cheap
aggregate queries whose answer changes whenever anything the dashboards show changes —
a response is added, saved, submitted, reviewed or moves to another status, or results
are recomputed. A stale entry is thus never served. When the signature moved, the tables
held are brought up to date (:func:`assess.services.reports.refresh`: two light queries
find the responses that changed, and only those are read again) rather than loaded anew,
so the first page after a save or a verified value costs a fraction of a full load; the
derived tables (trend, flags, …) are computed again from them. Agencies' own records
(name, type, parent, province, tags) have no timestamp to aggregate: an entry older than
:data:`RECHECK` seconds is checked against a fingerprint of the round's agency records
(one more query), so an edited agency shows within a minute. When they changed, the
round's agency records are read again and compared with those held, and the edited
agencies' rows replaced; its results are not read again (a quarter of the time of a load
at 8,000 agencies). Each process (gunicorn worker) keeps its own cache of at most
:data:`MAX_ROUNDS` rounds; gunicorn's master fills it for the rounds under way before it
forks the workers (:mod:`assess.reports.warm`).

A process that holds nothing of a round (a new server's master, a command, a job worker, a
worker asked for a round it never opened) does not load a big round anew on PostgreSQL: the
last process to do so kept its tables in the database as a snapshot
(:class:`~assess.models.RoundSnapshot`, a few MB at 8,000 agencies), which is read back
in a fifth of the time and brought up to date the same way, its agency records included
(:func:`_from_nothing`).

The same tables serve the agencies' results pages and scorecards (:func:`agency_results`,
through a context whose comparison groups are indexed once per state), the API's benchmark
and the exports pages.

Cached tables are shared between requests and threads: callers never change them in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property, reduce
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Select, bindparam, case, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from assess.extensions import db
from assess.models import (
    RESPONSE_STATUSES,
    Agency,
    Response,
    Round,
    RoundSnapshot,
    utcnow,
)
from assess.questionnaires.diff import comparability
from assess.reports.league import Options
from assess.reports.sections import names_of
from assess.services import reports
from assess.services.agency_results import AgencyResults, RoundContext
from assess.services.reports import RoundResults

log = logging.getLogger(__name__)

#: Seconds after which an entry's agency records are checked again (they are not in the
#: signature).
RECHECK = 60.0
#: Rounds kept per process (a round of 8,000 agencies holds a few tens of MB).
MAX_ROUNDS = 6
#: Rounds of at least this many responses keep a snapshot of their tables in the database
#: (:func:`_from_nothing`): below it, a load costs little.
SNAPSHOT_FROM = 500
#: Derived tables kept per round (sections × filter combinations recently asked for).
MAX_MEMO = 64


@dataclass(frozen=True)
class RoundInfo:
    """A round's identity as plain values (no ORM object outlives its request)."""

    id: int
    name: str
    fiscal_year: int
    questionnaire_key: str
    name_en: str = ""

    def title(self, lang: str) -> str:
        """The round's name in ``lang``, as :meth:`assess.models.Round.title` gives it."""
        return self.name_en if lang == "en" and self.name_en else self.name


@dataclass
class Dashboard:
    """A round's results and, when there is one, the previous round's; derived tables are
    computed on first use and kept with them."""

    data: RoundResults
    before: RoundResults | None
    previous: RoundInfo | None
    round_id: int
    _flags: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict, repr=False)
    _kinds: dict[tuple[int, int], dict[str, set[str]]] = field(default_factory=dict, repr=False)
    _options: dict[str, Options] = field(default_factory=dict, repr=False)
    _memo: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict, repr=False)
    _names: dict[str, pd.Series] = field(default_factory=dict, repr=False)

    @cached_property
    def verified(self) -> pd.DataFrame:
        """agency × measure verified scores of the accepted responses."""
        return self.data.wide("verified")

    @cached_property
    def own(self) -> pd.DataFrame:
        """agency × measure self-assessed scores of the accepted responses."""
        return self.data.wide("self")

    @cached_property
    def levels(self) -> pd.DataFrame:
        """agency × measure verified levels of the accepted responses."""
        return self.data.levels("verified")

    @cached_property
    def trend(self) -> pd.DataFrame | None:
        """Trend rows (§8) against the previous round; ``None`` without one."""
        if self.before is None:
            return None
        return reports.trend_frame(self.data, self.before)

    @cached_property
    def overall_change(self) -> pd.Series:
        """Change of the overall score from the previous round, per agency (float)."""
        trend = self.trend
        if trend is None or trend.empty:
            return pd.Series(dtype="float64")
        rows = trend[trend["measure"] == reports.OVERALL]
        return pd.Series(rows["change"].to_numpy(dtype="float64"), index=rows["agency"])

    @cached_property
    def comparability(self) -> str | None:
        """``comparable`` or ``re-based`` (scoring.md §8); ``None`` without a previous round."""
        if self.before is None:
            return None
        return comparability(self.data.questionnaire, self.before.questionnaire)

    @cached_property
    def submitted_at(self) -> pd.Series:
        """When each response of the round was (last) submitted, per agency (aware UTC
        datetimes; missing when never submitted)."""
        column = self.data.agencies["submitted_at"]
        return pd.Series(
            [None if pd.isna(at) else pd.Timestamp(at).to_pydatetime() for at in column],
            index=column.index,
            dtype="object",
        )

    def keeping(self, earlier: Dashboard | None) -> Dashboard:
        """This dashboard, with what ``earlier`` (the same round's, for an earlier state of
        its data) derived from what still stands: the tables of the accepted responses and
        all made from them alone (the trend, flags), when no accepted response changed and
        the previous round's data is the same; the filter choices and names, when no
        agency record changed. Nothing else is kept (the sections' memo counts every
        response). The previous round's data counts as the same while its accepted
        responses' tables stand (an agency record edited in both rounds changes neither's)."""
        if earlier is None:
            return self
        if (
            earlier.data.accepted_state is self.data.accepted_state
            and _same_accepted(earlier.before, self.before)
            and earlier.data.questionnaire is self.data.questionnaire
        ):
            for name in _FROM_ACCEPTED:
                if name in earlier.__dict__:
                    self.__dict__[name] = earlier.__dict__[name]
            self._flags.update(earlier._flags)
            self._kinds.update(earlier._kinds)
        if earlier.data.agency_state is self.data.agency_state:
            self._options.update(earlier._options)
            self._names.update(earlier._names)
        return self

    def memo(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """A derived table kept with the round's data (say, a section's figures for one set
        of filters), built on first use; the oldest of more than :data:`MAX_MEMO` go."""
        if key in self._memo:
            return self._memo[key]
        value = build()
        self._memo[key] = value
        while len(self._memo) > MAX_MEMO:
            self._memo.popitem(last=False)
        return value

    def flag_kinds(self, change_limit: int, gap_limit: int) -> dict[str, set[str]]:
        """The kinds of flag each agency has, for the league table's icons."""
        from assess.reports.flags import kinds_by_agency

        key = (change_limit, gap_limit)
        if key not in self._kinds:
            self._kinds[key] = kinds_by_agency(
                self.verified,
                self.own,
                self.trend,
                change_limit=change_limit,
                gap_limit=gap_limit,
            )
        return self._kinds[key]

    def options(self, lang: str) -> Options:
        """The filter form's choices (agency types, parents, provinces, tags) in ``lang``."""
        if lang not in self._options:
            self._options[lang] = Options.of(self.data.agencies, lang)
        return self._options[lang]

    def names(self, lang: str) -> pd.Series:
        """Each agency's name in ``lang`` (Thai when it has no English name), by code."""
        if lang not in self._names:
            self._names[lang] = names_of(self.data.agencies, lang)
        return self._names[lang]

    def prepare(self, change_limit: int, gap_limit: int) -> None:
        """Derive now what the league table reads (for the round's flag limits, in every
        language), rather than on the first request."""
        from assess.app import LANGUAGES

        self.own  # noqa: B018  (cached properties, computed on first read)
        self.levels  # noqa: B018
        self.overall_change  # noqa: B018
        self.flag_kinds(change_limit, gap_limit)
        for lang in LANGUAGES:
            self.options(lang)
            self.names(lang)

    def flags(self, change_limit: int, gap_limit: int) -> pd.DataFrame:
        """The flags table (see :func:`assess.reports.flags.flags`) for the round's limits."""
        from assess.reports.flags import flags

        key = (change_limit, gap_limit)
        if key not in self._flags:
            self._flags[key] = flags(
                self.verified,
                self.own,
                self.trend,
                change_limit=change_limit,
                gap_limit=gap_limit,
            )
        return self._flags[key]


def _same_accepted(earlier: RoundResults | None, now: RoundResults | None) -> bool:
    """Whether two states of a round (or both none) have the same accepted responses'
    tables, and so all that is made of them alone."""
    if earlier is None or now is None:
        return earlier is now
    return (
        earlier.accepted_state is now.accepted_state and earlier.questionnaire is now.questionnaire
    )


#: The cached properties of a dashboard made of the accepted responses' tables alone (and
#: the previous round's).
_FROM_ACCEPTED = ("verified", "own", "levels", "trend", "overall_change", "comparability")


class _Cache:
    """A small thread-safe LRU of values keyed by round id, valid for one signature."""

    def __init__(self, size: int) -> None:
        """An empty cache of at most ``size`` entries."""
        # key → (signature, last checked, value, fingerprint of the agency records)
        self._entries: OrderedDict[Hashable, tuple[Any, float, Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        # key → the lock its builder holds: one build per key at a time, so a request that
        # comes while another (or the warm-up, assess.reports.warm) loads the round waits
        # for that load instead of making its own.
        self._building: dict[Hashable, threading.Lock] = {}
        self._size = size

    def get(
        self,
        key: Hashable,
        signature: Any,
        build: Callable[[Any, Any], Any],
        recheck: Callable[[], Any],
    ) -> Any:
        """The cached value for ``key`` if it was built for ``signature``, else a new one
        (built outside the cache's lock: a slow load blocks only requests for the same key,
        which wait for it rather than load the same thing at the same time).

        ``build(held, extra)`` makes the value:

        - from nothing: ``held`` is ``None`` and ``extra`` what ``recheck()`` (a
          fingerprint of what the signature leaves out) has just given;
        - from the value cached for an earlier signature: ``held`` is that value and
          ``extra`` is ``None``, to bring it up to date;
        - from a cached value whose ``recheck()`` moved: an entry checked more than
          :data:`RECHECK` seconds ago is checked again, and if ``recheck()`` no longer
          gives what it gave then, ``held`` is the value and ``extra`` the new fingerprint,
          to bring it up to date with what the signature leaves out as well.
        """
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            now = time.monotonic()
            with self._lock:
                entry = self._entries.get(key)
            if entry is None:
                extra = recheck()
                value, checked = build(None, extra), now
            else:
                made_for, checked, value, extra = entry
                if now - checked >= RECHECK:
                    again, checked = recheck(), now
                    if again != extra:
                        value, extra, made_for = build(value, again), again, signature
                if made_for != signature:
                    value = build(value, None)
            with self._lock:
                self._entries[key] = (signature, checked, value, extra)
                self._entries.move_to_end(key)
                while len(self._entries) > self._size:
                    gone, _ = self._entries.popitem(last=False)
                    self._building.pop(gone, None)
        return value

    def clear(self) -> None:
        """Forget everything (tests that rebuild a database under the same ids)."""
        with self._lock:
            self._entries.clear()
            self._building.clear()


_results = _Cache(MAX_ROUNDS)
_dashboards = _Cache(MAX_ROUNDS)
_contexts = _Cache(MAX_ROUNDS)


class _StampTotal(FunctionElement[Any]):
    """The exact total of a timestamp column over the rows (its own SQL per database).

    Any row written again with a later time changes it, whatever the order in which the
    writes commit: unlike the latest time, which a save stamped before another but
    committed after it leaves unchanged.
    """

    name = "stamp_total"
    inherit_cache = True


@compiles(_StampTotal)
def _stamp_total_text(element: _StampTotal, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds and
    # microseconds are totalled apart, as integers (no float rounding, no overflow).
    column = compiler.process(element.clauses, **kw)
    return (
        f"(sum(CAST(strftime('%s', {column}) AS INTEGER)) || '.' || "
        f"sum(CAST(substr({column}, 21, 6) AS INTEGER)))"
    )


@compiles(_StampTotal, "postgresql")
def _stamp_total_postgresql(element: _StampTotal, compiler: SQLCompiler, **kw: Any) -> str:
    # Intervals add up exactly in whole microseconds, as cheaply as max() (the epoch as a
    # numeric costs half as much again); a recent origin keeps the days far from overflow.
    column = compiler.process(element.clauses, **kw)
    return f"sum({column} - timestamptz '2024-01-01 00:00+00')"


def _signature_query() -> Select[Any]:
    """The signature's aggregates of one round (``round_id`` bound), in one statement."""
    round_id = bindparam("round_id", type_=Integer)
    status_number = case(
        {s: i + 1 for i, s in enumerate(RESPONSE_STATUSES)}, value=Response.status, else_=0
    )
    return select(
        func.count(Response.id).label("responses"),
        _StampTotal(Response.updated_at).label("saved"),
        _StampTotal(Response.submitted_at).label("submitted"),
        _StampTotal(Response.reviewed_at).label("reviewed"),
        func.sum(status_number * Response.id).label("statuses"),
        # Moved on by the database whenever a result is written (see Response): the
        # results need no reading of their own, whatever their number and history.
        func.sum(Response.results_version).label("results"),
    ).where(Response.round_id == round_id)


#: Built once: only the round changes between requests.
_SIGNATURE = _signature_query()


def signature(round_: Round) -> tuple[Any, ...]:
    """A cheap fingerprint of everything of a round the dashboards show.

    A published round's figures are final (answers and verified values can no longer
    change): its publication time is enough. Otherwise — responses: how many, the totals of
    their save, submission and review times, and a checksum of who is in which status (a
    move without a timestamp, such as an import, still changes it), and the total of their
    results' write counts (a verified value or a recomputation changes it). One scan of the
    round's responses, at most a few thousand rows, however many results the database
    holds of other rounds.
    """
    if round_.status == "published":
        return ("published", round_.published_at)
    return (round_.status, *db.session.execute(_SIGNATURE, {"round_id": round_.id}).one())


def agency_fingerprint(round_id: int) -> Any:
    """A hash of the round's agency records as the dashboards show them (name, type, parent
    and its name, province, tags): what :func:`signature` cannot see.

    PostgreSQL hashes them itself and sends one number: each record hashed to 64 bits and
    the hashes summed, exactly (no order to sort and no JSON to build; a tenth of the time
    of sending the records to hash here); other databases send the records.
    """
    record, joined = reports.shown_records()
    columns = (Agency.code, *record)

    def records(*chosen: Any) -> Select[Any]:
        return joined(
            select(*chosen)
            .select_from(Response)
            .join(Agency, Response.agency_id == Agency.id)
            .where(Response.round_id == round_id)
        )

    if db.engine.dialect.name == "postgresql":
        # Each field hashed with a seed of its own (its place in the record: a value moved
        # to another field changes the hash), the fields' hashes combined by exclusive or,
        # and the records' summed: a record's hash holds its agency's code, so two agencies
        # trading a value still change the total. (Any change goes unseen only if 64-bit
        # hashes cancel out.) About half the time of hashing each record's text (22 against
        # 41 ms at 8,000 agencies, on a slow machine): no record is written out as text.
        hashes = [
            func.hashtextextended(func.coalesce(column, ""), seed)
            for seed, column in enumerate(columns)
        ]
        combined = reduce(lambda one, other: one.bitwise_xor(other), hashes)
        return db.session.scalar(records(func.sum(combined)))
    rows = db.session.execute(records(*columns).order_by(Agency.code)).all()
    # A digest, not hash(): the same in every process (a job's archive keeps it).
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def info(round_: Round) -> RoundInfo:
    """A round's identity as plain values."""
    return RoundInfo(
        round_.id, round_.name, round_.fiscal_year, round_.questionnaire.key, round_.name_en
    )


def _key(round_: Round) -> tuple[Any, ...]:
    """Which round of which database: ids repeat across databases (tests, benchmarks), and
    a round's creation time tells a re-created round from the one before."""
    return (str(db.engine.url), round_.id, round_.created_at)


def _load(round_: Round, fingerprint: tuple[Any, ...]) -> RoundResults:
    """The round's results for a signature already taken. Tables held for an earlier
    signature are brought up to date."""

    def build(held: RoundResults | None, agencies: Any) -> RoundResults:
        if held is None:
            data = _from_nothing(round_, fingerprint, agencies)
        else:
            # Agency records edited (a new fingerprint): the agency rows read again, not
            # the round's results.
            data = reports.refresh(held, round_, records=agencies is not None)
        data.made_for = fingerprint
        return data

    return _results.get(  # type: ignore[no-any-return]
        _key(round_), fingerprint, build, lambda: agency_fingerprint(round_.id)
    )


def _from_nothing(round_: Round, fingerprint: tuple[Any, ...], agencies: Any) -> RoundResults:
    """The round's tables for a process that holds none (``agencies``: the fingerprint of
    the round's agency records, just taken).

    On PostgreSQL, from the round's snapshot (:class:`~assess.models.RoundSnapshot`),
    brought up to date by :func:`~assess.services.reports.refresh`: only what changed since
    is read again, and, if it was made for other agency records, the agency records too
    (``records``). Otherwise loaded. At 8,000 agencies a snapshot is read back in a fifth
    of the time of a load. For a round of at least :data:`SNAPSHOT_FROM` responses, the
    tables are kept as its new snapshot for the next process, unless they are the
    snapshot's own state.
    """
    if db.engine.dialect.name != "postgresql":
        # The embedded SQLite database holds small rounds, and a second connection that
        # writes would wait for the request's own.
        return reports.load(round_)
    made_for = _texts(fingerprint)
    found = reports._driver_rows(
        select(RoundSnapshot.made_for, RoundSnapshot.agencies, RoundSnapshot.data).where(
            RoundSnapshot.round_id == round_.id
        ),
        binary=True,
    )
    data = reports.restore(found[0][2], round_) if found else None
    if data is None:
        data = reports.load(round_)
    else:
        records = found[0][1] != str(agencies)
        if not records and json.loads(found[0][0]) == made_for:
            return data
        # Agency records edited since (another fingerprint): the agency rows read again.
        data = reports.refresh(data, round_, records=records)
    if len(data._rows) >= SNAPSHOT_FROM:
        _keep_snapshot(round_.id, made_for, agencies, data)
    return data


def _texts(fingerprint: tuple[Any, ...]) -> list[str]:
    """A signature as text that compares as it does (each value's ``repr``), to store."""
    return [repr(value) for value in fingerprint]


def _keep_snapshot(round_id: int, made_for: list[str], agencies: Any, data: RoundResults) -> None:
    """Store ``data`` as the round's snapshot, made for the signature ``made_for`` (as
    :func:`_texts`) and the agency records of fingerprint ``agencies``.

    In a transaction of its own (the request's may never commit), that gives up rather
    than wait for another's locks: a snapshot is only ever a shortcut, and the next process
    to load the round from nothing makes one again.
    """
    values = {
        "round_id": round_id,
        "made_for": json.dumps(made_for),
        "agencies": str(agencies),
        "data": reports.snapshot(data),
        "made_at": utcnow(),
    }
    statement = postgresql.insert(RoundSnapshot).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[RoundSnapshot.round_id],
        set_={name: statement.excluded[name] for name in values if name != "round_id"},
    )
    try:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            connection.execute(statement)
    except SQLAlchemyError as error:
        log.warning("round %s: no snapshot of its tables kept (%s)", round_id, error)


def round_results(round_: Round) -> RoundResults:
    """:func:`assess.services.reports.load`, cached while the round's data stays the same."""
    return _load(round_, signature(round_))


def _kept(
    cache: _Cache,
    key: Hashable,
    round_: Round,
    build: Callable[[Round | None, RoundResults, RoundResults | None, Any], Any],
) -> tuple[Any, Round | None]:
    """A value derived from the round's cached tables and its previous round's, kept for as
    long as those stand, and the previous round. The cache above hands back the same table
    objects while nothing changed (agency records included), and the value keeps the
    objects it was built from alive, so their ids cannot be taken by others meanwhile.
    ``build`` is also given the value made for the tables before (or ``None``)."""
    previous = reports.previous_round(round_)
    data = round_results(round_)
    before = round_results(previous) if previous is not None else None
    value = cache.get(
        key,
        (id(data), id(before)),
        lambda held, _: build(previous, data, before, held),
        lambda: None,  # nothing to recheck: the tables above are rechecked
    )
    return value, previous


def dashboard(round_: Round) -> Dashboard:
    """The round's dashboard tables (with the previous published round's, for trends)."""
    board, _ = _kept(
        _dashboards,
        _key(round_),
        round_,
        lambda previous, data, before, held: Dashboard(
            data=data,
            before=before,
            previous=info(previous) if previous is not None else None,
            round_id=round_.id,
        ).keeping(held),
    )
    return board  # type: ignore[no-any-return]


def round_context(round_: Round, *, peers_visible: bool) -> RoundContext:
    """The round's :class:`~assess.services.agency_results.RoundContext` on its cached
    tables, kept for as long as they stand: its comparison groups indexed and its trend
    computed once per state of the round's data, not for every results page or PDF (at
    8,000 agencies a context of its own took 0.5-0.8 s)."""
    return _round_context(round_, peers_visible)[0]


def _round_context(round_: Round, peers_visible: bool) -> tuple[RoundContext, Round | None]:
    """:func:`round_context`, and the previous round (of this request's session)."""
    return _kept(
        _contexts,
        (*_key(round_), peers_visible),
        round_,
        lambda previous, data, before, held: RoundContext(
            round_,
            peers_visible=peers_visible,
            data=data,
            previous=(previous, before) if previous is not None and before is not None else None,
        ).keeping(held),
    )


def agency_results(response: Response, *, peers_visible: bool) -> AgencyResults:
    """One agency's results (its results page, its scorecard) from :func:`round_context`."""
    return agency_results_and_round(response, peers_visible=peers_visible)[0]


def agency_results_and_round(
    response: Response, *, peers_visible: bool
) -> tuple[AgencyResults, RoundResults]:
    """:func:`agency_results`, and the round's tables they were made from (a page that
    shows both reads the round's state once)."""
    context, previous = _round_context(response.round, peers_visible)
    # The previous round of this request, not the one the context was built in (ORM objects
    # do not outlive their request).
    return context.agency(response, previous), context.data


def clear() -> None:
    """Forget every cached round (for tests that rebuild their database)."""
    _results.clear()
    _dashboards.clear()
    _contexts.clear()
