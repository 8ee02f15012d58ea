"""Coordinator views: my rounds, answering (with autosave), evidence, submitting, the workbook.

Views stay thin: they parse the request, call a service, commit and render. Every view
loads the response by (round, the signed-in coordinator's agency), so a coordinator never
reaches another agency's response (404, nothing leaked). Only coordinators use these pages.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager
from werkzeug.datastructures import MultiDict

from assess import i18n, labels, levels, thai
from assess.app import carried_args, current_language
from assess.errors import wants_json
from assess.extensions import db, login
from assess.formatting import grouped, with_unit
from assess.models import COORDINATOR, Evidence, QuestionnaireVersion, Response, utcnow
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import (
    N_,
    NUMBER_DIGITS,
    AnswerError,
    parse_json_value,
    typed_number,
)
from assess.questionnaires.conditions import (
    And,
    Answered,
    Compare,
    Condition,
    Contains,
    InList,
    Not,
    Or,
)
from assess.questionnaires.model import Dimension, Question, QuestionType
from assess.questionnaires.model import Evidence as EvidencePolicy
from assess.scoring.engine import ResponseScore, visibility
from assess.services import disputes, evidence, interchange, responses, results, rounds
from assess.services.errors import (
    InvalidAnswers,
    NotFound,
    ServiceError,
    StaleRevision,
    WrongState,
)
from assess.services.questionnaires import parsed, questionnaire_of
from assess.survey import bp, results_page

F = TypeVar("F", bound=Callable[..., Any])

#: The no-JS form's value for "not applicable" among a question's choices.
NA_SENTINEL = "__na__"
_NUMBER = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
DECIMAL_COMMA = N_("Write decimals with a point (12.5); a comma may only group thousands (1,250).")
TOO_MANY_DIGITS = N_("Enter at most %(digits)s digits.")


# -- access ---------------------------------------------------------------------------------


def coordinator_required(*, json_only: bool = False) -> Callable[[F], F]:
    """Signed-in coordinators only: 403 for the central office.

    An unauthenticated fetch (or, with ``json_only``, any unauthenticated request) gets a
    JSON 401 instead of the login redirect, so a page's script can tell the session ended.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                if json_only or wants_json():
                    return jsonify(
                        error="unauthenticated",
                        message=_("Your session has ended. Sign in again."),
                        login_url=url_for("auth.login"),
                    ), 401
                return login.unauthorized()
            if current_user.role != COORDINATOR:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _load(round_id: int) -> Response:
    """The signed-in coordinator's response to a round; 404 for anything else."""
    agency = current_user.agency
    if agency is None:
        abort(404)
    try:
        round_ = rounds.get_round(round_id)
        response = responses.get_response(round_, agency)
        responses.require_view(current_user, response)
    except NotFound:
        abort(404)
    return response


def _is_fetch() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


# -- plain data for pages and replies -----------------------------------------------------------


class State:
    """What a page or a save reply shows about a response right now."""

    def __init__(
        self,
        response: Response,
        *,
        questionnaire: Questionnaire | None = None,
        saved: responses.Saved | None = None,
    ) -> None:
        # ``questionnaire`` and what a save left (``saved``: score, answers), when the
        # caller has them already (the autosave reply).
        self.response = response
        self.questionnaire: Questionnaire = questionnaire or questionnaire_of(
            response.questionnaire
        )
        if saved is not None:
            self.answers: dict[str, Any] = saved.answers
            parsed = saved.parsed
            self.result: ResponseScore = saved.result
        else:
            self.answers = responses.current_json(response)
            parsed = results.parse_stored(self.questionnaire, response.answers)
            self.result = results.score(response)
        self.visible: dict[str, bool] = visibility(self.questionnaire, parsed)
        missing = set(self.result.missing)
        self.dimensions: dict[str, float] = {}
        for dim in self.questionnaire.dimensions:
            required = [q for q in dim.questions if q.required and self.visible[q.code]]
            done = sum(1 for q in required if q.code not in missing)
            self.dimensions[dim.code] = (
                100.0 if not required else round(100.0 * done / len(required), 1)
            )

    @property
    def completeness(self) -> float:
        return float(self.result.completeness)

    def missing_in(self, dim: Dimension) -> list[str]:
        codes = {q.code for q in dim.questions}
        return [c for c in self.result.missing if c in codes]

    def missing_evidence_in(self, dim: Dimension) -> list[str]:
        codes = {q.code for q in dim.questions}
        return [c for c in self.result.missing_evidence if c in codes]

    def preview(self) -> dict[str, Any] | None:
        """The draft score preview, when the round shows one."""
        if not self.response.round.live_preview:
            return None
        result, questionnaire = self.result, self.questionnaire

        def item(score: Decimal | None, level: str | None) -> dict[str, Any]:
            return {
                "score": thai.format_score(score),
                "level": level,
                "name": labels.level_name(questionnaire, level),
                "index": levels.palette_index(questionnaire, level),
            }

        return {
            "overall": item(result.overall, result.level),
            "dimensions": {code: item(d.score, d.level) for code, d in result.dimensions.items()},
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.response.revision,
            "status": self.response.status,
            "completeness": self.completeness,
            "dimensions": self.dimensions,
            "missing": list(self.result.missing),
            "missing_evidence": list(self.result.missing_evidence),
            "visible": self.visible,
            "saved_at": thai.local(utcnow()).strftime("%H:%M"),
            "preview": self.preview(),
        }


