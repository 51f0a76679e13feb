"""YAML events to a `Document`: each key and value placed with its position as it arrives.

Anchors, aliases, tags, complex keys, duplicate keys, more than one document, nesting deeper
than MAX_DEPTH and lone surrogates are refused at their event, before anything is built on
them. The events come from either parser (libyaml's or ruamel.yaml's pure one; see loader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from validator.document import Document, KeyPath, LoadError
from validator.findings import START, Position
from validator.scalars import resolve_plain

MAX_DEPTH = 8


def position_of(mark: Any) -> Position:
    if mark is None:
        return START
    return Position(mark.line + 1, mark.column + 1)


@dataclass(slots=True)
class _Frame:
    container: dict[Any, Any] | list[Any]
    key_path: KeyPath
    opened: Position = START
    bracket: str | None = None
    pending_key: Any = None
    has_key: bool = False
    mapping: bool = False


class Builder:
    """Consumes events one by one; keeps an explicit stack, so depth costs no recursion."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.keys: dict[KeyPath, Position] = {}
        self.values: dict[KeyPath, Position] = {}
        self.plain: dict[KeyPath, str] = {}

    def feed(self, event: Any) -> None:  # an Event; its class is checked exactly below
        """Dispatches on the exact event class: the common events take one comparison each,
        and the features refused (anchors, tags) are looked for only where they can be."""
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                _refuse_features(event)
            self._scalar(event)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self.stack.pop()
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                _refuse_features(event)
            self._open(event)
        else:
            self._feed_other(event)

    def _feed_other(self, event: Event) -> None:
        _refuse_features(event)
        if isinstance(event, ScalarEvent):
            self._scalar(event)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            self._open(event)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            self.stack.pop()
        elif isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise LoadError("FO002", "more than one YAML document",
                                position_of(event.start_mark))

    def document(self) -> Document:
        if not isinstance(self.root, dict):
            found = "empty" if self.root is None else f"a {type(self.root).__name__}"
            raise LoadError("FO006", f"the top level must be a mapping of fields, found {found}")
        return Document(self.path, self.root, self.keys, self.values, self.plain)

    def open_flow(self) -> tuple[str, Position] | None:
        """The innermost open `[` or `{` and where it opened, for unclosed-bracket errors."""
        for frame in reversed(self.stack):
            if frame.bracket is not None:
                return frame.bracket, frame.opened
        return None

    def _scalar(self, event: ScalarEvent) -> None:
        mark = event.start_mark
        position = Position(mark.line + 1, mark.column + 1)
        text = event.value
        if event.style:  # quoted or block: a string as written
            value: Any = text
        else:
            try:
                value = resolve_plain(text)
            except LoadError as error:
                raise LoadError(error.rule, error.message, position) from None
        if type(value) is str:
            _refuse_surrogates(value, position)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.mapping and not frame.has_key:
            self._key(frame, value, position)
        else:
            key_path = self._attach(value, position)
            if type(value) is not str:
                self.plain[key_path] = text

    def _key(self, frame: _Frame, key: Any, position: Position) -> None:
        container = frame.container
        assert isinstance(container, dict)
        if type(key) is not str:
            raise LoadError("FO103", f"unknown key {key!r}: field names are strings", position)
        if key in container:
            raise LoadError("FO003", f"duplicate key {key!r}", position)
        frame.pending_key, frame.has_key = key, True
        self.keys[(*frame.key_path, key)] = position

    def _open(self, event: MappingStartEvent | SequenceStartEvent) -> None:
        position = position_of(event.start_mark)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and frame.mapping and not frame.has_key:
            raise LoadError("FO002", "complex (non-scalar) keys are not allowed", position)
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError("FO004", f"nesting deeper than {MAX_DEPTH} levels", position)
        mapping = isinstance(event, MappingStartEvent)
        container: dict[Any, Any] | list[Any] = {} if mapping else []
        key_path = self._attach(container, position)
        bracket = None
        if event.flow_style:
            bracket = "{" if mapping else "["
        self.stack.append(_Frame(container, key_path, position, bracket, mapping=mapping))

    def _attach(self, value: Any, position: Position) -> KeyPath:
        if not self.stack:
            self.root = value
            self.values[()] = position
            return ()
        frame = self.stack[-1]
        container = frame.container
        if frame.mapping:
            key_path: KeyPath = (*frame.key_path, frame.pending_key)
            container[frame.pending_key] = value
            frame.has_key = False
        else:
            assert isinstance(container, list)
            key_path = (*frame.key_path, len(container))
            container.append(value)
        self.values[key_path] = position
        return key_path


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _refuse_surrogates(value: str, position: Position) -> None:
    """A `\\ud83d` escape gives half a UTF-16 pair, which no UTF-8 output can hold.

    YAML escapes name code points, so JSON's habit of writing a pair of escapes breaks here.
    """
    found = _SURROGATE.search(value)
    if found is None:
        return
    pair = value[found.start() : found.start() + 2]
    try:
        joined = pair.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        joined = ""
    hint = f"\\U{ord(joined):08X}" if len(joined) == 1 else "the character itself"
    message = (f"\\u{ord(found[0]):04X} is half of a UTF-16 surrogate pair, not a character; "
               f"YAML escapes name code points: write {hint}")
    raise LoadError("FO005", message, position)


def _refuse_features(event: Event) -> None:
    if isinstance(event, StreamEndEvent | MappingEndEvent | SequenceEndEvent):
        return
    position = position_of(event.start_mark)
    if isinstance(event, AliasEvent):
        raise LoadError("FO002", f"alias *{event.anchor} is not allowed in a flag file", position)
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        raise LoadError("FO002", f"anchor &{anchor} is not allowed in a flag file", position)
    tag = getattr(event, "tag", None)
    if tag is not None and not isinstance(event, DocumentStartEvent):
        raise LoadError("FO002", f"tag {tag} is not allowed in a flag file", position)
