"""The questionnaire as frozen, typed values.

Everything here is plain data: a loaded questionnaire can be shared between threads and
processes, hashed and compared, and is never changed after loading. Numbers that come from
the file (weights, points, bounds) are kept as :class:`~decimal.Decimal` so that the scoring
engine can compute exactly what the file says (see ``scoring.md``: every quantity is an
exact rational number).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assess.questionnaires.conditions import Condition

SCHEMA = "assess/questionnaire@1"

#: Option values are strings or integers (never booleans).
OptionValue = str | int


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """Text in Thai and/or English; at least one of the two is present."""

    th: str | None = None
    en: str | None = None

    def get(self, lang: str = "th") -> str:
        """The text in ``lang``, or in the other language when ``lang`` is missing."""
        if lang == "en":
            return self.en if self.en is not None else (self.th or "")
        return self.th if self.th is not None else (self.en or "")

    def __str__(self) -> str:
        return self.get("th")

    def as_dict(self) -> dict[str, str]:
        """The JSON form: only the languages that are present."""
        out: dict[str, str] = {}
        if self.th is not None:
            out["th"] = self.th
        if self.en is not None:
            out["en"] = self.en
        return out


class QuestionType(enum.StrEnum):
    """The six kinds of question of the format."""

    LEVEL = "level"
    CHOICE = "choice"
    MULTI = "multi"
    YESNO = "yesno"
    NUMBER = "number"
    TEXT = "text"


class Evidence(enum.StrEnum):
    """Whether evidence (a file or a URL) goes with an answer."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class NaPolicy(enum.StrEnum):
    """How a "not applicable" answer counts (``na_policy``)."""

    EXCLUDE = "exclude"
    FULL = "full"


class OverallLevelMode(enum.StrEnum):
    """How the overall level is found (``overall_level``)."""

    SCORE = "score"
    LOWEST = "lowest"