def condition_json(condition: Condition) -> dict[str, Any]:
    """A bound ``show_if`` condition as a JSON tree that survey.js evaluates.

    Nodes: ``and``/``or`` (``args``), ``not`` (``arg``), ``answered`` (``ref``),
    ``contains`` (``ref``, ``value``), ``in`` (``ref``, ``values``) and the comparisons
    ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (``ref``, ``value``). Literals keep their
    JSON type: option values as strings or integers, yes/no as booleans, numbers as numbers.
    """
    if isinstance(condition, And | Or):
        return {
            "op": "and" if isinstance(condition, And) else "or",
            "args": [condition_json(o) for o in condition.operands],
        }
    if isinstance(condition, Not):
        return {"op": "not", "arg": condition_json(condition.operand)}
    if isinstance(condition, Answered):
        return {"op": "answered", "ref": condition.ref}
    if isinstance(condition, Contains):
        return {"op": "contains", "ref": condition.ref, "value": _literal(condition.literal)}
    if isinstance(condition, InList):
        return {
            "op": "in",
            "ref": condition.ref,
            "values": [_literal(v) for v in condition.literals],
        }
    assert isinstance(condition, Compare)
    return {"op": condition.op, "ref": condition.ref, "value": _literal(condition.literal)}


def _literal(value: Decimal | str | int | bool) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _dimension_url(response: Response, dim_code: str, code: str | None = None) -> str:
    url = url_for("survey.answer", round_id=response.round_id, dim_code=dim_code)
    return f"{url}#q-{code}" if code else url


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _page_data(state: State, editable: bool) -> dict[str, Any]:
    """What survey.js needs: answers, conditions, where each question lives, messages."""
    response, questionnaire, lang = state.response, state.questionnaire, current_language()
    round_id = response.round_id
    return {
        "round": round_id,
        "agency": response.agency_id,
        "revision": response.revision,
        "editable": editable,
        "answers": state.answers,
        "conditions": [
            [q.code, condition_json(q.show_if) if q.show_if is not None else None]
            for q in questionnaire.iter_questions()
        ],
        "questions": {
            q.code: {
                "d": dim.code,
                "t": _short(q.text.get(lang)),
                "href": _dimension_url(response, dim.code, q.code),
            }
            for dim in questionnaire.dimensions
            for q in dim.questions
        },
        "dims": {d.code: d.title.get(lang) for d in questionnaire.dimensions},
        "statuses": {code: str(label) for code, label in labels.RESPONSE_STATUS.items()},
        "max_bytes": current_app.config["EVIDENCE_MAX_BYTES"],
        "max_digits": NUMBER_DIGITS,
        "urls": {
            "save": url_for("survey.save", round_id=round_id),
            "csrf": url_for("survey.csrf_token"),
            "evidence": url_for("survey.evidence_add", round_id=round_id),
            "login": url_for("auth.login"),
        },
        "messages": {
            "saving": _("Saving…"),
            "saved": _("Saved %(time)s", time="{time}"),
            "not_saved": _("Not saved"),
            "retry": _("Retry"),
            "number": _("Enter a number, such as 12 or 12.5."),
            "decimal_comma": _(DECIMAL_COMMA),
            "digits": _(TOO_MANY_DIGITS, digits=NUMBER_DIGITS),
            "conflict": _("Not saved: this answer was changed elsewhere."),
            "offline": _("Not saved: the server could not be reached."),
            "session": _("Not saved yet: sign in again, then retry."),
            "closed": _("Not saved: answers can no longer be changed."),
            "all_saved": _("All answers are saved."),
            "uploading": _("Uploading %(name)s…", name="{name}"),
            "upload_failed": _("The evidence was not attached."),
            "too_large": _(
                "%(name)s is larger than %(mb)d MB.",
                name="{name}",
                mb=max(1, current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)),
            ),
            "remove_confirm": _("Remove this evidence?"),
            "evidence": _("Evidence:"),
            "nothing_missing": _("Nothing is missing. You can submit."),
            "na": _("Not applicable"),
            "level": _("Level %(code)s: %(name)s", code="{code}", name="{name}"),
            "no_level": _("No level"),
            "empty": _("(no answer)"),
            "leave": _("Some answers are not saved yet."),
        },
    }


