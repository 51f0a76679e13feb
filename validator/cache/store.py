"""The cache of one repository and context: its packs read once, looked up, written back once."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.cache.journal import read_journaled, write_journaled
from validator.cache.keys import context_digest, file_key, parts_key
from validator.cache.packs import (
    decode,
    decode_verdict,
    encode,
    encode_verdict,
    read_pack,
    write_pack,
)
from validator.cache.settings import Settings, safe_folder
from validator.cache.stat_keys import RACY_MARGIN_NS, StatKeys
from validator.check import FileSummary, TreeVerdict
from validator.pyproject_file import PyprojectRead, read_pyproject

Clock = Callable[[], int]
"""Nanoseconds since the epoch, as file times count them (time.time_ns)."""
JOURNALED = ("stats", "summaries", "data")
"""The packs of one entry per file, kept with the entries written since (journal.py); the
verdict and derived outputs are one entry each, written whole."""


@dataclass(slots=True)
class Cache:
    """The packs of one repository and context: read once, looked up, written back once."""

    directory: Path
    shard: str
    context: str
    with_data: bool
    stats: StatKeys
    pyproject: PyprojectRead
    """The one read of pyproject.toml that the context was made of: the policy of this run is
    loaded from it (validator/tree.py `tree_policy`), never from the file read again."""
    loaded: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The packs read so far, by kind: each is read when first needed (a run whose verdict
    is a hit reads neither the summaries nor the data)."""
    wholes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Of the packs kept with their recent entries (journal.py), each whole pack's own
    entries, by kind: what a write is measured against."""
    fresh: dict[str, FileSummary] = field(default_factory=dict)
    hits: int = 0
    used: frozenset[str] = frozenset()
    """The keys of the files the last check used: what a derived output is made of."""

    @classmethod
    def open(cls, settings: Settings, root: Path, *, with_data: bool,
             version: str | None = None, clock: Clock = time.time_ns,
             margin_ns: int = RACY_MARGIN_NS) -> Cache | None:
        """The cache for this tree, or None where there is none or its folder is unsafe.

        `clock` is read once, here, before any flag file is opened: the racy rule of
        validator/cache/stat_keys.py measures files' ages against it.
        """
        started = clock()
        if settings.directory is None or not safe_folder(settings.directory, root):
            return None
        pyproject = read_pyproject(root)
        context = context_digest(root, pyproject=pyproject, version=version)
        shard = hashlib.blake2b(f"{os.path.realpath(root)}\0{context}".encode("utf-8",
                                "surrogatepass"), digest_size=16).hexdigest()
        directory = settings.directory
        stored = read_journaled(directory / f"{shard}.stats.json", context)
        stats = StatKeys(stored.entries, started, margin_ns)
        return cls(directory, shard, context, with_data, stats, pyproject,
                   wholes={"stats": stored.whole})

    @property
    def summaries(self) -> dict[str, Any]:
        found = self.loaded.get("summaries")  # asked once per file: the short way first
        return found if found is not None else self._read("summaries")

    @property
    def data(self) -> dict[str, Any]:
        return self._read("data") if self.with_data else {}

    def _read(self, kind: str) -> dict[str, Any]:
        if kind not in self.loaded:
            if kind in JOURNALED:
                self.loaded[kind], self.wholes[kind] = read_journaled(self._pack(kind),
                                                                      self.context)
            else:
                self.loaded[kind] = read_pack(self._pack(kind), self.context)
        return self.loaded[kind]

    def known_context(self) -> bool:
        """Whether a run in this context wrote a pack (then the policy loaded once, here)."""
        return bool(self.stats.stored) or bool(self.summaries)

    def key(self, path: str, raw: bytes) -> str:
        return file_key(self.context, path, raw)

    def known_key(self, full_path: str, path: str) -> str | None:
        """The key of path's bytes without reading them, when its status allows (stat_keys)."""
        return self.stats.lookup(full_path, path)

    def note(self, path: str, info: os.stat_result, key: str) -> None:
        self.stats.note(path, info, key)

    def get(self, key: str, path: str, *, with_data: bool = False) -> FileSummary | None:
        """The stored result for key, only if it is exactly of the shape a fresh run gives;
        `with_data`: with the flag's data too (the build's), which only a data pack holds."""
        try:
            summary = decode(self.summaries.get(key), key, path)
            if summary is not None and with_data and summary.name_at is not None:
                data = self.data.get(key)
                if type(data) is not list or len(data) != 2 or data[0] != key or \
                        type(data[1]) is not dict:
                    return None
                summary = FileSummary(summary.path, summary.flag, summary.findings,
                                      summary.name_at, data[1])
        except (TypeError, ValueError, KeyError, IndexError):
            return None
        if summary is not None:
            self.hits += 1
        return summary

    def put(self, key: str, summary: FileSummary) -> None:
        self.fresh[key] = summary

    def save(self, used: set[str], *, complete: bool, summaries: bool = True) -> None:
        """Writes the packs back when anything was new: the entries used by this run, and the
        others too when it checked only some files. Failures leave the old packs.

        `summaries` False: the run read no summary (its verdict was a hit); they stay as they
        are, and only the statuses are written.
        """
        self.used = frozenset(used)
        stats = self.stats.to_save(complete=complete)
        with contextlib.suppress(OSError, ValueError):
            if stats is not None:
                write_journaled(self._pack("stats"), self.context, stats, self.wholes["stats"])
            if summaries and (self.fresh or (complete and used != set(self.summaries))):
                self._save_summaries(used if complete else used | set(self.summaries))

    def _save_summaries(self, kept: set[str]) -> None:
        stored = self.summaries
        summaries = {key: stored[key] for key in kept if key in stored}
        summaries.update({key: encode(key, s) for key, s in self.fresh.items()})
        write_journaled(self._pack("summaries"), self.context, summaries,
                        self.wholes["summaries"])
        if self.with_data:
            stored = self.data
            data = {key: stored[key] for key in kept if key in stored}
            data.update({key: [key, s.data] for key, s in self.fresh.items()
                         if s.data is not None})
            write_journaled(self._pack("data"), self.context, data, self.wholes["data"])

    def has_verdict(self) -> bool:
        return bool(self._read("verdict"))

    def verdict(self, parts: list[str], paths: list[str]) -> TreeVerdict | None:
        """The verdict of the last whole run, if it was made of exactly these parts: each
        file's path and key (or the finding it gave instead), in order; `paths` are the files'
        paths, which the parts hold too."""
        key = parts_key(self.context, ["verdict", *parts])
        entry = self._read("verdict").get(key)
        if type(entry) is not list or len(entry) != 2 or entry[0] != key:
            return None
        return decode_verdict(entry[1], paths)

    def keep_verdict(self, parts: list[str], verdict: TreeVerdict) -> None:
        """One verdict per repository and context: the last whole run's."""
        key = parts_key(self.context, ["verdict", *parts])
        entry = [key, encode_verdict(verdict)]
        if self._read("verdict").get(key) == entry:
            return
        with contextlib.suppress(OSError, ValueError):
            write_pack(self._pack("verdict"), self.context, {key: entry})

    def derived_key(self, *parts: str) -> str:
        """The key of an output made from every file of the last check (the merged config),
        the context and `parts` (its options)."""
        return parts_key(self.context, [*parts, *sorted(self.used)])

    def derived(self, name: str, key: str) -> Any:
        """The output stored under key, or None (a different key is a miss, as in a pack)."""
        stored = read_pack(self._pack(name), self.context)
        entry = stored.get(key)
        return entry[1] if type(entry) is list and len(entry) == 2 and \
            entry[0] == key else None

    def keep_derived(self, name: str, key: str, value: Any) -> None:
        """One output per name and repository: the last one made."""
        with contextlib.suppress(OSError, ValueError):
            write_pack(self._pack(name), self.context, {key: [key, value]})

    def _pack(self, kind: str) -> Path:
        return self.directory / f"{self.shard}.{kind}.json"
