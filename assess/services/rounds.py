"""Rounds: creation with invited agencies, and the workflow
draft → open → closed → (preliminary →) published."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, select
from sqlalchemy.orm import aliased

from assess import i18n
from assess.extensions import db
from assess.labels import RESPONSE_STATUS, ROUND_STATUS
from assess.models import (
    Agency,
    Answer,
    AuditEvent,
    Comment,
    Dispute,
    Evidence,
    Job,
    QuestionnaireVersion,
    Response,
    ResponseAgency,
    Result,
    Round,
    RoundSnapshot,
    User,
    VerifiedAnswer,
    utcnow,
)
from assess.services import audit, locks
from assess.services.errors import NotFound, ServiceError, WrongState
from assess.thai import BANGKOK, BE_OFFSET, fiscal_year_bounds
from assess.thai import fiscal_year as thai_fiscal_year

#: Allowed moves: target status → statuses it may be reached from. ``closed → open``
#: reopens a round (say, to extend the deadline); it is audited like every move.
#: Publication takes two steps, as the national integrity assessment does it: preliminary
#: results that each agency sees and may dispute until ``disputes_close_on``, then the
#: final publication. ``closed → published`` (no dispute window) stays for the command line
#: contract of interfaces.md.
TRANSITIONS = {
    "open": ("draft", "closed"),
    "closed": ("open",),
    "preliminary": ("closed",),
    "published": ("closed", "preliminary"),
}

#: Days agencies have to dispute preliminary results when no closing day is given.
DISPUTE_DAYS = 14


def create_round(
    version: QuestionnaireVersion,
    name: str,
    fiscal_year: int,
    *,
    opens_on: dt.date | None = None,
    closes_on: dt.date | None = None,
    agencies: Sequence[Agency] | None = None,
    live_preview: bool = False,
    actor: User | None = None,
    name_en: str = "",
) -> Round:
    """Create a round in ``draft`` and invite agencies (all active ones when ``None``).

    ``name`` is the Thai name; ``name_en`` the English one (empty: the Thai name is shown on
    English pages too). Each invited agency gets a response in ``not_started``, pinned to
    the version.
    """
    problems = _problems(name, fiscal_year, opens_on, closes_on)
    if agencies is None:
        agencies = list(
            db.session.scalars(select(Agency).filter_by(active=True).order_by(Agency.code))
        )
    if not agencies:
        problems.append(_("no agencies to invite (import agencies first)"))
    if problems:
        raise ServiceError(problems)
    round_ = Round(
        name=name.strip(),
        name_en=name_en.strip(),
        fiscal_year=fiscal_year,
        questionnaire=version,
        opens_on=opens_on,
        closes_on=closes_on,
        live_preview=live_preview,
    )
    db.session.add(round_)
    db.session.flush()
    db.session.add_all(
        Response(round_id=round_.id, agency_id=a.id, questionnaire_id=version.id) for a in agencies
    )
    audit.record(
        "round.create",
        actor,
        round=round_,
        new={
            "name": round_.name,
            "name_en": round_.name_en,
            "questionnaire": version.key,
            "fiscal_year": fiscal_year,
            # The days given (a round may open by hand, without a deadline).
            **({"opens_on": opens_on.isoformat()} if opens_on else {}),
            **({"closes_on": closes_on.isoformat()} if closes_on else {}),
            "agencies": len(agencies),
        },
    )
    return round_


#: A date's year from this one on is taken for a Buddhist Era year (Gregorian + 543).
BE_YEARS = 2400
#: The last year a typed date may plausibly hold as a Buddhist Era one; later years are out
#: of range (a B.E. suggestion for 3000, "2457", would only mislead).
BE_YEARS_LAST = 2700
#: New rounds belong to a fiscal year this close to today's (B.E., either side).
NEW_ROUND_YEARS = 5

#: The ways a date may be written: ISO (2026-12-01, what a date field sends) or day/month/year
#: (1/12/2026, also with "." or "-"), as a Thai reader writes it.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_date(text: str, *, buddhist_era: bool = False) -> dt.date:
    """The day ``text`` writes, as YYYY-MM-DD or D/M/YYYY; a ``ValueError`` when it is none.

    With ``buddhist_era`` (the web forms: a Thai reader types the year as the pages write
    it) a year from :data:`BE_YEARS` to :data:`BE_YEARS_LAST` is taken for a Buddhist Era
    one: "1/12/2569" and "2569-12-01" are 1 December 2026. Without it (the command line,
    whose dates are Gregorian) the year is kept, and :func:`check_round` says that it looks
    like a Buddhist Era one; a year past :data:`BE_YEARS_LAST` is kept either way, to be
    refused as out of range.
    """
    text = text.strip()
    if iso := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in iso.groups())
    elif dmy := _DMY_DATE.fullmatch(text):
        day, month, year = (int(part) for part in dmy.groups())
    else:
        raise ValueError(f"not a date: {text!r}")
    if buddhist_era and BE_YEARS <= year <= BE_YEARS_LAST:
        # Before the day is made: 29/2/2567 is a day (2024 is a leap year), 2567 CE is not.
        year -= BE_OFFSET
    return dt.date(year, month, day)


def _problems(
    name: str,
    fiscal_year: int,
    opens_on: dt.date | None,
    closes_on: dt.date | None,
    *,
    existing: bool = False,
) -> list[str]:
    """Every problem of a round's name, fiscal year and dates. A new round's fiscal year is
    also held near today's; an ``existing`` round keeps the year it was created with."""
    problems = []
    if not name.strip():
        problems.append(_("the round needs a name"))
    problems += _fiscal_year_problems(fiscal_year, existing)
    years = [_year_problem(day) for day in dict.fromkeys((opens_on, closes_on)) if day]
    problems += [problem for problem in years if problem]
    if opens_on and closes_on and closes_on < opens_on and not any(years):
        problems.append(_("the round closes before it opens"))
    if 2500 <= fiscal_year <= 2700 and not any(years):
        problems += _far_from_fiscal_year(fiscal_year, opens_on, closes_on)
    return problems


