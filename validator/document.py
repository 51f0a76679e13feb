"""What a flag file loads to: plain data with the position of every key and value, or a
`LoadError` that knows its rule and position."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validator.findings import RULES, START, Finding, Position

KeyPath = tuple[str | int, ...]


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
