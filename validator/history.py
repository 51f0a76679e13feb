"""When did a flag's base state land? Pure: commits and a state reader in, a timestamp out.

The clock is the committer time of first-parent commits, made monotone: a commit counts as
landing no earlier than any commit before it on the line (`trusted_times`). So a commit dated
out of order, backdated or not, can only make people wait longer, never shorter. With
`require_merge_commits`, a state that landed in a commit which is not a merge (a fast-forward
or a direct push, whose dates its author sets) starts its soak at the next merge commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import not_
from typing import TypeVar

from validator.git import Change, Entry
from validator.git.log import Commit, FirstParent

State = TypeVar("State")

StateOf = Callable[[Entry], State | None]
"""Reads the rollout state of one side of a change (None: no flag there, or unreadable)."""


@dataclass(frozen=True, slots=True)
class Clock:
    """Trusted landing times of a first-parent line, and where soaking is certain."""

    times: dict[str, int | None]
    """Each commit's time: its committer time, or a later one of a commit before it (with
    merge commits required, the time of the nearest merge at or after it; None if none)."""
    horizon_commit: str | None
    """The newest commit whose trusted time is before the horizon (None: none is)."""
    roots: frozenset[str] = frozenset()
    """Commits without parents: in a shallow clone, where the known history is cut."""
    earliest: dict[str, int] = field(default_factory=dict)
    """Each commit's time for an age (how long something has been there): its committer
    time, or an earlier one of a commit after it on the line. The mirror of `times`: a commit
    dated in the future cannot make what it added look younger than the commits that landed
    after it (the merge that took it, say)."""


def trusted_times(line: Sequence[FirstParent], horizon: int | None,
                  cut: frozenset[str] = frozenset(), *,
                  merges_only: bool = False) -> Clock:
    """`line` is newest first, as git lists it; the running maximum goes oldest first.

    `cut` names the commits where a shallow clone's history ends. Computed by columns
    (`accumulate`, `zip`): a line of 20,000 commits is read at every judged change.
    """
    if not line:
        return Clock({}, None, cut, {})
    shas, stamps, parents = zip(*line, strict=True)
    monotone = dict(zip(reversed(shas), accumulate(reversed(stamps), max), strict=True))
    times: dict[str, int | None] = dict(monotone)
    if merges_only:
        nearest: int | None = None  # walking from the tip down: the closest merge above
        for commit in line:
            if commit.parents > 1:
                nearest = monotone[commit.sha]
            times[commit.sha] = nearest
    horizon_commit = next((commit.sha for commit in line if horizon is not None
                           and (time := times[commit.sha]) is not None and time < horizon),
                          None)
    roots = cut | frozenset(compress(shas, map(not_, parents)))
    earliest = dict(zip(shas, accumulate(stamps, min), strict=True))  # from the tip down
    return Clock(times, horizon_commit, roots, earliest)


def _side_state(changes: Sequence[Change], name_of: Callable[[str], str], name: str,
                state_of: StateOf[State], *, after: bool) -> State | None:
    for change in changes:
        entry = change.after if after else change.before
        if entry is not None and name_of(change.path) == name:
            found = state_of(entry)
            if found is not None:
                return found
    return None


def landing_time(
    commits: Sequence[Commit],
    name: str,
    state: State,
    state_of: StateOf[State],
    name_of: Callable[[str], str],
    clock: Clock,
    *,
    shallow: bool,
) -> int | None:
    """Trusted time of the commit that introduced `state` for flag `name`; None if unknown.

    `commits` are the base branch's first-parent commits that touched the flag's file, in
    any folder (a move is not a change of state), newest first, and only those after the
    clock's horizon commit: a state already present there has soaked for any policy.
    None means the history is not in this clone, or (with merge commits required) that no
    merge commit has landed since the state did.
    """
    introduced: Commit | None = None
    for commit in commits:
        if _side_state(commit.changes, name_of, name, state_of, after=True) != state:
            break  # only with two files of one name: the state's origin is unclear
        introduced = commit
        if shallow and commit.sha in clock.roots:
            return None  # the clone's cut shows every file as added there: no evidence
        if _side_state(commit.changes, name_of, name, state_of, after=False) != state:
            return clock.times.get(introduced.sha)
    else:
        if shallow:
            return None
        if clock.horizon_commit is not None:
            return clock.times[clock.horizon_commit]
    return clock.times.get(introduced.sha) if introduced else None
