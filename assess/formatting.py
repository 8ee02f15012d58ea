"""Small display formatters in the request's language (Jinja filters, see :func:`thai.init_app`)."""

from __future__ import annotations

import math
from decimal import Decimal

from flask_babel import ngettext

KIB = 1024
MIB = 1024 * 1024
#: Units written before the number in Thai ("ร้อยละ 90", never "90 ร้อยละ").
UNITS_BEFORE = frozenset({"ร้อยละ"})
#: Units written right after the number, without a space ("90%").
UNITS_ATTACHED = frozenset({"%"})


def file_size(size: int | None) -> str:
    """A file size for people: "329 bytes" / "329 ไบต์", "12 KB", "1.5 MB" ("" when unknown).

    Kilobytes are rounded up, so a small file never shows as "0 KB"; the units KB and MB
    read the same in Thai and English.
    """
    if size is None or size < 0:
        return ""
    if size < KIB:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < MIB:
        return f"{math.ceil(size / KIB):,} KB"
    return f"{size / MIB:,.1f} MB"


def grouped(number: Decimal | int | float) -> str:
    """A number answer for reading: thousands grouped by commas, as Thai and English both
    write them ("12,500,000", "1,250.5", "-0.25"), its decimals as given (no exponent, no
    trailing zeros)."""
    value = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    whole = value == value.to_integral_value()
    return format(value.quantize(Decimal(1)) if whole else value.normalize(), ",f")


def with_unit(number: str, unit: str) -> str:
    """A number with its unit as each language writes it: "ร้อยละ 90" (Thai puts ร้อยละ
    first), "90%", "12 services". The space is a no-break one: the two never split across
    lines."""
    if not unit:
        return number
    if unit in UNITS_BEFORE:
        return f"{unit}\u00a0{number}"
    if unit in UNITS_ATTACHED:
        return f"{number}{unit}"
    return f"{number}\u00a0{unit}"
