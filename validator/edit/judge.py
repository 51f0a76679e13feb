"""The validator's verdict on an edited file before it is written, and what it means for people.

The file's own rules (`check_documents`) and the transition from the committed state
(`transitions.judge`, by the committed policy) give the same rule ids and words as
`flagops validate --base HEAD`. A soak that has not passed is also said as how long is left
and when the step becomes legal. Pure: the clock and the landing time are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from validator import moments
from validator.check import LoadedFlag, check_documents
from validator.document import Document
from validator.durations import minutes_text
from validator.findings import Finding
from validator.findings import errors as errors
from validator.policy import DEFAULT_POLICY, Policy
from validator.transitions import (
    RolloutState,
    Verdict,
    judge,
    judge_unreadable_base,
    judge_unreadable_policy,
    soak_key,
)


@dataclass(frozen=True, slots=True)
class Base:
    """The flag as the committed tree (HEAD) holds it: what a change is judged from."""

    path: str | None = None
    flag: LoadedFlag | None = None
    unreadable: bool = False
    """The file exists there but is not a readable flag: only a rollback to off is judged."""
    policy: Policy = DEFAULT_POLICY
    unreadable_policy: Finding | None = None
    """HEAD's policy cannot be read (`policy` is then the defaults): as the gate judges it,
    only a write that leaves the flag at off passes."""


def verdict(name: str, candidate: Document | Finding | None, base: Base, *, now: int,
            landed_at: int | None, other_paths: Sequence[str] = ()) -> list[Finding]:
    """Every finding on the candidate file (None: the file is deleted) and on its step."""
    findings: list[Finding] = []
    after: LoadedFlag | None = None
    if candidate is not None:
        checked = check_documents([candidate], base.policy, other_paths=other_paths)
        findings += checked.findings
        after = checked.flags.get(name)
        if after is None:
            return findings
    if base.unreadable_policy is not None:
        turns_off = after is not None and RolloutState.of(after.flag).is_off
        findings.append(judge_unreadable_policy(base.unreadable_policy, turns_off))
    if base.unreadable and base.path is not None:
        return findings + judge_unreadable_base(name, base.path, after)
    rules = Verdict(base.policy, now, landed_at,
                    merge_commits_required=base.policy.require_merge_commits)
    return findings + judge(name, base.flag, after, rules)


@dataclass(frozen=True, slots=True)
class Soak:
    """A forward step that waits: its base state, how long it has been live, when it may go."""

    state: str
    live: int
    """Minutes since the base state landed; negative for a commit dated in the future."""
    legal_at: int

    def wait(self, now: int) -> int:
        return -((now - self.legal_at) // 60)  # whole minutes, rounded up

    def line(self, name: str, now: int) -> str:
        when = f"legal in {minutes_text(self.wait(now))} (at {clock_text(self.legal_at, now)})"
        if self.live < 0:
            return (f"{name}: {self.state} landed in a commit dated "
                    f"{minutes_text(-self.live)} in the future; the next step is {when}")
        return f"{name}: {self.state} has been live for {minutes_text(self.live)}; the next " \
               f"step is {when}"


def soak(before: RolloutState, after: RolloutState, policy: Policy, landed_at: int | None,
         now: int) -> Soak | None:
    """The wait before `before → after` is legal, if there is one to wait for. The step is
    legal once `(now - landed_at) // 60` reaches the soak, as the judge counts."""
    if landed_at is None:
        return None
    required: int = getattr(policy.soak_minutes, soak_key(before, after))
    legal_at = landed_at + required * 60
    if now >= legal_at:
        return None
    return Soak(before.describe(), (now - landed_at) // 60, legal_at)


def clock_text(moment: int, now: int) -> str:
    """`14:32 UTC` today, `2026-11-29 14:32 UTC` on another day; rounded up to the minute."""
    moment = moments.minute_up(moment)
    today = moments.day(moment) == moments.day(now)
    return moments.minute_text(moment, with_day=not today)


_HINTS = {
    "FO011": "remove the attribute that converts files under flags/ from .gitattributes "
             "(git check-attr -a -- FILE names it); a checkout must give the bytes judged",
    "FO130": "list the first actors: flagops promote {name} --actor Project:group/project",
    "FO122": "give the cleanup issue: flagops promote {name} --default-enabled "
             "--cleanup-issue https://…",
    "FO140": "set rollout_issue_url in {path} first (the rollout issue)",
    "FO141": "add expectations (expected, risks, monitoring) to {path} first",
    "FO207": "commit the new flag at stage off first, then promote it in a change of its own",
    "FO208": "roll it back first (flagops rollback {name}), or finish the rollout "
             "(flagops promote {name} --default-enabled --cleanup-issue https://…)",
    "FO212": "the committed file cannot be read: roll it back to off (flagops rollback {name})",
    "FO401": "wait until the freeze ends; a rollback passes at any time",
    "FO404": "remove the code that reads it first (flagops refs {name} lists it)",
    "FO406": "commit the step the working tree already holds first (git status flags/ shows "
             "it): the policy allows one flag per change; a rollback is not counted",
}


def hints(name: str, path: str, findings: Sequence[Finding]) -> list[str]:
    """What to do about the refusals, in flagops commands, once per rule."""
    rules = dict.fromkeys(finding.rule for finding in errors(findings))
    return [_HINTS[rule].format(name=name, path=path) for rule in rules if rule in _HINTS]
