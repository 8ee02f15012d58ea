"""Agencies: import (upsert by code) and edit."""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from assess import i18n, labels, provinces
from assess.extensions import db
from assess.models import AGENCY_TYPES, Agency, text_columns, unstorable
from assess.questionnaires import textfile
from assess.services.errors import ServiceError

COLUMNS = ("code", "name_th", "name_en", "type", "parent_code", "province", "tags")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")
#: The columns of free text, checked against their column's length in the database.
FREE_TEXT = ("name_th", "name_en", "province")
#: C0 control characters but tab: no name, e-mail or province has one (a line break in a
#: cell is a mistake of the file), and PostgreSQL cannot store a NUL at all.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f]")


def column_length(model: type, name: str) -> int | None:
    """How many characters the text column ``name`` of ``model`` holds in the database
    (``None``: no such column, or no limit)."""
    return next((length for key, length, _field in text_columns(model) if key == name), None)


def text_problem(label: str, value: str, limit: int | None = None) -> str | None:
    """Why ``value`` cannot be the text of a field: a control character (tab aside), or
    more than ``limit`` characters; ``None`` when it can. The message starts with ``label``,
    the field's name."""
    found = _CONTROL.search(value)
    if found:
        return _(
            "%(field)s: the text contains a control character, %(char)s, at character "
            "%(position)s; remove it",
            field=label,
            char=f"U+{ord(found.group()):04X}",
            position=found.start() + 1,
        )
    return unstorable(value, limit, label)  # no NUL left: its length


#: Combining marks: Thai vowel and tone marks (and other scripts'), which ``\w`` does not match.
_MARKS = ("Mn", "Mc")


def is_tag(text: str) -> bool:
    """Whether ``text`` is a tag: 1 to 40 letters of any script (with their combining marks),
    digits, '.', '_' and '-', not starting with a mark; no space, '|' or other punctuation."""
    category = unicodedata.category
    return (
        0 < len(text) <= 40
        and category(text[0]) not in _MARKS
        and all(ch.isalnum() or ch in "._-" or category(ch) in _MARKS for ch in text)
    )


@dataclass
class Imported:
    """What an import did: agencies created, updated, and found as the file gives them
    already; and notes on what it kept that may be a mistake (``FILE:LINE: message``)."""

    created: int
    updated: int
    unchanged: int
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.created, self.updated, self.unchanged


#: Other ways a spreadsheet names an agency type (its code, its English or Thai name, any
#: case, are read too: :func:`agency_type`).
TYPE_ALIASES = {
    "อปท": "local",
    "อปท.": "local",
    "ราชการส่วนท้องถิ่น": "local",
    "local government": "local",
    "public organization": "public_org",
    "independent": "independent",
    "independent organization": "independent",
}


def type_choices() -> str:
    """The agency types a refusal offers: their codes, each with its name on a Thai page
    (``ministry (กระทรวง), …``: either is read)."""
    if i18n.language() == "en":
        return ", ".join(AGENCY_TYPES)
    return ", ".join(f"{code} ({labels.AGENCY_TYPE[code]})" for code in AGENCY_TYPES)


def agency_type(text: str) -> str | None:
    """The agency type (one of ``AGENCY_TYPES``) that a cell names: its code (``public_org``,
    also ``Public-Org`` or ``public org``), its name in English or Thai (``Ministry``,
    ``กระทรวง``, as the pages show them) or a usual other name (``อปท.``); ``None`` when it
    names none."""
    key = " ".join(text.split()).casefold()
    code = re.sub(r"[ -]", "_", key)
    if code in AGENCY_TYPES:
        return code
    return TYPE_ALIASES.get(key) or _type_names().get(key)


@functools.cache
def _type_names() -> dict[str, str]:
    """Each agency type's page name in every language, folded, to its code (the catalogues
    do not change while the process runs: made once, not for each row of a file)."""
    names = {}
    for lang in labels.LANGUAGE:
        with force_locale(lang):
            names.update(
                {str(label).casefold(): code for code, label in labels.AGENCY_TYPE.items()}
            )
    return names


