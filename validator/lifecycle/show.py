"""Text and JSON for the lifecycle commands. Every repository string is escaped for people
(`escape`) or written exactly as JSON escapes (`dumps`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from validator.lifecycle.status import Row
from validator.lifecycle.timeline import Event
from validator.reports.escape import dumps, escape


def when(moment: int | None) -> str:
    """UTC, to the minute; "unknown" where the history is not in this clone."""
    if moment is None:
        return "unknown"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: int | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def history_text(events: Sequence[Event]) -> str:
    lines = []
    for event in events:
        came = f" ({event.merge_request})" if event.merge_request else ""
        lines.append(f"{when(event.time)}  {event.commit[:12]}{escape(came)}  "
                     f"{escape(event.author)}\n    {escape(event.before)} → "
                     f"{escape(event.after)}  [{event.step}]")
    return "\n".join(lines) + "\n"


def history_json(events: Sequence[Event]) -> str:
    return dumps([{"time": iso(event.time), "commit": event.commit, "author": event.author,
                   "merge_request": event.merge_request, "from": event.before,
                   "to": event.after, "step": event.step} for event in events])


_COLUMNS = ("flag", "state", "staging", "production", "in state", "next step", "legal",
            "owners", "age", "refs")


def status_table(rows: Sequence[Row], now: int) -> str:
    cells = [list(_COLUMNS)] + [[escape(cell) for cell in _cells(row, now)] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            .rstrip() for line in cells]
    text += [f"{row.name}: stale: {escape('; '.join(row.stale))}" for row in rows if row.stale]
    return "\n".join(text) + "\n"


def _cells(row: Row, now: int) -> list[str]:
    legal = "unknown" if row.legal_at is None else \
        "now" if row.legal_at <= now else when(row.legal_at)
    refs = {True: "yes", False: "none", None: "-"}[row.referenced]
    return [row.name, row.state, row.staging, row.production, row.in_state, row.next_step,
            legal, " ".join(row.owners) or "-", ("STALE " if row.stale else "") + row.age,
            refs]


def status_json(rows: Sequence[Row]) -> str:
    """The rows' fields in their order, as `dumps` writes the list of them, byte for byte.

    `dumps` of 10,000 rows is a second of the pure-Python indenting encoder (json's C one
    does not indent); a row holds only strings, numbers, booleans, nulls and lists of
    strings, so each is written here from C-escaped strings, and a row holding anything
    else goes through `dumps` itself."""
    if not rows:
        return dumps([])
    names = [field.name for field in fields(Row)]
    keys = [f'\n    {json_string(name)}: ' for name in names]
    found: list[str] = []
    for row in rows:
        item = {name: getattr(row, name) for name in names}
        item.update(since=iso(row.since), legal_at=iso(row.legal_at))
        found.append(_object_json(item, keys))
    return "[\n  " + ",\n  ".join(found) + "\n]\n"


def json_string(text: str) -> str:
    """A string as `dumps` writes it: C-escaped, and through `dumps` when it holds anything
    but printable ASCII (its escaping of unsafe characters)."""
    if text.isascii() and text.isprintable():
        return encode_basestring(text)
    return dumps(text)[:-1]


def _object_json(item: dict[str, Any], keys: list[str]) -> str:
    """One object of a list `dumps` indents: `{`, each key at four spaces, `}` at two."""
    parts = []
    for key, value in zip(keys, item.values(), strict=True):
        text = _value_json(value)
        if text is None:  # not a plain row: the general encoder, indented one level more
            return dumps(item)[:-1].replace("\n", "\n  ")
        parts.append(key + text)
    return "{" + ",".join(parts) + "\n  }"


def _value_json(value: Any) -> str | None:
    """A row's value as `dumps` writes it at the fields' depth; None: not a row's kind."""
    kind = type(value)
    if kind is str:
        return json_string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is list and all(type(part) is str for part in value):
        if not value:
            return "[]"
        return "[\n      " + ",\n      ".join(map(json_string, value)) + "\n    ]"
    return None
