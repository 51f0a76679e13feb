"""A pack and, beside it, the entries written since: a run that changed a few of 10,000 files
writes those few, not the whole pack again (encoding and writing two 1.5 MB packs were about
a seventh of such a run at 10,000 flags).

`<shard>.<kind>.json` is the whole pack as its last full write left it, and
`<shard>.<kind>.recent.json` the entries that differ from it since (same format and context).
A reader takes both, the recent ones over the whole. A writer sends the entries that differ
from the whole pack it read to the recent file while they are few, and otherwise writes the
whole pack afresh and removes the recent file. Entries a run no longer uses stay in the whole
pack until then.

Any interleaving of concurrent runs is sound because every entry vouches for itself, whichever
file and whichever run it comes from: a summary is filed under the digest of the bytes, path
and context it was made of, and a status entry gives its key only to a file whose status is
exactly the one kept (stat_keys.py). A recent file written against an older whole pack, or a
whole pack written while another run wrote its recent file, can make a run miss, never hit
wrongly; a torn or foreign recent file is no entries, as a pack is (`read_pack`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, NamedTuple

from validator.cache.packs import read_pack, write_pack

RECENT_SHARE = 16
"""The recent file differs from the whole pack in at most a sixteenth of the whole pack's
entries (changed, new, and unused ones it still holds), else the whole pack is written
again: a first run, and small trees, write whole packs."""


class Journaled(NamedTuple):
    """A pack as read: its entries (the recent ones over the whole pack's), and the whole
    pack's own, which a write is measured against."""

    entries: dict[str, Any]
    whole: dict[str, Any]


def recent_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json") + ".recent.json")


def read_journaled(path: Path, context: str) -> Journaled:
    """The pack at `path` with the entries written beside it since."""
    whole = read_pack(path, context)
    recent = read_pack(recent_path(path), context)
    return Journaled({**whole, **recent} if recent else whole, whole)


def write_journaled(path: Path, context: str, entries: dict[str, Any],
                    whole: dict[str, Any]) -> None:
    """`entries` as the pack's content from now on: as the recent file's difference from the
    whole pack (`whole`, as this run read it) while that is small, else as a new whole pack."""
    changed = {key: value for key, value in entries.items() if whole.get(key) != value}
    unused = len(whole.keys() - entries.keys())
    if len(changed) + unused <= len(whole) // RECENT_SHARE:
        write_pack(recent_path(path), context, changed)
        return
    if write_pack(path, context, entries):
        with contextlib.suppress(OSError):
            os.unlink(recent_path(path))
