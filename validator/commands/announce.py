"""`flagops announce --base REF [--head REF]`: run by the default branch's pipeline after a
merge. Each flag whose rollout state changed gets a note on its rollout issue saying what is
now live where since the head commit; a rollback is announced as one. A marker per flag and
commit makes a rerun of the same pipeline add nothing."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from validator import git
from validator.check import LoadedFlag
from validator.compare import RangeRequest, compare
from validator.errors import UserError
from validator.policy import Policy
from validator.reports.escape import escape
from validator.trackers.render import announce_marker, announcement
from validator.transitions import RolloutState, Step, classify


@dataclass(frozen=True, slots=True)
class Note:
    flag: str
    issue: str | None
    body: str


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    commit = git.resolve(root, args.head)
    comparison = compare(root, RangeRequest(args.base, args.head), now=int(time.time()))
    notes = list(_notes(comparison.before, comparison.after, commit[:12],
                        comparison.policy))
    if not notes:
        out.write("no rollout state changed: nothing to announce\n")
        return 0
    failed = 0
    for note in notes:
        failed += _post(note, commit[:12], comparison.policy, out, dry_run=args.dry_run)
    return 1 if failed else 0


def _notes(before: dict[str, LoadedFlag], after: dict[str, LoadedFlag],
           commit: str, policy: Policy) -> Iterator[Note]:
    for name in sorted(set(before) | set(after)):
        old = RolloutState.of(before[name].flag) if name in before else None
        new = RolloutState.of(after[name].flag) if name in after else None
        rollback = old is not None and (
            not old.default_enabled and not old.is_off if new is None  # removed while live
            else new is not None and classify(old, new, policy.bucketing) is Step.ROLLBACK)
        body = announcement(name, old, new, commit=commit, rollback=rollback)
        if body is not None:
            flag = (after.get(name) or before[name]).flag
            yield Note(name, flag.rollout_issue_url, body)


def _post(note: Note, commit: str, policy: Policy, out: TextIO, *, dry_run: bool) -> int:
    """Posts one note; 1 when it could not be, said in one line on stderr."""
    if dry_run or note.issue is None:
        if note.issue is None:
            _say(f"{note.flag}: no rollout_issue_url, so nothing is posted")
        out.write(escape(note.body, keep="\n") + "\n")
        return 0
    try:
        said = _keep(note, commit, policy)
    except UserError as error:
        _say(f"{note.flag}: {error}")
        return 1
    out.write(f"{escape(note.flag)}: {said} {escape(note.issue)}\n")
    return 0


def _keep(note: Note, commit: str, policy: Policy) -> str:
    from validator.trackers.choose import link, tracker

    assert note.issue is not None
    found = link(note.issue, policy)
    if found is None or found.thread.kind != "issue":
        raise UserError(f"{note.issue} is not an issue on a known tracker (github_hosts, "
                        "gitlab_hosts)")
    done = tracker(found.host, found.kind, os.environ).keep_note(
        found.thread, announce_marker(note.flag, commit), note.body, "once")
    return "announced on" if done == "added" else "already announced on"


def _say(text: str) -> None:
    print(f"flagops announce: {escape(text)}", file=sys.stderr)