def province_note(text: str) -> str | None:
    """Why ``text`` may be a mistake for a province (it names none of the 77, and may
    misspell one), or ``None`` when it names one or is empty. Such text is kept as given."""
    if not text.strip() or provinces.find(text) is not None:
        return None
    near = provinces.likely(text)
    if near is None:
        return _(
            "province %(province)s is not one of Thailand's 77 provinces; kept as given",
            province=repr(text.strip()),
        )
    return _(
        "province %(province)s is not one of Thailand's 77 provinces; kept as given "
        "(did you mean %(likely)s?)",
        province=repr(text.strip()),
        likely=near.name(i18n.language()),
    )


def import_csv(data: bytes, source: str) -> Imported:
    """Upsert agencies by code from CSV (``code,name_th,name_en,type,parent_code,province,tags``).

    Only ``code`` and one name are required; ``tags`` are joined by ``|``. A parent may come
    earlier or later in the file, or already be stored. All or nothing: any problem refuses
    the whole file, with ``FILE:LINE: message`` for each, by line (those of the whole file,
    such as a cycle of parents, first). A province that names none of Thailand's 77 is
    kept (the column is free text) with a note naming its line.
    """
    table, problems = read_csv(data, source, COLUMNS)

    def add(line: int, problem: str) -> None:
        problems.append((line, problem))

    if "code" not in table.columns:
        raise ServiceError(_("%(file)s:1: the header has no 'code' column", file=source))
    header = table.columns
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    # A short row is told from one that leaves its last cells empty: a short row would clear
    # a stored agency's province, tags and parent.
    for line, cells in table.rows:
        if len(cells) != len(header):
            add(
                line,
                _(
                    "%(where)s: expected %(expected)s cells, found %(found)s",
                    where=f"{source}:{line}",
                    expected=table.width if len(cells) > table.width else len(header),
                    found=len(cells),
                ),
            )
            continue
        row = dict(zip(header, cells, strict=True))
        clean = {k: v.strip() for k, v in row.items() if k in COLUMNS}
        code = clean.get("code", "")
        where = f"{source}:{line}"
        if not code:
            add(line, _("%(where)s: code is empty", where=where))
            continue
        if not CODE.match(code):
            add(
                line,
                _(
                    "%(where)s: code %(code)s may use only letters, digits, '.', '_' and '-'",
                    where=where,
                    code=repr(code),
                ),
            )
        if code in seen:
            add(
                line,
                _(
                    "%(where)s: code %(code)s repeats line %(line)s",
                    where=where,
                    code=code,
                    line=seen[code],
                ),
            )
        seen[code] = line
        # Text the database can hold (the code's rule above sees to the code's): a cell
        # refused here is not checked further.
        refused: set[str] = set()
        for name, value in clean.items():
            limit = column_length(Agency, name) if name in FREE_TEXT else None
            problem = None if name == "code" else text_problem(name, value, limit)
            if problem:
                refused.add(name)
                add(
                    line,
                    _("%(where)s: agency %(code)s: %(note)s", where=where, code=code, note=problem),
                )
        if not clean.get("name_th") and not clean.get("name_en"):
            add(
                line,
                _("%(where)s: agency %(code)s: give name_th or name_en", where=where, code=code),
            )
        kind = clean.get("type", "")
        if kind and "type" not in refused and (known := agency_type(kind)):
            clean["type"] = known
        elif kind and "type" not in refused:
            add(
                line,
                _(
                    "%(where)s: agency %(code)s: type %(type)s is not one of %(types)s",
                    where=where,
                    code=code,
                    type=repr(kind),
                    types=type_choices(),
                ),
            )
        for tag in [] if "tags" in refused else _tags(clean.get("tags", "")):
            if not is_tag(tag):
                add(
                    line,
                    _(
                        "%(where)s: agency %(code)s: tag %(tag)s is not a plain word",
                        where=where,
                        code=code,
                        tag=repr(tag),
                    ),
                )
        rows.append((line, clean))
    stored = {a.code: a for a in db.session.scalars(select(Agency))}
    for line, clean in rows:
        parent = clean.get("parent_code", "")
        where = f"{source}:{line}"
        if parent and parent not in seen and parent not in stored and not _CONTROL.search(parent):
            add(
                line,
                _(
                    "%(where)s: agency %(code)s: parent_code %(parent)s is not a known agency",
                    where=where,
                    code=clean["code"],
                    parent=parent,
                ),
            )
        if parent and parent == clean["code"]:
            add(
                line,
                _(
                    "%(where)s: agency %(code)s cannot be its own parent",
                    where=where,
                    code=clean["code"],
                ),
            )
    cycle = _code_cycle(_parent_codes(stored, rows))
    if cycle:
        add(0, _cycle_problem(source, cycle))
    if problems:
        # By line, whichever check found each (stable: a line's problems in check order).
        raise ServiceError([text for _line, text in sorted(problems, key=lambda p: p[0])])
    notes = []
    for line, clean in rows:
        note = province_note(clean.get("province", ""))
        if note:
            notes.append(
                _(
                    "%(where)s: agency %(code)s: %(note)s",
                    where=f"{source}:{line}",
                    code=clean["code"],
                    note=note,
                )
            )
    created = 0
    before: dict[str, tuple[object, ...]] = {}  # the agencies already stored, as they were
    for _line, clean in rows:
        agency = stored.get(clean["code"])
        if agency is None:
            agency = Agency(code=clean["code"], tags=[])
            db.session.add(agency)
            stored[agency.code] = agency
            created += 1
        else:
            before[agency.code] = _record(agency)
        for name in ("name_th", "name_en"):
            if clean.get(name):
                setattr(agency, name, clean[name])
        if "province" in clean:
            agency.province = provinces.canonical(clean["province"])
        if clean.get("type"):
            agency.type = clean["type"]
        if "tags" in clean:
            agency.tags = _tags(clean["tags"])
    db.session.flush()
    for _line, clean in rows:
        if "parent_code" in clean:
            parent = clean["parent_code"]
            stored[clean["code"]].parent_id = stored[parent].id if parent else None
    updated = sum(1 for code, was in before.items() if _record(stored[code]) != was)
    return Imported(created, updated, len(before) - updated, notes)


