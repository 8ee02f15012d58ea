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

Reasons are English (``str()`` of an :class:`AnswerError` or :class:`AnswerProblem`), and
they carry their message template and parameters (:class:`Message`) so that the web layer
can show them in the user's language. This module stays free of Flask: templates are only
marked with :func:`N_` for ``pybabel extract``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from assess.questionnaires import textfile
from assess.questionnaires.messages import N_ as N_
from assess.questionnaires.messages import Message as Message
from assess.questionnaires.messages import same as _same
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
#: A number answer holds at most this many significant digits and decimal places, and is
#: smaller than 10 to this power: what a double (SQLite's REAL, a workbook's cell, the JSON
#: readers) keeps exactly, so an answer reads back from any store as it was written.
NUMBER_DIGITS = 15
_CSV_NUMBER = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
#: Thai digits, as people type them, as Arabic ones.
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
#: A number with its thousands grouped by commas or spaces (1,250.5 or 1 250): the only
#: place a comma may stand, so 1,5 is refused rather than read as 15 (survey.js alike).
_GROUPED = re.compile(r"^[-+]?[0-9]{1,3}(?:[,\s][0-9]{3})+(?:\.[0-9]*)?\Z")


#: Characters a copy brings along unseen (zero-width space and joiners, word joiner, BOM,
#: soft hyphen): dropped from a typed number, which they would make "not a number" with no
#: visible reason. No-break spaces are spaces (a thousands separator, or around the number).
_UNSEEN_IN_NUMBER = str.maketrans(
    {**dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff"), **dict.fromkeys("\u00a0\u202f", " ")}
)


def typed_number(text: str) -> str:
    """A number as a person types it on a page or in a workbook ("๑,๒๕๐.๕", "1 250") as
    the interchange form writes it ("1250.5"); other text comes back trimmed, to be
    refused as it is. Files exchanged between systems are read strictly (no grouping)."""
    cleaned = text.translate(_UNSEEN_IN_NUMBER).strip().translate(THAI_DIGITS)
    if _GROUPED.match(cleaned):
        cleaned = re.sub(r"[,\s]", "", cleaned)
    return cleaned


_RESERVED_COLUMNS = ("agency", "status")


class AnswerError(ValueError):
    """A value that does not fit its question; ``str()`` is the reason (in English).

    ``message`` keeps the template and its parameters, for the reason in another language:
    ``AnswerError(N_("%(value)s is below the minimum %(min)s"), value=..., min=...)``.
    """

    def __init__(self, template: str, /, **params: object) -> None:
        self.message = Message(template, **params)
        super().__init__(str(self.message))


#: The reason for a file that is not UTF-8 text.
NOT_UTF8: Final = Message(N_("the file is not UTF-8 text (save it as UTF-8)"))
#: The reason for a CSV file that is neither UTF-8 nor Thai Windows text.
NOT_CSV_TEXT: Final = N_(
    "byte %(byte)s of the line (%(value)s) is not UTF-8 or Thai Windows text; save the file "
    "as CSV UTF-8"
)
LONE_SURROGATE: Final = N_(
    "the text escape %(escape)s is half of a character (a lone UTF-16 surrogate); "
    "write the whole character"
)


@dataclass(frozen=True, slots=True, order=True)
class AnswerProblem:
    """A refused answer: where, which agency, which question, and why."""

    source: str
    line: int
    agency: str
    question: str
    reason: str
    #: The reason as a translatable message (``reason`` is its English text).
    message: Message | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        source: str,
        line: int,
        agency: str,
        question: str,
        reason: Message | AnswerError,
    ) -> AnswerProblem:
        """A problem whose reason is a translatable message (or an :class:`AnswerError`)."""
        message = reason.message if isinstance(reason, AnswerError) else reason
        return cls(source, line, agency, question, str(message), message)

    def render(self, gettext: Callable[[str], str] = _same) -> str:
        """``FILE:LINE: agency A: question Q: reason`` in the language of ``gettext``."""
        where = f"{self.source}:{self.line}" if self.line else self.source
        parts = [where]
        if self.agency:
            parts.append(Message(N_("agency %(agency)s"), agency=self.agency).translate(gettext))
        if self.question:
            parts.append(Message(N_("question %(code)s"), code=self.question).translate(gettext))
        reason = self.reason if self.message is None else self.message.translate(gettext)
        return ": ".join([*parts, reason])

    def __str__(self) -> str:
        return self.render()


