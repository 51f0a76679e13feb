"""Bytes to a document with a position for every key and value.

The document is built from the YAML event stream (libyaml's C parser through ruamel.yaml when it
is installed) rather than from a loader, for three reasons: positions come for free with every
event, anchors, aliases, tags and duplicate keys are refused before anything is built, and plain
scalars are resolved with the YAML 1.2 core schema, so `stage: off` stays the string "off".
Every failure becomes a `LoadError` carrying a rule and a position; nothing else escapes.
"""

from __future__ import annotations

import math
import os
import re
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

from validator.findings import RULES, START, Finding, Position

MAX_BYTES = 256 * 1024
MAX_DEPTH = 8

KeyPath = tuple[str | int, ...]

_BOM = b"\xef\xbb\xbf"
_PARSER = YAML(typ="safe", pure=False)
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_MAYBE_NOT_STRING = frozenset("-+.0123456789~nNtTfF")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
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

    def key_position(self, key_path: KeyPath) -> Position:
        return self.keys.get(key_path) or self.value_position(key_path)

    def value_position(self, key_path: KeyPath) -> Position:
        """The value's position, or the nearest enclosing one that exists (for missing keys)."""
        for end in range(len(key_path), -1, -1):
            found = self.values.get(key_path[:end])
            if found is not None:
                return found
        return START


def read_document(path: Path, display_path: str) -> Document | Finding:
    """Reads and loads one file; any failure is returned as a finding."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        return RULES["FO007"].at(display_path, START, f"cannot read file: {error.strerror}")
    return load_or_finding(raw, display_path)


def load_or_finding(raw: bytes, display_path: str) -> Document | Finding:
    try:
        return load_document(raw, display_path)
    except LoadError as error:
        return error.finding(display_path)


def load_document(raw: bytes, path: str) -> Document:
    text = _decode(raw)
    try:
        return _build(text, path, _PARSER)
    except LoadError as error:
        if error.rule != "FO001":
            raise
        # libyaml follows YAML 1.1 in places (`[User:42]` is refused); the pure-Python
        # parser follows 1.2. It is slower, so it only gets the files libyaml refused.
        return _build(text, path, _pure_parser())


def _build(text: str, path: str, parser: YAML) -> Document:
    builder = _Builder(path)
    try:
        for event in parser.parse(text):
            builder.feed(event)
    except MarkedYAMLError as error:
        raise LoadError("FO001", _describe(error), _position(error.problem_mark)) from None
    except ReaderError as error:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"invalid YAML: control character U+{code:04X} is not allowed"
        raise LoadError("FO001", message, _offset_position(text, error.position)) from None
    except YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise LoadError("FO001", f"invalid YAML: {first_line}") from None
    return builder.document()


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
    if len(text) > _MAX_NUMBER_LENGTH and (_INT.fullmatch(text) or _FLOAT.fullmatch(text)):
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
    pending_key: Any = None
    has_key: bool = False


class _Builder:
    """Consumes events one by one; keeps an explicit stack, so depth costs no recursion."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.keys: dict[KeyPath, Position] = {}
        self.values: dict[KeyPath, Position] = {}

    def feed(self, event: Event) -> None:
        _refuse_features(event)
        if isinstance(event, ScalarEvent):
            self._scalar(event)
        elif isinstance(event, MappingStartEvent | SequenceStartEvent):
            self._open(event)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            self._close()
        elif isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise LoadError("FO002", "more than one YAML document", _position(event.start_mark))

    def document(self) -> Document:
        if not isinstance(self.root, dict):
            found = "empty" if self.root is None else f"a {type(self.root).__name__}"
            raise LoadError("FO006", f"the top level must be a mapping of fields, found {found}")
        return Document(self.path, self.root, self.keys, self.values)

    def _scalar(self, event: ScalarEvent) -> None:
        try:
            value = resolve_plain(event.value) if event.style == "" else event.value
        except LoadError as error:
            raise LoadError(error.rule, error.message, _position(event.start_mark)) from None
        frame = self.stack[-1] if self.stack else None
        if frame is not None and isinstance(frame.container, dict) and not frame.has_key:
            self._key(frame, value, event)
        else:
            self._attach(value, event)

    def _key(self, frame: _Frame, key: Any, event: Event) -> None:
        position = _position(event.start_mark)
        assert isinstance(frame.container, dict)
        if not isinstance(key, str):
            raise LoadError("FO103", f"unknown key {key!r}: field names are strings", position)
        if key in frame.container:
            raise LoadError("FO003", f"duplicate key {key!r}", position)
        frame.pending_key, frame.has_key = key, True
        self.keys[(*frame.key_path, key)] = position

    def _open(self, event: MappingStartEvent | SequenceStartEvent) -> None:
        frame = self.stack[-1] if self.stack else None
        if frame is not None and isinstance(frame.container, dict) and not frame.has_key:
            raise LoadError("FO002", "complex (non-scalar) keys are not allowed",
                            _position(event.start_mark))
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError("FO004", f"nesting deeper than {MAX_DEPTH} levels",
                            _position(event.start_mark))
        container: dict[Any, Any] | list[Any] = (
            {} if isinstance(event, MappingStartEvent) else []
        )
        key_path = self._attach(container, event)
        self.stack.append(_Frame(container, key_path))

    def _close(self) -> None:
        self.stack.pop()

    def _attach(self, value: Any, event: Event) -> KeyPath:
        position = _position(event.start_mark)
        if not self.stack:
            self.root = value
            self.values[()] = position
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, dict):
            key_path: KeyPath = (*frame.key_path, frame.pending_key)
            frame.container[frame.pending_key] = value
            frame.has_key = False
        else:
            key_path = (*frame.key_path, len(frame.container))
            frame.container.append(value)
        self.values[key_path] = position
        return key_path


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


def flag_paths(root: Path, folder: str = "flags",
               suffix: str | tuple[str, ...] = ".yml") -> list[str]:
    """Every <folder>/**/*<suffix> under root, as sorted relative POSIX paths.

    Strings and os.walk rather than pathlib: at 10,000 files pathlib costs tens of ms.
    """
    found: list[str] = []
    top = os.path.join(root, folder)
    for directory, subdirectories, files in os.walk(top):
        subdirectories.sort()
        relative = os.path.relpath(directory, root).replace(os.sep, "/")
        # A folder named *.yml is reported as unreadable rather than silently skipped.
        names = (*files, *subdirectories)
        found.extend(f"{relative}/{name}" for name in names if name.endswith(suffix))
    return sorted(found)


def not_read(paths: list[str]) -> list[Finding]:
    """Warnings for files that look like flags but are not read (`.yaml` instead of `.yml`)."""
    return [RULES["FO008"].at(path, START, f"{path} is not read: flag files end in .yml; "
                              f"rename it to {stem(path).removesuffix('.yaml')}.yml")
            for path in paths if path.endswith(".yaml")]


def stem(path: str) -> str:
    return path.rpartition("/")[2].removesuffix(".yml")
