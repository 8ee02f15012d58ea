"""Load and validate questionnaire files (``assess/questionnaire@1``).

:func:`load` either returns a valid :class:`~assess.questionnaires.model.Questionnaire` or
raises :class:`QuestionnaireError` carrying **every** problem found, each with the line of
the offending key or item. The checks are those of ``questionnaire-format.md`` plus a few
that catch a methodologist's likely slips (a gate on an unscored question can never cap, a
``max_points`` above what all options give makes a full score impossible, …); the project's
``docs/questionnaire-authoring.md`` lists them.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from assess.questionnaires import conditions
from assess.questionnaires.answers import NUMBER_DIGITS, digits_and_places
from assess.questionnaires.messages import N_, Message, same
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

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,63}\Z")
DIMENSION_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
QUESTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}\Z")
#: Dimension codes that would collide with the name of the overall measure in reports.
RESERVED_DIMENSIONS = frozenset({"overall"})
DEFAULT_TEXT_MAX_LENGTH = 5000

#: Every number of a file has at most ``answers.NUMBER_DIGITS`` (15) significant digits and
#: decimal places, as a number answer does. Weights and points (and ``max_points``) are at
#: most this; every other number (a number question's ``min``, ``max``, band ``min``, linear
#: ``from`` and ``to``, an integer option value) is smaller than 10^15 in size, as an answer
#: is, so that each can be compared with any answer exactly. Scoring then never meets a
#: number whose arithmetic could overflow or take unbounded time.
MAX_WEIGHT = Decimal(1_000_000)
MAX_NUMBER = Decimal(10**NUMBER_DIGITS - 1)
#: The largest ``max_length`` of a text question.
MAX_TEXT_LENGTH = Decimal(1_000_000)
#: The format sets no limit on these; the database stores a ``version`` (and so a
#: ``supersedes``) in 50 characters and each language of ``title`` in 300
#: (``assess.models.QuestionnaireVersion``): a longer one is refused here, where the file
#: can say where, rather than by the database on import.
MAX_VERSION_LENGTH = 50
MAX_TITLE_LENGTH = 300

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


#: Where a problem is in the file: a key (kept as written) or a translatable description
#: such as ``question 'q1'``.
Where = Message | str


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One problem of a file, printed as ``FILE:LINE: message``.

    ``message`` is the English text (what the command line prints); ``translatable`` keeps
    its template and parameters, for :meth:`render` in another language.
    """

    file: str
    line: int
    message: str
    #: The message as a translatable :class:`Message` (``message`` is its English text).
    translatable: Message | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, file: str, line: int, message: Message) -> Problem:
        """A problem whose message is translatable."""
        return cls(file, line, str(message), message)

    def render(self, gettext: Callable[[str], str] = same) -> str:
        """``FILE:LINE: message`` in the language of ``gettext`` (``FILE: message`` for a
        problem of the whole file, such as one that cannot be read: line 0)."""
        text = self.message if self.translatable is None else self.translatable.translate(gettext)
        return f"{self.where}: {text}"

    @property
    def where(self) -> str:
        """``FILE:LINE``, or ``FILE`` alone for a problem of the whole file (line 0)."""
        return f"{self.file}:{self.line}" if self.line > 0 else self.file

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class QuestionnaireError(Exception):
    """A questionnaire file was refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load(path: str | Path) -> Questionnaire:
    """Load and validate a questionnaire file (YAML or JSON).

    A file that cannot be read is one problem of the whole file (line 0, printed
    ``FILE: cannot read: reason``).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise QuestionnaireError(
            [Problem.of(str(path), 0, Message(N_("cannot read: %(why)s"), why=why))]
        ) from None
    return loads(data, source=str(path))


