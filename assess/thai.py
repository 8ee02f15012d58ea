"""Thai conventions: Buddhist Era dates, the fiscal year (October–September), numbers.

Pure functions, plus :func:`init_app` to make them Jinja filters.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from assess.questionnaires.answers import THAI_DIGITS

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543

MONTHS_TH_SHORT = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
MONTHS_TH = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
MONTHS_EN_SHORT = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def be_year(year: int) -> int:
    """The Buddhist Era year of a Gregorian year (2026 → 2569)."""
    return year + BE_OFFSET


def fiscal_year(day: dt.date) -> int:
    """The Thai fiscal year (B.E.) a day falls in: 1 Oct 2025 → 2569, 30 Sep 2026 → 2569."""
    return be_year(day.year + 1 if day.month >= 10 else day.year)


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    """First and last day of fiscal year ``fy`` (B.E.): 2569 → 1 Oct 2025 – 30 Sep 2026."""
    year = fy - BE_OFFSET
    return dt.date(year - 1, 10, 1), dt.date(year, 9, 30)


def fiscal_year_label(fy: int, lang: str = "th") -> str:
    """ "ปีงบประมาณ พ.ศ. 2569" or "Fiscal year 2569 (2025–26)"."""
    if lang == "en":
        start, end = fiscal_year_bounds(fy)
        return f"Fiscal year {fy} ({start.year}–{str(end.year)[-2:]})"
    return f"ปีงบประมาณ พ.ศ. {fy}"


def with_fiscal_year(name: str, fy: int, lang: str = "th") -> str:
    """A round's name with its fiscal year ("… · ปีงบประมาณ พ.ศ. 2569"), the year left out
    when the name gives it already (2569, or ๒๕๖๙): a round named "… ปีงบประมาณ พ.ศ. 2569"
    is not followed by the same words again."""
    if re.search(rf"(?<![0-9]){fy}(?![0-9])", name.translate(THAI_DIGITS)):
        return name
    return f"{name} · {fiscal_year_label(fy, lang)}"


#: A leading vowel (เ แ โ ใ ไ) and the character it is written before.
_LEADING_VOWEL = re.compile("([\u0e40-\u0e44])(.)")
#: The tone marks and other signs written above or after a syllable (U+0E47–U+0E4E:
#: ็ ่ ้ ๊ ๋ ์ ํ ๎), which a dictionary passes over at first.
_SIGNS = re.compile("[\u0e47-\u0e4e]")


#: A run of digits, Thai (๐–๙) or Arabic.
_NUMBER = re.compile("[0-9\u0e50-\u0e59]+")


def _padded(found: re.Match[str]) -> str:
    """A number as digits that sort by its value (up to 20 digits)."""
    return found.group(0).translate(THAI_DIGITS).zfill(20)


def sort_key(text: str) -> str:
    """A key that sorts Thai words as a dictionary does (the Royal Institute's, and ICU's
    Thai collation). A leading vowel (เ แ โ ใ ไ) is read after the consonant it precedes,
    so "เชียงใหม่" comes among the ช, not after ฮ. Words are compared first without their
    tone marks and other signs, so "ร้อยเอ็ด" (ร อ ย …) comes before "ระยอง" (ร ะ ย …); the
    signs only decide between words that are otherwise the same ("กรมสง", "กรมส่ง").
    Numbers in the text (Thai digits or Arabic) go by their value: "… ที่ 2" before
    "… ที่ 10"."""
    read = _LEADING_VOWEL.sub(r"\2\1", _NUMBER.sub(_padded, text))
    # One string for both levels: NUL sorts before any character, so a word without its
    # signs that is the start of another still comes first.
    return _SIGNS.sub("", read) + "\0" + read


def local(moment: dt.datetime) -> dt.datetime:
    """A timestamp in Bangkok time (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BANGKOK)


def format_date(day: dt.date | dt.datetime | None, lang: str = "th", long: bool = False) -> str:
    """ "23 ม.ค. 2569" (Thai, B.E.) or "23 Jan 2026" (English, Gregorian)."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = local(day).date()
    if lang == "en":
        return f"{day.day} {MONTHS_EN_SHORT[day.month - 1]} {day.year}"
    months = MONTHS_TH if long else MONTHS_TH_SHORT
    return f"{day.day} {months[day.month - 1]} {be_year(day.year)}"


def format_datetime(moment: dt.datetime | None, lang: str = "th") -> str:
    """ "23 ม.ค. 2569 10:42 น." or "23 Jan 2026 10:42" in Bangkok time."""
    if moment is None:
        return ""
    at = local(moment)
    clock = at.strftime("%H:%M")
    return f"{format_date(at.date(), lang)} {clock}" + (" น." if lang == "th" else "")


#: Decimal places of a shown score and percentage. ``ROUND_HALF_UP`` rounds ties away from
#: zero (scoring.md §7), on the exact decimal of the value (a float's shortest text).
_HUNDREDTH, _TENTH = Decimal("0.01"), Decimal("0.1")


def format_score(value: Any) -> str:
    """A score with two decimals, ties away from zero as scoring.md §7 rounds ("63.89",
    "75.00", 25.045 → "25.05"); empty scores are "–"."""
    if _empty(value):
        return "–"
    return str(Decimal(str(value)).quantize(_HUNDREDTH, rounding=ROUND_HALF_UP))


def format_percent(value: Any) -> str:
    """A percentage with one decimal, ties away from zero ("87.5%", 92.45 → "92.5%")."""
    if _empty(value):
        return "–"
    return f"{Decimal(str(value)).quantize(_TENTH, rounding=ROUND_HALF_UP)}%"


def _empty(value: Any) -> bool:
    """No figure: ``None``, an empty cell, or NaN (pandas' missing number)."""
    return value is None or value == "" or (isinstance(value, float) and value != value)


def today() -> dt.date:
    """Today's date in Bangkok."""
    return dt.datetime.now(BANGKOK).date()


def days_left(deadline: dt.date | None, today: dt.date | None = None) -> int | None:
    """Whole days from today (Bangkok) to the deadline day; negative once passed."""
    if deadline is None:
        return None
    today = today or dt.datetime.now(BANGKOK).date()
    return (deadline - today).days


def init_app(app: Any) -> None:
    """Register the formatting functions as Jinja filters, in the request's language."""
    from assess.app import current_language
    from assess.formatting import UNITS_BEFORE, file_size, with_unit

    app.jinja_env.filters["be_date"] = lambda d, long=False: format_date(
        d, current_language(), long
    )
    app.jinja_env.filters["be_datetime"] = lambda d: format_datetime(d, current_language())
    app.jinja_env.filters["fiscal_year"] = lambda fy: fiscal_year_label(fy, current_language())
    app.jinja_env.filters["with_fiscal_year"] = lambda round_: with_fiscal_year(
        round_.title(current_language()), round_.fiscal_year, current_language()
    )
    app.jinja_env.filters["score"] = format_score
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["with_unit"] = with_unit
    app.jinja_env.tests["unit_first"] = lambda unit: unit in UNITS_BEFORE
    app.jinja_env.globals["days_left"] = days_left
