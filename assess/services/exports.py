"""Exports for people and for machines: CSV and XLSX that a spreadsheet cannot turn into
formulas, the tables behind the downloads, and the open-data package of a published round.

Safety (OWASP "CSV injection"): agency names, provinces, tags and text answers come from
users, and a central-office reviewer opens the downloads in Excel. So:

- in CSV, every *text* cell whose first character, or first character after leading
  whitespace, is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  apostrophe (:func:`neutralise`); numbers are never touched, so a change of -3.5 stays the
  number ``-3.50``;
- in XLSX, text is written as a typed string cell with Excel's "quote prefix" style, so it
  is shown exactly as it is and is never a formula, not even after the cell is edited; a
  number is a numeric cell (2 decimals for scores).

Byte-order mark: downloads for Excel users carry one (Excel reads a CSV without it in the
Windows code page, which garbles Thai); the command line's contract outputs (``assess
scores|benchmark|trend --format csv``) and the open-data package do not, since scripts and
data portals read plain UTF-8 and a BOM would glue itself to the first column's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import math
import numbers
import re
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import xlsxwriter
from flask import current_app
from flask_babel import gettext as _

from assess import provinces
from assess.models import AGENCY_TYPES, Round
from assess.scoring.benchmark import BENCHMARK_COLUMNS
from assess.scoring.trend import TREND_COLUMNS
from assess.services import interchange, reports, results
from assess.services.agency_results import MIN_ANONYMOUS_GROUP
from assess.services.errors import WrongState

#: First characters a spreadsheet takes as the start of a formula (or, for tab and carriage
#: return, that hide one behind a cell separator): OWASP's list.
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
#: A plain signed decimal number written as text: no formula can hide in it.
_SIGNED_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
#: Characters XML 1.0 cannot hold: they are dropped from XLSX text.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: What :func:`_xlsx_text` changes: those, carriage returns, and the two non-characters
#: that Excel escapes.
_XLSX_UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
#: The most characters an Excel cell holds.
_XLSX_MAX_TEXT = 32767
#: Column widths of XLSX sheets, in characters.
_MIN_WIDTH, _MAX_WIDTH = 8, 60
#: Rows looked at to size the columns (enough to be representative, cheap on 80,000 rows).
_WIDTH_SAMPLE = 2000


def _dangerous(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula: its first character, or its
    first after leading blanks, is one of :data:`DANGEROUS`."""
    return text[:1] in DANGEROUS or text.lstrip()[:1] in DANGEROUS


def neutralise(value: Any) -> Any:
    """A CSV cell value a spreadsheet will show as text, never run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    ``'``; so does text whose first non-blank character is one of them, since spreadsheets
    skip leading spaces and line breaks before a formula (``" =1+1"``, ``"\\n@SUM(A1)"``).
    Anything that is not text (numbers, ``None``) is returned unchanged: a negative number
    is data, not an attack; so is text that is just a signed decimal number ("-26.47", a
    figure a report formatted), which a spreadsheet reads as that number and nothing more.
    """
    if not isinstance(value, str) or not _dangerous(value):
        return value  # (most cells: the pattern below is tried only on the others)
    if _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_cell(value: Any) -> str | int:
    """One value as CSV text: empty for ``None``, scores with 2 decimals, text neutralised.

    A ``float`` is a score or a figure derived from scores, kept with exactly 2 decimals; a
    ``Decimal`` is written as it is (weights ``1.5``, completeness ``97.5``); ``bool`` as
    ``true``/``false`` (Table Schema's words).
    """
    # The usual kinds first, by exact type (a million cells in a benchmark export; the
    # abstract number classes below are slow to ask); subclasses take the general way.
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if kind is float:
        return "" if value != value else f"{value:.2f}"
    if kind is int:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    # numbers.* also catch numpy's integers and floats, should a caller pass frame values.
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return "" if value != value else f"{float(value):.2f}"  # NaN is an empty cell
    return str(neutralise(str(value)))


def csv_bytes(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
    newline: str = "\r\n",
) -> bytes:
    """A CSV file in UTF-8: a header of ``columns``, then ``rows``, every cell :func:`csv_cell`.

    ``bom`` (the default, for Excel users) starts the file with a byte-order mark; the
    command line's contract outputs and the open-data package pass ``bom=False``.
    """
    return b"".join(csv_chunks(columns, rows, bom=bom, newline=newline))


def csv_chunks(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    bom: bool = True,
    newline: str = "\r\n",
    rows_per_chunk: int = 2000,
) -> Iterator[bytes]:
    """:func:`csv_bytes` as a stream of chunks of ``rows_per_chunk`` rows each: a download
    starts at once and a big table is never held twice (as text and as bytes)."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator=newline)
    # Column names are ours (codes), but a dimension code could still be unlucky: neutralise.
    writer.writerow([csv_cell(c) for c in columns])
    for count, row in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One worksheet of :func:`xlsx_bytes`: its title, header and rows (aligned with it);
    ``frozen_columns``: how many first columns stay in view, beside the header row."""

    title: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    frozen_columns: int = 0


def _text_width(text: str) -> int:
    """Columns a text takes: Thai vowel and tone marks above or below take none."""
    return sum(1 for ch in text if unicodedata.category(ch) != "Mn")


