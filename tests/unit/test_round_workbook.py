"""A round's answers as an Excel workbook (``answers import ROUND FILE.xlsx``): its cells are
read as the person who filled them in sees them, as an agency's own workbook is."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from openpyxl import Workbook

from assess.questionnaires import load
from assess.questionnaires.answers import AnswersFileError
from assess.services.interchange import MAX_FORMULA_PROBLEMS, read_file


@pytest.fixture(scope="module")
def q(examples: Path):  # type: ignore[no-untyped-def]
    return load(examples / "worked-example.yaml")


def openpyxl_book(rows: list[list[Any]], formats: dict[str, str] | None = None) -> bytes:
    """A workbook as openpyxl writes it: formulas without a computed value, as a script or
    a converter that cannot calculate leaves them."""
    book = Workbook()
    sheet = book.active
    sheet.title = "answers"
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_number_shown_as_a_percentage_is_the_percentage_shown(q: Any) -> None:
    # Excel keeps "62.5%" typed in a cell as 0.625 with a percent format; the question asks
    # for the percentage (0–100), and 0.625 would have been stored without a word.
    data = openpyxl_book(
        [["agency", "pay.share", "id.login"], ["EX-001", 0.625, 3], ["EX-002", 0.5, 2]],
        {"B2": "0.0%", "B3": "0%"},
    )
    answers = {r.agency: r.answers for r in read_file(data, "round.xlsx", q)}
    assert answers["EX-001"]["pay.share"] == Decimal("62.5")
    assert answers["EX-002"]["pay.share"] == Decimal(50)
    assert answers["EX-001"]["id.login"] == 3  # a plain number stays as it is


def test_a_formula_without_its_computed_value_is_refused_naming_the_cell(q: Any) -> None:
    # Read as empty, it would have cleared the agency's answer in an all-or-nothing import.
    data = openpyxl_book(
        [["agency", "pay.share", "id.login"], ["EX-001", "=50+15", 3], ["EX-002", 40, "=1+1"]]
    )
    with pytest.raises(AnswersFileError) as refused:
        read_file(data, "round.xlsx", q)
    assert [p.render() for p in refused.value.problems] == [
        "round.xlsx:2: agency EX-001: question pay.share: cell B2: the formula =50+15 has no "
        "computed value in the file (a program that cannot calculate saved it); type the "
        "value itself",
        "round.xlsx:3: agency EX-002: question id.login: cell C3: the formula =1+1 has no "
        "computed value in the file (a program that cannot calculate saved it); type the "
        "value itself",
    ]


def test_a_formula_with_its_computed_value_is_that_value(q: Any) -> None:
    # Excel and LibreOffice store the value they show beside the formula.
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("answers")
    sheet.write_row(0, 0, ["agency", "pay.share", "id.login"])
    sheet.write_string(1, 0, "EX-001")
    sheet.write_formula(1, 1, "=50+15", None, 65)
    sheet.write_formula(1, 2, "=1+2", None, 3)
    book.close()
    (only,) = read_file(out.getvalue(), "round.xlsx", q)
    assert only.answers == {"pay.share": Decimal(65), "id.login": 3}


def test_a_workbook_full_of_uncomputed_formulas_is_told_in_a_bounded_list(q: Any) -> None:
    rows: list[list[Any]] = [["agency", "pay.share"]]
    rows += [[f"A{n:03}", "=1+1"] for n in range(MAX_FORMULA_PROBLEMS + 20)]
    with pytest.raises(AnswersFileError) as refused:
        read_file(openpyxl_book(rows), "round.xlsx", q)
    assert len(refused.value.problems) == MAX_FORMULA_PROBLEMS


def test_text_that_starts_with_an_equals_sign_is_text(q: Any) -> None:
    # A note typed as text ("=see the attachment") is no formula: it is read as written.
    book = Workbook()
    sheet = book.active
    sheet.title = "answers"
    sheet.append(["agency", "pay.note"])
    sheet.append(["EX-001", "x"])
    sheet["B2"].value = "=see the attachment"
    sheet["B2"].data_type = "s"
    out = io.BytesIO()
    book.save(out)
    (only,) = read_file(out.getvalue(), "round.xlsx", q)
    assert only.answers == {"pay.note": "=see the attachment"}
