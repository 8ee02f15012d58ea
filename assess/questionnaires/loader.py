"""Load and validate questionnaire files (``assess/questionnaire@1``).

:func:`load` either returns a valid :class:`~assess.questionnaires.model.Questionnaire` or
raises :class:`QuestionnaireError` carrying **every** problem found, each with the line of
the offending key or item. The checks are those of ``questionnaire-format.md`` plus a few
that catch a methodologist's likely slips (a gate on an unscored question can never cap, a
``max_points`` above what all options give makes a full score impossible, …); the project's
``docs/questionnaire-authoring.md`` lists them.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from assess.questionnaires import conditions
from assess.questionnaires.model import (
    SCHEMA,
    Band,
    BandScoring,
    Dimension,
    Evidence,
    Level,
    LinearScoring,
    LocalizedText,
    NaPolicy,
    NumberScoring,
    Option,
    OptionValue,
    OverallLevelMode,
    Question,
    Questionnaire,
    QuestionType,
)
from assess.questionnaires.source import Node, SourceError, parse

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
DIMENSION_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
QUESTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
#: Dimension codes that would collide with the name of the overall measure in reports.
RESERVED_DIMENSIONS = frozenset({"overall"})
DEFAULT_TEXT_MAX_LENGTH = 5000

TOP_KEYS = {
    "schema", "code", "version", "supersedes", "title", "description", "levels",
    "overall_level", "na_policy", "dimensions",
}  # fmt: skip
LEVEL_KEYS = {"code", "min", "name", "description"}
DIMENSION_KEYS = {"code", "title", "weight", "maps_from", "questions", "description"}
COMMON_QUESTION_KEYS = {
    "code", "type", "text", "help", "weight", "required", "allow_na", "evidence",
    "show_if", "gate", "tags",
}  # fmt: skip
TYPE_KEYS: dict[QuestionType, set[str]] = {
    QuestionType.LEVEL: {"options"},
    QuestionType.CHOICE: {"options"},
    QuestionType.MULTI: {"options", "max_points"},
    QuestionType.YESNO: set(),
    QuestionType.NUMBER: {"min", "max", "unit", "integer", "scoring"},
    QuestionType.TEXT: {"max_length"},
}
ALL_TYPE_KEYS = set().union(*TYPE_KEYS.values())


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One problem of a file, printed as ``FILE:LINE: message``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class QuestionnaireError(Exception):
    """A questionnaire file was refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load(path: str | Path) -> Questionnaire:
    """Load and validate a questionnaire file (YAML or JSON)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError([Problem(str(path), 0, f"cannot read: {exc.strerror}")]) from None
    return loads(data, source=str(path))


def loads(data: str | bytes, source: str = "<string>") -> Questionnaire:
    """Load and validate questionnaire text; ``source`` names it in messages."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QuestionnaireError(
            [Problem(source, line, "the file is not UTF-8 text (save it as UTF-8)")]
        ) from None
    try:
        tree, source_problems = parse(text)
    except SourceError as exc:
        raise QuestionnaireError([Problem(source, exc.line, exc.message)]) from None
    builder = _Builder(source)
    for line, message in source_problems:
        builder.error(line, message)
    questionnaire = builder.build(tree, hashlib.sha256(raw).hexdigest())
    if builder.problems or questionnaire is None:
        raise QuestionnaireError(builder.problems)
    return questionnaire


def validate(path: str | Path) -> list[Problem]:
    """Every problem of a file; an empty list means the file is valid."""
    try:
        load(path)
    except QuestionnaireError as exc:
        return exc.problems
    return []


