"""Answer interchange forms (questionnaire-format.md, "Answer values")."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from assess.questionnaires import load
from assess.questionnaires.answers import (
    NA,
    AnswerError,
    AnswersFileError,
    parse_csv_value,
    parse_json_value,
    read_answers,
    read_csv_answers,
    read_json_answers,
    write_csv_answers,
    write_json_answers,
)


@pytest.fixture(scope="module")
def q(examples: Path):  # type: ignore[no-untyped-def]
    return load(examples / "worked-example.yaml")


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("pay.channels", ["c", "a"], ("a", "c")),  # canonical option order
        ("pay.channels", [], None),  # nothing chosen = unanswered
        ("pay.share", 65, Decimal(65)),
        ("pay.share", Decimal("62.345"), Decimal("62.345")),
        ("pay.recon", False, False),
        ("pay.note", "ทดสอบ", "ทดสอบ"),
        ("pay.note", "   ", None),
        ("id.login", 3, 3),
        ("id.ndid", "partly", "partly"),
        ("id.kyc", {"na": True}, NA),
        ("id.kyc", None, None),
    ],
)
def test_json_values(q: Any, code: str, raw: Any, expected: Any) -> None:
    assert parse_json_value(q.question(code), raw) == expected


@pytest.mark.parametrize(
    ("code", "raw", "reason"),
    [
        ("pay.channels", ["a", "x"], '"x" is not an option'),
        ("pay.channels", ["a", "a"], "listed twice"),
        ("pay.channels", "a", "expected a list"),
        ("pay.share", 101, "above the maximum 100"),
        ("pay.share", -1, "below the minimum 0"),
        ("pay.share", "65", "expected a number"),
        ("pay.share", True, "expected a number"),
        ("pay.recon", "yes", "expected true or false"),
        ("pay.recon", {"na": True}, "not applicable is not allowed"),
        ("id.login", "3", '"3" is not an option'),
        ("id.login", "3", "(write 3)"),
        ("id.login", True, "expected one option value"),
        ("id.ndid", "maybe", '"maybe" is not an option'),
        ("id.kyc", {"na": False}, 'only allowed as {"na": true}'),
    ],
)
def test_json_values_refused(q: Any, code: str, raw: Any, reason: str) -> None:
    with pytest.raises(AnswerError, match=None) as caught:
        parse_json_value(q.question(code), raw)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("code", "cell", "expected"),
    [
        ("pay.channels", "c|a", ("a", "c")),
        ("pay.channels", " a | c ", ("a", "c")),
        ("pay.share", "62.5", Decimal("62.5")),
        ("pay.recon", "yes", True),
        ("pay.recon", "No", False),
        ("id.login", "3", 3),
        ("id.kyc", "#NA", NA),
        ("id.kyc", "", None),
    ],
)
def test_csv_cells(q: Any, code: str, cell: str, expected: Any) -> None:
    assert parse_csv_value(q.question(code), cell) == expected


@pytest.mark.parametrize(
    ("code", "cell", "reason"),
    [
        ("pay.share", "62,5", "written with '.'"),
        ("pay.share", "1e3", "written with '.'"),
        ("pay.recon", "maybe", "expected yes or no"),
        ("id.login", "9", "'9' is not an option"),
    ],
)
def test_csv_cells_refused(q: Any, code: str, cell: str, reason: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_csv_value(q.question(code), cell)
    assert reason in str(caught.value)


def test_integer_numbers() -> None:
    from tests.unit.builders import dimension, questionnaire

    quest = questionnaire(
        dimension("d", {"code": "d.n", "type": "number", "text": "n", "integer": True})
    )
    with pytest.raises(AnswerError, match="not a whole number"):
        parse_json_value(quest.question("d.n"), Decimal("2.5"))
    assert parse_json_value(quest.question("d.n"), Decimal("2.0")) == Decimal("2.0")


def test_exclusive_option_cannot_be_combined() -> None:
    from tests.unit.builders import dimension, options, questionnaire

    opts = options(("a", 1), ("b", 1)) + [
        {"value": "none", "label": "none", "points": 0, "exclusive": True}
    ]
    quest = questionnaire(
        dimension("d", {"code": "d.m", "type": "multi", "text": "m", "options": opts})
    )
    with pytest.raises(AnswerError, match='"none" cannot be combined'):
        parse_json_value(quest.question("d.m"), ["a", "none"])
    assert parse_json_value(quest.question("d.m"), ["none"]) == ("none",)


def test_json_file_problems_are_all_reported(q: Any) -> None:
    text = json.dumps(
        [
            {"agency": "A", "answers": {"pay.share": 500, "nope": 1}},
            {"agency": "A", "answers": {}},
            {"answers": {}},
            {"agency": "B", "answers": {"id.login": 1}, "extra": 1},
        ]
    )
    with pytest.raises(AnswersFileError) as caught:
        read_json_answers(text, q, "a.json")
    messages = [str(p) for p in caught.value.problems]
    assert "a.json: agency A: question pay.share: 500 is above the maximum 100" in messages
    assert "a.json: agency A: question nope: no such question in worked-example@1" in messages
    assert "a.json: agency A: listed twice (records 1 and 2)" in messages
    assert "a.json: record 3: 'agency' must be the agency code" in messages
    assert "a.json: agency B: unknown key 'extra'" in messages


def test_json_syntax_error_names_the_line(q: Any) -> None:
    with pytest.raises(AnswersFileError) as caught:
        read_json_answers('[\n {"agency": "A",\n "answers": {,}}]', q, "a.json")
    assert str(caught.value).startswith("a.json:3: not valid JSON")


def test_json_nested_too_deeply_is_a_problem_not_a_crash(q: Any) -> None:
    with pytest.raises(AnswersFileError) as caught:
        read_json_answers("[" * 100_000 + "]" * 100_000, q, "deep.json")
    assert str(caught.value) == "deep.json:1: the JSON is nested too deeply"


def test_json_refuses_nan(q: Any) -> None:
    with pytest.raises(AnswersFileError, match="NaN is not a number JSON allows"):
        read_json_answers('[{"agency": "A", "answers": {"pay.share": NaN}}]', q)


def csv_problems(text: str, q: Any) -> list[str]:
    """The problems ``read_csv_answers`` refuses ``text`` (as ``a.csv``) with."""
    with pytest.raises(AnswersFileError) as caught:
        read_csv_answers(text, q, "a.csv")
    return [str(p) for p in caught.value.problems]


def test_csv_file_problems_name_line_agency_and_question(q: Any) -> None:
    assert csv_problems("agency,pay.share,id.login,bogus\nA,1,2,\n", q) == [
        "a.csv:1: question bogus: no such question in worked-example@1"
    ]
    assert csv_problems("agency,pay.share,id.login\nA,150,2\nB,50,x\nA,1,1\n", q) == [
        "a.csv:2: agency A: question pay.share: 150 is above the maximum 100",
        "a.csv:3: agency B: question id.login: 'x' is not an option (options: 0, 1, 2, 3)",
        "a.csv:4: agency A: listed twice (lines 2 and 4)",
    ]


def test_csv_cells_repeated_down_the_file_each_give_their_answer_or_problem(q: Any) -> None:
    # Each distinct cell is parsed once per file: a repeated value or problem still shows
    # on every row, with that row's line and agency.
    text = "agency,pay.share,id.login\nA,50,x\nB,50,x\nC,50,1\nD,,1\n"
    assert csv_problems(text, q) == [
        "a.csv:2: agency A: question id.login: 'x' is not an option (options: 0, 1, 2, 3)",
        "a.csv:3: agency B: question id.login: 'x' is not an option (options: 0, 1, 2, 3)",
    ]
    rows = read_csv_answers(text.replace(",x", ",2"), q, "a.csv")
    assert [r.answers for r in rows] == [
        {"pay.share": Decimal(50), "id.login": 2},
        {"pay.share": Decimal(50), "id.login": 2},
        {"pay.share": Decimal(50), "id.login": 1},
        {"id.login": 1},
    ]


def test_csv_header_as_excel_writes_it(q: Any) -> None:
    """Empty cells that end the header (and the rows) are ignored; an empty name between
    columns is told by its number, not as an unknown question."""
    (response,) = read_csv_answers("agency,pay.share,,\nA,50,,\n", q, "a.csv")
    assert response.answers == {"pay.share": Decimal(50)}
    assert csv_problems("agency,,pay.share\nA,,50\n", q) == ["a.csv:1: column 2 has no name"]
    assert csv_problems("agency,pay.share,\nA,50,7\n", q) == ["a.csv:2: expected 2 cells, found 3"]


def test_csv_with_excel_bom_and_status(q: Any) -> None:
    text = "\ufeffagency,status,pay.recon\nA,submitted,yes\n"
    (response,) = read_csv_answers(text, q)
    assert (response.agency, response.status, response.answers) == (
        "A",
        "submitted",
        {"pay.recon": True},
    )


def test_round_trip_through_both_forms(q: Any, examples: Path, tmp_path: Path) -> None:
    responses = read_answers(examples / "worked-example.answers.json", q)
    as_json = tmp_path / "a.json"
    as_json.write_text(write_json_answers(responses), encoding="utf-8")
    as_csv = tmp_path / "a.csv"
    as_csv.write_text(write_csv_answers(responses, q), encoding="utf-8")
    assert read_answers(as_json, q) == responses
    assert [r.answers for r in read_answers(as_csv, q)] == [r.answers for r in responses]


def test_file_kinds(q: Any, tmp_path: Path) -> None:
    with pytest.raises(AnswersFileError, match="answers files are .json or .csv"):
        read_answers(tmp_path / "a.txt", q)
    # Saved by Excel on a Thai Windows ("CSV (Comma delimited)": the Thai code page), or as
    # "Unicode Text" (UTF-16, tabs): read as the same answers.
    saved = tmp_path / "a.csv"
    for data in (
        "agency,pay.note\r\nA,ทดสอบ น้ำ\r\n".encode("cp874"),
        "agency\tpay.note\r\nA\tทดสอบ น้ำ\r\n".encode("utf-16"),
    ):
        saved.write_bytes(data)
        [read] = read_answers(saved, q)
        assert (read.agency, read.answers) == ("A", {"pay.note": "ทดสอบ น้ำ"})
    saved.write_bytes("agency,pay.note\nA,ok\nB,Café\n".encode("latin-1"))
    with pytest.raises(
        AnswersFileError, match=r"a.csv:3: byte 6 of the line \(0xE9\) is not UTF-8 or Thai Windows"
    ):
        read_answers(saved, q)
    # JSON is UTF-8 (RFC 8259).
    as_json = tmp_path / "a.json"
    as_json.write_bytes('[{"agency": "A", "answers": {"pay.note": "น้ำ"}}]'.encode("cp874"))
    with pytest.raises(AnswersFileError, match="not UTF-8"):
        read_answers(as_json, q)


# -- numbers a double holds, texts of whole characters --------------------------------------------


@pytest.fixture(scope="module")
def unbounded() -> Any:
    """A number question with no minimum or maximum (a headcount, say)."""
    from tests.unit.builders import dimension, questionnaire

    return questionnaire(dimension("d", {"code": "d.n", "type": "number", "text": "n"})).question(
        "d.n"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "999999999999999",  # the largest whole number of 15 digits
        "-999999999999999",
        "123456789.012345",  # 15 significant digits
        "0.000000000000001",  # 15 decimal places
        "1.500000000000000000000",  # trailing zeros are not digits of the value
        "0E-1000",  # zero, however written
        "1E+3",
    ],
)
def test_numbers_of_up_to_15_digits_are_kept_exactly(unbounded: Any, raw: str) -> None:
    value = parse_json_value(unbounded, Decimal(raw))
    assert value == Decimal(raw)
    # As the stores give them back: a double (SQLite's REAL, a workbook's cell) holds it.
    assert Decimal(repr(float(value))) == value
    assert parse_csv_value(unbounded, format(Decimal(raw), "f")) == Decimal(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1000000000000000", "1000000000000000 is too large: a number must be smaller than 10^15"),
        ("1" + "0" * 400, "1.000000e+400 is too large"),
        ("1E+999999", "1E+999999 is too large"),
        ("-1" + "0" * 20, "-100000000000000000000 is too large"),
        ("1234567890.123456", "1234567890.123456 has more than 15 significant digits"),
        ("19.99999999999999999", "19.99999999999999999 has more than 15 significant digits"),
        ("100.0000000000000001", "has more than 15 significant digits or decimal places"),
        ("0.0000000000000001", "1E-16 has more than 15"),
        ("1E-999999", "1E-999999 has more than 15"),
    ],
)
def test_numbers_a_double_would_change_are_refused(unbounded: Any, raw: str, reason: str) -> None:
    """Stored as JSON, a number of more digits would come back from SQLite's REAL (or a
    JSON reader's float) as another number, or as infinity, which no JSON reader takes."""
    with pytest.raises(AnswerError) as caught:
        parse_json_value(unbounded, Decimal(raw))
    assert reason in str(caught.value)


