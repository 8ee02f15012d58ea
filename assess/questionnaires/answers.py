"""Answer values: the interchange forms (JSON and CSV) and their validation.

An answer, once parsed, is one of:

- an option value (``str`` or ``int``) for ``level`` and ``choice``;
- a ``tuple`` of option values, in the order of the question's options, for ``multi``;
- a ``bool`` for ``yesno``;
- a :class:`~decimal.Decimal` for ``number`` (exactly as written: ``62.345`` stays exact);
- a ``str`` for ``text``;
- :data:`NA` for "not applicable".

Unanswered questions are simply absent. An empty ``multi`` list, an empty text and a JSON
``null`` all mean unanswered. A value that does not fit its question is refused with a
reason; a file with any refused value is refused whole (nothing of it is used).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from assess.questionnaires.model import OptionValue, Question, Questionnaire, QuestionType


class NotApplicable:
    """The answer "not applicable" (a singleton: use :data:`NA`)."""

    _instance: NotApplicable | None = None

    def __new__(cls) -> NotApplicable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NA"

    def __reduce__(self) -> str:
        return "NA"


NA: Final = NotApplicable()

AnswerValue = OptionValue | tuple[OptionValue, ...] | bool | Decimal | str | NotApplicable
Answers = Mapping[str, AnswerValue]

CSV_NA = "#NA"
_CSV_NUMBER = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_RESERVED_COLUMNS = ("agency", "status")


class AnswerError(ValueError):
    """A value that does not fit its question; the message is the reason."""


@dataclass(frozen=True, slots=True, order=True)
class AnswerProblem:
    """A refused answer: where, which agency, which question, and why."""

    source: str
    line: int
    agency: str
    question: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        parts = [where]
        if self.agency:
            parts.append(f"agency {self.agency}")
        if self.question:
            parts.append(f"question {self.question}")
        return ": ".join([*parts, self.reason])


class AnswersFileError(Exception):
    """An answers file was refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class ResponseAnswers:
    """One agency's answers read from an interchange file."""

    agency: str
    answers: dict[str, AnswerValue]
    status: str | None = None
    line: int = 0


# -- single values ---------------------------------------------------------------------------


def parse_json_value(question: Question, raw: object) -> AnswerValue | None:
    """Check a JSON value against its question; ``None`` means unanswered.

    Raises :class:`AnswerError` with the reason when the value does not fit.
    """
    if raw is None:
        return None
    if isinstance(raw, dict):
        if raw == {"na": True}:
            return _not_applicable(question)
        raise AnswerError('an object is only allowed as {"na": true} (not applicable)')
    qtype = question.type
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise AnswerError(
                f"expected one option value ({_option_list(question)}), got {_kind(raw)}"
            )
        return _option(question, raw)
    if qtype is QuestionType.MULTI:
        if not isinstance(raw, list):
            raise AnswerError(f"expected a list of option values, got {_kind(raw)}")
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise AnswerError(f"expected option values in the list, got {_kind(item)}")
        return _multi(question, raw)
    if qtype is QuestionType.YESNO:
        if not isinstance(raw, bool):
            raise AnswerError(f"expected true or false, got {_kind(raw)}")
        return raw
    if qtype is QuestionType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise AnswerError(f"expected a number, got {_kind(raw)}")
        # A float here means the caller parsed JSON without parse_float=Decimal; its shortest
        # repr is the decimal that was written.
        return _number(question, Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw))
    if not isinstance(raw, str):
        raise AnswerError(f"expected text, got {_kind(raw)}")
    return _text(question, raw)