# -- values between forms and JSON ------------------------------------------------------------


def _field(question: Question, value: Any) -> dict[str, Any]:
    """How a stored JSON value fills a question's inputs: chosen options, N/A, text (and no
    evidence link being added)."""
    state: dict[str, Any] = {"selected": set(), "na": False, "text": "", "url": ""}
    if value is None:
        return state
    if isinstance(value, dict):
        state["na"] = bool(value.get("na"))
        return state
    if question.type is QuestionType.YESNO:
        state["selected"] = {"yes" if value else "no"} if isinstance(value, bool) else set()
    elif question.has_options:
        chosen = value if isinstance(value, list) else [value]
        state["selected"] = {str(v) for v in chosen}
    elif question.type is QuestionType.NUMBER:
        state["text"] = _number_text(value)
    else:
        state["text"] = str(value)
    return state


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if number == number.to_integral_value():
            return str(int(number))
        return format(number.normalize(), "f")
    return str(value)


def _form_field(question: Question, form: MultiDict[str, str]) -> dict[str, Any]:
    """The inputs as the user sent them (to show them again after a refusal), with the
    evidence link being added."""
    name = f"ans-{question.code}"
    values = form.getlist(name)
    url = form.get(f"url-{question.code}", "").strip()
    state: dict[str, Any] = {"selected": set(), "na": False, "text": "", "url": url}
    if question.has_options or question.type is QuestionType.YESNO:
        state["na"] = NA_SENTINEL in values
        state["selected"] = {v for v in values if v != NA_SENTINEL}
    else:
        state["na"] = bool(form.get(f"na-{question.code}"))
        state["text"] = form.get(name, "")
    return state


#: Thai digits (๐–๙), as a Thai keyboard types them, read as 0–9 (survey.js alike).
def _parse_number(text: str) -> Decimal:
    cleaned = typed_number(text)
    if not _NUMBER.match(cleaned):
        if "," in cleaned:
            raise AnswerError(_(DECIMAL_COMMA))
        raise AnswerError(_("Enter a number, such as 12 or 12.5."))
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise AnswerError(_("Enter a number, such as 12 or 12.5.")) from None


