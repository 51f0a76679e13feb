"""A file's key without reading it, when its status says it cannot have changed: git's index
rule (Documentation/technical/racy-git.txt), with the ctime and a margin.

An entry is kept per path: the status (device, inode, size, mtime, ctime, mode) of the file as
it was opened for the read whose bytes gave the key. A later run whose `lstat` gives exactly the
same status takes the key without reading. This is sound because every write to a file, every
chmod, chown and `touch -d`, sets its ctime to the current time, and nothing lets a user set a
ctime back; a file replaced by a rename is another inode, and its creation set its ctime too.

The one hole is time's own grain: a write in the same clock tick as the status that was kept
gives the same ctime. So an entry is kept only when the file's mtime and ctime are older than
the moment the run started (read before any file was opened) by `RACY_MARGIN_NS`: any write
after that read sets a ctime at least that moment (less a tick of the coarse kernel clock, or
the granularity of a coarse filesystem, both within the margin), which differs from the older
ctime kept. A file changed within the margin is read and hashed, as it is when no entry matches.

The rule has a second hole it cannot close, which git's index shares: writes through a shared
memory mapping (mmap with MAP_SHARED, then stores to the mapped pages). Linux updates mtime and
ctime on the write fault that first dirties a page; later stores to that page while it stays
dirty (until writeback cleans it and write-protects it again, on the kernel's schedule: by
default within about 30 s) change the bytes and not the times. So a process that maps a flag
file, writes to it once, waits past the margin and writes the same page again leaves a file
whose status is the one kept with the old key: a cached run gives the old verdict, `--no-cache`
the new one. Nothing here can see such a write without reading the bytes, which is what the
rule exists to avoid; the kernel is not ours to fix. Editors, git and formatters write with
write(2) or a rename, never this way. For files written through mmap, use `--no-cache`. The
gate (`--base`, `--staged`) never reads the cache, and CI reads none it was not told to, so no
merge is decided by a status kept this way.
"""

from __future__ import annotations

import os
import stat
from typing import Any

RACY_MARGIN_NS = 2_000_000_000
"""Covers the kernel's coarse clock (a few ms), filesystems that keep 1 or 2 s (FAT, HFS+) and
small steps of the clock; a network filesystem whose server's clock runs behind ours by more
than this could defeat the rule (use --no-cache there)."""


def status(info: os.stat_result) -> str:
    """What the entry compares: every field that a change of the file's bytes must alter,
    as one string (a pack of 10,000 of them parses three times faster than lists of ints)."""
    return (f"{info.st_dev} {info.st_ino} {info.st_size} {info.st_mtime_ns} "
            f"{info.st_ctime_ns} {info.st_mode} ")


class StatKeys:
    """The entries of the last run, looked up by path; the entries of this one, to keep."""

    def __init__(self, stored: dict[str, Any], started_ns: int,
                 margin_ns: int = RACY_MARGIN_NS) -> None:
        self.stored = stored
        self.kept: dict[str, str] = {}
        """Per path, its status and key: "dev ino size mtime ctime mode key"."""
        self.settled_before = started_ns - margin_ns
        self.hits = 0

    def lookup(self, full_path: str, path: str) -> str | None:
        """The key kept for path if its status is exactly the one kept; else None (read it)."""
        entry = self.stored.get(path)
        if type(entry) is not str:
            return None
        try:
            info = os.lstat(full_path)
        except OSError:
            return None
        now = status(info)
        if not stat.S_ISREG(info.st_mode) or not entry.startswith(now):
            return None
        self.kept[path] = entry
        self.hits += 1
        return entry[len(now):]

    def note(self, path: str, info: os.stat_result, key: str) -> None:
        """Keeps the key of bytes just read under the status they were read with, unless the
        file changed too recently to tell a later write in the same tick from this one."""
        if max(info.st_mtime_ns, info.st_ctime_ns) < self.settled_before:
            self.kept[path] = status(info) + key

    def to_save(self, *, complete: bool) -> dict[str, Any] | None:
        """The entries to write back, or None when they are the stored ones."""
        entries = self.kept if complete else {**self.stored, **self.kept}
        return None if entries == self.stored else entries
