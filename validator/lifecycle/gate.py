"""The lifecycle rules of `validate --base`: freeze windows (FO401), stale flags (FO402),
passed rollout dates (FO403) and flags released too long ago (FO407), for the flags a change
touches, by the base's policy.

Called from one place in `validator.compare`. A rollback or a removal is never judged here:
rollbacks always pass. Stale flags are counted in milestones when the base knows the current
one (the policy's `current_milestone`, else its `version_file` at the base); else, with
`stale_in_months`, in months since the commit that added the flag's file (followed by name
through moves: a move restarts no count). CI also reads what the flag's history on the base
still judges it by (`_past`): its oldest milestone, and the version before a rollback that
edited its milestone or type; the pre-commit hook, --staged, leaves both to CI to stay fast.
A removed flag that code at the head still reads is an error (FO404); `one_flag_per_change`
is FO406.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import NamedTuple

from validator import git
from validator.check import LoadedFlag
from validator.files import stem
from validator.findings import RULES, START, Finding, Severity
from validator.git import log as git_log
from validator.git.log import Commit
from validator.git.replay import replayed
from validator.landings import branch_clock, flag_in, landing_times
from validator.lifecycle.facts import by_name, first_add
from validator.lifecycle.freeze import blocking
from validator.lifecycle.lifespan import (
    age,
    current_milestone,
    milestone_ahead,
    milestone_index,
    milestone_text,
    released_key,
    rollout_overdue,
)
from validator.lifecycle.reads import MOST_MOVES, named_history, version_at
from validator.model import Flag
from validator.policy import Policy
from validator.transitions import RolloutState, Step, classify

_DAY = 86_400
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True, slots=True)
class Sides:
    """What is compared: the base commit, and the head (a tree or commit; None with `staged`
    False is the working tree, with `staged` True the index)."""

    base: str
    head: str | None
    staged: bool


def lifecycle_findings(root: Path, reader: git.BlobReader, sides: Sides,
                       before: Mapping[str, LoadedFlag], after: Mapping[str, LoadedFlag],
                       policy: Policy, now: int, *,
                       not_counted: frozenset[str] = frozenset()) -> list[Finding]:
    """`not_counted`: flags one_flag_per_change leaves out (exact imports under a trailer)."""
    steps = {name: _step(before.get(name), loaded, policy) for name, loaded in after.items()}
    judged = {name: loaded for name, loaded in after.items()
              if steps[name] is not Step.ROLLBACK}
    findings = one_flag_findings(before, {name: loaded for name, loaded in judged.items()
                                          if name not in not_counted}, policy)
    findings += _reference_findings(root, sides, before, after, policy)
    if not judged:
        return findings
    findings += freeze_findings(before, judged, policy, now)
    base = sides.base
    version = _version_at(reader, root, base, policy)
    current = current_milestone(policy, version)
    if version is not None and current is None:
        findings += _version_unreadable(policy, version)
    # Months need a walk of the base's history: CI's, not the pre-commit hook's (--staged).
    months = policy.stale_in_months and current is None and not sides.staged
    # So does what earlier changes of a flag left it judged by (`_past`), for a change that
    # gives someone more or moves the flag (fast-forwarded as a removal and an add, a move
    # would be where its history starts): CI reads it. (Read for every flag a change of a
    # thousand flags' descriptions touched, it took that change from 6 s to 35 s.)
    walked = {name: before[name] for name, loaded in judged.items() if name in before
              and (months or steps[name] in (Step.FORWARD, Step.MIXED)
                   or before[name].document.path != loaded.document.path)}
    # The flag's history on the base, from its path there, followed by name through moves.
    past = _past(root, reader, base, walked, policy) \
        if not sides.staged and (months or current is not None) else {}
    for name, loaded in sorted(judged.items()):
        added, cut, earlier, lost, deleted, unfollowed = past.get(name, _NO_PAST)
        if lost is not None:
            findings.append(_history_unreadable(loaded, policy, lost))
        if unfollowed:
            findings.append(_moved_too_often(loaded, policy))
            continue
        if months and cut:
            findings.append(_history_cut(loaded, policy, f"how long it has lived (counted from "
                                         f"the commit that added {before[name].document.path})"))
            continue
        stale = stale_findings(loaded, policy, current, added if months else None, now,
                               was=before.get(name), earlier=earlier)
        findings += [finding._replace(message=finding.message + _NAME_KEEPS_AGE)
                     if deleted and finding.rule == "FO402" else finding for finding in stale]
    if not sides.staged:  # a walk back max_released_days: CI's, not the pre-commit hook's
        findings += released_findings(root, reader, base, before, judged, policy, now)
    return findings


def released_findings(root: Path, reader: git.BlobReader, base: str,
                      before: Mapping[str, LoadedFlag], judged: Mapping[str, LoadedFlag],
                      policy: Policy, now: int) -> list[Finding]:
    """Touched flags that stay enabled by default, where that state landed on the base more
    than max_released_days ago (by the gate's trusted clock; unknown history says nothing)."""
    days = policy.max_released_days
    kept = {name: RolloutState.of(before[name].flag) for name, loaded in judged.items()
            if name in before and before[name].flag.default_enabled
            and loaded.flag.default_enabled}
    if not days or not kept:
        return []
    limit = now - days * _DAY
    landed = landing_times(root, reader, base, kept, policy, now, since=limit,
                           key=released_key)
    found = [_at("FO407", judged[name], "default_enabled", f"{name}: enabled by default "
                 f"for {(now - at) // _DAY} days; the policy allows {days} before its removal",
                 name) for name, at in sorted(landed.items()) if at is not None and at <= limit]
    cut = [_history_cut(judged[name], policy, "how long it has been enabled by default")
           for name, at in sorted(landed.items()) if at is None] \
        if git_log.shallow_commits(root) is not None else []
    return _with_stale_severity(found, policy) + cut


def _moved_too_often(loaded: LoadedFlag, policy: Policy) -> Finding:
    """FO205 where the flag's file was moved more often than its history is followed: its
    first add, and its age and oldest milestone, cannot be told (read as a flag with no add,
    it was never stale). At stale_severity, as the shallow clone's cut."""
    name = loaded.flag.name
    found = _at("FO205", loaded, "milestone", f"{name}: cannot tell how long it has lived: "
                f"its file was moved more than {MOST_MOVES} times, and its history is followed "
                "no further; a flag that needs to go on takes a new name", name)
    return found._replace(severity=Severity(policy.stale_severity))


def _history_cut(loaded: LoadedFlag, policy: Policy, what: str) -> Finding:
    """FO205 where a shallow clone's cut hides a flag's age (FO402 in months) or its release
    (FO407): the cut shows every file as added there, and the clone holds nothing older, so
    the flag would look young. Reported as the policy's stale_severity reports what it
    hides: with "error" the gate fails closed."""
    name = loaded.flag.name
    found = _at("FO205", loaded, "milestone", f"{name}: cannot tell {what}: that history is "
                "beyond this shallow clone's cut; fetch with full depth (git fetch "
                '--unshallow; GitLab CI: GIT_DEPTH: "0")', name)
    return found._replace(severity=Severity(policy.stale_severity))


def _history_unreadable(loaded: LoadedFlag, policy: Policy, lost: git.Entry) -> Finding:
    """FO205 where a version of the flag in its history on the base cannot be read (git has
    no such object: a damaged clone, a partial one that cannot fetch it): that version's
    milestone and type may be what judges the flag's age, so the history is as cut, never
    as if the version were not there. At the policy's stale_severity, as `_history_cut`."""
    name = loaded.flag.name
    found = _at("FO205", loaded, "milestone", f"{name}: cannot tell how long it has lived: "
                f"git cannot read {lost.path} ({lost.oid}) in its history on the base, an "
                "object missing from this clone; fetch the objects (git fetch --refetch) or "
                "clone again", name)
    return found._replace(severity=Severity(policy.stale_severity))


def _step(old: LoadedFlag | None, new: LoadedFlag, policy: Policy) -> Step | None:
    """The change by what each actor gets; None for a new flag."""
    if old is None:
        return None
    return classify(RolloutState.of(old.flag), RolloutState.of(new.flag), policy.bucketing)


def freeze_findings(before: Mapping[str, LoadedFlag], after: Mapping[str, LoadedFlag],
                    policy: Policy, now: int) -> list[Finding]:
    findings: list[Finding] = []
    if not policy.freeze:
        return findings
    for name, loaded in sorted(after.items()):
        old = before.get(name)
        # A new flag, or one whose base file cannot be read, is judged from nobody: a flag
        # that arrives live (an override, an import) widens as much as any step.
        was = RolloutState.of(old.flag) if old is not None else RolloutState.nobody(name)
        window = blocking(was, RolloutState.of(loaded.flag), policy.freeze, now,
                          policy.bucketing)
        if window is not None:
            ends = window.end.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            findings.append(_at("FO401", loaded, "stage", f"{name}: forward steps are frozen "
                                f"until {ends} ({window.reason}); rollbacks pass", name))
    return findings


def stale_findings(loaded: LoadedFlag, policy: Policy, current: int | None,
                   added_at: int | None, now: int, *,
                   was: LoadedFlag | None = None,
                   earlier: Sequence[Flag] = ()) -> list[Finding]:
    """FO402 and FO403 for the flag the change leaves (`loaded`). `was`, the flag at the base:
    its age counts as well, by the milestone and type it had there. The lifespan is the
    flag's milestone and type, which the change itself can edit: bumping `milestone` to
    '99.0', or `type` to worker (no limit), made a stale flag young in the change that stepped
    it forward, past `stale_severity = "error"`, as a type change buys no `may_skip` either.
    A correction of either applies from the next change on (or passes with an override).
    So does a new intended_to_rollout_by for a forward step (FO403): moving a passed date
    in the change that steps forward silenced it; a change that only moves it passes.
    A milestone later than the current one (a new flag's `99.0`) is FO402 too: the flag
    would not age until then. `earlier`: what the base branch's history still judges the
    flag by (`_past`): its oldest milestone there, and the milestone and type it had before
    a rollback that edited them (a rollback is never judged, so its edit never counts)."""
    flag, name = loaded.flag, loaded.flag.name
    found: list[Finding] = []
    lived = age(flag, policy, current, added_at, now)
    past = [version for version in (was.flag if was is not None else None, *earlier)
            if version is not None]
    ages = [(version, age(version, policy, current, added_at, now)) for version in past]
    stale = next(((version, old) for version, old in ages if old is not None and old.overdue),
                 None)
    if lived is not None and lived.overdue:
        found.append(_at("FO402", loaded, "milestone", f"{name}: {flag.type} flags live at most "
                         f"{lived.limit} {lived.unit}; this one has lived {lived.text()}",
                         name))
    elif stale is not None:
        version, old = stale
        where = ("at the base: this change's edit of them counts from the next change on"
                 if was is not None and version is was.flag else "on the base branch: a later "
                 "milestone, or a rollback's edit of them, does not make it younger")
        found.append(_at("FO402", loaded, "milestone", f"{name}: {version.type} flags live at "
                         f"most {old.limit} {old.unit}; this one has lived {old.text()} (by its "
                         f"milestone {version.milestone} and type {where})", name))
    elif current is not None and lived is not None and lived.limit is not None \
            and milestone_ahead(flag, current):
        found.append(_at("FO402", loaded, "milestone", f"{name}: milestone {flag.milestone} is "
                         f"later than the current milestone {milestone_text(current)}: a flag's "
                         "lifespan counts from its milestone, so it would not age until then; "
                         "set the milestone it was added in", name))
    if rollout_overdue(flag, now):
        found.append(_at("FO403", loaded, "intended_to_rollout_by", f"{name}: "
                         f"intended_to_rollout_by {flag.intended_to_rollout_by} has passed",
                         name))
    elif was is not None and rollout_overdue(was.flag, now) and classify(
            RolloutState.of(was.flag), RolloutState.of(flag), policy.bucketing) is Step.FORWARD:
        found.append(_at("FO403", loaded, "intended_to_rollout_by", f"{name}: "
                         f"intended_to_rollout_by {was.flag.intended_to_rollout_by} (at the "
                         "base) has passed; a forward step is judged by it, and this change's "
                         "new date counts from the next change on (a change that only sets "
                         "it passes)", name))
    return _with_stale_severity(found, policy)


def _with_stale_severity(found: list[Finding], policy: Policy) -> list[Finding]:
    if policy.stale_severity == "error":
        return [finding._replace(severity=Severity.ERROR) for finding in found]
    return found


def _at(rule: str, loaded: LoadedFlag, key: str, message: str, name: str) -> Finding:
    return RULES[rule].at(loaded.document.path, loaded.document.value_position((key,)),
                          message, flag=name)


def _version_unreadable(policy: Policy, text: str) -> list[Finding]:
    """FO409: the base holds the policy's version file, and it gives no milestone. Read as
    none, a byte order mark, a `v`, an emptied file or a symlink in its place turned FO402
    and FO408 off for every later change without a word (fail closed, as FO205 does)."""
    shown = text.strip()[:40]
    what = f"starts with {shown!r}" if shown else "holds no text (or is no regular file)"
    return _with_stale_severity([RULES["FO409"].at(
        policy.version_file or "", START, f"{policy.version_file} at the base {what}, not a "
        "milestone (17.10.0-pre, say): no changed flag's age can be told in milestones; fix "
        "it, or set current_milestone")], policy)


def _version_at(reader: git.BlobReader, root: Path, base: str, policy: Policy) -> str | None:
    """The base's version file (GitLab's VERSION), when the policy names one and it is a file
    (not read where the policy names the current milestone itself)."""
    if policy.current_milestone is not None:
        return None
    return version_at(reader, root, base, policy)


class _Past(NamedTuple):
    added_at: int | None
    cut: bool
    versions: tuple[Flag, ...]
    lost: git.Entry | None
    """A version in the history walked that git could not read (no such object)."""
    deleted: bool = False
    """Its file was deleted on the way (and added again): its age is its name's."""
    unfollowed: bool = False
    """Its file was moved more often than its history is followed (reads.MOST_MOVES)."""


_NO_PAST = _Past(None, False, (), None)
_NAME_KEEPS_AGE = ("; its file was deleted and added again on the base branch, and a flag keeps "
                   "its name's age: a new flag takes a new name")


def _past(root: Path, reader: git.BlobReader, base: str, flags: Mapping[str, LoadedFlag],
          policy: Policy) -> dict[str, _Past]:
    """For each flag at the base, from its history on the base's first-parent line (followed
    by name from its path there through moves, back to the commit that added it): when it
    was added, and the versions that still judge its lifespan besides the base's.

    When: dated as `status` dates it (`Clock.earliest`), so that a commit dated in the future
    cannot keep a flag young; a move is no add, so it restarts no count (a move carried by a
    rollback did). `cut` where a shallow clone's cut is what added it (or it shows no adding
    at all): the age is unknown, not that young.

    Versions: a rollback is never judged, so the milestone or type edit it carries made a
    stale flag young for every change after it; the version before such a rollback still
    judges. And a flag is as old as the oldest milestone it had (a later milestone set in
    any change is no younger flag): each version is judged by that milestone.

    A flag deleted and added again keeps its name's life (`facts.added_at`): its first add,
    its oldest milestone and the versions its rollbacks left. A change of commits that
    deleted a stale flag's file and added it again, fast-forwarded, started its life again
    (put back at its old state; or at off, then the old file restored, so the change as
    judged changed nothing; or through a commit that could not be read). The history is read
    by the flag's literal paths and its moves within one commit: a deletion in one commit and
    an add in another folder in a later one is not followed (a search of every folder's
    history costs seconds at 10,000 flags), which FO408 (`restart_findings`) keeps off
    the base branch, as `require_merge_commits` keeps it off the first-parent line."""
    paths = {name: loaded.document.path for name, loaded in flags.items()}
    if not paths or base == _EMPTY_TREE:
        return {}
    clock = branch_clock(root, base)[0]
    unfollowed: set[str] = set()
    commits = by_name(named_history(root, base, paths, clock, unfollowed=unfollowed), paths)
    cut = git_log.shallow_commits(root)
    flags_in, missing = _versions(reader, commits.values())
    found: dict[str, _Past] = {}
    for name, mine in commits.items():
        deleted = False
        lost: git.Entry | None = None
        seen: list[Flag] = [flags[name].flag]
        rolled: list[Flag] = []
        for commit in mine:  # newest first, back to the oldest add
            lost = lost or next((entry for change in commit.changes
                                 for entry in (change.before, change.after)
                                 if entry is not None and entry.oid in missing), None)
            old = _side(flags_in, commit, after=False)
            new = _side(flags_in, commit, after=True)
            if old is not None:
                seen.append(old)
                if new is not None and (old.milestone, old.type) != (new.milestone, new.type) \
                        and classify(RolloutState.of(old), RolloutState.of(new),
                                     policy.bucketing) is Step.ROLLBACK:
                    rolled.append(old)
            deleted = deleted or all(change.after is None for change in commit.changes)
        added = first_add(mine)  # the oldest add: a name keeps its life through deletions
        oldest = min(seen, key=lambda version: milestone_index(version.milestone) or 0)
        versions = tuple(version.model_copy(update={"milestone": oldest.milestone})
                         for version in (flags[name].flag, *rolled))
        hidden = cut is not None and (added is None or added in cut)
        when = clock.earliest.get(added) if added is not None and not hidden else None
        found[name] = _Past(when, hidden, versions, lost, deleted, name in unfollowed)
    return found


def restart_findings(root: Path, reader: git.BlobReader, base: str, tip: str,
                     policy: Policy, *, fast_forward: bool = True) -> list[Finding]:
    """FO408 for each commit of the change that adds a file of a flag the base holds without
    removing one of its files (the other half of a move made in two commits, a copy, or the
    base's own file brought back by merging the target in; not a file added again where an
    earlier commit of the change removed it, whose history that path keeps). Landed commit
    by commit (a rebase merge replays every commit but the merges, in its own order:
    `replay.replayed`; a fast-forward lands the first-parent line, each merge as its diff
    from its first parent), the flag's history on the base branch (`_past`, `facts`: by its
    paths and its moves within one commit) would start at that add, and its age and oldest
    milestone with it, a stale flag young again for every later change. And, once, a change
    that could be fast-forwarded but holds its base off its first-parent line (it merged its
    target in): landed so, the base branch's first-parent line would be the change's.
    Finding where a life went on after such an add is a search of every folder's history
    (seconds at 10,000 flags), so the change is refused where it is made. Whatever the
    policy says of merge commits (require_merge_commits): GitHub's "Rebase and merge", GitLab's
    fast-forward merge method and a push land the commits without one, and a branch that
    merged its target in is FO213 there anyway. Not asked where the base's policy counts no
    age (no current milestone, no version file, no stale_in_months).
    Whatever flags the change itself touches: merging the target in touches none of them.
    `tip`: the change's last commit. Without `fast_forward` (a GitHub pull request, which
    lands as a merge commit, a squash or a rebase), the first-parent line is not a landing
    order: "Update branch" merges the target into the branch, and nothing lands it so."""
    if not (policy.stale_in_months or policy.current_milestone is not None
            or _version_at(reader, root, base, policy) is not None):
        return []  # a version file that gives no milestone counts (FO409): fail closed
    cut = git_log.shallow_commits(root) or frozenset()  # a shallow cut's diff is no add
    histories = [git_log.commits_in_order(
        root, [commit for commit, *_ in replayed(root, base, tip) if commit not in cut],
        [git.FLAGS_DIR])]
    found: list[Finding] = []
    if fast_forward and git.is_ancestor(root, base, tip):  # else a merge or a rebase lands it
        if not _on_first_parent_line(root, base, tip):
            found.append(RULES["FO408"].at(git.FLAGS_DIR, START, _TARGET_MERGED_IN))
        histories.append([commit for commit in reversed(git_log.first_parent_history(
            root, f"{base}..{tip}", [git.FLAGS_DIR])) if commit.sha not in cut])
    adds = _adds_of_held(root, base, histories)
    found += [RULES["FO408"].at(path, START, f"{name}: {path} is added in {sha[:12]} with no "
                                f"file of the name removed there, while the base holds {name} "
                                f"({held}): landed commit by commit (a fast-forward or rebase "
                                "merge), its history would start at that add, and its age "
                                "and oldest milestone with it; move a flag's file in one "
                                "commit (git mv), rebase onto the target rather than merging "
                                "it in, or squash the change", flag=name)
              for name, (path, sha, held) in sorted(adds.items())]
    return _with_stale_severity(found, policy)


_TARGET_MERGED_IN = (
    "the change merged its target in, which is not on its first-parent line: fast-forwarded, "
    "the base branch's first-parent line would be the change's, and every flag's history "
    "would be read along it, its age restarting where that line adds the flag's file; rebase "
    "onto the target, or land the change with a merge commit (require_merge_commits)")


def _on_first_parent_line(root: Path, base: str, tip: str) -> bool:
    """Is `base` (an ancestor of `tip`) on `tip`'s first-parent line: is it the first
    parent of the oldest commit of that line that it does not reach?"""
    raw = git.git(root, "rev-list", "--first-parent", "--parents", f"{base}..{tip}")
    oldest = raw.decode("ascii").strip().splitlines()[-1:]
    return not oldest or oldest[0].split()[1:2] == [base]


def _adds_of_held(root: Path, base: str, histories: Iterable[Sequence[Commit]]
                  ) -> dict[str, tuple[str, str, str]]:
    """Each flag the base holds whose history, read as the gate reads it once a landing order
    of the change (its commits, oldest first) has landed, would start at one of its commits:
    name → (the path added there, the commit, where the base holds the flag)."""
    histories = [list(history) for history in histories]
    if not any(change.before is None and git.is_flag_path(change.path)
               for history in histories for commit in history for change in commit.changes):
        return {}
    at_base = [path for path in git.tree_entries(root, base) if git.is_flag_path(path)]
    held = {stem(path): path for path in sorted(at_base, reverse=True)}
    found: dict[str, tuple[str, str, str]] = {}
    for history in histories:
        for name, (path, sha) in _restarts(history, set(at_base), held).items():
            found.setdefault(name, (path, sha, held[name]))
    return found


class _Adds(NamedTuple):
    """What one commit of a landing order adds, as the tree so far holds it."""

    sha: str
    moved: dict[str, list[str]]
    """By name: the files of it the commit removes that the tree so far holds (a move's
    sources: the history follows every one)."""
    added: list[tuple[str, str, bool]]
    """(name, path, whether an earlier commit removed that path) for each file added."""


def _restarts(history: Sequence[Commit], present: set[str], held: Mapping[str, str]
              ) -> dict[str, tuple[str, str]]:
    """Where the histories of the held flags' files at the end of `history` start within it:
    name → (the path added, the commit), the oldest. Read backwards from each file there, as
    the gate's history reader does (validator/lifecycle/reads.py): through a move in one
    commit into every file of the name it removed, and through an add at a path an earlier
    commit removed into that path's earlier life; an add that is neither, where the base
    holds the name, is where it starts, unless another file that history follows goes back
    past the change (a copy, then one commit that moves both: the oldest add is the base's).
    An add whose file a later commit removes (a stacked change whose lower one was squashed
    carries its adds) starts no history that lands."""
    steps: list[_Adds] = []
    gone: set[str] = set()
    for commit in history:
        moved: dict[str, list[str]] = {}
        added: list[tuple[str, str, bool]] = []
        for change in commit.changes:
            if not git.is_flag_path(change.path):
                continue
            if change.after is None and change.path in present:
                moved.setdefault(stem(change.path), []).append(change.path)
            elif change.before is None and change.after is not None \
                    and change.path not in present:
                added.append((stem(change.path), change.path, change.path in gone))
        for change in commit.changes:
            if change.after is not None:
                present.add(change.path)
            elif change.path in present:
                present.discard(change.path)
                gone.add(change.path)
        steps.append(_Adds(commit.sha, moved, added))
    # Each path still to follow back, with the files at the end whose history holds it.
    live = {path: {path} for path in present if git.is_flag_path(path) and stem(path) in held}
    starts: dict[str, tuple[str, str]] = {}
    for step in reversed(steps):
        for name, path, again in step.added:
            if path not in live:
                continue  # a file that does not land
            if again:  # the path keeps its history, and a move into it the files it removed
                for source in step.moved.get(name, ()):
                    live.setdefault(source, set()).update(live[path])
                continue
            ends = live.pop(path)
            for source in step.moved.get(name, ()):
                live.setdefault(source, set()).update(ends)
            if name not in step.moved and name in held:
                starts.update(dict.fromkeys(ends, (path, step.sha)))  # older ones overwrite
    before = {end for ends in live.values() for end in ends}  # followed back past the change
    found: dict[str, tuple[str, str]] = {}
    for end, start in starts.items():
        if end not in before:  # the oldest add on its history is the change's
            found.setdefault(stem(end), start)
    return found


def _versions(reader: git.BlobReader, histories: Iterable[Sequence[Commit]]
              ) -> tuple[dict[str, Flag | None], frozenset[str]]:
    """The flag in each blob of the flags' histories, by object id, read once each and
    streamed from git a batch at a time: a version is the after side of one commit and the
    before side of the next, and a change of a thousand flags read each twice, one round
    trip each (35 s against 5 s before the histories were read at all). With them, the
    object ids git has no blob for: a version that cannot be read is not "no version"."""
    entries = {entry.oid: entry for history in histories for commit in history
               for change in commit.changes for entry in (change.before, change.after)
               if entry is not None and entry.is_regular and entry.oid is not None}
    found: dict[str, Flag | None] = {}
    missing: set[str] = set()
    for batch in reader.in_batches(list(entries.items()), lambda pair: pair[0]):
        for oid, entry in batch:
            raw = reader.read(oid)
            if raw is None:
                missing.add(oid)
            found[oid] = flag_in(entry.path, raw)[0]
    return found, frozenset(missing)


def _side(versions: Mapping[str, Flag | None], commit: Commit, *, after: bool) -> Flag | None:
    """The flag on one side of a commit's changes of it (a move has one on each side)."""
    for change in commit.changes:
        entry = change.after if after else change.before
        if entry is not None and entry.oid is not None and versions.get(entry.oid):
            return versions[entry.oid]
    return None



def one_flag_findings(before: Mapping[str, LoadedFlag], judged: Mapping[str, LoadedFlag],
                      policy: Policy) -> list[Finding]:
    """With one_flag_per_change, a change may step (or add) one flag; rollbacks are not
    counted, and a change of rollbacks only always passes."""
    if not policy.one_flag_per_change:
        return []
    stepping = sorted(name for name, loaded in judged.items() if name not in before or classify(
        RolloutState.of(before[name].flag), RolloutState.of(loaded.flag),
        policy.bucketing) is not Step.NONE)
    if len(stepping) < 2:
        return []
    return [_at("FO406", judged[name], "stage", f"{name}: this change steps {len(stepping)} "
                f"flags ({', '.join(stepping)}); the policy allows one flag per change", name)
            for name in stepping]


def _reference_findings(root: Path, sides: Sides, before: Mapping[str, LoadedFlag],
                        after: Mapping[str, LoadedFlag], policy: Policy) -> list[Finding]:
    """A removed flag that code at the head still reads is an error; a released flag the
    change touches with no reference left is a warning. Nothing is searched otherwise."""
    removed = sorted(set(before) - set(after))
    released = sorted(name for name, loaded in after.items()
                      if loaded.flag.default_enabled and name in before)
    if not removed and not released:
        return []
    from validator.lifecycle.search import find

    found = find(root, policy, [*removed, *released], [*removed, *released],
                 tree=sides.head, cached=sides.staged)
    findings: list[Finding] = []
    for name in removed:
        places = [ref.text() for ref in found if ref.flag == name]
        if places:
            more = f" and {len(places) - 5} more" if len(places) > 5 else ""
            findings.append(RULES["FO404"].at(before[name].document.path, START, f"{name}: "
                                              "removed while code still references it: "
                                              f"{', '.join(places[:5])}{more}", flag=name))
    for name in released:
        if not any(ref.flag == name for ref in found):
            findings.append(_at("FO405", after[name], "default_enabled", f"{name}: no code "
                                "references it any more; it can be removed", name))
    return findings
