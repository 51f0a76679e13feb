"""What a change does to each flag, in words: who it reaches, what to run, how to undo it.

Pure: both states and the findings in, a list of `FlagPlan` out, then Markdown or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from validator.chatops import commands, gates, is_open
from validator.check import LoadedFlag
from validator.digits import decimal_text
from validator.durations import minutes_text
from validator.findings import Finding, Severity
from validator.gates import Gates
from validator.model import Environment, Stage
from validator.plan_steps import released, removed_reach, revert
from validator.policy import Policy
from validator.reports.escape import dumps
from validator.reports.markdown import code_span, markdown_text
from validator.transitions import RolloutState, Step, classify, next_step

_ENVIRONMENTS = (Environment.STAGING, Environment.PRODUCTION)


@dataclass(frozen=True, slots=True)
class FlagPlan:
    flag: str
    change: str
    kind: str
    before: dict[str, str]
    after: dict[str, str]
    soak: str | None
    chatops: list[str]
    rollback: list[str]
    revert: str
    reminders: list[str]
    findings: list[str]
    blocked: bool


def plan(before: Mapping[str, LoadedFlag], after: Mapping[str, LoadedFlag],
         findings: Sequence[Finding], policy: Policy) -> list[FlagPlan]:
    return [_plan_one(name, before.get(name), after.get(name), findings, policy)
            for name in sorted(before.keys() | after.keys())]


def _plan_one(name: str, old_flag: LoadedFlag | None, new_flag: LoadedFlag | None,
              findings: Sequence[Finding], policy: Policy) -> FlagPlan:
    old = RolloutState.of(old_flag.flag) if old_flag else None
    new = RolloutState.of(new_flag.flag) if new_flag else None
    mine = [f for f in findings if f.flag == name]
    kind = _kind(old, new, policy)
    return FlagPlan(
        flag=name,
        change=f"{_describe(old)} → {_describe(new)}",
        kind=kind,
        before={str(env): reach(gates(old, env)) for env in _ENVIRONMENTS},
        after={str(env): removed_reach(old, new) or reach(gates(new, env))
               for env in _ENVIRONMENTS},
        soak=_soak(new, kind, policy),
        chatops=commands(name, old, new),
        rollback=commands(name, new, old) if old is not None else
        [f"/chatops run feature delete {name}"] if new is not None and new.stage is not Stage.OFF
        else [],
        revert=revert(name, old_flag, new_flag, policy),
        reminders=reminders(old, new, new_flag, kind),
        findings=[f"{f.severity} {f.rule} {f.message}" for f in mine],
        blocked=any(f.severity is Severity.ERROR for f in mine),
    )


def _kind(old: RolloutState | None, new: RolloutState | None, policy: Policy) -> str:
    if old is None:
        return "new"
    if new is None:
        return "removed"
    return {Step.FORWARD: "forward", Step.ROLLBACK: "rollback", Step.MIXED: "mixed",
            Step.NONE: "no rollout change"}[classify(old, new, policy.bucketing)]


def _describe(state: RolloutState | None) -> str:
    return "(no flag)" if state is None else state.describe()


def reach(found: Gates) -> str:
    if found.everyone:
        return "everyone"
    if not is_open(found):
        return "nobody"
    parts = [", ".join(found.actors)] if found.actors else []
    if found.percentage_of_actors is not None:
        parts.append(f"{decimal_text(found.percentage_of_actors)}% of actors")
    if found.percentage_of_time is not None:
        parts.append(f"{decimal_text(found.percentage_of_time)}% of the time")
    return " plus ".join(parts)


def _soak(new: RolloutState | None, kind: str, policy: Policy) -> str | None:
    if new is None or kind not in ("forward", "new"):
        return None
    following = next_step(new, policy)
    minutes = getattr(policy.soak_minutes, next_soak_key(new))
    return f"the next step ({following}) may land {minutes_text(minutes)} after this change lands"


def next_soak_key(state: RolloutState) -> str:
    if state.stage is Stage.ENABLED:
        return "default_enabled"
    if state.stage is Stage.PERCENTAGE:
        return "percentage" if state.percentage and state.percentage.value < 100 else "enabled"
    return str(Stage(tuple(Stage)[state.stage.rank + 1]))


def reminders(old: RolloutState | None, new: RolloutState | None,
              new_flag: LoadedFlag | None, kind: str) -> list[str]:
    """The rollout plan's checklist items that apply to this step."""
    if kind == "rollback":
        return ["Say in the rollout issue why the flag was rolled back."]
    if new is None and released(old):
        return ["The feature stays on for everyone: with the flag gone, its code path is "
                "unconditional. Every code reference to the flag must be gone before this "
                "merges (a check of a flag that is not defined reads it as off)."]
    if new is None:
        return ["Remove the flag's code references in the same release as the file."]
    found: list[str] = []
    production = gates(new, Environment.PRODUCTION) != gates(old, Environment.PRODUCTION)
    if new.stage is Stage.STAGING and kind == "forward":
        found.append("Verify on staging (end-to-end tests, a manual check) before production.")
    if production and kind == "forward":
        found += ["Someone from development stays available for 2 hours after this "
                  "production change.",
                  "Cross-post the change to support (#support_gitlab-com) before it lands.",
                  "Open a change management issue first if the feature is high risk."]
    if new.stage is Stage.ENABLED and not new.default_enabled:
        found.append("Create the cleanup issue before default_enabled: true.")
    if new.default_enabled and new_flag is not None:
        url = new_flag.flag.cleanup_issue_url or "missing"
        found.append(f"Cleanup issue: {url}; remove the flag once it is done.")
    return found


