"""Text and JSON for the lifecycle commands. Every repository string is escaped for people
(`escape`) or written exactly as JSON escapes (`dumps`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from validator import moments
from validator.lifecycle.status import Row
from validator.lifecycle.timeline import Event
from validator.reports.escape import dumps, escape


def when(moment: int | None) -> str:
    """UTC, to the minute; "unknown" where the history is not in this clone."""
    return "unknown" if moment is None else moments.minute_text(moment)


def iso(moment: int | None) -> str | None:
    return None if moment is None else moments.iso(moment)


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
    """The rows' fields in their order (a row holds only strings, numbers and lists of
    strings: `asdict`'s deep copy of 10,000 rows cost a second for nothing)."""
    names = [field.name for field in fields(Row)]
    found: list[dict[str, Any]] = []
    for row in rows:
        item = {name: getattr(row, name) for name in names}
        item.update(since=iso(row.since), legal_at=iso(row.legal_at))
        found.append(item)
    return dumps(found)
