"""Where every key and value of a flag file starts and ends in its text, as character offsets.

The loader keeps where each value starts; an edit also needs where it ends, how a scalar is
quoted and whether a collection is written in flow (`[a, b]`) or block style. This reads the
same event stream as the loader (libyaml's C parser, the pure-Python one where libyaml refuses
the text) on text the loader has accepted. Offsets count characters, as YAML marks do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from validator.errors import UserError

Kind = Literal["scalar", "mapping", "sequence"]
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))


class EditError(UserError):
    """A file this edit cannot change without touching more than the changed values."""


@dataclass(frozen=True, slots=True)
class Node:
    kind: Kind
    start: int
    end: int
    """Exclusive. A block collection ends where its last item ends, before any comment."""
    style: str
    """Scalars: '' plain, "'", '"', '|' or '>'; collections: 'flow' or 'block'."""
    text: str = ""
    """A scalar's value as YAML read it, before it is resolved to a number or a boolean."""
    entries: tuple[Entry, ...] = ()
    items: tuple[Node, ...] = ()

    @property
    def is_null(self) -> bool:
        return self.kind == "scalar" and self.style == "" and self.text in _NULLS

    @property
    def is_block(self) -> bool:
        return self.style == "block"

    def get(self, key: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.key.text == key), None)


@dataclass(frozen=True, slots=True)
class Entry:
    key: Node
    value: Node
    colon: int
    """Just after the `:` that ends the key: where an empty value sits."""


@dataclass(slots=True)
class _Frame:
    kind: Kind
    start: int
    flow: bool
    children: list[Node] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    key: Node | None = None


@lru_cache(maxsize=8)
def source_map(text: str) -> Node:
    """The top-level mapping of `text`, with the span of every key and value (immutable, so
    one edit's repeated looks at the same text parse it once)."""
    for parser in (_parser(False), _parser(True)):
        try:
            root = _build(text, parser.parse(text))
        except YAMLError:
            continue
        if root.kind != "mapping":
            break
        return root
    raise EditError("the file is not a YAML mapping that flagops can edit")


@lru_cache(maxsize=2)
def _parser(pure: bool) -> YAML:
    return YAML(typ="safe", pure=pure)


def _build(text: str, events: Iterable[Event]) -> Node:
    stack: list[_Frame] = []
    root: Node | None = None
    for event in events:
        node = _node_of(event, stack)
        if node is None:
            continue
        if not stack:
            root = node
        else:
            _attach(text, stack[-1], node)
    if root is None:
        raise EditError("the file is empty")
    return root


def _node_of(event: Event, stack: list[_Frame]) -> Node | None:
    """The finished node an event completes, if any; opening events push a frame."""
    if isinstance(event, ScalarEvent):
        return Node("scalar", event.start_mark.index, event.end_mark.index, event.style or "",
                    event.value)
    if isinstance(event, MappingStartEvent | SequenceStartEvent):
        kind: Kind = "mapping" if isinstance(event, MappingStartEvent) else "sequence"
        stack.append(_Frame(kind, event.start_mark.index, bool(event.flow_style)))
        return None
    if isinstance(event, MappingEndEvent | SequenceEndEvent):
        frame = stack.pop()
        last = frame.entries[-1].value.end if frame.entries else (
            frame.children[-1].end if frame.children else frame.start)
        end = event.end_mark.index if frame.flow else last
        return Node(frame.kind, frame.start, end, "flow" if frame.flow else "block",
                    entries=tuple(frame.entries), items=tuple(frame.children))
    return None


def _attach(text: str, frame: _Frame, node: Node) -> None:
    if frame.kind == "sequence":
        frame.children.append(node)
        return
    if frame.key is None:
        frame.key = node
        return
    colon = _after_colon(text, frame.key)
    if node.kind == "scalar" and node.start == node.end:
        # An empty value: libyaml puts it after the colon, the pure parser at the next token.
        node = Node("scalar", colon, colon, node.style, node.text)
    frame.entries.append(Entry(frame.key, node, colon))
    frame.key = None


def _after_colon(text: str, key: Node) -> int:
    position = key.end
    while position < len(text) and text[position] in " \t":
        position += 1
    if position >= len(text) or text[position] != ":":
        raise EditError(f"cannot find the ':' after key {key.text!r}")
    return position + 1


def line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def line_end(text: str, position: int) -> int:
    """Where the line holding `position` ends: at its line break (before a CR of CRLF)."""
    found = text.find("\n", position)
    if found < 0:
        return len(text)
    return found - 1 if found > 0 and text[found - 1] == "\r" else found


def next_line(text: str, position: int) -> int:
    """The start of the line after the one holding `position` (len(text) at the end)."""
    found = text.find("\n", position)
    return len(text) if found < 0 else found + 1


def line_break(text: str) -> str:
    """The file's line ending, from its first line: CRLF or LF."""
    found = text.find("\n")
    return "\r\n" if found > 0 and text[found - 1] == "\r" else "\n"
