"""Translatable messages of the pure core: a marker for ``pybabel extract`` and a template
kept with its parameters.

The core (questionnaire files, answers) stays free of Flask: it marks its message templates
with :func:`N_` and keeps them in :class:`Message` values whose ``str()`` is the English
text. The web layer translates them with ``flask_babel.gettext`` (``assess.i18n``); the
command line prints the English.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:
    """Mark ``message`` for translation (``pybabel extract -k N_``); returns it unchanged."""
    return message


def same(text: str) -> str:
    """The identity ``gettext``: a message's English text."""
    return text


class Message:
    """A message template with named parameters (``%(name)s``), translatable later.

    ``str()`` is the English text. :meth:`translate` looks the template up with the given
    ``gettext`` and fills in the same parameters; a parameter that is itself a
    :class:`Message` is translated too. Values (numbers, codes, option values) are formatted
    the same way in every language.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of ``gettext`` (``str()`` gives the English)."""
        text = gettext(self.template)
        if not self.params:
            return text
        return text % {
            name: value.translate(gettext) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }

    def __str__(self) -> str:
        return self.translate(same)

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.template, self.params) == (other.template, other.params)

    def __hash__(self) -> int:
        return hash(self.template)
