"""When did a flag's base state land? Pure: commits and a state reader in, a timestamp out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from validator.git import Commit

State = TypeVar("State")


def landing_time(
    commits: Sequence[Commit],
    path: str,
    state: State,
    state_at: Callable[[str], State | None],
    *,
    shallow: bool,
) -> int | None:
    """Committer time of the commit that introduced `state`; None if the clone lacks it.

    `commits` are the base branch's first-parent commits, newest first; the state is only
    the rollout part of the file, so edits to a description do not restart the clock.
    """
    landed: int | None = None
    for commit in commits:
        if path not in commit.paths:
            continue
        if state_at(commit.sha) != state:
            return landed
        landed = commit.committed_at
    return None if shallow else landed