def loads(data: str | bytes, source: str = "<string>") -> Questionnaire:
    """Load and validate questionnaire text; ``source`` names it in messages."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QuestionnaireError(
            [Problem.of(source, line, Message(N_("the file is not UTF-8 text (save it as UTF-8)")))]
        ) from None
    try:
        tree, source_problems = parse(text)
    except SourceError as exc:
        raise QuestionnaireError([Problem.of(source, exc.line, exc.message)]) from None
    builder = _Builder(source)
    for line, message in source_problems:
        builder.error(line, message)
    questionnaire = builder.build(tree, content_hash(raw))
    if builder.problems or questionnaire is None:
        raise QuestionnaireError(builder.problems)
    return questionnaire


def content_hash(data: bytes) -> str:
    """The SHA-256 that identifies a file's content: of its text as UTF-8, that is of its
    bytes less a leading byte order mark (which the text does not keep), so that a file
    saved with one and the same text saved (or downloaded) without one are the same."""
    return hashlib.sha256(data.removeprefix(codecs.BOM_UTF8)).hexdigest()


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

    def error(self, line: int, template: str | Message, /, **params: object) -> None:
        """Report a problem: a template (marked with ``N_``) and its parameters, or a message."""
        message = template if isinstance(template, Message) else Message(template, **params)
        self.problems.append(Problem.of(self.source, line, message))

    # -- generic checks -------------------------------------------------------------------

    def keys(
        self, node: Node, allowed: Iterable[str], required: Iterable[str], where: Where
    ) -> bool:
        """Report unknown and missing keys; False when ``node`` is not a mapping."""
        if not node.is_map:
            self.error(node.line, N_("%(where)s must be a mapping of keys to values"), where=where)
            return False
        allowed = set(allowed)
        for key in node.value:
            if key not in allowed:
                self.error(node.key_lines[key], _unknown_key(where, key, allowed))
        for key in required:
            if key not in node.value:
                self.error(
                    node.line,
                    N_("%(where)s: missing required key %(key)s"),
                    where=where,
                    key=repr(key),
                )
        return True

    def text(self, node: Node | None, where: Where) -> LocalizedText | None:
        """A localized text: a plain string or a mapping with ``th`` and/or ``en``."""
        if node is None:
            return None
        if isinstance(node.value, str):
            if not node.value.strip():
                self.error(node.line, N_("%(where)s is empty"), where=where)
                return None
            return LocalizedText(th=node.value, en=node.value)
        if node.is_map:
            unknown = [k for k in node.value if k not in ("th", "en")]
            for key in unknown:
                self.error(
                    node.key_lines[key],
                    N_("%(where)s: unknown language %(key)s (localized text takes th and en)"),
                    where=where,
                    key=repr(key),
                )
            values: dict[str, str] = {}
            for lang in ("th", "en"):
                item = node.value.get(lang)
                if item is None:
                    continue
                if not isinstance(item.value, str) or not item.value.strip():
                    self.error(
                        item.line,
                        N_("%(where)s: %(lang)s must be non-empty text"),
                        where=where,
                        lang=lang,
                    )
                else:
                    values[lang] = item.value
            if not values and not unknown:
                self.error(node.line, N_("%(where)s needs th or en"), where=where)
            if not values:
                return None
            return LocalizedText(th=values.get("th"), en=values.get("en"))
        self.error(node.line, N_("%(where)s must be text or a mapping with th and en"), where=where)
        return None

    def number(
        self,
        node: Node,
        where: Where,
        *,
        minimum: Decimal | None = None,
        greater_than: Decimal | None = None,
        maximum: Decimal = MAX_NUMBER,
    ) -> Decimal | None:
        """A finite number (never a boolean or a quoted string) within bounds.

        Below ``minimum`` (or not above ``greater_than``) and above ``maximum`` (without a
        lower bound: outside ±``maximum``) is refused, as are more than
        :data:`NUMBER_DIGITS` significant digits or decimal places (trailing zeros aside, as
        for answers). The checks only compare and read digits, so ``1e999999999`` is refused
        without any arithmetic on it; a number written with trailing zeros past those
        decimals (``0.50000000000000000``) is kept without them.
        """
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.error(
                node.line,
                N_("%(where)s must be a number, not %(value)s"),
                where=where,
                value=_show(node),
            )
            return None
        number = Decimal(value)
        if not number.is_finite():
            self.error(node.line, N_("%(where)s must be a finite number"), where=where)
            return None
        if minimum is not None and number < minimum:
            self.error(
                node.line,
                N_("%(where)s must be at least %(min)s, not %(value)s"),
                where=where,
                min=f"{minimum}",
                value=_written(node),
            )
            return None
        if greater_than is not None and number <= greater_than:
            self.error(
                node.line,
                N_("%(where)s must be greater than %(min)s, not %(value)s"),
                where=where,
                min=f"{greater_than}",
                value=_written(node),
            )
            return None
        if number > maximum or (minimum is None and greater_than is None and number < -maximum):
            if greater_than is not None:
                self.error(
                    node.line,
                    N_("%(where)s must be greater than %(min)s and at most %(max)s, not %(value)s"),
                    where=where,
                    min=f"{greater_than}",
                    max=f"{maximum:,}",
                    value=_written(node),
                )
            else:
                self.error(
                    node.line,
                    N_("%(where)s must be between %(min)s and %(max)s, not %(value)s"),
                    where=where,
                    min=f"{minimum:,}" if minimum is not None else f"{-maximum:,}",
                    max=f"{maximum:,}",
                    value=_written(node),
                )
            return None
        if max(digits_and_places(number)) > NUMBER_DIGITS:
            self.error(
                node.line,
                N_(
                    "%(where)s must have at most %(digits)s significant digits and decimal "
                    "places, not %(value)s"
                ),
                where=where,
                digits=NUMBER_DIGITS,
                value=_written(node),
            )
            return None
        return _without_trailing_zeros(number, NUMBER_DIGITS)

    def amount(
        self, node: Node, where: Where, *, greater_than_zero: bool = False
    ) -> Decimal | None:
        """A weight or points: 0 (or more than 0) to :data:`MAX_WEIGHT`."""
        if greater_than_zero:
            return self.number(node, where, greater_than=Decimal(0), maximum=MAX_WEIGHT)
        return self.number(node, where, minimum=Decimal(0), maximum=MAX_WEIGHT)

    def flag(self, node: Node | None, where: Where, default: bool) -> bool:
        """A boolean flag; ``yes``/``no`` are accepted beside ``true``/``false``."""
        if node is None:
            return default
        value = node.value
        if isinstance(value, bool):
            return value
        if value in ("yes", "no"):
            return bool(value == "yes")
        self.error(
            node.line,
            N_("%(where)s must be true or false, not %(value)s"),
            where=where,
            value=_show(node),
        )
        return default

    def word(self, node: Node, where: Where) -> str | None:
        """A code-like string; an unquoted integer is taken as its text (``code: 3``)."""
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.text if node.text is not None else str(node.value)
        self.error(
            node.line, N_("%(where)s must be text, not %(value)s"), where=where, value=_show(node)
        )
        return None

    def choice(self, node: Node | None, where: Where, allowed: Iterable[str], default: str) -> str:
        if node is None:
            return default
        allowed = list(allowed)
        if node.value not in allowed:
            self.error(node.line, _not_one_of(where, allowed, node))
            return default
        return str(node.value)

    # -- the file ---------------------------------------------------------------------------

    def build(self, tree: Node, content_hash: str) -> Questionnaire | None:
        if not tree.is_map:  # its own sentence: the Thai of "the file" is not a clause's start
            self.error(tree.line, N_("the file must be a mapping of keys to values"))
            return None
        if not self.keys(tree, TOP_KEYS, ("schema",), Message(N_("the file"))):
            return None
        top: dict[str, Node] = tree.value
        schema = top.get("schema")
        if schema is None:
            return None  # "missing required key" already said; nothing else is meaningful
        if schema.value != SCHEMA:
            self.error(
                schema.line,
                N_(
                    "schema must be %(schema)s, not %(value)s: this file is not in a format this "
                    "version of assess reads"
                ),
                schema=repr(SCHEMA),
                value=_show(schema),
            )
            return None
        for key in ("code", "version", "title", "levels", "dimensions"):
            if key not in top:
                self.error(tree.line, N_("missing required key %(key)s"), key=repr(key))

        code = None
        if "code" in top:
            code = self.word(top["code"], "code")
            if code is not None and not CODE_RE.match(code):
                self.error(
                    top["code"].line,
                    N_(
                        "code %(code)s must be 2–64 lower-case letters, digits, '-' or '_', "
                        "starting with a letter"
                    ),
                    code=repr(code),
                )
        version = self.version(top.get("version"), "version")
        supersedes = self.version(top.get("supersedes"), "supersedes")
        if version is not None and supersedes == version:
            self.error(
                top["supersedes"].line,
                N_("supersedes names this version itself (%(version)s)"),
                version=repr(version),
            )
        title = self.text(top.get("title"), "title")
        if title is not None:
            self.title_length(top["title"], title)
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

    def version(self, node: Node | None, where: Where) -> str | None:
        if node is None:
            return None
        if isinstance(node.value, bool) or node.value is None or not node.is_scalar:
            self.error(
                node.line,
                N_('%(where)s must be text such as "2569", not %(value)s'),
                where=where,
                value=_show(node),
            )
            return None
        # An unquoted 2569 or 2569.10 is taken exactly as written.
        text = node.value if isinstance(node.value, str) else node.text
        if not text or not text.strip() or text != text.strip():
            self.error(
                node.line,
                N_("%(where)s must be non-empty text without surrounding spaces"),
                where=where,
            )
            return None
        if len(text) > MAX_VERSION_LENGTH:
            self.error(
                node.line,
                N_("%(where)s is %(length)s characters long; the database stores at most %(max)s"),
                where=where,
                length=len(text),
                max=MAX_VERSION_LENGTH,
            )
            return None
        return text

    def title_length(self, node: Node, title: LocalizedText) -> None:
        """Each language of the title fits the database (:data:`MAX_TITLE_LENGTH`)."""
        for lang in ("th", "en"):
            text = getattr(title, lang)
            if text is None or len(text) <= MAX_TITLE_LENGTH:
                continue
            item = node.value.get(lang) if node.is_map else None
            self.error(
                item.line if item is not None else node.line,
                N_("%(where)s is %(length)s characters long; the database stores at most %(max)s"),
                where=_at("title", lang) if node.is_map else "title",
                length=len(text),
                max=MAX_TITLE_LENGTH,
            )
            if not node.is_map:
                return  # one text for both languages: one problem

    # -- levels -----------------------------------------------------------------------------

    def levels(self, node: Node) -> tuple[Level, ...]:
        if not node.is_seq:
            self.error(node.line, N_("levels must be a list, lowest level first"))
            return ()
        if len(node.value) < 2:
            self.error(node.line, N_("levels: at least two levels are needed"))
        levels: list[Level] = []
        seen: dict[str, int] = {}
        previous_min: Decimal | None = None
        for index, item in enumerate(node.value):
            where: Where = Message(N_("level %(number)s"), number=index + 1)
            if not self.keys(item, LEVEL_KEYS, ("code", "min", "name"), where):
                continue
            entry: dict[str, Node] = item.value
            code = self.word(entry["code"], _at(where, "code")) if "code" in entry else None
            if code is not None:
                where = Message(N_("level %(code)s"), code=repr(code))
                if not code.strip():
                    self.error(entry["code"].line, N_("level code is empty"))
                    code = None
                elif code in seen:
                    self.error(
                        entry["code"].line,
                        N_("duplicate level code %(code)s (first at line %(line)s)"),
                        code=repr(code),
                        line=seen[code],
                    )
                else:
                    seen[code] = entry["code"].line
                    self.level_codes.append(code)
            minimum = None
            if "min" in entry:
                minimum = self.number(
                    entry["min"], _at(where, "min"), minimum=Decimal(0), maximum=Decimal(100)
                )
                if minimum is not None:
                    if index == 0 and minimum != 0:
                        self.error(
                            entry["min"].line,
                            N_("%(where)s: the first level's min must be 0"),
                            where=where,
                        )
                    if previous_min is not None and minimum <= previous_min:
                        self.error(
                            entry["min"].line,
                            N_(
                                "%(where)s: min %(min)s must be greater than the previous level's "
                                "%(previous)s (levels are listed lowest first)"
                            ),
                            where=where,
                            min=_fmt(minimum),
                            previous=_fmt(previous_min),
                        )
                    previous_min = minimum
            name = self.text(entry.get("name"), _at(where, "name"))
            level_description = self.text(entry.get("description"), _at(where, "description"))
            if code is not None and minimum is not None and name is not None:
                levels.append(Level(code, minimum, name, level_description))
        return tuple(levels)

    # -- dimensions ---------------------------------------------------------------------------

    def dimensions(self, node: Node) -> tuple[Dimension, ...]:
        if not node.is_seq or not node.value:
            self.error(node.line, N_("dimensions must be a list of at least one dimension"))
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
        where: Where = Message(N_("dimension %(number)s"), number=index + 1)
        if not self.keys(node, DIMENSION_KEYS, ("code", "title", "questions"), where):
            return None
        entry: dict[str, Node] = node.value
        code = None
        if "code" in entry:
            code = self.word(entry["code"], _at(where, "code"))
            if code is not None:
                line = entry["code"].line
                if not DIMENSION_RE.match(code):
                    self.error(
                        line,
                        N_(
                            "dimension code %(code)s must be 1–32 lower-case letters, digits or "
                            "'_', starting with a letter"
                        ),
                        code=repr(code),
                    )
                    code = None
                elif code in RESERVED_DIMENSIONS:
                    self.error(
                        line,
                        N_("dimension code %(code)s is reserved for the overall score"),
                        code=repr(code),
                    )
                    code = None
                elif code in seen:
                    self.error(
                        line,
                        N_("duplicate dimension code %(code)s (first at line %(line)s)"),
                        code=repr(code),
                        line=seen[code],
                    )
                    code = None
                else:
                    seen[code] = line
                    where = Message(N_("dimension %(code)s"), code=repr(code))
        title = self.text(entry.get("title"), _at(where, "title"))
        description = self.text(entry.get("description"), _at(where, "description"))
        weight = Decimal(1)
        if "weight" in entry:
            weight = (
                self.amount(entry["weight"], _at(where, "weight"), greater_than_zero=True) or weight
            )
        maps_from, maps_from_lines = self.maps_from(entry.get("maps_from"), where)
        questions: list[Question] = []
        if "questions" in entry:
            qnode = entry["questions"]
            if not qnode.is_seq or not qnode.value:
                self.error(
                    qnode.line,
                    N_("%(where)s: questions must be a list of at least one question"),
                    where=where,
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
            maps_from_lines=maps_from_lines,
            description=description,
            line=node.line,
        )

    def maps_from(
        self, node: Node | None, where: Where
    ) -> tuple[tuple[str, ...] | None, tuple[int, ...]]:
        """The codes of ``maps_from`` (``None`` when absent) and the line of each."""
        if node is None:
            return None, ()
        if not node.is_seq:
            self.error(
                node.line, N_("%(where)s: maps_from must be a list of dimension codes"), where=where
            )
            return None, ()
        codes: list[str] = []
        lines: list[int] = []
        for item in node.value:
            code = self.word(item, _at(where, "maps_from"))
            if code is None:
                continue
            if not DIMENSION_RE.match(code):
                self.error(
                    item.line,
                    N_("%(where)s: maps_from: %(code)s is not a dimension code"),
                    where=where,
                    code=repr(code),
                )
            elif code in codes:
                self.error(
                    item.line,
                    N_("%(where)s: maps_from lists %(code)s twice"),
                    where=where,
                    code=repr(code),
                )
            else:
                codes.append(code)
                lines.append(item.line)
        return tuple(codes), tuple(lines)

    # -- questions ----------------------------------------------------------------------------

    def question(self, node: Node, dimension: str) -> Question | None:
        if not node.is_map:
            self.error(
                node.line,
                N_("%(where)s: a question must be a mapping"),
                where=Message(N_("dimension %(code)s"), code=repr(dimension)),
            )
            return None
        entry: dict[str, Node] = node.value
        code = None
        where: Where = Message(N_("question at line %(line)s"), line=node.line)
        if "code" in entry:
            code = self.word(entry["code"], Message(N_("question code")))
            if code is not None:
                where = Message(N_("question %(code)s"), code=repr(code))
                if not QUESTION_RE.match(code):
                    self.error(
                        entry["code"].line,
                        N_(
                            "question code %(code)s must be 1–64 lower-case letters, digits, '_' "
                            "or '.', starting with a letter"
                        ),
                        code=repr(code),
                    )
                    code = None
                elif code in conditions.KEYWORDS:
                    self.error(
                        entry["code"].line,
                        N_(
                            "question code %(code)s is a word of the show_if language, so no "
                            "condition could refer to it; choose another code"
                        ),
                        code=repr(code),
                    )
                    code = None
                elif code in self.earlier:
                    first = self.first_lines.get(code, 0)
                    self.error(
                        entry["code"].line,
                        N_("duplicate question code %(code)s (first at line %(line)s)"),
                        code=repr(code),
                        line=first,
                    )
                    code = None
        else:
            self.error(node.line, N_("question: missing required key 'code'"))

        qtype: QuestionType | None = None
        if "type" in entry:
            try:
                qtype = QuestionType(entry["type"].value)
            except ValueError:
                self.error(
                    entry["type"].line,
                    _not_one_of(_at(where, "type"), [t.value for t in QuestionType], entry["type"]),
                )
        else:
            self.error(
                node.line, N_("%(where)s: missing required key %(key)s"), where=where, key="'type'"
            )

        allowed = COMMON_QUESTION_KEYS | (TYPE_KEYS[qtype] if qtype else ALL_TYPE_KEYS)
        for key in entry:
            if key in allowed:
                continue
            line = node.key_lines[key]
            if key in ALL_TYPE_KEYS and qtype is not None:
                self.error(
                    line,
                    N_("%(where)s: %(key)s does not apply to a %(type)s question"),
                    where=where,
                    key=repr(key),
                    type=f"{qtype}",
                )
            else:
                self.error(line, _unknown_key(where, key, allowed))
        before = len(self.problems)
        text = self.text(entry.get("text"), _at(where, "text"))
        if "text" not in entry:
            self.error(
                node.line, N_("%(where)s: missing required key %(key)s"), where=where, key="'text'"
            )
        help_text = self.text(entry.get("help"), _at(where, "help"))
        weight = Decimal(1)
        if "weight" in entry:
            weight = self.amount(entry["weight"], _at(where, "weight")) or Decimal(0)
        required = self.flag(
            entry.get("required"), _at(where, "required"), qtype is not QuestionType.TEXT
        )
        allow_na = self.flag(entry.get("allow_na"), _at(where, "allow_na"), False)
        evidence = Evidence(
            self.choice(
                entry.get("evidence"), _at(where, "evidence"), [e.value for e in Evidence], "none"
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
                    entry["max_length"],
                    _at(where, "max_length"),
                    greater_than=Decimal(0),
                    maximum=MAX_TEXT_LENGTH,
                )
                if length is not None and length != length.to_integral_value():
                    self.error(
                        entry["max_length"].line,
                        N_("%(where)s: max_length must be a whole number"),
                        where=where,
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
                    N_(
                        "%(where)s: a gate on an unscored question (weight 0, text, or number "
                        "without scoring) can never cap the level"
                    ),
                    where=where,
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

    def tags(self, node: Node | None, where: Where) -> tuple[str, ...]:
        if node is None:
            return ()
        if not node.is_seq:
            self.error(node.line, N_("%(where)s: tags must be a list of text"), where=where)
            return ()
        tags: list[str] = []
        for item in node.value:
            tag = item.value
            if not isinstance(tag, str) or not tag.strip():
                self.error(
                    item.line,
                    N_("%(where)s: a tag must be non-empty text, not %(value)s"),
                    where=where,
                    value=_show(item),
                )
            elif tag in tags:
                self.error(
                    item.line,
                    N_("%(where)s: tag %(tag)s is listed twice"),
                    where=where,
                    tag=repr(tag),
                )
            else:
                tags.append(tag)
        return tuple(tags)

    def gate(self, node: Node | None, where: Where) -> str | None:
        if node is None:
            return None
        code = self.word(node, _at(where, "gate"))
        if code is None:
            return None
        if not self.level_codes:
            return code  # the levels themselves are broken; that is reported already
        if code not in self.level_codes:
            self.error(
                node.line,
                N_("%(where)s: gate %(code)s is not a level (levels: %(levels)s)"),
                where=where,
                code=repr(code),
                levels=", ".join(self.level_codes),
            )
            return None
        if code == self.level_codes[0]:
            self.error(
                node.line,
                N_("%(where)s: gate %(code)s is the lowest level, which every dimension reaches"),
                where=where,
                code=repr(code),
            )
            return None
        return code

    def show_if(
        self, node: Node | None, code: str | None, position: int, where: Where
    ) -> conditions.Condition | None:
        if node is None:
            return None
        if not isinstance(node.value, str):
            self.error(
                node.line, N_("%(where)s: show_if must be a condition written as text"), where=where
            )
            return None
        try:
            raw = conditions.parse(node.value)
        except conditions.ConditionError as exc:
            self.error(node.line, _show_if_error(where, exc))
            return None
        for ref in conditions.references(raw):
            if ref == code:
                self.error(
                    node.line, N_("%(where)s: show_if refers to the question itself"), where=where
                )
                return None
            if ref not in self.order:
                self.error(
                    node.line,
                    N_("%(where)s: show_if refers to unknown question %(ref)s"),
                    where=where,
                    ref=repr(ref),
                )
                return None
            if self.order[ref] > position:
                self.error(
                    node.line,
                    N_(
                        "%(where)s: show_if refers to %(ref)s, which comes after this question "
                        "(a condition may only use earlier questions)"
                    ),
                    where=where,
                    ref=repr(ref),
                )
                return None
            if self.earlier.get(ref) is None:
                return None  # that question has problems of its own, reported there
        earlier = {c: q for c, q in self.earlier.items() if q is not None}
        try:
            return conditions.bind(raw, earlier)
        except conditions.ConditionError as exc:
            self.error(node.line, _show_if_error(where, exc))
            return None

    def options(
        self,
        entry: Mapping[str, Node],
        qtype: QuestionType,
        weight: Decimal,
        where: Where,
        line: int,
    ) -> dict[str, object]:
        node = entry.get("options")
        if node is None:
            self.error(
                line,
                N_("%(where)s: a %(type)s question needs options"),
                where=where,
                type=f"{qtype}",
            )
            return {}
        minimum = 1 if qtype is QuestionType.MULTI else 2
        if not node.is_seq or len(node.value) < minimum:
            self.error(
                node.line,
                N_("%(where)s: options must be a list of at least %(count)s"),
                where=where,
                count=minimum,
            )
            return {}
        allowed = {"value", "label", "points", "description"}
        if qtype is QuestionType.MULTI:
            allowed.add("exclusive")
        options: list[Option] = []
        seen: dict[str, int] = {}
        ok = True
        for index, item in enumerate(node.value):
            owhere = _at(where, Message(N_("option %(number)s"), number=index + 1))
            if not self.keys(item, allowed, ("value", "label", "points"), owhere):
                ok = False
                continue
            opt: dict[str, Node] = item.value
            value = self.option_value(opt.get("value"), owhere)
            if value is not None:
                owhere = _at(where, Message(N_("option %(value)s"), value=_quote(value)))
                if str(value) in seen:
                    self.error(
                        opt["value"].line,
                        N_("%(where)s: duplicate option value %(value)s (first at line %(line)s)"),
                        where=where,
                        value=_quote(value),
                        line=seen[str(value)],
                    )
                    value = None
                else:
                    seen[str(value)] = opt["value"].line
            label = self.text(opt.get("label"), _at(owhere, "label"))
            points = self.amount(opt["points"], _at(owhere, "points")) if "points" in opt else None
            description = self.text(opt.get("description"), _at(owhere, "description"))
            exclusive = self.flag(opt.get("exclusive"), _at(owhere, "exclusive"), False)
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
                        N_(
                            "%(where)s: a level rubric lists options lowest first with strictly "
                            "increasing points; %(value)s has %(points)s after %(previous)s"
                        ),
                        where=where,
                        value=_quote(higher.value),
                        points=_fmt(higher.points),
                        previous=_fmt(lower.points),
                    )
        if qtype is QuestionType.MULTI:
            total = sum((o.points for o in options), Decimal(0))
            if "max_points" in entry:
                cap = self.amount(entry["max_points"], _at(where, "max_points"))
                if cap is not None:
                    if cap == 0 and weight > 0:
                        self.error(
                            entry["max_points"].line,
                            N_("%(where)s: max_points must be greater than 0"),
                            where=where,
                        )
                    elif cap > total:
                        self.error(
                            entry["max_points"].line,
                            N_(
                                "%(where)s: max_points %(cap)s is more than all options give "
                                "together (%(total)s): no answer could score fully"
                            ),
                            where=where,
                            cap=_fmt(cap),
                            total=_fmt(total),
                        )
                    fields["max_points"] = cap
            elif total == 0 and weight > 0:
                self.error(
                    node.line,
                    N_("%(where)s: the options' points add up to 0; give points or weight: 0"),
                    where=where,
                )
            if all(o.exclusive for o in options):
                self.error(
                    node.line,
                    N_("%(where)s: every option is exclusive; use a choice question"),
                    where=where,
                )
        elif weight > 0 and max(o.points for o in options) <= 0:
            self.error(
                node.line,
                N_("%(where)s: the largest option points must be greater than 0 (or weight: 0)"),
                where=where,
            )
        return fields

    def option_value(self, node: Node | None, where: Where) -> OptionValue | None:
        if node is None:
            return None
        value = node.value
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(
                node.line,
                N_("%(where)s: value must be text or a whole number, not %(value)s"),
                where=where,
                value=_show(node),
            )
            return None
        if isinstance(value, int) and abs(value) > MAX_NUMBER:
            self.error(
                node.line,
                N_(
                    "%(where)s: value %(value)s must be between %(min)s and %(max)s (a longer "
                    "code is written as text, in quotes)"
                ),
                where=where,
                value=_written(node),
                min=f"{-MAX_NUMBER:,}",
                max=f"{MAX_NUMBER:,}",
            )
            return None
        if isinstance(value, str):
            if not value.strip():
                self.error(node.line, N_("%(where)s: value is empty"), where=where)
                return None
            if value.startswith("#"):
                self.error(
                    node.line,
                    N_("%(where)s: value %(value)s must not start with '#' (reserved for #NA)"),
                    where=where,
                    value=repr(value),
                )
                return None
            if "|" in value:
                self.error(
                    node.line,
                    N_(
                        "%(where)s: value %(value)s must not contain '|' (the CSV separator of "
                        "multi answers)"
                    ),
                    where=where,
                    value=repr(value),
                )
                return None
            if value != value.strip():
                self.error(
                    node.line,
                    N_("%(where)s: value %(value)s has spaces around it"),
                    where=where,
                    value=repr(value),
                )
                return None
        return value

    def number_fields(self, entry: Mapping[str, Node], where: Where) -> dict[str, object]:
        fields: dict[str, object] = {}
        low = self.number(entry["min"], _at(where, "min")) if "min" in entry else None
        high = self.number(entry["max"], _at(where, "max")) if "max" in entry else None
        if low is not None and high is not None and low >= high:
            self.error(
                entry["max"].line,
                N_("%(where)s: max %(max)s must be greater than min %(min)s"),
                where=where,
                max=_fmt(high),
                min=_fmt(low),
            )
        fields["min"], fields["max"] = low, high
        fields["unit"] = self.text(entry.get("unit"), _at(where, "unit"))
        fields["integer"] = self.flag(entry.get("integer"), _at(where, "integer"), False)
        if "scoring" in entry:
            fields["scoring"] = self.scoring(entry["scoring"], low, where)
        return fields

    def scoring(self, node: Node, low: Decimal | None, where: Where) -> NumberScoring | None:
        if not self.keys(node, ("bands", "linear"), (), _at(where, "scoring")):
            return None
        kinds = [k for k in ("bands", "linear") if k in node.value]
        if len(kinds) != 1:
            self.error(
                node.line,
                N_("%(where)s: scoring takes exactly one of bands or linear"),
                where=where,
            )
            return None
        if kinds == ["linear"]:
            linear = node.value["linear"]
            if not self.keys(linear, ("from", "to"), ("from", "to"), _at(where, "linear")):
                return None
            start = (
                self.number(linear.value["from"], _at(where, "linear from"))
                if "from" in linear.value
                else None
            )
            end = (
                self.number(linear.value["to"], _at(where, "linear to"))
                if "to" in linear.value
                else None
            )
            if start is None or end is None:
                return None
            if start == end:
                self.error(
                    linear.line, N_("%(where)s: linear from and to must differ"), where=where
                )
                return None
            return LinearScoring(start, end)
        bands_node = node.value["bands"]
        if not bands_node.is_seq or not bands_node.value:
            self.error(
                bands_node.line,
                N_("%(where)s: bands must be a list of at least one {min, points}"),
                where=where,
            )
            return None
        bands: list[Band] = []
        ok = True
        for index, item in enumerate(bands_node.value):
            bwhere = _at(where, Message(N_("band %(number)s"), number=index + 1))
            if not self.keys(item, ("min", "points"), ("min", "points"), bwhere):
                ok = False
                continue
            bmin = (
                self.number(item.value["min"], _at(bwhere, "min")) if "min" in item.value else None
            )
            points = (
                self.amount(item.value["points"], _at(bwhere, "points"))
                if "points" in item.value
                else None
            )
            if bmin is None or points is None:
                ok = False
                continue
            if bands and bmin <= bands[-1].min:
                self.error(
                    item.value["min"].line,
                    N_(
                        "%(where)s: min %(min)s must be greater than the previous band's %(previous)s"
                    ),
                    where=bwhere,
                    min=_fmt(bmin),
                    previous=_fmt(bands[-1].min),
                )
                ok = False
            if index == 0 and low is not None and bmin > low:
                self.error(
                    item.value["min"].line,
                    N_(
                        "%(where)s: the first band's min %(min)s is above the question's min "
                        "%(question_min)s, so some allowed answers fall below every band"
                    ),
                    where=bwhere,
                    min=_fmt(bmin),
                    question_min=_fmt(low),
                )
                ok = False
            bands.append(Band(bmin, points))
        if not ok or not bands:
            return None
        if max(b.points for b in bands) <= 0:
            self.error(
                bands_node.line,
                N_("%(where)s: the largest band points must be greater than 0"),
                where=where,
            )
            return None
        return BandScoring(tuple(bands))


def _replace(question: Question, **changes: object) -> Question:
    from dataclasses import replace

    return replace(question, **changes)  # type: ignore[arg-type]


def _at(where: Where, part: Where) -> Message:
    """A place inside another: ``question 'q1': weight``."""
    return Message(N_("%(where)s: %(part)s"), where=where, part=part)


def _suggest(message: Message, word: str, candidates: Iterable[str]) -> Message:
    """The message, with the closest candidate to ``word`` suggested when one is close."""
    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    if not close:
        return message
    return Message(
        N_("%(problem)s (did you mean %(suggestion)s?)"), problem=message, suggestion=repr(close[0])
    )


def _unknown_key(where: Where, key: str, allowed: Iterable[str]) -> Message:
    unknown = Message(N_("%(where)s: unknown key %(key)s"), where=where, key=repr(key))
    return _suggest(unknown, key, allowed)


def _not_one_of(where: Where, allowed: Iterable[str], node: Node) -> Message:
    allowed = list(allowed)
    wrong = Message(
        N_("%(where)s must be one of %(allowed)s, not %(value)s"),
        where=where,
        allowed=", ".join(allowed),
        value=_show(node),
    )
    return _suggest(wrong, str(node.value), allowed)


def _show_if_error(where: Where, exc: conditions.ConditionError) -> Message:
    return Message(N_("%(where)s: show_if: %(reason)s"), where=where, reason=exc.message)


def _show(node: Node) -> Message | str:
    """A value of the file inside a message: quoted text, a number, or what it is."""
    if node.is_map:
        return Message(N_("a mapping"))
    if node.is_seq:
        return Message(N_("a list"))
    if node.value is None:
        return Message(N_("nothing"))
    if isinstance(node.value, bool):
        return "true" if node.value else "false"
    if isinstance(node.value, str):
        return repr(node.value)
    return node.text or str(node.value)


def _quote(value: OptionValue) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _written(node: Node) -> str:
    """A number of the file inside a message, as written (shortened when very long)."""
    text = node.text or str(node.value)
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]}"


def _without_trailing_zeros(number: Decimal, places: int) -> Decimal:
    """``number`` with at most ``places`` decimals written, when only zeros are dropped."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # a finite number
    if exponent >= -places:
        return number
    if not any(digits):
        return Decimal(0)
    drop = min(-places - exponent, len(digits) - len("".join(map(str, digits)).rstrip("0")))
    return Decimal((sign, digits[: len(digits) - drop], exponent + drop))


def _fmt(number: Decimal) -> str:
    """A Decimal as the methodologist wrote it, without exponent noise."""
    return format(number.normalize(), "f") if number == number.to_integral_value() else str(number)
