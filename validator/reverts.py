"""A released flag that comes back as the revert of its removal: the one new flag allowed to
arrive released, because the branch had released it before (by the trusted clock).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from validator import git
from validator.check import LoadedFlag
from validator.files import stem
from validator.git import log as git_log
from validator.history import landing_time
from validator.landings import branch_clock, flag_at, name_pathspec, state_at
from validator.model import Flag, Stage
from validator.policy import Policy
from validator.transitions import RolloutState


def removed_names(root: Path, base: str) -> frozenset[str]:
    """Every flag name the base branch ever removed (or moved away), from one log: a name
    never removed cannot come back as a revert, nor be told from a new one by an import."""
    if base == git.EMPTY_TREE:
        return frozenset()
    return frozenset(stem(path) for path in git_log.removed_paths(root, base)
                     if git.is_flag_path(path))


def released_before_removal(root: Path, reader: git.BlobReader, base: str,
                            before: Mapping[str, LoadedFlag],
                            after: Mapping[str, LoadedFlag], policy: Policy,
                            ever_removed: Callable[[], frozenset[str]]) -> set[str]:
    """New flags that arrive released as the revert of their last removal from the base
    branch: the file removed then was released, says exactly what the new one says, and had
    been released on the branch before its removal by the trusted clock (so adding and removing
    it within one fast-forwarded change proves nothing). A reused name does not qualify."""
    names = {name: loaded.flag for name, loaded in after.items()
             if name not in before and loaded.flag.default_enabled
             and loaded.flag.stage is Stage.ENABLED}
    released: set[str] = set()
    for name, flag in names.items():
        if name not in ever_removed():  # never removed: no revert (and no glob walk per name)
            continue
        last = git_log.first_parent_history(root, base, [name_pathspec(name)], limit=1)
        removed = [flag_at(reader, change.before) for change in (last[0].changes if last else ())
                   if stem(change.path) == name and change.before is not None]
        if flag in removed and _was_live_before(root, reader, base, policy, last[0], flag):
            released.add(name)
    return released


def _was_live_before(root: Path, reader: git.BlobReader, base: str, policy: Policy,
                     removal: git_log.Commit, flag: Flag) -> bool:
    """Did `flag`'s state land on the base branch strictly before the commit that removed it?"""
    clock, shallow = branch_clock(root, base, merges_only=policy.require_merge_commits)
    removed_at = clock.times.get(removal.sha)
    earlier = git_log.first_parent_history(root, f"{removal.sha}^", [name_pathspec(flag.name)])
    landed = landing_time(earlier, flag.name, RolloutState.of(flag), partial(state_at, reader),
                          stem, clock, shallow=shallow)
    return landed is not None and removed_at is not None and landed < removed_at