@dataclass
class _Builder:
    """Walks the tree of one file, collecting problems and building frozen values."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    level_codes: list[str] = field(default_factory=list)
    #: Every question code of the file in file order (first occurrence), for show_if checks.
    order: dict[str, int] = field(default_factory=dict)
    #: The file-order position of each question node (by ``id``), even one whose code is bad.
    positions: dict[int, int] = field(default_factory=dict)
    #: Questions built so far, in file order; ``None`` for one that had problems.
    earlier: dict[str, Question | None] = field(default_factory=dict)
    #: The line where each question code first appears, for duplicate messages.
    first_lines: dict[str, int] = field(default_factory=dict)

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, line, message))

    # -- generic checks -------------------------------------------------------------------

    def keys(self, node: Node, allowed: Iterable[str], required: Iterable[str], where: str) -> bool:
        """Report unknown and missing keys; False when ``node`` is not a mapping."""
        if not node.is_map:
            self.error(node.line, f"{where} must be a mapping of keys to values")
            return False
        allowed = set(allowed)
        for key in node.value:
            if key not in allowed:
                self.error(
                    node.key_lines[key], f"{where}: unknown key {key!r}{_suggest(key, allowed)}"
                )
        for key in required:
            if key not in node.value:
                self.error(node.line, f"{where}: missing required key {key!r}")
        return True

    def text(self, node: Node | None, where: str) -> LocalizedText | None:
        """A localized text: a plain string or a mapping with ``th`` and/or ``en``."""
        if node is None:
            return None
        if isinstance(node.value, str):
            if not node.value.strip():
                self.error(node.line, f"{where} is empty")
                return None
            return LocalizedText(th=node.value, en=node.value)
        if node.is_map:
            unknown = [k for k in node.value if k not in ("th", "en")]
            for key in unknown:
                self.error(
                    node.key_lines[key],
                    f"{where}: unknown language {key!r} (localized text takes th and en)",
                )
            values: dict[str, str] = {}
            for lang in ("th", "en"):
                item = node.value.get(lang)
                if item is None:
                    continue
                if not isinstance(item.value, str) or not item.value.strip():
                    self.error(item.line, f"{where}: {lang} must be non-empty text")
                else:
                    values[lang] = item.value
            if not values and not unknown:
                self.error(node.line, f"{where} needs th or en")
            if not values:
                return None
            return LocalizedText(th=values.get("th"), en=values.get("en"))
        self.error(node.line, f"{where} must be text or a mapping with th and en")
        return None

    def number(
        self,
        node: Node,
        where: str,
        *,
        minimum: Decimal | None = None,
        greater_than: Decimal | None = None,
    ) -> Decimal | None:
        """A finite number (never a boolean or a quoted string), optionally bounded."""
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.error(node.line, f"{where} must be a number, not {_show(node)}")
            return None
        number = Decimal(value)
        if not number.is_finite():
            self.error(node.line, f"{where} must be a finite number")
            return None
        if minimum is not None and number < minimum:
            self.error(node.line, f"{where} must be at least {minimum}, not {_fmt(number)}")
            return None
        if greater_than is not None and number <= greater_than:
            self.error(
                node.line, f"{where} must be greater than {greater_than}, not {_fmt(number)}"
            )
            return None
        return number

    def flag(self, node: Node | None, where: str, default: bool) -> bool:
        """A boolean flag; ``yes``/``no`` are accepted beside ``true``/``false``."""
        if node is None:
            return default
        value = node.value
        if isinstance(value, bool):
            return value
        if value in ("yes", "no"):
            return bool(value == "yes")
        self.error(node.line, f"{where} must be true or false, not {_show(node)}")
        return default

    def word(self, node: Node, where: str) -> str | None:
        """A code-like string; an unquoted integer is taken as its text (``code: 3``)."""
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.text if node.text is not None else str(node.value)
        self.error(node.line, f"{where} must be text, not {_show(node)}")
        return None

    def choice(self, node: Node | None, where: str, allowed: Iterable[str], default: str) -> str:
        if node is None:
            return default
        allowed = list(allowed)
        if node.value not in allowed:
            self.error(
                node.line,
                f"{where} must be one of {', '.join(allowed)}, not {_show(node)}"
                f"{_suggest(str(node.value), allowed)}",
            )
            return default
        return str(node.value)

    # -- the file ---------------------------------------------------------------------------

    def build(self, tree: Node, content_hash: str) -> Questionnaire | None:
        if not self.keys(tree, TOP_KEYS, ("schema",), "the file"):
            return None
        top: dict[str, Node] = tree.value
        schema = top.get("schema")
        if schema is None:
            return None  # "missing required key" already said; nothing else is meaningful
        if schema.value != SCHEMA:
            self.error(
                schema.line,
                f"schema must be {SCHEMA!r}, not {_show(schema)}: this file is not in a "
                "format this version of assess reads",
            )
            return None
        for key in ("code", "version", "title", "levels", "dimensions"):
            if key not in top:
                self.error(tree.line, f"missing required key {key!r}")

        code = None
        if "code" in top:
            code = self.word(top["code"], "code")
            if code is not None and not CODE_RE.match(code):
                self.error(
                    top["code"].line,
                    f"code {code!r} must be 2–64 lower-case letters, digits, '-' or '_', "
                    "starting with a letter",
                )
        version = self.version(top.get("version"), "version")
        supersedes = self.version(top.get("supersedes"), "supersedes")
        if version is not None and supersedes == version:
            self.error(
                top["supersedes"].line, f"supersedes names this version itself ({version!r})"
            )
        title = self.text(top.get("title"), "title")
        description = self.text(top.get("description"), "description")
        levels = self.levels(top["levels"]) if "levels" in top else ()
        overall = self.choice(
            top.get("overall_level"), "overall_level", [m.value for m in OverallLevelMode], "score"
        )
        na_policy = self.choice(
            top.get("na_policy"), "na_policy", [p.value for p in NaPolicy], "exclude"
        )
        dimensions = self.dimensions(top["dimensions"]) if "dimensions" in top else ()

        if self.problems or code is None or version is None or title is None:
            return None
        return Questionnaire(
            code=code,
            version=version,
            supersedes=supersedes,
            title=title,
            description=description,
            levels=levels,
            dimensions=dimensions,
            overall_level=OverallLevelMode(overall),
            na_policy=NaPolicy(na_policy),
            content_hash=content_hash,
            source=self.source,
        )

    def version(self, node: Node | None, where: str) -> str | None:
        if node is None:
            return None
        if isinstance(node.value, bool) or node.value is None or not node.is_scalar:
            self.error(node.line, f'{where} must be text such as "2569", not {_show(node)}')
            return None
        # An unquoted 2569 or 2569.10 is taken exactly as written.
        text = node.value if isinstance(node.value, str) else node.text
        if not text or not text.strip() or text != text.strip():
            self.error(node.line, f"{where} must be non-empty text without surrounding spaces")
            return None
        return text

    # -- levels -----------------------------------------------------------------------------

    def levels(self, node: Node) -> tuple[Level, ...]:
        if not node.is_seq:
            self.error(node.line, "levels must be a list, lowest level first")
            return ()
        if len(node.value) < 2:
            self.error(node.line, "levels: at least two levels are needed")
        levels: list[Level] = []
        seen: dict[str, int] = {}
        previous_min: Decimal | None = None
        for index, item in enumerate(node.value):
            where = f"level {index + 1}"
            if not self.keys(item, LEVEL_KEYS, ("code", "min", "name"), where):
                continue
            entry: dict[str, Node] = item.value
            code = self.word(entry["code"], f"{where}: code") if "code" in entry else None
            if code is not None:
                where = f"level {code!r}"
                if not code.strip():
                    self.error(entry["code"].line, "level code is empty")
                    code = None
                elif code in seen:
                    self.error(
                        entry["code"].line,
                        f"duplicate level code {code!r} (first at line {seen[code]})",
                    )
                else:
                    seen[code] = entry["code"].line
                    self.level_codes.append(code)
            minimum = None
            if "min" in entry:
                minimum = self.number(entry["min"], f"{where}: min", minimum=Decimal(0))
                if minimum is not None:
                    if minimum > 100:
                        self.error(entry["min"].line, f"{where}: min must be at most 100")
                    if index == 0 and minimum != 0:
                        self.error(entry["min"].line, f"{where}: the first level's min must be 0")
                    if previous_min is not None and minimum <= previous_min:
                        self.error(
                            entry["min"].line,
                            f"{where}: min {_fmt(minimum)} must be greater than the previous "
                            f"level's {_fmt(previous_min)} (levels are listed lowest first)",
                        )
                    previous_min = minimum
            name = self.text(entry.get("name"), f"{where}: name")
            level_description = self.text(entry.get("description"), f"{where}: description")
            if code is not None and minimum is not None and name is not None:
                levels.append(Level(code, minimum, name, level_description))
        return tuple(levels)

    # -- dimensions ---------------------------------------------------------------------------

    def dimensions(self, node: Node) -> tuple[Dimension, ...]:
        if not node.is_seq or not node.value:
            self.error(node.line, "dimensions must be a list of at least one dimension")
            return ()
        self.collect_order(node)
        dimensions: list[Dimension] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(node.value):
            dimension = self.dimension(item, index, seen)
            if dimension is not None:
                dimensions.append(dimension)
        return tuple(dimensions)

    def collect_order(self, node: Node) -> None:
        """Note every question code's position first, so show_if can tell 'later' apart."""
        for dim in node.value:
            questions = dim.value.get("questions") if dim.is_map else None
            if questions is None or not questions.is_seq:
                continue
            for question in questions.value:
                position = len(self.positions)
                self.positions[id(question)] = position
                code = question.value.get("code") if question.is_map else None
                if code is not None and isinstance(code.value, str):
                    self.order.setdefault(code.value, position)

    def dimension(self, node: Node, index: int, seen: dict[str, int]) -> Dimension | None:
        where = f"dimension {index + 1}"
        if not self.keys(node, DIMENSION_KEYS, ("code", "title", "questions"), where):
            return None
        entry: dict[str, Node] = node.value
        code = None
        if "code" in entry:
            code = self.word(entry["code"], f"{where}: code")
            if code is not None:
                line = entry["code"].line
                if not DIMENSION_RE.match(code):
                    self.error(
                        line,
                        f"dimension code {code!r} must be 1–32 lower-case letters, digits or "
                        "'_', starting with a letter",
                    )
                    code = None
                elif code in RESERVED_DIMENSIONS:
                    self.error(line, f"dimension code {code!r} is reserved for the overall score")
                    code = None
                elif code in seen:
                    self.error(
                        line, f"duplicate dimension code {code!r} (first at line {seen[code]})"
                    )
                    code = None
                else:
                    seen[code] = line
                    where = f"dimension {code!r}"
        title = self.text(entry.get("title"), f"{where}: title")
        description = self.text(entry.get("description"), f"{where}: description")
        weight = Decimal(1)
        if "weight" in entry:
            weight = (
                self.number(entry["weight"], f"{where}: weight", greater_than=Decimal(0)) or weight
            )
        maps_from = self.maps_from(entry.get("maps_from"), where)
        questions: list[Question] = []
        if "questions" in entry:
            qnode = entry["questions"]
            if not qnode.is_seq or not qnode.value:
                self.error(
                    qnode.line, f"{where}: questions must be a list of at least one question"
                )
            else:
                for qitem in qnode.value:
                    question = self.question(qitem, code or "?")
                    if question is not None:
                        questions.append(question)
        if code is None or title is None:
            return None
        return Dimension(
            code=code,
            title=title,
            questions=tuple(questions),
            weight=weight,
            maps_from=maps_from,
            description=description,
            line=node.line,
        )

    def maps_from(self, node: Node | None, where: str) -> tuple[str, ...] | None:
        if node is None:
            return None
        if not node.is_seq:
            self.error(node.line, f"{where}: maps_from must be a list of dimension codes")
            return None
        codes: list[str] = []
        for item in node.value:
            code = self.word(item, f"{where}: maps_from")
            if code is None:
                continue
            if not DIMENSION_RE.match(code):
                self.error(item.line, f"{where}: maps_from: {code!r} is not a dimension code")
            elif code in codes:
                self.error(item.line, f"{where}: maps_from lists {code!r} twice")
            else:
                codes.append(code)
        return tuple(codes)

    # -- questions ----------------------------------------------------------------------------

    def question(self, node: Node, dimension: str) -> Question | None:
        if not node.is_map:
            self.error(node.line, f"dimension {dimension!r}: a question must be a mapping")
            return None
        entry: dict[str, Node] = node.value
        code = None
        where = f"question at line {node.line}"
        if "code" in entry:
            code = self.word(entry["code"], "question code")
            if code is not None:
                where = f"question {code!r}"
                if not QUESTION_RE.match(code):
                    self.error(
                        entry["code"].line,
                        f"question code {code!r} must be 1–64 lower-case letters, digits, '_' "
                        "or '.', starting with a letter",
                    )
                    code = None
                elif code in conditions.KEYWORDS:
                    self.error(
                        entry["code"].line,
                        f"question code {code!r} is a word of the show_if language, so no "
                        "condition could refer to it; choose another code",
                    )
                    code = None
                elif code in self.earlier:
                    first = self.first_lines.get(code, 0)
                    self.error(
                        entry["code"].line,
                        f"duplicate question code {code!r} (first at line {first})",
                    )
                    code = None
        else:
            self.error(node.line, "question: missing required key 'code'")

        qtype: QuestionType | None = None
        if "type" in entry:
            raw_type = entry["type"].value
            try:
                qtype = QuestionType(raw_type)
            except ValueError:
                self.error(
                    entry["type"].line,
                    f"{where}: type must be one of {', '.join(t.value for t in QuestionType)}, "
                    f"not {_show(entry['type'])}{_suggest(str(raw_type), [t.value for t in QuestionType])}",
                )
        else:
            self.error(node.line, f"{where}: missing required key 'type'")

        allowed = COMMON_QUESTION_KEYS | (TYPE_KEYS[qtype] if qtype else ALL_TYPE_KEYS)
        for key in entry:
            if key in allowed:
                continue
            line = node.key_lines[key]
            if key in ALL_TYPE_KEYS and qtype is not None:
                self.error(line, f"{where}: {key!r} does not apply to a {qtype} question")
            else:
                self.error(line, f"{where}: unknown key {key!r}{_suggest(key, allowed)}")
        before = len(self.problems)
        text = self.text(entry.get("text"), f"{where}: text")
        if "text" not in entry:
            self.error(node.line, f"{where}: missing required key 'text'")
        help_text = self.text(entry.get("help"), f"{where}: help")
        weight = Decimal(1)
        if "weight" in entry:
            weight = self.number(
                entry["weight"], f"{where}: weight", minimum=Decimal(0)
            ) or Decimal(0)
        required = self.flag(
            entry.get("required"), f"{where}: required", qtype is not QuestionType.TEXT
        )
        allow_na = self.flag(entry.get("allow_na"), f"{where}: allow_na", False)
        evidence = Evidence(
            self.choice(
                entry.get("evidence"), f"{where}: evidence", [e.value for e in Evidence], "none"
            )
        )
        tags = self.tags(entry.get("tags"), where)
        gate = self.gate(entry.get("gate"), where)

        fields: dict[str, object] = {}
        if qtype in (QuestionType.LEVEL, QuestionType.CHOICE, QuestionType.MULTI):
            fields.update(self.options(entry, qtype, weight, where, node.line))
        elif qtype is QuestionType.NUMBER:
            fields.update(self.number_fields(entry, where))
        elif qtype is QuestionType.TEXT:
            fields["max_length"] = DEFAULT_TEXT_MAX_LENGTH
            if "max_length" in entry:
                length = self.number(
                    entry["max_length"], f"{where}: max_length", greater_than=Decimal(0)
                )
                if length is not None and length != length.to_integral_value():
                    self.error(
                        entry["max_length"].line, f"{where}: max_length must be a whole number"
                    )
                elif length is not None:
                    fields["max_length"] = int(length)

        question: Question | None = None
        if (
            code is not None
            and qtype is not None
            and text is not None
            and len(self.problems) == before
        ):
            question = Question(
                code=code,
                type=qtype,
                text=text,
                dimension=dimension,
                line=node.line,
                help=help_text,
                weight=weight,
                required=required,
                allow_na=allow_na,
                evidence=evidence,
                gate=gate,
                tags=tags,
                **fields,  # type: ignore[arg-type]
            )
            if gate is not None and not question.is_scored:
                self.error(
                    entry["gate"].line,
                    f"{where}: a gate on an unscored question (weight 0, text, or number "
                    "without scoring) can never cap the level",
                )
                question = None
        position = self.positions.get(id(node), len(self.positions))
        show_if = self.show_if(entry.get("show_if"), code, position, where)
        if question is not None and "show_if" in entry:
            if show_if is None:
                question = None
            else:
                source = entry["show_if"].value
                question = _replace(question, show_if=show_if, show_if_source=source)
        if code is not None:
            self.earlier[code] = question
            self.first_lines.setdefault(code, entry["code"].line)
        return question

    def tags(self, node: Node | None, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        if not node.is_seq:
            self.error(node.line, f"{where}: tags must be a list of text")
            return ()
        tags: list[str] = []
        for item in node.value:
            tag = item.value
            if not isinstance(tag, str) or not tag.strip():
                self.error(item.line, f"{where}: a tag must be non-empty text, not {_show(item)}")
            elif tag in tags:
                self.error(item.line, f"{where}: tag {tag!r} is listed twice")
            else:
                tags.append(tag)
        return tuple(tags)

    def gate(self, node: Node | None, where: str) -> str | None:
        if node is None:
            return None
        code = self.word(node, f"{where}: gate")
        if code is None:
            return None
        if not self.level_codes:
            return code  # the levels themselves are broken; that is reported already
        if code not in self.level_codes:
            self.error(
                node.line,
                f"{where}: gate {code!r} is not a level (levels: {', '.join(self.level_codes)})",
            )
            return None
        if code == self.level_codes[0]:
            self.error(
                node.line,
                f"{where}: gate {code!r} is the lowest level, which every dimension reaches",
            )
            return None
        return code

    def show_if(
        self, node: Node | None, code: str | None, position: int, where: str
    ) -> conditions.Condition | None:
        if node is None:
            return None
        if not isinstance(node.value, str):
            self.error(node.line, f"{where}: show_if must be a condition written as text")
            return None
        try:
            raw = conditions.parse(node.value)
        except conditions.ConditionError as exc:
            self.error(node.line, f"{where}: show_if: {exc}")
            return None
        for ref in conditions.references(raw):
            if ref == code:
                self.error(node.line, f"{where}: show_if refers to the question itself")
                return None
            if ref not in self.order:
                self.error(node.line, f"{where}: show_if refers to unknown question {ref!r}")
                return None
            if self.order[ref] > position:
                self.error(
                    node.line,
                    f"{where}: show_if refers to {ref!r}, which comes after this question "
                    "(a condition may only use earlier questions)",
                )
                return None
            if self.earlier.get(ref) is None:
                return None  # that question has problems of its own, reported there
        earlier = {c: q for c, q in self.earlier.items() if q is not None}
        try:
            return conditions.bind(raw, earlier)
        except conditions.ConditionError as exc:
            self.error(node.line, f"{where}: show_if: {exc}")
            return None

    def options(
        self, entry: Mapping[str, Node], qtype: QuestionType, weight: Decimal, where: str, line: int
    ) -> dict[str, object]:
        node = entry.get("options")
        if node is None:
            self.error(line, f"{where}: a {qtype} question needs options")
            return {}
        minimum = 1 if qtype is QuestionType.MULTI else 2
        if not node.is_seq or len(node.value) < minimum:
            self.error(node.line, f"{where}: options must be a list of at least {minimum}")
            return {}
        allowed = {"value", "label", "points", "description"}
        if qtype is QuestionType.MULTI:
            allowed.add("exclusive")
        options: list[Option] = []
        seen: dict[str, int] = {}
        ok = True
        for index, item in enumerate(node.value):
            owhere = f"{where}: option {index + 1}"
            if not self.keys(item, allowed, ("value", "label", "points"), owhere):
                ok = False
                continue
            opt: dict[str, Node] = item.value
            value = self.option_value(opt.get("value"), owhere)
            if value is not None:
                owhere = f"{where}: option {_quote(value)}"
                if str(value) in seen:
                    self.error(
                        opt["value"].line,
                        f"{where}: duplicate option value {_quote(value)} (first at line "
                        f"{seen[str(value)]})",
                    )
                    value = None
                else:
                    seen[str(value)] = opt["value"].line
            label = self.text(opt.get("label"), f"{owhere}: label")
            points = (
                self.number(opt["points"], f"{owhere}: points", minimum=Decimal(0))
                if "points" in opt
                else None
            )
            description = self.text(opt.get("description"), f"{owhere}: description")
            exclusive = self.flag(opt.get("exclusive"), f"{owhere}: exclusive", False)
            if value is None or label is None or points is None:
                ok = False
                continue
            options.append(Option(value, label, points, description, exclusive))
        if not ok:
            return {}
        fields: dict[str, object] = {"options": tuple(options)}
        if qtype is QuestionType.LEVEL:
            for index in range(1, len(options)):
                lower, higher = options[index - 1], options[index]
                if higher.points <= lower.points:
                    self.error(
                        node.value[index].value["points"].line,
                        f"{where}: a level rubric lists options lowest first with strictly "
                        f"increasing points; {_quote(higher.value)} has {_fmt(higher.points)} "
                        f"after {_fmt(lower.points)}",
                    )
        if qtype is QuestionType.MULTI:
            total = sum((o.points for o in options), Decimal(0))
            if "max_points" in entry:
                cap = self.number(entry["max_points"], f"{where}: max_points", minimum=Decimal(0))
                if cap is not None:
                    if cap == 0 and weight > 0:
                        self.error(
                            entry["max_points"].line, f"{where}: max_points must be greater than 0"
                        )
                    elif cap > total:
                        self.error(
                            entry["max_points"].line,
                            f"{where}: max_points {_fmt(cap)} is more than all options give "
                            f"together ({_fmt(total)}): no answer could score fully",
                        )
                    fields["max_points"] = cap
            elif total == 0 and weight > 0:
                self.error(
                    node.line, f"{where}: the options' points add up to 0; give points or weight: 0"
                )
            if all(o.exclusive for o in options):
                self.error(node.line, f"{where}: every option is exclusive; use a choice question")
        elif weight > 0 and max(o.points for o in options) <= 0:
            self.error(
                node.line,
                f"{where}: the largest option points must be greater than 0 (or weight: 0)",
            )
        return fields

    def option_value(self, node: Node | None, where: str) -> OptionValue | None:
        if node is None:
            return None
        value = node.value
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(
                node.line, f"{where}: value must be text or a whole number, not {_show(node)}"
            )
            return None
        if isinstance(value, str):
            if not value.strip():
                self.error(node.line, f"{where}: value is empty")
                return None
            if value.startswith("#"):
                self.error(
                    node.line,
                    f"{where}: value {value!r} must not start with '#' (reserved for #NA)",
                )
                return None
            if "|" in value:
                self.error(
                    node.line,
                    f"{where}: value {value!r} must not contain '|' (the CSV separator of multi answers)",
                )
                return None
            if value != value.strip():
                self.error(node.line, f"{where}: value {value!r} has spaces around it")
                return None
        return value

    def number_fields(self, entry: Mapping[str, Node], where: str) -> dict[str, object]:
        fields: dict[str, object] = {}
        low = self.number(entry["min"], f"{where}: min") if "min" in entry else None
        high = self.number(entry["max"], f"{where}: max") if "max" in entry else None
        if low is not None and high is not None and low >= high:
            self.error(
                entry["max"].line, f"{where}: max {_fmt(high)} must be greater than min {_fmt(low)}"
            )
        fields["min"], fields["max"] = low, high
        fields["unit"] = self.text(entry.get("unit"), f"{where}: unit")
        fields["integer"] = self.flag(entry.get("integer"), f"{where}: integer", False)
        if "scoring" in entry:
            fields["scoring"] = self.scoring(entry["scoring"], low, where)
        return fields

    def scoring(self, node: Node, low: Decimal | None, where: str) -> NumberScoring | None:
        if not self.keys(node, ("bands", "linear"), (), f"{where}: scoring"):
            return None
        kinds = [k for k in ("bands", "linear") if k in node.value]
        if len(kinds) != 1:
            self.error(node.line, f"{where}: scoring takes exactly one of bands or linear")
            return None
        if kinds == ["linear"]:
            linear = node.value["linear"]
            if not self.keys(linear, ("from", "to"), ("from", "to"), f"{where}: linear"):
                return None
            start = (
                self.number(linear.value["from"], f"{where}: linear from")
                if "from" in linear.value
                else None
            )
            end = (
                self.number(linear.value["to"], f"{where}: linear to")
                if "to" in linear.value
                else None
            )
            if start is None or end is None:
                return None
            if start == end:
                self.error(linear.line, f"{where}: linear from and to must differ")
                return None
            return LinearScoring(start, end)
        bands_node = node.value["bands"]
        if not bands_node.is_seq or not bands_node.value:
            self.error(
                bands_node.line, f"{where}: bands must be a list of at least one {{min, points}}"
            )
            return None
        bands: list[Band] = []
        ok = True
        for index, item in enumerate(bands_node.value):
            bwhere = f"{where}: band {index + 1}"
            if not self.keys(item, ("min", "points"), ("min", "points"), bwhere):
                ok = False
                continue
            bmin = self.number(item.value["min"], f"{bwhere}: min") if "min" in item.value else None
            points = (
                self.number(item.value["points"], f"{bwhere}: points", minimum=Decimal(0))
                if "points" in item.value
                else None
            )
            if bmin is None or points is None:
                ok = False
                continue
            if bands and bmin <= bands[-1].min:
                self.error(
                    item.value["min"].line,
                    f"{bwhere}: min {_fmt(bmin)} must be greater than the previous band's "
                    f"{_fmt(bands[-1].min)}",
                )
                ok = False
            if index == 0 and low is not None and bmin > low:
                self.error(
                    item.value["min"].line,
                    f"{bwhere}: the first band's min {_fmt(bmin)} is above the question's min "
                    f"{_fmt(low)}, so some allowed answers fall below every band",
                )
                ok = False
            bands.append(Band(bmin, points))
        if not ok or not bands:
            return None
        if max(b.points for b in bands) <= 0:
            self.error(bands_node.line, f"{where}: the largest band points must be greater than 0")
            return None
        return BandScoring(tuple(bands))


def _replace(question: Question, **changes: object) -> Question:
    from dataclasses import replace

    return replace(question, **changes)  # type: ignore[arg-type]


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_seq:
        return "a list"
    if node.value is None:
        return "nothing"
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    if isinstance(node.value, str):
        return repr(node.value)
    return node.text or str(node.value)


def _quote(value: OptionValue) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _fmt(number: Decimal) -> str:
    """A Decimal as the methodologist wrote it, without exponent noise."""
    return format(number.normalize(), "f") if number == number.to_integral_value() else str(number)
