"""Answers in and out: the interchange forms for a whole round (JSON, CSV, XLSX) and the
offline workbook of one agency.

Imports are all or nothing: every problem of a file is reported (file, line or row, agency,
question, reason) and nothing of it is saved.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from decimal import Decimal
from itertools import islice
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection
from sqlalchemy import select

from assess import i18n, thai
from assess.extensions import db
from assess.formatting import with_unit
from assess.labels import RESPONSE_STATUS
from assess.models import Agency, Answer, Evidence, Response, Round, User, VerifiedAnswer
from assess.questionnaires import Questionnaire
from assess.questionnaires.answers import (
    CSV_NA,
    N_,
    NA,
    NOT_UTF8,
    THAI_DIGITS,
    AnswerError,
    AnswerProblem,
    AnswersFileError,
    AnswerValue,
    Message,
    ResponseAnswers,
    check_answer_errors,
    decode_csv,
    parse_json_value,
    read_csv_answers,
    read_json_answers,
    to_csv_cell,
    to_json_value,
    typed_number,
    write_csv_answers,
    write_json_answers,
)
from assess.questionnaires.model import Evidence as EvidencePolicy
from assess.questionnaires.model import QuestionType
from assess.services import locks, responses, results
from assess.services.errors import (
    MAX_PROBLEMS,
    ServiceError,
    StaleRevision,
    WrongState,
    capped,
)
from assess.services.questionnaires import questionnaire_of

#: What ``--status`` may set; a file's own ``status`` column may also say ``returned`` (an
#: export of a round in review imports back as it was).
IMPORT_STATUSES = ("draft", "submitted", "accepted")
FILE_STATUSES = ("draft", "submitted", "returned", "accepted")
#: Statuses a response reaches only complete, with every required evidence (scoring.md §5).
#: A returned response may lack answers: its coordinator is changing them (and may clear one
#: to answer it again).
COMPLETE_STATUSES = ("submitted", "accepted")
#: What an import run without the evidence check adds to the detail of its audit events.
NO_EVIDENCE_CHECK = "--no-evidence-check"
#: The most responses whose evidence is read by their ids (one bound parameter each); for
#: more, the evidence of the whole round is read in one statement instead.
EVIDENCE_BY_ID = 1000
SHEET = "answers"
#: The most rows below the header an agency's workbook may hold: it has one row per
#: question, and no questionnaire comes near this many (one that did may have twice its
#: count). A larger sheet is refused before its rows are looked at one by one.
MAX_WORKBOOK_ROWS = 5000


def read_file(data: bytes, filename: str, questionnaire: Questionnaire) -> list[ResponseAnswers]:
    """Parse a round's answers file (``.json``, ``.csv`` or ``.xlsx``); refuses on any problem."""
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return read_csv_answers(_xlsx_as_csv(data, filename), questionnaire, filename)
    if not lower.endswith((".json", ".csv")):
        raise AnswersFileError(
            [
                AnswerProblem.of(
                    filename, 0, "", "", Message(N_("answers files are .json, .csv or .xlsx"))
                )
            ]
        )
    if lower.endswith(".csv"):
        return read_csv_answers(decode_csv(data, filename), questionnaire, filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AnswersFileError([AnswerProblem.of(filename, 0, "", "", NOT_UTF8)]) from None
    return read_json_answers(text, questionnaire, filename)


#: Excel's escape of a text that looks like one of its escapes (``_x0041_`` is written
#: ``_x005F_x0041_``). openpyxl undoes it in a workbook's shared strings, not in the inline
#: text of workbooks written row by row (as the exports are: assess.services.exports).
_ESCAPED_ESCAPE = re.compile(r"_x005F_(?=x[0-9A-Fa-f]{4}_)", re.IGNORECASE)


#: Text that Excel would read as one of its escapes: its ``_`` is written ``_x005F_``.
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _excel_text(value: Any) -> Any:
    """A cell's value for openpyxl, which writes text as it is: text that Excel would read as
    one of its escapes (``_x0041_`` shows as "A") escaped, so it shows and comes back as
    typed (:func:`_cell_text` undoes the escape); control characters a workbook cannot hold
    (a text saved before answers dropped them) as line breaks or left out."""
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value.replace("\x0b", "\n").replace("\x0c", "\n"))
    if "_x" in value:
        return _ESCAPE_LIKE.sub("_x005F_", value)
    return value


def _cell_text(value: Any) -> str:
    """A workbook cell's value as the text of an answer (or agency code)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        # The 15 significant digits Excel shows, without an exponent: a value it computed
        # (70.6 stored as 70.60000000000001) is the number the person sees; 1e-07 is 0.0000001.
        return format(Decimal(format(value, ".15g")), "f")
    text = str(value).strip()
    return _ESCAPED_ESCAPE.sub("_", text) if "_x" in text else text


#: What an uploaded workbook (a ZIP of XML parts) may hold, checked from the ZIP's
#: directory before anything is unpacked: an Excel file has a few dozen parts of a few MB.
MAX_MEMBERS = 1000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 200
#: Markup that declares entities (billion laughs, external entities): never in a workbook.
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def _archive_problem(data: bytes) -> Message | None:
    """Why a workbook's ZIP is refused before openpyxl reads it, or ``None``.

    Refused: too many parts, more than :data:`MAX_UNPACKED` unpacked or a part that
    unpacks more than :data:`MAX_RATIO` times its size (a ZIP bomb), part names that leave
    the archive (``../``, absolute), and XML that declares a DOCTYPE or entities.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return None  # not a ZIP at all: openpyxl's "not an Excel workbook" says it
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            return Message(
                N_("the workbook holds %(count)s parts, more than %(limit)s"),
                count=len(members),
                limit=MAX_MEMBERS,
            )
        total = 0
        for info in members:
            name = info.filename
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                return Message(N_("the workbook holds a part named %(name)s outside it"), name=name)
            total += info.file_size
            if total > MAX_UNPACKED or (
                info.file_size > 1024 * 1024
                and info.file_size > MAX_RATIO * max(info.compress_size, 1)
            ):
                return Message(
                    N_("the workbook unpacks to more than %(mb)s MB (a ZIP bomb?)"),
                    mb=MAX_UNPACKED // (1024 * 1024),
                )
        for info in members:
            if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            if _declares_entities(archive, info):
                return Message(
                    N_("the workbook's part %(name)s declares a DOCTYPE or entities"),
                    name=info.filename,
                )
    return None


