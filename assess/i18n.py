"""Translation helpers of the web layer.

The language is chosen per request (:func:`assess.app.select_locale`); outside a request it
is English, so the command line prints the same English as always. Templates and views
translate with ``_()``; services translate their messages with ``flask_babel.gettext`` when
they raise. These helpers cover the rest: messages of the pure core
(:class:`~assess.questionnaires.answers.Message`, the problems of answers and questionnaire
files), words and dates inside messages, and WTForms' own messages (WTForms ships no Thai).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import get_locale, get_translations, gettext
from flask_wtf import FlaskForm

from assess.questionnaires import Problem
from assess.questionnaires.answers import AnswerError, AnswerProblem, Message


def language() -> str:
    """The language messages are translated into now: ``"th"`` or ``"en"``."""
    locale = get_locale()
    return "th" if locale is not None and locale.language == "th" else "en"


def translate(message: Message) -> str:
    """A message of the core (template and parameters) in the current language."""
    return message.translate(gettext)


def reason(error: AnswerError) -> str:
    """Why an answer was refused, in the current language."""
    return translate(error.message)


def problem(item: AnswerProblem | Problem) -> str:
    """A problem of an answers file (``FILE:LINE: agency A: question Q: reason``) or of a
    questionnaire file (``FILE:LINE: message``) in the current language."""
    return item.render(gettext)


def word(code: str, names: Mapping[str, Any]) -> str:
    """A status or role inside a sentence: the code in English ("submitted", as the command
    line has always printed it), its display name in Thai ("ส่งแล้ว")."""
    if language() == "en":
        return code
    return str(names.get(code, code))


def either(words: Sequence[str]) -> str:
    """ "draft or closed" in the current language."""
    text = words[0] if words else ""
    for other in words[1:]:
        text = gettext("%(first)s or %(second)s", first=text, second=other)
    return text


def day(value: dt.date) -> str:
    """A date inside a message: ISO in English (``2026-01-05``), Buddhist Era in Thai."""
    from assess import thai

    return value.isoformat() if language() == "en" else thai.format_date(value, "th")


# -- WTForms -------------------------------------------------------------------------------


def N_(message: str) -> str:
    """Mark a message for ``pybabel extract`` (translated later, where it is shown)."""
    return message


def Nn_(singular: str, plural: str) -> str:
    """Mark a message with a plural form for ``pybabel extract`` (``Nn_:1,2``)."""
    return singular


#: WTForms' messages the app's forms can show, so that the catalogue has them.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid choice."),
    N_("Not a valid integer value."),
    N_("Not a valid date value."),
    N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Field must be equal to %(other_name)s."),
    N_("File does not have an approved extension."),
    N_("Invalid input."),
    Nn_(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
    ),
    Nn_(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
    ),
    Nn_(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
    ),
)


class _FormTranslations:
    """WTForms' translations object, answered from the app's catalogue."""

    def gettext(self, string: str) -> str:
        return str(get_translations().gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ngettext(singular, plural, n))


_FORM_TRANSLATIONS = _FormTranslations()


class Form(FlaskForm):
    """The base of the app's forms: WTForms' own messages in the user's language too."""

    class Meta:
        def get_translations(self, form: Any) -> _FormTranslations:
            return _FORM_TRANSLATIONS
