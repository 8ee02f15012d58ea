"""Central office round views: overview, new round, progress monitor, workflow moves, review of
a response (verified values, accept / return), evidence downloads and the audit trail.

Views are thin: they parse a form, call one service, commit, and redirect with a message. On
a refused operation every problem is shown and what the user typed is kept; nothing of the
request is saved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from flask import Response as HttpResponse
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import aliased, selectinload
from werkzeug.wrappers import Response as WerkzeugResponse

from assess import i18n, provinces, search, thai
from assess.app import carried_args, current_language
from assess.auth import central_required
from assess.extensions import db
from assess.formatting import grouped, with_unit
from assess.labels import (
    AGENCY_TYPE,
    DISPUTE_STATUS,
    LANGUAGE,
    RESPONSE_STATUS,
    ROLE,
    ROUND_STATUS,
)
from assess.models import (
    AGENCY_TYPES,
    COORDINATOR,
    DISPUTE_STATUSES,
    RESPONSE_STATUSES,
    ROUND_STATUSES,
    Agency,
    Answer,
    AuditEvent,
    Dispute,
    Evidence,
    QuestionnaireVersion,
    Response,
    Result,
    Round,
    User,
    VerifiedAnswer,
)
from assess.questionnaires import Question, QuestionType
from assess.questionnaires.answers import (
    CSV_NA,
    NA,
    AnswerError,
    AnswerValue,
    parse_csv_value,
    parse_json_value,
    typed_number,
)
from assess.review import bp
from assess.review.forms import (
    DecisionForm,
    DeleteRoundForm,
    InvitationsForm,
    MoveForm,
    ReviewForm,
    RoundForm,
    RoundNameForm,
    SettingsForm,
    VerifyForm,
    choices,
)
from assess.scoring.engine import visibility
from assess.scoring.rounding import round_half_away
from assess.services import agencies as agency_service
from assess.services import disputes as dispute_service
from assess.services import evidence as evidence_service
from assess.services import questionnaires, reports, responses, results
from assess.services import rounds as round_service
from assess.services.errors import InvalidAnswers, ServiceError
from assess.services.exports import neutralise
from assess.services.questionnaires import questionnaire_of
from assess.survey import results_page

PER_PAGE = 50

#: Statuses of responses still expected to submit (the reminder list).
PENDING = ("not_started", "draft", "returned")
#: Responses that count as answered for the response rate.
ANSWERED = ("submitted", "accepted")

#: Workflow moves offered in the page: target status → the button's words.
MOVES = {
    "open": _l("Open the round"),
    "closed": _l("Close the round"),
    "preliminary": _l("Publish preliminary results"),
    "published": _l("Publish the final results"),
}

AUDIT_ACTIONS = {
    "answer": _l("Answer changed"),
    "answers.import": _l("Answers imported"),
    "status": _l("Status changed"),
    "verify": _l("Verified value"),
    "comment": _l("Reviewer comment"),
    "evidence.add": _l("Evidence added"),
    "evidence.remove": _l("Evidence removed"),
    "round.create": _l("Round created"),
    "round.open": _l("Round opened"),
    "round.closed": _l("Round closed"),
    "round.preliminary": _l("Preliminary results published"),
    "round.published": _l("Results published"),
    "dispute.raise": _l("Dispute raised"),
    "dispute.uphold": _l("Dispute upheld"),
    "dispute.reject": _l("Dispute rejected"),
    "round.settings": _l("Round settings changed"),
    "round.invite": _l("Agencies invited"),
    "round.uninvite": _l("Agencies removed from the round"),
    "round.delete": _l("Draft round deleted"),
    "login": _l("Signed in"),
    "password": _l("Password changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "agency.import": _l("Agencies imported"),
    "agency.create": _l("Agency created"),
    "agency.update": _l("Agency changed"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "questionnaire.import": _l("Questionnaire imported"),
}


# -- shared helpers (the admin pages use them too) --------------------------------------------


#: The highest ``?page=`` read: a larger number would overflow the database's OFFSET.
MAX_PAGE = 2**31 - 1


def page_number() -> int:
    """The ``page`` query argument: 1 when missing or wrong, at most :data:`MAX_PAGE`."""
    try:
        number = int(request.args.get("page", ""))
    except ValueError:
        return 1
    return min(max(1, number), MAX_PAGE)


def paginate(query: Select[Any], per_page: int = PER_PAGE) -> Pagination:
    """The page of ``query`` that ``?page=`` asks for; a page past the end shows the last
    one (the count says it is past the end: one more query then, none otherwise)."""
    page = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    if not page.items and page.total and page.page > page.pages:
        page = db.paginate(query, page=page.pages, per_page=per_page, error_out=False)
    return page


def _safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (empty for ``None``)."""
    return "" if value is None else neutralise(value)


