"""A flag's rollout timeline from its first-parent commits. Pure: commits and readers in.

A row is a change of the flag's rollout state (who has it), never a metadata edit, unless
every edit is asked for. The flag is followed by name, so a move or rename of its file (a
delete and an add in one commit, with the same state) is no row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from validator.engines import Bucketing
from validator.git import Change
from validator.git.log import Commit
from validator.history import Clock
from validator.lifecycle.reads import Details
from validator.lifecycle.states import StateOf
from validator.model import MERGE_REQUEST_PATTERN
from validator.transitions import RolloutState, Step, classify

_MERGE_REQUEST = re.compile(f"See merge request ({MERGE_REQUEST_PATTERN.strip('^$')})"
                            r"(?=\s|$)")
"""The line GitLab writes into every merge commit it makes, with a reference of the form a
project's path takes (`MERGE_REQUEST_PATTERN`): the message is anyone's text, and a bidi or
invisible character in it reached the catalog's pages."""
_STEP_WORDS = {Step.FORWARD: "forward", Step.ROLLBACK: "rollback", Step.MIXED: "mixed",
               Step.NONE: "no rollout change"}
"""The words `flagops plan` uses for a step's kind."""


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the timeline, oldest first; `time` is the trusted landing time."""

    time: int | None
    commit: str
    author: str
    merge_request: str | None
    before: str
    after: str
    step: str


def describe(state: RolloutState | None) -> str:
    """A state in the words plan uses; no state is "(no flag)"."""
    return "(no flag)" if state is None else state.describe()


def step_word(before: RolloutState | None, after: RolloutState | None,
              bucketing: Bucketing) -> str:
    if before is None:
        return "new"
    if after is None:
        return "removed"
    return _STEP_WORDS[classify(before, after, bucketing)]


def merge_request(message: str) -> str | None:
    """`group/project!123` when the message is a GitLab merge commit's."""
    found = _MERGE_REQUEST.search(message)
    return found[1] if found else None


def timeline(commits: Sequence[Commit], name: str, state_of: StateOf,
             name_of: Callable[[str], str], clock: Clock,
             found: Mapping[str, Details], *, bucketing: Bucketing,
             every: bool = False) -> list[Event]:
    """`commits` newest first, as git lists them; rows oldest first, as people read them.
    Forward or rollback is the gate's word for each change, under the policy's bucketing."""
    events: list[Event] = []
    last: RolloutState | None = None  # the last readable state (None: no file)
    for commit in reversed(commits):
        mine = [change for change in commit.changes if name_of(change.path) == name]
        before, unreadable_before = _state(mine, state_of, after=False)
        after, unreadable = _state(mine, state_of, after=True)
        if unreadable_before:
            before = last
        if unreadable:  # no build takes a file it cannot read: every actor keeps `before`
            after = before
        last = after
        if before == after and not (every and _content_changed(mine)):
            continue
        info = found.get(commit.sha, Details("", ""))
        events.append(Event(clock.times.get(commit.sha), commit.sha, info.author,
                            merge_request(info.message), describe(before),
                            UNREADABLE if unreadable else describe(after),
                            "unreadable" if unreadable else step_word(before, after, bucketing)))
    return events


UNREADABLE = "(unreadable file)"
"""What a commit left when its file is no flag (invalid YAML, a broken field): not a removal,
as reading it as none was: `build` refuses such a tree, so nobody's exposure changed."""


def _state(changes: Sequence[Change], state_of: StateOf, *,
           after: bool) -> tuple[RolloutState | None, bool]:
    """The flag's state on one side of a commit, and whether a file of it was there that
    gave no state (unreadable), which is not the same as no file."""
    present = False
    for change in changes:
        entry = change.after if after else change.before
        state = state_of(entry) if entry is not None else None
        if state is not None:
            return state, False
        present = present or entry is not None
    return None, present


def _content_changed(changes: Sequence[Change]) -> bool:
    """A metadata edit changes the blob; a move keeps it (the same object id on both sides)."""
    olds = {change.before.oid for change in changes if change.before is not None}
    news = {change.after.oid for change in changes if change.after is not None}
    return olds != news