def to_markdown(plans: Sequence[FlagPlan], label: str) -> str:
    """Markdown for a merge request note: every string that holds repository text (actors,
    URLs, labels, paths, finding messages) goes through `_text` or `_code`."""
    if not plans:
        return f"## flagops plan\n\nNo flag changes ({markdown_text(label)}): nothing to plan.\n"
    lines = ["## flagops plan", "", f"Compared {markdown_text(label)}.", ""]
    for item in plans:
        lines += _flag_markdown(item)
    return "\n".join(lines)


def _flag_markdown(item: FlagPlan) -> list[str]:
    verdict = "**blocked**" if item.blocked else "legal"
    lines = [f"### {code_span(item.flag)}: {markdown_text(item.change)}", "",
             f"A {markdown_text(item.kind)} step, {verdict}.", "",
             "| | staging | production |", "|---|---|---|",
             _row("before", item.before), _row("after", item.after), ""]
    if item.findings:
        lines += ["Findings:", *[f"- {markdown_text(text)}" for text in item.findings], ""]
    if item.soak:
        lines += [f"Soak: {markdown_text(item.soak)}.", ""]
    lines += ["ChatOps equivalent:", *_commands(item.chatops), ""]
    lines += [f"Revert: `git revert -m 1 <merge-sha>` {markdown_text(item.revert)} "
              "ChatOps to undo it:",
              *_commands(item.rollback), ""]
    if item.reminders:
        lines += ["Reminders:", *[f"- [ ] {markdown_text(text)}" for text in item.reminders], ""]
    return lines





def _row(label: str, reach: dict[str, str]) -> str:
    return f"| {label} | {markdown_text(reach['staging'])} | {markdown_text(reach['production'])} |"

def _commands(found: Sequence[str]) -> list[str]:
    if not found:
        return ["- none (no gate changes; default_enabled is read from the file)"]
    return [f"- {code_span(command)}" for command in found]


def to_json(plans: Sequence[FlagPlan], label: str) -> str:
    """JSON for programs: exact text, with every unsafe character as a JSON escape."""
    return dumps({"compared": label, "flags": [asdict(item) for item in plans]})