def _declares_entities(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML part declares a DOCTYPE or entities (or is not UTF-8, where such
    markup could hide from a byte search)."""
    tail = b""
    try:
        with archive.open(info) as part:
            head = part.read(2)
            if head in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):
                return True
            tail = head
            while chunk := part.read(64 * 1024):
                window = tail + chunk
                if _DECLARATION.search(window):
                    return True
                tail = window[-16:]
            return bool(_DECLARATION.search(tail))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return True  # unreadable part: openpyxl must not try either


def _open(data: bytes, filename: str) -> Any:
    problem = _archive_problem(data)
    if problem is not None:
        raise AnswersFileError([AnswerProblem.of(filename, 0, "", "", problem)])
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise AnswersFileError(
            [AnswerProblem.of(filename, 0, "", "", Message(N_("not an Excel workbook (.xlsx)")))]
        ) from None


def _xlsx_as_csv(data: bytes, filename: str) -> str:
    """The round workbook's first sheet as CSV text: row N of the sheet is line N.

    Cells are read as the agency workbook reads its answers: a number shown as a percentage
    is the percentage shown (:func:`_answer_text`), and a formula saved without its computed
    value (by a program that cannot calculate) is refused, not read as an empty answer."""
    book = _open(data, filename)  # first: it refuses a ZIP bomb before anything is unpacked
    formulas, percentages = _what_cells_hold(data)
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    # Newlines inside a cell would shift the line numbers the problems report.
    if percentages:  # cells, not values: an answer's number format says it is a percentage
        rows = [
            [_answer_text(cell).replace("\r", " ").replace("\n", " ") for cell in row]
            for row in sheet.iter_rows()
        ]
    else:  # a third faster, and the same text
        rows = [
            [_cell_text(value).replace("\r", " ").replace("\n", " ") for value in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    title = sheet.title
    book.close()
    problems = _uncomputed_in_round(data, filename, title, rows) if formulas else []
    if problems:
        raise AnswersFileError(problems)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


#: Problems of uncomputed formulas told at most (a converter leaves every formula so).
MAX_FORMULA_PROBLEMS = 50
#: A formula in a worksheet's XML (``<f>…</f>``, ``<f t="shared" …/>``, with or without a
#: namespace prefix).
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
#: A percentage format in a workbook's styles: one of its own (``formatCode="0.0%"``) or
#: Excel's built-in 0% and 0.00% (ids 9 and 10).
_PERCENT_STYLE = re.compile(rb'formatCode="[^"]*%|numFmtId="(?:9|10)"')


def _what_cells_hold(data: bytes) -> tuple[bool, bool]:
    """Whether a workbook's sheets hold any formula, and whether its styles have any
    percentage format: a workbook without either (as most are) is read the fast way."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = {info.filename: info for info in archive.infolist()}
            formulas = any(
                _FORMULA_TAG.search(archive.read(info))
                for name, info in parts.items()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
            styles = "xl/styles.xml" in parts and _PERCENT_STYLE.search(
                archive.read("xl/styles.xml")
            )
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        return False, False  # not a workbook: _open says so
    return formulas, bool(styles)


def _uncomputed_in_round(
    data: bytes, filename: str, title: str, rows: list[list[str]]
) -> list[AnswerProblem]:
    """The cells of the sheet ``title`` that read as empty (``rows``, as read) but hold a
    formula without its computed value: one problem each, naming the row's agency, the
    column's question and the cell."""
    header = rows[0] if rows else []
    agency_column = header.index("agency") if "agency" in header else None
    problems: list[AnswerProblem] = []
    with closing(_formulas(data, title)) as written:
        for number, column, formula in written:
            shown = rows[number - 1] if number <= len(rows) else []
            index = column - 1
            if index < len(shown) and shown[index]:
                continue  # its computed value was stored: that is the answer
            agency = question = ""
            if number > 1:  # the row's agency and the column's question, where given
                if agency_column is not None and agency_column < len(shown):
                    agency = shown[agency_column]
                question = header[index] if index < len(header) else ""
            problems.append(
                AnswerProblem.of(
                    filename,
                    number,
                    agency,
                    question,
                    Message(
                        N_(
                            "cell %(cell)s: the formula %(formula)s has no computed value "
                            "in the file (a program that cannot calculate saved it); type "
                            "the value itself"
                        ),
                        cell=f"{get_column_letter(column)}{number}",
                        formula=formula[:40],
                    ),
                )
            )
            if len(problems) >= MAX_FORMULA_PROBLEMS:
                break
    return problems


def _not_invited(item: ResponseAnswers, filename: str, round_: Round) -> str:
    return _(
        "%(where)s: agency %(agency)s: not invited to round %(round)s",
        where=_where(item, filename),
        agency=item.agency,
        round=round_.id,
    )


def import_round(
    round_: Round,
    data: bytes,
    filename: str,
    *,
    status: str | None = None,
    actor: User | None = None,
    check_evidence: bool = True,
) -> int:
    """Import answers for many agencies of a round; returns how many responses changed.

    Each agency's answers replace its stored ones. An agency's status is ``status`` when
    given (a file that gives another for an agency is refused: which one was meant?),
    else the file's own (its ``status`` column or key), else ``draft``. ``submitted`` and
    ``accepted`` imports must be complete, with every required evidence already stored
    (the file carries none), as the web and the API submit; ``check_evidence=False`` skips
    the evidence (historical rounds whose evidence was never in the system), which the
    audit events record. All or nothing.
    """
    if status is not None and status not in IMPORT_STATUSES:
        raise ServiceError(
            _("--status must be one of %(statuses)s", statuses=", ".join(IMPORT_STATUSES))
        )
    if locks.share_round(round_.id):  # no publication while the file goes in
        db.session.expire(round_)
    if round_.status == "published":
        raise WrongState(
            _("round %(round)s is published: its answers can no longer change", round=round_.id)
        )
    questionnaire = questionnaire_of(round_.questionnaire)
    invited = {
        code: (response_id, seen)
        for response_id, code, seen in db.session.execute(
            responses.AGENCY_STATUSES.where(Response.round_id == round_.id)
        )
    }
    try:
        batch = read_file(data, filename, questionnaire)
    except AnswersFileError as exc:
        # Every problem in one pass: the agencies not invited among those read, too (the
        # first MAX_PROBLEMS of them told, the rest counted).
        outsiders = [item for item in exc.records if item.agency not in invited]
        raise ServiceError(
            capped(
                [i18n.problem(p) for p in exc.problems[:MAX_PROBLEMS]]
                + [_not_invited(item, filename, round_) for item in outsiders[:MAX_PROBLEMS]],
                len(exc.problems) + len(outsiders),
            )
        ) from None
    problems: dict[int, list[str]] = {}  # by the item's place in the file
    targets: list[responses.Replacement] = []
    complete: dict[int, int] = {}  # place in the file → place in targets, of those complete
    for place, item in enumerate(batch):
        where = _where(item, filename)
        found = invited.get(item.agency)
        if found is None:
            problems[place] = [_not_invited(item, filename, round_)]
            continue
        if status is not None and item.status and item.status != status:
            problems[place] = [
                _(
                    "%(where)s: agency %(agency)s: the file gives status %(file)s but --status "
                    "gives %(option)s; leave out one of them",
                    where=where,
                    agency=item.agency,
                    file=repr(item.status),
                    option=repr(status),
                )
            ]
            continue
        wanted = status or item.status or "draft"
        if wanted not in FILE_STATUSES:
            problems[place] = [
                _(
                    "%(where)s: agency %(agency)s: status %(status)s is not one of %(statuses)s",
                    where=where,
                    agency=item.agency,
                    status=repr(wanted),
                    statuses=", ".join(FILE_STATUSES),
                )
            ]
            continue
        if wanted in COMPLETE_STATUSES:
            complete[place] = len(targets)
        targets.append(responses.Replacement(found[0], found[1], wanted, item.answers))
    evidence = (
        _stored_evidence(questionnaire, round_.id, targets, complete) if check_evidence else None
    )
    problems.update(_incomplete(questionnaire, batch, targets, complete, filename, evidence))
    if problems:
        raise ServiceError(capped([line for place in sorted(problems) for line in problems[place]]))
    source = filename if check_evidence else f"{filename} ({NO_EVIDENCE_CHECK})"
    responses.replace_many(round_.id, targets, actor=actor, source=source)
    results.recompute_responses(round_, [target.response_id for target in targets])
    return len(targets)


def _where(item: ResponseAnswers, filename: str) -> str:
    return f"{filename}:{item.line}" if item.line else filename


def _incomplete(
    questionnaire: Questionnaire,
    batch: list[ResponseAnswers],
    targets: list[responses.Replacement],
    complete: dict[int, int],
    filename: str,
    evidence: dict[int, set[str]] | None,
) -> dict[int, list[str]]:
    """Why items of ``batch`` that must be complete are not, by their place in the file:
    unanswered questions and, unless ``evidence`` is ``None`` (not checked), required
    evidence the response has not stored (``evidence``: by response id, the questions
    with evidence). Every such item is scored at once (vectorised); those with unanswered
    questions, or with an answer that may lack its evidence, are scored again one by one
    as a submit scores them (:func:`assess.scoring.engine.score_response`, whose rule
    says which evidence is missing: on a visible, answered, not-N/A question), to name
    the questions."""
    if not complete:
        return {}
    from assess.scoring.batch import score_many
    from assess.scoring.engine import score_response

    scored = score_many(questionnaire, {place: targets[i].answers for place, i in complete.items()})
    assert scored.unanswered is not None
    suspects = set(scored.unanswered.index[scored.unanswered.to_numpy() > 0].tolist())
    if evidence is not None:
        needed = _evidence_required(questionnaire)
        suspects.update(
            place
            for place, i in complete.items()
            if _may_lack_evidence(targets[i], needed, evidence)
        )
    problems: dict[int, list[str]] = {}
    for place in sorted(suspects):
        target = targets[complete[place]]
        result = score_response(
            questionnaire,
            target.answers,
            evidence=None if evidence is None else evidence.get(target.response_id, set()),
        )
        words = {
            "where": _where(batch[place], filename),
            "agency": batch[place].agency,
            "status": i18n.word(target.status, RESPONSE_STATUS),
        }
        found: list[str] = []
        if result.missing:
            found.append(
                _(
                    "%(where)s: agency %(agency)s: cannot be %(status)s with unanswered "
                    "questions (%(codes)s)",
                    codes=_codes(result.missing),
                    **words,
                )
            )
        if result.missing_evidence:
            found.append(
                _(
                    "%(where)s: agency %(agency)s: cannot be %(status)s without the required "
                    "evidence (%(codes)s)",
                    codes=_codes(result.missing_evidence),
                    **words,
                )
            )
        if found:
            problems[place] = found
    return problems


def _codes(codes: tuple[str, ...]) -> str:
    """Question codes in a message: the first five, then "…"."""
    return ", ".join(codes[:5]) + (", …" if len(codes) > 5 else "")


def _evidence_required(questionnaire: Questionnaire) -> list[str]:
    """The questions whose evidence is required (``evidence: required``), in file order."""
    return [q.code for q in questionnaire.iter_questions() if q.evidence is EvidencePolicy.REQUIRED]


def _may_lack_evidence(
    target: responses.Replacement, needed: list[str], evidence: dict[int, set[str]]
) -> bool:
    """Whether an answer of ``target`` to a question of ``needed`` (evidence required) is
    given, not N/A, and without evidence: a quick test that leaves out only responses that
    cannot lack evidence (whether the question is shown is left to the exact scoring)."""
    if not needed:
        return False
    has = evidence.get(target.response_id, set())
    answers = target.answers
    return any(
        code not in has and answers.get(code) is not None and answers.get(code) is not NA
        for code in needed
    )


def _stored_evidence(
    questionnaire: Questionnaire,
    round_id: int,
    targets: list[responses.Replacement],
    complete: dict[int, int],
) -> dict[int, set[str]]:
    """The questions with evidence stored, by response, of the ``complete`` ones of
    ``targets`` (responses of round ``round_id``), among those whose evidence is required:
    one statement for the whole import (by the responses' ids; for more than
    :data:`EVIDENCE_BY_ID` of them, by the round, as a national round's import of 8,000
    agencies would bind too many ids).

    The targets' rows are locked first (PostgreSQL), to the commit, as a submission holds
    its response: evidence removed after it was read would leave a response accepted
    without it. All of them, in id order, as the import's claim then takes them: two
    imports lock in one order, and neither waits for the other in a circle.
    """
    needed = _evidence_required(questionnaire)
    if not needed or not complete:
        return {}
    ids = sorted(target.response_id for target in targets)
    for start in range(0, len(ids), EVIDENCE_BY_ID):
        results.lock_responses(Response.id.in_(ids[start : start + EVIDENCE_BY_ID]))
    wanted = [targets[i].response_id for i in complete.values()]
    query = (
        select(Evidence.response_id, Evidence.question_code)
        .where(Evidence.question_code.in_(needed))
        .distinct()
    )
    if len(wanted) <= EVIDENCE_BY_ID:
        query = query.where(Evidence.response_id.in_(wanted))
    else:
        query = query.join(Response, Response.id == Evidence.response_id).where(
            Response.round_id == round_id
        )
    found: dict[int, set[str]] = {}
    for response_id, code in db.session.execute(query):
        found.setdefault(response_id, set()).add(code)
    return found


def round_items(
    round_: Round, *, verified: bool = False
) -> tuple[Questionnaire, list[ResponseAnswers]]:
    """A round's questionnaire and its started responses as interchange items, by agency
    code: each response's answers as the agency gave them (self-assessed) or, with
    ``verified``, as verified, as the verified scores are computed
    (:func:`assess.services.results.answer_sets`): a reviewer's verified value in place of
    the agency's answer (a verified empty value leaves the question unanswered), the
    agency's answer elsewhere. Scoring the verified items gives the verified scores of
    ``assess scores`` (a response never started has none, whatever was verified)."""
    questionnaire = questionnaire_of(round_.questionnaire)
    started = db.session.execute(
        responses.AGENCY_STATUSES.where(
            Response.round_id == round_.id, Response.status != "not_started"
        )
    ).all()
    # Plain rows, each distinct stored value parsed once (answers in questionnaire order).
    answers = results.round_answer_sets(questionnaire, round_.id)
    overrides = _verified_overrides(questionnaire, round_.id) if verified else {}
    items = []
    for response_id, code, status in started:
        own = answers.get(response_id, {})
        if response_id in overrides:
            own = _as_verified(questionnaire, own, overrides[response_id])
        items.append(ResponseAnswers(agency=code, answers=own, status=status))
    items.sort(key=lambda item: item.agency)
    return questionnaire, items


def _verified_overrides(
    questionnaire: Questionnaire, round_id: int
) -> dict[int, list[tuple[str, AnswerValue | None]]]:
    """The verified values of a round's responses, by response id, parsed (``None``: a
    verified empty value); values of questions the version lacks are skipped, as the
    verified scores skip them. Read as the answers are (plain rows, each distinct stored
    value parsed once)."""
    pairs, sizes, response_ids = results.round_answers(round_id, VerifiedAnswer)
    found: dict[int, list[tuple[str, AnswerValue | None]]] = {}
    start = 0
    for (code, text), size in zip(pairs, sizes.tolist(), strict=True):
        question = questionnaire.questions.get(code)
        ids = response_ids[start : start + size].tolist()
        start += size
        if question is None:
            continue
        value = None if text is None else parse_json_value(question, json.loads(text))
        for response_id in ids:
            found.setdefault(response_id, []).append((code, value))
    return found


def _as_verified(
    questionnaire: Questionnaire,
    own: dict[str, AnswerValue],
    verified: list[tuple[str, AnswerValue | None]],
) -> dict[str, AnswerValue]:
    """Verified values over a response's own answers, in questionnaire order."""
    checked = dict(own)
    for code, value in verified:
        if value is None:
            checked.pop(code, None)
        else:
            checked[code] = value
    return {code: checked[code] for code in questionnaire.questions if code in checked}


def export_round(round_: Round, fmt: str, *, verified: bool = False) -> bytes:
    """Every started response of a round in the interchange form ``fmt`` (json, csv, xlsx):
    its answers as the agency gave them, or with ``verified`` as verified (see
    :func:`round_items`)."""
    if fmt not in ("json", "csv", "xlsx"):
        raise ServiceError(_("format must be json, csv or xlsx, not %(format)s", format=repr(fmt)))
    questionnaire, items = round_items(round_, verified=verified)
    if fmt == "json":
        return (write_json_answers(items) + "\n").encode("utf-8")
    if fmt == "csv":
        return _with_status(write_csv_answers(items, questionnaire), items).encode("utf-8")
    return _round_workbook(items, questionnaire)


def answer_columns(questionnaire: Questionnaire) -> list[str]:
    """The header of a round's answers table: agency, status, one column per question."""
    return ["agency", "status", *questionnaire.questions]


def answer_rows(
    items: Iterable[ResponseAnswers], questionnaire: Questionnaire
) -> Iterator[list[str]]:
    """The rows of a round's answers table (:func:`answer_columns`), one at a time: every
    answer in its CSV interchange form (``3``, ``a|c``, ``#NA``; empty when unanswered)."""
    codes = list(questionnaire.questions)
    for item in items:
        yield [item.agency, item.status or "", *(to_csv_cell(item.answers.get(c)) for c in codes)]


#: The columns of :func:`verified_values`.
VERIFIED_COLUMNS = (
    "agency",
    "question",
    "self_value",
    "verified_value",
    "reason",
    "reviewer",
    "verified_at",
)


def verified_values(round_: Round) -> list[list[str]]:
    """One row per verified value of a round (:data:`VERIFIED_COLUMNS`), by agency code and
    question order: the agency's answer and the verified value in their CSV interchange
    form (empty: unanswered; a verified empty value cleared the answer), the reason, the
    reviewer as the review page names them (name, else e-mail; empty for a removed
    account), and when, in ISO 8601, Bangkok time with its offset, as the other CSV
    timestamps."""
    questionnaire = questionnaire_of(round_.questionnaire)
    query = (
        select(
            Agency.code,
            VerifiedAnswer.question_code,
            Answer.value,
            VerifiedAnswer.value,
            VerifiedAnswer.reason,
            User.name,
            User.email,
            VerifiedAnswer.verified_at,
        )
        .select_from(VerifiedAnswer)
        .join(Response, Response.id == VerifiedAnswer.response_id)
        .join(Agency, Agency.id == Response.agency_id)
        .outerjoin(
            Answer,
            (Answer.response_id == VerifiedAnswer.response_id)
            & (Answer.question_code == VerifiedAnswer.question_code),
        )
        .outerjoin(User, User.id == VerifiedAnswer.verified_by_id)
        .where(Response.round_id == round_.id)
    )
    order = {code: i for i, code in enumerate(questionnaire.questions)}
    rows = [
        [
            code,
            question,
            _shown(questionnaire, question, mine),
            _shown(questionnaire, question, checked),
            reason,
            name or email or "",
            thai.local(at).isoformat(timespec="seconds") if at else "",
        ]
        for code, question, mine, checked, reason, name, email, at in db.session.execute(query)
    ]
    rows.sort(key=lambda row: (row[0], order.get(row[1], len(order)), row[1]))
    return rows


def _shown(questionnaire: Questionnaire, code: str, stored: Any) -> str:
    """A stored JSON value in its CSV interchange form; one that does not fit the question
    (or of a question the version lacks) as compact JSON, as it is stored."""
    question = questionnaire.questions.get(code)
    if question is not None:
        try:
            return to_csv_cell(parse_json_value(question, stored))
        except AnswerError:
            pass
    return "" if stored is None else json.dumps(stored, ensure_ascii=False, separators=(",", ":"))


def _with_status(text: str, items: list[ResponseAnswers]) -> str:
    lines = list(csv.reader(io.StringIO(text)))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([lines[0][0], "status", *lines[0][1:]])
    for row, item in zip(lines[1:], items, strict=True):
        writer.writerow([row[0], item.status or "", *row[1:]])
    return buffer.getvalue()


def _keep_text(cells: Iterable[Any]) -> None:
    """Cells of text stay text: openpyxl writes any text starting with ``=`` as a formula,
    which a spreadsheet would run and which reads back empty (an answer lost)."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"
            cell.quotePrefix = True


def _round_workbook(items: Iterable[ResponseAnswers], questionnaire: Questionnaire) -> bytes:
    """The round's answers as a workbook: a row per response, the agency and status kept in
    view; every answer a text cell as in the CSV form (never a formula: see
    :func:`assess.services.exports.xlsx_bytes`, which writes it row by row)."""
    from assess.services.exports import Sheet, xlsx_bytes  # (exports imports this module)

    return xlsx_bytes(
        [
            Sheet(
                SHEET,
                answer_columns(questionnaire),
                answer_rows(items, questionnaire),
                frozen_columns=2,
            )
        ]
    )


# -- the offline workbook of one agency ------------------------------------------------------

COLUMNS = ("code", "dimension", "question", "type", "choices", "answer", "help")
TYPES_TH = {
    "level": "ระดับ",
    "choice": "เลือกหนึ่งข้อ",
    "multi": "เลือกได้หลายข้อ",
    "yesno": "ใช่หรือไม่ใช่",
    "number": "ตัวเลข",
    "text": "ข้อความ",
}
#: The header of a Thai workbook (an English one has COLUMNS).
HEADS_TH = ("รหัส", "มิติ", "คำถาม", "ประเภท", "ตัวเลือก (ค่า = ความหมาย)", "คำตอบ", "คำอธิบาย")
ANSWER_COLUMN = COLUMNS.index("answer") + 1


def _choices(question: Any, lang: str) -> str:
    if question.has_options:
        parts = [f"{o.value} = {o.label.get(lang)}" for o in question.options]
        joined = "\n".join(parts)
        if question.type is QuestionType.MULTI:
            joined += (
                "\n(" + ("คั่นหลายค่าด้วย |" if lang == "th" else "several values joined by |") + ")"
            )
        return joined
    if question.type is QuestionType.YESNO:
        return "yes = ใช่\nno = ไม่ใช่" if lang == "th" else "yes / no"
    if question.type is QuestionType.NUMBER:
        unit = question.unit.get(lang) if question.unit else ""
        if question.min is not None and question.max is not None:
            span = f"{question.min} – {question.max}"
        elif question.min is not None:
            span = f"≥ {question.min}"
        elif question.max is not None:
            span = f"≤ {question.max}"
        else:
            return unit
        return with_unit(span, unit)
    return ""


#: What Excel says when a typed answer is not what its question takes: a warning the
#: person may keep going past (the upload checks every answer again, and takes more than the
#: dropdown lists: ๓ for a level, ใช่ for yes), by kind of check and language.
_CHECK_WORDS = {
    "list": {
        "th": ("ไม่ใช่ค่าในรายการ", "กรุณาเลือกค่าจากรายการ (ความหมายอยู่ในคอลัมน์ตัวเลือก)"),
        "en": ("Not one of the choices", "Choose a value from the list (the choices column "
               "gives their meaning)."),
    },
    "number": {
        "th": ("ไม่ใช่ตัวเลขตามที่กำหนด", "กรุณากรอกตัวเลขตามช่วงในคอลัมน์ตัวเลือก"),
        "en": ("Not a number in range", "Type a number in the range the choices column gives."),
    },
}  # fmt: skip
_CHECK_AFTER = {
    "th": " ค่าอื่นจะถูกตรวจอีกครั้งเมื่ออัปโหลดไฟล์",
    "en": " Another value is checked again when the file is uploaded.",
}


def _answer_check(question: Any, cell: str, lang: str) -> DataValidation | None:
    """Excel's check of an answer cell: a dropdown of a level's, choice's or yes/no
    question's values, a number question's range; ``None`` for the others (and for a
    dropdown longer than Excel's 255 characters)."""
    if question.type in (QuestionType.LEVEL, QuestionType.CHOICE, QuestionType.YESNO):
        values = (
            ["yes", "no"]
            if question.type is QuestionType.YESNO
            else [str(o.value) for o in question.options]
        )
        if question.allow_na:
            values.append(CSV_NA)
        formula = '"' + ",".join(values) + '"'
        if len(formula) > 255:
            return None
        check = DataValidation(type="list", formula1=formula, allow_blank=True)
        kind = "list"
    elif question.type is QuestionType.NUMBER:
        condition = [f"ISNUMBER({cell})"]
        if question.min is not None:
            condition.append(f"{cell}>={question.min:f}")
        if question.max is not None:
            condition.append(f"{cell}<={question.max:f}")
        formula = f"AND({','.join(condition)})"
        if question.allow_na:  # Excel compares text regardless of case: #na too
            formula = f'OR({cell}="{CSV_NA}",{formula})'
        check = DataValidation(type="custom", formula1=formula, allow_blank=True)
        kind = "number"
    else:
        return None
    title, words = _CHECK_WORDS[kind]["th" if lang == "th" else "en"]
    check.showErrorMessage = True
    check.errorStyle = "warning"
    check.errorTitle = title
    check.error = words + _CHECK_AFTER["th" if lang == "th" else "en"]
    return check


def agency_workbook(response: Response, lang: str = "th") -> bytes:
    """The questionnaire of one response as a workbook to fill offline, answers included."""
    questionnaire = questionnaire_of(response.questionnaire)
    answers = results.parse_stored(questionnaire, response.answers)
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(HEADS_TH if lang == "th" else COLUMNS))
    optional = " (ไม่บังคับ)" if lang == "th" else " (optional)"
    na = "ไม่เกี่ยวข้อง" if lang == "th" else "N/A"
    fill = PatternFill("solid", fgColor="FFF4D6")
    wrap = Alignment(wrap_text=True, vertical="top")
    row = 1  # the header
    for dim in questionnaire.dimensions:
        for question in dim.questions:
            cells = [
                question.code,
                dim.title.get(lang),
                question.text.get(lang) + ("" if question.required else optional),
                TYPES_TH.get(question.type.value, question.type.value)
                if lang == "th"
                else question.type.value,
                "\n".join(
                    part
                    for part in (
                        _choices(question, lang),
                        f"{CSV_NA} = {na}" if question.allow_na else "",
                    )
                    if part
                ),
                to_csv_cell(answers.get(question.code)),
                question.help.get(lang) if question.help else "",
            ]
            sheet.append([_excel_text(cell) for cell in cells])
            row += 1
            _keep_text(sheet[row])
            sheet.cell(row, ANSWER_COLUMN).fill = fill
            check = _answer_check(question, f"{get_column_letter(ANSWER_COLUMN)}{row}", lang)
            if check is not None:
                sheet.add_data_validation(check)
                check.add(sheet.cell(row, ANSWER_COLUMN))
            for col in range(1, len(COLUMNS) + 1):
                sheet.cell(row, col).alignment = wrap
            # The answer is the one cell to type in; the rest is locked (below).
            sheet.cell(row, ANSWER_COLUMN).protection = Protection(locked=False)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (12, 24, 60, 10, 40, 16, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    # Codes, questions and columns cannot be changed by mistake (a cleared code or an
    # inserted column made the upload fail); columns and rows may still be resized. No
    # password: Excel's Review ▸ Unprotect Sheet lifts it for a person who needs to.
    sheet.protection = SheetProtection(sheet=True, formatColumns=False, formatRows=False)
    meta = book.create_sheet("meta")
    meta.append(["questionnaire", questionnaire.key])
    meta.append(["round", response.round_id])
    meta.append(["agency", response.agency.code])
    meta.append(["revision", response.revision])
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_agency_workbook(response: Response, data: bytes, filename: str, actor: User) -> int:
    """Take back a filled offline workbook: all answers, or none; returns how many changed.

    Refused when the workbook is for another round or agency, or when the answers changed
    on the web since it was downloaded (no silent overwrite).
    """
    questionnaire = questionnaire_of(response.questionnaire)
    try:
        book = _open(data, filename)
    except AnswersFileError as exc:
        raise ServiceError([i18n.problem(p) for p in exc.problems]) from None
    if SHEET not in book.sheetnames or "meta" not in book.sheetnames:
        raise ServiceError(
            _(
                "%(file)s: not a workbook downloaded from this system (no '%(sheet)s' and "
                "'meta' sheets)",
                file=filename,
                sheet=SHEET,
            )
        )
    meta = {
        str(row[0]): row[1] for row in book["meta"].iter_rows(values_only=True) if row and row[0]
    }
    expected = {
        "questionnaire": questionnaire.key,
        "round": response.round_id,
        "agency": response.agency.code,
    }
    for key, value in expected.items():
        if str(meta.get(key)) != str(value):
            raise ServiceError(_wrong_workbook(key, filename, meta.get(key), value))
    try:
        downloaded = int(meta.get("revision") or 0)
    except (TypeError, ValueError, OverflowError):
        raise ServiceError(
            _(
                "%(file)s: this workbook's revision %(found)s is not a number; download the "
                "workbook of this response",
                file=filename,
                found=str(meta.get("revision"))[:40],
            )
        ) from None
    try:
        _check_columns(book[SHEET], filename)
    except ServiceError:
        book.close()
        raise
    limit = max(MAX_WORKBOOK_ROWS, 2 * len(questionnaire.questions))
    # Cells, not values: an answer's number format says whether it is a percentage.
    rows = list(islice(book[SHEET].iter_rows(min_row=2), limit + 1))
    if len(rows) > limit:
        book.close()
        raise ServiceError(
            _(
                "%(file)s: the sheet '%(sheet)s' has more than %(limit)s rows; the workbook "
                "of this questionnaire has one row per question (%(count)s). Download the "
                "workbook of this response again and fill it in.",
                file=filename,
                sheet=SHEET,
                limit=f"{limit:,}",
                count=len(questionnaire.questions),
            )
        )
    book.close()
    empty = {
        number
        for number, row in enumerate(rows, start=2)
        if len(row) < ANSWER_COLUMN or row[ANSWER_COLUMN - 1].value is None
    }
    with closing(_formulas(data, SHEET, ANSWER_COLUMN)) as written:
        formulas = {number: text for number, _column, text in written if number in empty}
    cells: dict[str, str] = {}
    rows_of: dict[str, int] = {}
    problems: list[str] = []
    for number, row in enumerate(rows, start=2):
        answer = _answer_text(row[ANSWER_COLUMN - 1] if len(row) >= ANSWER_COLUMN else None)
        if not row or row[0].value is None:
            if answer or number in formulas:  # a row's code cleared: which question?
                problems.append(
                    _(
                        "%(file)s: row %(row)s: an answer (%(answer)s) with no question code "
                        "in column A; put the row's code back (the workbook downloaded again "
                        "shows it) or clear the answer",
                        file=filename,
                        row=number,
                        answer=repr((answer or formulas.get(number, ""))[:40]),
                    )
                )
            continue
        code = _cell_text(row[0].value)
        if code not in questionnaire.questions:
            problems.append(
                _(
                    "%(file)s: row %(row)s: question %(code)s: no such question in "
                    "%(questionnaire)s",
                    file=filename,
                    row=number,
                    code=code,
                    questionnaire=questionnaire.key,
                )
            )
            continue
        if number in formulas:
            problems.append(
                _(
                    "%(file)s: row %(row)s: question %(code)s: the formula %(formula)s has no "
                    "computed value in the file (a program that cannot calculate saved it); "
                    "type the answer itself",
                    file=filename,
                    row=number,
                    code=code,
                    formula=formulas[number][:40],
                )
            )
            continue
        # "#na" as typed, or Excel's own #N/A (what a person types for "not available"):
        # the #NA the choices column names.
        cell = CSV_NA if answer.upper() in (CSV_NA, "#N/A") else answer
        kind = questionnaire.questions[code].type
        if cell == CSV_NA:
            pass
        elif kind is QuestionType.NUMBER:
            cell = typed_number(cell)  # a person's typing, as on the answer page
        elif kind is QuestionType.LEVEL:
            cell = cell.translate(THAI_DIGITS)  # "๓" is level 3
        elif kind is QuestionType.YESNO:
            cell = _THAI_YES_NO.get(cell, cell)  # the words the choices column gives
        if code in cells and cells[code] != cell:  # which one was meant?
            problems.append(
                _(
                    "%(file)s: row %(row)s: question %(code)s is answered again, differently "
                    "(first in row %(first)s); keep one row per question",
                    file=filename,
                    row=number,
                    code=code,
                    first=rows_of[code],
                )
            )
            continue
        cells[code] = cell
        rows_of.setdefault(code, number)
    parsed, bad = check_answer_errors(questionnaire, cells, form="csv")
    problems += [
        _(
            "%(file)s: row %(row)s: question %(code)s: %(reason)s",
            file=filename,
            row=rows_of.get(c, 0),
            code=c,
            reason=i18n.reason(error),
        )
        for c, error in bad
    ]
    if problems:
        raise ServiceError(capped(problems))
    if response.revision != downloaded:
        raise StaleRevision(response.revision, responses.current_json(response))
    raw = {code: (to_json_value(parsed[code]) if code in parsed else None) for code in cells}
    before = responses.current_json(response)
    responses.save_answers(response, _plain(raw), revision=response.revision, actor=actor)
    after = responses.current_json(response)
    return sum(1 for code in set(before) | set(after) if before.get(code) != after.get(code))


def _check_columns(sheet: Any, filename: str) -> None:
    """Refuse a workbook whose code or answer column was moved (a column inserted or
    deleted before it): every answer would be read from the wrong cells."""
    header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    for column, key in ((1, "code"), (ANSWER_COLUMN, "answer")):
        found = _cell_text(header[column - 1]) if len(header) >= column else ""
        thai = HEADS_TH[COLUMNS.index(key)]
        if found not in (thai, key):
            expected = thai if i18n.language() == "th" else key
            raise ServiceError(
                _(
                    "%(file)s: the columns of the sheet '%(sheet)s' were moved (column "
                    "%(column)s is “%(found)s”, not “%(expected)s”); answers are read from "
                    "column %(answer)s only: download the workbook again and copy your "
                    "answers into it",
                    file=filename,
                    sheet=SHEET,
                    column=get_column_letter(column),
                    found=found[:40],
                    expected=expected,
                    answer=get_column_letter(ANSWER_COLUMN),
                )
            )


#: A yes/no answer typed in Thai in a workbook, as its choices column names them.
_THAI_YES_NO = {"ใช่": "yes", "ไม่ใช่": "no"}


def _answer_text(cell: Any) -> str:
    """An answer cell of an agency's workbook as text: a number shown as a percentage is the
    number shown (Excel stores "62.5%" typed in a cell as 0.625 and shows 62.5%; the
    questions ask for the percentage itself, 62.5)."""
    value = getattr(cell, "value", None)
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and "%" in (getattr(cell, "number_format", None) or "")
        and math.isfinite(value)
    ):
        shown = (Decimal(format(value, ".15g")) * 100).normalize()
        return format(shown, "f")
    return _cell_text(value)


def _formulas(data: bytes, title: str, column: int | None = None) -> Iterator[tuple[int, int, str]]:
    """Each formula as written in the sheet ``title`` (or in its ``column`` alone): its
    row, its column (both from 1) and its text. Read again without the computed values, for
    the cells that read as empty: Excel and LibreOffice store the value beside the formula,
    a script or converter may not."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        rows = book[title].iter_rows(min_col=column, max_col=column, values_only=True)
        for number, written in enumerate(rows, start=1):
            for offset, value in enumerate(written):
                if isinstance(value, str) and value.startswith("="):
                    yield number, (column or 1) + offset, value
    finally:
        book.close()


def _wrong_workbook(key: str, filename: str, found: object, expected: object) -> str:
    words = {"file": filename, "found": found, "expected": expected}
    if key == "questionnaire":
        return _(
            "%(file)s: this workbook is for questionnaire %(found)s, not %(expected)s; "
            "download the workbook of this response",
            **words,
        )
    if key == "round":
        return _(
            "%(file)s: this workbook is for round %(found)s, not %(expected)s; "
            "download the workbook of this response",
            **words,
        )
    return _(
        "%(file)s: this workbook is for agency %(found)s, not %(expected)s; "
        "download the workbook of this response",
        **words,
    )


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    import json

    from assess.questionnaires.answers import dumps

    return dict(json.loads(dumps(raw)))
