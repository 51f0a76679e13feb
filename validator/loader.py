"""Bytes to a document with a position for every key and value (validator.document).

The document is built from the YAML event stream (libyaml's C parser through ruamel.yaml when it
is installed) rather than from a loader, for three reasons: positions come for free with every
event, anchors, aliases, tags and duplicate keys are refused before anything is built, and plain
scalars are resolved with the YAML 1.2 core schema, so `stage: off` stays the string "off".
Every failure becomes a `LoadError` carrying a rule and a position; nothing else escapes.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import Event
from ruamel.yaml.reader import ReaderError

from validator.document import Document, LoadError
from validator.events import Builder, position_of
from validator.files import MAX_BYTES, read_bytes
from validator.findings import START, Finding, Position, not_utf8, text_position

_BOM = b"\xef\xbb\xbf"
try:  # libyaml's parser, driven directly (see _c_events)
    _CParser: Any = importlib.import_module("_ruamel_yaml").CParser
except ImportError:  # pragma: no cover - ruamel.yaml.clib is a dependency
    _CParser = None
Events = Callable[[str], Iterator[Event]]


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
    _refuse_hidden_breaks(text)
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
    builder = Builder(path)
    try:
        for event in events(text):
            builder.feed(event)
    except MarkedYAMLError as error:
        raise _syntax_error(error, text, builder.open_flow()) from None
    except ReaderError as error:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"invalid YAML: control character U+{code:04X} is not allowed"
        raise LoadError("FO001", message, text_position(text, error.position)) from None
    except YAMLError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "error"
        raise LoadError("FO001", f"invalid YAML: {first_line}") from None
    except (ValueError, OverflowError):  # the pure parser's chr() on an escape past U+10FFFF
        found = _BEYOND_UNICODE.search(text)
        where = text_position(text, found.start()) if found else START
        raise LoadError("FO001", "invalid YAML: an escape names no Unicode character (the "
                        "largest is \\U0010FFFF)", where) from None
    return builder.document()


_BEYOND_UNICODE = re.compile(r"\\U(?:0*[1-9A-Fa-f][0-9A-Fa-f]{6,}"  # \U01000000 and up
                             r"|00(?:1[1-9A-Fa-f]|[2-9A-Fa-f][0-9A-Fa-f])[0-9A-Fa-f]{4})")


@lru_cache(maxsize=1)
def _pure_parser() -> YAML:
    return YAML(typ="safe", pure=True)


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise LoadError("FO004", f"file is larger than {MAX_BYTES // 1024} KiB")
    if raw.startswith(_BOM):
        raise LoadError("FO005", "file starts with a byte order mark; save it as UTF-8 without BOM")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        where, message = not_utf8(raw, error)
        raise LoadError("FO005", message, where) from None


_HIDDEN_BREAKS = re.compile("[\x85\u2028\u2029]|\r(?!\n)")
_BREAK_NAMES = {"\x85": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR",
                "\r": "CARRIAGE RETURN (without a line feed after it)"}


def _refuse_hidden_breaks(text: str) -> None:
    """YAML's parser (libyaml follows YAML 1.1 here) breaks lines at these characters, where
    editors, diffs and review show none: `# a note<U+2028>stage: enabled` holds a key that a
    reviewer reads as part of the comment. Written as an escape in a double-quoted value
    (`"\u2028"`), such a character is still allowed where the value may hold it.

    A carriage return is one too when no line feed follows it: YAML breaks lines at a lone
    CR, git counts lines by LF (the diff shows one line) and a web review renders it as a
    space (CSS), so `# a note<CR>stage: enabled` read as a comment there as well. CRLF line
    ends (Windows editors) are one break for everyone, and stay accepted."""
    if text.isascii() and "\r" not in text:
        return
    found = _HIDDEN_BREAKS.search(text)
    if found is not None:
        character = found[0]
        raise LoadError("FO104", f"U+{ord(character):04X} {_BREAK_NAMES[character]}: YAML reads "
                        "it as a line break, where editors and review show none; remove it",
                        text_position(text, found.start()))


def _syntax_error(error: MarkedYAMLError, text: str,
                  flow: tuple[str, Position] | None) -> LoadError:
    """An unclosed quote or bracket is reported where it opened, naming where it was noticed.

    The parser notices at the end of the file or on the next key, which is rarely where the
    fix goes; the opening is.
    """
    opened = _unclosed(error, text, flow)
    if opened is None:
        return LoadError("FO001", _describe(error), position_of(error.problem_mark))
    what, at = opened
    noticed = position_of(error.problem_mark)
    message = (f"invalid YAML: the {what} opened at {at.line}:{at.column} is never closed "
               f"({error.problem} at {noticed.line}:{noticed.column})")
    return LoadError("FO001", message, at)


def _unclosed(error: MarkedYAMLError, text: str,
              flow: tuple[str, Position] | None) -> tuple[str, Position] | None:
    """What was left open and where, if the error says something was; else None."""
    context, problem = error.context or "", error.problem or ""
    at_end = any(words in problem for words in ("end of stream", "stream end", "document"))
    if "quoted scalar" in context and at_end and error.context_mark is not None:
        return "quote", position_of(error.context_mark)
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


