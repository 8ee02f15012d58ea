"""CSV and XLSX exports (assess/services/exports.py): formula injection neutralised, numbers
kept numeric, Thai intact; anonymous ids."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from assess.services.exports import (
    DANGEROUS,
    Sheet,
    anonymous_ids,
    csv_bytes,
    csv_cell,
    neutralise,
    xlsx_bytes,
)

#: OWASP's examples and their cousins: every dangerous first character.
ATTACKS = [
    '=HYPERLINK("http://x","click")',
    "=1+1",
    "+cmd",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]
#: Dangerous characters behind leading whitespace: spreadsheets skip the blanks.
HIDDEN = [" =1+1", "  +cmd", "\n-2+3", "\u00a0@SUM(A1)", " \t=1"]
SAFE = ["กรมสรรพากร", "Revenue Department", "a=b", "1-2", "e@mail", "(=)", "'=already", ""]
THAI = "สำนักงานพัฒนารัฐบาลดิจิทัล (องค์การมหาชน) ผู้ใช้ ๑๒๓"


@pytest.mark.parametrize("text", ATTACKS + HIDDEN)
def test_dangerous_text_gets_an_apostrophe(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", SAFE)
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_every_owasp_prefix_is_covered() -> None:
    assert set(DANGEROUS) == {"=", "+", "-", "@", "\t", "\r"}
    for prefix in DANGEROUS:
        assert neutralise(prefix + "x") == "'" + prefix + "x"


@pytest.mark.parametrize("value", [-3.5, -3, 0, 12.25, Decimal("-1.5"), None, True])
def test_numbers_and_empty_values_are_not_text(value: object) -> None:
    assert neutralise(value) is value


@pytest.mark.parametrize("text", ["-26.47", "+3", "-3", "0.50", "12"])
def test_a_number_written_as_text_stays_a_number(text: str) -> None:
    """A report's formatted figure ("-26.47") is a number to a spreadsheet, not a formula."""
    assert neutralise(text) == text


@pytest.mark.parametrize("text", ["-2+3", "-1e3", "+1-1", "-26.47)", "-.5", "- 1"])
def test_almost_numbers_are_still_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_csv_cells() -> None:
    assert csv_cell(None) == ""
    assert csv_cell(-3.5) == "-3.50"  # a number, with the 2 decimals of scores
    assert csv_cell(75.0) == "75.00"
    assert csv_cell(float("nan")) == ""
    assert csv_cell(7) == 7
    assert csv_cell(Decimal("1.5")) == "1.5"  # as stored
    assert csv_cell(Decimal("97.5")) == "97.5"
    assert csv_cell(True) == "true"
    assert csv_cell("-2+3") == "'-2+3"


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_neutralises_text_and_keeps_numbers() -> None:
    rows = [[text, -3.5, 2, None] for text in ATTACKS + HIDDEN + SAFE]
    data = csv_bytes(["name", "change", "rank", "empty"], rows)
    header, *body = read(data)
    assert header == ["name", "change", "rank", "empty"]
    for (text, *_rest), (cell, change, rank, empty) in zip(rows, body, strict=True):
        assert cell == neutralise(text)
        assert (change, rank, empty) == ("-3.50", "2", "")
        assert float(change) == -3.5


def test_csv_with_and_without_byte_order_mark() -> None:
    rows = [["MOF-RD", THAI, 58.33]]
    for_excel = csv_bytes(["agency", "name", "score"], rows)
    assert for_excel.startswith(b"\xef\xbb\xbf")  # Excel reads Thai as UTF-8
    assert b"\r\n" in for_excel
    plain = csv_bytes(["agency", "name", "score"], rows, bom=False, newline="\n")
    assert plain.decode("utf-8") == f"agency,name,score\nMOF-RD,{THAI},58.33\n"
    assert read(for_excel) == read(plain)


def test_csv_quotes_commas_quotes_and_line_breaks() -> None:
    text = 'กรม "ก", สาขา\nสอง'
    assert read(csv_bytes(["name"], [[text]]))[1] == [text]


def workbook(rows: list[list[object]], columns: list[str] | None = None):  # type: ignore[no-untyped-def]
    columns = columns or [f"c{i}" for i in range(len(rows[0]))]
    return load_workbook(io.BytesIO(xlsx_bytes([Sheet("data", columns, rows)])))