def _fiscal_year_problems(fiscal_year: int, existing: bool) -> list[str]:
    """A fiscal year that is no B.E. year (2026 for 2569), or, for a new round, one further
    than :data:`NEW_ROUND_YEARS` from today's: a typing slip (2500, 2596) that would file
    the round, its results and its trends under a year nobody looks at."""
    if not 2500 <= fiscal_year <= 2700:
        return [
            _(
                "fiscal year %(year)s is not a Buddhist Era year (e.g. 2569 for Oct 2025–Sep 2026)",
                year=fiscal_year,
            )
        ]
    current = thai_fiscal_year(utcnow().astimezone(BANGKOK).date())
    first, last = current - NEW_ROUND_YEARS, current + NEW_ROUND_YEARS
    if existing or first <= fiscal_year <= last:
        return []
    return [
        _(
            "fiscal year %(year)s is out of range: a new round belongs to a fiscal year from "
            "%(first)s to %(last)s (this fiscal year, %(current)s, give or take %(n)d years)",
            year=fiscal_year,
            first=first,
            last=last,
            current=current,
            n=NEW_ROUND_YEARS,
        )
    ]


def _year_problem(day: dt.date) -> str | None:
    """A date whose year was typed in the Buddhist Era (2569-01-15: the B.E. year, and the
    Gregorian date meant), or whose year no round can have (3000)."""
    if day.year < BE_YEARS:
        return None
    if day.year > BE_YEARS_LAST:
        return _("%(date)s: the year %(year)s is out of range", date=day.isoformat(), year=day.year)
    return _(
        "%(date)s: %(year)s is a Buddhist Era year; write dates in the Gregorian "
        "calendar (%(gregorian)s)",
        date=day.isoformat(),
        year=day.year,
        gregorian=f"{day.year - BE_OFFSET:04d}-{day.month:02d}-{day.day:02d}",
    )


