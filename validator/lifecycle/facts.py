"""Flags at a ref with their landing and creation times, from one `git log` of their files
and one blob reader.

Landing times are the gate's (`validator.history.landing_time` over the monotone clock), so
`status` says a step is legal when `validate --base` would let it through. The walk stops at
each flag's last change of state, so about two blobs a flag are parsed, cached by object id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from validator import git
from validator.files import stem
from validator.git import log as git_log
from validator.git.log import Commit
from validator.history import Clock, landing_time
from validator.landings import keyed
from validator.lifecycle.facts_cache import FactsStore, history_key
from validator.lifecycle.lifespan import released_key
from validator.lifecycle.reads import clock_of, named_history, streamed_flag_commits
from validator.lifecycle.state_cache import StateStore
from validator.lifecycle.states import Head, StateOf, States, cached_states, head_state, unpacked
from validator.lifecycle.status import Facts
from validator.model import Flag
from validator.policy import Policy
from validator.transitions import RolloutState


def by_name(commits: Iterable[Commit], names: Iterable[str]) -> dict[str, list[Commit]]:
    """Each flag's commits (newest first), each carrying only that flag's changes. A path's
    flag is worked out once (a long history names each path many times), and a commit whose
    changes are all one flag's is kept as it is."""
    wanted = set(names)
    found: dict[str, list[Commit]] = {name: [] for name in wanted}
    name_at: dict[str, str | None] = {}
    for commit in commits:
        mine: dict[str, list[git.Change]] = {}
        for change in commit.changes:
            path = change.path
            if path in name_at:
                name = name_at[path]
            else:
                name = name_at[path] = _wanted_name(path, wanted)
            if name is not None:
                mine.setdefault(name, []).append(change)
        for name, changes in mine.items():
            found[name].append(commit if len(changes) == len(commit.changes) else
                               Commit(commit.sha, commit.committed_at, tuple(changes)))
    return found


def _wanted_name(path: str, wanted: set[str]) -> str | None:
    """The flag a changed path belongs to, if it is a flag file of a wanted name."""
    name = stem(path)
    return name if name in wanted and git.is_flag_path(path) else None


def added_at(commits: Sequence[Commit], clock: Clock) -> int | None:
    """When the flag's name was first added on the branch, for its age (`Clock.earliest`):
    a move is no add (it has a file of the name before), and a flag deleted and added again
    keeps its name's age, at whatever state it comes back. A change of commits that deleted
    a stale flag's file and added it again, fast-forwarded, made it young: put back at its
    old state, or at off (the last commit then restoring the old file, so the change as
    judged changed nothing), or through a commit that could not be read. A new flag takes a
    new name; a name comes back only with its past."""
    first = first_add(commits)
    return None if first is None else clock.earliest.get(first)


def first_add(commits: Sequence[Commit]) -> str | None:
    """The oldest of a flag's commits (newest first) that added its file with no file of
    the name before it (a move has one): where its name's life starts."""
    return next((commit.sha for commit in reversed(commits)
                 if all(change.before is None for change in commit.changes)), None)


@dataclass(frozen=True, slots=True)
class Known:
    flags: dict[str, Flag]
    facts: dict[str, Facts]


class Named(Protocol):
    @property
    def name(self) -> str: ...


Read = TypeVar("Read", bound=Named)
"""What a flag file is read as: the flag, or a `Head` (perhaps not made yet)."""


def flags_at(entries: Iterable[git.Entry], flag_of: Callable[[git.Entry], Read | None]
             ) -> dict[str, Read]:
    """The readable flags of a tree by name (the first file of a name wins, as in a build)."""
    found: dict[str, Read] = {}
    for entry in sorted(entries, key=lambda entry: entry.path):
        flag = flag_of(entry) if git.is_flag_path(entry.path) and entry.is_regular else None
        if flag is not None:
            found.setdefault(flag.name, flag)
    return found


def paths_of(entries: Iterable[git.Entry], names: Iterable[str]) -> dict[str, str]:
    """The path each named flag is read from, as `flags_at` picks it (first by path)."""
    wanted, found = set(names), dict[str, str]()
    for entry in sorted(entries, key=lambda entry: entry.path):
        if git.is_flag_path(entry.path) and entry.is_regular and stem(entry.path) in wanted:
            found.setdefault(stem(entry.path), entry.path)
    return found


