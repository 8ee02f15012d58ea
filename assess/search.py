"""The central office's search boxes: what is typed or pasted is matched as it is stored.

A name copied out of a PDF (ours, and most Thai government PDFs) writes SARA AM (ำ) as
NIKHAHIT and SARA AA ("ํา", its compatibility decomposition: the two look the same), so
"ตําบลห้วยกลาง" pasted from a scorecard found none of the agencies typed "ตำบลห้วยกลาง".
A tone mark typed before the vowel above it ("ท" "่" "ี" for ที่) looks the same too.
:func:`normalise` gives the text one spelling (SARA AM, tone marks after the vowel, NFC,
no zero-width characters, single spaces), the stored text is respelled so as the query
runs (:func:`_stored`), and :func:`each_word` matches every word, in any order, anywhere
in the columns searched: "โคกไผ่ เพชรบูรณ์" finds เทศบาลตำบลโคกไผ่ of Phetchabun.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from assess import provinces
from assess.models import Agency

SARA_AM = "\u0e33"
#: NIKHAHIT, a tone mark a PDF may put between the two, then SARA AA.
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
#: SARA AM typed before the tone mark ("นำ้" for น้ำ).
_TONE_AFTER_AM = re.compile("\u0e33([\u0e48-\u0e4b])")
#: A tone mark (่ ้ ๊ ๋) typed before the vowel or sign above or below its consonant
#: (ั ิ ี ึ ื ุ ู ฺ ็), which the usual spelling puts first: "ท่ี" for ที่.
_TONE_FIRST = re.compile("([\u0e48-\u0e4b])([\u0e31\u0e34-\u0e3a\u0e47])")

#: The three reorderings above as (pattern, replacement) pairs, applied in this order to the
#: query (:func:`normalise`) and to the stored text (:class:`_Spelled`, in the database).
_RESPELL = (
    (_SARA_AM, r"\1" + SARA_AM),
    (_TONE_AFTER_AM, r"\1" + SARA_AM),
    (_TONE_FIRST, r"\2\1"),
)
#: Whether a text needs any of them: most stored text does not, and one search of a row is
#: cheaper than three replacements (which doubled a search of 8,000 agencies' names).
_MISSPELT = re.compile("|".join(pattern.pattern for pattern, _ in _RESPELL))
#: Characters that are not seen and a copy may bring along (zero-width space, joiners, BOM,
#: soft hyphen).
_UNSEEN = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """Search text in one spelling: NFC, SARA AM for "ํา" (น้ํา and นํ้า read น้ำ), a tone
    mark after SARA AM or before a vowel above or below put back in its place (นำ้ and ท่ี
    read น้ำ and ที่), no zero-width characters, runs of spaces as one, no space around."""
    text = respelled(unicodedata.normalize("NFC", text or "")) or ""
    text = _UNSEEN.sub("", text)
    return _SPACES.sub(" ", text).strip()


#: The name SQLite knows :func:`respelled` by.
SQLITE_FUNCTION = "assess_respelled"


def respelled(text: str | None) -> str | None:
    """``text`` with SARA AM for "ํา" and its tone marks after their vowels (``None`` kept:
    SQLite calls this on a NULL column too)."""
    if text is None or not _MISSPELT.search(text):
        return text
    for pattern, replacement in _RESPELL:
        text = pattern.sub(replacement, text)
    return text


def words(text: str | None) -> list[str]:
    """The words of a search, normalised, each once."""
    return list(dict.fromkeys(w for w in normalise(text).split(" ") if w))


class _Spelled(FunctionElement[str]):
    """A stored text in the spelling :func:`normalise` gives, computed as the query runs (no
    stored column, so no migration): a name stored as pasted from a PDF ("ํา") reads with
    ำ, one typed with a tone mark first ("ท่ี") as ที่.

    PostgreSQL applies the same regular expressions with ``regexp_replace``. SQLite has no
    regular expressions (and refuses the 45 nested ``replace`` calls that would spell each
    case out), so it calls :func:`respelled` itself, which each SQLite connection is given
    as it opens (``assess.app``, with the connection's other settings)."""

    type = String()
    inherit_cache = True
    name = SQLITE_FUNCTION


@compiles(_Spelled, "sqlite")
def _spelled_sqlite(element: _Spelled, compiler: Any, **kw: Any) -> str:
    return f"{_Spelled.name}({compiler.process(element.clauses, **kw)})"


@compiles(_Spelled)
def _spelled_regexp(element: _Spelled, compiler: Any, **kw: Any) -> str:
    # The same patterns: PostgreSQL's regular expressions read them as Python does.
    (text,) = element.clauses  # the one argument
    spelled = text
    for pattern, replacement in _RESPELL:
        spelled = func.regexp_replace(spelled, pattern.pattern, replacement, "g")
    # Replaced only where needed: one test a row, where three replacements doubled the time.
    guarded = case((text.regexp_match(_MISSPELT.pattern), spelled), else_=text)
    return str(compiler.process(guarded, **kw))


def _stored(column: Any) -> ColumnElement[str]:
    """A stored text as searched: in the one spelling :func:`normalise` gives."""
    return _Spelled(column)


def each_word(
    text: str | None,
    columns: Sequence[Any],
    more: Callable[[str], list[ColumnElement[bool]]] | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of a search (none for an empty one): each word, ignoring case, in
    one of ``columns`` at least, or meeting one of the conditions ``more`` gives for it."""
    found: list[ColumnElement[bool]] = []
    for word in words(text):
        either = [_stored(c).icontains(word, autoescape=True) for c in columns]
        found.append(or_(*either, *(more(word) if more else [])))
    return found


def _province(word: str) -> list[ColumnElement[bool]]:
    """A word naming a province in any of its spellings ("เพชรบูรณ์", "Korat"), or a part of
    its stored (English) name."""
    named = [Agency.province.in_(provinces.spellings(word))] if provinces.find(word) else []
    return [*named, Agency.province.icontains(word, autoescape=True)]


def agency_words(
    text: str | None, *, province: bool = True, also: Sequence[Any] = ()
) -> list[ColumnElement[bool]]:
    """The conditions of a search for agencies: each word in the code, the Thai or English
    name, (``province``) the province, or one of the columns ``also`` names."""
    columns = [Agency.code, Agency.name_th, Agency.name_en, *also]
    return each_word(text, columns, _province if province else None)