class AnswersFileError(Exception):
    """An answers file was refused; ``problems`` lists every reason, and ``records`` the
    agencies' records read all the same (so a caller can add its own problems of them)."""

    def __init__(
        self, problems: list[AnswerProblem], records: Sequence[ResponseAnswers] = ()
    ) -> None:
        self.problems = problems
        self.records = list(records)
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
        if raw.keys() == {"na"} and raw["na"] is True:  # not 1, which equals True
            return _not_applicable(question)
        raise AnswerError(N_('an object is only allowed as {"na": true} (not applicable)'))
    qtype = question.type
    if qtype in (QuestionType.LEVEL, QuestionType.CHOICE):
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise AnswerError(
                N_("expected one option value (options: %(options)s), got %(got)s"),
                options=_option_list(question),
                got=_kind(raw),
            )
        return _option(question, raw)
    if qtype is QuestionType.MULTI:
        if not isinstance(raw, list):
            raise AnswerError(N_("expected a list of option values, got %(got)s"), got=_kind(raw))
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise AnswerError(
                    N_("expected option values in the list, got %(got)s"), got=_kind(item)
                )
        return _multi(question, raw)
    if qtype is QuestionType.YESNO:
        if not isinstance(raw, bool):
            raise AnswerError(N_("expected true or false, got %(got)s"), got=_kind(raw))
        return raw
    if qtype is QuestionType.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise AnswerError(N_("expected a number, got %(got)s"), got=_kind(raw))
        # A float here means the caller parsed JSON without parse_float=Decimal; its shortest
        # repr is the decimal that was written.
        return _number(question, Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw))
    if not isinstance(raw, str):
        raise AnswerError(N_("expected text, got %(got)s"), got=_kind(raw))
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
        raise AnswerError(N_("expected yes or no, got %(value)s"), value=repr(cell))
    if qtype is QuestionType.NUMBER:
        if not _CSV_NUMBER.match(cell):
            raise AnswerError(
                N_("expected a number written with '.' for decimals, got %(value)s"),
                value=repr(cell),
            )
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
        raise AnswerError(N_("not applicable is not allowed for this question"))
    return NA


def _option(question: Question, value: OptionValue) -> OptionValue:
    if question.option(value) is None:
        other: OptionValue | None = None
        if isinstance(value, int):
            other = str(value)
        elif value.lstrip("-").isdigit():
            other = int(value)
        shown = json.dumps(value, ensure_ascii=False)
        if other is not None and question.option(other) is not None:
            raise AnswerError(
                N_("%(value)s is not an option (options: %(options)s) (write %(suggestion)s)"),
                value=shown,
                options=_option_list(question),
                suggestion=json.dumps(other),
            )
        raise AnswerError(
            N_("%(value)s is not an option (options: %(options)s)"),
            value=shown,
            options=_option_list(question),
        )
    return value


def _csv_option(question: Question, cell: str) -> OptionValue:
    """The option whose value reads as ``cell`` (CSV cells are text; 3 and '3' look alike)."""
    for opt in question.options:
        if str(opt.value) == cell:
            return opt.value
    raise AnswerError(
        N_("%(value)s is not an option (options: %(options)s)"),
        value=repr(cell),
        options=_option_list(question),
    )


def _multi(question: Question, values: list[OptionValue]) -> tuple[OptionValue, ...] | None:
    chosen: set[OptionValue] = set()
    for value in values:
        _option(question, value)
        if value in chosen:
            raise AnswerError(
                N_("%(value)s is listed twice"), value=json.dumps(value, ensure_ascii=False)
            )
        chosen.add(value)
    if not chosen:
        return None
    exclusive = [o for o in question.options if o.exclusive and o.value in chosen]
    if exclusive and len(chosen) > 1:
        label = json.dumps(exclusive[0].value, ensure_ascii=False)
        raise AnswerError(N_("%(value)s cannot be combined with other options"), value=label)
    # Canonical order: the question's option order, so equal answers compare equal.
    return tuple(o.value for o in question.options if o.value in chosen)


def _number(question: Question, value: Decimal) -> Decimal:
    if not value.is_finite():
        raise AnswerError(N_("expected a finite number"))
    if value and value.adjusted() >= NUMBER_DIGITS:
        raise AnswerError(
            N_("%(value)s is too large: a number must be smaller than 10^%(digits)s"),
            value=_shown_number(value),
            digits=NUMBER_DIGITS,
        )
    if max(digits_and_places(value)) > NUMBER_DIGITS:
        raise AnswerError(
            N_("%(value)s has more than %(digits)s significant digits or decimal places"),
            value=_shown_number(value),
            digits=NUMBER_DIGITS,
        )
    if question.integer and value != value.to_integral_value():
        raise AnswerError(N_("%(value)s is not a whole number"), value=value)
    if question.min is not None and value < question.min:
        raise AnswerError(
            N_("%(value)s is below the minimum %(min)s"), value=value, min=question.min
        )
    if question.max is not None and value > question.max:
        raise AnswerError(
            N_("%(value)s is above the maximum %(max)s"), value=value, max=question.max
        )
    return value


