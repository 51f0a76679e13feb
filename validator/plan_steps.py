"""What undoing a step would be, and what removing a flag leaves behind, for `plan`. Pure.

A revert is judged like any other change: the revert of a forward step is a rollback and passes
at once, the revert of a rollback is a forward step that must be legal in shape and wait for
its soak. So the plan says, for this step, what `git revert` would do and whether it would pass.
"""

from __future__ import annotations

from validator.check import LoadedFlag
from validator.durations import minutes_text
from validator.findings import Severity
from validator.model import Stage
from validator.policy import Policy
from validator.rules import check_flag
from validator.transitions import RolloutState, Step, Verdict, classify, judge, soak_key

_LONG_AGO = 0
_FAR_LATER = 2**40
"""A clock under which every soak has passed, so that only the shape of a step is judged."""


def released(state: RolloutState | None) -> bool:
    return state is not None and state.default_enabled and state.stage is Stage.ENABLED


def removed_reach(old: RolloutState | None, new: RolloutState | None) -> str | None:
    """Who has the feature once a released flag's file is gone: everyone, for good."""
    if new is None and released(old):
        return "everyone (no flag: the code path is unconditional)"
    return None


def revert(name: str, old: LoadedFlag | None, new: LoadedFlag | None, policy: Policy) -> str:
    """What reverting this change (`git revert -m 1 <merge-sha>`) would do to the flag, and
    whether it would pass: one sentence that starts with its verb."""
    before = RolloutState.of(old.flag) if old else None
    after = RolloutState.of(new.flag) if new else None
    back = ("removes the flag again" if before is None else
            f"brings the flag back at {before.describe()}" if after is None else
            f"takes it back to {before.describe()}")
    broken = [] if old is None else [finding for finding in check_flag(old.flag, old.document,
                                                                        policy)
                                     if finding.severity is Severity.ERROR]
    if broken:  # the revert restores a file the rules refuse, whatever its step
        return (f"{back}: it restores a file that breaks the file rules ({broken[0].rule}: "
                f"{broken[0].message}), which the gate refuses; go back with "
                f"flagops rollback {name} instead.")
    if before is not None and after is not None:
        step = classify(after, before, policy.bucketing)
        if step is Step.ROLLBACK:
            return f"{back}: a rollback, which flagops accepts at once."
        if step is Step.NONE:
            return f"{back}: no rollout change, accepted at once."
    problems = [f for f in judge(name, new, old, Verdict(policy, _FAR_LATER, _LONG_AGO,
                                                         released_before_removal=True))
                if f.severity is Severity.ERROR]
    if problems:
        return (f"{back}: not a legal step ({problems[0].rule}: {problems[0].message}); to "
                f"go back, step forward again from {_shown(after)}, one step at a time.")
    if before is None or after is None:
        return f"{back}: accepted at once."
    wait = getattr(policy.soak_minutes, soak_key(after, before))
    if wait <= 0:
        return f"{back}: a forward step, legal at once (no soak for it)."
    return (f"{back}: a forward step, judged like any other; not at once: it waits "
            f"until {after.describe()} has soaked {minutes_text(wait)} after this change lands.")


def _shown(state: RolloutState | None) -> str:
    return "the removed flag" if state is None else state.describe()
