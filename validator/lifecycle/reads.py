"""The git reads of the lifecycle commands, all through `validator.git.git` (the one runner).

Batched like the gate's: one `git log` for the history of every flag asked about, one for the
authors and messages of the commits that are shown, one `cat-file --batch` for the states.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.characters import free_text_shown
from validator.config_file import file_start
from validator.errors import UserError
from validator.git import log as git_log
from validator.git.log import Commit
from validator.history import Clock
from validator.landings import branch_clock, name_pathspec, policy_at, policy_entry
from validator.policy import Policy


@dataclass(frozen=True, slots=True)
class Details:
    """Who made a commit (the name fit for free text: git takes escape sequences and bidi
    controls in it) and what it says (a merge commit names its merge request)."""

    author: str
    message: str


def clock_of(root: Path, ref: str, policy: Policy) -> Clock:
    """Trusted landing times of ref's first-parent line (no horizon: lifecycles are long),
    merge commits only when the policy requires them, as the gate counts."""
    return branch_clock(root, ref, merges_only=policy.require_merge_commits)[0]


def policy_of(root: Path, ref: str) -> Policy:
    """The policy at ref (its pyproject.toml), the one the gate judges a change on it by."""
    entry = policy_entry(root, ref)
    with git.BlobReader(root) as reader:
        return policy_at(reader, entry, ref)


def flag_commits(root: Path, ref: str, pathspecs: Sequence[str]) -> list[Commit]:
    """First-parent commits of ref that touched those flag files, newest first."""
    return git_log.first_parent_history(root, ref, pathspecs)


def streamed_flag_commits(root: Path, ref: str, pathspecs: Sequence[str]
                          ) -> Iterator[Commit]:
    """`flag_commits` as they come, for callers that split them by flag as they go
    (`facts.by_name`): the whole log of a 10,000-flag repository is never held at once."""
    return git_log.first_parent_commits(root, ref, pathspecs)


MOST_MOVES = 100
"""How many moves of one flag's file its history follows back. Beyond them its first add,
and its age, cannot be told: a flag moved a thousand times in commits of their own, then
fast-forwarded, read as one with no add, and no age, so never stale (and each round is a
`git log`: a thousand took 80 s). The gate then says so of the flag (FO205, at
stale_severity); `status` and `history` of it refuse in one line."""


def named_history(root: Path, ref: str, paths: Mapping[str, str], clock: Clock, *,
                  unfollowed: set[str] | None = None) -> list[Commit]:
    """First-parent commits of ref that touched the named flags, newest first, each flag
    followed through its moves by literal paths.

    `paths` gives each flag's path at ref. Its log is read by that literal path; wherever the
    file was added there in a commit that removed a file of the same name elsewhere (a move,
    perhaps back to a folder it had before), the old path's log goes on from before that
    commit, and so on. Literal paths let git skip every other folder: a glob over all of
    flags/ costs about ten times as much at 10,000 flags. A flag removed and re-added in
    another folder by a later commit starts its history at that re-add.
    """
    found: dict[str, Commit] = {}
    pending = {(name, ref, path) for name, path in paths.items()}
    seen: set[tuple[str, str, str]] = set()
    for _ in range(MOST_MOVES + 1):
        pending -= seen
        if not pending:
            break
        seen |= pending
        pending = _one_round(root, pending, found, clock)
    if pending - seen and unfollowed is not None:  # the caller says so, flag by flag
        unfollowed.update(name for name, _, _ in pending - seen)
    elif pending - seen:
        name, _, path = min(pending - seen)
        raise UserError(f"{name}: its file was moved more than {MOST_MOVES} times (back to "
                        f"{path}), and its history is followed no further, so its age cannot "
                        "be told; roll it back or remove it, and give a flag that needs to go "
                        "on a new name")
    rank = {sha: index for index, sha in enumerate(clock.times)}  # oldest first
    return sorted(found.values(), key=lambda commit: rank.get(commit.sha, -1), reverse=True)


def _one_round(root: Path, pending: set[tuple[str, str, str]], found: dict[str, Commit],
               clock: Clock) -> set[tuple[str, str, str]]:
    """Reads one log per revision for the pending paths; returns where moves lead next."""
    by_revision: dict[str, set[tuple[str, str]]] = {}
    for name, revision, path in pending:
        by_revision.setdefault(revision, set()).add((name, path))
    following: set[tuple[str, str, str]] = set()
    for revision, wanted in sorted(by_revision.items()):
        commits = git_log.first_parent_history(root, revision,
                                           sorted({f":(literal){path}" for _, path in wanted}))
        adding: dict[str, list[Commit]] = {}  # each path, the commits that added it
        for commit in commits:
            _merge(found, commit)
            for change in commit.changes:
                if change.before is None:
                    adding.setdefault(change.path, []).append(commit)
        for name, path in sorted(wanted):
            for moved, old_path in _moves_into(root, adding.get(path, []), name, path, clock):
                _merge(found, moved)
                following.add((name, f"{moved.sha}^", old_path))
    return following


def _moves_into(root: Path, adding: Sequence[Commit], name: str, path: str,
                clock: Clock) -> Iterator[tuple[Commit, str]]:
    """Of the commits that added `path` (looked up by path: scanning every commit of the log
    for each flag was quadratic in the flags asked about), each that removed a file of the
    same flag elsewhere, with that file's path: every one such file, where a commit removed
    two (a copy made earlier, then the move: the copy's history alone started at the copy)."""
    for commit in adding:
        if commit.sha in clock.roots:
            continue
        changes = git.diff_entries(root, f"{commit.sha}^", commit.sha, name_pathspec(name))
        moved = Commit(commit.sha, commit.committed_at, tuple(changes))
        for change in changes:
            if change.after is None and change.path != path:
                yield moved, change.path


def _merge(found: dict[str, Commit], commit: Commit) -> None:
    """One commit seen by several logs carries the changes of all of them, once each."""
    known = found.get(commit.sha)
    if known is None:
        found[commit.sha] = commit
        return
    changes = {change.path: change for change in (*known.changes, *commit.changes)}
    found[commit.sha] = Commit(commit.sha, commit.committed_at, tuple(changes.values()))


def details(root: Path, shas: Iterable[str]) -> dict[str, Details]:
    """Author and message of each commit, read in one `git log --no-walk --stdin`."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    raw = git.git(root, "log", "--no-show-signature", "--no-walk=unsorted", "--stdin",
                  "--format=%H%x00%an%x00%B%x00",
                  stdin="".join(f"{sha}\n" for sha in wanted).encode("ascii"))
    fields = raw.decode("utf-8", "replace").split("\0")
    found: dict[str, Details] = {}
    for index in range(0, len(fields) - 2, 3):
        found[fields[index].strip()] = Details(free_text_shown(fields[index + 1]),
                                               fields[index + 2].strip())
    return found


VERSION_BYTES = 256
"""Enough of a version file for its version (GitLab's VERSION is one short line)."""


def version_text(root: Path, policy: Policy, tree: str | None = None) -> str | None:
    """The start of the policy's version file (GitLab's VERSION), if it is a regular file: the
    working tree's, or the one in `tree` (a commit), as the gate reads its base's."""
    if policy.version_file is None:
        return None
    if tree is not None:
        with git.BlobReader(root) as reader:
            return version_at(reader, root, tree, policy)
    return _working_version(root, policy.version_file)


def _working_version(root: Path, name: str) -> str | None:
    """The working tree's version file as `version_at` reads a commit's: None where nothing
    is at the path, empty where something other than a regular file is, or where a folder
    on the way is a symlink, a file or another repository's work tree (read through,
    `config -> elsewhere` gave another milestone than the gate's, which finds no file there
    or a gitlink)."""
    path, parts = root, name.split("/")
    for index, part in enumerate(parts):
        path = path / part
        try:
            mode = path.lstat().st_mode
        except OSError:
            return None
        folder = index < len(parts) - 1
        if stat.S_ISLNK(mode) or (folder and (not stat.S_ISDIR(mode)
                                              or os.path.lexists(path / ".git"))):
            return ""  # a folder on the way that is a link, a file, or another repository
    start = file_start(path, VERSION_BYTES)
    return "" if start is None else start.decode("utf-8", "replace")


def version_at(reader: git.BlobReader, root: Path, tree: str, policy: Policy) -> str | None:
    """The start of the policy's version file in `tree` (a commit), if it is there: what the
    gate reads at its base, and `status --ref` at that commit. Empty where the path holds no
    regular file (a symlink, a folder, a gitlink): there is a version file, and no text in it
    (FO409), not none."""
    if policy.version_file is None:
        return None
    entry = git.path_entry(root, tree, policy.version_file)
    if entry is None:
        return _blocked_on_the_way(root, tree, policy.version_file)
    raw = reader.read(entry.oid) if entry.is_regular and entry.oid is not None else None
    return "" if raw is None else raw[:VERSION_BYTES].decode("utf-8", "replace")


def _blocked_on_the_way(root: Path, tree: str, name: str) -> str | None:
    """Empty where a folder on the version file's path is something else in `tree` (a
    symlink, a gitlink, a file: `config -> elsewhere` left the gate no file to read, and no
    FO409), else None: nothing is there. Asked only where the file is not found."""
    parts = name.split("/")
    for end in range(1, len(parts)):
        entry = git.path_entry(root, tree, "/".join(parts[:end]))
        if entry is None:
            return None
        if entry.mode != git.FOLDER_MODE:
            return ""
    return None