def digits_and_places(value: Decimal) -> tuple[int, int]:
    """The significant digits and the decimal places of a finite ``value``, trailing zeros
    aside, read from its digits alone (no arithmetic: safe for any exponent)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # a finite number
    written = "".join(map(str, digits))
    significant = written.rstrip("0")
    if not significant:
        return 0, 0  # zero, however written
    exponent += len(written) - len(significant)
    return len(significant.lstrip("0")), max(0, -exponent)


def _shown_number(value: Decimal) -> str:
    """``value`` for a message: as written, or shortened when very long."""
    text = str(value)
    return text if len(text) <= 40 else f"{value:.6e}"


#: Line breaks that word processors paste (Word's Shift+Enter is a vertical tab), as "\n".
_BREAKS = str.maketrans(dict.fromkeys("\x0b\x0c\u2028\u2029", "\n"))
#: Other control characters: invisible, refused by PostgreSQL (NUL) and by spreadsheets.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _text(question: Question, value: str) -> str | None:
    """A text answer: pasted line breaks made plain, invisible control characters dropped
    (tabs and line breaks stay), within the question's ``max_length``."""
    value = _CONTROLS.sub("", value.translate(_BREAKS))
    if not value.strip():
        return None
    limit = question.max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(
            N_("the text has %(length)s characters; at most %(limit)s are allowed"),
            length=len(value),
            limit=limit,
        )
    return value


def _option_list(question: Question) -> str:
    values = [json.dumps(o.value, ensure_ascii=False) for o in question.options]
    return ", ".join(values[:12]) + (", …" if len(values) > 12 else "")


def _kind(raw: object) -> Message | str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return Message(N_("text %(text)s"), text=json.dumps(raw, ensure_ascii=False))
    if isinstance(raw, list):
        return Message(N_("a list"))
    if isinstance(raw, dict):
        return Message(N_("an object"))
    if isinstance(raw, int | float | Decimal):
        return Message(N_("the number %(number)s"), number=raw)
    return type(raw).__name__


# -- a batch of answers ----------------------------------------------------------------------


def check_answers(
    questionnaire: Questionnaire, raw: Mapping[str, object], *, form: str = "json"
) -> tuple[dict[str, AnswerValue], list[tuple[str, str]]]:
    """Parse one response's raw answers; returns the answers and ``(question, reason)`` problems.

    ``form`` is ``"json"`` (values as in JSON) or ``"csv"`` (every value a cell's text).
    Unknown question codes are problems too. The reasons are English; for translatable
    ones use :func:`check_answer_errors`.
    """
    answers, errors = check_answer_errors(questionnaire, raw, form=form)
    return answers, [(code, str(error)) for code, error in errors]


#: Parsed CSV cells by question code and text: what a cell gives (a value or ``None``) or
#: the problem it has.
CellMemo = dict[tuple[str, str], "AnswerValue | None | AnswerError"]


def check_answer_errors(
    questionnaire: Questionnaire,
    raw: Mapping[str, object],
    *,
    form: str = "json",
    memo: CellMemo | None = None,
) -> tuple[dict[str, AnswerValue], list[tuple[str, AnswerError]]]:
    """:func:`check_answers` with each problem as the :class:`AnswerError` (its ``message``).

    ``memo`` (CSV cells only) keeps each distinct cell's outcome for the next rows of the
    same file: a question has few distinct answers, and parsed answers are immutable.
    """
    parse = parse_json_value if form == "json" else parse_csv_value
    answers: dict[str, AnswerValue] = {}
    problems: list[tuple[str, AnswerError]] = []
    for code, value in raw.items():
        question = questionnaire.questions.get(code)
        if question is None:
            problems.append((code, unknown_question(questionnaire)))
            continue
        if memo is not None and isinstance(value, str):
            key = (code, value)
            if key not in memo:
                memo[key] = _outcome(parse, question, value)
            parsed = memo[key]
        else:
            parsed = _outcome(parse, question, value)
        if isinstance(parsed, AnswerError):
            problems.append((code, parsed))
        elif parsed is not None:
            answers[code] = parsed
    return answers, problems