def _form_values(
    questions: list[Question], form: MultiDict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The no-JS form of one dimension as JSON answer values (``None`` clears one)."""
    raw: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for question in questions:
        code, field = question.code, _form_field(question, form)
        try:
            raw[code] = _form_value(question, field)
        except AnswerError as exc:
            problems[code] = i18n.reason(exc)
    return raw, problems


def _form_value(question: Question, field: dict[str, Any]) -> Any:
    selected: set[str] = field["selected"]
    if field["na"]:
        if question.type is QuestionType.MULTI and selected:
            raise AnswerError(_("Not applicable cannot be combined with other choices."))
        return {"na": True}
    if len(selected) > 1 and question.type is not QuestionType.MULTI:
        raise AnswerError(_("Choose only one option."))
    if question.type is QuestionType.YESNO:
        if not selected:
            return None
        choice = next(iter(selected))
        if choice not in ("yes", "no"):
            raise AnswerError(_("Choose yes or no."))
        return choice == "yes"
    if question.has_options:
        by_text = {str(o.value): o.value for o in question.options}
        if any(v not in by_text for v in selected):
            raise AnswerError(_("Choose one of the options shown."))
        if question.type is QuestionType.MULTI:
            return [o.value for o in question.options if str(o.value) in selected] or None
        return by_text[next(iter(selected))] if selected else None
    text: str = field["text"] or ""
    if question.type is QuestionType.NUMBER:
        return _parse_number(text) if text.strip() else None
    return text if text.strip() else None


def _same(question: Question, a: Any, b: Any) -> bool:
    """Whether two JSON values are the same answer."""
    try:
        return parse_json_value(question, a) == parse_json_value(question, b)
    except AnswerError:
        return False


def _describe(question: Question, value: Any, lang: str) -> str:
    """An answer in words, as the coordinator would recognise it."""
    if value is None:
        return _("(no answer)")
    if isinstance(value, dict):
        return _("Not applicable")
    if question.type is QuestionType.YESNO:
        return _("Yes") if value else _("No")
    if question.has_options:
        chosen = value if isinstance(value, list) else [value]
        names = []
        for item in chosen:
            option = question.option(item)
            names.append(option.label.get(lang) if option else str(item))
        return ", ".join(names)
    if question.type is QuestionType.NUMBER and not isinstance(value, bool | str):
        return with_unit(grouped(value), question.unit.get(lang) if question.unit else "")
    return str(value)


def _readonly_reason(response: Response, now: dt.datetime | None = None) -> str | None:
    """Why the answers cannot be changed now, in words for the coordinator (or ``None``)."""
    if responses.editable(response, now) is None:
        return None
    lang = current_language()
    if response.status == "submitted":
        return _("The answers were submitted for review, so they cannot be changed now.")
    if response.status == "accepted":
        return _("The central office accepted these answers, so they cannot be changed.")
    round_ = response.round
    if round_.status == "draft":
        return _("The round has not opened yet.")
    if round_.status == "closed":
        return _("The round is closed, so the answers cannot be changed.")
    if round_.status in ("preliminary", "published"):
        return _("The round's results are out, so the answers cannot be changed.")
    now = now or utcnow()
    if round_.opens_on is not None and now < dt.datetime.combine(
        round_.opens_on, dt.time(), thai.BANGKOK
    ):
        return _(
            "The round opens on %(date)s; answers can be given from then.",
            date=thai.format_date(round_.opens_on, lang),
        )
    end = rounds.deadline(round_)
    if end is not None and now >= end:
        return _(
            "The deadline (%(date)s) has passed, so the answers cannot be changed.",
            date=thai.format_date(round_.closes_on, lang),
        )
    return _("The answers cannot be changed now.")


def _json_error(error: str, message: str, status: int, **extra: Any) -> tuple[Any, int]:
    return jsonify(error=error, message=message, **extra), status


# -- 1. my rounds -------------------------------------------------------------------------------


@bp.route("/my")
@coordinator_required()
def home() -> str:
    items = []
    agency = current_user.agency
    for round_ in rounds.rounds_for(current_user) if agency is not None else []:
        try:
            response = responses.get_response(round_, agency)
        except NotFound:
            continue
        items.append(
            {
                "round": round_,
                "response": response,
                "readonly": _readonly_reason(response),
                "days_left": thai.days_left(round_.closes_on),
                "comments": len(responses.latest_comments(response))
                if response.status == "returned"
                else 0,
            }
        )
    return render_template("survey/home.html", items=items)


# -- 2. answering ---------------------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/answer", methods=["GET", "POST"])
@bp.route("/rounds/<int:round_id>/answer/<dim_code>", methods=["GET", "POST"])
@coordinator_required()
def answer(round_id: int, dim_code: str | None = None) -> Any:
    response = _load(round_id)
    questionnaire = questionnaire_of(response.questionnaire)
    if dim_code is None:
        # The first dimension with something missing. A GET goes to its own address, so
        # the address names the section (a reload stays there once it is complete).
        dim = _first_to_answer(response)
        if request.method == "GET":
            return redirect(
                url_for(
                    "survey.answer",
                    round_id=response.round_id,
                    dim_code=dim.code,
                    **carried_args("survey.answer"),
                )
            )
    else:
        try:
            dim = questionnaire.dimension(dim_code)
        except KeyError:
            abort(404)
    if request.method == "POST":
        return _post_answers(response, dim)
    return _render_answer(response, dim)


def _first_to_answer(response: Response) -> Dimension:
    """The dimension to open: the first with an unanswered question, else the first."""
    state = State(response)
    questionnaire = state.questionnaire
    return next(
        (d for d in questionnaire.dimensions if state.missing_in(d)), questionnaire.dimensions[0]
    )


def _render_answer(
    response: Response,
    dim: Dimension,
    *,
    state: State | None = None,
    fields: Mapping[str, dict[str, Any]] | None = None,
    errors: Mapping[str, str] | None = None,
    yours: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The answer page of one dimension.

    ``fields`` overrides the inputs with what the user sent (after a refusal); ``errors``
    maps question codes to reasons; ``yours`` maps codes to the user's unsaved value in
    words (after a conflict).
    """
    state = state or State(response)
    questionnaire, lang = state.questionnaire, current_language()
    reason = _readonly_reason(response)
    shown = {q.code: _field(q, state.answers.get(q.code)) for q in dim.questions}
    shown.update(fields or {})
    comments = responses.latest_comments(response) if response.status == "returned" else []
    by_question: dict[str, list[Any]] = {}
    for comment in comments:
        if comment.question_code:
            by_question.setdefault(comment.question_code, []).append(comment)
    dim_of = {q.code: d for d in questionnaire.dimensions for q in d.questions}
    items: dict[str, list[Evidence]] = {}
    for item in response.evidence:
        items.setdefault(item.question_code, []).append(item)
    return render_template(
        "survey/answer.html",
        response=response,
        round=response.round,
        questionnaire=questionnaire,
        dim=dim,
        state=state,
        shown=shown,
        errors=errors or {},
        yours=yours or {},
        notice=notice,
        readonly=reason,
        comments=comments,
        general_comments=[c for c in comments if not c.question_code],
        question_comments=by_question,
        dim_of=dim_of,
        evidence_items=items,
        EvidencePolicy=EvidencePolicy,
        QuestionType=QuestionType,
        NA=NA_SENTINEL,
        page_data=_page_data(state, reason is None),
        max_mb=max(1, current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024)),
        accept=",".join(sorted(evidence.TYPES)),
        lang=lang,
    ), status


