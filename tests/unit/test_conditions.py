"""The ``show_if`` language on its own: parse → bind → evaluate.

The questions a condition is bound against come from a loaded questionnaire, so the types
are exactly those the loader builds; values handed to :func:`evaluate` are what the answer
layer gives: an option value, a bool for yes/no, a Decimal, a tuple for multi, a str for
text, and ``None`` for a hidden, unanswered or N/A question.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from decimal import Decimal

import pytest

from assess.questionnaires import Question, loads
from assess.questionnaires.answers import NUMBER_DIGITS
from assess.questionnaires.conditions import (
    LITERAL_DIGITS,
    MAX_DEPTH,
    And,
    Answered,
    Compare,
    ConditionError,
    Contains,
    InList,
    Not,
    Or,
    RefValue,
    bind,
    condition_refs,
    evaluate,
    parse,
    references,
)

QUESTIONNAIRE = textwrap.dedent(
    """\
    schema: assess/questionnaire@1
    code: conditions
    version: "1"
    title: Conditions
    levels:
      - {code: "1", min: 0, name: Low}
      - {code: "2", min: 50, name: High}
    dimensions:
      - code: dim
        title: Dimension
        questions:
          - {code: a, type: yesno, text: A}
          - {code: b, type: yesno, text: B}
          - {code: c, type: yesno, text: C}
          - code: ch
            type: choice
            text: Text values
            options:
              - {value: red, label: Red, points: 1}
              - {value: green, label: Green, points: 0}
              - {value: "it's", label: Apostrophe, points: 0}
          - code: lv
            type: level
            text: Integer values
            options:
              - {value: 0, label: None, points: 0}
              - {value: 1, label: Some, points: 1}
              - {value: 2, label: Most, points: 2}
              - {value: 3, label: All, points: 3}
          - code: neg
            type: choice
            text: Negative integer values
            options:
              - {value: -1, label: Minus one, points: 0}
              - {value: 1, label: One, points: 1}
          - code: s
            type: choice
            text: Digit text values
            options:
              - {value: "1", label: One, points: 1}
              - {value: "2", label: Two, points: 0}
          - code: ync
            type: choice
            text: yes/no text values
            options:
              - {value: "yes", label: Yes, points: 1}
              - {value: "no", label: No, points: 0}
          - code: m
            type: multi
            text: Multi
            options:
              - {value: x, label: X, points: 1}
              - {value: y, label: Y, points: 1}
              - {value: 7, label: Seven, points: 1}
          - {code: n, type: number, text: Number}
          - {code: t, type: text, text: Text}
          - {code: sec.one, type: yesno, text: Dotted code}
    """
)


@pytest.fixture(scope="module")
def earlier() -> Mapping[str, Question]:
    """Every question of the fixture, as the loader would pass the earlier ones to bind."""
    return dict(loads(QUESTIONNAIRE, source="conditions.yaml").questions)


def compile_(source: str, earlier: Mapping[str, Question]) -> object:
    return bind(parse(source), earlier)


def run(source: str, earlier: Mapping[str, Question], **answers: RefValue) -> bool:
    """Evaluate ``source`` with these answers; a missing code is hidden/unanswered/N/A."""
    condition = bind(parse(source), earlier)

    def value_of(code: str) -> RefValue:
        return answers.get(code.replace(".", "_"))

    return evaluate(condition, value_of)


# ---------------------------------------------------------------------------------------
# Parsing and binding: the tree


A_YES = Compare("a", "==", True)
B_YES = Compare("b", "==", True)
C_YES = Compare("c", "==", True)


# fmt: off
@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("a == yes", A_YES),
        ("a == no", Compare("a", "==", False)),
        ("a != yes", Compare("a", "!=", True)),
        ("a == yes or b == yes and c == yes", Or((A_YES, And((B_YES, C_YES))))),
        ("a == yes and b == yes or c == yes", Or((And((A_YES, B_YES)), C_YES))),
        ("not a == yes and b == yes", And((Not(A_YES), B_YES))),
        ("not (a == yes and b == yes)", Not(And((A_YES, B_YES)))),
        ("(a == yes or b == yes) and c == yes", And((Or((A_YES, B_YES)), C_YES))),
        ("not not a == yes", Not(Not(A_YES))),
        ("a == yes or b == yes or c == yes", Or((A_YES, B_YES, C_YES))),
        ("a == yes and b == yes and c == yes", And((A_YES, B_YES, C_YES))),
        ("((a == yes))", A_YES),
        ("not answered(t) or answered(sec.one)", Or((Not(Answered("t")), Answered("sec.one")))),
        ("answered ( t )", Answered("t")),
        ("ch in ['red', 'green']", InList("ch", ("red", "green"))),
        ("ch in ['red']", InList("ch", ("red",))),
        ("lv in [0, 3]", InList("lv", (0, 3))),
        ("a in [yes, no]", InList("a", (True, False))),
        ("m contains 'x'", Contains("m", "x")),
        ("m contains 7", Contains("m", 7)),
        ("ch == 'it''s'", Compare("ch", "==", "it's")),
        ("ync == yes", Compare("ync", "==", "yes")),
        ("ync in [yes, 'no']", InList("ync", ("yes", "no"))),
        ("s == '1'", Compare("s", "==", "1")),
        ("neg == -1", Compare("neg", "==", -1)),
        ("lv == 2.0", Compare("lv", "==", 2)),
        ("lv >= 2", Compare("lv", ">=", Decimal(2))),
        ("lv < 1.5", Compare("lv", "<", Decimal("1.5"))),
        ("n > -1", Compare("n", ">", Decimal(-1))),
        ("n >= 2.5", Compare("n", ">=", Decimal("2.5"))),
        ("n == -0.25", Compare("n", "==", Decimal("-0.25"))),
        ("n <= 10", Compare("n", "<=", Decimal(10))),
        ("n in [1, 2.5, -3]", InList("n", (Decimal(1), Decimal("2.5"), Decimal(-3)))),
        ("n>1and a==yes", And((Compare("n", ">", Decimal(1)), A_YES))),
        ("  a   ==   yes  ", A_YES),
        ("a == yes\nand b == yes", And((A_YES, B_YES))),
    ],
)
# fmt: on
def test_parse_and_bind(source: str, tree: object, earlier: Mapping[str, Question]) -> None:
    assert compile_(source, earlier) == tree


def test_bound_literals_have_the_answer_type(earlier: Mapping[str, Question]) -> None:
    """Option values keep int vs str; yes/no are bools; numbers are exact Decimals."""
    lv = compile_("lv == 2", earlier)
    assert isinstance(lv, Compare)
    assert type(lv.literal) is int
    s = compile_("s == '2'", earlier)
    assert isinstance(s, Compare)
    assert type(s.literal) is str
    a = compile_("a == yes", earlier)
    assert isinstance(a, Compare)
    assert a.literal is True
    n = compile_("n == 0.1", earlier)
    assert isinstance(n, Compare)
    assert n.literal == Decimal("0.1")
    assert isinstance(n.literal, Decimal)


def test_references_in_order() -> None:
    raw = parse("a == yes or (not answered(t) and lv in [1, 2]) or m contains 'x' or a == no")
    assert references(raw) == ["a", "t", "lv", "m", "a"]


def test_condition_refs_of_a_bound_tree(earlier: Mapping[str, Question]) -> None:
    condition = bind(parse("not a == yes and (answered(t) or n > 1)"), earlier)
    assert condition_refs(condition) == ["a", "t", "n"]


# ---------------------------------------------------------------------------------------
# Parse errors, each with its column


# fmt: off
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "the condition is empty"),
        ("   ", "the condition is empty"),
        ("a = yes", "unexpected '=' at column 3 (equality is ==)"),
        ('ch == "red"', "unexpected '\"' at column 7 (strings take single quotes: 'text')"),
        ("A == yes", "unexpected 'A' at column 1 (question codes and keywords are lower case)"),
        ("a == yes AND b == yes", "unexpected 'A' at column 10 (question codes and keywords are lower case)"),
        ("a == yes && b == yes", "unexpected '&' at column 10"),
        ("a == yes || b == yes", "unexpected '|' at column 10"),
        ("a ! yes", "unexpected '!' at column 3"),
        ("n > - 1", "unexpected '-' at column 5"),
        ("_import('os')", "unexpected '_' at column 1"),
        ("ch == 'red", "unterminated string at column 7"),
        ("ch == 'it''s", "unterminated string at column 11"),
        ("ch in ['red', 'green]", "unterminated string at column 15"),
        ("a ==", "expected a number, a 'quoted string', yes or no at the end"),
        ("a == (", "expected a number, a 'quoted string', yes or no at column 6, found '('"),
        ("ch == red", "expected a number, a 'quoted string', yes or no at column 7, found 'red' (a text value takes quotes: 'red')"),
        ("a == yes and", "expected a question code at the end"),
        ("a == yes or or b == yes", "expected a question code at column 13, found the keyword 'or'"),
        ("and a == yes", "expected a question code at column 1, found the keyword 'and'"),
        ("yes == a", "expected a question code at column 1, found the keyword 'yes'"),
        ("== yes", "expected a question code at column 1, found '=='"),
        (") a == yes", "expected a question code at column 1, found ')'"),
        ("1 == a", "expected a question code at column 1, found '1'"),
        ("(a == yes", "expected ')' at the end"),
        ("(a == yes b == yes)", "expected ')' at column 11, found 'b'"),
        ("a == yes)", "expected 'and', 'or' or the end at column 9, found ')'"),
        ("a == yes b == yes", "expected 'and', 'or' or the end at column 10, found 'b'"),
        ("a == yes no", "expected 'and', 'or' or the end at column 10, found 'no'"),
        ("a", "expected an operator (==, !=, <, <=, >, >=, in, contains) after 'a' at the end"),
        ("a yes", "expected an operator (==, !=, <, <=, >, >=, in, contains) after 'a' at column 3, found 'yes'"),
        ("a is yes", "expected an operator (==, !=, <, <=, >, >=, in, contains) after 'a' at column 3, found 'is'"),
        ("answered t", "expected '(' after answered at column 10, found 't'"),
        ("answered", "expected '(' after answered at the end"),
        ("answered(t", "expected ')' at the end"),
        ("answered()", "expected a question code at column 10, found ')'"),
        ("answered(t == 'x')", "expected ')' at column 12, found '=='"),
        ("lv in 1", "expected '[' after in at column 7, found '1'"),
        ("lv in (1, 2)", "expected '[' after in at column 7, found '('"),
        ("lv in []", "expected a number, a 'quoted string', yes or no at column 8, found ']'"),
        ("lv in [1, 2", "expected ',' or ']' at the end"),
        ("lv in [1 2]", "expected ',' or ']' at column 10, found '2'"),
        ("lv in [1,]", "expected a number, a 'quoted string', yes or no at column 10, found ']'"),
        ("m contains", "expected a number, a 'quoted string', yes or no at the end"),
        ("not", "expected a question code at the end"),
    ],
)
# fmt: on
def test_parse_errors(source: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(source)
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------
# Binding errors


# fmt: off
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("zz == yes", "refers to 'zz', which is not an earlier question"),
        ("answered(zz)", "refers to 'zz', which is not an earlier question"),
        ("a == yes and zz == 1", "refers to 'zz', which is not an earlier question"),
        ("t == 'x'", "'t' is a text question: only answered(t) can test it"),
        ("t contains 'x'", "'t' is a text question: only answered(t) can test it"),
        ("m == 'x'", "'m' is a multi question: test it with 'm contains …'"),
        ("m in ['x']", "'m' is a multi question: test it with 'm contains …'"),
        ("m > 1", "'m' is a multi question: test it with 'm contains …'"),
        ("ch contains 'red'", "'contains' works only on multi questions, and 'ch' is choice"),
        ("n contains 1", "'contains' works only on multi questions, and 'n' is number"),
        ("a > yes", "> cannot compare yes/no question 'a'; use == or !="),
        ("a >= no", ">= cannot compare yes/no question 'a'; use == or !="),
        ("ch < 1", "< needs integer option values, and 'ch' has text values; use == or in"),
        ("s <= 1", "<= needs integer option values, and 's' has text values; use == or in"),
        ("ync > yes", "> needs integer option values, and 'ync' has text values; use == or in"),
        ("lv > 'a'", "'a' cannot be ordered against 'lv'"),
        ("lv > yes", "yes cannot be ordered against 'lv'"),
        ("a == 'yes'", "'a' is a yes/no question: compare it with yes or no"),
        ("a == 1", "'a' is a yes/no question: compare it with yes or no"),
        ("a in [yes, 'no']", "'a' is a yes/no question: compare it with yes or no"),
        ("n == 'x'", "'n' is a number question: compare it with a number"),
        ("n == yes", "'n' is a number question: compare it with a number"),
        ("n < no", "'n' is a number question: compare it with a number"),
        ("ch == 'blue'", "'blue' is not an option of 'ch' (options: 'red', 'green', 'it's')"),
        ("ch == 1", "1 is not an option of 'ch' (options: 'red', 'green', 'it's')"),
        ("ch == yes", "'yes' is not an option of 'ch' (options: 'red', 'green', 'it's')"),
        ("lv == '1'", "'1' is not an option of 'lv' (options: 0, 1, 2, 3); write 1"),
        ("lv in [1, '2']", "'2' is not an option of 'lv' (options: 0, 1, 2, 3); write 2"),
        ("lv == 4", "4 is not an option of 'lv' (options: 0, 1, 2, 3)"),
        ("lv == 1.5", "1.5 is not an option of 'lv' (options: 0, 1, 2, 3)"),
        ("neg == '-1'", "'-1' is not an option of 'neg' (options: -1, 1); write -1"),
        ("s == 1", "1 is not an option of 's' (options: '1', '2'); write '1'"),
        ("s in ['1', 2]", "2 is not an option of 's' (options: '1', '2'); write '2'"),
        ("m contains 'z'", "'z' is not an option of 'm' (options: 'x', 'y', 7)"),
        ("m contains '7'", "'7' is not an option of 'm' (options: 'x', 'y', 7); write 7"),
        ("ync == 'maybe'", "'maybe' is not an option of 'ync' (options: 'yes', 'no')"),
        ("not (a == yes or t == 'x')", "'t' is a text question: only answered(t) can test it"),
    ],
)
# fmt: on
def test_bind_errors(source: str, message: str, earlier: Mapping[str, Question]) -> None:
    with pytest.raises(ConditionError) as info:
        compile_(source, earlier)
    assert str(info.value) == message


def test_bind_sees_only_the_questions_it_is_given(earlier: Mapping[str, Question]) -> None:
    only_a = {"a": earlier["a"]}
    assert compile_("a == yes", only_a) == A_YES
    with pytest.raises(ConditionError, match="refers to 'b', which is not an earlier question"):
        compile_("a == yes or b == yes", only_a)


# ---------------------------------------------------------------------------------------
# Evaluation


# fmt: off
@pytest.mark.parametrize(
    ("source", "answers", "expected"),
    [
        # yes/no
        ("a == yes", {"a": True}, True),
        ("a == yes", {"a": False}, False),
        ("a == no", {"a": False}, True),
        ("a != no", {"a": True}, True),
        ("a != yes", {"a": True}, False),
        ("a in [yes]", {"a": True}, True),
        ("a in [no]", {"a": True}, False),
        # precedence: a or (b and c)
        ("a == yes or b == yes and c == yes", {"a": True, "b": False, "c": False}, True),
        ("a == yes or b == yes and c == yes", {"a": False, "b": True, "c": False}, False),
        ("a == yes or b == yes and c == yes", {"a": False, "b": True, "c": True}, True),
        ("(a == yes or b == yes) and c == yes", {"a": True, "b": False, "c": False}, False),
        # precedence: (not a) and b
        ("not a == yes and b == yes", {"a": False, "b": True}, True),
        ("not a == yes and b == yes", {"a": False, "b": False}, False),
        ("not a == yes and b == yes", {"a": True, "b": True}, False),
        ("not (a == yes and b == yes)", {"a": False, "b": False}, True),
        ("not not a == yes", {"a": True}, True),
        # text option values, '' escaping
        ("ch == 'red'", {"ch": "red"}, True),
        ("ch == 'red'", {"ch": "green"}, False),
        ("ch != 'red'", {"ch": "green"}, True),
        ("ch in ['red', 'green']", {"ch": "green"}, True),
        ("ch in ['red', 'green']", {"ch": "it's"}, False),
        ("ch == 'it''s'", {"ch": "it's"}, True),
        # yes/no literal against "yes"/"no" text options
        ("ync == yes", {"ync": "yes"}, True),
        ("ync == no", {"ync": "yes"}, False),
        ("ync in [no]", {"ync": "no"}, True),
        # ordering on integer option values
        ("lv >= 2", {"lv": 2}, True),
        ("lv >= 2", {"lv": 3}, True),
        ("lv >= 2", {"lv": 1}, False),
        ("lv > 2", {"lv": 2}, False),
        ("lv < 1.5", {"lv": 1}, True),
        ("lv < 1.5", {"lv": 2}, False),
        ("lv <= 0", {"lv": 0}, True),
        ("lv == 2", {"lv": 2}, True),
        ("lv != 2", {"lv": 3}, True),
        ("lv in [0, 3]", {"lv": 3}, True),
        ("lv in [0, 3]", {"lv": 1}, False),
        ("neg < 0", {"neg": -1}, True),
        ("neg == -1", {"neg": -1}, True),
        # digit text values are text
        ("s == '1'", {"s": "1"}, True),
        ("s != '1'", {"s": "2"}, True),
        # numbers
        ("n > -1", {"n": Decimal(0)}, True),
        ("n > -1", {"n": Decimal(-1)}, False),
        ("n >= -1", {"n": Decimal(-1)}, True),
        ("n >= 2.5", {"n": Decimal("2.5")}, True),
        ("n >= 2.5", {"n": Decimal("2.49")}, False),
        ("n == 2.5", {"n": Decimal("2.50")}, True),
        ("n == 3", {"n": 3}, True),
        ("n == 0.3", {"n": Decimal("0.1") + Decimal("0.2")}, True),
        ("n in [1, 2.5]", {"n": Decimal("2.5")}, True),
        ("n != 1", {"n": Decimal(2)}, True),
        ("n < 0", {"n": Decimal(0)}, False),
        # multi
        ("m contains 'x'", {"m": ("x", "y")}, True),
        ("m contains 'x'", {"m": ("y",)}, False),
        ("m contains 'x'", {"m": ()}, False),
        ("m contains 7", {"m": (7,)}, True),
        ("m contains 7", {"m": ("x",)}, False),
        ("not m contains 'x'", {"m": ("y",)}, True),
        # answered()
        ("answered(a)", {"a": False}, True),
        ("answered(t)", {"t": "free text"}, True),
        ("answered(m)", {"m": ()}, True),
        ("answered(n)", {"n": Decimal(0)}, True),
        ("answered(sec.one)", {"sec_one": True}, True),
        ("not answered(t)", {"t": "free text"}, False),
    ],
)
# fmt: on
def test_evaluate(
    source: str, answers: dict[str, RefValue], expected: bool, earlier: Mapping[str, Question]
) -> None:
    assert run(source, earlier, **answers) is expected


#: One comparison of every kind, each on a question that can be hidden/unanswered/N/A.
EVERY_KIND = [
    "a == yes",
    "a == no",
    "a != yes",
    "a != no",
    "a in [yes, no]",
    "ch == 'red'",
    "ch != 'red'",
    "ch in ['red', 'green', 'it''s']",
    "lv == 0",
    "lv != 0",
    "lv < 3",
    "lv <= 3",
    "lv > 0",
    "lv >= 0",
    "n == 0",
    "n != 0",
    "n < 1000000",
    "n > -1000000",
    "m contains 'x'",
    "ync == yes",
    "ync != no",
    "answered(t)",
    "answered(a)",
]


@pytest.mark.parametrize("source", EVERY_KIND)
def test_comparison_on_a_missing_answer_is_false(
    source: str, earlier: Mapping[str, Question]
) -> None:
    """Hidden, unanswered and N/A all reach conditions as ``None``: every test is false."""
    assert run(source, earlier) is False


@pytest.mark.parametrize("source", EVERY_KIND)
def test_not_of_a_comparison_on_a_missing_answer_is_true(
    source: str, earlier: Mapping[str, Question]
) -> None:
    assert run(f"not {source}", earlier) is True
    assert run(f"not ({source})", earlier) is True


def test_not_equal_on_an_unanswered_reference_is_false(earlier: Mapping[str, Question]) -> None:
    """``x != v`` is not ``not x == v``: on a missing answer the first is false, the second true."""
    assert run("ch != 'red'", earlier) is False
    assert run("not ch == 'red'", earlier) is True
    assert run("ch != 'red'", earlier, ch="green") is True


def test_missing_reference_inside_and_or(earlier: Mapping[str, Question]) -> None:
    assert run("a == yes or lv >= 1", earlier, a=True) is True
    assert run("a == yes and lv >= 1", earlier, a=True) is False
    assert run("a == yes and not lv >= 1", earlier, a=True) is True
    assert run("a == yes and not answered(lv)", earlier, a=True) is True


def test_value_of_is_asked_for_the_referenced_codes_only(earlier: Mapping[str, Question]) -> None:
    asked: list[str] = []

    def value_of(code: str) -> RefValue:
        asked.append(code)
        return {"a": True, "lv": 2}.get(code)

    condition = bind(parse("a == yes and (lv >= 1 or n > 3)"), earlier)
    assert evaluate(condition, value_of) is True
    assert set(asked) <= {"a", "lv", "n"}
    assert "a" in asked


# fmt: off
@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        (Compare("lv", "==", 1), "1", False),
        (Compare("s", "==", "1"), 1, False),
        (Compare("lv", "!=", 1), "1", True),
        (InList("lv", (1, 2)), "1", False),
        (InList("s", ("1", "2")), 1, False),
        (Contains("m", 7), ("7",), False),
        (Contains("m", "7"), (7,), False),
        (Compare("lv", "==", 1), True, False),
        (Compare("a", "==", True), 1, False),
        (Compare("a", "==", False), 0, False),
        (Compare("lv", "==", 1), 1, True),
        (Compare("s", "==", "1"), "1", True),
    ],
)
# fmt: on
def test_one_and_text_one_are_never_equal(
    condition: object, value: RefValue, expected: bool
) -> None:
    """Option values 1 and '1' are different answers, and a bool is never a number."""
    assert evaluate(condition, lambda _code: value) is expected  # type: ignore[arg-type]


def test_evaluate_is_pure(earlier: Mapping[str, Question]) -> None:
    condition = bind(parse("lv >= 2 and not a == no"), earlier)
    answers: dict[str, RefValue] = {"lv": 2, "a": True}
    first = evaluate(condition, answers.get)
    assert all(evaluate(condition, answers.get) is first for _ in range(3))
    assert first is True


# ---------------------------------------------------------------------------------------
# Limits: no text, however deep or long, reaches Python's recursion limit or a huge number


def nested(depth: int, inner: str = "a == yes") -> str:
    return "(" * depth + inner + ")" * depth


def test_nesting_up_to_the_limit_parses_binds_and_evaluates(
    earlier: Mapping[str, Question],
) -> None:
    assert MAX_DEPTH == 32
    assert run(nested(MAX_DEPTH), earlier, a=True) is True
    nots = "not " * MAX_DEPTH + "a == yes"  # an even number of nots
    assert run(nots, earlier, a=True) is True
    mixed = "(" * 16 + "not " * 16 + "a == yes" + ")" * 16
    assert run(mixed, earlier, a=False) is False
    assert run("not (not (not a == yes))", earlier, a=True) is False


# fmt: off
@pytest.mark.parametrize(
    ("source", "column"),
    [
        (nested(33), 33),
        (nested(260), 33),
        (nested(100_000), 33),
        ("not " * 33 + "a == yes", 129),
        ("not " * 1000 + "a == yes", 129),
        ("not " * 100_000 + "a == yes", 129),
        ("(" * 20 + "not " * 13 + "a == yes" + ")" * 20, 69),
        ("b == no and " + nested(40, "not a == yes"), 45),
        ("(" * 200_000, 33),
        ("not (" * 50_000, 81),
    ],
)
# fmt: on
def test_nesting_beyond_the_limit_is_refused_with_its_column(source: str, column: int) -> None:
    with pytest.raises(ConditionError) as info:
        parse(source)
    assert str(info.value) == (
        f"parentheses and 'not' are nested more than 32 levels deep (at column {column})"
    )


def test_long_flat_conditions_are_fine(earlier: Mapping[str, Question]) -> None:
    """``and``/``or`` chains and ``in`` lists are flat: any length parses and evaluates."""
    chain = " or ".join(["a == yes"] * 20_000)
    assert run(chain, earlier, a=True) is True
    grouped = " and ".join(["(a == yes)"] * 20_000)
    assert run(grouped, earlier, a=True) is True
    many = "lv in [" + ", ".join(["1"] * 20_000) + "]"
    assert run(many, earlier, lv=1) is True


# fmt: off
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("n > 1000000000000000", "1000000000000000 at column 5 is too large: a number must be smaller than 10^15"),
        ("n > -1000000000000000", "-1000000000000000 at column 5 is too large: a number must be smaller than 10^15"),
        ("lv == " + "9" * 5000, "99999999999999999999…9999999999 at column 7 is too large: a number must be smaller than 10^15"),
        ("ch == " + "9" * 5000, "99999999999999999999…9999999999 at column 7 is too large: a number must be smaller than 10^15"),
        ("n > 0.0000000000000001", "0.0000000000000001 at column 5 has more than 15 significant digits or decimal places"),
        ("n > 1234567890.1234567", "1234567890.1234567 at column 5 has more than 15 significant digits or decimal places"),
    ],
)
# fmt: on
def test_number_literals_are_bounded_as_answers_are(source: str, message: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(source)
    assert str(info.value) == message


def test_number_literals_at_the_bounds(earlier: Mapping[str, Question]) -> None:
    largest = "9" * 15
    assert run(f"n <= {largest}", earlier, n=Decimal(largest)) is True
    assert run(f"n >= -{largest}", earlier, n=Decimal(-1)) is True
    assert run("n > 0.000000000000001", earlier, n=Decimal("0.000000000000002")) is True
    # Leading zeros and trailing decimal zeros are not digits of the number.
    assert run("n == 000000000000000000012.50000000000000000000", earlier, n=Decimal("12.5"))
    assert LITERAL_DIGITS == NUMBER_DIGITS