def _outcome(
    parse: Callable[[Question, Any], AnswerValue | None], question: Question, value: object
) -> AnswerValue | None | AnswerError:
    """What ``parse`` makes of ``value``: the answer, ``None`` (unanswered) or the problem."""
    try:
        return parse(question, value)
    except AnswerError as exc:
        return exc


def unknown_question(questionnaire: Questionnaire) -> AnswerError:
    """The problem of a question code the questionnaire does not have."""
    return AnswerError(N_("no such question in %(questionnaire)s"), questionnaire=questionnaire.key)


def read_answers(path: str | Path, questionnaire: Questionnaire) -> list[ResponseAnswers]:
    """Read a ``.json`` or ``.csv`` answers file; refuses the whole file on any problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise AnswersFileError(
            [AnswerProblem.of(str(path), 0, "", "", Message(N_("answers files are .json or .csv")))]
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    str(path), 0, "", "", Message(N_("cannot read: %(why)s"), why=exc.strerror)
                )
            ]
        ) from None
    if suffix == ".csv":
        return read_csv_answers(decode_csv(data, str(path)), questionnaire, str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswersFileError([AnswerProblem.of(str(path), 0, "", "", NOT_UTF8)]) from None
    return read_json_answers(text, questionnaire, str(path))


def decode_csv(data: bytes, source: str) -> str:
    """The text of an answers CSV file: UTF-8, UTF-16 or Thai Windows, as a spreadsheet saves
    it (:func:`assess.questionnaires.textfile.decode`); refused naming the line of the first
    byte that is none of them."""
    try:
        return textfile.decode(data)[0]
    except textfile.NotText as exc:
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    source,
                    exc.line,
                    "",
                    "",
                    Message(NOT_CSV_TEXT, byte=exc.column, value=exc.hex),
                )
            ]
        ) from None


#: A UTF-16 surrogate: only a JSON ``\\uXXXX`` escape can put one, alone, in a decoded text.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(value: object) -> str | None:
    """The first lone surrogate in the texts (keys included) of a decoded JSON value, as its
    escape (``"\\ud800"``), or ``None``.

    JSON's escapes can write half of a UTF-16 pair alone (``"\\ud800"``); Python decodes it
    into a text that no UTF-8 store (the database, a CSV or JSON file) can hold, so such a
    text is refused where it comes in. (A whole pair is decoded into its one character.)
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return f"\\u{ord(found.group()):04x}"
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def read_json_answers(
    text: str, questionnaire: Questionnaire, source: str = "<json>"
) -> list[ResponseAnswers]:
    """The JSON interchange form: ``[{"agency": CODE, "answers": {code: value}}, …]``."""

    def refuse_constant(name: str) -> object:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        records = json.loads(text, parse_float=Decimal, parse_constant=refuse_constant)
    except RecursionError:
        raise AnswersFileError(
            [AnswerProblem.of(source, 1, "", "", Message(N_("the JSON is nested too deeply")))]
        ) from None
    except ValueError as exc:
        line = getattr(exc, "lineno", 0)
        message = getattr(exc, "msg", str(exc))
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    source, line, "", "", Message(N_("not valid JSON: %(why)s"), why=message)
                )
            ]
        ) from None
    surrogate = lone_surrogate(records) if "\\u" in text else None
    if surrogate is not None:
        line = text.count("\n", 0, max(0, text.lower().find(surrogate))) + 1
        raise AnswersFileError(
            [AnswerProblem.of(source, line, "", "", Message(LONE_SURROGATE, escape=surrogate))]
        )
    if isinstance(records, dict) and "agency" in records:
        records = [records]
    if not isinstance(records, list):
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    source,
                    1,
                    "",
                    "",
                    Message(N_('expected a list of {"agency": …, "answers": {…}}')),
                )
            ]
        )
    problems: list[AnswerProblem] = []
    out: list[ResponseAnswers] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(
                AnswerProblem.of(
                    source, 0, "", "", Message(N_("record %(n)s: expected an object"), n=index)
                )
            )
            continue
        agency = record.get("agency")
        if not isinstance(agency, str) or not agency.strip():
            problems.append(
                AnswerProblem.of(
                    source,
                    0,
                    "",
                    "",
                    Message(N_("record %(n)s: 'agency' must be the agency code"), n=index),
                )
            )
            continue
        for key in record:
            if key not in ("agency", "answers", "status"):
                problems.append(
                    AnswerProblem.of(
                        source, 0, agency, "", Message(N_("unknown key %(key)s"), key=repr(key))
                    )
                )
        if agency in seen:
            problems.append(
                AnswerProblem.of(
                    source,
                    0,
                    agency,
                    "",
                    Message(
                        N_("listed twice (records %(first)s and %(second)s)"),
                        first=seen[agency],
                        second=index,
                    ),
                )
            )
            continue
        seen[agency] = index
        if "answers" not in record:  # each record replaces the agency's answers: never by accident
            problems.append(
                AnswerProblem.of(
                    source,
                    0,
                    agency,
                    "",
                    Message(N_("'answers' is missing (give {} to clear the agency's answers)")),
                )
            )
            continue
        raw = record["answers"]
        if not isinstance(raw, dict):
            problems.append(
                AnswerProblem.of(
                    source,
                    0,
                    agency,
                    "",
                    Message(N_("'answers' must be an object of question code → value")),
                )
            )
            continue
        status = record.get("status")
        if status is not None and not isinstance(status, str):
            problems.append(
                AnswerProblem.of(source, 0, agency, "", Message(N_("'status' must be text")))
            )
            status = None
        answers, bad = check_answer_errors(questionnaire, raw, form="json")
        problems.extend(AnswerProblem.of(source, 0, agency, code, error) for code, error in bad)
        out.append(ResponseAnswers(agency, answers, status))
    if problems:
        raise AnswersFileError(problems, out)
    return out


