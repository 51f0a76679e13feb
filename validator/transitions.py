"""The stage machine: judges one flag's step from a base state to a head state. No git inside.

Forward steps must be one step long, follow the policy's percentages and have soaked;
a rollback is always legal, whatever it skips, so a revert never needs permission.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from validator.characters import not_composed
from validator.check import LoadedFlag
from validator.digits import decimal_text
from validator.durations import minutes_text
from validator.engines import Bucketing
from validator.engines.bucketing import bucketed_as_written, in_share
from validator.findings import RULES, START, Finding, Position, Severity
from validator.gates import Gates, stage_gates
from validator.model import (
    STAGE_ORDER,
    TYPE_RULES,
    Environment,
    Flag,
    FlagType,
    Percentage,
    Stage,
)
from validator.policy import Policy

_ENVIRONMENTS = tuple(Environment)


@dataclass(frozen=True, slots=True)
class RolloutState:
    """The part of a flag that decides who has it; metadata edits never make a step."""

    name: str
    stage: Stage
    actors: frozenset[str]
    percentage: Percentage | None
    default_enabled: bool

    @classmethod
    def of(cls, flag: Flag) -> RolloutState:
        return cls(flag.name, flag.stage, frozenset(flag.actor_list), flag.percentage,
                   flag.default_enabled)

    @classmethod
    def nobody(cls, name: str) -> RolloutState:
        """Off for everyone: where a new flag (or an unreadable one) is judged from."""
        return cls(name, Stage.OFF, frozenset(), None, False)

    @property
    def is_off(self) -> bool:
        """Stage off and not default-enabled: where a new flag starts, and the only state a
        flag without a readable base may take."""
        return self.stage is Stage.OFF and not self.default_enabled

    def gates(self, environment: Environment) -> Gates:
        return stage_gates(self.stage, self.actors, self.percentage, environment)

    def as_reached(self) -> RolloutState:
        """The state named by what it opens, where the file's label says more than it gives:
        stage percentage without a percentage (FO131) opens the flag to its listed actors
        only, beta without actors (FO130) to nobody in production, a percentage outside
        stage percentage (FO132) to nobody, and default_enabled below stage enabled (FO121)
        releases nothing. A base like that was pushed round the gate, and the step from it
        is judged from what people have: judged by its label, a percentage without a value
        had no next percentage to stop at, and the next change went straight to 100 % or to
        enabled; default_enabled at percentage 100 % went to a release without its day at
        enabled. The gates are the same in every environment."""
        stage, percentage = self.stage, self.percentage
        if stage is not Stage.PERCENTAGE:
            percentage = None
        elif percentage is None:
            stage = Stage.BETA
        if stage is Stage.BETA and not self.actors:
            stage = Stage.STAGING
        return replace(self, stage=stage, percentage=percentage,
                       default_enabled=self.default_enabled and stage is Stage.ENABLED)

    def describe(self) -> str:
        if self.stage is Stage.PERCENTAGE and self.percentage is not None:
            return f"percentage {decimal_text(self.percentage.value)}% of {self.percentage.of}"
        if self.stage is Stage.BETA:
            return f"beta ({len(self.actors)} actor{'s' if len(self.actors) != 1 else ''})"
        if self.stage is Stage.ENABLED and self.default_enabled:
            return "enabled with default_enabled"
        return str(self.stage)


class Step(StrEnum):
    NONE = "none"
    FORWARD = "forward"
    ROLLBACK = "rollback"
    MIXED = "mixed"


def classify(before: RolloutState, after: RolloutState, bucketing: Bucketing) -> Step:
    """Decided by what each actor gets in each environment, never by the stage label: forward
    if anyone gains the flag, rollback if anyone loses it and nobody gains, mixed if both.
    `bucketing` is the engine's percentage rule (the policy's), which decides whether a listed
    actor already had the flag through the percentage."""
    gains, losses = _gains(before, after, bucketing), _gains(after, before, bucketing)
    if gains and losses:
        return Step.FORWARD if _only_actors_differ(before, after) else Step.MIXED
    if gains:
        return Step.FORWARD
    return Step.ROLLBACK if losses else Step.NONE


def _only_actors_differ(before: RolloutState, after: RolloutState) -> bool:
    """Swapping listed actors is one forward step: its revert is a swap too, judged alike."""
    return (before.stage, before.percentage, before.default_enabled) == \
        (after.stage, after.percentage, after.default_enabled)


def _gains(before: RolloutState, after: RolloutState, bucketing: Bucketing) -> bool:
    """Does after reach anyone, anywhere, that before did not?"""
    if after.default_enabled and not before.default_enabled:
        return True
    return any(reaches_more(before.name, before.gates(env), after.gates(env), bucketing)
               for env in _ENVIRONMENTS)


def reaches_more(name: str, old: Gates, new: Gates, bucketing: Bucketing) -> bool:
    """Does `new` reach anyone `old` does not (under the engine's percentage rule)? Everyone
    is the boolean gate or a percentage of time at 100 (`Gates.everyone`)."""
    if old.everyone:
        return False
    if new.everyone:
        return True
    if (new.percentage_of_actors or 0) > (old.percentage_of_actors or 0):
        return True
    if (new.percentage_of_time or 0) > (old.percentage_of_time or 0):
        return True
    return any(not _reached(name, old, actor, bucketing) for actor in new.actors)


def keeps_in_production(state: RolloutState, actor: str, bucketing: Bucketing) -> bool:
    """Does this actor certainly have the flag in production in `state` (listed, or bucketed
    into its percentage)?"""
    return _reached(state.name, state.gates(Environment.PRODUCTION), actor, bucketing)


def _reached(name: str, gates: Gates, actor: str, bucketing: Bucketing) -> bool:
    """Does this actor certainly have the flag (listed, or in the percentage's buckets)? Only
    where the engine buckets the actor as written can its bucket be known; otherwise listing
    it may give it the flag, so it counts as gaining it."""
    share = gates.percentage_of_actors
    return gates.everyone or actor in gates.actors or (
        share is not None and bucketed_as_written(actor, bucketing)
        and in_share(name, actor, share, bucketing))


def _kind_switch(before: RolloutState, after: RolloutState) -> bool:
    old, new = before.percentage, after.percentage
    return old is not None and new is not None and old.of != new.of


def soak_key(before: RolloutState, after: RolloutState) -> str:
    """Which `soak_minutes` entry a forward step waits for: the biggest thing it changes."""
    if after.stage.rank > before.stage.rank:
        return str(after.stage)
    if after.default_enabled and not before.default_enabled:
        return "default_enabled"
    old, new = before.percentage, after.percentage
    if old is not None and new is not None and new.value > old.value:
        return "percentage"
    return "actors"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the judge needs beyond the two states: the clock and the history, as plain values."""

    policy: Policy
    now: int
    landed_at: int | None = None
    """None: the history that says when the base state landed is not in this clone."""
    soak_as_warning: bool = False
    released_before_removal: bool = False
    """History says the flag was enabled with default_enabled when it was last removed."""
    merge_commits_required: bool = False
    """Landing times count from merge commits only (policy `require_merge_commits`)."""


def judge(name: str, before: LoadedFlag | None, after: LoadedFlag | None,
          verdict: Verdict) -> list[Finding]:
    if before is not None and after is not None:
        findings = _judge_step(name, before, after, verdict)
    elif after is not None:
        findings = _judge_new(name, after, verdict.released_before_removal)
    elif before is not None:
        findings = _judge_deleted(name, before)
    else:
        return []
    return findings + _brought_look_alikes(name, before, after, verdict)


def _brought_look_alikes(name: str, before: LoadedFlag | None, after: LoadedFlag | None,
                         verdict: Verdict) -> list[Finding]:
    """FO104 for each actor the change lists that the base did not and that is not in Unicode
    NFC: it looks like its composed form in review (no duplicate of it, FO133) but is another
    actor to every engine. Only actors the change brings, and never in a rollback (the
    revert of a step restores the actors it had): one that landed before this rule is
    stepped and rolled back as before, and retyping it composed is a swap."""
    if after is None or (before is not None and classify(
            RolloutState.of(before.flag), RolloutState.of(after.flag),
            verdict.policy.bucketing) is Step.ROLLBACK):
        return []
    known = set(before.flag.actor_list) if before is not None else set()
    return [RULES["FO104"].at(after.document.path,
                              after.document.value_position(("actors", index)),
                              f"actors.{index}: {actor!r} is not in Unicode NFC ({mark}): it "
                              "looks like its composed form but is another actor to every "
                              "engine; type it again composed", flag=name)
            for index, actor in enumerate(after.flag.actor_list)
            if actor not in known and (mark := not_composed(actor)) is not None]


def _is_released(state: RolloutState) -> bool:
    return state.default_enabled and state.stage is Stage.ENABLED


def _may_come_and_go(state: RolloutState) -> bool:
    """A flag may be deleted only where its file makes no difference: never rolled out (off),
    or released (default_enabled)."""
    return _is_released(state) or state.is_off


def _judge_new(name: str, after: LoadedFlag, released_before_removal: bool) -> list[Finding]:
    """A new flag starts off; it comes back released only as the revert of the removal of a
    released flag, which the base branch's history must show."""
    state = RolloutState.of(after.flag)
    if state.is_off:
        return []
    if _is_released(state) and released_before_removal:
        return []
    message = (f"{name}: a new flag starts at stage off with default_enabled: false, "
               f"not {state.describe()}; add it at off, then step forward")
    if _is_released(state):
        message += (" (it may come back released only where the base branch's history shows "
                    "it was enabled with default_enabled when it was removed)")
    return [_at("FO207", after, "stage", message, name)]


def judge_unreadable_policy(unreadable: Finding, turns_off: bool) -> Finding:
    """FO301 where the base's policy cannot be read (a push that went round the gate, or a
    flagops upgrade that reads an old key no more): there are no rules to judge a step by,
    so it is an error, except for a change that only turns flags off (`turns_off`: flag files
    alone, each a flag at stage off). Whatever the rules were, nobody has a flag at off, and a
    rollback must stay one step, at 3 a.m. too: that passes with this as a warning. Fixing
    the policy is a change of the gate's own files, for its owners."""
    said = (f"{unreadable.message}; the base's policy cannot be read, so there are no rules "
            "to judge a step by: " + ("this change only turns flags off, which no rule "
                                      "refuses" if turns_off else
                                      "only a change that turns flags off (stage off) passes "
                                      "until pyproject.toml is fixed"))
    return unreadable._replace(message=said,
                               severity=Severity.WARNING if turns_off else Severity.ERROR)


def judge_unreadable_base(name: str, base_path: str, after: LoadedFlag | None) -> list[Finding]:
    """The base file of this flag does not parse (or is not a regular file): there is no state
    to step from, so only a rollback to off can be judged safe."""
    if after is not None:
        state = RolloutState.of(after.flag)
        if state.is_off:
            return []
        message = (f"{name}: {base_path} cannot be read at the base, so there is no state to "
                   f"step from; only stage off is accepted, not {state.describe()}")
        return [_at("FO212", after, "stage", message, name)]
    message = (f"{name}: {base_path} cannot be read at the base, so deleting it cannot be "
               "judged; set it to stage off first")
    return [RULES["FO212"].at(base_path, START, message, flag=name)]


def _judge_deleted(name: str, before: LoadedFlag) -> list[Finding]:
    state = RolloutState.of(before.flag)
    if _may_come_and_go(state) or state.stage is Stage.OFF:
        return []
    message = (f"{name}: deleting a flag that is live ({state.describe()}); roll it back to off "
               "first, or finish the rollout with default_enabled: true and its cleanup issue")
    return [_at("FO208", before, "stage", message, name)]


def _judge_step(name: str, before: LoadedFlag, after: LoadedFlag,
                verdict: Verdict) -> list[Finding]:
    labelled, new = RolloutState.of(before.flag), RolloutState.of(after.flag)
    old = labelled.as_reached()
    findings = _judged_step(name, old, new, after, verdict, before.flag.type)
    if old == labelled:
        return findings
    said = (f" (judged from what the base gives, {old.describe()}: its file's "
            f"{_label(labelled, old)} breaks the file rules)")
    return [finding._replace(message=finding.message + said) for finding in findings]


def _label(labelled: RolloutState, reached: RolloutState) -> str:
    """What a base file says of its state where that is more than it gives."""
    label = labelled.describe()
    if labelled.stage is Stage.PERCENTAGE and labelled.percentage is None:
        label += " without a percentage"
    elif labelled.percentage is not None and labelled.stage is not Stage.PERCENTAGE:
        label += " with a percentage"
    if labelled.default_enabled and not reached.default_enabled:
        label += " with default_enabled"
    return label


def _judged_step(name: str, old: RolloutState, new: RolloutState, after: LoadedFlag,
                 verdict: Verdict, base_type: FlagType) -> list[Finding]:
    step = classify(old, new, verdict.policy.bucketing)
    if step in (Step.FORWARD, Step.MIXED) and _kind_switch(old, new):  # a rollback is one
        message = (f"{name}: {old.describe()} → {new.describe()} switches between actors and "
                   "time; roll back to beta first, then start a new percentage rollout")
        return [_at("FO203", after, "percentage", message, name)]
    if step is Step.MIXED:
        message = (f"{name}: {old.describe()} → {new.describe()} both widens and narrows the "
                   "flag; split it into a rollback and a forward step")
        return [_at("FO211", after, "stage", message, name)]
    if step is not Step.FORWARD:
        return []
    findings = _shape_of_step(name, old, new, after, verdict.policy, base_type)
    findings.extend(_soak(name, old, new, after, verdict))
    return findings


def _shape_of_step(name: str, old: RolloutState, new: RolloutState, after: LoadedFlag,
                   policy: Policy, base_type: FlagType) -> list[Finding]:
    """The step's shape, judged by the base's type: changing the type in the same change
    buys none of the new type's `may_skip`, nor its reach (`_by_base_type`)."""
    change = f"{name}: {old.describe()} → {new.describe()}"
    legal = f"the next legal step is {next_step(old, policy)}"
    skipped = [s for s in STAGE_ORDER[old.stage.rank + 1 : new.stage.rank]
               if s not in policy.may_skip.get(base_type, ())]
    findings = _by_base_type(change, old, new, after, base_type)
    if skipped:
        findings.append(_at("FO201", after, "stage",
                            f"{change} skips {', '.join(skipped)}; {legal}", name))
    limit = _percentage_limit(old, policy)
    if new.stage is Stage.PERCENTAGE and new.percentage and limit and new.percentage.value > limit:
        findings.append(_at("FO202", after, "percentage",
                            f"{change} goes past the next step {decimal_text(limit)}%; "
                            f"{legal}", name))
    if old.stage is Stage.PERCENTAGE and new.stage is Stage.ENABLED and old.percentage and \
            old.percentage.value < policy.percentage_steps[-1]:
        findings.append(_at("FO202", after, "stage",
                            f"{change} skips the steps up to 100%; {legal}", name))
    if new.default_enabled and not old.default_enabled and old.stage is not Stage.ENABLED:
        findings.append(_at("FO206", after, "default_enabled",
                            f"{change}: default_enabled needs stage enabled at the base, "
                            f"which is {old.stage}; {legal}", name))
    return findings


def _by_base_type(change: str, old: RolloutState, new: RolloutState, after: LoadedFlag,
                  base_type: FlagType) -> list[Finding]:
    """FO142 and FO120 as the type at the base has them, for a step that also changes the
    type: a `wip` flag (no further than staging) made `beta` in the change that took it to
    production went there as the wip flag it was, and a type that may not be default-enabled
    likewise. The new type applies from the next change on, as the policy's does."""
    if after.flag.type is base_type:
        return []  # the file's own rules (FO142, FO120) say it
    rules, found = TYPE_RULES[base_type], []
    suffix = f" (its type at the base; the change to {after.flag.type} applies from the next " \
             "change on)"
    if new.stage.rank > max(old.stage.rank, rules.max_stage.rank):
        found.append(_at("FO142", after, "stage", f"{change}: {base_type} flags go no further "
                         f"than {rules.max_stage}{suffix}", after.flag.name))
    if new.default_enabled and not old.default_enabled and not rules.may_default_enable:
        found.append(_at("FO120", after, "default_enabled", f"{change}: type {base_type} may "
                         f"not be default_enabled{suffix}", after.flag.name))
    return found


def _percentage_limit(old: RolloutState, policy: Policy) -> float | None:
    """The highest percentage the next forward step may reach."""
    if old.stage.rank < Stage.PERCENTAGE.rank:
        return policy.percentage_steps[0]
    if old.stage is Stage.PERCENTAGE and old.percentage is not None:
        higher = [step for step in policy.percentage_steps if step > old.percentage.value]
        return higher[0] if higher else None
    return None


def next_step(state: RolloutState, policy: Policy) -> str:
    """Names the one legal forward step from `state`, for messages and plans."""
    if state.stage is Stage.OFF:
        return "off → staging"
    if state.stage is Stage.STAGING:
        return "staging → beta (list the first actors)"
    if state.stage is Stage.BETA:
        return f"beta → percentage {decimal_text(policy.percentage_steps[0])}% of actors"
    if state.stage is Stage.PERCENTAGE:
        limit = _percentage_limit(state, policy)
        if limit is None:
            return "percentage 100% → enabled"
        return f"{state.describe()} → {decimal_text(limit)}%"
    if not state.default_enabled:
        return "enabled → default_enabled: true (with a cleanup_issue_url)"
    return "removing the flag once its cleanup is done"


def _soak(name: str, old: RolloutState, new: RolloutState, after: LoadedFlag,
          verdict: Verdict) -> list[Finding]:
    required = getattr(verdict.policy.soak_minutes, soak_key(old, new))
    if required <= 0:
        return []
    if verdict.landed_at is None and verdict.merge_commits_required:
        message = (f"{name}: {old.describe()} landed without a merge commit, and the policy "
                   "(require_merge_commits) starts its soak at the next merge commit on the "
                   "base branch; none has landed since")
        return [_soak_finding("FO204", after, message, name, verdict)]
    if verdict.landed_at is None:
        message = (f"{name}: cannot tell when {old.describe()} landed: the history is not in "
                   "this clone; fetch with full depth (git fetch --unshallow; GitLab CI: "
                   'GIT_DEPTH: "0")')
        return [_soak_finding("FO205", after, message, name, verdict)]
    live = (verdict.now - verdict.landed_at) // 60
    if live >= required:
        return []
    if live < 0:
        message = (f"{name}: {old.describe()} landed in a commit dated {minutes_text(-live)} in "
                   f"the future (by the base branch's clock); it must soak "
                   f"{minutes_text(required)} from then")
        return [_soak_finding("FO204", after, message, name, verdict)]
    message = (f"{name}: {old.describe()} → {new.describe()} after {minutes_text(live)}; "
               f"{old.describe()} must soak {minutes_text(required)} first (wait "
               f"{minutes_text(required - live, round_up=True)} more)")
    return [_soak_finding("FO204", after, message, name, verdict)]


def _soak_finding(rule: str, after: LoadedFlag, message: str, name: str,
                  verdict: Verdict) -> Finding:
    finding = _at(rule, after, "stage", message, name)
    return finding.as_warning("CI enforces it") if verdict.soak_as_warning else finding


OVERRIDABLE = ("FO2", "FO402", "FO403", "FO404", "FO406")
"""Rules an override trailer may turn into warnings: the judgement of a step, and the lifecycle
rules a team may need past in an incident. File errors never are, and neither is a freeze
window (FO401): the policy's owners set it, so only a change to the policy lifts it."""


def apply_override(name: str, findings: list[Finding], anchor: LoadedFlag, reason: str,
                   policy: Policy) -> list[Finding]:
    """A `Flag-Override` trailer for `name`: its step's errors become warnings quoting the
    reason; an override with nothing to override, or one the policy refuses, says so."""
    if not policy.allow_overrides:
        return [*findings, _at("FO210", anchor, "name", f"{name}: Flag-Override ignored: "
                               "the policy sets allow_overrides = false", name)]
    if not any(_overridable(finding) for finding in findings):
        kept = sorted({f.rule for f in findings if f.severity is Severity.ERROR})
        what = f"cannot pass {', '.join(kept)}" if kept else "has nothing to override"
        return [*findings, _at("FO209", anchor, "name", f"{name}: Flag-Override "
                               f"({reason}) {what}", name)]
    note = f"overridden by Flag-Override: {reason}"
    return [f.as_warning(note) if _overridable(f) else f for f in findings]


def _overridable(finding: Finding) -> bool:
    return finding.severity is Severity.ERROR and finding.rule.startswith(OVERRIDABLE)


def _at(rule: str, loaded: LoadedFlag, key: str, message: str, name: str) -> Finding:
    position: Position = loaded.document.value_position((key,))
    return RULES[rule].at(loaded.document.path, position, message, flag=name)
