"""Bytes to a document with a position for every key and value.

The document is built from the YAML event stream (libyaml's C parser through ruamel.yaml when it
is installed) rather than from a loader, for three reasons: positions come for free with every
event, anchors, aliases, tags and duplicate keys are refused before anything is built, and plain
scalars are resolved with the YAML 1.2 core schema, so `stage: off` stays the string "off".
Every failure becomes a `LoadError` carrying a rule and a position; nothing else escapes.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
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
from ruamel.yaml.reader import ReaderError

from validator.files import MAX_BYTES as MAX_BYTES
from validator.files import converted as converted
from validator.files import flag_paths as flag_paths
from validator.files import not_read as not_read
from validator.files import not_regular as not_regular
from validator.files import path_problem as path_problem
from validator.files import read_bytes as read_bytes
from validator.files import stem as stem
from validator.files import walk_flags as walk_flags
from validator.findings import RULES, START, Finding, Position

MAX_DEPTH = 8

KeyPath = tuple[str | int, ...]

_BOM = b"\xef\xbb\xbf"
try:  # libyaml's parser, driven directly (see _c_events)
    _CParser: Any = importlib.import_module("_ruamel_yaml").CParser
except ImportError:  # pragma: no cover - ruamel.yaml.clib is a dependency
    _CParser = None
Events = Callable[[str], Iterator[Event]]
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_MAYBE_NOT_STRING = frozenset("-+.0123456789~nNtTfF")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_NUMBERS = (_INT, _OCT, _HEX, _FLOAT)
_MAX_NUMBER_LENGTH = 100
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")


class LoadError(Exception):
    def __init__(self, rule: str, message: str, position: Position = START) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.position = position

    def finding(self, path: str) -> Finding:
        return RULES[self.rule].at(path, self.position, self.message)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed flag file: plain data plus where each key and value sits in the source."""

    path: str
    data: dict[str, Any]
    keys: dict[KeyPath, Position] = field(repr=False)
    values: dict[KeyPath, Position] = field(repr=False)
    plain: dict[KeyPath, str] = field(default_factory=dict, repr=False)
    """The source text of unquoted values YAML read as numbers, booleans or null, so that a
    message can say `17.10`, which the number 17.1 no longer knows it was."""

    def key_position(self, key_path: KeyPath) -> Position:
        return self.keys.get(key_path) or self.value_position(key_path)

    def value_position(self, key_path: KeyPath) -> Position:
        """The value's position, or the nearest enclosing one that exists (for missing keys)."""
        for end in range(len(key_path), -1, -1):
            found = self.values.get(key_path[:end])
            if found is not None:
                return found
        return START


def read_document(path: Path | str, display_path: str) -> Document | Finding:
    """Reads and loads one regular file; any failure is returned as a finding."""
    raw = read_bytes(path, display_path)
    return raw if isinstance(raw, Finding) else load_or_finding(raw, display_path)


def load_or_finding(raw: bytes, display_path: str) -> Document | Finding:
    try:
        return load_document(raw, display_path)
    except LoadError as error:
        return error.finding(display_path)


def load_document(raw: bytes, path: str) -> Document:
    text = _decode(raw)
    try:
        return _build(text, path, _c_events if _CParser is not None else _pure_events)
    except LoadError as error:
        if error.rule != "FO001":
            raise
        # libyaml follows YAML 1.1 in places (`[User:42]` is refused); the pure-Python
        # parser follows 1.2. It is slower, so it only gets the files libyaml refused.
        return _build(text, path, _pure_events)