def _far_from_fiscal_year(
    fiscal_year: int, opens_on: dt.date | None, closes_on: dt.date | None
) -> list[str]:
    """Dates that do not fit the round's fiscal year: a mistyped year (a round of 2570 dated
    2024, or 2099). A round must run during its fiscal year, give or take a year: it may be
    prepared and opened up to a year before the year begins, and answered up to a year
    after it ends (an assessment of a year is often answered once the year is over); a
    round over before its year begins belongs to another year."""
    first, last = fiscal_year_bounds(fiscal_year)
    earliest, latest = first.replace(year=first.year - 1), last.replace(year=last.year + 1)
    rule = {"year": fiscal_year, "first": i18n.day(first), "last": i18n.day(last)}
    problems = []
    for day in dict.fromkeys(d for d in (opens_on, closes_on) if d is not None):
        if day < earliest:
            problems.append(
                _(
                    "%(date)s is more than a year before fiscal year %(year)s begins: a round "
                    "of fiscal year %(year)s (%(first)s to %(last)s) runs during that year, "
                    "give or take a year; check the year",
                    date=i18n.day(day),
                    **rule,
                )
            )
        elif day > latest:
            problems.append(
                _(
                    "%(date)s is more than a year after fiscal year %(year)s ends: a round of "
                    "fiscal year %(year)s (%(first)s to %(last)s) runs during that year, give "
                    "or take a year; check the year",
                    date=i18n.day(day),
                    **rule,
                )
            )
    end = closes_on or opens_on
    if not problems and closes_on is not None and end is not None and end < first:
        problems.append(
            _(
                "the round closes on %(date)s, before fiscal year %(year)s begins: a round of "
                "fiscal year %(year)s (%(first)s to %(last)s) runs during that year, give or "
                "take a year; check the year",
                date=i18n.day(end),
                **rule,
            )
        )
    return problems


def _disputes_problems(round_: Round, day: dt.date | None, today: dt.date) -> list[str]:
    """What is wrong with the last day of a round's dispute window, when one is given: a
    B.E. year (2570-01-15 would read as 15 Jan 3113), a day already past, or a day more
    than a year after the round's fiscal year (the range of its deadline). The field is
    named, since the date stands alone in the message."""
    if day is None:
        return []
    problem = _year_problem(day)
    if problem is None and day < today:
        return [_("the dispute window cannot close before today")]
    if problem is None:
        far = _far_from_fiscal_year(round_.fiscal_year, day, None)
        problem = far[0] if far else None
    return [_("the last day of disputes: %(problem)s", problem=problem)] if problem else []


def deadline_passed(round_: Round, today: dt.date | None = None) -> str | None:
    """Why ``round_`` should not be opened: its deadline has passed (no agency could answer
    it), or ``None``. The opening actions refuse it; a round's dates change on its page."""
    today = today or utcnow().astimezone(BANGKOK).date()
    if round_.closes_on is None or round_.closes_on >= today:
        return None
    return _(
        "round %(round)s closes on %(day)s, which has passed: set a later closing date "
        "before opening it",
        round=round_.id,
        day=i18n.day(round_.closes_on),
    )


def check_round(
    name: str, fiscal_year: int, opens_on: dt.date | None, closes_on: dt.date | None
) -> None:
    """Refuse a round's name, fiscal year and dates, with every problem, when they are wrong."""
    problems = _problems(name, fiscal_year, opens_on, closes_on)
    if problems:
        raise ServiceError(problems)


def get_round(round_id: int | str) -> Round:
    """A round by id; :class:`NotFound` otherwise."""
    try:
        ident = int(round_id)
    except (TypeError, ValueError):
        ident = 0
    # Beyond what an id column holds the drivers raise (OverflowError, a range error).
    found = db.session.get(Round, ident) if 0 < ident < 2**31 else None
    if found is None:
        raise NotFound(_("round %(id)s: no such round", id=round_id))
    return found


