"""The one escaping every report uses for text it did not write itself.

File names, messages that quote values, actors and override reasons come from the repository,
which a merge request controls. Raw, they could repaint a reviewer's terminal (ESC and C1
sequences), split one finding over several lines (newlines), reorder what a reader sees (bidi
controls) or hide text (tag and zero-width characters); and a file name that is not UTF-8
reaches us as lone surrogates (PEP 383), which no encoder will write.

The formats people read (text, GitHub annotations, JUnit, SARIF, Code Quality) show such
characters the way Python's repr does: `\\x1b`, `\\n`, `\\u202e`, and `\\xff` for a byte that
was not UTF-8. The JSON report is for programs: it keeps the text exact and writes every unsafe
character as a JSON escape. Every JSON format goes through `dumps`, so none holds a raw one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
"""Controls, format characters (bidi, zero-width, tags), surrogates, unassigned and line or
paragraph separators. Everything else, letters of every script and emoji included, is shown."""
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_NON_ASCII = re.compile(r"[^\x20-\x7e\n]")
"""Candidates for the JSON pass; C0 controls inside strings are already escaped by json."""


def escape(text: str, *, keep: str = "") -> str:
    """`text` with every unsafe character replaced by its backslash escape: one line, which
    no CI runner reads as a command either. GitHub's runner takes `##[command]data` anywhere
    in a log line (the old form of `::command::`): `##[stop-commands]` in a flag file turned
    off the job's own annotations. Its `[` is written `\\x5b` (`::` at a line's start:
    `line_start`).

    `keep` names characters that the format escapes its own way (GitHub's `%0A`)."""
    if text.isprintable() and _RUNNER_COMMAND not in text:
        return text  # the common case
    return "".join(
        _escaped(char) if _unsafe(char) and char not in keep else char for char in text
    ).replace(_RUNNER_COMMAND, "##\\x5b")


def line_start(text: str) -> str:
    """`escape(text)` for text that starts a line: GitHub's runner also reads `::command::`
    at a line's start (after trimming it), so the first `:` of such text is `\\x3a`. A path
    `::stop-commands::x` first on a report line turned the job's annotations off. Elsewhere
    (an annotation's `file=`, a JSON path) the text stays as it is."""
    shown = escape(text)
    if not shown.lstrip().startswith("::"):
        return shown
    at = shown.index(":")
    return f"{shown[:at]}\\x3a{shown[at + 1:]}"


_RUNNER_COMMAND = "##["


def dumps(value: Any) -> str:
    """Indented JSON with no raw unsafe character. A JSON reader gets the value back exactly,
    except the bytes of a non-UTF-8 name (lone surrogates): JSON cannot carry them, so they
    arrive as the text `\\xff`."""
    import json  # (a text report, the hook's, needs none)

    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _NON_ASCII.sub(_json_escape, text) + "\n"


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _json_escape(match: re.Match[str]) -> str:
    char = match[0]
    if not _unsafe(char):
        return char
    if unicodedata.category(char) == "Cs":  # inside a JSON string: an escaped backslash
        return _escaped(char).replace("\\", "\\\\")
    data = char.encode("utf-16-be")
    units = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
    return "".join(f"\\u{unit:04x}" for unit in units)