def parse_csv_value(question: Question, cell: str) -> AnswerValue | None:
    """Check a CSV cell against its question; ``None`` (empty cell) means unanswered."""
    if question.type is not QuestionType.TEXT:
        cell = cell.strip()
    if cell == "":
        return None
    if cell.strip() == CSV_NA:
        return _not_applicable(question)
    qtype = question.type
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        return _option(question, _csv_option(question, cell))
    if qtype is QuestionType.MULTI:
        return _multi(question, [_csv_option(question, part.strip()) for part in cell.split("|")])
    if qtype is QuestionType.YESNO:
        lowered = cell.lower()
        if lowered in ("yes", "true"):
            return True
        if lowered in ("no", "false"):
            return False
        raise AnswerError(f"expected yes or no, got {cell!r}")
    if qtype is QuestionType.NUMBER:
        if not _CSV_NUMBER.match(cell):
            raise AnswerError(f"expected a number written with '.' for decimals, got {cell!r}")
        return _number(question, Decimal(cell))
    return _text(question, cell)


def to_json_value(value: AnswerValue) -> object:
    """The JSON form of a parsed answer (numbers stay :class:`Decimal`; :func:`dumps` writes them)."""
    if value is NA:
        return {"na": True}
    if isinstance(value, tuple):
        return list(value)
    return value


def to_csv_cell(value: AnswerValue | None) -> str:
    """The CSV form of a parsed answer; ``None`` (unanswered) is an empty cell."""
    if value is None:
        return ""
    if value is NA:
        return CSV_NA
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "|".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _not_applicable(question: Question) -> NotApplicable:
    if not question.allow_na:
        raise AnswerError("not applicable is not allowed for this question")
    return NA


def _option(question: Question, value: OptionValue) -> OptionValue:
    if question.option(value) is None:
        hint = ""
        other: OptionValue | None = None
        if isinstance(value, int):
            other = str(value)
        elif value.lstrip("-").isdigit():
            other = int(value)
        if other is not None and question.option(other) is not None:
            hint = f" (write {json.dumps(other)})"
        raise AnswerError(
            f"{json.dumps(value, ensure_ascii=False)} is not an option ({_option_list(question)}){hint}"
        )
    return value


def _csv_option(question: Question, cell: str) -> OptionValue:
    """The option whose value reads as ``cell`` (CSV cells are text; 3 and '3' look alike)."""
    for opt in question.options:
        if str(opt.value) == cell:
            return opt.value
    raise AnswerError(f"{cell!r} is not an option ({_option_list(question)})")


def _multi(question: Question, values: list[OptionValue]) -> tuple[OptionValue, ...] | None:
    chosen: set[OptionValue] = set()
    for value in values:
        _option(question, value)
        if value in chosen:
            raise AnswerError(f"{json.dumps(value, ensure_ascii=False)} is listed twice")
        chosen.add(value)
    if not chosen:
        return None
    exclusive = [o for o in question.options if o.exclusive and o.value in chosen]
    if exclusive and len(chosen) > 1:
        label = json.dumps(exclusive[0].value, ensure_ascii=False)
        raise AnswerError(f"{label} cannot be combined with other options")
    # Canonical order: the question's option order, so equal answers compare equal.
    return tuple(o.value for o in question.options if o.value in chosen)


def _number(question: Question, value: Decimal) -> Decimal:
    if not value.is_finite():
        raise AnswerError("expected a finite number")
    if question.integer and value != value.to_integral_value():
        raise AnswerError(f"{value} is not a whole number")
    if question.min is not None and value < question.min:
        raise AnswerError(f"{value} is below the minimum {question.min}")
    if question.max is not None and value > question.max:
        raise AnswerError(f"{value} is above the maximum {question.max}")
    return value


def _text(question: Question, value: str) -> str | None:
    if not value.strip():
        return None
    limit = question.max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(f"the text has {len(value)} characters; at most {limit} are allowed")
    return value


def _option_list(question: Question) -> str:
    values = [json.dumps(o.value, ensure_ascii=False) for o in question.options]
    shown = ", ".join(values[:12]) + (", …" if len(values) > 12 else "")
    return f"options: {shown}"