def _c_events(text: str) -> Iterator[Event]:
    """libyaml's events, without `YAML.parse`: that defines a loader class on every call,
    which cost more than parsing a flag file (about 160 µs of 600 per file)."""
    assert _CParser is not None
    parser = _CParser(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _pure_events(text: str) -> Iterator[Event]:
    yield from _pure_parser().parse(text)


def _build(text: str, path: str, events: Events) -> Document:
    builder = _Builder(path)
    try:
        for event in events(text):
            builder.feed(event)
    except MarkedYAMLError as error:
        raise _syntax_error(error, text, builder.open_flow()) from None
    except ReaderError as error:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"invalid YAML: control character U+{code:04X} is not allowed"
        raise LoadError("FO001", message, _offset_position(text, error.position)) from None
    except YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise LoadError("FO001", f"invalid YAML: {first_line}") from None
    except (ValueError, OverflowError):  # the pure parser's chr() on an escape past U+10FFFF
        found = _BEYOND_UNICODE.search(text)
        where = _offset_position(text, found.start()) if found else START
        raise LoadError("FO001", "invalid YAML: an escape names no Unicode character (the "
                        "largest is \\U0010FFFF)", where) from None
    return builder.document()


_BEYOND_UNICODE = re.compile(r"\\U(?:0*[1-9A-Fa-f][0-9A-Fa-f]{6,}"  # \U01000000 and up
                             r"|00(?:1[1-9A-Fa-f]|[2-9A-Fa-f][0-9A-Fa-f])[0-9A-Fa-f]{4})")


@lru_cache(maxsize=1)
def _pure_parser() -> YAML:
    return YAML(typ="safe", pure=True)


def _offset_position(text: str, offset: int) -> Position:
    before = text[:offset]
    return Position(before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise LoadError("FO004", f"file is larger than {MAX_BYTES // 1024} KiB")
    if raw.startswith(_BOM):
        raise LoadError("FO005", "file starts with a byte order mark; save it as UTF-8 without BOM")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        line_start = before[before.rfind(b"\n") + 1 :]
        column = len(line_start.decode("utf-8", "replace")) + 1
        message = f"invalid UTF-8 byte 0x{raw[error.start]:02x}; save the file as UTF-8"
        raise LoadError("FO005", message, Position(line, column)) from None


def _syntax_error(error: MarkedYAMLError, text: str,
                  flow: tuple[str, Position] | None) -> LoadError:
    """An unclosed quote or bracket is reported where it opened, naming where it was noticed.

    The parser notices at the end of the file or on the next key, which is rarely where the
    fix goes; the opening is.
    """
    opened = _unclosed(error, text, flow)
    if opened is None:
        return LoadError("FO001", _describe(error), _position(error.problem_mark))
    what, at = opened
    noticed = _position(error.problem_mark)
    message = (f"invalid YAML: the {what} opened at {at.line}:{at.column} is never closed "
               f"({error.problem} at {noticed.line}:{noticed.column})")
    return LoadError("FO001", message, at)


def _unclosed(error: MarkedYAMLError, text: str,
              flow: tuple[str, Position] | None) -> tuple[str, Position] | None:
    """What was left open and where, if the error says something was; else None."""
    context, problem = error.context or "", error.problem or ""
    at_end = any(words in problem for words in ("end of stream", "stream end", "document"))
    if "quoted scalar" in context and at_end and error.context_mark is not None:
        return "quote", _position(error.context_mark)
    if flow is not None and "flow" in context and (
        at_end or _back_out_of(text, flow[1], error.problem_mark)
    ):
        return flow
    return None


def _back_out_of(text: str, opened: Position, mark: Any) -> bool:
    """Whether the parser stopped on a later line indented no deeper than the opening one.

    That line belongs to the enclosing block (`[a, b` followed by the next key): the bracket
    was never closed. Deeper or on the same line, it is a missing comma inside the brackets.
    """
    if mark is None or mark.line + 1 <= opened.line:
        return False
    lines = text.splitlines()
    if mark.line >= len(lines):
        return True

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    return indent(lines[mark.line]) <= indent(lines[opened.line - 1])


def _describe(error: MarkedYAMLError) -> str:
    problem = error.problem or "invalid YAML"
    if error.context:
        return f"invalid YAML: {problem} ({error.context})"
    return f"invalid YAML: {problem}"


def _position(mark: Any) -> Position:
    if mark is None:
        return START
    return Position(mark.line + 1, mark.column + 1)


def resolve_plain(text: str) -> Any:
    """The YAML 1.2 core schema: null, booleans, integers and floats; everything else a string."""
    if text and text[0] not in _MAYBE_NOT_STRING:
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if len(text) > _MAX_NUMBER_LENGTH and any(form.fullmatch(text) for form in _NUMBERS):
        # Every form, before conversion: a 10,000-digit 0x literal converts in no time, but
        # is an integer too long to print in the message that rejects it.
        raise LoadError("FO004", f"number literal longer than {_MAX_NUMBER_LENGTH} characters")
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isinf(number):
            raise LoadError("FO004", f"number {text} is too large")
        return number
    if _INF.fullmatch(text) or text in (".nan", ".NaN", ".NAN"):
        raise LoadError("FO002", f"{text} is not allowed in a flag file: numbers are finite")
    return text


@dataclass(slots=True)
class _Frame:
    container: dict[Any, Any] | list[Any]
    key_path: KeyPath
    opened: Position = START
    bracket: str | None = None
    pending_key: Any = None
    has_key: bool = False
    mapping: bool = False


class _Builder:
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
                raise LoadError("FO002", "more than one YAML document", _position(event.start_mark))

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
        position = _position(event.start_mark)
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


def _is_plain(event: ScalarEvent) -> bool:
    """libyaml marks a plain scalar with style '', the pure-Python parser with None."""
    return not event.style


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
    position = _position(event.start_mark)
    if isinstance(event, AliasEvent):
        raise LoadError("FO002", f"alias *{event.anchor} is not allowed in a flag file", position)
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        raise LoadError("FO002", f"anchor &{anchor} is not allowed in a flag file", position)
    tag = getattr(event, "tag", None)
    if tag is not None and not isinstance(event, DocumentStartEvent):
        raise LoadError("FO002", f"tag {tag} is not allowed in a flag file", position)