def _post_answers(response: Response, dim: Dimension) -> Any:
    """The no-JS save of one dimension: answers, then evidence to attach or remove."""
    here = _dimension_url(response, dim.code)
    reason = _readonly_reason(response)
    if reason is not None:
        flash(reason, "warning")
        return redirect(here)
    try:
        revision = int(request.form.get("revision", ""))
    except ValueError:
        abort(400)
    form = request.form
    raw, problems = _form_values(list(dim.questions), form)
    typed = {q.code: _form_field(q, form) for q in dim.questions}
    # "Clear answer" (name="clear", value=the question's code): that answer becomes empty,
    # whatever its inputs hold; the rest of the form is saved as usual.
    cleared = form.get("clear", "")
    if cleared in typed:
        raw[cleared] = None
        problems.pop(cleared, None)
        typed[cleared] = _field(next(q for q in dim.questions if q.code == cleared), None)
    else:
        cleared = ""
    # A browser does not send a chosen file again: a refusal says so (a typed link is kept).
    chosen = any(f.filename for name in request.files for f in request.files.getlist(name))

    def refused() -> str:
        if chosen:
            return _(
                "Nothing was saved, and the files chosen were not attached: correct the "
                "answers marked below, then choose the files again."
            )
        return _("Nothing was saved. Correct the answers marked below.")

    if problems:
        return _render_answer(
            response, dim, fields=typed, errors=problems, notice=refused(), status=422
        )
    try:
        responses.save_answers(response, raw, revision=revision, actor=current_user)
    except StaleRevision as exc:
        db.session.rollback()
        lang = current_language()
        yours = {
            q.code: _describe(q, raw.get(q.code), lang)
            for q in dim.questions
            if not _same(q, raw.get(q.code), exc.answers.get(q.code))
        }
        # The current values are shown; the links typed stay in their fields.
        links = {
            q.code: {**_field(q, exc.answers.get(q.code)), "url": typed[q.code]["url"]}
            for q in dim.questions
            if typed[q.code]["url"]
        }
        notice = _(
            "These answers were changed in another tab or by someone else; the current "
            "values are shown. Your changes were not saved: they are listed under each "
            "question. Enter them again and save."
        )
        if chosen or form.getlist("remove"):
            notice += " " + _(
                "The files chosen were not attached and no evidence was removed: choose the "
                "files again before saving."
            )
        return _render_answer(response, dim, fields=links, yours=yours, notice=notice, status=409)
    except InvalidAnswers as exc:
        db.session.rollback()
        return _render_answer(
            response, dim, fields=typed, errors=exc.by_question, notice=refused(), status=422
        )
    except WrongState:
        db.session.rollback()
        flash(_readonly_reason(response) or _("The answers cannot be changed now."), "warning")
        return redirect(here)
    # Evidence sent with the same form (no-JS): remove, then attach files and links.
    notes: list[str] = []
    unlink: list[Path] = []
    folder = current_app.config["EVIDENCE_FOLDER"]
    anchor = form.get("goto", "") or (f"q-{cleared}" if cleared else "")
    for ident in form.getlist("remove"):
        try:
            number = int(ident)
            removed = next((e for e in response.evidence if e.id == number), None)
            if removed is not None and not anchor:
                anchor = f"q-{removed.question_code}"
            path = evidence.remove(response, current_user, number, folder=folder)
        except (ServiceError, ValueError) as exc:
            notes += exc.problems if isinstance(exc, ServiceError) else [str(exc)]
            continue
        if path is not None:
            unlink.append(path)
    for question in dim.questions:
        if question.evidence is EvidencePolicy.NONE:
            continue
        for upload in request.files.getlist(f"file-{question.code}"):
            if not upload or not upload.filename:
                continue
            try:
                evidence.add_file(
                    response,
                    current_user,
                    question.code,
                    upload.filename,
                    upload.stream,
                    folder=folder,
                    max_bytes=current_app.config["EVIDENCE_MAX_BYTES"],
                )
            except ServiceError as exc:
                notes += exc.problems
        url = (form.get(f"url-{question.code}") or "").strip()
        if url:
            try:
                evidence.add_url(response, current_user, question.code, url)
            except ServiceError as exc:
                notes += exc.problems
    db.session.commit()
    for path in unlink:
        path.unlink(missing_ok=True)
    if notes:
        flash(
            _("The answers were saved, but some evidence was not attached or removed:"), "warning"
        )
        for note in notes:
            flash(note, "danger")
    elif cleared:
        flash(_("The answer was cleared; your other answers have been saved."), "success")
    else:
        flash(_("Your answers have been saved."), "success")
    valid = {f"q-{q.code}" for q in dim.questions}
    return redirect(here + (f"#{anchor}" if anchor in valid else ""))


