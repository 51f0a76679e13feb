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
                            ever_removed: Callable[[], frozenset[str]], *,
                            now: int) -> set[str]:
    """New flags that arrive released as the revert of their last removal from the base
    branch: the file removed then was released, says exactly what the new one says, and had
    been released on the branch before its removal by the trusted clock (so adding and removing
    it within one fast-forwarded change proves nothing: see `_was_live_before`). A reused name
    does not qualify."""
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
        if flag in removed and _was_live_before(root, reader, base, policy, last[0], flag,
                                                now):
            released.add(name)
    return released


def _was_live_before(root: Path, reader: git.BlobReader, base: str, policy: Policy,
                     removal: git_log.Commit, flag: Flag, now: int) -> bool:
    """Had `flag`'s state been live on the base branch, before the commit that removed it,
    for at least the policy's default_enabled soak (a day by default; 0: any time at all)?

    "Strictly before" was not enough: fast-forwarded (or rebased), a change lands as its own
    commits with the dates its author's machine gave them, a few minutes apart, so a change
    that added a flag released and removed it again in its next commit made that flag one
    the next change could bring back released from nowhere, as a "revert". A change's own
    commits are not a day apart unless dated so, which only require_merge_commits rules out
    (there both land at the same merge, and nothing qualifies); a removal dated after now
    counts from now."""
    clock, shallow = branch_clock(root, base, merges_only=policy.require_merge_commits)
    removed_at = clock.times.get(removal.sha)
    earlier = git_log.first_parent_history(root, f"{removal.sha}^", [name_pathspec(flag.name)])
    landed = landing_time(earlier, flag.name, RolloutState.of(flag), partial(state_at, reader),
                          stem, clock, shallow=shallow)
    if landed is None or removed_at is None:
        return False
    live = min(removed_at, now) - landed
    return live > 0 and live >= policy.soak_minutes.default_enabled * 60
