"""Read a YAML or JSON file into a tree that remembers the line of every key and item.

The validator needs the line of the offending key or item for each message, so we do not
use ``yaml.safe_load``: we compose the node graph and convert it ourselves into
:class:`Node` values.

Scalars are resolved with the YAML 1.2 core schema rather than PyYAML's YAML 1.1 default:
``yes``, ``no``, ``on`` and ``off`` stay strings (a methodologist writing ``value: yes`` means
the text "yes"), only ``true``/``false`` are booleans, and ``1:20`` is not a sexagesimal
number. Numbers with a fraction or exponent become :class:`~decimal.Decimal` read from the
text as written, so that ``0.1`` is exactly one tenth.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from assess.questionnaires.messages import N_, Message

Scalar = str | int | Decimal | bool | None

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

#: More nodes than this (after expanding aliases) is refused, so that an alias bomb
#: ("billion laughs") cannot exhaust memory.
MAX_NODES = 1_000_000
#: Lists and mappings nested deeper than this are refused (a questionnaire needs about 8
#: levels); deeper nesting would exhaust the parser's stack.
MAX_DEPTH = 100


class SourceError(Exception):
    """The file cannot be read as YAML at all (syntax error, several documents, …).

    ``str()`` is the English text; ``message`` keeps it translatable.
    """

    def __init__(self, line: int, message: Message) -> None:
        super().__init__(str(message))
        self.line = line
        self.message = message


class _CoreSchemaLoader(yaml.SafeLoader):
    """A loader whose implicit resolvers follow the YAML 1.2 core schema."""


_CoreSchemaLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (
        _INT,
        r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
        list("-+0123456789"),
    ),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
):
    _CoreSchemaLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


@dataclass(slots=True)
class Node:
    """A value of the file with the (1-based) line where it starts.

    A list or mapping that is the value of a key has the line of that key (for block style
    the collection itself only starts on the next line).

    ``value`` is a ``dict[str, Node]`` for a mapping, a ``list[Node]`` for a sequence and a
    :data:`Scalar` otherwise. For a mapping, ``key_lines`` gives the line of each key.
    ``text`` is a scalar's text as written (e.g. ``2569.10`` for an unquoted version).
    """

    value: Any
    line: int
    text: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        """True for a mapping."""
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        """True for a sequence."""
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        """True for anything that is neither a mapping nor a sequence."""
        return not isinstance(self.value, dict | list)

    def plain(self) -> Any:
        """The value with every :class:`Node` removed (plain dicts, lists and scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


@dataclass(slots=True)
class _Converter:
    """Turns composed YAML nodes into :class:`Node` trees, collecting problems."""

    problems: list[tuple[int, Message]] = field(default_factory=list)
    count: int = 0
    active: set[int] = field(default_factory=set)

    def convert(self, node: yaml.Node) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            raise SourceError(
                _line(node),
                Message(N_("the file has more than %(count)s values"), count=f"{MAX_NODES:,}"),
            )
        if id(node) in self.active:
            raise SourceError(_line(node), Message(N_("an alias refers to itself")))
        if len(self.active) >= MAX_DEPTH:
            raise SourceError(_line(node), _too_deep())
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            self.active.add(id(node))
            try:
                if node.tag != _SEQ:
                    self.problems.append((_line(node), _unsupported(node.tag)))
                return Node([self.convert(item) for item in node.value], _line(node))
            finally:
                self.active.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        return Node(self._scalar(node), _line(node), text=node.value)

    def _mapping(self, node: yaml.MappingNode) -> Node:
        self.active.add(id(node))
        try:
            if node.tag != _MAP:
                self.problems.append((_line(node), _unsupported(node.tag)))
            out: dict[str, Node] = {}
            lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key_line = _line(key_node)
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                    shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                    self.problems.append(
                        (key_line, Message(N_("key %(key)s must be text"), key=repr(shown)))
                    )
                    continue
                key = key_node.value
                if key in out:
                    self.problems.append(
                        (
                            key_line,
                            Message(
                                N_("duplicate key %(key)s (first at line %(line)s)"),
                                key=repr(key),
                                line=lines[key],
                            ),
                        )
                    )
                    continue
                value = self.convert(value_node)
                if not value.is_scalar:
                    # A block list or mapping starts on the line after its key; a problem of
                    # the whole collection ("at least two levels") belongs on the key's line,
                    # as it does for the flow style ``levels: [...]``.
                    value.line = key_line
                out[key] = value
                lines[key] = key_line
            return Node(out, _line(node), key_lines=lines)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> Scalar:
        text: str = node.value
        tag: str = node.tag
        if tag == _STR:
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _INT:
            try:
                if text.startswith(("0o", "0x")):
                    return int(text, 0)
                return int(text)
            except ValueError:
                self.problems.append(
                    (_line(node), Message(N_("%(text)s is not an integer"), text=repr(text)))
                )
                return None
        if tag == _FLOAT:
            lowered = text.lower().lstrip("+")
            if lowered in (".inf", "-.inf", ".nan"):
                return Decimal("NaN") if "nan" in lowered else Decimal(lowered.replace(".", ""))
            try:
                return Decimal(text)
            except InvalidOperation:
                self.problems.append(
                    (_line(node), Message(N_("%(text)s is not a number"), text=repr(text)))
                )
                return None
        self.problems.append((_line(node), _unsupported(tag)))
        return text


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _unsupported(tag: str) -> Message:
    return Message(N_("unsupported tag %(tag)s"), tag=tag)


def _too_deep() -> Message:
    return Message(
        N_("lists and mappings are nested more than %(depth)s levels deep"), depth=MAX_DEPTH
    )


def parse(text: str) -> tuple[Node, list[tuple[int, Message]]]:
    """Parse YAML (or JSON) text into a :class:`Node` tree.

    Returns the tree and the problems found while converting it (duplicate keys, keys that
    are not text, unsupported tags) as ``(line, message)``. Raises :class:`SourceError` when
    the text is not YAML at all.
    """
    text = _json_tabs_to_spaces(text)
    try:
        composed = yaml.compose_all(text, Loader=_CoreSchemaLoader)  # noqa: S506 (safe: SafeLoader subclass)
        documents = list(composed)
    except yaml.MarkedYAMLError as exc:
        raise SourceError(*_where_and_why(exc)) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses (a NUL, say): the line it is on, in one line of words.
        line = text.count("\n", 0, max(int(exc.position), 0)) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        detail = f"unacceptable character #x{code:04x}: {exc.reason}"
        raise SourceError(line, _not_yaml(detail)) from None
    except yaml.YAMLError as exc:
        raise SourceError(1, _not_yaml(" ".join(str(exc).split()))) from None
    except RecursionError:
        raise SourceError(1, _too_deep()) from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SourceError(1, Message(N_("the file is empty")))
    if len(documents) > 1:
        raise SourceError(
            _line(documents[1]),
            Message(N_("the file holds several YAML documents; one file is one version")),
        )
    converter = _Converter()
    tree = converter.convert(documents[0])
    return tree, converter.problems


#: PyYAML's contexts whose own mark is where the author has to look: an opened bracket or quote
#: never closed is found only lines later (where the next key begins, or at the end).
_OPENED_AT = ("while parsing a flow", "while scanning a quoted scalar")


def _where_and_why(exc: yaml.MarkedYAMLError) -> tuple[int, Message]:
    """The line to report for a YAML error, and its message."""
    problem, context = exc.problem_mark, exc.context_mark
    detail = " ".join(p for p in (exc.context, exc.problem) if p)
    mark = problem or context
    if (
        context is not None
        and problem is not None
        and (exc.context or "").startswith(_OPENED_AT)
        and problem.line > context.line
    ):
        mark = context
        detail += f" (found on line {int(problem.line) + 1})"
    line = int(mark.line) + 1 if mark is not None else 1
    return line, _not_yaml(detail)


#: What PyYAML's usual problems mean, in words an author can act on (in any language);
#: PyYAML's own wording follows in brackets, in English.
_YAML_HINTS = (
    (("found character '\\t'", "found a tab character"), N_("a tab: indent with spaces only")),
    (
        ("mapping values are not allowed here",),
        N_("text with ': ' in it: put the text in quotes"),
    ),
    (
        ("expected ',' or '}'", "expected ',' or ']'"),
        N_("inside { … } or [ … ], text with , ? [ ] { } needs quotes"),
    ),
    (
        ("while scanning a quoted scalar", "found unexpected end of stream"),
        N_("a quote is opened and not closed"),
    ),
    (
        ("expected <block end>", "could not find expected ':'", "did not find expected key",
         "expected <block mapping start>"),
        N_("the indentation does not line up with the lines above"),
    ),
)  # fmt: skip


def _not_yaml(detail: str) -> Message:
    # PyYAML's own wording (the context and the problem) stays English in every language;
    # a usual problem is explained first, in the reader's language.
    for signs, hint in _YAML_HINTS:
        if any(sign in detail for sign in signs):
            return Message(
                N_("not valid YAML: %(hint)s (%(detail)s)"), hint=Message(hint), detail=detail
            )
    return Message(N_("not valid YAML: %(detail)s"), detail=detail)


def _json_tabs_to_spaces(text: str) -> str:
    """Let tab-indented JSON load: YAML forbids tabs as indentation, JSON allows them.

    A raw tab can never stand inside a JSON string (it must be written ``\\t``), so in text
    that is valid JSON every tab is white space and can safely become a space.
    """
    if "\t" not in text or not text.lstrip().startswith(("{", "[")):
        return text
    try:
        json.loads(text)
    except ValueError:
        return text
    return text.replace("\t", " ")