#: The query of :func:`_load_for_save`, built once.
_RESPONSE_FOR_SAVE = (
    select(Response, QuestionnaireVersion.content_hash)
    .join(Response.round)
    .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_id)
    .where(Response.round_id == bindparam("round_id"), Response.agency_id == bindparam("agency_id"))
    .options(contains_eager(Response.round))
)


def _load_for_save(round_id: int) -> tuple[Response, Questionnaire]:
    """As :func:`_load`, with the round in the same query (the save reads the rest as plain
    values), and the questionnaire without reading its text when this process parsed it
    before."""
    agency_id = current_user.agency_id
    if agency_id is None:
        abort(404)
    found = db.session.execute(
        _RESPONSE_FOR_SAVE, {"round_id": round_id, "agency_id": agency_id}
    ).first()
    if found is None or not responses.can_view(current_user, found[0]):
        abort(404)
    response, content_hash = found
    return response, parsed(content_hash) or questionnaire_of(response.questionnaire)


@bp.route("/rounds/<int:round_id>/answers", methods=["POST"])
@coordinator_required(json_only=True)
def save(round_id: int) -> Any:
    """Autosave: ``{"revision": N, "answers": {code: value|null}}`` → the new state.

    The reply is made before the commit (the session expires everything at commit, and
    reading it all again would cost a query per attribute) and sent once the commit
    succeeded.
    """
    response, questionnaire = _load_for_save(round_id)
    try:
        body = json.loads(request.get_data(as_text=True) or "null", parse_float=Decimal)
    except ValueError:
        body = None
    revision = body.get("revision") if isinstance(body, dict) else None
    raw = body.get("answers") if isinstance(body, dict) else None
    if not isinstance(revision, int) or isinstance(revision, bool) or not isinstance(raw, dict):
        return _json_error("malformed", _('Send {"revision": N, "answers": {…}} as JSON.'), 400)
    try:
        saved = responses.save(
            response, raw, revision=revision, actor=current_user, questionnaire=questionnaire
        )
    except StaleRevision as exc:
        db.session.rollback()
        return jsonify(
            error="stale",
            message=_(
                "These answers were changed in another tab or by someone else; the current "
                "values are shown."
            ),
            answers=exc.answers,
            **State(response).as_json(),
        ), 409
    except InvalidAnswers as exc:
        db.session.rollback()
        return _json_error("invalid", "; ".join(exc.problems), 422, details=exc.by_question)
    except WrongState:
        db.session.rollback()
        return _json_error(
            "closed", _readonly_reason(response) or _("The answers cannot be changed now."), 409
        )
    reply = State(response, questionnaire=questionnaire, saved=saved).as_json()
    db.session.commit()
    return jsonify(reply)


@bp.route("/csrf-token")
def csrf_token() -> Any:
    """A fresh CSRF token, for a page whose session ended and was signed in again."""
    reply = jsonify(csrf_token=generate_csrf())
    reply.headers["Cache-Control"] = "no-store"
    return reply


# -- evidence -------------------------------------------------------------------------------------


def _evidence_reply(response: Response, code: str) -> Any:
    """After an evidence change: the question's list (fetch) or back to the page."""
    questionnaire = questionnaire_of(response.questionnaire)
    dim = next(d for d in questionnaire.dimensions for q in d.questions if q.code == code)
    if _is_fetch():
        items = [e for e in response.evidence if e.question_code == code]
        html = render_template(
            "survey/_evidence_items.html",
            items=items,
            response=response,
            editable=_readonly_reason(response) is None,
        )
        return jsonify(html=html, code=code, **State(response).as_json())
    return redirect(_dimension_url(response, dim.code, code))


def _evidence_refused(response: Response, code: str | None, exc: ServiceError) -> Any:
    db.session.rollback()
    if _is_fetch() or wants_json():
        return _json_error("refused", "; ".join(exc.problems), exc.status, details=exc.details)
    for problem in exc.problems:
        flash(problem, "danger")
    questionnaire = questionnaire_of(response.questionnaire)
    dim = next(
        (d for d in questionnaire.dimensions for q in d.questions if q.code == code),
        questionnaire.dimensions[0],
    )
    return redirect(_dimension_url(response, dim.code, code if code else None))