def move(
    round_: Round,
    target: str,
    actor: User | None = None,
    *,
    disputes_close_on: dt.date | None = None,
) -> None:
    """Move a round to ``target`` (``open``, ``closed``, ``preliminary`` or ``published``).

    Preliminary results open a dispute window until ``disputes_close_on`` (default: in
    :data:`DISPUTE_DAYS` days). Final publication is refused while disputes are undecided.
    """
    allowed = TRANSITIONS.get(target)
    if allowed is None:
        raise ServiceError(_("unknown round status %(status)s", status=repr(target)))
    if locks.own_round(round_.id):
        # The changes of its responses under way end first; the round is then read again,
        # as a move of it at the same moment may have left it.
        db.session.expire(round_)
    if round_.status not in allowed:
        raise WrongState(_refused_move(round_, target, allowed))
    now = utcnow()
    if target == "preliminary":
        today = now.astimezone(BANGKOK).date()
        close_on = disputes_close_on or today + dt.timedelta(days=DISPUTE_DAYS)
        if problems := _disputes_problems(round_, disputes_close_on, today):
            raise ServiceError(problems)
        round_.disputes_close_on = close_on
    if target == "published":
        pending = open_disputes(round_)
        if pending:
            raise WrongState(
                _(
                    "round %(id)s has %(n)d undecided disputes: uphold or reject them before "
                    "the final publication",
                    id=round_.id,
                    n=pending,
                )
            )
    old = round_.status
    # Only from the status seen (SQLite, where nothing is locked: of two moves at once,
    # only the first).
    locks.move_status(
        round_,
        [Round.id == round_.id, Round.status == old],
        target,
        _("the round changed meanwhile; reload the page and try again"),
    )
    if target == "open":
        round_.opened_at = now
    elif target == "closed":
        round_.closed_at = now
    elif target == "preliminary":
        round_.preliminary_at = now
    else:
        round_.published_at = now
    if target in ("preliminary", "published"):
        keep_agency_records(round_)
    new: object = target
    if target == "preliminary":
        new = {"status": target, "disputes_close_on": round_.disputes_close_on.isoformat()}  # type: ignore[union-attr]
    audit.record(f"round.{target}", actor, round=round_, old=old, new=new)


#: The statuses in which a round's invited agencies may change: before it closes.
INVITING = ("draft", "open")
#: The most agency codes an audit event names (an invitation of every agency names 8,000).
CODES_RECORDED = 50


def _not_invited(round_: Round) -> ColumnElement[bool]:
    invited = select(Response.agency_id).where(Response.round_id == round_.id)
    return and_(Agency.active.is_(True), Agency.id.not_in(invited))


def not_invited(round_: Round) -> list[Agency]:
    """The active agencies the round does not invite, by code."""
    return list(
        db.session.scalars(select(Agency).where(_not_invited(round_)).order_by(Agency.code))
    )


def not_invited_by_type(round_: Round) -> Counter[str]:
    """How many active agencies of each type the round does not invite (one grouped count:
    the round page shows them, and a national list is 8,000 agencies)."""
    rows = db.session.execute(
        select(Agency.type, func.count()).where(_not_invited(round_)).group_by(Agency.type)
    )
    return Counter({kind: count for kind, count in rows})


def _codes_recorded(codes: Sequence[str]) -> dict[str, object]:
    shown = list(codes[:CODES_RECORDED])
    return {"count": len(codes), "codes": shown + (["…"] if len(codes) > len(shown) else [])}


def _not_inviting(round_: Round) -> str:
    return _(
        "round %(id)s is %(status)s: agencies are invited or removed only before it closes",
        id=round_.id,
        status=i18n.word(round_.status, ROUND_STATUS),
    )


def _refuse_unless_inviting(round_: Round) -> None:
    if round_.status not in INVITING:
        raise WrongState(_not_inviting(round_))