@dataclass(frozen=True, slots=True)
class Level:
    """One maturity level; ``min`` is the inclusive lower bound on a 0–100 score."""

    code: str
    min: Decimal
    name: LocalizedText
    description: LocalizedText | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option of a ``level``, ``choice`` or ``multi`` question."""

    value: OptionValue
    label: LocalizedText
    points: Decimal
    description: LocalizedText | None = None
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class Band:
    """A band of a banded ``number`` question: values ≥ ``min`` earn ``points``."""

    min: Decimal
    points: Decimal


@dataclass(frozen=True, slots=True)
class BandScoring:
    """``scoring: {bands: [...]}``; bands sorted by ``min``, strictly increasing."""

    bands: tuple[Band, ...]

    @property
    def max_points(self) -> Decimal:
        """The largest points of any band: the denominator of q."""
        return max(b.points for b in self.bands)


@dataclass(frozen=True, slots=True)
class LinearScoring:
    """``scoring: {linear: {from, to}}``; ``from > to`` means smaller is better."""

    from_: Decimal
    to: Decimal


NumberScoring = BandScoring | LinearScoring


@dataclass(frozen=True, slots=True)
class Question:
    """One question. Type-specific fields are ``None``/empty on other types."""

    code: str
    type: QuestionType
    text: LocalizedText
    dimension: str
    line: int = 0
    help: LocalizedText | None = None
    weight: Decimal = Decimal(1)
    required: bool = True
    allow_na: bool = False
    evidence: Evidence = Evidence.NONE
    show_if: Condition | None = None
    show_if_source: str | None = None
    gate: str | None = None
    tags: tuple[str, ...] = ()
    # level / choice / multi
    options: tuple[Option, ...] = ()
    max_points: Decimal | None = None
    # number
    min: Decimal | None = None
    max: Decimal | None = None
    unit: LocalizedText | None = None
    integer: bool = False
    scoring: NumberScoring | None = None
    # text
    max_length: int | None = None

    @property
    def has_options(self) -> bool:
        """True for the types whose answer is chosen among ``options``."""
        return self.type in (QuestionType.LEVEL, QuestionType.CHOICE, QuestionType.MULTI)

    @property
    def is_scored_type(self) -> bool:
        """True when answers of this question can earn points (weight aside)."""
        if self.type is QuestionType.TEXT:
            return False
        if self.type is QuestionType.NUMBER:
            return self.scoring is not None
        return True

    @property
    def is_scored(self) -> bool:
        """True when the question counts in its dimension's score (when applicable)."""
        return self.is_scored_type and self.weight > 0

    @property
    def option_cap(self) -> Decimal:
        """The denominator of q for option questions.

        ``level``/``choice``: the largest option points; ``multi``: ``max_points`` or the
        sum of all options' points.
        """
        if self.type is QuestionType.MULTI:
            if self.max_points is not None:
                return self.max_points
            return sum((o.points for o in self.options), Decimal(0))
        return max((o.points for o in self.options), default=Decimal(0))

    def option(self, value: OptionValue) -> Option | None:
        """The option with exactly this value (``1`` and ``"1"`` differ), if any."""
        for opt in self.options:
            if opt.value == value and type(opt.value) is type(value):
                return opt
        return None

    @property
    def integer_options(self) -> bool:
        """True when every option value is an integer (ordering comparisons allowed)."""
        return bool(self.options) and all(isinstance(o.value, int) for o in self.options)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One dimension: a scored group of questions, in display order."""

    code: str
    title: LocalizedText
    questions: tuple[Question, ...]
    weight: Decimal = Decimal(1)
    #: As written in the file; ``None`` means "the default" (own code, if it exists in the
    #: superseded version). See :meth:`Questionnaire.maps_from`.
    maps_from: tuple[str, ...] | None = None
    description: LocalizedText | None = None
    line: int = 0
    #: The line of each ``maps_from`` code, in the same order (0 when not known).
    maps_from_lines: tuple[int, ...] = field(default=(), compare=False)

    def maps_from_line(self, code: str) -> int:
        """The line of ``code`` in this dimension's ``maps_from`` (else the dimension's)."""
        for written, line in zip(self.maps_from or (), self.maps_from_lines, strict=False):
            if written == code and line:
                return line
        return self.line


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """One version of one questionnaire, validated."""

    code: str
    version: str
    title: LocalizedText
    levels: tuple[Level, ...]
    dimensions: tuple[Dimension, ...]
    supersedes: str | None = None
    description: LocalizedText | None = None
    overall_level: OverallLevelMode = OverallLevelMode.SCORE
    na_policy: NaPolicy = NaPolicy.EXCLUDE
    #: SHA-256 of the file's text as UTF-8 (its bytes, less a leading byte order mark): the
    #: identity of this version's content, as stored.
    content_hash: str = ""
    source: str = ""
    _questions: Mapping[str, Question] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    _dimension_of: Mapping[str, str] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    _show_if_refs: frozenset[str] = field(
        default=frozenset(), repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        from assess.questionnaires.conditions import condition_refs

        index = {q.code: q for d in self.dimensions for q in d.questions}
        object.__setattr__(self, "_questions", index)
        owner = {q.code: d.code for d in self.dimensions for q in d.questions}
        object.__setattr__(self, "_dimension_of", owner)
        refs = frozenset(
            ref
            for q in index.values()
            if q.show_if is not None
            for ref in condition_refs(q.show_if)
        )
        object.__setattr__(self, "_show_if_refs", refs)

    @property
    def key(self) -> str:
        """``CODE@VERSION``, the name of this version everywhere in the system."""
        return f"{self.code}@{self.version}"

    @property
    def questions(self) -> Mapping[str, Question]:
        """Every question by code, in file order."""
        return self._questions

    def iter_questions(self) -> Iterator[Question]:
        """Every question in file order (the order ``show_if`` is evaluated in)."""
        return iter(self._questions.values())

    def question(self, code: str) -> Question:
        """The question with this code; ``KeyError`` when there is none."""
        return self._questions[code]

    def dimension_of(self, question: str) -> str:
        """The code of the dimension holding a question; ``KeyError`` when there is none."""
        return self._dimension_of[question]

    @property
    def show_if_refs(self) -> frozenset[str]:
        """The questions some ``show_if`` refers to: changing their answers can show or hide
        other questions."""
        return self._show_if_refs

    def dimension(self, code: str) -> Dimension:
        """The dimension with this code; ``KeyError`` when there is none."""
        for dim in self.dimensions:
            if dim.code == code:
                return dim
        raise KeyError(code)

    def level(self, code: str) -> Level:
        """The level with this code; ``KeyError`` when there is none."""
        for lvl in self.levels:
            if lvl.code == code:
                return lvl
        raise KeyError(code)

    def level_index(self, code: str) -> int:
        """Position of a level, 0 for the lowest."""
        for i, lvl in enumerate(self.levels):
            if lvl.code == code:
                return i
        raise KeyError(code)

    def same_version(self, other: Questionnaire) -> bool:
        """True when ``other`` is this very version: the same ``CODE@VERSION``, or the same
        content (hash)."""
        if self.content_hash and self.content_hash == other.content_hash:
            return True
        return (self.code, self.version) == (other.code, other.version)

    def succeeds(self, previous: Questionnaire) -> bool:
        """True when ``previous`` is the version this one names in ``supersedes`` (same
        code): the only version its dimensions' ``maps_from`` codes refer to."""
        return (
            self.supersedes is not None
            and previous.code == self.code
            and previous.version == self.supersedes
            and not self.same_version(previous)
        )

    def maps_from(self, dimension: str, previous: Questionnaire) -> tuple[str, ...]:
        """Dimensions of ``previous`` that ``dimension`` continues (scoring.md §8).

        ``maps_from`` names dimensions of the ``supersedes`` version, so an explicit
        ``maps_from`` applies only when ``previous`` is that version (:meth:`succeeds`);
        its codes that ``previous`` lacks contribute nothing. Against any other version (the
        same version again, one further back along the ``supersedes`` chain, a later one,
        another questionnaire) and without ``maps_from``, a dimension continues the
        dimension of its own code, when ``previous`` has one.
        """
        dim = self.dimension(dimension)
        old_codes = {d.code for d in previous.dimensions}
        if dim.maps_from is not None and self.succeeds(previous):
            return tuple(c for c in dim.maps_from if c in old_codes)
        return (dim.code,) if dim.code in old_codes else ()

    def unknown_maps_from(self, previous: Questionnaire) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(dimension, codes)`` for each dimension whose ``maps_from`` names codes that are
        not dimensions of ``previous``; empty unless ``previous`` is the version this one
        supersedes (:meth:`succeeds`), the one those codes refer to."""
        if not self.succeeds(previous):
            return ()
        old_codes = {d.code for d in previous.dimensions}
        out = []
        for dim in self.dimensions:
            missing = tuple(c for c in dim.maps_from or () if c not in old_codes)
            if missing:
                out.append((dim.code, missing))
        return tuple(out)
