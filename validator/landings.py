"""A flag's past on a branch, read one way for the gate, the authoring commands and `status`.

Blobs are read by object id, a flag is followed by name through moves of its file, and times
come from the trusted (monotone) clock of `validator.history`, so that `promote` and `status`
say a step is legal exactly when `validate --base` lets it through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from validator import git
from validator.document import Document
from validator.files import stem
from validator.findings import RULES, START, Finding
from validator.git import log as git_log
from validator.git.log import Commit
from validator.history import Clock, landing_time, trusted_times
from validator.loader import load_or_finding
from validator.model import NAME_PATTERN, Flag
from validator.parse import parse_flag
from validator.policy import DEFAULT_POLICY, PYPROJECT, Policy, PolicyError, policy_from_bytes
from validator.transitions import RolloutState

HORIZON_MARGIN = 3600
"""Read an hour more history than the longest soak."""


def name_pathspec(name: str) -> str:
    """The flag's file in any folder: names are [a-z0-9_], so the glob matches nothing else.
    Anything else (`*`, `exa?ple`, `../x`: a name typed on a command line) would match other
    flags' files, so it is refused here rather than globbed: callers check names first."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"{name!r} is not a flag name: no pathspec is made from it")
    return f":(glob){git.FLAGS_DIR}/**/{name}.yml"


def flag_at(reader: git.BlobReader, entry: git.Entry) -> Flag | None:
    """The flag in one blob; None for anything but a readable flag file."""
    if not entry.is_regular or entry.oid is None:
        return None
    return flag_in(entry.path, reader.read(entry.oid))[0]


def flag_in(path: str, raw: bytes | None) -> tuple[Flag | None, dict[str, Any] | None]:
    """The flag in a blob's bytes read at path (None: not a valid flag), and the document's
    data it was validated from (None: no document): the one way history reads a version."""
    document = load_or_finding(raw, path) if raw is not None else None
    if not isinstance(document, Document):
        return None, None
    return parse_flag(document)[0], document.data


def state_at(reader: git.BlobReader, entry: git.Entry) -> RolloutState | None:
    flag = flag_at(reader, entry)
    return RolloutState.of(flag) if flag is not None else None


def policy_entry(root: Path, ref: str) -> git.Entry | None:
    """pyproject.toml at ref as it is, a folder too: its files listed instead, none of them
    named pyproject.toml, it read as no file, the defaults, and a strict policy was dropped
    by moving it into pyproject.toml/."""
    return git.path_entry(root, ref, PYPROJECT)


def policy_at(reader: git.BlobReader, entry: git.Entry | None, where: str) -> Policy:
    """The policy in a commit's pyproject.toml (`entry`; None: no file, the defaults). One
    that cannot be read stops the judging: there are no rules to judge by. A blob this clone
    does not hold is one (a partial clone that cannot fetch, a damaged one): read as empty,
    it was the defaults, looser than any policy that tightens them."""
    if entry is None:
        return DEFAULT_POLICY
    if not entry.is_regular or entry.oid is None:
        kind = git.MODE_KINDS.get(entry.mode, "not a file")
        raise PolicyError(RULES["FO301"].at(PYPROJECT, START, f"pyproject.toml at {where} is "
                                            f"{kind}; the policy must be a regular file"))
    raw = reader.read(entry.oid)
    if raw is None:  # read as no bytes, it was the defaults: a policy nobody wrote
        raise PolicyError(RULES["FO301"].at(PYPROJECT, START, f"pyproject.toml at {where} "
                                            f"cannot be read: git has no blob {entry.oid[:12]} "
                                            "(a partial or damaged clone); fetch it"))
    return policy_from_bytes(raw)


def policy_or_defaults(reader: git.BlobReader, entry: git.Entry | None,
                       where: str) -> tuple[Policy, Finding | None]:
    """The policy at a commit, or, where it cannot be read, the defaults to judge a change's
    files by and the finding that says why they are not its (`judge_unreadable_policy`)."""
    try:
        return policy_at(reader, entry, where), None
    except PolicyError as error:
        return DEFAULT_POLICY, error.finding


def horizon(policy: Policy, now: int) -> int:
    """How far back history matters: a state older than the longest soak has soaked."""
    longest: int = max(policy.soak_minutes.model_dump().values())
    return now - longest * 60 - HORIZON_MARGIN


def branch_clock(root: Path, ref: str, *, since: int | None = None,
                 merges_only: bool = False) -> tuple[Clock, bool]:
    """The trusted clock of ref's first-parent line, and whether this clone is shallow (where
    history is cut, nothing older is assumed)."""
    cut = git_log.shallow_commits(root)
    shallow = cut is not None
    line = git_log.first_parent_line(root, ref)
    return trusted_times(line, None if shallow else since, cut or frozenset(),
                         merges_only=merges_only), shallow


def landing_times(root: Path, reader: git.BlobReader, ref: str,
                  states: Mapping[str, RolloutState], policy: Policy,
                  now: int, *, since: int | None = None,
                  key: Callable[[RolloutState], Hashable] | None = None) -> dict[str, int | None]:
    """When each flag's state landed on ref, read back only to where every soak is certain
    (or to `since`: a state older than that lands at the newest commit before it; `key`:
    when that part of the state landed); None
    where this clone does not hold that history (or no merge commit has landed since, with
    `require_merge_commits`). One `git log` for all of them."""
    if not states:
        return {}
    since = horizon(policy, now) if since is None else since
    clock, shallow = branch_clock(root, ref, since=since,
                                  merges_only=policy.require_merge_commits)
    revisions = f"{clock.horizon_commit}..{ref}" if clock.horizon_commit else ref
    commits = _per_flag(git_log.first_parent_history(root, revisions,
                                                     [name_pathspec(n) for n in states]), states)
    if key is None:
        return {name: landing_time(commits[name], name, state, partial(state_at, reader), stem,
                                   clock, shallow=shallow) for name, state in states.items()}
    return {name: landing_time(commits[name], name, key(state),
                               keyed(partial(state_at, reader), key), stem, clock,
                               shallow=shallow) for name, state in states.items()}


def _per_flag(commits: Sequence[Commit], names: Iterable[str]) -> dict[str, list[Commit]]:
    """The one log of every flag asked about, split by flag (newest first still): walked
    whole for each flag, another flag's newer commit stopped the walk (a step forward of two
    flags in one change was FO205, "the history is not in this clone"), and each walk read
    every commit of every flag (quadratic in the flags a change steps)."""
    found: dict[str, list[Commit]] = {name: [] for name in names}
    for commit in commits:
        for name in {stem(change.path) for change in commit.changes}:
            if name in found:
                found[name].append(commit)
    return found


Key = TypeVar("Key", bound=Hashable)


def keyed(state_of: Callable[[git.Entry], RolloutState | None],
          key: Callable[[RolloutState], Key]) -> Callable[[git.Entry], Key | None]:
    """A state reader that sees only `key` of each state: with `key` the landing time is when
    that part of the state (say, default_enabled) last changed, whatever else did since."""
    def key_of(entry: git.Entry) -> Key | None:
        state = state_of(entry)
        return None if state is None else key(state)

    return key_of
