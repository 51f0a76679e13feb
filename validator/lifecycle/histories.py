"""Every flag's timeline and facts from one pass over git, for the merged config.

`flagops history` reads one flag; the catalog needs all of them, so this reads the history of
the whole flags folder in one `git log`, the authors and messages in one more, and each blob
once through one `cat-file --batch` (cached by object id), then splits it by name with
`facts.by_name`. The rows are `timeline.timeline`'s and the landing times `landing_time`'s, so
they are the gate's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.files import stem
from validator.flag_summary import CatalogNote, FlagSummary, HistoryCompleteness
from validator.git import log as git_log
from validator.history import landing_time
from validator.lifecycle.facts import added_at, by_name
from validator.lifecycle.reads import clock_of, details, streamed_flag_commits
from validator.lifecycle.show import iso
from validator.lifecycle.state_cache import StateStore
from validator.lifecycle.states import StateOf, cached_states
from validator.lifecycle.status import Facts
from validator.lifecycle.summary import Step, summary
from validator.lifecycle.timeline import timeline
from validator.model import Flag
from validator.policy import Policy
from validator.transitions import RolloutState


@dataclass(frozen=True, slots=True)
class Histories:
    """Per flag name: its timeline steps (oldest first) and its landing and creation times."""

    steps: dict[str, list[Step]]
    facts: dict[str, Facts]
    shallow: bool


def read_histories(root: Path, ref: str, flags: Mapping[str, Flag],
                   policy: Policy, store: StateStore | None = None) -> Histories:
    """The first-parent history of ref for these flags (by name, through moves of their
    files); a shallow clone gives what it holds and says so. Where its history is cut, every
    file looks added: that is no change, so no row."""
    clock = clock_of(root, ref, policy)
    shallow = git_log.shallow_commits(root) is not None
    commits = by_name(streamed_flag_commits(root, ref, [git.FLAGS_DIR]), flags)
    found = details(root, {c.sha for listed in commits.values() for c in listed})
    steps: dict[str, list[Step]] = {}
    facts: dict[str, Facts] = {}
    with git.BlobReader(root) as reader:
        state_of = cached_states(reader, store)
        state_of.load(_entries(commits.values()))
        for name, flag in flags.items():
            mine = commits[name]
            events = timeline(mine, name, state_of, stem, clock, found,
                              bucketing=policy.bucketing)
            after = {commit.sha: _after(commit, state_of) for commit in mine}
            steps[name] = [Step(event, after.get(event.commit)) for event in events
                           if not (shallow and event.commit in clock.roots)]
            facts[name] = Facts(landing_time(mine, name, RolloutState.of(flag), state_of, stem,
                                             clock, shallow=shallow),
                                added_at(mine, clock))
    if store is not None:
        store.save(every_head=False)
    return Histories(steps, facts, shallow)


def _entries(histories: Iterable[list[git_log.Commit]]) -> Iterator[git.Entry]:
    """Every blob the timelines read, to be read at once."""
    for commits in histories:
        for commit in commits:
            for change in commit.changes:
                for entry in (change.before, change.after):
                    if entry is not None and entry.oid is not None:
                        yield entry


def _after(commit: git_log.Commit, state_of: StateOf) -> RolloutState | None:
    """The flag's state after the commit (its changes are this flag's only, from by_name)."""
    for change in commit.changes:
        state = state_of(change.after) if change.after is not None else None
        if state is not None:
            return state
    return None


def summaries(root: Path, flags: Mapping[str, Flag], policy: Policy, current: int | None,
              now: int, store: StateStore | None = None
              ) -> tuple[dict[str, FlagSummary], CatalogNote]:
    """Every flag's summary as of `now`, from HEAD's history where there is one: outside a
    git repository (or before the first commit) the summaries have no history and say so."""
    found = Histories({}, {}, shallow=False)
    completeness: HistoryCompleteness
    try:
        head = git.resolve(root, "HEAD")
    except git.GitError:  # not a repository, no commit yet: nothing to read, no error
        completeness = "none"
    else:  # what fails reading the history is said (a partial clone's fetch that failed)
        found = read_histories(root, head, flags, policy, store)
        completeness = "partial" if found.shallow else "complete"
    made = {name: summary(flag, found.steps.get(name, []), found.facts.get(name, Facts()),
                          policy, current, now) for name, flag in flags.items()}
    return made, CatalogNote(as_of=iso(now) or "", history=completeness)