def _csv_chunks(rows: Iterable[Sequence[Any]], rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """``rows`` as CSV (UTF-8 with a byte-order mark, so spreadsheets read Thai correctly;
    no cell a spreadsheet would run as a formula), ``rows_per_chunk`` rows at a time."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for count, row in enumerate(rows, 1):
        writer.writerow([_safe_cell(v) for v in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if tail := buffer.getvalue():
        yield tail.encode("utf-8")


def _csv_download(body: Any, filename: str) -> HttpResponse:
    return HttpResponse(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_response(rows: Iterable[Sequence[Any]], filename: str) -> HttpResponse:
    """A CSV download (:func:`_csv_chunks`), made whole before it is sent."""
    return _csv_download(b"".join(_csv_chunks(rows)), filename)


def csv_stream(
    rows: Iterable[Sequence[Any]], filename: str, rows_per_chunk: int = 2000
) -> HttpResponse:
    """:func:`csv_response` written as it downloads, ``rows_per_chunk`` rows at a time; the
    rows are read while it streams, within the request (the database session with it)."""
    return _csv_download(stream_with_context(_csv_chunks(rows, rows_per_chunk)), filename)


def flash_problems(problems: Iterable[str]) -> None:
    for problem in problems:
        flash(problem, "danger")


def iso_local(moment: dt.datetime | None) -> str:
    """A timestamp for exports in ISO 8601, Bangkok time with its offset and seconds
    ("2026-01-23T10:42:07+07:00"): spreadsheets and scripts read it without guessing the
    time zone, and two events of the same minute stay in order."""
    return thai.local(moment).isoformat(timespec="seconds") if moment else ""


def today() -> dt.date:
    return dt.datetime.now(thai.BANGKOK).date()


def _round_or_404(round_id: int) -> Round:
    found = db.session.get(Round, round_id)
    if found is None:
        abort(404)
    return found


def _response_or_404(round_: Round, agency_code: str) -> Response:
    found = db.session.scalar(
        select(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_.id, Agency.code == agency_code)
    )
    if found is None:
        abort(404)
    return found


def figures(counts: dict[str, int]) -> dict[str, Any]:
    """Invited, started, answered and the response rate from ``rounds.status_counts``."""
    invited = sum(counts.values())
    answered = sum(counts[s] for s in ANSWERED)
    return {
        **counts,
        "invited": invited,
        "started": invited - counts["not_started"],
        "answered": answered,
        "rate": (Decimal(100) * answered / invited) if invited else None,
    }


# -- rounds overview and a new round ----------------------------------------------------------


@dataclass
class RoundsFilters:
    """The rounds overview's filters: a status, a fiscal year. Its CSV takes the same ones,
    so that the export holds the rounds the page lists, not every round."""

    status: str = ""
    fiscal_year: int | None = None

    @classmethod
    def from_request(cls) -> RoundsFilters:
        status = request.args.get("status", "")
        return cls(
            status=status if status in ROUND_STATUSES else "",
            fiscal_year=request.args.get("fiscal_year", type=int),  # None beyond a column
        )

    def args(self) -> dict[str, Any]:
        """The non-empty filters, for links that keep them (the CSV's)."""
        return {k: v for k, v in vars(self).items() if v}

    def query(self) -> Select[tuple[Round]]:
        """The rounds as filtered, latest fiscal year and latest round first."""
        query = select(Round).order_by(Round.fiscal_year.desc(), Round.id.desc())
        if self.status:
            query = query.where(Round.status == self.status)
        if self.fiscal_year:
            query = query.where(Round.fiscal_year == self.fiscal_year)
        return query


@bp.route("/rounds", endpoint="rounds")
@central_required
def rounds_overview() -> str:
    filters = RoundsFilters.from_request()
    page = paginate(filters.query(), per_page=25)
    years = db.session.scalars(
        select(Round.fiscal_year).distinct().order_by(Round.fiscal_year.desc())
    ).all()
    return render_template(
        "review/rounds.html",
        page=page,
        figures={r.id: figures(round_service.status_counts(r)) for r in page.items},
        by_type=_rates_by_type([r.id for r in page.items]),
        deadline_of=round_service.deadline,
        years=years,
        status=filters.status,
        fiscal=filters.fiscal_year,
        filters=filters,
        statuses=ROUND_STATUSES,
    )


@bp.route("/rounds.csv")
@central_required
def rounds_csv() -> HttpResponse:
    """The rounds the overview lists with the same filters (every page of them), in its
    order."""
    rows: list[list[Any]] = [
        [
            "id",
            "name",
            "questionnaire",
            "fiscal_year",
            "status",
            "opens_on",
            "closes_on",
            "invited",
            "started",
            "submitted",
            "returned",
            "accepted",
            "response_rate",
        ]
    ]
    for round_ in db.session.scalars(RoundsFilters.from_request().query()):
        f = figures(round_service.status_counts(round_))
        rows.append(
            [
                round_.id,
                round_.name,
                round_.questionnaire.key,
                round_.fiscal_year,
                round_.status,
                round_.opens_on.isoformat() if round_.opens_on else "",
                round_.closes_on.isoformat() if round_.closes_on else "",
                f["invited"],
                f["started"],
                f["submitted"],
                f["returned"],
                f["accepted"],
                "" if f["rate"] is None else str(round_half_away(f["rate"], 1)),
            ]
        )
    return csv_response(rows, "rounds.csv")


def _round_dates(round_: Round) -> str:
    """The dates a new round was given, as its pages write them ("Opens 1 ธ.ค. 2569.
    Deadline 31 มี.ค. 2570."): a date the browser could not read (30 February) reaches the
    server empty, so the confirmation says what was actually stored."""
    lang = current_language()
    opens = (
        _("Opens %(day)s.", day=thai.format_date(round_.opens_on, lang))
        if round_.opens_on
        else _("No opening day: answers are accepted once the round is opened.")
    )
    closes = (
        _("Deadline %(day)s.", day=thai.format_date(round_.closes_on, lang))
        if round_.closes_on
        else _("No deadline.")
    )
    return f"{opens} {closes}"


#: A Buddhist Era year in a questionnaire's version ("2569", "2569.1", "2569-rev2").
_VERSION_YEAR = re.compile(r"(?<!\d)(2[4-7]\d\d)(?!\d)")


def version_year(version: str) -> int | None:
    """The fiscal year a questionnaire version names ("2569" → 2569), or ``None``."""
    found = _VERSION_YEAR.search(version)
    return int(found.group(1)) if found else None


def _round_new_page(form: RoundForm, versions: Sequence[QuestionnaireVersion]) -> str:
    """The new-round page, warning (not refusing) when the chosen questionnaire's version
    names another fiscal year than the round's: a round may reuse last year's questionnaire,
    but its title then names that year. round-new.js keeps the warning in step with the
    choices, from the versions' years and the message given to it here."""
    years = {v.id: version_year(v.version) for v in versions}
    chosen = next((v for v in versions if v.id == form.questionnaire.data), None)
    year = form.fiscal_year.data
    warning = ""
    if chosen is not None and year and years[chosen.id] not in (None, year):
        warning = _version_warning(chosen.version, year)
    script = {
        "years": {str(version_id): y for version_id, y in years.items() if y is not None},
        "versions": {str(v.id): v.version for v in versions},
        "message": _version_warning("%(version)s", "%(year)s"),
    }
    return render_template("review/round_new.html", form=form, warning=warning, script=script)


def _version_warning(version: str, year: object) -> str:
    return _(
        "Questionnaire version %(version)s names another fiscal year than the round's "
        "(%(year)s). A round may use an earlier year's questionnaire: check that this is "
        "the one you mean.",
        version=version,
        year=year,
    )


@bp.route("/rounds/new", methods=["GET", "POST"])
@central_required
def new_round() -> str | WerkzeugResponse | tuple[str, int]:
    form = RoundForm()
    lang = current_language()
    # The newest version of the questionnaire imported last first (and pre-selected), not
    # whichever file was imported last (a typo'd 2570.2 before 2570, say).
    versions = questionnaires.newest_first(questionnaires.versions())
    form.questionnaire.choices = choices((v.id, f"{v.key} · {v.title(lang)}") for v in versions)
    if request.method == "GET":
        form.fiscal_year.data = thai.fiscal_year(today())
        if versions:
            form.questionnaire.data = versions[0].id
    if not versions:
        flash(_("Import a questionnaire version before creating a round."), "warning")
    if form.validate_on_submit():
        problems: list[str] = []
        invited: list[Agency] | None = None
        if form.invite.data == "types":
            kinds = [k for k in form.agency_types.data or [] if k in AGENCY_TYPES]
            if not kinds:
                problems.append(_("Choose at least one agency type."))
            invited = list(
                db.session.scalars(
                    select(Agency)
                    .where(Agency.active.is_(True), Agency.type.in_(kinds))
                    .order_by(Agency.code)
                )
            )
        elif form.invite.data == "codes":
            codes = agency_service.split_codes(form.agency_codes.data or "")
            if not codes:
                problems.append(_("List the codes of the agencies to invite."))
            invited, unknown = agency_service.find_codes(codes)
            if unknown:
                problems.append(agency_service.unknown_codes_problem(unknown))
        version = db.session.get(QuestionnaireVersion, form.questionnaire.data)
        if version is None:
            problems.append(_("Choose a questionnaire version."))
        if not problems and version is not None:
            try:
                round_ = round_service.create_round(
                    version,
                    form.name.data or "",
                    form.fiscal_year.data or 0,
                    opens_on=form.opens_on.data,
                    closes_on=form.closes_on.data,
                    agencies=invited,
                    live_preview=bool(form.live_preview.data),
                    actor=current_user,
                    name_en=form.name_en.data or "",
                )
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                invited = len(round_.responses)
                created = ngettext(
                    "Round “%(name)s” created in draft with %(count)s invited agency.",
                    "Round “%(name)s” created in draft with %(count)s invited agencies.",
                    invited,
                    name=round_.title(current_language()),
                    count=f"{invited:,}",
                )
                flash(f"{created} {_round_dates(round_)}", "success")
                return redirect(url_for(".round", round_id=round_.id))
        flash_problems(problems)
        return _round_new_page(form, versions), 422
    if form.errors:
        return _round_new_page(form, versions), 422
    return _round_new_page(form, versions)


# -- the round: progress monitor --------------------------------------------------------------


#: The monitor's orders (``?sort=``): by code, first come first served (submitted, oldest
#: first), latest activity first, by status in the order of the workflow.
SORTS = ("code", "submitted", "activity", "status")

#: A response's status as its place in the workflow (not_started … accepted), not the
#: alphabet of its code (which put submitted last).
STATUS_RANK = case(
    {s: i for i, s in enumerate(RESPONSE_STATUSES)},
    value=Response.status,
    else_=len(RESPONSE_STATUSES),
)


@dataclass
class MonitorFilters:
    status: str = ""
    type: str = ""
    province: str = ""
    q: str = ""
    sort: str = "code"

    @classmethod
    def from_request(cls) -> MonitorFilters:
        """The monitor's filters in the query: the monitor's own, and the review page's, whose
        links carry them (its "Next awaiting review" follows them)."""
        args = request.args
        status = args.get("status", "")
        kind = args.get("type", "")
        sort = args.get("sort", "code")
        return cls(
            status=status if status in (*RESPONSE_STATUSES, "pending") else "",
            type=kind if kind in AGENCY_TYPES else "",
            province=args.get("province", "").strip(),
            q=search.normalise(args.get("q")),
            sort=sort if sort in SORTS else "code",
        )

    def args(self, **changes: str) -> dict[str, str]:
        """The non-empty filters, for links that keep them; ``changes`` replace some
        (``status="pending"``: the reminder list of the same agencies, whatever status the
        page shows)."""
        chosen = replace(self, **changes)
        return {k: v for k, v in vars(chosen).items() if v and not (k == "sort" and v == "code")}

    def order(self) -> list[Any]:
        """The ORDER BY of the monitor (the agency's code breaks ties)."""
        if self.sort == "submitted":
            return [Response.submitted_at.asc().nulls_last(), Agency.code]
        if self.sort == "activity":
            return [Response.updated_at.desc().nulls_last(), Agency.code]
        if self.sort == "status":
            return [STATUS_RANK, Agency.code]
        return [Agency.code]

    def after(self, response: Response) -> ColumnElement[bool]:
        """Whether a row of the monitor comes after ``response`` in its order."""
        code = response.agency.code
        later_code = Agency.code > code
        if self.sort == "status":
            rank, status_rank = RESPONSE_STATUSES.index(response.status), STATUS_RANK
            return or_(status_rank > rank, and_(status_rank == rank, later_code))
        if self.sort in ("submitted", "activity"):
            column = Response.submitted_at if self.sort == "submitted" else Response.updated_at
            at = getattr(response, column.key)
            if at is None:  # last, with the others that have none: by code
                return and_(column.is_(None), later_code)
            later = column > at if self.sort == "submitted" else column < at
            return or_(later, and_(column == at, later_code), column.is_(None))
        return later_code


@dataclass(frozen=True)
class Records:
    """The agency records a round's pages count and filter by, as columns (their names as
    :class:`~assess.models.ResponseAgency`'s), with what joins them to a select of the
    round's responses joined to their agencies.

    They are the records the round's results show (:func:`reports.shown_records`): those
    kept when its results came out (preliminary or final), else the agencies' as they are
    now. The monitor and its response rates by type then count a published round's agencies
    as its dashboards, benchmarks and open data do, whatever later edits of the agency list
    say; a round under way follows the agency list."""

    name_th: Any
    name_en: Any
    type: Any
    parent_code: Any
    parent_name_th: Any
    parent_name_en: Any
    province: Any
    tags: Any
    joined: Callable[[Select[Any]], Select[Any]]

    @classmethod
    def shown(cls) -> Records:
        """New records (their joins' aliases are their own: one ``joined`` a select)."""
        columns, joined = reports.shown_records()
        return cls(*columns, joined=joined)


def _monitor_query(round_: Round, filters: MonitorFilters) -> Select[tuple[Response]]:
    """The round's responses as filtered and sorted, with their agencies and results."""
    return _monitored(
        select(Response).options(selectinload(Response.agency), selectinload(Response.results)),
        round_,
        filters,
    )


def _monitored(
    query: Select[Any], round_: Round, filters: MonitorFilters, records: Records | None = None
) -> Select[Any]:
    """``query`` (of responses, joined to their agencies and their :class:`Records` here)
    as filtered and sorted; ``records``: the ones ``query`` selects columns of, if any."""
    records = records or Records.shown()
    query = records.joined(
        query.select_from(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_.id)
    )
    if filters.status == "pending":
        query = query.where(Response.status.in_(PENDING))
    elif filters.status:
        query = query.where(Response.status == filters.status)
    if filters.type:
        query = query.where(records.type == filters.type)
    if filters.province:
        query = query.where(records.province.in_(provinces.spellings(filters.province)))
    # A word of the names or province as the agency list has them now or as the round's
    # results show them.
    also = (records.name_th, records.name_en, records.province)
    query = query.where(*search.agency_words(filters.q, also=also))
    return query.order_by(*filters.order())


def _shown_records(items: Sequence[Response]) -> dict[int, dict[str, str]]:
    """The type and province of each response's agency as its round's results show them
    (:class:`Records`), by response id: what the monitor's rows say beside its filters."""
    records = Records.shown()
    rows = db.session.execute(
        records.joined(
            select(Response.id, records.type, records.province)
            .select_from(Response)
            .join(Agency, Response.agency_id == Agency.id)
            .where(Response.id.in_([r.id for r in items]))
        )
    )
    return {i: {"type": kind, "province": province} for i, kind, province in rows}


def _rate_by_type(round_: Round) -> list[dict[str, Any]]:
    return _rates_by_type([round_.id])[round_.id]


def _rates_by_type(round_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each round's response rate by agency type (invited, submitted or accepted, the
    rate), types in their usual order: one query for every round of a page. The types are
    those the round's results show (:class:`Records`): a published round's as its
    dashboards count them."""
    records = Records.shown()
    rows = db.session.execute(
        records.joined(
            select(Response.round_id, records.type, Response.status, func.count())
            .select_from(Response)
            .join(Agency, Response.agency_id == Agency.id)
            .where(Response.round_id.in_(round_ids))
        ).group_by(Response.round_id, records.type, Response.status)
    )
    tables: dict[int, dict[str, dict[str, int]]] = {i: {} for i in round_ids}
    for round_id, kind, status, n in rows:
        counts = tables[round_id].setdefault(kind, {"invited": 0, "answered": 0})
        counts["invited"] += n
        if status in ANSWERED:
            counts["answered"] += n
    order = {k: i for i, k in enumerate(AGENCY_TYPES)}
    return {
        round_id: [
            {
                "type": kind,
                **counts,
                "rate": Decimal(100) * counts["answered"] / counts["invited"],
            }
            for kind, counts in sorted(table.items(), key=lambda kv: order.get(kv[0], 99))
        ]
        for round_id, table in tables.items()
    }


def _coordinators(round_: Round) -> dict[int, list[str]]:
    """The e-mails of the active coordinators of the round's agencies, by agency id (joined
    in the database: 8,000 agency ids as parameters took longer than the rest)."""
    out: dict[int, list[str]] = defaultdict(list)
    for agency_id, email in db.session.execute(
        select(User.agency_id, User.email)
        .join(Response, Response.agency_id == User.agency_id)
        .where(Response.round_id == round_.id, User.role == COORDINATOR, User.active.is_(True))
        .order_by(User.email)
    ):
        out[agency_id].append(email)
    return out


@bp.route("/rounds/<int:round_id>", endpoint="round")
@central_required
def round_page(
    round_id: int,
    settings_form: SettingsForm | None = None,
    invitations_form: InvitationsForm | None = None,
) -> str:
    """The round's page; ``settings_form`` and ``invitations_form`` are refused forms, shown
    as typed."""
    round_ = _round_or_404(round_id)
    filters = MonitorFilters.from_request()
    page = paginate(_monitor_query(round_, filters))
    records = Records.shown()
    provinces = db.session.scalars(
        records.joined(
            select(records.province)
            .select_from(Response)
            .join(Agency, Response.agency_id == Agency.id)
            .where(Response.round_id == round_.id)
        )
        .where(records.province != "")
        .distinct()
        .order_by(records.province)
    ).all()
    counts = round_service.status_counts(round_)
    moves = [t for t, sources in round_service.TRANSITIONS.items() if round_.status in sources]
    return render_template(
        "review/round.html",
        round=round_,
        questionnaire=questionnaire_of(round_.questionnaire),
        page=page,
        shown=_shown_records(page.items),
        filters=filters,
        provinces=provinces,
        figures=figures(counts),
        by_type=_rate_by_type(round_),
        moves=moves,
        move_labels=MOVES,
        closed_reason=round_service.closed_reason(round_),
        deadline=round_service.deadline(round_),
        name_form=RoundNameForm(name_en=round_.name_en),
        # A refused form opens its panel: the dates typed are there to correct, whether a
        # field or the service (a deadline before the opening day) refused them.
        settings_refused=settings_form is not None,
        settings_form=settings_form
        or SettingsForm(
            name_en=round_.name_en,
            live_preview=round_.live_preview,
            opens_on=round_.opens_on,
            closes_on=round_.closes_on,
            anonymise_peers=round_.anonymise_peers,
            flag_change=round_.flag_change,
            flag_verified_gap=round_.flag_verified_gap,
            disputes_close_on=round_.disputes_close_on,
        ),
        invitations_refused=invitations_form is not None,
        invitations_form=invitations_form or InvitationsForm(formdata=None),
        not_invited=round_service.not_invited_by_type(round_)
        if round_.status in round_service.INVITING
        else Counter(),
        disputes=_dispute_counts(round_),
        disputes_open=round_service.disputes_open(round_),
        result_of=results.result_of,
        statuses=RESPONSE_STATUSES,
    )


@bp.route("/rounds/<int:round_id>/responses.csv")
@central_required
def round_csv(round_id: int) -> HttpResponse:
    """The progress table as filtered, every page; with the coordinators' e-mails."""
    round_ = _round_or_404(round_id)
    filters = MonitorFilters.from_request()
    # Plain columns in one query: no ORM objects (8,000 responses, their agencies and
    # 16,000 results with their dimensions took 1.6 s; this takes a tenth).
    own, checked = aliased(Result), aliased(Result)
    records = Records.shown()
    found = db.session.execute(
        _monitored(
            select(
                Response.agency_id,
                Agency.code,
                Agency.name_th,
                Agency.name_en,
                records.type,
                records.province,
                Response.status,
                Response.completeness,
                Response.updated_at,
                Response.submitted_at,
                own.overall_score,
                own.overall_level,
                checked.overall_score,
                checked.overall_level,
            ),
            round_,
            filters,
            records,
        )
        .outerjoin(own, (own.response_id == Response.id) & (own.kind == "self"))
        .outerjoin(checked, (checked.response_id == Response.id) & (checked.kind == "verified"))
    ).all()
    emails = _coordinators(round_)
    rows: list[list[Any]] = [
        [
            "agency",
            "name_th",
            "name_en",
            "type",
            "province",
            "status",
            "completeness",
            "last_activity",
            "submitted_at",
            "self_score",
            "self_level",
            "verified_score",
            "verified_level",
            "coordinator_emails",
        ]
    ]
    for row in found:
        # A response never started has no scores (a round scored as a whole gave it zeros).
        started = row.status != "not_started"
        rows.append(
            [
                *row[1:8],  # the agency's code to the response's completeness
                iso_local(row.updated_at),
                iso_local(row.submitted_at),
                *((value if started else None) or "" for value in row[10:]),
                "; ".join(emails.get(row.agency_id, [])),
            ]
        )
    suffix = "-reminders" if filters.status == "pending" else ""
    return csv_response(rows, f"round-{round_.id}{suffix}.csv")


# -- workflow moves and settings --------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/move/<target>", methods=["GET", "POST"])
@central_required
def move_round(round_id: int, target: str) -> str | WerkzeugResponse:
    round_ = _round_or_404(round_id)
    if target not in MOVES:
        abort(404)
    form = MoveForm()
    if request.method == "POST":
        problems: list[str] = []
        if not form.validate_on_submit():
            problems = [e for errors in form.errors.values() for e in errors]
        elif target == "preliminary" and form.disputes_close_on.data is None:
            # An emptied field is not the default: the page asks for the day (it offers one).
            problems = [_("Give the last day agencies may dispute the results.")]
        if problems:
            # Back to this page, which asks again: nothing was moved.
            flash_problems(problems)
            return redirect(url_for(".move_round", round_id=round_.id, target=target))
        try:
            late = round_service.deadline_passed(round_) if target == "open" else None
            if late:
                raise ServiceError(late)
            round_service.move(
                round_,
                target,
                current_user,
                disputes_close_on=form.disputes_close_on.data if target == "preliminary" else None,
            )
            publishing = target in ("preliminary", "published")
            scored = results.recompute_round(round_) if publishing else None
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash_problems(exc.problems)
        else:
            message = {
                "open": _("The round is open: coordinators can answer."),
                "closed": _("The round is closed: answers can no longer be changed."),
                "preliminary": _(
                    "The preliminary results are published: each agency sees its own results "
                    "and may dispute them until the end of %(day)s.",
                    day=i18n.day(round_.disputes_close_on) if round_.disputes_close_on else "–",
                ),
                "published": _("The results are published."),
            }[target]
            if scored is not None:
                message += " " + _("%(count)s responses were scored again.", count=f"{scored:,}")
            flash(message, "success")
        return redirect(url_for(".round", round_id=round_.id))
    allowed = round_.status in round_service.TRANSITIONS[target]
    if target == "preliminary" and form.disputes_close_on.data is None:
        form.disputes_close_on.data = thai.today() + dt.timedelta(days=round_service.DISPUTE_DAYS)
    return render_template(
        "review/move.html",
        open_disputes=round_service.open_disputes(round_),
        round=round_,
        target=target,
        label=MOVES[target],
        allowed=allowed,
        sources=", ".join(str(ROUND_STATUS[s]) for s in round_service.TRANSITIONS[target]),
        figures=figures(round_service.status_counts(round_)),
        form=form,
        deadline_passed=round_service.deadline_passed(round_) if target == "open" else None,
        # Publishing the final results ends a dispute window still open (the agencies were
        # told they could dispute until its last day): the page says so, the admin decides.
        disputes_open=target == "published" and round_service.disputes_open(round_),
    )


@bp.route("/rounds/<int:round_id>/settings", methods=["POST"])
@central_required
def round_settings(round_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Change a round's dates (extend the deadline, say) and its live preview.

    Refused settings are shown again as typed, each error under its field (status 422):
    a redirect would lose what was typed, and a bare "Not a valid date value." would not
    say which date."""
    round_ = _round_or_404(round_id)
    form = SettingsForm()
    if not form.validate_on_submit():
        flash(_("The settings were not saved: see the fields marked in the settings."), "danger")
        return round_page(round_.id, settings_form=form), 422
    try:
        changed = round_service.update_settings(
            round_,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            live_preview=bool(form.live_preview.data),
            anonymise_peers=bool(form.anonymise_peers.data),
            flag_change=form.flag_change.data,
            flag_verified_gap=form.flag_verified_gap.data,
            disputes_close_on=form.disputes_close_on.data
            if round_.status == "preliminary"
            else None,
            actor=current_user,
            name_en=form.name_en.data or "",
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash_problems(exc.problems)
        return round_page(round_.id, settings_form=form), 422
    flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for(".round", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/invitations", methods=["POST"])
@central_required
def round_invitations(round_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Invite more agencies to a round before it closes, or take out agencies that have not
    begun. Refused, the form comes back as typed (status 422), its panel open."""
    round_ = _round_or_404(round_id)
    form = InvitationsForm()
    removing = bool(form.remove.data)
    problems: list[str] = []
    chosen: list[Agency] = []
    codes = agency_service.split_codes(form.agency_codes.data or "")
    kinds = [k for k in form.agency_types.data or [] if k in AGENCY_TYPES]
    everyone = bool(form.everyone.data)
    if not form.validate_on_submit():
        problems = [str(e) for errors in form.errors.values() for e in errors]
    elif removing and (everyone or kinds):
        problems.append(_("Agencies are taken out of a round by their codes only."))
    elif not (codes or everyone or kinds):
        problems.append(_("List the codes of the agencies."))
    else:
        chosen, unknown = agency_service.find_codes(codes)
        if unknown:
            problems.append(agency_service.unknown_codes_problem(unknown))
            if removing:  # what else stops the removal, told at once
                problems += round_service.uninvite_problems(round_, chosen)
        if everyone or kinds:
            more = [a for a in round_service.not_invited(round_) if everyone or a.type in kinds]
            if everyone and not more and not codes:
                problems.append(_("Every active agency is invited already."))
            chosen += more
    try:
        if problems:
            raise ServiceError(problems)
        if removing:
            count = round_service.uninvite(round_, chosen, current_user)
        else:
            count = round_service.invite(round_, chosen, current_user)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash_problems(exc.problems)
        return round_page(round_.id, invitations_form=form), 422
    if removing:
        message = ngettext(
            "%(num)d agency removed from the round.",
            "%(num)d agencies removed from the round.",
            count,
        )
    elif count:
        message = (
            ngettext(
                "%(num)d agency invited: its coordinators see the round now.",
                "%(num)d agencies invited: their coordinators see the round now.",
                count,
            )
            if round_.status == "open"
            else ngettext("%(num)d agency invited.", "%(num)d agencies invited.", count)
        )
    else:
        message = _("These agencies are invited already: nothing changed.")
    flash(message, "success")
    return redirect(url_for(".round", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/delete", methods=["GET", "POST"])
@central_required
def delete_round(round_id: int) -> str | WerkzeugResponse:
    """Delete a round still in draft, after a confirmation page saying what goes with it."""
    round_ = _round_or_404(round_id)
    form = DeleteRoundForm()
    if form.validate_on_submit():
        name = round_.title(current_language())
        try:
            round_service.delete_draft(round_, current_user)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash_problems(exc.problems)
            return redirect(url_for(".round", round_id=round_id))
        flash(_("The draft round %(name)s is deleted.", name=name), "success")
        return redirect(url_for(".rounds"))
    return render_template(
        "review/delete_round.html",
        round=round_,
        form=form,
        figures=figures(round_service.status_counts(round_)),
    )


@bp.route("/rounds/<int:round_id>/name", methods=["POST"])
@central_required
def round_name(round_id: int) -> WerkzeugResponse:
    """A published round's English name (its other settings are final)."""
    round_ = _round_or_404(round_id)
    form = RoundNameForm()
    if not form.validate_on_submit():
        flash_problems(str(e) for errors in form.errors.values() for e in errors)
    elif round_service.rename(round_, form.name_en.data or "", current_user):
        db.session.commit()
        flash(_("Settings saved."), "success")
    else:
        flash(_("Nothing changed."), "success")
    return redirect(url_for(".round", round_id=round_.id))


# -- reviewing one response ------------------------------------------------------------------


@dataclass
class Shown:
    """An answer as a reviewer reads it."""

    empty: bool = False
    na: bool = False
    items: list[str] = field(default_factory=list)
    note: str = ""
    long: bool = False


def show_value(question: Question, value: AnswerValue | None, lang: str) -> Shown:
    """An answer rendered readably: option labels, N/A, yes/no, number and unit, text."""
    if value is None:
        return Shown(empty=True)
    if value is NA:
        return Shown(na=True)
    if question.has_options:
        chosen = value if isinstance(value, tuple) else (value,)
        items = []
        for v in chosen:
            option = question.option(v)  # type: ignore[arg-type]
            label = option.label.get(lang) if option else str(v)
            points = (
                f" · {format(option.points.normalize(), 'f')} " + _("pts")
                if option and question.is_scored
                else ""
            )
            items.append(f"{label} [{v}{points}]")
        return Shown(items=items)
    if question.type is QuestionType.YESNO:
        return Shown(items=[_("Yes") if value else _("No")])
    if question.type is QuestionType.NUMBER:
        assert isinstance(value, Decimal)
        unit = question.unit.get(lang) if question.unit else ""
        return Shown(items=[with_unit(grouped(value), unit)])
    return Shown(items=[str(value)], long=True)


def form_values(question: Question, raw: Any) -> list[str]:
    """A stored JSON value as the verify form's input values."""
    if raw is None:
        return []
    if raw == {"na": True}:
        return [CSV_NA]
    if isinstance(raw, list):
        return [str(v) for v in raw]
    if isinstance(raw, bool):
        return ["yes" if raw else "no"]
    if isinstance(raw, float):
        return [format(Decimal(repr(raw)), "f")]
    return [str(raw)]


def parse_verify_input(question: Question, values: Sequence[str]) -> Any:
    """The verify form's input as the JSON interchange value (``None``: remove).

    Options keep their type (``3`` stays an integer), a multi gives a list, yes/no a boolean,
    N/A ``{"na": true}``. Raises :class:`AnswerError` when the input does not fit.
    """
    given = [v for v in values if v.strip()]
    if not given:
        return None
    if CSV_NA in (v.strip() for v in given):
        if len(given) > 1:
            raise AnswerError(_("not applicable cannot be combined with a value"))
        cell = CSV_NA
    elif question.type is QuestionType.MULTI:
        cell = "|".join(v.strip() for v in given)
    elif len(given) > 1:
        raise AnswerError(_("give one value"))
    else:
        cell = given[0]
    if question.type is QuestionType.NUMBER:
        cell = typed_number(cell)  # as the answer page takes it: ๑,๒๕๐ is 1250
    parsed = parse_csv_value(question, cell)
    return None if parsed is None else responses.stored(parsed)


@dataclass
class QuestionRow:
    question: Question
    visible: bool
    answer: Shown
    verified: Any  # VerifiedAnswer | None
    verified_shown: Shown | None
    evidence: list[Evidence]
    comments: list[Any]
    form_values: list[str]
    reason: str
    #: Why the verify form was refused: the value does not fit, the reason is missing, or the
    #: refusal concerns neither field (the round's state …). The page marks the field at fault.
    problems: list[str]
    value_problems: list[str] = field(default_factory=list)
    reason_problems: list[str] = field(default_factory=list)


def _review_context(
    round_: Round,
    response: Response,
    *,
    typed: dict[str, dict[str, Any]] | None = None,
    problems: dict[str, dict[str, list[str]]] | None = None,
    review_typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    lang = current_language()
    questionnaire = questionnaire_of(response.questionnaire)
    own, _verified = results.answer_sets(response)
    visible = visibility(questionnaire, own)
    verified_rows = {v.question_code: v for v in response.verified}
    evidence_by: dict[str, list[Evidence]] = defaultdict(list)
    for item in response.evidence:
        evidence_by[item.question_code].append(item)
    comments_by: dict[str, list[Any]] = defaultdict(list)
    for comment in response.comments:
        if comment.question_code:
            comments_by[comment.question_code].append(comment)
    typed = typed or {}
    problems = problems or {}
    dimensions = []
    for dim in questionnaire.dimensions:
        rows = []
        for q in dim.questions:
            row = verified_rows.get(q.code)
            verified_shown = None
            if row is not None:
                try:
                    verified_shown = show_value(q, parse_json_value(q, row.value), lang)
                except AnswerError:
                    verified_shown = Shown(items=[json.dumps(row.value, ensure_ascii=False)])
            mine = typed.get(q.code)
            refused = problems.get(q.code, {})
            rows.append(
                QuestionRow(
                    question=q,
                    visible=visible.get(q.code, True),
                    answer=show_value(q, own.get(q.code), lang),
                    verified=row,
                    verified_shown=verified_shown,
                    evidence=evidence_by.get(q.code, []),
                    comments=comments_by.get(q.code, []),
                    form_values=mine["values"]
                    if mine
                    else form_values(q, row.value if row else None),
                    reason=mine["reason"] if mine else "",
                    problems=refused.get("form", []),
                    value_problems=refused.get("value", []),
                    reason_problems=refused.get("reason", []),
                )
            )
        dimensions.append((dim, rows))
    # A response nobody started has no scores worth showing (only zeros of empty answers).
    started = response.status != "not_started" or bool(response.verified)
    own_result = results.result_of(response, "self") if started else None
    checked_result = results.result_of(response, "verified") if started else None
    can_review = round_.status in ("open", "closed")
    filters = MonitorFilters.from_request()
    review_typed = review_typed or {}
    return {
        "round": round_,
        "response": response,
        "agency": response.agency,
        "questionnaire": questionnaire,
        "dimensions": dimensions,
        "own": own_result,
        "checked": checked_result,
        "general_comments": [c for c in response.comments if not c.question_code],
        "all_comments": sorted(response.comments, key=lambda c: c.id, reverse=True),
        "can_accept": can_review and response.status == "submitted",
        "can_return": can_review and response.status in ("submitted", "accepted"),
        "can_review": can_review,
        "can_verify": round_.status in ("open", "closed", "preliminary"),
        "typed_comment": review_typed.get("comment", ""),
        "typed_qcomments": review_typed.get("questions", {}),
        # Reviews end with the results: no queue to go on to after them.
        "next_up": next_up(round_, response, filters) if can_review else None,
        "monitor": filters.args(),
        "verified_count": len(verified_rows),
        "CSV_NA": CSV_NA,
        "previewed": previewed,
    }


def next_up(round_: Round, response: Response, filters: MonitorFilters) -> str | None:
    """The code of the next response awaiting review after ``response`` in the monitor the
    reviewer came from: its type, province and search, in its order, from the top again
    after the last (whatever its status filter: awaiting review is submitted)."""
    queue = replace(filters, status="submitted")
    found: str | None = db.session.scalar(
        _monitored(select(Agency.code), round_, queue)
        .where(Response.id != response.id)
        .order_by(None)
        .order_by(case((queue.after(response), 0), else_=1), *queue.order())
        .limit(1)
    )
    return found


@bp.route("/rounds/<int:round_id>/responses/<agency_code>")
@central_required
def response(round_id: int, agency_code: str) -> str:
    round_ = _round_or_404(round_id)
    found = _response_or_404(round_, agency_code)
    return render_template("review/response.html", **_review_context(round_, found))


@bp.route("/rounds/<int:round_id>/responses/<agency_code>/verify", methods=["POST"])
@central_required
def verify(round_id: int, agency_code: str) -> WerkzeugResponse | tuple[str, int]:
    round_ = _round_or_404(round_id)
    found = _response_or_404(round_, agency_code)
    form = VerifyForm()
    code = (form.code.data or "").strip()
    questionnaire = questionnaire_of(found.questionnaire)
    question = questionnaire.questions.get(code)
    if question is None or not form.validate_on_submit():
        abort(400)
    values = request.form.getlist("value")
    reason = form.reason.data or ""
    # Each problem is the value's, the reason's or the form's: the page marks the field at
    # fault, not always the reason.
    refused: dict[str, list[str]] = {"value": [], "reason": [], "form": []}
    value: Any = None
    try:
        value = parse_verify_input(question, values)
    except AnswerError as exc:
        refused["value"].append(
            _("Question %(code)s: %(reason)s", code=code, reason=i18n.reason(exc))
        )
    existing = next((v for v in found.verified if v.question_code == code), None)
    if not refused["value"] and value is None and existing is None:
        refused["value"].append(
            _("Question %(code)s: enter the verified value (empty removes one).", code=code)
        )
    if not refused["value"] and not reason.strip():
        # As responses.verify refuses it (after the value's problems, as before), but here the
        # page knows that the reason is at fault.
        refused["reason"].append(
            _(
                "Question %(code)s: %(reason)s",
                code=code,
                reason=_("give the reason for the verified value"),
            )
        )
    elif len(reason.strip()) > responses.REASON_LIMIT:
        refused["reason"].append(
            _("Question %(code)s: %(reason)s", code=code, reason=responses.reason_too_long())
        )
    if not refused["value"] and not refused["reason"]:
        try:
            responses.verify(found, current_user, code, value, reason)
            db.session.commit()
        except InvalidAnswers as exc:  # the reason is given: the value does not fit
            db.session.rollback()
            refused["value"] = exc.problems
        except ServiceError as exc:
            db.session.rollback()
            refused["form"] = exc.problems
        else:
            if value is None:
                flash(_("The verified value of %(code)s was removed.", code=code), "success")
            else:
                flash(_("Verified value of %(code)s recorded.", code=code), "success")
            return redirect(
                url_for(
                    ".response",
                    round_id=round_.id,
                    agency_code=agency_code,
                    _anchor=f"q-{code}",
                    **MonitorFilters.from_request().args(),
                )
            )
    flash_problems(refused["form"] + refused["value"] + refused["reason"])
    context = _review_context(
        round_,
        found,
        typed={code: {"values": values, "reason": reason}},
        problems={code: refused},
    )
    # The form posts to this path with the question's anchor (#q-CODE), which the browser
    # keeps: the page opens at the refused form, and review.js moves the focus to its field.
    return render_template("review/response.html", **context, open_verify=code), 422


@bp.route("/rounds/<int:round_id>/responses/<agency_code>/review", methods=["POST"])
@central_required
def review_action(round_id: int, agency_code: str) -> WerkzeugResponse | tuple[str, int]:
    round_ = _round_or_404(round_id)
    found = _response_or_404(round_, agency_code)
    form = ReviewForm()
    action = form.action.data or ""
    comment = form.comment.data or ""
    per_question = {
        key.removeprefix("qcomment-"): text
        for key, text in request.form.items()
        if key.startswith("qcomment-") and text.strip()
    }
    seen_status = form.seen_status.data if form.seen_status.data in RESPONSE_STATUSES else None
    seen_revision = (
        int(form.seen_revision.data) if (form.seen_revision.data or "").isdigit() else None
    )
    monitor = MonitorFilters.from_request().args()
    problems: list[str] = []
    status = 422
    if not form.validate_on_submit():
        problems.append(_("Choose accept or return."))
    else:
        try:
            responses.review(
                found,
                current_user,
                action,
                comment,
                per_question,
                expected_status=seen_status,
                expected_revision=seen_revision,
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            problems = exc.problems
            if seen_status is not None and found.status != seen_status:
                status = 409  # decided on a page that no longer shows the response as it is
        else:
            if action == "accept":
                flash(_("The response of %(code)s is accepted.", code=agency_code), "success")
            else:
                flash(
                    _(
                        "The response of %(code)s is returned to the coordinator with your comments.",
                        code=agency_code,
                    ),
                    "success",
                )
            return redirect(
                url_for(".response", round_id=round_.id, agency_code=agency_code, **monitor)
            )
    flash_problems(problems)
    context = _review_context(
        round_, found, review_typed={"comment": comment, "questions": per_question}
    )
    return render_template("review/response.html", **context), status


#: Evidence the review page shows in the browser (``?view=1``): pictures, drawn beside the
#: answer, and PDFs, opened in the browser's viewer. Their first bytes were checked at upload
#: (``evidence.TYPES``); every other kind is only downloaded.
PREVIEWED = {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}


def previewed(item: Evidence) -> bool:
    """Whether the review page shows ``item`` in the browser (a picture or a PDF)."""
    return bool(item.stored_name) and item.content_type in PREVIEWED


@bp.route("/evidence/<int:evidence_id>", endpoint="evidence")
@central_required
def evidence_download(evidence_id: int) -> WerkzeugResponse:
    """An evidence file: a download, or with ``?view=1`` (a picture or a PDF) shown in the
    browser."""
    item = db.session.get(Evidence, evidence_id)
    if item is None:
        abort(404)
    if not item.stored_name:
        abort(404)  # a link: the review page links it directly
    path = evidence_service.path_of(item, current_app.config["EVIDENCE_FOLDER"])
    if not path.is_file():
        abort(404)
    view = request.args.get("view") == "1" and previewed(item)
    sent = send_file(
        path,
        download_name=item.filename or path.name,
        as_attachment=not view,
        mimetype=item.content_type or "application/octet-stream",
    )
    sent.headers["X-Content-Type-Options"] = "nosniff"
    # As the coordinator's download: an uploaded file never runs as a page of this site. A
    # PDF shown in the browser's viewer is not sandboxed (a sandbox stops the viewer), and
    # cannot reach anything of the site either (no source of any kind is allowed).
    sandbox = "" if view and item.content_type == "application/pdf" else "; sandbox"
    sent.headers["Content-Security-Policy"] = f"default-src 'none'{sandbox}"
    sent.headers["Cache-Control"] = "private, no-store"
    return sent


# -- the audit trail of a response -----------------------------------------------------------


def compact(value: Any) -> str:
    """A JSON value written compactly ("–" when there is none)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


#: What the keys of an audit event's recorded values are called (the rounds' settings, an
#: agency's or a user's record, an import's counts), mostly as their forms call them.
AUDIT_KEYS = {
    "status": _l("Status"),
    "name": _l("Name"),
    "name_th": _l("Name (Thai)"),
    "name_en": _l("Name (English)"),
    "agencies": _l("Invited agencies"),
    "count": _l("Number of agencies"),
    "codes": _l("Agency codes"),
    "questionnaire": _l("Questionnaire version"),
    "fiscal_year": _l("Fiscal year"),
    "opens_on": _l("Opens"),
    "closes_on": _l("Deadline (last day)"),
    "disputes_close_on": _l("Disputes accepted until (last day)"),
    "live_preview": _l("Show coordinators a live score preview"),
    "anonymise_peers": _l("Anonymise other agencies in what coordinators see"),
    "flag_change": _l("Flag a change from last year larger than (points)"),
    "flag_verified_gap": _l("Flag a verified score lower than self-assessed by more than (points)"),
    "type": _l("Type"),
    "parent": _l("Parent agency"),
    "province": _l("Province"),
    "tags": _l("Tags"),
    "active": _l("Active"),
    "role": _l("Role"),
    "agency": _l("Agency"),
    "language": _l("Language"),
    "password_reset": _l("Password reset"),
    "tokens_revoked": _l("API tokens revoked"),
    "sessions_ended": _l("Signed-in sessions ended"),
    "created": _l("Added"),  # a count ("Created" is a date's label: "created on")
    "updated": _l("Updated"),
    "unchanged": _l("Unchanged"),
    "answers": _l("Answers"),
    "dispute": _l("Dispute"),
    "proposed": _l("Proposed value"),
    "note": _l("Note"),
}


def _status_labels(event: AuditEvent) -> dict[str, Any] | None:
    """The labels of the statuses an event records: a response's, a round's or a dispute's."""
    if event.action == "status":
        return RESPONSE_STATUS
    if event.action.startswith("round."):
        return ROUND_STATUS
    if event.action.startswith("dispute."):
        return DISPUTE_STATUS
    return None


def _audit_item(event: AuditEvent, key: str | None, value: Any) -> str:
    """One recorded value for people: a status, role, agency type, language or province by
    its label, a day as the pages write it, yes or no, a list as its items separated by
    commas; anything else as compact JSON. ``key`` is the value's key in a recorded dict, if any."""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(_audit_item(event, key, item) for item in value) or "–"
    if not isinstance(value, str):
        return compact(value)
    table = {"role": ROLE, "type": AGENCY_TYPE, "language": LANGUAGE}.get(key or "") or (
        _status_labels(event) if key in (None, "status") else None
    )
    if table is not None and value in table:
        return str(table[value])
    if key == "province":
        return provinces.label(value, current_language())
    if key is not None and key.endswith("_on"):
        try:
            return thai.format_date(dt.date.fromisoformat(value), current_language())
        except ValueError:
            return value
    return value


def audit_value(event: AuditEvent, value: Any) -> str | list[tuple[str, str]]:
    """An audit event's old or new value for people: a dict as (label, value) pairs, the
    pairs the page lists (a key without a label as it is); anything else as one text
    (:func:`_audit_item`). The page escapes both; the CSV keeps the recorded JSON."""
    if isinstance(value, dict):
        return [
            (str(AUDIT_KEYS.get(key, key)), _audit_item(event, key, item))
            for key, item in value.items()
        ]
    return _audit_item(event, None, value)


def _audit_query(response: Response) -> Select[tuple[AuditEvent]]:
    query = select(AuditEvent).where(AuditEvent.response_id == response.id)
    action = request.args.get("action", "")
    if action:
        query = query.where(AuditEvent.action == action)
    code = search.normalise(request.args.get("question"))
    if code:
        query = query.where(AuditEvent.question_code.icontains(code, autoescape=True))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


#: Audit events read at once while a CSV streams (a batch of plain rows, not ORM objects).
AUDIT_BATCH = 2000


def _audit_csv(query: Select[tuple[AuditEvent]], where: str, filename: str) -> HttpResponse:
    """Audit events as CSV; ``where`` is the column naming the question or the round.

    Written as it downloads, from plain rows read a batch at a time (a server-side cursor
    on PostgreSQL): the activity log of a national round (182,888 events) as ORM objects
    in a list took 5 s and 11 MB before the first byte."""
    place = AuditEvent.question_code if where == "question" else AuditEvent.round_id
    plain = query.with_only_columns(
        AuditEvent.at,
        AuditEvent.actor_label,
        AuditEvent.action,
        place,
        AuditEvent.old,
        AuditEvent.new,
        AuditEvent.detail,
    ).execution_options(yield_per=AUDIT_BATCH)

    def rows() -> Iterator[Sequence[Any]]:
        yield ["at", "actor", "action", where, "old", "new", "detail"]
        for at, actor, action, at_place, old, new, detail in db.session.execute(plain):
            yield [
                iso_local(at),
                actor,
                action,
                at_place or "",
                "" if old is None else compact(old),
                "" if new is None else compact(new),
                detail,
            ]

    return csv_stream(rows(), filename)


@bp.route("/rounds/<int:round_id>/responses/<agency_code>/audit", endpoint="audit")
@central_required
def audit_trail(round_id: int, agency_code: str) -> str | HttpResponse:
    round_ = _round_or_404(round_id)
    found = _response_or_404(round_, agency_code)
    query = _audit_query(found)
    if request.args.get("format") == "csv":
        return _audit_csv(query, "question", f"audit-{round_.id}-{agency_code}.csv")
    page = paginate(query)
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.response_id == found.id)
        .distinct()
        .order_by(AuditEvent.action)
    ).all()
    return render_template(
        "review/audit.html",
        round=round_,
        response=found,
        agency=found.agency,
        page=page,
        actions=actions,
        action_labels=AUDIT_ACTIONS,
        audit_value=audit_value,
    )


@bp.route("/activity")
@central_required
def activity() -> str | HttpResponse:
    """Everything recorded outside a response's own trail: rounds, registers, sign-ins."""
    query = select(AuditEvent).where(AuditEvent.response_id.is_(None))
    action = request.args.get("action", "")
    if action:
        query = query.where(AuditEvent.action == action)
    round_id = request.args.get("round", type=int)  # None beyond a column (assess.app)
    if round_id:
        query = query.where(AuditEvent.round_id == round_id)
        # A round's id may name a round deleted before it (the embedded SQLite database
        # gives a new row the highest id + 1 again): its events are its own from its
        # creation on.
        shown_round = db.session.get(Round, round_id)
        if shown_round is not None:
            query = query.where(AuditEvent.at >= shown_round.created_at)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if request.args.get("format") == "csv":
        return _audit_csv(query, "round", "activity.csv")
    page = paginate(query)
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.response_id.is_(None))
        .distinct()
        .order_by(AuditEvent.action)
    ).all()
    return render_template(
        "review/activity.html",
        page=page,
        actions=actions,
        action_labels=AUDIT_ACTIONS,
        audit_value=audit_value,
        rounds={r.id: r for r in round_service.rounds_for(current_user)},
    )


@bp.app_template_global("central_url")
def central_url(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (``None`` or "" drops one);
    the query arguments named like the view's own or ``url_for``'s are dropped."""
    args: dict[str, Any] = carried_args(request.endpoint or "")
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


# -- disputes of preliminary results ---------------------------------------------------------


def _dispute_counts(round_: Round) -> dict[str, int]:
    """How many disputes of the round are in each status."""
    rows = db.session.execute(
        select(Dispute.status, func.count())
        .join(Response, Dispute.response_id == Response.id)
        .where(Response.round_id == round_.id)
        .group_by(Dispute.status)
    )
    counts = dict.fromkeys(DISPUTE_STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


@dataclass
class DisputeView:
    """A dispute as the reviewer reads it: the question, the values at stake, the decision."""

    dispute: Dispute
    question: Question | None
    answer: Shown
    verified: Shown | None
    proposed: Shown | None


def dispute_views(disputes: Sequence[Dispute], lang: str) -> list[DisputeView]:
    """Disputes with their question and the answer, verified and proposed values shown.

    The agencies' answers and verified values of the disputed questions are read in one
    query each (not every answer of every response, one response after the other)."""
    disputed = {(d.response_id, d.question_code) for d in disputes}
    ids = sorted({r for r, _code in disputed})
    codes = sorted({code for _r, code in disputed})
    values: dict[type[Any], dict[tuple[int, str], Any]] = {}
    for model in (Answer, VerifiedAnswer):
        rows = db.session.execute(
            select(model.response_id, model.question_code, model.value).where(
                model.response_id.in_(ids), model.question_code.in_(codes)
            )
        )
        values[model] = {(r, code): value for r, code, value in rows if (r, code) in disputed}
    views = []
    for d in disputes:
        questionnaire = questionnaire_of(d.response.questionnaire)
        q = questionnaire.questions.get(d.question_code)
        key = (d.response_id, d.question_code)

        def shown(raw: Any, q: Question | None = q) -> Shown:
            if q is None:
                return Shown(items=[json.dumps(raw, ensure_ascii=False)])
            try:
                return show_value(q, parse_json_value(q, raw), lang)
            except AnswerError:
                return Shown(items=[json.dumps(raw, ensure_ascii=False)])

        views.append(
            DisputeView(
                dispute=d,
                question=q,
                answer=shown(values[Answer][key]) if key in values[Answer] else Shown(empty=True),
                verified=shown(values[VerifiedAnswer][key])
                if key in values[VerifiedAnswer]
                else None,
                proposed=shown(d.proposed) if d.proposed is not None else None,
            )
        )
    return views


@dataclass
class DisputeFilters:
    """The disputes page's filters: a status, a search (agency code or name, question code)."""

    status: str = ""
    q: str = ""

    @classmethod
    def from_request(cls) -> DisputeFilters:
        status = request.args.get("status", "")
        return cls(
            status=status if status in DISPUTE_STATUSES else "",
            q=search.normalise(request.args.get("q")),
        )

    def args(self) -> dict[str, str]:
        """The non-empty filters, for links and forms that keep them."""
        return {k: v for k, v in vars(self).items() if v}

    def query(self, round_: Round, *columns: Any) -> Select[Any]:
        return dispute_service.round_query(round_, self.status or None, self.q, columns)


@bp.route("/rounds/<int:round_id>/disputes", methods=["GET"])
@central_required
def disputes(round_id: int) -> str:
    """The round's disputes, undecided first, a page at a time, with a decision form on each
    undecided one."""
    return _disputes_page(_round_or_404(round_id))


def _disputes_page(round_: Round, typed: dict[int, dict[str, str]] | None = None) -> str:
    """The disputes page of the request's filters and page; ``typed``: a refused decision's
    inputs by dispute, shown again."""
    filters = DisputeFilters.from_request()
    page = paginate(
        filters.query(round_).options(
            selectinload(Dispute.response).options(
                selectinload(Response.agency), selectinload(Response.questionnaire)
            ),
            selectinload(Dispute.raised_by),
            selectinload(Dispute.decided_by),
        )
    )
    return render_template(
        "review/disputes.html",
        round=round_,
        filters=filters,
        page=page,
        page_url=lambda page: url_for(".disputes", round_id=round_.id, page=page, **filters.args()),
        views=dispute_views(page.items, current_language()),
        counts=_dispute_counts(round_),
        disputes_open=round_service.disputes_open(round_),
        form=DecisionForm(),
        decidable=round_.status == "preliminary",
        statuses=DISPUTE_STATUSES,
        typed=typed or {},
    )


def _after_decision(round_: Round, decided: Dispute) -> str:
    """Where a decision leads: the same filtered list, at the next undecided dispute after
    the one decided (in the list's order, from the top again after the last) on its page;
    when none is left in the list, at the decided one (its decision shown) if the list
    still holds it, else the page the reviewer was on."""
    filters = DisputeFilters.from_request()
    # Every status, by agency and question only (as the database orders them): the decided
    # dispute is among them, where it was, and the list's order is the undecided ones of
    # these, then the others.
    rows = list(
        db.session.execute(
            replace(filters, status="")
            .query(round_, Dispute.id, Dispute.status)
            .order_by(None)
            .order_by(*dispute_service.ORDER[1:])
        )
    )
    at = next((i for i, r in enumerate(rows) if r.id == decided.id), len(rows) - 1)
    after = next((r for r in rows[at + 1 :] + rows[: at + 1] if r.status == "open"), None)
    ordered = [r for r in rows if r.status == "open"] + [r for r in rows if r.status != "open"]
    listed = [r.id for r in ordered if not filters.status or r.status == filters.status]
    shown = after.id if after is not None and after.id in listed else decided.id
    if shown not in listed:
        return url_for(".disputes", round_id=round_.id, page=page_number(), **filters.args())
    return url_for(
        ".disputes",
        round_id=round_.id,
        page=listed.index(shown) // PER_PAGE + 1,
        _anchor=f"dispute-{shown}",
        **filters.args(),
    )


@bp.route("/rounds/<int:round_id>/disputes/<int:dispute_id>", methods=["POST"])
@central_required
def decide_dispute(round_id: int, dispute_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Uphold or reject one dispute (upholding recomputes the agency's verified scores).
    A refused decision shows the page again with what was typed, never losing it; a decision
    leads to the next undecided dispute of the same filtered list."""
    round_ = _round_or_404(round_id)
    form = DecisionForm()
    typed = {dispute_id: {"decision": form.decision.data or "", "note": form.note.data or ""}}
    if not form.validate_on_submit():
        flash_problems(e for errors in form.errors.values() for e in errors)
        return _disputes_page(round_, typed=typed), 422
    try:
        found = dispute_service.get_dispute(round_, dispute_id)
        dispute_service.decide(
            found, current_user, uphold=form.decision.data == "uphold", note=form.note.data or ""
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash_problems(exc.problems)
        return _disputes_page(round_, typed=typed), 422
    flash(
        _("Dispute %(id)d upheld: the scores were recomputed.", id=dispute_id)
        if found.status == "upheld"
        else _("Dispute %(id)d rejected.", id=dispute_id),
        "success",
    )
    return redirect(_after_decision(round_, found))


@bp.route("/rounds/<int:round_id>/responses/<agency_code>/results")
@central_required
def agency_results(round_id: int, agency_code: str) -> str:
    """An agency's results page as its coordinator sees it, with peers always shown."""
    round_ = _round_or_404(round_id)
    found = _response_or_404(round_, agency_code)
    return results_page.render(found, central=True)