def read_csv_answers(
    text: str, questionnaire: Questionnaire, source: str = "<csv>"
) -> list[ResponseAnswers]:
    """The CSV interchange form: a header ``agency,<question codes>…``, one row per agency.

    A ``status`` column is allowed too. Cells follow the table of questionnaire-format.md.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=textfile.separator(text))
    try:
        header = next(reader)
    except StopIteration:
        raise AnswersFileError(
            [AnswerProblem.of(source, 1, "", "", Message(N_("the file is empty")))]
        ) from None
    except csv.Error as exc:
        raise AnswersFileError([AnswerProblem.of(source, 1, "", "", _not_csv(exc))]) from None
    header = [h.strip() for h in header]
    problems: list[AnswerProblem] = []
    if "agency" not in header:
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    source, 1, "", "", Message(N_("the header needs an 'agency' column"))
                )
            ]
        )
    while header and not header[-1]:  # the empty cells that end a header, as Excel writes
        header.pop()
    seen_columns: set[str] = set()
    for number, name in enumerate(header, 1):
        if not name:
            problems.append(
                AnswerProblem.of(
                    source, 1, "", "", Message(N_("column %(number)s has no name"), number=number)
                )
            )
            continue
        if name in seen_columns:
            problems.append(
                AnswerProblem.of(source, 1, "", name, Message(N_("column appears twice")))
            )
        seen_columns.add(name)
        if name not in _RESERVED_COLUMNS and name not in questionnaire.questions:
            problems.append(AnswerProblem.of(source, 1, "", name, unknown_question(questionnaire)))
    if problems:
        raise AnswersFileError(problems)
    out: list[ResponseAnswers] = []
    seen: dict[str, int] = {}
    memo: CellMemo = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and not any(cell.strip() for cell in row[len(header) :]):
                row = row[: len(header)]  # empty cells under the header's empty ones
            if len(row) != len(header):
                problems.append(
                    AnswerProblem.of(
                        source,
                        line,
                        "",
                        "",
                        Message(
                            N_("expected %(expected)s cells, found %(found)s"),
                            expected=len(header),
                            found=len(row),
                        ),
                    )
                )
                continue
            cells = dict(zip(header, row, strict=True))
            agency = cells.pop("agency").strip()
            status = cells.pop("status", "").strip() or None
            if not agency:
                problems.append(
                    AnswerProblem.of(source, line, "", "", Message(N_("the agency cell is empty")))
                )
                continue
            if agency in seen:
                problems.append(
                    AnswerProblem.of(
                        source,
                        line,
                        agency,
                        "",
                        Message(
                            N_("listed twice (lines %(first)s and %(second)s)"),
                            first=seen[agency],
                            second=line,
                        ),
                    )
                )
                continue
            seen[agency] = line
            answers, bad = check_answer_errors(questionnaire, cells, form="csv", memo=memo)
            problems.extend(
                AnswerProblem.of(source, line, agency, code, error) for code, error in bad
            )
            out.append(ResponseAnswers(agency, answers, status, line))
    except csv.Error as exc:
        problems.append(AnswerProblem.of(source, reader.line_num, "", "", _not_csv(exc)))
    if problems:
        raise AnswersFileError(problems, out)
    return out


def _not_csv(exc: csv.Error) -> Message:
    return Message(N_("not valid CSV: %(why)s"), why=str(exc))


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
