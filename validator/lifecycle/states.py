"""Rollout states of historical blobs, each read once, for the commands that read whole
histories (status, the catalog's summaries).

Read by the gate's own reader (`validator.landings.state_at`), so a state here is the state
the gate reads; cached by object id, since a flag's history and the head share blobs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from validator import git
from validator.landings import state_at
from validator.model import Flag
from validator.transitions import RolloutState

FlagOf = Callable[[git.Entry], Flag | None]
StateOf = Callable[[git.Entry], RolloutState | None]
"""Reads the rollout state of one side of a change (None: no flag there, or unreadable)."""


def cached_states(reader: git.BlobReader) -> StateOf:
    """States by object id, read as the gate reads them (`landings.state_at`): a walk over
    tens of thousands of historical blobs keeps a small state for each, not a whole flag."""
    @cache
    def by_oid(oid: str, path: str, mode: str) -> RolloutState | None:
        return state_at(reader, git.Entry(path, mode, oid))

    def state_of(entry: git.Entry) -> RolloutState | None:
        return None if entry.oid is None else by_oid(entry.oid, entry.path, entry.mode)

    return state_of
