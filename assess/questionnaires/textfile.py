"""Text files as spreadsheets save them: the encoding and the column separator of a CSV file.

Excel on a Thai Windows saves "CSV (Comma delimited)" in the Thai Windows code page (cp874,
TIS-620 with a few more characters), not UTF-8; "Unicode Text" is UTF-16 with tabs between
the cells; and some locales separate cells with ";". A central office's file comes from any
of them, so each is read as what it is rather than refused or garbled.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

#: The encodings a file is read in, as :func:`decode` names them.
UTF8 = "utf-8"
UTF16 = "utf-16"
THAI_WINDOWS = "cp874"

#: The separators a CSV header may use, the usual first.
SEPARATORS = (",", "\t", ";")


@dataclass(frozen=True)
class NotText(ValueError):
    """The bytes are neither UTF-8 nor Thai Windows text: where the first bad byte is, and
    what it is."""

    line: int
    column: int  # the byte's place in its line, from 1
    value: int

    @classmethod
    def at(cls, data: bytes, offset: int) -> NotText:
        start = data.rfind(b"\n", 0, offset) + 1
        return cls(data.count(b"\n", 0, offset) + 1, offset - start + 1, data[offset])

    @property
    def hex(self) -> str:
        return f"0x{self.value:02X}"

    def __str__(self) -> str:
        return f"line {self.line}, byte {self.column} ({self.hex}): not UTF-8 text"


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file, and the encoding it was read in.

    A byte-order mark says UTF-8 or UTF-16. Without one, UTF-8 is tried first (a Thai
    Windows file of Thai text is almost never valid UTF-8); then the Thai Windows code page,
    taken only when it reads as Thai writing: each Thai vowel or tone mark above or below
    the line follows a Thai character. (A Latin-1 "café" decodes in cp874 too, its é a tone
    mark after an "f", and is refused; Windows' curly quotes and dashes are the same bytes
    in both code pages.) Raises :class:`NotText` naming the first byte that
    is not UTF-8: its line, its place in the line and its value.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], UTF8), UTF8
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, UTF16), UTF16
    try:
        return data.decode(UTF8), UTF8
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode(THAI_WINDOWS)
    except UnicodeDecodeError:
        text = None
    if text is not None and _reads_as_thai(text):
        return text, THAI_WINDOWS
    raise NotText.at(data, first_bad)


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotText.at(data, exc.start) from None


def _reads_as_thai(text: str) -> bool:
    """Whether ``text`` reads as Thai writing where it has Thai: each Thai mark above or
    below the line follows a Thai character (its letter, or another mark: a vowel below,
    then a tone), and no Thai character stands between two Latin letters (a Latin-1
    "naïve" decodes in cp874 as "na๏ve")."""
    previous = ""
    for at, char in enumerate(text):
        if "\u0e00" <= char <= "\u0e7f" and (
            (unicodedata.category(char) == "Mn" and not "\u0e01" <= previous <= "\u0e5b")
            or (_latin(previous) and _latin(text[at + 1 : at + 2]))
        ):
            return False
        previous = char
    return True


def _latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def separator(text: str) -> str:
    """The cell separator of a CSV text, told from its first line: a comma, unless that line
    has none and has tabs (Excel's "Unicode Text") or semicolons."""
    first = text.partition("\n")[0]
    for candidate in SEPARATORS:
        if candidate in first:
            return candidate
    return ","