def known(root: Path, ref: str, names: Sequence[str], policy: Policy,
          store: StateStore | None = None) -> Known:
    """The flags at ref (all, or `names`) and when each one's state landed and was added,
    on the clock `policy` (the ref's) makes the gate count by. `store`: states kept between
    runs (none: every blob walked is parsed), and for every flag the facts of the last
    commits asked about (`facts_cache`): the same commit's history is not read again.

    The flags are made once the walk and its states are gone (`Packed`): the walk holds
    each flag's small pickle, not the flag."""
    heads, facts = _heads_and_facts(root, ref, names, policy, store)
    return Known({name: unpacked(heads.pop(name)) for name in list(heads)}, facts)


def _heads_and_facts(root: Path, ref: str, names: Sequence[str], policy: Policy,
                     store: StateStore | None) -> tuple[dict[str, Head], dict[str, Facts]]:
    """`known`'s flags as read (perhaps not made yet) and their facts."""
    entries = list(git.tree_entries(root, ref).values())
    if names:
        entries = [entry for entry in entries if stem(entry.path) in names]
    with git.BlobReader(root) as reader:
        state_of = cached_states(reader, store)
        heads = _heads_at(entries, state_of)
        kept = FactsStore(store) if store is not None and not names else None
        key = history_key(root, ref, policy, sorted(heads), kept.context) if kept else ""
        facts = kept.get(key, list(heads)) if kept else None
        if facts is None:
            facts = _walked(root, ref, entries, {name: head_state(head) for name, head
                                                  in heads.items()}, names, policy, state_of)
            if kept:
                kept.put(key, facts)
    if store is not None:
        store.save(every_head=not names)
    return heads, facts


def _heads_at(entries: list[git.Entry], state_of: States) -> dict[str, Head]:
    """The tree's flags by name as `flags_at` picks them, read in one stream."""
    read = state_of.flags(entry for entry in entries if git.is_flag_path(entry.path))
    return flags_at(entries, lambda entry: read.get(_key(entry)))


def _walked(root: Path, ref: str, entries: list[git.Entry], flags: dict[str, RolloutState],
            names: Sequence[str], policy: Policy, state_of: States) -> dict[str, Facts]:
    """The flags' facts (from their states at ref) from their history: one log (of the
    named flags' own paths, or of all of flags/), split by name as it streams, and the
    blobs each walk stops at."""
    clock = clock_of(root, ref, policy)
    shallow = git_log.shallow_commits(root) is not None
    history = named_history(root, ref, paths_of(entries, flags), clock) if names \
        else streamed_flag_commits(root, ref, [git.FLAGS_DIR])
    commits = by_name(history, flags)
    landed = _landings(commits, flags, state_of, clock, shallow)
    released = _released(commits, flags, state_of, clock, shallow)
    return {name: Facts(landed[name], added_at(commits[name], clock),
                        released_at=released.get(name)) for name in flags}


def _key(entry: git.Entry) -> tuple[str, str, str]:
    return (entry.oid or "", entry.path, entry.mode)


def _released(commits: dict[str, list[Commit]], flags: dict[str, RolloutState],
              states: StateOf, clock: Clock, shallow: bool) -> dict[str, int | None]:
    """When default_enabled: true landed, for the flags that have it (the gate's FO407 count:
    `lifespan.released_key`)."""
    released_of = keyed(states, released_key)
    return {name: landing_time(commits[name], name, True, released_of, stem, clock,
                               shallow=shallow)
            for name, state in flags.items() if state.default_enabled}


class _Unread(Exception):
    """A walk reached a blob not read yet: it is read with the others of its round."""

    def __init__(self, entry: git.Entry) -> None:
        self.entry = entry


def _landings(commits: dict[str, list[Commit]], flags: dict[str, RolloutState], states: States,
              clock: Clock, shallow: bool) -> dict[str, int | None]:
    """Every flag's landing time, walked in rounds: each round walks every flag as far as
    the states known so far allow, then reads all the blobs the walks stopped at in one
    stream (a blob at a time would wait a round trip each)."""

    def state_of(entry: git.Entry) -> RolloutState | None:
        if not states.has(entry):
            raise _Unread(entry)
        return states(entry)

    found: dict[str, int | None] = {}
    pending = dict(flags)
    while pending:
        wanted: dict[str, git.Entry] = {}
        for name, state in pending.items():
            try:
                found[name] = landing_time(commits[name], name, state,
                                           state_of, stem, clock, shallow=shallow)
            except _Unread as unread:
                wanted[name] = unread.entry
        states.load(wanted.values())
        pending = {name: pending[name] for name in wanted}
    return found
