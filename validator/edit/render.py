"""YAML text for the values an edit writes: plain where YAML 1.2 reads it back unchanged,
else quoted; flow collections for values written inline. Pure.

Every text rendered here is read back by the loader before anything is written (`yaml_edit`),
so a rendering that YAML would read differently is caught, not written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from validator.document import LoadError
from validator.scalars import resolve_plain

_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = frozenset(",[]{}:")
"""Quoted in flow collections: libyaml (YAML 1.1) refuses `[User:42]`, which 1.2 allows."""


def value_text(value: Any, *, style: str = "", flow: bool = False) -> str:
    """One value as YAML: scalars in `style` where it can hold them, collections in flow."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return string_text(value, style, flow=flow)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{string_text(str(k), '', flow=True)}: {value_text(v, flow=True)}"
                          for k, v in value.items())
        return f"{{{inner}}}"
    if isinstance(value, Sequence):
        return f"[{', '.join(value_text(item, style=style, flow=True) for item in value)}]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def string_text(value: str, style: str = "", *, flow: bool = False) -> str:
    """`value` plain when `style` is plain and YAML reads it back as this string; single-quoted
    when it is one printable line; double-quoted with escapes otherwise."""
    if style == "" and plain_ok(value, flow=flow):
        return value
    if style != '"' and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return _double_quoted(value)


def plain_ok(value: str, *, flow: bool) -> bool:
    if not value or value != value.strip() or not value.isprintable():
        return False
    if value[0] in _INDICATORS or ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and any(char in _FLOW_UNSAFE for char in value):
        return False
    try:
        return bool(resolve_plain(value) == value)
    except LoadError:
        return False


def _double_quoted(value: str) -> str:
    return '"' + "".join(_escaped(char) for char in value) + '"'


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
