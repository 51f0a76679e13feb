"""The next rollout state a command asks for, from the current one and the policy. Pure.

`promote` takes the one forward step the policy expects (or the one asked for: whether it is
legal is the validator's to say, on the file it would produce); default_enabled, which releases
a flag, is only ever set when asked for by name. `rollback` goes straight to
off or to any earlier state. What cannot even be asked (a forward step from `rollback`, actors
at stage off) is a `StepError` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from validator.errors import UserError
from validator.model import STAGE_ORDER, Flag, Percentage, Stage
from validator.policy import Policy
from validator.transitions import RolloutState, Step, classify, keeps_in_production


class StepError(UserError):
    """A request that names no step of the kind the command makes."""


@dataclass(frozen=True, slots=True)
class Target:
    """The rollout fields of a flag file: what a step changes, and nothing else."""

    stage: Stage
    actors: tuple[str, ...]
    percentage: Percentage | None
    default_enabled: bool
    cleanup_issue_url: str | None

    @classmethod
    def of(cls, flag: Flag) -> Target:
        return cls(flag.stage, flag.actor_list, flag.percentage, flag.default_enabled,
                   flag.cleanup_issue_url)

    @classmethod
    def reached(cls, flag: Flag) -> Target:
        """The rollout fields of what the file gives (`RolloutState.as_reached`), which is
        where a step goes from: promoting a file at percentage 100 % with default_enabled
        (FO121) wrote the release without its day at enabled, as its label asked."""
        state = RolloutState.of(flag).as_reached()
        return cls(state.stage, flag.actor_list, state.percentage, state.default_enabled,
                   flag.cleanup_issue_url)

    def state(self, name: str) -> RolloutState:
        return RolloutState(name, self.stage, frozenset(self.actors), self.percentage,
                            self.default_enabled)


@dataclass(frozen=True, slots=True)
class PromoteRequest:
    to: Stage | None = None
    percentage: float | None = None
    actors: tuple[str, ...] = ()
    default_enabled: bool = False
    cleanup_issue_url: str | None = None


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    to: Stage | None = None
    percentage: float | None = None
    remove_actors: tuple[str, ...] = ()


def promote(flag: Flag, request: PromoteRequest, policy: Policy) -> Target:
    current = Target.reached(flag)
    if request.to or request.percentage is not None or request.default_enabled:
        target = _asked(flag.name, current, request, policy)
    elif request.actors and current.stage in (Stage.BETA, Stage.PERCENTAGE):
        target = current
    else:
        target = _next(flag.name, current, policy)
    actors = tuple(dict.fromkeys((*target.actors, *request.actors)))
    target = replace(target, actors=actors,
                     cleanup_issue_url=request.cleanup_issue_url or target.cleanup_issue_url)
    _check_promote(flag.name, current, target, request)
    return target


def _next(name: str, current: Target, policy: Policy) -> Target:
    """The one step forward the policy expects from `current`."""
    if current.stage is Stage.ENABLED:
        if current.default_enabled:
            raise StepError(f"{name} is released (enabled with default_enabled); nothing is "
                            f"left to promote: once its cleanup is done, flagops remove {name}")
        raise StepError(f"{name} is enabled; the next step releases it, and is asked for by "
                        f"name: flagops promote {name} --default-enabled --cleanup-issue URL")
    if current.stage is Stage.PERCENTAGE and _higher(current, policy) is None:
        return replace(current, stage=Stage.ENABLED, percentage=None)
    stage = current.stage if current.stage is Stage.PERCENTAGE else \
        STAGE_ORDER[current.stage.rank + 1]
    return _at(current, stage, None, policy)


def _asked(name: str, current: Target, request: PromoteRequest, policy: Policy) -> Target:
    stage = request.to or (Stage.PERCENTAGE if request.percentage is not None
                           else Stage.ENABLED)
    target = _at(current, stage, request.percentage, policy, name=name)
    return replace(target, default_enabled=current.default_enabled or request.default_enabled)


def _at(current: Target, stage: Stage, value: float | None, policy: Policy, *,
        name: str = "") -> Target:
    """`current` moved to `stage`, with a percentage exactly where the stage needs one."""
    percentage = None
    if stage is Stage.PERCENTAGE:
        if value is None:
            value = _higher(current, policy)
        if value is None:
            raise StepError(f"{name} is at percentage 100% already; the next step is "
                            f"flagops promote {name} --to enabled")
        of = current.percentage.of if current.percentage else "actors"
        percentage = Percentage(of=of, value=value)
    return replace(current, stage=stage, percentage=percentage)


def _higher(current: Target, policy: Policy) -> float | None:
    """The policy's next percentage above the current one (its first from below)."""
    if current.stage is not Stage.PERCENTAGE or current.percentage is None:
        return policy.percentage_steps[0]
    above = [step for step in policy.percentage_steps if step > current.percentage.value]
    return above[0] if above else None


