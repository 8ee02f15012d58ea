"""Disputes of preliminary results: an agency contests a question, a reviewer decides.

While a round's results are preliminary and its dispute window is open, the coordinator of
an agency whose response was accepted disputes specific questions with an explanation and,
optionally, the value the agency asks to be counted. A reviewer upholds or rejects each
dispute; upholding records that value (or the agency's own answer) as the verified value, so
the verified scores recompute in the same transaction. Final publication waits until every
dispute is decided (:func:`assess.services.rounds.move`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, select
from sqlalchemy.exc import IntegrityError

from assess import i18n, search
from assess.extensions import db
from assess.models import Agency, Dispute, Response, Round, User, utcnow
from assess.questionnaires.answers import AnswerError, parse_json_value
from assess.services import audit, locks, responses, rounds
from assess.services.errors import InvalidAnswers, NotAllowed, NotFound, ServiceError, WrongState

#: The longest explanation kept (about four pages of text).
EXPLANATION_LIMIT = 4000


def raise_dispute(
    response: Response,
    actor: User,
    code: str,
    explanation: str,
    proposed: Any = None,
) -> Dispute:
    """Dispute question ``code`` of an accepted response during the dispute window.

    ``proposed`` is a value in the JSON answer form, or ``None`` to ask for the agency's own
    answer. One undecided dispute per question.
    """
    if actor.is_central or actor.agency_id != response.agency_id:
        raise NotAllowed(_("only the agency's coordinator can dispute its results"))
    locks.hold(response)  # not after the final publication, which counts the open ones
    if not rounds.disputes_open(response.round):
        raise WrongState(_("the dispute window of this round is not open"))
    if response.status != "accepted":
        raise WrongState(_("only accepted responses have results to dispute"))
    question = responses.question_of(response, code)
    problems: dict[str, str] = {}
    text = (explanation or "").strip()
    if not text:
        problems[code] = _("explain why the result of this question is wrong")
    elif len(text) > EXPLANATION_LIMIT:
        problems[code] = _(
            "the explanation is too long (at most %(limit)d characters)", limit=EXPLANATION_LIMIT
        )
    parsed = None
    if proposed is not None and not problems:
        try:
            parsed = parse_json_value(question, proposed)
        except AnswerError as exc:
            problems[code] = i18n.reason(exc)
    if problems:
        raise InvalidAnswers(problems)
    waiting = WrongState(
        _("question %(code)s already has a dispute waiting for a decision", code=code)
    )
    if any(d.question_code == code and d.status == "open" for d in response.disputes):
        raise waiting
    dispute = Dispute(
        response_id=response.id,
        question_code=code,
        explanation=text,
        proposed=None if parsed is None else responses.stored(parsed),
        raised_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(dispute)
    except IntegrityError:  # another request opened one a moment before (migration 0009)
        raise waiting from None
    db.session.expire(response, ["disputes"])
    audit.record(
        "dispute.raise",
        actor,
        response=response,
        question=code,
        new={"dispute": dispute.id, "proposed": dispute.proposed},
        detail=text,
    )
    return dispute


def decide(dispute: Dispute, actor: User, *, uphold: bool, note: str) -> None:
    """Uphold or reject an undecided dispute, with a note the agency reads.

    Upholding sets the verified value of the question to the proposed value, or removes the
    verified value so the agency's own answer counts; the scores recompute. Decisions are
    taken while the results are preliminary (also after the window has closed).
    """
    if not actor.is_central:
        raise NotAllowed(_("only the central office decides disputes"))
    response = dispute.response
    locks.hold(response)  # two decisions of one dispute: the second sees the first
    db.session.refresh(dispute)
    if response.round.status != "preliminary":
        raise WrongState(_("disputes are decided while the results are preliminary"))
    if dispute.status != "open":
        raise WrongState(_("dispute %(id)s is already decided", id=dispute.id))
    text = (note or "").strip()
    if not text:
        raise ServiceError(_("give the reason for the decision; the agency will read it"))
    if uphold:
        reason = _("dispute %(id)s upheld: %(note)s", id=dispute.id, note=text)
        responses.verify(response, actor, dispute.question_code, dispute.proposed, reason)
    dispute.status = "upheld" if uphold else "rejected"
    dispute.decided_by_id = actor.id
    dispute.decided_at = utcnow()
    dispute.decision_note = text
    audit.record(
        "dispute.uphold" if uphold else "dispute.reject",
        actor,
        response=response,
        question=dispute.question_code,
        old="open",
        new=dispute.status,
        detail=text,
    )


def get_dispute(round_: Round, dispute_id: int) -> Dispute:
    """A dispute of a round's responses; :class:`NotFound` otherwise."""
    found = db.session.get(Dispute, dispute_id)
    if found is None or found.response.round_id != round_.id:
        raise NotFound(_("dispute %(id)s: no such dispute in this round", id=dispute_id))
    return found


#: The order of a round's disputes: undecided first, then by agency and question.
ORDER = (
    case((Dispute.status == "open", 0), else_=1),
    Agency.code,
    Dispute.question_code,
    Dispute.id,
)


def round_query(
    round_: Round, status: str | None = None, text: str | None = None, columns: Sequence[Any] = ()
) -> Select[Any]:
    """The round's disputes (or these ``columns`` of them, of their responses and agencies)
    of ``status``, matching the search ``text`` (each word in the agency's code, name or
    province, or the question's code): undecided first, then by agency and question."""
    query = (
        (select(*columns) if columns else select(Dispute))
        .select_from(Dispute)
        .join(Response, Dispute.response_id == Response.id)
        .join(Agency, Response.agency_id == Agency.id)
        .where(
            Response.round_id == round_.id, *search.agency_words(text, also=[Dispute.question_code])
        )
    )
    if status:
        query = query.where(Dispute.status == status)
    return query.order_by(*ORDER)