def _kind(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f"text {json.dumps(raw, ensure_ascii=False)}"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return f"the number {raw}" if isinstance(raw, int | float | Decimal) else type(raw).__name__


# -- a batch of answers ----------------------------------------------------------------------


def check_answers(
    questionnaire: Questionnaire, raw: Mapping[str, object], *, form: str = "json"
) -> tuple[dict[str, AnswerValue], list[tuple[str, str]]]:
    """Parse one response's raw answers; returns the answers and ``(question, reason)`` problems.

    ``form`` is ``"json"`` (values as in JSON) or ``"csv"`` (every value a cell's text).
    Unknown question codes are problems too.
    """
    parse = parse_json_value if form == "json" else parse_csv_value
    answers: dict[str, AnswerValue] = {}
    problems: list[tuple[str, str]] = []
    for code, value in raw.items():
        question = questionnaire.questions.get(code)
        if question is None:
            problems.append((code, f"no such question in {questionnaire.key}"))
            continue
        try:
            parsed = parse(question, value)  # type: ignore[arg-type]
        except AnswerError as exc:
            problems.append((code, str(exc)))
            continue
        if parsed is not None:
            answers[code] = parsed
    return answers, problems


def read_answers(path: str | Path, questionnaire: Questionnaire) -> list[ResponseAnswers]:
    """Read a ``.json`` or ``.csv`` answers file; refuses the whole file on any problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise AnswersFileError(
            [AnswerProblem(str(path), 0, "", "", "answers files are .json or .csv")]
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnswersFileError(
            [AnswerProblem(str(path), 0, "", "", f"cannot read: {exc.strerror}")]
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswersFileError(
            [AnswerProblem(str(path), 0, "", "", "the file is not UTF-8 text (save it as UTF-8)")]
        ) from None
    if suffix == ".json":
        return read_json_answers(text, questionnaire, str(path))
    return read_csv_answers(text, questionnaire, str(path))


def read_json_answers(
    text: str, questionnaire: Questionnaire, source: str = "<json>"
) -> list[ResponseAnswers]:
    """The JSON interchange form: ``[{"agency": CODE, "answers": {code: value}}, …]``."""

    def refuse_constant(name: str) -> object:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        records = json.loads(text, parse_float=Decimal, parse_constant=refuse_constant)
    except ValueError as exc:
        line = getattr(exc, "lineno", 0)
        message = getattr(exc, "msg", str(exc))
        raise AnswersFileError(
            [AnswerProblem(source, line, "", "", f"not valid JSON: {message}")]
        ) from None
    if isinstance(records, dict) and "agency" in records:
        records = [records]
    if not isinstance(records, list):
        raise AnswersFileError(
            [AnswerProblem(source, 1, "", "", 'expected a list of {"agency": …, "answers": {…}}')]
        )
    problems: list[AnswerProblem] = []
    out: list[ResponseAnswers] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        where = f"record {index}"
        if not isinstance(record, dict):
            problems.append(AnswerProblem(source, 0, "", "", f"{where}: expected an object"))
            continue
        agency = record.get("agency")
        if not isinstance(agency, str) or not agency.strip():
            problems.append(
                AnswerProblem(source, 0, "", "", f"{where}: 'agency' must be the agency code")
            )
            continue
        for key in record:
            if key not in ("agency", "answers", "status"):
                problems.append(AnswerProblem(source, 0, agency, "", f"unknown key {key!r}"))
        if agency in seen:
            problems.append(
                AnswerProblem(
                    source, 0, agency, "", f"listed twice (records {seen[agency]} and {index})"
                )
            )
            continue
        seen[agency] = index
        raw = record.get("answers", {})
        if not isinstance(raw, dict):
            problems.append(
                AnswerProblem(
                    source, 0, agency, "", "'answers' must be an object of question code → value"
                )
            )
            continue
        status = record.get("status")
        if status is not None and not isinstance(status, str):
            problems.append(AnswerProblem(source, 0, agency, "", "'status' must be text"))
            status = None
        answers, bad = check_answers(questionnaire, raw, form="json")
        problems.extend(AnswerProblem(source, 0, agency, code, reason) for code, reason in bad)
        out.append(ResponseAnswers(agency, answers, status))
    if problems:
        raise AnswersFileError(problems)
    return out


def read_csv_answers(
    text: str, questionnaire: Questionnaire, source: str = "<csv>"
) -> list[ResponseAnswers]:
    """The CSV interchange form: a header ``agency,<question codes>…``, one row per agency.

    A ``status`` column is allowed too. Cells follow the table of questionnaire-format.md.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise AnswersFileError([AnswerProblem(source, 1, "", "", "the file is empty")]) from None
    except csv.Error as exc:
        raise AnswersFileError(
            [AnswerProblem(source, 1, "", "", f"not valid CSV: {exc}")]
        ) from None
    header = [h.strip() for h in header]
    problems: list[AnswerProblem] = []
    if "agency" not in header:
        raise AnswersFileError(
            [AnswerProblem(source, 1, "", "", "the header needs an 'agency' column")]
        )
    seen_columns: set[str] = set()
    for name in header:
        if name in seen_columns:
            problems.append(AnswerProblem(source, 1, "", name, "column appears twice"))
        seen_columns.add(name)
        if name not in _RESERVED_COLUMNS and name not in questionnaire.questions:
            problems.append(
                AnswerProblem(source, 1, "", name, f"no such question in {questionnaire.key}")
            )
    if problems:
        raise AnswersFileError(problems)
    out: list[ResponseAnswers] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(
                    AnswerProblem(
                        source, line, "", "", f"expected {len(header)} cells, found {len(row)}"
                    )
                )
                continue
            cells = dict(zip(header, row, strict=True))
            agency = cells.pop("agency").strip()
            status = cells.pop("status", "").strip() or None
            if not agency:
                problems.append(AnswerProblem(source, line, "", "", "the agency cell is empty"))
                continue
            if agency in seen:
                problems.append(
                    AnswerProblem(
                        source, line, agency, "", f"listed twice (lines {seen[agency]} and {line})"
                    )
                )
                continue
            seen[agency] = line
            answers, bad = check_answers(questionnaire, cells, form="csv")
            problems.extend(
                AnswerProblem(source, line, agency, code, reason) for code, reason in bad
            )
            out.append(ResponseAnswers(agency, answers, status, line))
    except csv.Error as exc:
        problems.append(AnswerProblem(source, reader.line_num, "", "", f"not valid CSV: {exc}"))
    if problems:
        raise AnswersFileError(problems)
    return out


def write_json_answers(responses: Iterable[ResponseAnswers]) -> str:
    """The JSON interchange form of some responses (numbers written exactly)."""
    records = []
    for response in responses:
        record: dict[str, object] = {"agency": response.agency}
        if response.status is not None:
            record["status"] = response.status
        record["answers"] = {code: to_json_value(v) for code, v in response.answers.items()}
        records.append(record)
    return dumps(records)


def write_csv_answers(responses: Iterable[ResponseAnswers], questionnaire: Questionnaire) -> str:
    """The CSV interchange form: one row per agency, one column per question (file order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    codes = list(questionnaire.questions)
    writer.writerow(["agency", *codes])
    for response in responses:
        writer.writerow([response.agency, *(to_csv_cell(response.answers.get(c)) for c in codes)])
    return buffer.getvalue()


def dumps(value: object) -> str:
    """JSON text for interchange data, Thai kept readable.

    Decimals are written as integers when whole and as floats otherwise: a float's ``repr``
    gives back any decimal of up to 15 significant digits exactly, which covers every value
    a questionnaire allows in practice.
    """
    return json.dumps(_plain(value), ensure_ascii=False, indent=1)


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