def _cycle_problem(source: str, cycle: list[str]) -> str:
    return str(
        _("%(file)s: the parents form a cycle: %(cycle)s", file=source, cycle=" → ".join(cycle))
    )


def _parent_codes(
    stored: dict[str, Agency], rows: list[tuple[int, dict[str, str]]]
) -> dict[str, str | None]:
    """Each agency's parent (by code) once the file's rows are imported: a row's
    ``parent_code`` (empty: none; its own code, refused on its line, none too), else the
    stored one."""
    code_of = {agency.id: code for code, agency in stored.items()}
    parents = {code: code_of.get(agency.parent_id or 0) for code, agency in stored.items()}
    for _line, clean in rows:
        if "parent_code" in clean:
            parent = clean["parent_code"]
            parents[clean["code"]] = parent if parent and parent != clean["code"] else None
        else:
            parents.setdefault(clean["code"], None)
    return parents


def _record(agency: Agency) -> tuple[object, ...]:
    """What an import may change of an agency."""
    return (
        agency.name_th,
        agency.name_en,
        agency.type,
        agency.province,
        tuple(agency.tags or ()),
        agency.parent_id,
    )


@dataclass
class CsvRows:
    """A CSV file as :func:`open_csv` reads it."""

    #: The header's column names, spaces around them removed; the empty cells that end a
    #: header (Excel writes them) left out.
    columns: list[str]
    #: How many cells the header has, those empty ones counted.
    width: int
    #: The rows with text in a cell: the line each starts on, and its cells (the empty
    #: cells under the header's empty ones left out).
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def open_csv(data: bytes, source: str, columns: Sequence[str]) -> tuple[CsvRows, list[str]]:
    """:func:`read_csv`'s table and problems, the problems without their lines."""
    table, problems = read_csv(data, source, columns)
    return table, [text for _line, text in problems]


