"""The ``show_if`` condition language: tokenizer, parser, type check and evaluator.

Grammar (questionnaire-format.md)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | atom
    atom     := "(" expr ")" | compare
    compare  := ref op literal | ref "in" "[" literal ("," literal)* "]"
              | ref "contains" literal | "answered" "(" ref ")"
    op       := "==" | "!=" | "<" | "<=" | ">" | ">="
    literal  := number | 'single-quoted string' | yes | no

Nothing is ever passed to Python's ``eval``. :func:`parse` gives an untyped tree;
:func:`bind` checks it against the questionnaire (references to earlier questions only,
operators allowed for each question type, literals that can match) and returns a tree whose
literals have the type of the answers they are compared with, so that :func:`evaluate` is
a plain comparison.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from assess.questionnaires.messages import N_, Message

if TYPE_CHECKING:
    from assess.questionnaires.model import Question

#: A literal as written: a number, a quoted string, or the keyword yes (True) / no (False).
Literal = Decimal | str | bool
#: A literal after binding: an option value (str or int), a yes/no bool, or a Decimal.
BoundLiteral = Decimal | str | int | bool

KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "answered", "yes", "no"})
ORDERING = frozenset({"<", "<=", ">", ">="})
#: Parentheses and ``not`` nest at most this deep. A real condition needs three or four
#: levels; the limit keeps the parser, :func:`bind`, :func:`evaluate` (and every other walk
#: of a condition tree) far from Python's recursion limit, whatever the text.
MAX_DEPTH = 32
#: A number literal is bounded as a number answer is (``answers.NUMBER_DIGITS``): smaller
#: than 10^15, with at most 15 significant digits and decimal places.
LITERAL_DIGITS = 15


class ConditionError(ValueError):
    """A condition that does not parse or does not fit the questionnaire.

    ``str()`` is the reason in English; ``message`` keeps its template and parameters, for
    the reason in another language (as :class:`~assess.questionnaires.answers.AnswerError`).
    """

    def __init__(self, template: str, /, **params: object) -> None:
        self.message = Message(template, **params)
        super().__init__(str(self.message))


@dataclass(frozen=True, slots=True)
class Compare:
    """``ref op literal``."""

    ref: str
    op: str
    literal: BoundLiteral


@dataclass(frozen=True, slots=True)
class InList:
    """``ref in [literal, …]``."""

    ref: str
    literals: tuple[BoundLiteral, ...]


@dataclass(frozen=True, slots=True)
class Contains:
    """``ref contains literal`` (multi questions)."""

    ref: str
    literal: BoundLiteral


@dataclass(frozen=True, slots=True)
class Answered:
    """``answered(ref)``: visible, answered and not N/A."""

    ref: str


@dataclass(frozen=True, slots=True)
class Not:
    """``not operand``."""

    operand: Condition


@dataclass(frozen=True, slots=True)
class And:
    """``a and b and …``."""

    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """``a or b or …``."""

    operands: tuple[Condition, ...]


Condition = Compare | InList | Contains | Answered | Not | And | Or

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<name>[a-z][a-z0-9_.]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, op, punct, name, end
    text: str
    column: int  # 1-based


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            char = source[pos]
            if char == "'":
                raise ConditionError(N_("unterminated string at column %(column)s"), column=pos + 1)
            template = N_("unexpected %(char)s at column %(column)s")
            if char == '"':
                template = N_(
                    "unexpected %(char)s at column %(column)s (strings take single quotes: 'text')"
                )
            elif char == "=":
                template = N_("unexpected %(char)s at column %(column)s (equality is ==)")
            elif char.isupper():
                template = N_(
                    "unexpected %(char)s at column %(column)s (question codes and keywords are "
                    "lower case)"
                )
            raise ConditionError(template, char=repr(char), column=pos + 1)
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos + 1))
        pos = match.end()
    tokens.append(_Token("end", "", len(source) + 1))
    return tokens


@dataclass(frozen=True, slots=True)
class _RawCompare:
    """A comparison before binding: literals as written."""

    ref: str
    op: str  # an ORDERING/equality operator, "in" or "contains"
    literals: tuple[Literal, ...]
    column: int


@dataclass(frozen=True, slots=True)
class _RawAnswered:
    ref: str
    column: int


@dataclass(frozen=True, slots=True)
class _RawNot:
    operand: RawCondition


@dataclass(frozen=True, slots=True)
class _RawBool:
    op: str  # "and" / "or"
    operands: tuple[RawCondition, ...]


RawCondition = _RawCompare | _RawAnswered | _RawNot | _RawBool


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.pos = 0
        #: How many parentheses and ``not`` enclose the current token.
        self.depth = 0

    def enter(self, token: _Token) -> None:
        """One more level of nesting (``(`` or ``not`` at ``token``), within :data:`MAX_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                N_(
                    "parentheses and 'not' are nested more than %(depth)s levels deep (at "
                    "column %(column)s)"
                ),
                depth=MAX_DEPTH,
                column=token.column,
            )

    @property
    def current(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def expect(self, kind: str, text: str, what: Message | str) -> _Token:
        if not self.at(kind, text):
            raise ConditionError(N_("expected %(what)s %(where)s"), what=what, where=self._where())
        return self.take()

    def _where(self) -> Message:
        token = self.current
        if token.kind == "end":
            return Message(N_("at the end"))
        return Message(
            N_("at column %(column)s, found %(found)s"),
            column=token.column,
            found=repr(token.text),
        )

    def parse(self) -> RawCondition:
        if self.at("end"):
            raise ConditionError(N_("the condition is empty"))
        expr = self.parse_or()
        if not self.at("end"):
            raise ConditionError(
                N_("expected 'and', 'or' or the end %(where)s"), where=self._where()
            )
        return expr

    def parse_or(self) -> RawCondition:
        operands = [self.parse_and()]
        while self.at("name", "or"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else _RawBool("or", tuple(operands))

    def parse_and(self) -> RawCondition:
        operands = [self.parse_not()]
        while self.at("name", "and"):
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else _RawBool("and", tuple(operands))

    def parse_not(self) -> RawCondition:
        count = 0
        while self.at("name", "not"):
            self.enter(self.take())
            count += 1
        expr = self.parse_atom()
        for _ in range(count):
            expr = _RawNot(expr)
        self.depth -= count
        return expr

    def parse_atom(self) -> RawCondition:
        if self.at("punct", "("):
            self.enter(self.take())
            expr = self.parse_or()
            self.expect("punct", ")", "')'")
            self.depth -= 1
            return expr
        if self.at("name", "answered"):
            column = self.take().column
            self.expect("punct", "(", Message(N_("'(' after answered")))
            ref = self.parse_ref()
            self.expect("punct", ")", "')'")
            return _RawAnswered(ref, column)
        column = self.current.column
        ref = self.parse_ref()
        if self.at("op"):
            op = self.take().text
            return _RawCompare(ref, op, (self.parse_literal(),), column)
        if self.at("name", "in"):
            self.take()
            self.expect("punct", "[", Message(N_("'[' after in")))
            literals = [self.parse_literal()]
            while self.at("punct", ","):
                self.take()
                literals.append(self.parse_literal())
            self.expect("punct", "]", Message(N_("',' or ']'")))
            return _RawCompare(ref, "in", tuple(literals), column)
        if self.at("name", "contains"):
            self.take()
            return _RawCompare(ref, "contains", (self.parse_literal(),), column)
        raise ConditionError(
            N_("expected an operator (==, !=, <, <=, >, >=, in, contains) after %(ref)s %(where)s"),
            ref=repr(ref),
            where=self._where(),
        )

    def parse_ref(self) -> str:
        token = self.current
        if token.kind != "name":
            raise ConditionError(N_("expected a question code %(where)s"), where=self._where())
        if token.text in KEYWORDS:
            raise ConditionError(
                N_("expected a question code at column %(column)s, found the keyword %(keyword)s"),
                column=token.column,
                keyword=repr(token.text),
            )
        self.take()
        return token.text

    def parse_literal(self) -> Literal:
        token = self.current
        if token.kind == "number":
            self.take()
            return _number(token)
        if token.kind == "string":
            self.take()
            return token.text[1:-1].replace("''", "'")
        if token.kind == "name" and token.text in ("yes", "no"):
            self.take()
            return token.text == "yes"
        if token.kind == "name":
            raise ConditionError(
                N_(
                    "expected a number, a 'quoted string', yes or no %(where)s (a text value "
                    "takes quotes: %(quoted)s)"
                ),
                where=self._where(),
                quoted=f"'{token.text}'",
            )
        raise ConditionError(
            N_("expected a number, a 'quoted string', yes or no %(where)s"), where=self._where()
        )


def _number(token: _Token) -> Decimal:
    """A number literal, bounded as a number answer is (:data:`LITERAL_DIGITS`)."""
    whole, _, fraction = token.text.lstrip("-").partition(".")
    whole, fraction = whole.lstrip("0"), fraction.rstrip("0")
    shown = token.text if len(token.text) <= 40 else f"{token.text[:20]}…{token.text[-10:]}"
    if len(whole) > LITERAL_DIGITS:
        raise ConditionError(
            N_(
                "%(value)s at column %(column)s is too large: a number must be smaller than "
                "10^%(digits)s"
            ),
            value=shown,
            column=token.column,
            digits=LITERAL_DIGITS,
        )
    if len(fraction) > LITERAL_DIGITS or len((whole + fraction).lstrip("0")) > LITERAL_DIGITS:
        raise ConditionError(
            N_(
                "%(value)s at column %(column)s has more than %(digits)s significant digits or "
                "decimal places"
            ),
            value=shown,
            column=token.column,
            digits=LITERAL_DIGITS,
        )
    return Decimal(token.text)


def parse(source: str) -> RawCondition:
    """Parse a condition; raises :class:`ConditionError` naming the column of the problem."""
    return _Parser(source).parse()


def references(raw: RawCondition) -> list[str]:
    """Every question code the condition refers to, in order of appearance."""
    if isinstance(raw, _RawCompare | _RawAnswered):
        return [raw.ref]
    if isinstance(raw, _RawNot):
        return references(raw.operand)
    return [ref for operand in raw.operands for ref in references(operand)]


def bind(raw: RawCondition, earlier: Mapping[str, Question]) -> Condition:
    """Type-check a parsed condition against the questions that come before it.

    ``earlier`` holds the questions that precede the question carrying the condition, in
    file order. Raises :class:`ConditionError` for the first problem found.
    """
    if isinstance(raw, _RawNot):
        return Not(bind(raw.operand, earlier))
    if isinstance(raw, _RawBool):
        operands = tuple(bind(o, earlier) for o in raw.operands)
        return And(operands) if raw.op == "and" else Or(operands)
    question = earlier.get(raw.ref)
    if question is None:
        raise ConditionError(
            N_("refers to %(ref)s, which is not an earlier question"), ref=repr(raw.ref)
        )
    if isinstance(raw, _RawAnswered):
        return Answered(raw.ref)
    return _bind_compare(raw, question)


def _bind_compare(raw: _RawCompare, question: Question) -> Condition:
    from assess.questionnaires.model import QuestionType

    code, op, kind = raw.ref, raw.op, question.type
    if kind is QuestionType.TEXT:
        raise ConditionError(
            N_("%(code)s is a text question: only answered(%(ref)s) can test it"),
            code=repr(code),
            ref=code,
        )
    if kind is QuestionType.MULTI and op != "contains":
        raise ConditionError(
            N_("%(code)s is a multi question: test it with '%(ref)s contains …'"),
            code=repr(code),
            ref=code,
        )
    if op == "contains" and kind is not QuestionType.MULTI:
        raise ConditionError(
            N_("'contains' works only on multi questions, and %(code)s is %(type)s"),
            code=repr(code),
            type=f"{kind}",
        )
    if op in ORDERING:
        if kind is QuestionType.YESNO:
            raise ConditionError(
                N_("%(op)s cannot compare yes/no question %(code)s; use == or !="),
                op=op,
                code=repr(code),
            )
        if question.has_options and not question.integer_options:
            raise ConditionError(
                N_(
                    "%(op)s needs integer option values, and %(code)s has text values; use == or in"
                ),
                op=op,
                code=repr(code),
            )
    literals = tuple(_bind_literal(lit, question, ordering=op in ORDERING) for lit in raw.literals)
    if op == "in":
        return InList(code, literals)
    if op == "contains":
        return Contains(code, literals[0])
    return Compare(code, op, literals[0])


def _bind_literal(literal: Literal, question: Question, *, ordering: bool) -> BoundLiteral:
    from assess.questionnaires.model import QuestionType

    code = question.code
    if question.type is QuestionType.YESNO:
        if not isinstance(literal, bool):
            raise ConditionError(
                N_("%(code)s is a yes/no question: compare it with yes or no"), code=repr(code)
            )
        return literal
    if question.type is QuestionType.NUMBER:
        if not isinstance(literal, Decimal):
            raise ConditionError(
                N_("%(code)s is a number question: compare it with a number"), code=repr(code)
            )
        return literal
    # level / choice / multi: a literal names an option value.
    if ordering:
        if not isinstance(literal, Decimal):
            raise ConditionError(
                N_("%(value)s cannot be ordered against %(code)s"),
                value=op_name(literal),
                code=repr(code),
            )
        return literal
    if isinstance(literal, bool):
        literal = "yes" if literal else "no"
    if isinstance(literal, Decimal):
        if literal != literal.to_integral_value():
            raise ConditionError(
                N_("%(value)s is not an option of %(code)s (%(options)s)"),
                value=f"{literal}",
                code=repr(code),
                options=_options(question),
            )
        candidate: str | int = int(literal)
    else:
        candidate = literal
    if question.option(candidate) is None:
        as_other: str | int = str(candidate) if isinstance(candidate, int) else candidate
        if isinstance(candidate, str) and candidate.lstrip("-").isdigit():
            as_other = int(candidate)
        if as_other != candidate and question.option(as_other) is not None:
            raise ConditionError(
                N_("%(value)s is not an option of %(code)s (%(options)s); write %(suggestion)s"),
                value=_show(candidate),
                code=repr(code),
                options=_options(question),
                suggestion=repr(as_other) if isinstance(as_other, str) else str(as_other),
            )
        raise ConditionError(
            N_("%(value)s is not an option of %(code)s (%(options)s)"),
            value=_show(candidate),
            code=repr(code),
            options=_options(question),
        )
    return candidate


def op_name(literal: Literal) -> str:
    """How a literal reads in a message."""
    if isinstance(literal, bool):
        return "yes" if literal else "no"
    return _show(literal)


def _show(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _options(question: Question) -> Message:
    return Message(
        N_("options: %(options)s"), options=", ".join(_show(o.value) for o in question.options)
    )


# ---------------------------------------------------------------------------------------
# Evaluation

#: The value of a reference as conditions see it, or ``None`` when the referenced question is
#: hidden, unanswered or N/A: an option value, a bool (yes/no), a Decimal, a tuple of option
#: values (multi) or a str (text).
RefValue = str | int | bool | Decimal | tuple[str | int, ...] | None

_COMPARE: dict[str, Callable[[object, object], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def evaluate(condition: Condition, value_of: Callable[[str], RefValue]) -> bool:
    """Evaluate a bound condition; ``value_of(code)`` gives a reference's value or ``None``.

    Every comparison on a hidden, unanswered or N/A question is false (so its ``not`` is
    true), as the format requires.
    """
    if isinstance(condition, And):
        return all(evaluate(o, value_of) for o in condition.operands)
    if isinstance(condition, Or):
        return any(evaluate(o, value_of) for o in condition.operands)
    if isinstance(condition, Not):
        return not evaluate(condition.operand, value_of)
    value = value_of(condition.ref)
    if value is None:
        return False
    if isinstance(condition, Answered):
        return True
    if isinstance(condition, Contains):
        return isinstance(value, tuple) and condition.literal in value
    if isinstance(condition, InList):
        return any(_equal(value, lit) for lit in condition.literals)
    if condition.op == "==":
        return _equal(value, condition.literal)
    if condition.op == "!=":
        return not _equal(value, condition.literal)
    return _COMPARE[condition.op](value, condition.literal)


def _equal(value: object, literal: BoundLiteral) -> bool:
    # Option values 1 and '1' are different answers; bool is an int subclass in Python.
    if isinstance(value, bool) or isinstance(literal, bool):
        return isinstance(value, bool) and isinstance(literal, bool) and value == literal
    if isinstance(value, str) != isinstance(literal, str):
        return False
    return value == literal


def condition_refs(condition: Condition) -> list[str]:
    """Every question code a bound condition refers to."""
    if isinstance(condition, And | Or):
        return [r for o in condition.operands for r in condition_refs(o)]
    if isinstance(condition, Not):
        return condition_refs(condition.operand)
    return [condition.ref]
