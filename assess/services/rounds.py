"""Rounds: creation with invited agencies, and the workflow draft → open → closed → published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select

from assess import i18n
from assess.extensions import db
from assess.labels import ROUND_STATUS
from assess.models import Agency, QuestionnaireVersion, Response, Round, User, utcnow
from assess.services import audit
from assess.services.errors import NotFound, ServiceError, WrongState
from assess.thai import BANGKOK

#: Allowed moves: target status → statuses it may be reached from. ``closed → open``
#: reopens a round (say, to extend the deadline); it is audited like every move.
TRANSITIONS = {
    "open": ("draft", "closed"),
    "closed": ("open",),
    "published": ("closed",),
}


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
) -> Round:
    """Create a round in ``draft`` and invite agencies (all active ones when ``None``).

    Each invited agency gets a response in ``not_started``, pinned to the version.
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
        "round.create", actor, round=round_, new={"name": round_.name, "agencies": len(agencies)}
    )
    return round_


def _problems(
    name: str, fiscal_year: int, opens_on: dt.date | None, closes_on: dt.date | None
) -> list[str]:
    problems = []
    if not name.strip():
        problems.append(_("the round needs a name"))
    if not 2500 <= fiscal_year <= 2700:
        problems.append(
            _(
                "fiscal year %(year)s is not a Buddhist Era year (e.g. 2569 for Oct 2025–Sep 2026)",
                year=fiscal_year,
            )
        )
    if opens_on and closes_on and closes_on < opens_on:
        problems.append(_("the round closes before it opens"))
    return problems


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
        found = db.session.get(Round, int(round_id))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound(_("round %(id)s: no such round", id=round_id))
    return found


def move(round_: Round, target: str, actor: User | None = None) -> None:
    """Move a round to ``target`` (``open``, ``closed`` or ``published``)."""
    allowed = TRANSITIONS.get(target)
    if allowed is None:
        raise ServiceError(_("unknown round status %(status)s", status=repr(target)))
    if round_.status not in allowed:
        raise WrongState(_refused_move(round_, target, allowed))
    old = round_.status
    round_.status = target
    now = utcnow()
    if target == "open":
        round_.opened_at = now
    elif target == "closed":
        round_.closed_at = now
    else:
        round_.published_at = now
    audit.record(f"round.{target}", actor, round=round_, old=old, new=target)


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
    return _("round %(id)s is %(status)s; it can be published only when %(allowed)s", **words)


def update_settings(
    round_: Round,
    *,
    opens_on: dt.date | None,
    closes_on: dt.date | None,
    live_preview: bool,
    actor: User | None = None,
) -> bool:
    """Change a round's dates and live preview (e.g. extend the deadline); audited.

    A published round is final. Returns whether anything changed.
    """
    if round_.status == "published":
        raise WrongState(
            _("round %(round)s is published: it can no longer change", round=round_.id)
        )
    problems = _problems(round_.name, round_.fiscal_year, opens_on, closes_on)
    if problems:
        raise ServiceError(problems)
    old = {
        "opens_on": round_.opens_on.isoformat() if round_.opens_on else None,
        "closes_on": round_.closes_on.isoformat() if round_.closes_on else None,
        "live_preview": round_.live_preview,
    }
    new = {
        "opens_on": opens_on.isoformat() if opens_on else None,
        "closes_on": closes_on.isoformat() if closes_on else None,
        "live_preview": live_preview,
    }
    if old == new:
        return False
    round_.opens_on, round_.closes_on, round_.live_preview = opens_on, closes_on, live_preview
    changed = {k: v for k, v in new.items() if old[k] != v}
    audit.record(
        "round.settings", actor, round=round_, old={k: old[k] for k in changed}, new=changed
    )
    return True


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

    ``not_open`` (a draft round), ``closed`` (closed or published), ``opens_later`` (before
    ``opens_on``) or ``deadline`` (after the end of ``closes_on``).
    """
    now = now or utcnow()
    if round_.status == "draft":
        return "not_open"
    if round_.status in ("closed", "published"):
        return "closed"
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
