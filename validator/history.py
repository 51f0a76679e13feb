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
    horizon: int | None = None,
) -> int | None:
    """Committer time of the commit that introduced `state`; None if the clone lacks it.

    `commits` are the base branch's first-parent commits, newest first; the state is only
    the rollout part of the file, so edits to a description do not restart the clock.
    With a `horizon`, `commits` stop there: a state that already existed before it landed
    long enough ago for any soak, and the horizon itself is returned.
    """
    landed: int | None = None
    oldest: Commit | None = None
    for commit in commits:
        if path not in commit.paths:
            continue
        if state_at(commit.sha) != state:
            return landed
        landed, oldest = commit.committed_at, commit
    if horizon is None:
        return None if shallow else landed
    if oldest is None or state_at(f"{oldest.sha}^") == state:
        return horizon
    return landed