@bp.route("/rounds/<int:round_id>/evidence", methods=["POST"])
@coordinator_required()
def evidence_add(round_id: int) -> Any:
    """Attach a file (``file``) or a link (``url``) to question ``code``."""
    response = _load(round_id)
    code = (request.form.get("code") or request.args.get("code") or "").strip()
    questionnaire = questionnaire_of(response.questionnaire)
    if code not in questionnaire.questions:
        abort(404)
    upload = request.files.get("file") or request.files.get(f"file-{code}")
    url = (request.form.get("url") or request.form.get(f"url-{code}") or "").strip()
    try:
        if (upload is None or not upload.filename) and not url:
            raise ServiceError(_("Choose a file or enter a web address."))
        if upload is not None and upload.filename:
            evidence.add_file(
                response,
                current_user,
                code,
                upload.filename,
                upload.stream,
                folder=current_app.config["EVIDENCE_FOLDER"],
                max_bytes=current_app.config["EVIDENCE_MAX_BYTES"],
            )
        if url:
            evidence.add_url(response, current_user, code, url)
    except ServiceError as exc:
        return _evidence_refused(response, code, exc)
    db.session.commit()
    if not _is_fetch():
        flash(_("The evidence was attached."), "success")
    return _evidence_reply(response, code)


@bp.route("/rounds/<int:round_id>/evidence/<int:evidence_id>/remove", methods=["POST"])
@coordinator_required()
def evidence_remove(round_id: int, evidence_id: int) -> Any:
    response = _load(round_id)
    item = next((e for e in response.evidence if e.id == evidence_id), None)
    if item is None:
        abort(404)
    code = item.question_code
    try:
        path = evidence.remove(
            response, current_user, evidence_id, folder=current_app.config["EVIDENCE_FOLDER"]
        )
    except ServiceError as exc:
        return _evidence_refused(response, code, exc)
    db.session.commit()
    if path is not None:
        path.unlink(missing_ok=True)
    if not _is_fetch():
        flash(_("The evidence was removed."), "success")
    return _evidence_reply(response, code)


@bp.route("/rounds/<int:round_id>/evidence/<int:evidence_id>")
@coordinator_required()
def evidence_file(round_id: int, evidence_id: int) -> Any:
    """Download an evidence file of the own agency's response (always as an attachment)."""
    response = _load(round_id)
    item = next((e for e in response.evidence if e.id == evidence_id), None)
    if item is None or not item.stored_name:
        abort(404)
    path = evidence.path_of(item, current_app.config["EVIDENCE_FOLDER"])
    if not path.is_file():
        abort(404)
    reply = send_file(
        path,
        mimetype=item.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=item.filename or "evidence",
        max_age=0,
    )
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


# -- 3. submitting ---------------------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/submit", methods=["GET", "POST"])
@coordinator_required()
def submit(round_id: int) -> Any:
    response = _load(round_id)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if not request.form.get("confirm"):
            problems = [_("Tick the box to confirm the answers before you submit.")]
            status = 400
        else:
            try:
                responses.submit(response, current_user)
            except responses.Incomplete:
                db.session.rollback()
                problems = [_("Some answers or evidence are still missing; they are listed below.")]
                status = 422
            except WrongState:
                db.session.rollback()
                problems = [_readonly_reason(response) or _("The answers cannot be submitted now.")]
                status = 409
            else:
                db.session.commit()
                flash(
                    _("Your answers have been submitted. The central office will review them."),
                    "success",
                )
                return redirect(url_for("survey.home"))
    state = State(response)
    return render_template(
        "survey/submit.html",
        response=response,
        round=response.round,
        questionnaire=state.questionnaire,
        state=state,
        readonly=_readonly_reason(response),
        problems=problems,
        dim_of={q.code: d for d in state.questionnaire.dimensions for q in d.questions},
        lang=current_language(),
    ), status


