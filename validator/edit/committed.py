"""The flag as HEAD holds it, read from git: its file, the policy, when its state landed, and
the commit whose revert would make the same rollback.

HEAD is the base an edit is judged from, as `flagops validate --base HEAD` judges the working
tree: its policy (`[tool.flagops]` at HEAD), its first-parent history and the same landing-time
functions (`history.trusted_times`, `history.landing_time`). Outside git, or before the first
commit, there is no base: the working tree's policy applies and the flag is judged as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.check import LoadedFlag
from validator.document import Document
from validator.edit.judge import Base
from validator.files import stem
from validator.git import log as git_log
from validator.landings import landing_times, policy_entry, policy_or_defaults, state_at
from validator.loader import load_or_finding
from validator.model import Flag
from validator.parse import parse_flag
from validator.policy import (
    Policy,
    load_policy,
)
from validator.transitions import RolloutState

_ROLLOUT_FIELDS = frozenset(("stage", "actors", "percentage", "default_enabled",
                             "cleanup_issue_url"))


@dataclass(frozen=True, slots=True)
class Committed:
    head: str | None
    """HEAD's commit id; None outside git or before the first commit."""
    base: Base
    raw: bytes | None = None
    """The flag file's bytes at HEAD."""


def read_committed(root: Path, name: str, path: str | None = None) -> Committed:
    """`path`, where the working tree holds the flag, is looked at first: listing all of
    flags/ at HEAD is needed only when the flag is not there (new, or moved since)."""
    try:
        head = git.resolve(root, "HEAD")
    except git.GitError:  # not a repository, no commit yet, or no git
        return Committed(None, Base(policy=load_policy(root)))
    entries = git.tree_entries(root, head, path) if path else {}
    if path is None or path not in entries:
        entries = git.tree_entries(root, head, git.FLAGS_DIR)
    mine = _flag_entries(entries, name)
    with git.BlobReader(root) as reader:
        policy, unreadable = policy_or_defaults(reader, policy_entry(root, head), "HEAD")
        if not mine:
            return Committed(head, Base(policy=policy, unreadable_policy=unreadable))
        entry = mine[0]
        raw = reader.read(entry.oid) if entry.is_regular and entry.oid else None
    flag = _flag(raw, entry.path)
    return Committed(head, Base(entry.path, flag, unreadable=flag is None, policy=policy,
                                unreadable_policy=unreadable), raw)


def _flag_entries(entries: dict[str, git.Entry], name: str) -> list[git.Entry]:
    """The flag files of `name` a tree lists, in path order."""
    return [entry for found, entry in sorted(entries.items())
            if git.is_flag_path(found) and stem(found) == name]


def _flag(raw: bytes | None, path: str) -> LoadedFlag | None:
    if raw is None:
        return None
    document = load_or_finding(raw, path)
    if not isinstance(document, Document):
        return None
    flag = parse_flag(document)[0]
    return LoadedFlag(flag, document) if flag is not None else None


def landed_at(root: Path, head: str, name: str, state: RolloutState, policy: Policy,
              now: int) -> int | None:
    """When `state` landed on HEAD's first-parent line, by the clock `validate --base` uses;
    None when this clone does not hold that history."""
    with git.BlobReader(root) as reader:
        return landing_times(root, reader, head, {name: state}, policy, now)[name]


def revert_command(root: Path, committed: Committed, name: str, working: bytes,
                   target: Flag) -> str | None:
    """`git revert <commit>` when the flag's last change is one commit on HEAD's first-parent
    line that touched only this flag, and reverting it gives the flag `target` has. The file
    is unchanged since HEAD, so its path there is searched literally (git prunes by tree)."""
    if committed.head is None or committed.raw != working or committed.base.path is None:
        return None
    literal = f":(literal){committed.base.path}"
    last = git_log.first_parent_history(root, committed.head, [literal], limit=1)
    if not last:
        return None
    sha = last[0].sha
    try:
        changes = git.diff_entries(root, f"{sha}^", sha)
    except git.GitError:  # the root commit: nothing to revert to
        return None
    if any(not git.is_flag_path(change.path) or stem(change.path) != name
           for change in changes):
        return None
    before = [change.before for change in changes if change.before is not None]
    with git.BlobReader(root) as reader:
        earlier = _flag(reader.read(before[0].oid), before[0].path) \
            if len(before) == 1 and before[0].oid else None
    if earlier is None or not _same_flag(earlier.flag, target):
        return None
    merge = any(found[0] == sha for found in git_log.merges_in(root, f"{sha}^..{sha}"))
    return f"git revert {'-m 1 ' if merge else ''}{sha[:12]}"


def _same_flag(one: Flag, other: Flag) -> bool:
    return RolloutState.of(one) == RolloutState.of(other) and \
        one.model_dump(exclude=set(_ROLLOUT_FIELDS)) == \
        other.model_dump(exclude=set(_ROLLOUT_FIELDS))


TARGETS = ("refs/remotes/origin/HEAD", "refs/heads/main", "refs/heads/master")
"""The branch a merge request of HEAD's branch goes into: the remote's default branch as this
clone last fetched it (a clone has it; `git remote set-head origin --auto` sets it), else a
local main or master."""


def state_on_target(root: Path, name: str) -> tuple[str, RolloutState | None] | None:
    """Where HEAD's branch holds commits its target does not: the target's short name, and
    the flag's state where the two meet (None: no such flag there), which CI judges a merge
    request of the branch from. None where HEAD is on the target, or it is not known."""
    named = git.first_commit(root, TARGETS)
    head = git.commit_of(root, "HEAD^{commit}")
    if named is None or head is None or git.is_ancestor(root, head, named[1]):
        return None
    ref, target = named
    try:
        meet = git.git(root, "merge-base", target, head).decode("ascii").strip()
    except git.GitError:  # no common history
        return None
    shown = git.git(root, "rev-parse", "--abbrev-ref", ref).decode("utf-8", "replace")
    mine = _flag_entries(git.tree_entries(root, meet, git.FLAGS_DIR), name)
    with git.BlobReader(root) as reader:
        state = state_at(reader, mine[0]) if mine else None
    return shown.strip(), state
