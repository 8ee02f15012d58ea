"""One agency's PDF scorecard: HTML from a Jinja template, then WeasyPrint (PDF/A-3b, tagged).

Two halves, so that the costly one can run in worker processes without a Flask app:

- :func:`prepare` (in the app, with Babel in the requested language) turns
  :class:`~assess.services.agency_results.AgencyResults` into a :class:`Prepared`: the HTML
  text, the JSON of the scores to attach, the file's name. All user text goes through
  Jinja's autoescaping; the stylesheet is a file of ours, never built from content.
- :func:`write_pdf` (anywhere) lays the HTML out with the process's one
  :class:`~weasyprint.text.fonts.FontConfiguration` and one parsed stylesheet (Sarabun
  embedded), through the locked-down fetcher of :mod:`assess.scorecards.fetcher`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import current_app, g, has_request_context, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from assess import i18n, levels, thai
from assess.formatting import with_unit
from assess.labels import AGENCY_TYPE, RESPONSE_STATUS, ROUND_STATUS
from assess.models import Response, utcnow
from assess.questionnaires.answers import AnswerValue
from assess.questionnaires.model import Question, QuestionType
from assess.scorecards import codes, svg
from assess.scorecards.pdf import Prepared, write_pdf
from assess.services.agency_results import (
    PRIMARY_GROUPING,
    AgencyResults,
    Measure,
    for_response,
    without_small_groups,
)
from assess.services.results import answer_sets

if TYPE_CHECKING:
    from assess.scorecards.fetcher import StaticOnlyFetcher

LANGUAGES = ("th", "en")
#: Steps of "what would lift" shown per dimension (the web page shows them all).
LIFT_STEPS = 3
#: The public page that checks a verification code (:func:`assess.scorecards.routes.verify`).
VERIFY_PATH = "/scorecards/verify"

__all__ = ["LANGUAGES", "Prepared", "prepare", "scorecard", "write_pdf"]

#: Terms that a line must not split, with the number that follows them: Pango's Thai line
#: breaker (libthai's dictionary) splits a loanword ("เปอร์เซ็น/ไทล์") or a compound
#: ("ปี/งบประมาณ", "วันทำ/การ") where a reader sees one word.
_UNBROKEN = re.compile(
    r"(?:เปอร์เซ็นไทล์|ปีงบประมาณ(?: พ\.ศ\.)?|percentile|[Ff]iscal year)(?: [0-9][0-9.,]*)?"
    r"|วันทำการ|ค่ามัธยฐาน|มัธยฐาน"
)


def unbroken(text: object) -> Markup:
    """``text``, escaped, with the terms of :data:`_UNBROKEN` each kept on one line (a
    ``nowrap`` span): for the scorecard's sentences and the questionnaire's texts in it."""
    return Markup(  # noqa: S704  (the text is escaped first; the span is ours)
        _UNBROKEN.sub(
            lambda found: f'<span class="unbroken">{found.group(0)}</span>',
            str(Markup.escape(text)),
        )
    )


# -- the HTML, in the app ---------------------------------------------------------------------


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Babel's messages and the app's formatting filters in ``lang`` for a while."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    # The filters read g.lang (assess.app.current_language); Babel reads its own locale.
    missing = object()
    saved = g.get("lang", missing)
    g.lang = lang
    try:
        with force_locale(lang):
            yield
    finally:
        if saved is missing:
            g.pop("lang", None)
        else:
            g.lang = saved


def safe_name(text: str) -> str:
    """A file-name-safe form of a code (letters, digits, dot, dash, underscore)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "agency"


def file_name(result: AgencyResults, lang: str) -> str:
    """``scorecard-2569-MOF-RD-th.pdf``."""
    return f"scorecard-{result.round.fiscal_year}-{safe_name(result.agency.code)}-{lang}.pdf"


def verify_url(code: str, site: str | None = None) -> str | None:
    """The address where a reader checks the code, or ``None`` when the site's address is
    unknown (no ``site``, no ``PUBLIC_URL``, no request): a bare path would point nowhere
    on paper. The colons of the code stay as typed (they are valid in a query), so that
    the address reads as the code printed beside it."""
    base = site or current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        base = request.url_root
    if not base:
        return None
    return f"{base.rstrip('/')}{VERIFY_PATH}?{urlencode({'code': code}, safe=':')}"


def _change(value: float | None) -> str:
    """ "+7.50", "−3.25" (a true minus sign), "0.00"; "–" when unknown."""
    if value is None:
        return "–"
    text = thai.format_score(abs(value))
    if value > 0:
        return "+" + text
    return ("−" + text) if value < 0 else text


def _percentile(value: float | None) -> str:
    """A percentile as every other output gives it (scoring.md §7: two decimals, "81.71");
    "–" when there is none."""
    return "–" if value is None else thai.format_score(value)