def read_csv(
    data: bytes, source: str, columns: Sequence[str]
) -> tuple[CsvRows, list[tuple[int, str]]]:
    """A CSV file of the central office's (a header; UTF-8, or as a spreadsheet saves it:
    :mod:`assess.questionnaires.textfile`), and the problems found reading it: columns other than ``columns`` (or without a name), a row with text under a column
    without a name, text that is not valid CSV (``FILE:LINE: message`` each). Refused at
    once: a file that is not text, a header that is not valid CSV or names a column twice.
    Rows of empty cells are left out, as Excel writes them. Each problem comes with the
    line it names, in line order, for a caller to merge its own problems with them."""
    try:
        text = textfile.decode(data)[0].removeprefix("\ufeff")
    except textfile.NotText as exc:
        raise ServiceError(
            _(
                "%(where)s: byte %(byte)s of the line (%(value)s) is not UTF-8 or Thai "
                "Windows text; save the file as CSV UTF-8",
                where=f"{source}:{exc.line}",
                byte=exc.column,
                value=exc.hex,
            )
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=textfile.separator(text))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise ServiceError(_not_csv(f"{source}:1", exc)) from None
    width = len(header)
    while header and not header[-1]:
        header.pop()
    problems: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    twice = False
    for number, name in enumerate(header, 1):
        if not name:
            problems.append(
                (
                    1,
                    _(
                        "%(file)s:1: column %(number)s has no name; expected %(expected)s",
                        file=source,
                        number=number,
                        expected=",".join(columns),
                    ),
                )
            )
        elif name in first:
            twice = True
            problems.append(
                (
                    1,
                    _(
                        "%(file)s:1: column %(column)s appears twice (columns %(first)s and "
                        "%(second)s)",
                        file=source,
                        column=name,
                        first=first[name],
                        second=number,
                    ),
                )
            )
        elif name not in columns:
            problems.append(
                (
                    1,
                    _(
                        "%(file)s:1: unknown column %(column)s (column %(number)s); "
                        "expected %(expected)s",
                        file=source,
                        column=repr(name),
                        number=number,
                        expected=",".join(columns),
                    ),
                )
            )
        first.setdefault(name, number)
    if twice:
        # Which of the two cells would a row mean? Its other problems would mislead.
        raise ServiceError([text for _line, text in problems])
    table = CsvRows(header, width)
    named = len(header)
    end = reader.line_num  # the line the header ends on
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if named < len(cells) <= width:
                # Cells under the empty ones that end the header: empty too, or refused.
                extra = [n for n, cell in enumerate(cells[named:], named + 1) if cell.strip()]
                if extra:
                    problems.append(
                        (
                            start,
                            _(
                                "%(where)s: column %(number)s has no name in the header, but "
                                "this row has text there",
                                where=f"{source}:{start}",
                                number=extra[0],
                            ),
                        )
                    )
                    continue
                cells = cells[:named]
            table.rows.append((start, cells))
    except csv.Error as exc:
        problems.append((end + 1, _not_csv(f"{source}:{end + 1}", exc)))
    return table, problems


def _not_csv(where: str, exc: csv.Error) -> str:
    problem = _("not valid CSV: %(why)s", why=str(exc))
    return f"{where}: {problem}"


def _tags(cell: str) -> list[str]:
    return [t.strip() for t in cell.split("|") if t.strip()]


def _cycle(agencies: Iterable[Agency]) -> list[str]:
    """The codes along a cycle of parents among ``agencies`` (``[]`` when there is none)."""
    listed = list(agencies)
    code_of = {agency.id: agency.code for agency in listed}
    return _code_cycle({a.code: code_of.get(a.parent_id or 0) for a in listed})