def _shown(value: Any) -> str:
    """A value as a spreadsheet shows it (to size the columns)."""
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _sheet_title(title: str, taken: set[str]) -> str:
    """A title Excel accepts: at most 31 characters, none of ``[]:*?/\\``, unique."""
    clean = re.sub(r"[\[\]:*?/\\]", "_", title).strip("'") or "sheet"
    clean = clean[:31]
    candidate, number = clean, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = clean[: 31 - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def _xlsx_text(value: str) -> str:
    """Text as a workbook cell holds it: characters XML cannot hold dropped, line ends as
    Excel's (a line feed), at most Excel's 32,767 characters.

    XlsxWriter would write a carriage return (and the other control characters) as
    Excel's escape ``_x000D_``, which Excel reads back but other readers (openpyxl, so the
    answers import) show as it is; a line feed is what Excel itself puts between the lines
    of a cell.
    """
    if _XLSX_UNCLEAN.search(value):
        value = _ILLEGAL_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
        value = value.replace("\ufffe", "").replace("\uffff", "")
    return value[:_XLSX_MAX_TEXT]


class _Cells:
    """Writes typed cells into an XlsxWriter workbook's sheets, with the few formats they
    take: numbers numeric (2 decimals for floats, whole numbers for integers), booleans
    boolean, everything else a string, quote-prefixed when it could pass for a formula."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.bold = book.add_format({"bold": True})
        self.bold_text = book.add_format({"bold": True, "quote_prefix": True})
        self.text = book.add_format({"quote_prefix": True})
        self.decimal = book.add_format({"num_format": "0.00"})
        self.whole = book.add_format({"num_format": "0"})

    def header(self, sheet: Any, columns: Sequence[Any]) -> None:
        """The bold header row."""
        for col, name in enumerate(columns):
            text = _xlsx_text(str(name))
            sheet.write_string(0, col, text, self.bold_text if _dangerous(text) else self.bold)

    def row(self, sheet: Any, row: int, values: Sequence[Any]) -> None:
        """One row of values (``None`` and NaN leave the cell empty)."""
        number = sheet.write_number
        for col, value in enumerate(values):
            # The usual kinds first, by exact type (over a million cells in a benchmark).
            kind = type(value)
            if kind is str:
                self.string(sheet, row, col, value)
            elif kind is float:
                if math.isfinite(value):
                    number(row, col, value, self.decimal)
            elif value is None:
                continue
            elif kind is int:
                number(row, col, value, self.whole)
            elif isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, Decimal):
                if value.is_finite():
                    number(row, col, float(value))
            # numbers.* also catch numpy's integers and floats.
            elif isinstance(value, numbers.Integral):
                number(row, col, int(value), self.whole)
            elif isinstance(value, numbers.Real):
                if math.isfinite(value):
                    number(row, col, float(value), self.decimal)
            else:
                self.string(sheet, row, col, str(value))

    def string(self, sheet: Any, row: int, col: int, value: str) -> None:
        """A text cell, quote-prefixed when it could pass for a formula."""
        text = _xlsx_text(value)
        sheet.write_string(row, col, text, self.text if _dangerous(text) else None)


def _write_sheets(book: xlsxwriter.Workbook, sheets: Iterable[Sheet]) -> None:
    """Each sheet of ``sheets`` into ``book``: header, rows, widths, frozen header, filter."""
    cells = _Cells(book)
    taken: set[str] = set()
    for spec in sheets:
        sheet = book.add_worksheet(_sheet_title(spec.title, taken))
        columns = list(spec.columns)
        rows = [list(r) for r in spec.rows]
        for index, name in enumerate(columns):
            widest = max(
                [_text_width(name), *(_text_width(_shown(r[index])) for r in rows[:_WIDTH_SAMPLE])]
            )
            sheet.set_column(index, index, min(_MAX_WIDTH, max(_MIN_WIDTH, widest + 2)))
        sheet.freeze_panes(1, spec.frozen_columns)
        cells.header(sheet, columns)
        for number, row in enumerate(rows, 1):
            cells.row(sheet, number, row)
        if columns:
            sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    if not taken:
        book.add_worksheet("empty")  # a workbook needs one sheet


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An Excel workbook: per sheet a bold, frozen, filterable header row, then the rows.

    Text cells are strings (never formulas), numbers numeric cells; columns are sized to
    their content (Thai included), between 8 and 60 characters. Written by XlsxWriter row
    after row (its constant-memory mode: a row is written out as the next one starts, its
    text inline), about twice as fast as openpyxl's write-only mode (BENCHMARKS.md).
    """
    out = io.BytesIO()
    # The rows waiting for the workbook's assembly go to files of a folder of this call's
    # own, gone with it even when a row fails half-way.
    with tempfile.TemporaryDirectory(prefix="assess-xlsx-") as folder:
        book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "tmpdir": folder,
                # Text stays text: never made a formula, a number or a link.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        try:
            _write_sheets(book, sheets)
        finally:
            book.close()  # (also closes the row files after a failure)
    return out.getvalue()


# -- the tables behind the downloads ---------------------------------------------------------

#: Columns a person reading a download wants after the agency code.
NAME_COLUMNS = ("name_th", "name_en")


def rows_of(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> list[list[Any]]:
    """Dict records (``assess … --format json`` rows) as rows aligned with ``columns``."""
    return [[record.get(c) for c in columns] for record in records]


def _with_names(
    columns: Sequence[str], records: Iterable[Mapping[str, Any]], data: reports.RoundResults
) -> tuple[list[str], list[list[Any]]]:
    """Rows of ``columns`` with the agency's Thai and English names after its code."""
    names = data.agencies[["name_th", "name_en"]].to_dict("index")
    out_columns = [columns[0], *NAME_COLUMNS, *columns[1:]]
    rows = []
    for record in records:
        code = record[columns[0]]
        found = names.get(code, {})
        rows.append(
            [code, found.get("name_th", ""), found.get("name_en", "")]
            + [record.get(c) for c in columns[1:]]
        )
    return out_columns, rows


def scores_columns(data: reports.RoundResults, *, names: bool = False) -> list[str]:
    """Columns of a scores table: the contract's CSV (``agency,status,completeness,…``)."""
    measures = data.measures
    head = ["agency", *(NAME_COLUMNS if names else ()), "status", "completeness"]
    return head + [f"{m}_{part}" for m in measures for part in ("score", "level")]


def scores_table(
    round_: Round, *, verified: bool = True, data: reports.RoundResults | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Every response's scores as ``assess scores`` gives them, with the agencies' names.

    The same numbers as ``assess scores`` (from the stored results); completeness as stored
    (one decimal).
    """
    if data is None:
        data = reports.load(round_)
    names = data.agencies[["name_th", "name_en"]].to_dict("index")
    rows = []
    for record in results.score_records(round_, verified=verified):
        found = names.get(record["agency"], {})
        row: list[Any] = [
            record["agency"],
            found.get("name_th", ""),
            found.get("name_en", ""),
            record["status"],
            Decimal(str(record["completeness"])),
        ]
        for measure in data.measures:
            result = record["overall"] if measure == "overall" else record["dimensions"][measure]
            row += [result["score"], result["level"]]
        rows.append(row)
    return scores_columns(data, names=True), rows


def benchmark_table(data: reports.RoundResults, by: str) -> tuple[list[str], list[list[Any]]]:
    """The rows of ``assess benchmark`` with the agencies' names, for people."""
    return _with_names(BENCHMARK_COLUMNS, reports.benchmark_records(data, by), data)


def trend_table(
    data: reports.RoundResults, before: reports.RoundResults
) -> tuple[list[str], list[list[Any]]]:
    """The rows of ``assess trend`` with the agencies' names, for people."""
    return _with_names(TREND_COLUMNS, reports.trend_records(data, before), data)


def answers_table(round_: Round) -> tuple[list[str], list[list[Any]]]:
    """Every started response's answers in the interchange CSV form, as a table.

    Cells stay the interchange text (``3``, ``a|c``, ``N/A``), so a workbook made of it
    imports back unchanged with ``assess answers import``.
    """
    text = interchange.export_round(round_, "csv").decode("utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    return (lines[0], lines[1:]) if lines else (["agency", "status"], [])


def verified_answers_table(round_: Round) -> tuple[list[str], Iterator[list[str]]]:
    """Every response's answers *as verified* (``assess answers export --verified``): the
    interchange CSV form of :func:`answers_table`, each reviewer's verified value in place
    of the agency's answer. The rows are made one at a time, as the download is written."""
    questionnaire, items = interchange.round_items(round_, verified=True)
    return interchange.answer_columns(questionnaire), interchange.answer_rows(items, questionnaire)


def verified_values_table(round_: Round) -> tuple[list[str], list[list[str]]]:
    """One row per verified value of a round, for auditors: agency, question, the agency's
    own value, the verified value, the reason, the reviewer and when (ISO 8601 with the
    offset): :func:`assess.services.interchange.verified_values`."""
    return list(interchange.VERIFIED_COLUMNS), interchange.verified_values(round_)


def round_workbook(round_: Round) -> bytes:
    """One workbook of a round: scores, benchmark (all agencies, and by type), answers."""
    data = reports.load(round_)
    score_columns, score_rows = scores_table(round_, data=data)
    bench = reports.benchmark_records(data, "all") + reports.benchmark_records(data, "type")
    bench_columns, bench_rows = _with_names(BENCHMARK_COLUMNS, bench, data)
    answer_columns, answer_rows = answers_table(round_)
    return xlsx_bytes(
        [
            Sheet("scores", score_columns, score_rows),
            Sheet("benchmark", bench_columns, bench_rows),
            Sheet("answers", answer_columns, answer_rows),
        ]
    )


# -- the open-data package (Frictionless Data) -----------------------------------------------

#: The licence of published results. Creative Commons Attribution 4.0 is among the licences
#: data.go.th offers and every open-data tool knows it by its Open Definition id.
LICENCE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
#: Groupings the package's benchmark and level distribution cover: every agency, and peers
#: of the same type (a closed list of seven types: it does not single an agency out the way
#: a province or a parent agency can).
PACKAGE_GROUPINGS = ("all", "type")
#: The files of a package, descriptor first.
PACKAGE_FILES = (
    "datapackage.json",
    "agencies.csv",
    "dimensions.csv",
    "levels.csv",
    "scores.csv",
    "benchmark.csv",
    "level_distribution.csv",
)
#: Whole-number benchmark figures (Table Schema ``integer``); the others are ``number``.
_INTEGER_FIGURES = ("n", "rank", "quartile")
#: Title and description (Thai, English) of the benchmark figures (scoring.md §7).
_FIGURES: dict[str, tuple[str, str, str, str]] = {
    "n": ("จำนวนหน่วยงาน", "Agencies", "จำนวนหน่วยงานในกลุ่มที่มีคะแนนของตัวชี้วัดนี้", "Agencies of the group with this measure scored"),
    "rank": ("อันดับ", "Rank", "1 + จำนวนหน่วยงานที่คะแนนสูงกว่า (คะแนนเท่ากันได้อันดับเดียวกัน)", "1 + the agencies with a strictly higher score (ties share a rank)"),
    "percentile": ("เปอร์เซ็นไทล์", "Percentile", "100 × (จำนวนที่ต่ำกว่า + ครึ่งหนึ่งของจำนวนที่เท่ากัน) ÷ n", "100 × (agencies below + half of those equal) ÷ n"),
    "mean": ("ค่าเฉลี่ย", "Mean", "ค่าเฉลี่ยเลขคณิตของกลุ่ม", "Arithmetic mean of the group"),
    "median": ("มัธยฐาน", "Median", "ประมาณค่าในช่วงเชิงเส้นระหว่างค่าที่เรียงลำดับ", "Linear interpolation between order statistics"),
    "p25": ("เปอร์เซ็นไทล์ที่ 25", "25th percentile", "ประมาณค่าในช่วงเชิงเส้นระหว่างค่าที่เรียงลำดับ", "Linear interpolation between order statistics"),
    "p75": ("เปอร์เซ็นไทล์ที่ 75", "75th percentile", "ประมาณค่าในช่วงเชิงเส้นระหว่างค่าที่เรียงลำดับ", "Linear interpolation between order statistics"),
    "min": ("คะแนนต่ำสุด", "Lowest score", "คะแนนต่ำสุดของกลุ่ม", "Lowest score of the group"),
    "max": ("คะแนนสูงสุด", "Highest score", "คะแนนสูงสุดของกลุ่ม", "Highest score of the group"),
    "gap_to_median": ("ส่วนต่างจากมัธยฐาน", "Gap to the median", "คะแนน − มัธยฐาน", "score − median"),
    "gap_to_top": ("ส่วนต่างจากคะแนนสูงสุด", "Gap to the top", "คะแนน − คะแนนสูงสุดของกลุ่ม", "score − the group's highest score"),
    "quartile": ("ควอร์ไทล์", "Quartile", "1 = ตั้งแต่เปอร์เซ็นไทล์ที่ 75 ขึ้นไป … 4 = ต่ำกว่าเปอร์เซ็นไทล์ที่ 25", "1 = at or above p75 … 4 = below p25"),
}  # fmt: skip
_VERIFIED = ("คะแนนที่ผ่านการทวนสอบ 0–100 ทศนิยม 2 ตำแหน่ง", "Verified score, 0–100, 2 decimals")
_LEVEL_CODE = ("รหัสระดับ (ดู levels)", "Level code (see levels)")


def _field(
    name: str,
    type_: str,
    title: tuple[str, str],
    about: tuple[str, str] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """A Table Schema field; title and description are bilingual: "Thai / English"."""
    field: dict[str, Any] = {"name": name, "type": type_, "title": f"{title[0]} / {title[1]}"}
    if about:
        field["description"] = f"{about[0]} / {about[1]}"
    field.update(more)
    return field


def _score_field(name: str, title: tuple[str, str]) -> dict[str, Any]:
    """A verified score: a number from 0 to 100."""
    return _field(name, "number", title, _VERIFIED, constraints={"minimum": 0, "maximum": 100})


def _agency_field(anonymous: bool, name: str = "agency", *, key: bool = False) -> dict[str, Any]:
    """The field naming an agency: its code, or its anonymous id; ``key``: the primary key."""
    constraints: dict[str, Any] = {"required": True, **({"unique": True} if key else {})}
    if anonymous:
        return _field(
            name,
            "string",
            ("รหัสนิรนามของหน่วยงาน", "Anonymous agency id"),
            ("รหัสคงที่แทนหน่วยงาน โดยไม่เปิดเผยว่าเป็นหน่วยงานใด", "A stable id standing for one agency, without saying which"),
            constraints=constraints,
        )  # fmt: skip
    return _field(name, "string", ("รหัสหน่วยงาน", "Agency code"), constraints=constraints)


def _grouping_fields() -> list[dict[str, Any]]:
    """``by`` and ``group``: which comparison group a row is about."""
    return [
        _field(
            "by",
            "string",
            ("การจัดกลุ่ม", "Grouping"),
            ("all = ทุกหน่วยงาน, type = ตามประเภทหน่วยงาน", "all = every agency, type = by agency type"),
            constraints={"required": True, "enum": list(PACKAGE_GROUPINGS)},
        ),
        _field(
            "group",
            "string",
            ("กลุ่มเปรียบเทียบ", "Comparison group"),
            ("all หรือรหัสประเภทหน่วยงาน (ดู agencies.type)", "all, or an agency type code (see agencies.type)"),
            constraints={"required": True},
        ),
    ]  # fmt: skip


def _measure_field(measures: Sequence[str]) -> dict[str, Any]:
    """``measure``: ``overall`` or a dimension code."""
    return _field(
        "measure",
        "string",
        ("ตัวชี้วัด", "Measure"),
        ("overall = คะแนนรวม หรือรหัสมิติ (ดู dimensions)", "overall, or a dimension code (see dimensions)"),
        constraints={"required": True, "enum": list(measures)},
    )  # fmt: skip


def _level_field(name: str = "level", title: tuple[str, str] = ("ระดับ", "Level")) -> dict[str, Any]:
    """A level code (empty when the measure is not placed at a level)."""
    return _field(name, "string", title, _LEVEL_CODE)


def _to_levels(field: str) -> dict[str, Any]:
    """A foreign key from ``field`` to the levels resource."""
    return {"fields": field, "reference": {"resource": "levels", "fields": "code"}}


def _to_agencies(field: str = "agency") -> dict[str, Any]:
    """A foreign key from ``field`` to the agencies resource."""
    return {"fields": field, "reference": {"resource": "agencies", "fields": "code"}}


def anonymous_ids(round_: Round, codes: Iterable[str], secret: str | bytes) -> dict[str, str]:
    """Stable anonymous ids of agencies in one round: ``anon-`` and 12 or more hex digits.

    A keyed hash (HMAC-SHA256 of the round's id and the agency code, keyed with the
    application's secret key): the same on every export of the round; different from one
    round to the next, so anonymous rows cannot be linked across years; and not to be
    reversed by hashing the public list of agency codes without the key. Lengthened in the
    unlikely event that two agencies share a prefix.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digests = {
        code: hmac.new(
            key, f"assess-anonymous:{round_.id}:{code}".encode(), hashlib.sha256
        ).hexdigest()
        for code in codes
    }
    length = 12
    while len({d[:length] for d in digests.values()}) < len(digests):
        length += 2
    return {code: f"anon-{digest[:length]}" for code, digest in digests.items()}


#: The order of anonymised records (:func:`anonymised`): a benchmark's, its ties by id.
BENCHMARK_ORDER = ("by", "group", "measure", "rank", "agency")


def anonymised(
    records: Iterable[Mapping[str, Any]], ids: Mapping[str, str], order: Sequence[str]
) -> list[dict[str, Any]]:
    """``records`` (``agency`` a code) with each agency under its id in ``ids``, those of an
    agency without one left out, sorted by the fields ``order``: never in the order of the
    codes they hide, which a list of the codes would match row for row."""
    out = [{**r, "agency": ids[r["agency"]]} for r in records if r["agency"] in ids]
    out.sort(key=lambda record: tuple(record[field] for field in order))
    return out


_Row = TypeVar("_Row", bound=Mapping[str, Any])


def withheld_scores(
    data: reports.RoundResults, groupings: Sequence[str] = PACKAGE_GROUPINGS
) -> dict[str, frozenset[str]]:
    """Per accepted agency, the measures whose score (and level) an anonymised output of
    its own rows must not give: those for which one of the agency's comparison groups that
    such an output discloses has fewer than :data:`MIN_ANONYMOUS_GROUP` agencies scored.

    The figures of such a group are withheld (benchmark, level distribution), but its
    members' scores beside their groups, under their anonymous ids, would give them back
    exactly (three state enterprises scored on e-payment: their three scores). The groups
    an anonymised output discloses are those of ``groupings``: everyone (``all``, always
    known), and the agency's type, which the package's ``agencies.csv`` gives (and the API's
    benchmark by type) unless fewer than :data:`MIN_ANONYMOUS_GROUP` accepted agencies are
    of that type. Agencies with nothing withheld are not listed.
    """
    accepted = data.accepted
    if not accepted:
        return {}
    measures = list(data.measures)
    scored = data.wide("verified").reindex(index=accepted, columns=measures).notna()
    cut = np.zeros(scored.shape, dtype=bool)
    rows = pd.Index(accepted)
    for by in groupings:
        groups = data.groups(by, accepted)
        if by != "all":  # a group too small to be disclosed says nothing of its members
            sizes = groups.groupby("group")["agency"].transform("size")
            groups = groups[sizes >= MIN_ANONYMOUS_GROUP]
        if groups.empty:
            continue
        members = rows.get_indexer(pd.Index(groups["agency"]))
        # Agencies of each group scored on each measure, beside each of its members.
        counts = scored.iloc[members].groupby(groups["group"].to_numpy()).transform("sum")
        small = counts.to_numpy() < MIN_ANONYMOUS_GROUP
        np.logical_or.at(cut, members, small)
    return {
        code: frozenset(m for m, withheld in zip(measures, row, strict=True) if withheld)
        for code, row in zip(accepted, cut.tolist(), strict=True)
        if any(row)
    }


def without_withheld_scores(
    records: Iterable[Mapping[str, Any]], withheld: Mapping[str, frozenset[str]]
) -> list[dict[str, Any]]:
    """Score records (``assess scores`` shape, ``agency`` a code) with the scores and levels
    of :func:`withheld_scores` made ``null``."""
    out = []
    for record in records:
        cut = withheld.get(record["agency"])
        if not cut:
            out.append(dict(record))
            continue
        empty = {"score": None, "level": None}
        out.append(
            {
                **record,
                "overall": empty if reports.OVERALL in cut else record["overall"],
                "dimensions": {
                    code: (empty if code in cut else figures)
                    for code, figures in record["dimensions"].items()
                },
            }
        )
    return out


def without_withheld_rows(
    records: Iterable[_Row], withheld: Mapping[str, frozenset[str]]
) -> list[_Row]:
    """Benchmark rows (``agency`` a code) without those of a measure :func:`withheld_scores`
    withholds for the agency: its score, rank and gaps among everyone would give it back."""
    return [r for r in records if r["measure"] not in withheld.get(r["agency"], ())]


@dataclass
class _Package:
    """What every resource of one package is written from."""

    round: Round
    data: reports.RoundResults
    folder: Path
    anonymous: bool
    accepted: list[str]
    ids: dict[str, str]
    #: Per agency, the measures whose scores are left out (:func:`withheld_scores`); none
    #: when agencies are named.
    withheld: dict[str, frozenset[str]]

    def shown(self, agencies: int) -> bool:
        """Whether the figures of a comparison group of ``agencies`` go in the package:
        always, unless agencies are anonymised and the group has fewer than
        ``MIN_ANONYMOUS_GROUP`` (its figures, or its one member's type, would say whose
        scores are whose)."""
        return not self.anonymous or agencies >= MIN_ANONYMOUS_GROUP

    def write(
        self,
        name: str,
        title: tuple[str, str],
        about: tuple[str, str],
        columns: Sequence[str],
        rows: list[list[Any]],
        schema: dict[str, Any],
    ) -> dict[str, Any]:
        """Write ``name.csv`` (UTF-8, no BOM) and return its Tabular Data Resource."""
        data = csv_bytes(columns, rows, bom=False)
        (self.folder / f"{name}.csv").write_bytes(data)
        assert [f["name"] for f in schema["fields"]] == list(columns)
        return {
            "profile": "tabular-data-resource",
            "name": name,
            "path": f"{name}.csv",
            "title": f"{title[0]} / {title[1]}",
            "description": f"{about[0]} / {about[1]}",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": len(data),
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "schema": {**schema, "missingValues": [""]},
        }


def _agencies(pkg: _Package) -> dict[str, Any]:
    """Who was assessed (the accepted responses), as much as may be said of them."""
    fields = [_agency_field(pkg.anonymous, "code", key=True)]
    if not pkg.anonymous:
        fields += [
            _field("name_th", "string", ("ชื่อหน่วยงาน (ภาษาไทย)", "Name in Thai")),
            _field("name_en", "string", ("ชื่อหน่วยงาน (ภาษาอังกฤษ)", "Name in English")),
        ]
    fields.append(
        _field(
            "type",
            "string",
            ("ประเภทหน่วยงาน", "Agency type"),
            (
                "กระทรวง กรม จังหวัด ราชการส่วนท้องถิ่น องค์การมหาชน รัฐวิสาหกิจ หน่วยงานอิสระ",
                "ministry, department, province, local administration, public organisation, "
                "state enterprise, independent organisation",
            ),
            constraints={"enum": list(AGENCY_TYPES)},
        )
    )
    if not pkg.anonymous:
        # The parent is a plain code, not a foreign key: it may not be assessed in the round.
        fields += [
            _field(
                "parent",
                "string",
                ("หน่วยงานต้นสังกัด", "Parent agency"),
                ("รหัสหน่วยงานต้นสังกัด (อาจไม่อยู่ในชุดข้อมูลนี้)", "Code of the parent agency (which may not be in this package)"),
            ),
            _field("province", "string", ("จังหวัด", "Province"), ("ชื่อจังหวัดภาษาอังกฤษ (ISO 3166-2:TH)", "English name of the province (ISO 3166-2:TH)")),
            _field("province_th", "string", ("จังหวัด (ภาษาไทย)", "Province in Thai")),
        ]  # fmt: skip
    columns = [f["name"] for f in fields]
    table = pkg.data.agencies

    def cell(code: str, column: str) -> Any:
        if column == "province_th":
            return provinces.label(table.at[code, "province"], "th")
        return table.at[code, column]

    rows = [[pkg.ids[code], *(cell(code, c) for c in columns[1:])] for code in pkg.accepted]
    if pkg.anonymous:  # the one state enterprise, say, would be known by its type
        at = columns.index("type")
        counts = Counter(row[at] for row in rows)
        for row in rows:
            if not pkg.shown(counts[row[at]]):
                row[at] = ""
    return pkg.write(
        "agencies",
        ("หน่วยงาน", "Agencies"),
        ("หน่วยงานที่ผลการประเมินได้รับการยอมรับ", "Agencies whose assessment was accepted"),
        columns,
        rows,
        {"fields": fields, "primaryKey": ["code"]},
    )


def _dimensions(pkg: _Package) -> dict[str, Any]:
    """The dimensions of the questionnaire version the round used."""
    questionnaire = pkg.data.questionnaire
    fields = [
        _field("code", "string", ("รหัสมิติ", "Dimension code"), constraints={"required": True, "unique": True}),
        _field("title_th", "string", ("ชื่อมิติ (ภาษาไทย)", "Title in Thai")),
        _field("title_en", "string", ("ชื่อมิติ (ภาษาอังกฤษ)", "Title in English")),
        _field("weight", "number", ("น้ำหนัก", "Weight"), ("น้ำหนักของมิติในคะแนนรวม", "Weight of the dimension in the overall score")),
    ]  # fmt: skip
    rows = [
        [d.code, d.title.th or d.title.en, d.title.en or d.title.th, d.weight]
        for d in questionnaire.dimensions
    ]
    key = questionnaire.key
    return pkg.write(
        "dimensions",
        ("มิติการประเมิน", "Dimensions"),
        (f"มิติของแบบประเมิน {key}", f"Dimensions of questionnaire {key}"),
        [f["name"] for f in fields],
        rows,
        {"fields": fields, "primaryKey": ["code"]},
    )


def _levels(pkg: _Package) -> dict[str, Any]:
    """The maturity levels and the lowest score of each."""
    fields = [
        _field("code", "string", ("รหัสระดับ", "Level code"), constraints={"required": True, "unique": True}),
        _field("min", "number", ("คะแนนขั้นต่ำ", "Lowest score"), ("คะแนนต่ำสุดของระดับนี้", "Lowest score at this level")),
        _field("name_th", "string", ("ชื่อระดับ (ภาษาไทย)", "Name in Thai")),
        _field("name_en", "string", ("ชื่อระดับ (ภาษาอังกฤษ)", "Name in English")),
    ]  # fmt: skip
    rows = [
        [level.code, level.min, level.name.th or level.name.en, level.name.en or level.name.th]
        for level in pkg.data.questionnaire.levels
    ]
    return pkg.write(
        "levels",
        ("ระดับความพร้อม", "Maturity levels"),
        ("ระดับและคะแนนขั้นต่ำของแต่ละระดับ", "Levels and the lowest score of each"),
        [f["name"] for f in fields],
        rows,
        {"fields": fields, "primaryKey": ["code"]},
    )


def _scores(pkg: _Package) -> dict[str, Any]:
    """One row per accepted agency: completeness, then score and level of every measure."""
    data = pkg.data
    fields = [
        _agency_field(pkg.anonymous, key=True),
        _field(
            "completeness",
            "number",
            ("ความครบถ้วน (%)", "Completeness (%)"),
            ("ร้อยละของคำถามที่ต้องตอบซึ่งตอบแล้ว", "Share of the required questions answered"),
            constraints={"minimum": 0, "maximum": 100},
        ),
    ]
    titles = {"overall": ("คะแนนรวม", "Overall")}
    titles |= {
        d.code: (d.title.th or d.code, d.title.en or d.code) for d in data.questionnaire.dimensions
    }
    for measure in data.measures:
        th, en = titles[measure]
        fields += [
            _score_field(f"{measure}_score", (f"คะแนน: {th}", f"Score: {en}")),
            _level_field(f"{measure}_level", (f"ระดับ: {th}", f"Level: {en}")),
        ]
    wide = data.wide("verified").reindex(pkg.accepted)
    placed = data.levels("verified").reindex(pkg.accepted)
    completeness = data.agencies["completeness"]
    rows = []
    for code in pkg.accepted:
        # Completeness is stored with one decimal: a Decimal keeps it as stored ("97.5").
        row: list[Any] = [pkg.ids[code], Decimal(f"{completeness[code]:.1f}")]
        withheld = pkg.withheld.get(code, frozenset())
        for measure in data.measures:
            if measure in withheld:  # a small group's score beside its type: empty cells
                row += [None, None]
                continue
            score: Any = wide.at[code, measure]
            level: Any = placed.at[code, measure]
            row += [
                None if pd.isna(score) else float(score),
                level if isinstance(level, str) else None,
            ]
        rows.append(row)
    return pkg.write(
        "scores",
        ("คะแนนรายหน่วยงาน", "Scores by agency"),
        ("คะแนนและระดับที่ผ่านการทวนสอบ รวมและรายมิติ", "Verified scores and levels, overall and by dimension"),
        [f["name"] for f in fields],
        rows,
        {
            "fields": fields,
            "primaryKey": ["agency"],
            "foreignKeys": [_to_agencies()] + [_to_levels(f"{m}_level") for m in data.measures],
        },
    )  # fmt: skip


def _benchmark(pkg: _Package) -> dict[str, Any]:
    """Benchmark figures (scoring.md §7) among all agencies and among agencies of a type."""
    records = [
        r
        for by in PACKAGE_GROUPINGS
        for r in reports.benchmark_records(pkg.data, by)
        if pkg.shown(int(r["n"]))
    ]
    if pkg.anonymous:  # ties of rank are in code order
        records = anonymised(without_withheld_rows(records, pkg.withheld), pkg.ids, BENCHMARK_ORDER)
    fields = [
        _agency_field(pkg.anonymous),
        *_grouping_fields(),
        _measure_field(pkg.data.measures),
        _score_field("score", ("คะแนน", "Score")),
        _level_field(),
        *(
            _field(name, "integer" if name in _INTEGER_FIGURES else "number", (th, en), (about_th, about_en))
            for name, (th, en, about_th, about_en) in _FIGURES.items()
        ),
    ]  # fmt: skip
    return pkg.write(
        "benchmark",
        ("การเปรียบเทียบกับกลุ่ม", "Benchmark"),
        ("ตัวเลขเปรียบเทียบของแต่ละหน่วยงาน กลุ่ม และตัวชี้วัด", "Benchmark figures per agency, comparison group and measure"),
        BENCHMARK_COLUMNS,
        rows_of(records, BENCHMARK_COLUMNS),
        {
            "fields": fields,
            "primaryKey": ["agency", "by", "group", "measure"],
            "foreignKeys": [_to_agencies(), _to_levels("level")],
        },
    )  # fmt: skip


def _level_distribution(pkg: _Package) -> dict[str, Any]:
    """How many agencies of each group sit at each level, per measure (§7)."""
    columns = ["by", "group", "measure", "level", "count"]
    records = [
        r
        for by in PACKAGE_GROUPINGS
        for r in reports.records(reports.level_counts(pkg.data, by), columns)
    ]
    if pkg.anonymous:
        sizes = Counter[tuple[Any, ...]]()
        for r in records:
            sizes[r["by"], r["group"], r["measure"]] += int(r["count"])
        records = [r for r in records if pkg.shown(sizes[r["by"], r["group"], r["measure"]])]
    fields = [
        *_grouping_fields(),
        _measure_field(pkg.data.measures),
        _field("level", "string", ("ระดับ", "Level"), _LEVEL_CODE, constraints={"required": True}),
        _field("count", "integer", ("จำนวนหน่วยงาน", "Agencies"), ("จำนวนหน่วยงานของกลุ่มที่อยู่ในระดับนี้", "Agencies of the group at this level"), constraints={"minimum": 0}),
    ]  # fmt: skip
    return pkg.write(
        "level_distribution",
        ("การกระจายของระดับ", "Level distribution"),
        ("จำนวนหน่วยงานในแต่ละระดับ ต่อกลุ่มและตัวชี้วัด", "Agencies at each level, per group and measure"),
        columns,
        rows_of(records, columns),
        {
            "fields": fields,
            "primaryKey": ["by", "group", "measure", "level"],
            "foreignKeys": [_to_levels("level")],
        },
    )  # fmt: skip


def _package_title(round_: Round) -> str:
    """The open-data package's title: the round's names, Thai / English. The questionnaire's
    title names the year of its version (2568), which need not be the round's (2569); the
    round's fiscal year is added only when its name does not already say it."""
    year = str(round_.fiscal_year)
    th, en = round_.title("th"), round_.title("en")
    th_year = "" if year in th else f" ปีงบประมาณ พ.ศ. {year}"
    en_year = "" if year in en else f", fiscal year B.E. {year}"
    return f"{th}{th_year}: ผลการประเมิน / {en}{en_year}: results"


def _describe(pkg: _Package, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The Data Package descriptor: name, bilingual title and description, licence, …"""
    round_, questionnaire = pkg.round, pkg.data.questionnaire
    year, key, count = round_.fiscal_year, questionnaire.key, len(pkg.accepted)
    about_th = (
        f"ผลการประเมินที่เผยแพร่แล้วของรอบ “{round_.name}” ปีงบประมาณ พ.ศ. {year} "
        f"(แบบประเมิน {key}): คะแนนและระดับที่ผ่านการทวนสอบของหน่วยงาน {count} หน่วยงาน "
        "ที่ผลการประเมินได้รับการยอมรับ ตัวเลขเปรียบเทียบกับทุกหน่วยงานและกับหน่วยงานประเภทเดียวกัน "
        "และการกระจายของระดับ ตัวเลขเป็นค่าที่บันทึกไว้ ทศนิยม 2 ตำแหน่ง "
        "ข้อความที่ขึ้นต้นด้วย = + - @ มีเครื่องหมาย ' นำหน้า เพื่อไม่ให้โปรแกรมตารางคำนวณตีความเป็นสูตร"
    )
    about_en = (
        f"Published results of the round “{round_.title('en')}”, fiscal year B.E. {year} "
        f"(questionnaire {key}): verified scores and levels of the {count} agencies whose "
        "assessment was accepted, benchmark figures among all agencies and among agencies of "
        "the same type, and the distribution of levels. Numbers are the stored figures, "
        "2 decimals. Text that would start with =, +, -, @ is prefixed with an apostrophe (') "
        "so that spreadsheets do not run it as a formula."
    )
    if pkg.anonymous:
        about_th += (
            " ชุดข้อมูลนี้ไม่เปิดเผยตัวหน่วยงาน: แต่ละหน่วยงานแสดงด้วยรหัสนิรนามที่คงที่ (anon-…) "
            "โดยไม่มีชื่อ หน่วยงานต้นสังกัด หรือจังหวัด "
            f"และไม่แสดงตัวเลขของกลุ่มที่มีน้อยกว่า {MIN_ANONYMOUS_GROUP} หน่วยงาน "
            "(รวมถึงประเภทของหน่วยงานในกลุ่มนั้น) เพราะจะทำให้ระบุตัวหน่วยงานได้ "
            "ด้วยเหตุเดียวกัน ตัวชี้วัดใดที่หน่วยงานประเภทเดียวกัน (หรือทุกหน่วยงาน) "
            f"ได้คะแนนน้อยกว่า {MIN_ANONYMOUS_GROUP} หน่วยงาน คะแนนและระดับของหน่วยงานนั้น"
            "ในตัวชี้วัดนั้นจะเว้นว่างไว้ใน scores และไม่มีแถวของตัวชี้วัดนั้นใน benchmark"
        )
        about_en += (
            " Agencies are anonymised: each appears under a stable anonymous id (anon-…), "
            "with no name, parent agency or province; a group of fewer than "
            f"{MIN_ANONYMOUS_GROUP} agencies has no figures, and its agencies no type, since "
            "they would tell who is who. For the same reason an agency's score and level of "
            "a measure are left empty in scores, and its rows of that measure are not in "
            f"benchmark, when fewer than {MIN_ANONYMOUS_GROUP} agencies of its type, or of "
            "all agencies, are scored on that measure."
        )
    # The publication time, not the time of the export: exporting a published (final) round
    # twice gives the same package, byte for byte.
    published = round_.published_at or dt.datetime.now(dt.UTC)
    if published.tzinfo is None:
        published = published.replace(tzinfo=dt.UTC)
    return {
        "profile": "tabular-data-package",
        "name": re.sub(r"[^a-z0-9._-]+", "-", f"{key}-round-{round_.id}".lower()).strip("-"),
        "title": _package_title(round_),
        "description": f"{about_th}\n\n{about_en}",
        "version": "1.0.0",
        "created": published.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keywords": ["digital government", "รัฐบาลดิจิทัล", "assessment", "การประเมิน", str(year)],
        "licenses": [LICENCE],
        "resources": resources,
    }


def datapackage(round_: Round, directory: Path | str, *, secret: str | bytes | None = None) -> Path:
    """Write the published results of a round as an open-data package into ``directory``.

    Frictionless Data v1 (Data Package, Tabular Data Resource, Table Schema): CSV files in
    UTF-8 and ``datapackage.json`` with bilingual titles and descriptions, primary and
    foreign keys, ``missingValues [""]``, the licence, and the size and SHA-256 of every
    file. Resources (:data:`PACKAGE_FILES`): ``agencies``, ``dimensions``, ``levels``,
    ``scores`` (verified results of the accepted responses), ``benchmark`` and
    ``level_distribution`` (among all agencies and by agency type). Numbers are the stored
    figures, 2 decimals.

    When the round anonymises peers, agencies appear under stable anonymous ids
    (:func:`anonymous_ids`, keyed with ``secret``, by default the app's secret key) without
    names, parent agency or province, and the description says so; a measure's score and
    level are left out for an agency when fewer than ``MIN_ANONYMOUS_GROUP`` agencies of its
    type (or of all) are scored on it (:func:`withheld_scores`). Refused
    (:class:`WrongState`) unless the round is published. Returns ``datapackage.json``'s path.
    """
    if round_.status != "published":
        raise WrongState(
            _(
                "round %(round)s is %(status)s: the open-data package holds published results "
                "only; publish the round first",
                round=round_.id,
                status=round_.status,
            )
        )
    data = reports.load(round_)
    accepted = sorted(data.accepted)
    anonymous = bool(round_.anonymise_peers)
    if anonymous:
        key = secret if secret is not None else current_app.config["SECRET_KEY"]
        ids = anonymous_ids(round_, accepted, key)
        # Every resource in the order of the ids: in the codes' order, the rows would line
        # up with any list of the agencies' codes.
        accepted.sort(key=ids.__getitem__)
    else:
        ids = {code: code for code in accepted}
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    withheld = withheld_scores(data) if anonymous else {}
    pkg = _Package(round_, data, folder, anonymous, accepted, ids, withheld)
    resources = [
        make(pkg)
        for make in (_agencies, _dimensions, _levels, _scores, _benchmark, _level_distribution)
    ]
    path = folder / "datapackage.json"
    text = json.dumps(_describe(pkg, resources), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def datapackage_zip(round_: Round, *, secret: str | bytes | None = None) -> bytes:
    """The open-data package of a published round as one ZIP archive, files at its root."""
    with tempfile.TemporaryDirectory(prefix="assess-datapackage-") as folder:
        datapackage(round_, folder, secret=secret)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in PACKAGE_FILES:
                archive.write(Path(folder) / name, name)
    return out.getvalue()