def _row(result: AgencyResults, measure: Measure, lang: str, number: int | None) -> dict[str, Any]:
    """One line of the dimension table (the overall line has no number)."""
    questionnaire = result.questionnaire
    level = result.level(measure.level)
    self_level = result.level(measure.self_level)
    peer = measure.peer(PRIMARY_GROUPING) if result.peers_visible else None
    applicable = measure.score is not None
    return {
        "number": number,
        "code": measure.code,
        "title": result.dimension_title(measure.code, lang) if number else _("Overall"),
        "score": thai.format_score(measure.score),
        # No score: no question of the dimension applies to the agency.
        "applicable": applicable,
        "level": level.name.get(lang) if level else "–" if applicable else _("Not applicable"),
        "level_code": measure.level,
        "colour": levels.colour(questionnaire, measure.level),
        "index": levels.palette_index(questionnaire, measure.level),
        "self_score": thai.format_score(measure.self_score),
        "self_level": self_level.name.get(lang) if self_level else "–",
        "differs": measure.differs,
        "rank": f"{peer.rank}/{peer.n}" if peer and peer.rank is not None else "–",
        "percentile": _percentile(peer.percentile if peer else None),
        "median": thai.format_score(peer.median) if peer else "–",
        "best": thai.format_score(peer.best) if peer else "–",
        "change": _change(measure.change),
        "rising": measure.change is not None and measure.change > 0,
        "falling": measure.change is not None and measure.change < 0,
    }


def _answer_text(
    question: Question, best: AnswerValue, current: AnswerValue | None, lang: str
) -> str:
    """The advised answer in words: option labels (for several choices, the ones to add),
    yes, or a number with its unit."""
    if question.has_options:
        chosen = best if isinstance(best, tuple) else (best,)
        if isinstance(current, tuple):
            # Several choices: what is already in place need not be said again.
            chosen = tuple(v for v in chosen if v not in current) or chosen
        labels = []
        for value in chosen:
            option = question.option(value) if isinstance(value, str | int) else None
            labels.append(option.label.get(lang) if option else str(value))
        return ", ".join(labels)
    if question.type is QuestionType.YESNO:
        return str(_("Yes") if best else _("No"))
    if isinstance(best, Decimal):
        return with_unit(format(best, "f"), question.unit.get(lang) if question.unit else "")
    return str(best)


def _lifts(result: AgencyResults, lang: str) -> list[dict[str, Any]]:
    """What would lift each dimension: the steps of the path to the next level first."""
    _own, answers = answer_sets(result.response)
    questions = result.questionnaire.questions
    out = []
    for number, dim in enumerate(result.questionnaire.dimensions, start=1):
        lift = result.lifts.get(dim.code)
        if lift is None:
            continue
        path = [s for s in lift.steps if s.question in lift.path]
        steps = path or list(lift.steps)
        chosen = steps[:LIFT_STEPS]
        current = result.level(lift.level)
        target = result.level(lift.next_level)
        out.append(
            {
                "number": number,
                "title": dim.title.get(lang),
                "score": thai.format_score(lift.score),
                "level": current.name.get(lang) if current else "–",
                "index": levels.palette_index(result.questionnaire, lift.level),
                "next": target.name.get(lang) if target else None,
                "needed": thai.format_score(lift.points_needed),
                # The score is enough already: a gate question holds the level back.
                "held": lift.points_needed is not None and lift.points_needed <= 0,
                "reachable": lift.reachable,
                "top": lift.next_level is None and lift.level is not None,
                "scored": lift.score is not None,
                "steps": [
                    {
                        "question": questions[step.question].text.get(lang),
                        "best": _answer_text(
                            questions[step.question], step.answer, answers.get(step.question), lang
                        ),
                        "gain": _change(float(step.dimension_gain)),
                        "gate": step.gate is not None,
                    }
                    for step in chosen
                ],
                "more": len(steps) - len(chosen),
            }
        )
    return out


def unofficial(result: AgencyResults) -> str | None:
    """Why the scores are not assessment results, or ``None`` when they are (accepted).

    A draft's scores count every unanswered question as nothing, and a submitted response
    may still be returned or verified: a scorecard of either must not read as final.
    """
    response = result.response
    status = RESPONSE_STATUS.get(response.status, response.status)
    if result.accepted:
        return None
    if response.status in ("draft", "returned", "not_started"):
        return _(
            "%(status)s — %(share)s answered; these are not assessment results.",
            status=status,
            share=with_unit(response.completeness, "ร้อยละ" if i18n.language() == "th" else "%"),
        )
    return _(
        "%(status)s — not yet accepted by the central office; these are not final "
        "assessment results.",
        status=status,
    )