def invite(round_: Round, agencies: Sequence[Agency], actor: User | None = None) -> int:
    """Invite more agencies to a round in draft or open (a new agency, one left out): each
    gets a response in ``not_started``, pinned to the round's version. Agencies invited
    already are left as they are; inactive ones are refused. Returns how many were added."""
    if locks.own_round(round_.id):
        db.session.expire(round_)
    _refuse_unless_inviting(round_)
    inactive = sorted(a.code for a in agencies if not a.active)
    if inactive:
        raise ServiceError(
            [
                _("agency %(code)s is inactive; activate it on its page first", code=code)
                for code in inactive
            ]
        )
    invited = set(
        db.session.scalars(select(Response.agency_id).where(Response.round_id == round_.id))
    )
    new = sorted({a.id: a for a in agencies if a.id not in invited}.values(), key=lambda a: a.code)
    if not new:
        return 0
    db.session.add_all(
        Response(round_id=round_.id, agency_id=a.id, questionnaire_id=round_.questionnaire_id)
        for a in new
    )
    audit.record("round.invite", actor, round=round_, new=_codes_recorded([a.code for a in new]))
    return len(new)


#: Responses named by their ids, or all of a round's (a query of their ids).
ResponseIds = Sequence[int] | Select[tuple[int]]


def _of_round(round_: Round) -> Select[tuple[int]]:
    return select(Response.id).where(Response.round_id == round_.id)


def _traces(response_ids: ResponseIds) -> set[int]:
    """Those of the responses with anything of their own: an answer, evidence, a comment, a
    verified value, a dispute, or an event in their audit trail (a move, an import)."""
    found: set[int] = set()
    for model in (Answer, Evidence, Comment, VerifiedAnswer, Dispute, AuditEvent):
        column = model.response_id  # type: ignore[attr-defined]
        found.update(db.session.scalars(select(column).where(column.in_(response_ids)).distinct()))
    return found


def _forget_responses(response_ids: ResponseIds) -> None:
    """Delete responses that have nothing of their own (see :func:`_traces`), with what is
    derived from them (results, kept agency records)."""
    for model in (Result, ResponseAgency):
        db.session.execute(delete(model).where(model.response_id.in_(response_ids)))
    db.session.execute(delete(Response).where(Response.id.in_(response_ids)))


def _uninvite_plan(
    round_: Round, agencies: Sequence[Agency]
) -> tuple[dict[int, Response], list[str]]:
    """The responses :func:`uninvite` would delete (by agency id), and why it cannot."""
    wanted = {a.id: a for a in agencies}
    responses = {
        r.agency_id: r
        for r in db.session.scalars(
            select(Response).where(
                Response.round_id == round_.id, Response.agency_id.in_(list(wanted))
            )
        )
    }
    problems = [
        _("agency %(code)s is not invited to round %(id)s", code=a.code, id=round_.id)
        for a in sorted(wanted.values(), key=lambda a: a.code)
        if a.id not in responses
    ]
    begun = _traces([r.id for r in responses.values()])
    problems += [
        _(
            "agency %(code)s has begun (%(status)s, or answers, evidence or comments): it "
            "stays in the round",
            code=wanted[agency_id].code,
            status=i18n.word(r.status, RESPONSE_STATUS),
        )
        for agency_id, r in sorted(responses.items(), key=lambda item: wanted[item[0]].code)
        if r.id in begun or r.status != "not_started"
    ]
    if not problems:
        left = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.round_id == round_.id)
        )
        if left is not None and left <= len(responses):
            problems.append(_("a round keeps at least one invited agency"))
    return responses, problems


def uninvite_problems(round_: Round, agencies: Sequence[Agency]) -> list[str]:
    """Why :func:`uninvite` would refuse to take ``agencies`` out (none: it would not);
    changes nothing. For a caller that refuses for reasons of its own as well."""
    if round_.status not in INVITING:
        return [_not_inviting(round_)]
    return _uninvite_plan(round_, agencies)[1]