# -- 4. the offline workbook ---------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/workbook.xlsx")
@coordinator_required()
def workbook_download(round_id: int) -> Any:
    response = _load(round_id)
    data = interchange.agency_workbook(response, current_language())
    name = f"{response.agency.code}-round{response.round_id}-rev{response.revision}.xlsx"
    reply = current_app.response_class(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    reply.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


@bp.route("/rounds/<int:round_id>/workbook", methods=["GET", "POST"])
@coordinator_required()
def workbook(round_id: int) -> Any:
    response = _load(round_id)
    problems: list[str] = []
    message: str | None = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("workbook")
        reason = _readonly_reason(response)
        if reason is not None:
            message, status = reason, 409
        elif upload is None or not upload.filename:
            message, status = _("Choose the workbook file to upload."), 400
        else:
            try:
                changed = interchange.import_agency_workbook(
                    response, upload.read(), upload.filename, current_user
                )
            except StaleRevision:
                db.session.rollback()
                message, status = (
                    _(
                        "The answers were changed on the web after this workbook was "
                        "downloaded, so nothing was imported. Download the workbook again, "
                        "copy your answers into it and upload it again."
                    ),
                    409,
                )
            except WrongState:
                db.session.rollback()
                message = _readonly_reason(response) or _("The answers cannot be changed now.")
                status = 409
            except ServiceError as exc:
                db.session.rollback()
                message = _("Nothing was imported. Correct these problems and upload again:")
                problems, status = exc.problems, 422
            else:
                db.session.commit()
                flash(
                    ngettext(
                        "The workbook was imported: %(num)d answer changed.",
                        "The workbook was imported: %(num)d answers changed.",
                        changed,
                    ),
                    "success",
                )
                return redirect(_dimension_url(response, _first_to_answer(response).code))
    return render_template(
        "survey/workbook.html",
        response=response,
        round=response.round,
        questionnaire=questionnaire_of(response.questionnaire),
        readonly=_readonly_reason(response),
        problems=problems,
        message=message,
    ), status


# -- 5. results and disputes --------------------------------------------------------------------


def _results_response(round_id: int) -> Response:
    """The coordinator's response when its results may be seen; 404 before that."""
    response = _load(round_id)
    if not rounds.results_visible(response.round):
        abort(404)
    return response


@bp.route("/rounds/<int:round_id>/results")
@coordinator_required()
def results_view(round_id: int) -> str:
    """The agency's results: scores and levels, peers, change, what would lift each level."""
    return results_page.render(_results_response(round_id), central=False)


@bp.route("/rounds/<int:round_id>/disputes/new", methods=["GET", "POST"])
@coordinator_required()
def dispute_new(round_id: int) -> Any:
    """Dispute one question of the preliminary results, with an explanation.

    The question's own inputs (the answer page's card) give the value the agency asks to be
    counted; leaving them as they are asks for the agency's own answer.
    """
    response = _results_response(round_id)
    questionnaire = questionnaire_of(response.questionnaire)
    code = request.values.get("question", "")
    question = questionnaire.questions.get(code)
    if question is None:
        abort(404)
    from assess.review.routes import show_value  # the review views import this module

    own, verified = results.answer_sets(response)
    stored = {a.question_code: a.value for a in response.answers}
    # The form starts at the agency's own answer: sent unchanged, it asks for that answer to
    # count (a verified value pre-selected here was sent back as the agency's "proposal").
    current = next((v for v in response.verified if v.question_code == code), None)
    field = _field(question, stored.get(code))
    errors: dict[str, str] = {}
    explanation = ""
    status = 200
    if request.method == "POST":
        field = _form_field(question, request.form)
        explanation = request.form.get("explanation", "")
        try:
            value = _form_value(question, field)
        except AnswerError as exc:
            errors[code] = i18n.reason(exc)
        else:
            proposed = None if _same(question, value, stored.get(code)) else value
            try:
                disputes.raise_dispute(response, current_user, code, explanation, proposed)
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                details = exc.details if isinstance(exc.details, dict) else {}
                errors[code] = "; ".join(str(v) for v in details.values()) or "; ".join(
                    exc.problems
                )
            else:
                flash(
                    _("Your dispute of %(code)s was sent to the central office.", code=code),
                    "success",
                )
                return redirect(url_for(".results_view", round_id=round_id, _anchor="disputes"))
        status = 422
    items = [e for e in response.evidence if e.question_code == code]
    return render_template(
        "survey/dispute.html",
        response=response,
        round=response.round,
        questionnaire=questionnaire,
        q=question,
        index=1,
        shown={code: field},
        state=SimpleNamespace(visible={code: True}),
        errors=errors,
        yours={},
        question_comments={},
        evidence_items={code: items},
        readonly=True,
        EvidencePolicy=EvidencePolicy,
        NA=NA_SENTINEL,
        max_mb=1,
        accept="",
        lang=current_language(),
        explanation=explanation,
        own=show_value(question, own.get(code), current_language()),
        verified_value=show_value(question, verified.get(code), current_language())
        if current is not None
        else None,
        verified_reason=current.reason if current is not None else "",
        can_dispute=rounds.disputes_open(response.round) and response.status == "accepted",
        waiting=any(d.question_code == code and d.status == "open" for d in response.disputes),
    ), status