def context(
    result: AgencyResults, lang: str, *, generated: dt.datetime, code: str, site: str | None
) -> dict[str, Any]:
    """What the scorecard template shows (call inside :func:`language`)."""
    questionnaire = result.questionnaire
    agency = result.record
    round_ = result.round
    overall_level = result.level(result.overall.level)
    dims = [_row(result, m, lang, i) for i, m in enumerate(result.dimensions, start=1)]
    radar_data = result.radar()
    group = radar_data.get("group")
    radar = svg.radar(
        radar_data,
        labels=[str(row["number"]) for row in dims],
        colours=[row["colour"] for row in dims],
        bands=[
            svg.Band(float(lv.min), levels.colour(questionnaire, lv.code))
            for lv in questionnaire.levels
        ],
        title=_("Scores by dimension against the peer median"),
    )
    other = "en" if lang == "th" else "th"
    return {
        "lang": lang,
        "title": _("Digital government readiness scorecard") + " — " + agency.name(lang),
        "agency_name": agency.name(lang),
        "agency_other_name": agency.name(other) if agency.name(other) != agency.name(lang) else "",
        "other_lang": other,
        "agency_code": agency.code,
        "agency_type": str(AGENCY_TYPE.get(agency.type, agency.type)),
        "parent_name": agency.parent_name(lang),
        "round_name": round_.title(lang),
        "fiscal_year": thai.fiscal_year_label(round_.fiscal_year, lang),
        "round_and_year": thai.with_fiscal_year(round_.title(lang), round_.fiscal_year, lang),
        "round_status": str(ROUND_STATUS.get(round_.status, round_.status)),
        "preliminary": round_.status != "published",
        "questionnaire_title": questionnaire.title.get(lang),
        "response_status": str(RESPONSE_STATUS.get(result.response.status, result.response.status)),
        "unofficial": unofficial(result),
        "completeness": result.response.completeness,
        "questionnaire_key": questionnaire.key,
        "overall": _row(result, result.overall, lang, None),
        "overall_description": (
            overall_level.description.get(lang)
            if overall_level is not None and overall_level.description is not None
            else ""
        ),
        "overall_peer": result.overall.peer(PRIMARY_GROUPING) if result.peers_visible else None,
        "levels": [
            {
                "name": lv.name.get(lang),
                "min": f"{lv.min:g}",
                "code": lv.code,
                "index": levels.palette_index(questionnaire, lv.code),
            }
            for lv in questionnaire.levels
        ],
        "dimensions": dims,
        "not_applicable": [row["number"] for row in dims if not row["applicable"]],
        "radar": Markup(radar),  # noqa: S704  (svg.radar escapes every text it holds)
        "peers_visible": result.peers_visible,
        # Left out for a reader who sees the other agencies anonymised (a small group).
        "peers_withheld": result.peers_visible and not group and result.round.anonymise_peers,
        "peer_group": str(AGENCY_TYPE.get(group, group)) if group else "",
        "previous_round": result.previous_round,
        "comparability": result.comparability,
        "lifts": _lifts(result, lang),
        "differs": [r for r in [_row(result, result.overall, lang, None), *dims] if r["differs"]],
        "accepted": result.accepted,
        "generated": thai.format_date(generated, lang, long=True),
        "generated_iso": generated.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "code": code,
        "verify_url": verify_url(code, site),
        "verify_path": VERIFY_PATH,
        "unbroken": unbroken,
    }


def scores_json(result: AgencyResults, *, lang: str, generated: dt.datetime, code: str) -> bytes:
    """The attachment: :meth:`AgencyResults.as_json` and what identifies this scorecard."""
    record = result.as_json()
    record["scorecard"] = {
        "lang": lang,
        "generated_at": generated.astimezone(dt.UTC).isoformat(),
        "verification_code": code,
    }
    return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def as_issued(result: AgencyResults) -> AgencyResults:
    """``result`` as a scorecard gives it, whoever makes it.

    A scorecard is the agency's own document, and its verification code stands for one
    content: when the round anonymises the other agencies, the figures of comparison groups
    of fewer than :data:`~assess.services.agency_results.MIN_ANONYMOUS_GROUP` agencies are
    left out of it for every caller (its coordinator, the central office on the web or
    through the API, ``assess scorecard``, the bulk archive), as on the agency's results
    page. The central office's dashboards still show every group.
    """
    return without_small_groups(result) if result.round.anonymise_peers else result


def prepare(
    result: AgencyResults,
    lang: str,
    *,
    generated: dt.datetime | None = None,
    site: str | None = None,
) -> Prepared:
    """The HTML and attachment of one scorecard, in ``lang`` (inside an app context); every
    scorecard is made here, so :func:`as_issued` applies to all of them."""
    generated = generated or utcnow()
    result = as_issued(result)
    code = codes.verification_code(result.response, current_app.config["SECRET_KEY"])
    with language(lang):
        html = render_template(
            "scorecards/scorecard.html",
            **context(result, lang, generated=generated, code=code, site=site),
        )
    name = safe_name(result.agency.code)
    return Prepared(
        html=html,
        scores=scores_json(result, lang=lang, generated=generated, code=code),
        attachment_name=f"scores-{result.round.fiscal_year}-{name}.json",
        file_name=file_name(result, lang),
    )


def scorecard(
    response: Response,
    lang: str = "th",
    *,
    peers_visible: bool,
    site: str | None = None,
    url_fetcher: StaticOnlyFetcher | None = None,
) -> tuple[str, bytes]:
    """One response's scorecard: ``(file name, PDF bytes)``."""
    result = for_response(response, peers_visible=peers_visible)
    prepared = prepare(result, lang, site=site)
    return prepared.file_name, write_pdf(prepared, url_fetcher=url_fetcher)