def uninvite(round_: Round, agencies: Sequence[Agency], actor: User | None = None) -> int:
    """Take agencies out of a round in draft or open, before they have begun: an agency
    whose response has anything of its own (an answer, evidence, a comment, a status moved)
    stays, and is named in the refusal. All or nothing. Returns how many were removed."""
    if locks.own_round(round_.id):
        db.session.expire(round_)
    _refuse_unless_inviting(round_)
    responses, problems = _uninvite_plan(round_, agencies)
    if problems:
        raise ServiceError(problems)
    _forget_responses([r.id for r in responses.values()])
    code_of = {a.id: a.code for a in agencies}
    codes = sorted(code_of[agency_id] for agency_id in responses)
    audit.record("round.uninvite", actor, round=round_, old=_codes_recorded(codes))
    db.session.expire(round_, ["responses"])
    return len(responses)


def delete_draft(round_: Round, actor: User | None = None) -> None:
    """Delete a round still in draft (made by mistake, or with the wrong version), when no
    response has anything of its own (an imported answer, say). Its audit events stay,
    naming it by id (the trail is append-only), and one more records the deletion with what
    the round was."""
    if locks.own_round(round_.id):
        db.session.expire(round_)
    if round_.status != "draft":
        raise WrongState(
            _(
                "round %(id)s is %(status)s: only a round in draft can be deleted",
                id=round_.id,
                status=i18n.word(round_.status, ROUND_STATUS),
            )
        )
    round_id = round_.id
    begun = _traces(_of_round(round_))
    if begun:
        raise ServiceError(
            ngettext(
                "round %(id)s holds answers or other work of %(num)d agency; it cannot be deleted",
                "round %(id)s holds answers or other work of %(num)d agencies; it cannot be "
                "deleted",
                len(begun),
                id=round_.id,
            )
        )
    record = {
        "name": round_.name,
        "questionnaire": round_.questionnaire.key,
        "fiscal_year": round_.fiscal_year,
        "agencies": db.session.scalar(
            select(func.count()).select_from(_of_round(round_).subquery())
        ),
    }
    _forget_responses(_of_round(round_))
    for model in (Job, RoundSnapshot):
        db.session.execute(delete(model).where(model.round_id == round_.id))
    db.session.delete(round_)
    db.session.flush()
    # Its own id, as its earlier events have it (the trail has no key to rounds).
    event = audit.record("round.delete", actor, old=record, detail=record["name"])
    event.round_id = round_id


def keep_agency_records(round_: Round) -> None:
    """Keep the record of each agency of the round as its results show it
    (:class:`ResponseAgency`), where none is kept yet: from now on the round's groups, ranks
    and names are those of this moment, whatever later edits of the agency list say. One
    statement, whatever the round's size."""
    parent = aliased(Agency)
    kept = select(ResponseAgency.response_id).where(ResponseAgency.response_id == Response.id)
    records = (
        select(
            Response.id,
            Agency.name_th,
            Agency.name_en,
            Agency.type,
            func.coalesce(parent.code, ""),
            func.coalesce(parent.name_th, ""),
            func.coalesce(parent.name_en, ""),
            func.coalesce(Agency.province, ""),
            Agency.tags,
        )
        .join(Agency, Response.agency_id == Agency.id)
        .outerjoin(parent, Agency.parent_id == parent.id)
        .where(Response.round_id == round_.id, ~kept.exists())
    )
    columns = (
        "response_id", "name_th", "name_en", "type", "parent_code", "parent_name_th",
        "parent_name_en", "province", "tags",
    )  # fmt: skip
    db.session.execute(insert(ResponseAgency).from_select(columns, records))


def open_disputes(round_: Round) -> int:
    """How many disputes of the round wait for a decision."""
    return (
        db.session.scalar(
            select(func.count(Dispute.id))
            .join(Response)
            .where(Response.round_id == round_.id, Dispute.status == "open")
        )
        or 0
    )


def disputes_open(round_: Round, now: dt.datetime | None = None) -> bool:
    """Whether agencies may dispute now: preliminary results, up to the end of the window."""
    if round_.status != "preliminary" or round_.disputes_close_on is None:
        return False
    end = dt.datetime.combine(round_.disputes_close_on + dt.timedelta(days=1), dt.time(), BANGKOK)
    return (now or utcnow()) < end