def _code_cycle(parents: dict[str, str | None]) -> list[str]:
    """The codes from an agency along its parents around a cycle, the first code met twice
    last (``A → B → C → B``); ``[]`` when no agency's parents form one."""
    for code in parents:
        path = [code]
        seen = {code}
        current: str | None = code
        while (current := parents.get(current or "")) is not None:
            path.append(current)
            if current in seen:
                return path
            seen.add(current)
    return []


def split_codes(text: str) -> list[str]:
    """Agency codes as people paste or type them: separated by commas, semicolons, spaces or
    lines; each once."""
    return list(dict.fromkeys(t for t in re.split(r"[,;\s]+", text) if t))


def find_codes(codes: Sequence[str]) -> tuple[list[Agency], list[str]]:
    """The agencies that typed codes name, in their order, and the codes that name none.
    A code is matched as it is, else in any case (``mof-rd`` is MOF-RD) when just one
    agency's code reads so."""
    wanted = list(dict.fromkeys(codes))
    exact = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.code.in_(wanted)))}
    missing = [c for c in wanted if c not in exact]
    folded: dict[str, list[Agency]] = {}
    if missing:
        lowered = {c.casefold() for c in missing}
        for agency in db.session.scalars(
            select(Agency).where(func.lower(Agency.code).in_(lowered))
        ):
            folded.setdefault(agency.code.casefold(), []).append(agency)
    found: list[Agency] = []
    unknown: list[str] = []
    for code in wanted:
        agency = exact.get(code)
        if agency is None and len(folded.get(code.casefold(), [])) == 1:
            agency = folded[code.casefold()][0]
        if agency is None:
            unknown.append(code)
        elif agency not in found:
            found.append(agency)
    return found, unknown


#: The most unknown codes a refusal names (a pasted list may hold thousands).
CODES_NAMED = 10


def unknown_codes_problem(codes: Sequence[str]) -> str:
    """One refusal naming codes that are no agency's: the first :data:`CODES_NAMED` (each
    cut at 40 characters, the longest a code is), then how many more."""
    named = ", ".join(c if len(c) <= 40 else c[:40] + "…" for c in codes[:CODES_NAMED])
    more = len(codes) - CODES_NAMED
    if more > 0:
        return ngettext(
            "No such agency: %(codes)s and %(num)d more code.",
            "No such agency: %(codes)s and %(num)d more codes.",
            more,
            codes=named,
        )
    return _("No such agency: %(codes)s.", codes=named)


def find_agency(code: str) -> Agency | None:
    """The agency with this code, if any."""
    if "\x00" in code:  # no code has one, and PostgreSQL refuses it in a query
        return None
    return db.session.scalar(select(Agency).filter_by(code=code))


def update_agency(agency: Agency, **fields: object) -> None:
    """Edit an agency's names, type, parent, province and tags (validated; a province is
    stored in its one spelling, :func:`assess.provinces.canonical`)."""
    kind = fields.get("type")
    if kind is not None and kind not in AGENCY_TYPES:
        raise ServiceError(
            _(
                "type %(type)s is not one of %(types)s",
                type=repr(kind),
                types=type_choices(),
            )
        )
    parent_id = fields.get("parent_id")
    if parent_id is not None and parent_id == agency.id:
        raise ServiceError(_("an agency cannot be its own parent"))
    if isinstance(fields.get("province"), str):
        fields["province"] = provinces.canonical(str(fields["province"]))
    problems = [
        problem
        for name in FREE_TEXT
        if isinstance(value := fields.get(name), str)
        and (problem := text_problem(name, value, column_length(Agency, name)))
    ]
    if problems:
        raise ServiceError(problems)
    for name, value in fields.items():
        setattr(agency, name, value)
    if not agency.name_th and not agency.name_en:
        raise ServiceError(_("give the agency a Thai or an English name"))
    db.session.flush()
    if _cycle(db.session.scalars(select(Agency))):
        raise ServiceError(_("that parent would make a cycle of parents"))
