"""Text and JSON for the lifecycle commands. Every repository string is escaped for people
(`escape`) or written exactly as JSON escapes (`dumps`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import fields
from json.encoder import encode_basestring
from typing import TextIO

from validator import moments
from validator.lifecycle.status import Row
from validator.lifecycle.timeline import Event
from validator.reports.escape import dumps, escape


def iso(moment: int | None) -> str | None:
    return None if moment is None else moments.iso(moment)


def history_text(events: Sequence[Event]) -> str:
    lines = []
    for event in events:
        came = f" ({event.merge_request})" if event.merge_request else ""
        lines.append(f"{moments.when(event.time)}  {event.commit[:12]}{escape(came)}  "
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
        "now" if row.legal_at <= now else moments.when(moments.minute_up(row.legal_at))
    refs = {True: "yes", False: "none", None: "-"}[row.referenced]
    return [row.name, row.state, row.staging, row.production, row.in_state, row.next_step,
            legal, " ".join(row.owners) or "-", ("STALE " if row.stale else "") + row.age,
            refs]


def status_json(rows: Sequence[Row]) -> str:
    """The rows' fields in their order, as `dumps` writes the list of them, byte for byte.

    `dumps` of 10,000 rows is a second of the pure-Python indenting encoder (json's C one
    does not indent); a row holds strings, an int, a bool or null and lists of strings, so
    each is written here from C-escaped strings (`_row_json`), and a row holding anything
    else goes through `dumps` itself."""
    out = io.StringIO()
    write_status_json(rows, out)
    return out.getvalue()


def write_status_json(rows: Sequence[Row], out: TextIO) -> None:
    """`status_json` written a row at a time: 10,000 rows joined first would hold the
    text three times over (the rows, the whole, and its encoding for the stream)."""
    if not rows:
        out.write(dumps([]))
        return
    out.write("[\n  ")
    for index, row in enumerate(rows):
        out.write(_row_json(row) if index == 0 else ",\n  " + _row_json(row))
    out.write("\n]\n")


def json_string(text: str) -> str:
    """A string as `dumps` writes it: C-escaped, and through `dumps` when it holds anything
    but printable ASCII (its escaping of unsafe characters)."""
    if text.isascii() and text.isprintable():
        return encode_basestring(text)
    return dumps(text)[:-1]


def _row_json(row: Row) -> str:
    """One row as an object of a list `dumps` indents: `{`, each key at four spaces, `}` at
    two; the field order is the dataclass's (`status_json`'s test holds them together)."""
    if not _plain(row):
        item = {field.name: getattr(row, field.name) for field in fields(Row)}
        item.update(since=iso(row.since), legal_at=iso(row.legal_at))
        return dumps(item)[:-1].replace("\n", "\n  ")
    js = json_string
    referenced = "null" if row.referenced is None else "true" if row.referenced else "false"
    return (f'{{\n    "name": {js(row.name)},\n    "type": {js(row.type)},'
            f'\n    "state": {js(row.state)},\n    "staging": {js(row.staging)},'
            f'\n    "production": {js(row.production)},\n    "since": {_moment(row.since)},'
            f'\n    "in_state": {js(row.in_state)},\n    "next_step": {js(row.next_step)},'
            f'\n    "legal_at": {_moment(row.legal_at)},\n    "owners": {_strings(row.owners)},'
            f'\n    "age": {js(row.age)},\n    "stale": {_strings(row.stale)},'
            f'\n    "referenced": {referenced},\n    "action": {int.__repr__(row.action)}'
            f'\n  }}')


def _plain(row: Row) -> bool:
    """Whether every field is of the kind `_row_json` writes itself."""
    return all(type(text) is str for text in (row.name, row.type, row.state, row.staging,
                                               row.production, row.in_state, row.next_step,
                                               row.age)) and \
        all(moment is None or type(moment) is int for moment in (row.since, row.legal_at)) \
        and all(type(texts) is list and all(type(text) is str for text in texts)
                for texts in (row.owners, row.stale)) and \
        (row.referenced is None or type(row.referenced) is bool) and type(row.action) is int


def _moment(moment: int | None) -> str:
    return "null" if moment is None else json_string(iso(moment) or "")


def _strings(texts: list[str]) -> str:
    """A list of strings at the fields' depth: items at six spaces, `]` at four."""
    if not texts:
        return "[]"
    return "[\n      " + ",\n      ".join(map(json_string, texts)) + "\n    ]"
