"""Rollout states of flag blobs kept between runs, so that a second `status` or
`build --history` does not parse the history's tens of thousands of blobs again.

An entry is keyed by the blob's object id, its path and mode (what `landings.state_at` reads)
in a pack whose context is the per-file cache's (`validator.cache.context_digest`: the
validator's source, the parser and model libraries, Python, the policy and schema bytes). A
blob id is a digest of the blob's bytes, so an entry can never be stale; it is still decoded
strictly, and one that does not decode to exactly what a parse gives is a miss, never an
error: a corrupt, truncated or foreign pack is rebuilt, not trusted.

The pack lives beside the per-file cache's (`--cache-dir`, FLAGOPS_CACHE_DIR, XDG; in CI only
when named; none with `--no-cache`), one per repository and context, written whole to a
temporary file and renamed, so concurrent runs never tear it (the last writer wins; the
loser's entries are parsed again next time). The gate never reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import ValidationError

from validator.cache.keys import context_digest
from validator.cache.packs import read_pack, write_pack
from validator.cache.settings import Settings, safe_folder
from validator.model import Flag, Percentage, Stage
from validator.transitions import RolloutState

KIND = "states-1"
"""The pack's name and format: another format of entry is another file."""
HEADS = "heads-1"
"""The pack of whole flags (their documents' data) at the head of the last run."""


class Miss:
    """Not in the pack (distinct from a stored None: no readable flag in that blob)."""


MISS = Miss()


def entry_key(oid: str, path: str, mode: str) -> str:
    """One blob as one path reads it; a path is part of it since a document is read at one."""
    digest = hashlib.blake2b(f"{oid}\0{mode}\0".encode("ascii", "replace"), digest_size=16)
    digest.update(path.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(slots=True)
class StateStore:
    """The pack of one repository and context: read once, looked up, written back once."""

    path: Path
    context: str
    entries: dict[str, Any] | None
    """The states pack's entries; None until a state is first looked up: a run whose facts
    are all kept (`facts_cache`) needs only the heads, and never reads this pack."""
    heads_path: Path
    heads: dict[str, Any]
    fresh: dict[str, Any] = field(default_factory=dict)
    fresh_heads: dict[str, Any] = field(default_factory=dict)
    used_heads: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, settings: Settings, root: Path, *,
             version: str | None = None) -> StateStore | None:
        """The store for this repository, or None where there is no cache or it is unsafe.
        `version` stands in for the source digest in tests, as in `Cache.open`."""
        if settings.directory is None or not safe_folder(settings.directory, root):
            return None
        context = context_digest(root, version=version)
        shard = hashlib.blake2b(f"{os.path.realpath(root)}\0{context}".encode(
            "utf-8", "surrogatepass"), digest_size=16).hexdigest()
        path = settings.directory / f"{shard}.{KIND}.json"
        heads = settings.directory / f"{shard}.{HEADS}.json"
        return cls(path, context, None, heads, read_pack(heads, context))

    def states(self) -> dict[str, Any]:
        """The states pack's entries, read on first use."""
        if self.entries is None:
            self.entries = read_pack(self.path, self.context)
        return self.entries

    def get(self, key: str) -> RolloutState | Miss | None:
        """The stored state, None for a blob with no readable flag, MISS when not stored or
        not decodable."""
        entry = self.states().get(key)
        if entry is None:
            return MISS
        try:
            return decode(entry, key)
        except (TypeError, ValueError, KeyError, IndexError, ValidationError):
            return MISS

    def put(self, key: str, state: RolloutState | None) -> None:
        self.fresh[key] = encode(key, state)

    def flag(self, key: str) -> Flag | Miss | None:
        """The whole flag of a head blob, validated again from its document's data (so it
        is the flag a parse gives); None: no readable flag there; MISS: not stored."""
        entry = self.heads.get(key)
        if not _whole(entry, key):
            return MISS
        try:
            flag = None if entry[1] is None else Flag.model_validate(entry[1])
        except ValidationError:
            return MISS
        self.used_heads.add(key)
        # The flag holds it now; 10,000 documents' data held besides were a third of a
        # warm status's peak.
        self.heads[key] = READ
        return flag

    def put_flag(self, key: str, data: dict[str, Any] | None, readable: bool) -> None:
        """Keeps a head blob's document data when JSON gives it back exactly (else it is
        parsed again next time); `readable`: whether it made a flag."""
        if readable and (data is None or not plain(data)):
            return
        self.fresh_heads[key] = [key, data if readable else None]
        self.used_heads.add(key)

    def save(self, *, every_head: bool) -> None:
        """Writes the packs when anything was new: old states are kept (blob ids never go
        stale), old heads only when this run did not read every head (`every_head`). A
        failure leaves the old packs."""
        with contextlib.suppress(OSError, ValueError):
            if self.fresh:
                self.entries = {**self.states(), **self.fresh}
                write_pack(self.path, self.context, self.entries)
            heads = {**self.heads, **self.fresh_heads}
            if every_head:
                heads = {key: heads[key] for key in self.used_heads if key in heads}
            if heads.keys() != self.heads.keys():
                heads = self._filled(heads)
                write_pack(self.heads_path, self.context, heads)
                self.heads = heads
        self.fresh, self.fresh_heads = {}, {}


    def _filled(self, heads: dict[str, Any]) -> dict[str, Any]:
        """The heads to write with the data of those this run read (`READ`) read again from
        the pack; one that is no longer there as it was is left out, to be parsed again."""
        if not any(value is READ for value in heads.values()):
            return heads
        again = read_pack(self.heads_path, self.context)
        return {key: again[key] if value is READ else value for key, value in heads.items()
                if value is not READ or _whole(again.get(key), key)}


READ = Miss()
"""In place of a head entry whose flag this run has made: its data is read again from the
pack only if the pack is rewritten."""


def _whole(entry: Any, key: str) -> TypeGuard[list[Any]]:
    """Whether a heads entry has the shape `StateStore.flag` reads (it validates it then)."""
    return isinstance(entry, list) and len(entry) == 2 and entry[0] == key and \
        (entry[1] is None or isinstance(entry[1], dict))


def plain(value: Any) -> bool:
    """Whether JSON gives this value back exactly: strings, exact numbers, booleans, null,
    lists and string-keyed objects only (YAML can make other keys)."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return True
    if kind is list:
        return all(plain(item) for item in value)
    if kind is dict:
        return all(type(key) is str and plain(item) for key, item in value.items())
    return False


def encode(key: str, state: RolloutState | None) -> list[Any]:
    if state is None:
        return [key, None]
    percentage = None if state.percentage is None else \
        [state.percentage.of, state.percentage.value]
    return [key, [state.name, state.stage.value, sorted(state.actors), percentage,
                  state.default_enabled]]


def decode(entry: Any, key: str) -> RolloutState | Miss | None:
    """An entry back to the state it was made from; MISS unless every part is as written."""
    if not isinstance(entry, list) or len(entry) != 2 or entry[0] != key:
        return MISS
    if entry[1] is None:
        return None
    name, stage, actors, percentage, default_enabled = entry[1]
    if type(name) is not str or type(default_enabled) is not bool or \
            not isinstance(actors, list) or not all(type(actor) is str for actor in actors):
        return MISS
    share = None
    if percentage is not None:
        of, value = percentage
        if type(value) not in (int, float):
            return MISS
        share = Percentage.model_validate({"of": of, "value": value})
    return RolloutState(name, Stage(stage), frozenset(actors), share, default_enabled)