def test_xlsx_text_is_never_a_formula() -> None:
    book = workbook([[text] for text in ATTACKS + HIDDEN + SAFE if text])
    sheet = book["data"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    for cell, text in zip(cells, [t for t in ATTACKS + HIDDEN + SAFE if t], strict=True):
        # openpyxl reads a formula back as data type "f": these are plain strings, exactly
        # the text (no apostrophe added: the cell type already says it is text).
        assert cell.data_type == "s", text
        # (Without lxml, XML reads a lone carriage return back as a line feed.)
        assert cell.value in (text, text.replace("\r", "\n"))
        assert cell.quotePrefix == (neutralise(text) != text)


def test_xlsx_numbers_stay_numeric() -> None:
    sheet = workbook([["MOF", -3.5, 63.89, 7, Decimal("1.5"), None]])["data"]
    agency, change, score, rank, weight, empty = next(sheet.iter_rows(min_row=2))
    assert (change.value, change.data_type, change.number_format) == (-3.5, "n", "0.00")
    assert (score.value, score.number_format) == (63.89, "0.00")
    assert (rank.value, rank.data_type, rank.number_format) == (7, "n", "0")
    assert (weight.value, weight.data_type) == (1.5, "n")
    assert empty.value is None


def test_numpy_numbers_are_numbers() -> None:
    import numpy as np

    assert csv_cell(np.int64(7)) == 7
    assert csv_cell(np.float64(-3.5)) == "-3.50"
    assert csv_cell(np.float64("nan")) == ""
    sheet = workbook([[np.int64(7), np.float64(-3.5), np.float64("nan")]])["data"]
    rank, change, empty = next(sheet.iter_rows(min_row=2))
    assert (rank.value, rank.data_type, change.value, change.data_type) == (7, "n", -3.5, "n")
    assert empty.value is None


def test_xlsx_header_bold_frozen_filterable_and_sized() -> None:
    sheet = workbook([["MOF-RD", THAI * 3, 1.0]], ["agency", "name_th", "score"])["data"]
    assert [c.value for c in sheet[1]] == ["agency", "name_th", "score"]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C2"
    # The width as Excel shows it: the stored one holds the cell's padding too (60.71 for 60).
    widths = {k: int(v.width) for k, v in sheet.column_dimensions.items()}
    assert 8 <= widths["A"] <= 12
    assert widths["B"] == 60  # long Thai text: capped
    assert widths["C"] == 8  # at least 8 characters


def test_xlsx_thai_round_trips_and_control_characters_are_dropped() -> None:
    sheet = workbook([[THAI, "bell\x07 and null\x00 removed"]])["data"]
    thai, bell = next(sheet.iter_rows(min_row=2))
    assert thai.value == THAI
    assert bell.value == "bell and null removed"


def test_xlsx_line_ends_are_line_feeds() -> None:
    # A carriage return would be written as Excel's escape "_x000D_" (shown as it is by
    # other readers); XML readers gave it back as a line feed before anyway.
    sheet = workbook([["first\r\nsecond", "one\rtwo", "tab\tand\nfeed"]])["data"]
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == [
        "first\nsecond",
        "one\ntwo",
        "tab\tand\nfeed",
    ]


def test_xlsx_text_like_an_excel_escape_reads_back_as_typed() -> None:
    from assess.services.interchange import _cell_text

    typed = ["_x0041_", "code _x005F_ and _x000D_", "_x00"]
    book = load_workbook(io.BytesIO(xlsx_bytes([Sheet("data", ["c"], [[t] for t in typed])])))
    # Written escaped, as Excel expects (Excel itself would show _x0041_ as "A"); the
    # import undoes that escape.
    read = [_cell_text(row[0].value) for row in book["data"].iter_rows(min_row=2)]
    assert read == typed


def test_xlsx_cells_hold_no_formula_and_no_shared_strings() -> None:
    import zipfile

    data = xlsx_bytes([Sheet("data", ["=head"], [[text] for text in ATTACKS + HIDDEN])])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        styles = archive.read("xl/styles.xml").decode("utf-8")
    assert "<f>" not in sheet  # no formula element anywhere
    assert "<f " not in sheet
    assert sheet.count('t="inlineStr"') == 1 + len(ATTACKS + HIDDEN)  # every cell is text
    assert 'quotePrefix="1"' in styles


def test_xlsx_long_text_non_finite_numbers() -> None:
    sheet = workbook([["x" * 40000, float("inf"), float("-inf"), Decimal("NaN"), 2.5]])["data"]
    text, inf, minus, nan, score = next(sheet.iter_rows(min_row=2))
    assert text.value == "x" * 32767  # the most an Excel cell holds
    assert (inf.value, minus.value, nan.value, score.value) == (None, None, None, 2.5)


def test_xlsx_failing_half_way_leaves_no_files(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text for this value")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rows: list[list[object]] = [[f"row {i}", i] for i in range(5000)] + [[Unprintable(), 1]]
    with pytest.raises(RuntimeError, match="no text for this value"):
        xlsx_bytes([Sheet("data", ["a", "b"], rows)])
    assert list(tmp_path.iterdir()) == []  # the rows' files went with their folder
    assert xlsx_bytes([Sheet("data", ["a", "b"], rows[:3])])  # and the next one works


def test_xlsx_sheet_titles_are_what_excel_accepts() -> None:
    data = xlsx_bytes(
        [
            Sheet("benchmark (type)", ["a"], []),
            Sheet("benchmark (type)", ["a"], []),
            Sheet("a/b:c*d?e[f]g\\h and a very long name beyond 31", ["a"], []),
        ]
    )
    names = load_workbook(io.BytesIO(data)).sheetnames
    assert names[:2] == ["benchmark (type)", "benchmark (type) (2)"]
    assert len(names[2]) <= 31
    assert not set("/:*?[]\\") & set(names[2])


def test_anonymous_ids_are_stable_keyed_and_per_round() -> None:
    codes = ["MOF", "MOF-RD", "PROV-CMI"]
    first = anonymous_ids(SimpleNamespace(id=1), codes, "secret")  # type: ignore[arg-type]
    assert first == anonymous_ids(SimpleNamespace(id=1), reversed(codes), "secret")  # type: ignore[arg-type]
    assert len(set(first.values())) == 3
    assert all(v.startswith("anon-") and len(v) == 17 for v in first.values())
    assert not any(code.lower() in v for code, v in first.items() for code in codes)
    other_round = anonymous_ids(SimpleNamespace(id=2), codes, "secret")  # type: ignore[arg-type]
    other_key = anonymous_ids(SimpleNamespace(id=1), codes, "another")  # type: ignore[arg-type]
    assert not set(first.values()) & set(other_round.values())
    assert not set(first.values()) & set(other_key.values())
