"""Display names of the domain's codes (statuses, roles, agency types), in both languages."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from assess import levels, provinces
from assess.i18n import N_
from assess.questionnaires import Questionnaire

RESPONSE_STATUS = {
    "not_started": _l("Not started"),
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "returned": _l("Returned"),
    "accepted": _l("Accepted"),
}
ROUND_STATUS = {
    "draft": _l("Draft"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "preliminary": _l("Preliminary results"),
    "published": _l("Published"),
}
DISPUTE_STATUS = {
    "open": _l("Awaiting decision"),
    "upheld": _l("Upheld"),
    "rejected": _l("Rejected"),
}
GROUPING = {
    "all": _l("All agencies"),
    "type": _l("Same type"),
    "parent": _l("Same parent agency"),
    "province": _l("Same province"),
    "tag": _l("Same tag"),
}
ROLE = {"coordinator": _l("Coordinator"), "reviewer": _l("Reviewer"), "admin": _l("Administrator")}
AGENCY_TYPE = {
    "ministry": _l("Ministry"),
    "department": _l("Department"),
    "province": _l("Province"),
    "local": _l("Local administration"),
    "public_org": _l("Public organisation"),
    "state_enterprise": _l("State enterprise"),
    "independent": _l("Independent organisation"),
}
QUESTION_TYPE = {
    "level": _l("Maturity level"),
    "choice": _l("One choice"),
    "multi": _l("Several choices"),
    "yesno": _l("Yes or no"),
    "number": _l("Number"),
    "text": _l("Text"),
}

#: The languages of the pages, each by its own name (as the language menus offer them).
LANGUAGE = {"th": "ไทย", "en": "English"}

#: A questionnaire import's audit detail, recorded as ``WHAT: FILE`` (:func:`import_detail`),
#: in words: by what happened, the message shown (translated where it is shown).
QUESTIONNAIRE_IMPORT = {
    "created": N_("%(file)s: imported as a new version"),
    "updated": N_("%(file)s: replaced the content of a version no round used yet"),
}


def import_detail(what: str, file: str) -> str:
    """The audit detail of a questionnaire import: ``created: FILE`` or ``updated: FILE``
    (codes, as the CSV of the log keeps them; :func:`audit_detail` puts them in words)."""
    return f"{what}: {file}"


def audit_detail(action: str, detail: str | None) -> str:
    """An audit event's detail for people, in the request's language: a questionnaire
    import's ``created: FILE`` in words (:data:`QUESTIONNAIRE_IMPORT`); any other as
    recorded (a file name, an e-mail, a code)."""
    text = detail or ""
    if action == "questionnaire.import":
        what, sep, file = text.partition(": ")
        if sep and what in QUESTIONNAIRE_IMPORT:
            return str(gettext(QUESTIONNAIRE_IMPORT[what], file=file))
    return text


def _get(table: dict[str, Any], code: str | None) -> str:
    return str(table.get(code or "", code or ""))


def level_name(questionnaire: Questionnaire, code: str | None) -> str:
    """A level's name in the request's language ("" when there is none)."""
    from assess.app import current_language

    if not code:
        return ""
    try:
        return questionnaire.level(code).name.get(current_language())
    except KeyError:
        return code


def province_label(value: str | None) -> str:
    """A stored province in the request's language ("Chiang Mai" → "เชียงใหม่" in Thai)."""
    from assess.app import current_language

    return provinces.label(value, current_language())


def province_options(values: list[str]) -> list[tuple[str, str]]:
    """A province filter's choices, ``(stored value, label)``, in the request's language."""
    from assess.app import current_language

    return provinces.options(values, current_language())


def province_names() -> list[str]:
    """The 77 provinces' names in the request's language, in dictionary order."""
    from assess.app import current_language

    lang = current_language()
    return [name for _value, name in provinces.options(provinces.ENGLISH_NAMES, lang)]


def init_app(app: Flask) -> None:
    """Make the labels available to every template."""
    app.jinja_env.globals.update(
        status_label=lambda c: _get(RESPONSE_STATUS, c),
        round_status_label=lambda c: _get(ROUND_STATUS, c),
        role_label=lambda c: _get(ROLE, c),
        agency_type_label=lambda c: _get(AGENCY_TYPE, c),
        question_type_label=lambda c: _get(QUESTION_TYPE, c),
        dispute_status_label=lambda c: _get(DISPUTE_STATUS, c),
        grouping_label=lambda c: _get(GROUPING, c),
        language_label=lambda c: _get(LANGUAGE, c),
        audit_detail=lambda e: audit_detail(e.action, e.detail),
        level_name=level_name,
        province_label=province_label,
        province_options=province_options,
        province_spellings=provinces.spellings,
        province_names=province_names,
        level_index=levels.palette_index,
        level_colour=levels.colour,
        RESPONSE_STATUSES=list(RESPONSE_STATUS),
        AGENCY_TYPES=list(AGENCY_TYPE),
    )