def test_a_json_whole_number_too_large_is_refused(unbounded: Any) -> None:
    with pytest.raises(AnswerError, match=r"1\.000000e\+400 is too large"):
        parse_json_value(unbounded, 10**400)


@pytest.mark.parametrize("raw", [{"na": 1}, {"na": 1.0}, {"na": Decimal(1)}, {"na": True, "x": 1}])
def test_not_applicable_is_only_na_true(q: Any, raw: Any) -> None:
    with pytest.raises(AnswerError, match='only allowed as {"na": true}'):
        parse_json_value(q.question("id.kyc"), raw)


def test_lone_surrogates_are_found_in_any_text() -> None:
    from assess.questionnaires.answers import lone_surrogate

    assert lone_surrogate(json.loads('{"a": ["x", {"b": "\\ud83d\\ude00"}], "c": 1}')) is None
    assert lone_surrogate(json.loads('{"a": ["x", {"b": "ok\\udc00"}]}')) == "\\udc00"
    assert lone_surrogate(json.loads('{"\\ud800": 1}')) == "\\ud800"
    assert lone_surrogate("plain ไทย") is None


def test_a_json_file_with_a_lone_surrogate_names_its_line(q: Any) -> None:
    text = '[\n {"agency": "A",\n  "answers": {"pay.note": "a\\uD800b"}}]'
    with pytest.raises(AnswersFileError) as caught:
        read_json_answers(text, q, "a.json")
    assert str(caught.value) == (
        "a.json:3: the text escape \\ud800 is half of a character (a lone UTF-16 surrogate); "
        "write the whole character"
    )


def test_typed_numbers_are_read_as_people_type_them():
    from assess.questionnaires.answers import typed_number

    assert typed_number(" ๑,๒๕๐.๕ ") == "1250.5"
    assert typed_number("1 250") == "1250"
    assert typed_number("-12,345,678") == "-12345678"
    assert typed_number("1,5") == "1,5"  # not a thousands group: refused later, as it is
    assert typed_number("12,50") == "12,50"
    assert typed_number("abc") == "abc"
    # Characters a copy brings along unseen are not part of the number.
    assert typed_number("4\u200b2\ufeff") == "42"
    assert typed_number("\u00a01\u202f250\u00a0") == "1250"
    assert typed_number("1\u00ad000") == "1000"
