"""The central office's search boxes: what is typed or pasted is matched as it is stored.

A name copied out of a PDF (ours, and most Thai government PDFs) writes SARA AM (ำ) as
NIKHAHIT and SARA AA ("ํา", its compatibility decomposition: the two look the same), so
"ตําบลห้วยกลาง" pasted from a scorecard found none of the agencies typed "ตำบลห้วยกลาง".
:func:`normalise` gives the text one spelling (SARA AM, NFC, no zero-width characters,
single spaces), and :func:`each_word` matches every word, in any order, anywhere in the
columns searched: "โคกไผ่ เพชรบูรณ์" finds เทศบาลตำบลโคกไผ่ of Phetchabun.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, func, or_

from assess import provinces
from assess.models import Agency

NIKHAHIT_AA = "\u0e4d\u0e32"
SARA_AM = "\u0e33"
#: NIKHAHIT, a tone mark a PDF may put between the two, then SARA AA.
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
#: Characters that are not seen and a copy may bring along (zero-width space, joiners, BOM,
#: soft hyphen).
_UNSEEN = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """Search text in one spelling: NFC, SARA AM for "ํา" (น้ํา and นํ้า read น้ำ), no
    zero-width characters, runs of spaces as one, no space around."""
    text = unicodedata.normalize("NFC", text or "")
    text = _SARA_AM.sub(lambda m: m.group(1) + SARA_AM, text)
    text = _UNSEEN.sub("", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str | None) -> list[str]:
    """The words of a search, normalised, each once."""
    return list(dict.fromkeys(w for w in normalise(text).split(" ") if w))


def _stored(column: Any) -> ColumnElement[str]:
    """A stored text as searched: a name stored as pasted from a PDF ("ํา") reads with ำ."""
    return func.replace(column, NIKHAHIT_AA, SARA_AM, type_=String)


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