def results_visible(round_: Round) -> bool:
    """Whether each agency sees its own results: preliminary or published."""
    return round_.status in ("preliminary", "published")


def _refused_move(round_: Round, target: str, allowed: Sequence[str]) -> str:
    words = {
        "id": round_.id,
        "status": i18n.word(round_.status, ROUND_STATUS),
        "allowed": i18n.either([i18n.word(s, ROUND_STATUS) for s in allowed]),
    }
    if target == "open":
        return _("round %(id)s is %(status)s; it can be opened only when %(allowed)s", **words)
    if target == "closed":
        return _("round %(id)s is %(status)s; it can be closed only when %(allowed)s", **words)
    if target == "preliminary":
        return _(
            "round %(id)s is %(status)s; preliminary results can be published only when "
            "%(allowed)s",
            **words,
        )
    return _("round %(id)s is %(status)s; it can be published only when %(allowed)s", **words)


def update_settings(
    round_: Round,
    *,
    opens_on: dt.date | None,
    closes_on: dt.date | None,
    live_preview: bool,
    anonymise_peers: bool | None = None,
    flag_change: int | None = None,
    flag_verified_gap: int | None = None,
    disputes_close_on: dt.date | None = None,
    actor: User | None = None,
    name_en: str | None = None,
) -> bool:
    """Change a round's dates, live preview, English name and result settings; audited.

    ``None`` for a result setting or the English name keeps it. The dispute window's
    closing day can move only while the results are preliminary. A published round is
    final. Returns whether anything changed.
    """
    if round_.status == "published":
        raise WrongState(
            _("round %(round)s is published: it can no longer change", round=round_.id)
        )
    problems = _problems(round_.name, round_.fiscal_year, opens_on, closes_on, existing=True)
    for name, value in (("flag_change", flag_change), ("flag_verified_gap", flag_verified_gap)):
        if value is not None and not 0 < value <= 100:
            problems.append(
                _("%(setting)s must be between 1 and 100 points", setting=SETTING_NAMES[name]())
            )
    if disputes_close_on is not None and round_.status != "preliminary":
        problems.append(_("the dispute window exists only while results are preliminary"))
    elif disputes_close_on != round_.disputes_close_on:
        problems += _disputes_problems(
            round_, disputes_close_on, utcnow().astimezone(BANGKOK).date()
        )
    if problems:
        raise ServiceError(problems)

    def iso(day: dt.date | None) -> str | None:
        return day.isoformat() if day else None

    old = {
        "opens_on": iso(round_.opens_on),
        "closes_on": iso(round_.closes_on),
        "live_preview": round_.live_preview,
        "anonymise_peers": round_.anonymise_peers,
        "flag_change": round_.flag_change,
        "flag_verified_gap": round_.flag_verified_gap,
        "disputes_close_on": iso(round_.disputes_close_on),
        "name_en": round_.name_en,
    }
    new = {
        "opens_on": iso(opens_on),
        "closes_on": iso(closes_on),
        "live_preview": live_preview,
        "anonymise_peers": old["anonymise_peers"] if anonymise_peers is None else anonymise_peers,
        "flag_change": old["flag_change"] if flag_change is None else flag_change,
        "flag_verified_gap": (
            old["flag_verified_gap"] if flag_verified_gap is None else flag_verified_gap
        ),
        "disputes_close_on": old["disputes_close_on"]
        if disputes_close_on is None
        else iso(disputes_close_on),
        "name_en": old["name_en"] if name_en is None else name_en.strip(),
    }
    if old == new:
        return False
    round_.opens_on, round_.closes_on, round_.live_preview = opens_on, closes_on, live_preview
    round_.anonymise_peers = bool(new["anonymise_peers"])
    round_.flag_change = int(new["flag_change"])  # type: ignore[call-overload]
    round_.flag_verified_gap = int(new["flag_verified_gap"])  # type: ignore[call-overload]
    if disputes_close_on is not None:
        round_.disputes_close_on = disputes_close_on
    round_.name_en = str(new["name_en"])
    changed = {k: v for k, v in new.items() if old[k] != v}
    audit.record(
        "round.settings", actor, round=round_, old={k: old[k] for k in changed}, new=changed
    )
    return True


