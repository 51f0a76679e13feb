"""Flags of historical blobs, each read once, for the commands that read whole histories.

Read by the gate's own reader (`validator.landings.flag_at`), so a state here is the state
the gate reads; cached by object id, since a flag's history and the head share blobs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from validator import git
from validator.landings import flag_at
from validator.model import Flag
from validator.transitions import RolloutState

FlagOf = Callable[[git.Entry], Flag | None]


def cached_flags(reader: git.BlobReader) -> FlagOf:
    @cache
    def by_oid(oid: str, path: str, mode: str) -> Flag | None:
        return flag_at(reader, git.Entry(path, mode, oid))

    def flag_of(entry: git.Entry) -> Flag | None:
        return None if entry.oid is None else by_oid(entry.oid, entry.path, entry.mode)

    return flag_of


def state_reader(flag_of: FlagOf) -> Callable[[git.Entry], RolloutState | None]:
    def state_of(entry: git.Entry) -> RolloutState | None:
        flag = flag_of(entry)
        return None if flag is None else RolloutState.of(flag)

    return state_of