def _check_promote(name: str, current: Target, target: Target,
                   request: PromoteRequest) -> None:
    if target.stage.rank < current.stage.rank:
        raise StepError(f"{name}: {target.stage} comes before {current.stage}; that is a "
                        f"rollback: flagops rollback {name} --to {target.stage}")
    if request.actors and target.stage.rank < Stage.BETA.rank:
        raise StepError(f"{name}: actors take effect from stage beta on, and this step goes "
                        f"to {target.stage}; list them when promoting to beta")
    if request.actors and target.stage is Stage.ENABLED:
        raise StepError(f"{name}: at stage enabled everyone has the flag; --actor adds nobody")
    if target == current:
        raise StepError(f"{name} is already {current.state(name).describe()}; nothing to "
                        "promote")


def rollback(flag: Flag, request: RollbackRequest, policy: Policy) -> Target:
    current = Target.reached(flag)
    name = flag.name
    stage = request.to or (Stage.PERCENTAGE if request.percentage is not None else
                           current.stage if request.remove_actors else Stage.OFF)
    if stage.rank > current.stage.rank:
        raise StepError(f"{name}: {stage} comes after {current.stage}; that is a forward "
                        f"step: flagops promote {name} --to {stage}")
    missing = [actor for actor in request.remove_actors if actor not in current.actors]
    if missing:
        raise StepError(f"{name}: {', '.join(missing)} is not listed in actors")
    kept = tuple(actor for actor in current.actors if actor not in request.remove_actors)
    stage = _beta_needs_actors(name, stage, kept, request)
    target = Target(stage, kept if stage.rank >= Stage.BETA.rank else (), None, False,
                    current.cleanup_issue_url)
    if stage is Stage.PERCENTAGE:
        only_actors = request.to is None and request.percentage is None
        target = replace(target, percentage=current.percentage if only_actors else
                         _lower(name, current, request.percentage, policy))
    if target == Target.of(flag):  # a file that gives less than it says is still written
        raise StepError(f"{name} is {current.state(name).describe()}; nothing to roll back")
    _removed_actors_lose_it(name, target, request, policy)
    if classify(current.state(name), target.state(name),
                policy.bucketing) in (Step.FORWARD, Step.MIXED):
        raise StepError(f"{name}: {current.state(name).describe()} → "
                        f"{target.state(name).describe()} is not a rollback (nobody loses "
                        "the flag)")
    return target


def _removed_actors_lose_it(name: str, target: Target, request: RollbackRequest,
                            policy: Policy) -> None:
    """An actor taken off the list while the percentage buckets it in, or at enabled, where
    everyone has the flag, keeps it: the edit would say it was rolled back and take it from
    nobody (at enabled it also turned default_enabled off, which nobody asked for). Refused
    with what does take it (an actor whose bucket is not known here may lose it, and may be
    removed)."""
    state = target.state(name)
    kept = [actor for actor in request.remove_actors
            if keeps_in_production(state, actor, policy.bucketing)]
    if not kept:
        return
    if target.percentage is not None:
        raise StepError(f"{name}: {', '.join(kept)} would keep the flag through "
                        f"{state.describe()} (the percentage buckets it in); to take it "
                        f"away, lower the percentage (flagops rollback {name} --percentage N "
                        f"--remove-actor …) or go back to beta (--to beta)")
    raise StepError(f"{name}: {', '.join(kept)} would keep the flag through "
                    f"{state.describe()} (everyone has it); to take it away, go back to a "
                    f"percentage (flagops rollback {name} --to percentage --remove-actor …) "
                    "or to beta (--to beta)")


def _beta_needs_actors(name: str, stage: Stage, kept: tuple[str, ...],
                       request: RollbackRequest) -> Stage:
    """Beta with nobody listed gives nobody the flag in production: taking off the last
    actor goes to staging, which is what that leaves, in a file the rules take (beta
    without actors is FO130); asking for beta with nobody to keep names staging instead."""
    if stage is not Stage.BETA or kept:
        return stage
    if request.to is Stage.BETA:
        raise StepError(f"{name}: beta keeps the listed actors, and none is listed; roll back "
                        f"to staging: flagops rollback {name} --to staging")
    return Stage.STAGING


def _lower(name: str, current: Target, value: float | None, policy: Policy) -> Percentage:
    """The percentage a rollback goes to: the one asked for, else the policy's step below the
    current one (from enabled, its first step)."""
    of = current.percentage.of if current.percentage else "actors"
    if value is not None:
        return Percentage(of=of, value=value)
    if current.stage is not Stage.PERCENTAGE or current.percentage is None:
        return Percentage(of=of, value=policy.percentage_steps[0])
    below = [step for step in policy.percentage_steps if step < current.percentage.value]
    if not below:
        raise StepError(f"{name} is at the policy's first percentage already; roll back to "
                        f"beta (flagops rollback {name} --to beta) or give --percentage")
    return Percentage(of=of, value=below[-1])


def field_changes(data: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """The top-level fields whose value must change for the file to hold `target`."""
    percentage = target.percentage
    wanted: dict[str, Any] = {
        "stage": str(target.stage),
        "actors": list(target.actors) or None,
        "percentage": {"of": percentage.of, "value": percentage.value} if percentage else None,
        "default_enabled": target.default_enabled,
        "cleanup_issue_url": target.cleanup_issue_url,
    }
    return {key: value for key, value in wanted.items() if not _same(data.get(key), value)}


def _same(current: Any, wanted: Any) -> bool:
    if wanted is None:
        return current is None or current == []
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted
    return bool(current == wanted)