def rename(round_: Round, name_en: str, actor: User | None = None) -> bool:
    """Give a round its English name, in any status (a published round keeps its results,
    dates and settings; only the name its English readers see changes); audited. Returns
    whether it changed."""
    name_en = name_en.strip()
    if name_en == round_.name_en:
        return False
    audit.record(
        "round.settings",
        actor,
        round=round_,
        old={"name_en": round_.name_en},
        new={"name_en": name_en},
    )
    round_.name_en = name_en
    return True


#: Names of the result settings in messages.
SETTING_NAMES = {
    "flag_change": lambda: _("the change flag"),
    "flag_verified_gap": lambda: _("the verified-gap flag"),
}


def deadline(round_: Round) -> dt.datetime | None:
    """The moment answers stop being accepted: the end of ``closes_on``, Bangkok time."""
    if round_.closes_on is None:
        return None
    return dt.datetime.combine(round_.closes_on + dt.timedelta(days=1), dt.time(), BANGKOK)


def accepting_answers(round_: Round, now: dt.datetime | None = None) -> bool:
    """Whether coordinators may change answers: the round is open and before its deadline."""
    if round_.status != "open":
        return False
    now = now or utcnow()
    if round_.opens_on is not None and now < dt.datetime.combine(
        round_.opens_on, dt.time(), BANGKOK
    ):
        return False
    end = deadline(round_)
    return end is None or now < end


def why_closed(round_: Round, now: dt.datetime | None = None) -> str | None:
    """Why answers are not accepted now, as a code, or ``None`` when they are.

    ``not_open`` (a draft round), ``closed``, ``results`` (preliminary or published),
    ``opens_later`` (before ``opens_on``) or ``deadline`` (after the end of ``closes_on``).
    """
    now = now or utcnow()
    if round_.status == "draft":
        return "not_open"
    if round_.status == "closed":
        return "closed"
    if round_.status in ("preliminary", "published"):
        return "results"
    if round_.opens_on is not None and now < dt.datetime.combine(
        round_.opens_on, dt.time(), BANGKOK
    ):
        return "opens_later"
    end = deadline(round_)
    if end is not None and now >= end:
        return "deadline"
    return None


def closed_reason(round_: Round, now: dt.datetime | None = None) -> str | None:
    """Why answers are not accepted now, in words, or ``None`` when they are.

    Messages that include the reason translate the whole sentence (see
    :func:`assess.services.responses.refusal`) instead of embedding this text.
    """
    why = why_closed(round_, now)
    if why is None:
        return None
    if why == "not_open":
        return _("the round has not opened yet")
    if why == "closed":
        return _("the round is closed")
    if why == "results":
        return _("the round's results are out")
    if why == "opens_later":
        assert round_.opens_on is not None
        return _("the round opens on %(date)s", date=i18n.day(round_.opens_on))
    return _("the deadline has passed")


def status_counts(round_: Round) -> dict[str, int]:
    """How many of the round's responses are in each status."""
    rows = db.session.execute(
        select(Response.status, func.count())
        .filter_by(round_id=round_.id)
        .group_by(Response.status)
    )
    counts = dict.fromkeys(("not_started", "draft", "submitted", "returned", "accepted"), 0)
    counts.update({status: n for status, n in rows})
    return counts


def rounds_for(user: User) -> list[Round]:
    """Rounds the user may see: all for the central office; the agency's (not drafts) otherwise."""
    query = select(Round).order_by(Round.fiscal_year.desc(), Round.id.desc())
    if not user.is_central:
        query = query.join(Response).where(
            Response.agency_id == user.agency_id, Round.status != "draft"
        )
    return list(db.session.scalars(query))
