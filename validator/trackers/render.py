"""The text flagops puts on a tracker: the rollout issue, the cleanup issue, the announcement
of a merged step. Pure: a flag, the policy and facts in, Markdown out; no clock is read.

The rollout issue follows the sections of GitLab's feature flag rollout template; its steps are
the states a flag passes through under this policy (its percentages and soaks, its type's
furthest stage), each written as the `flagops` command whose merge request takes it, with the
ChatOps command GitLab would otherwise run (`chatops.commands`, the one source of those).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import replace

from validator.chatops import commands, gates
from validator.digits import decimal_text
from validator.durations import minutes_text
from validator.gates import Gates
from validator.model import Environment, Flag, Percentage, Stage
from validator.plan import reach
from validator.plan_steps import removed_reach
from validator.policy import Policy
from validator.reports.markdown import autolink
from validator.reports.markdown import code_span as code
from validator.reports.markdown import markdown_text as text
from validator.transitions import RolloutState, soak_key

ROLLOUT_MARKER = "<!-- flagops-rollout-issue -->"
CLEANUP_MARKER = "<!-- flagops-cleanup-issue -->"
_ENVIRONMENTS = (Environment.STAGING, Environment.PRODUCTION)


def rollout_title(name: str) -> str:
    return f"[Feature flag] Rollout of `{name}`"


def cleanup_title(name: str) -> str:
    return f"[Feature flag] Cleanup `{name}`"


def rollout_issue(flag: Flag, policy: Policy) -> str:
    lines = [ROLLOUT_MARKER, "## Summary", "", *_summary(flag), "", "## Expectations", "",
             *_expectations(flag), "", "## Rollout steps", "", *_steps(flag, policy), "",
             "## Rollback steps", "", *_rollback(flag)]
    return "\n".join(lines) + "\n"


def _summary(flag: Flag) -> list[str]:
    lines = [f"This issue rolls out the feature behind {code(flag.name)} "
             f"(type {code(str(flag.type))}, {text(flag.group)}, milestone {flag.milestone})."]
    if flag.description:
        lines += ["", _paragraph(flag.description)]
    lines += ["", f"- Owners: {_people(flag.owners)}",
              f"- Stakeholders: {_people(flag.stakeholders)}",
              f"- Introduced by: {_url(flag.introduced_by_url)}"]
    if flag.feature_issue_url:
        lines.append(f"- Feature issue: {_url(flag.feature_issue_url)}")
    return lines


def _people(handles: Sequence[str] | None) -> str:
    return ", ".join(text(handle) for handle in handles) if handles else "(none listed)"


def _url(url: str | None) -> str:
    return autolink(url) if url else "(not set)"


def _expectations(flag: Flag) -> list[str]:
    found = flag.expectations
    missing = "(not written yet: add `expectations` to the flag file)"
    return ["### What are we expecting to happen?", "",
            _paragraph(found.expected) if found else missing,
            "", "### What might happen if this goes wrong?", "",
            _paragraph(found.risks) if found else missing,
            "", "### What can we monitor to detect problems with this?", "",
            _paragraph(found.monitoring) if found else missing]


def _paragraph(untrusted: str) -> str:
    """Flag file text as a line of its own. At a line's start `/close`, `/move group/other`
    or `/confidential` is a GitLab quick action, run when the issue is created (as in a note);
    `\\/` is a slash in Markdown and no command."""
    shown = text(untrusted)
    return "\\" + shown if shown.startswith("/") else shown


def rollout_states(flag: Flag, policy: Policy) -> list[tuple[str, RolloutState]]:
    """(phase, state) from staging on, as far as the flag's type may go, then default_enabled
    where the type allows it."""
    start = RolloutState(flag.name, Stage.OFF, frozenset(), None, False)
    actors = frozenset(flag.actor_list) or frozenset({"Kind:id"})
    of = flag.percentage.of if flag.percentage else "actors"
    states = [("Staging", replace(start, stage=Stage.STAGING)),
              ("Beta", replace(start, stage=Stage.BETA, actors=actors))]
    states += [(f"Percentage {decimal_text(value)}%",
                replace(start, stage=Stage.PERCENTAGE, actors=actors,
                        percentage=Percentage(of=of, value=value)))
               for value in policy.percentage_steps]
    states.append(("Enabled", replace(start, stage=Stage.ENABLED)))
    limit = flag.rules.max_stage.rank
    states = [(phase, state) for phase, state in states if state.stage.rank <= limit]
    if flag.rules.may_default_enable and limit >= Stage.ENABLED.rank:
        states.append(("Default enabled", replace(start, stage=Stage.ENABLED,
                                                  default_enabled=True)))
    return states


def _steps(flag: Flag, policy: Policy) -> list[str]:
    lines = ["### Preparation", "",
             "- [ ] The flag file is at stage `off` on the default branch "
             f"({_shell('flagops', 'new', flag.name)} wrote it).",
             "- [ ] The expectations above are written in the flag file.",
             "- [ ] The rollout issue's URL is the flag's `rollout_issue_url`."]
    previous = RolloutState(flag.name, Stage.OFF, frozenset(), None, False)
    for phase, state in rollout_states(flag, policy):
        lines += ["", f"### {phase}", "", *_step(flag, previous, state, policy)]
        previous = state
    lines += ["", "### Removal", "", *_removal(flag)]
    return lines


def _step(flag: Flag, old: RolloutState, new: RolloutState, policy: Policy) -> list[str]:
    wait = getattr(policy.soak_minutes, soak_key(old, new))
    lines = [f"- [ ] A merge request made with {code(promote_command(flag, old, new))} "
             f"takes it to {new.describe()}: {_where(new)}."]
    if wait:
        lines.append(f"- [ ] It lands at least {minutes_text(wait)} after "
                     f"{old.describe()} landed (the policy's soak).")
    if new.stage is Stage.STAGING:
        lines.append("- [ ] Verify on staging (end-to-end tests, a manual check).")
    if new.default_enabled:
        lines.insert(0, f"- [ ] The cleanup issue exists "
                        f"({_shell('flagops', 'issue', 'cleanup', flag.name, '--create')}).")
    chatops = commands(flag.name, old, new)
    lines += ["- ChatOps equivalent:"] + [f"  - {code(command)}" for command in chatops] \
        if chatops else ["- ChatOps equivalent: none (default_enabled is read from the file)"]
    return lines


def promote_command(flag: Flag, old: RolloutState, new: RolloutState) -> str:
    """The command as a person pastes it into a shell, each word quoted (`_words`)."""
    base = ["flagops", "promote", flag.name]
    if new.default_enabled:
        return f"{_words(*base, '--default-enabled', '--cleanup-issue')} <cleanup issue URL>"
    if new.stage is Stage.BETA:
        return _words(*base, "--to", "beta", "--actor", *sorted(new.actors))
    if new.stage is Stage.PERCENTAGE and new.percentage is not None:
        return _words(*base, "--percentage", decimal_text(new.percentage.value))
    return _words(*base, "--to", str(new.stage))


def _words(*words: str) -> str:
    """A command line whose every word is one word to a shell: the flag file's text (an actor
    `User:$(touch${IFS}x)`) would otherwise run as a command when the line is pasted. A safe
    word stays as it is; any other is single-quoted."""
    return shlex.join(words)


def _shell(*words: str) -> str:
    """A command to paste into a shell, as a code span (`code` fences any backtick)."""
    return code(_words(*words))


def _where(state: RolloutState) -> str:
    """Who the state reaches in each environment, as literal Markdown: the actors are the flag
    file's text, where `User:@all` would notify a whole project and `User:<!--` hide the rest
    of the issue."""
    return "; ".join(f"{where}: {text(reach(gates(state, where)))}" for where in _ENVIRONMENTS)


def _removal(flag: Flag) -> list[str]:
    return ["- [ ] The cleanup issue removes the flag's code references "
            f"({_shell('flagops', 'refs', flag.name)} lists them).",
            f"- [ ] A merge request made with {_shell('flagops', 'remove', flag.name)} deletes "
            "the flag file.", "- [ ] Close this issue."]


def _rollback(flag: Flag) -> list[str]:
    live = RolloutState(flag.name, Stage.ENABLED, frozenset(), None, False)
    off = replace(live, stage=Stage.OFF)
    return [f"- {_shell('flagops', 'rollback', flag.name)} takes the flag back to `off` "
            f"(`--to STAGE` for an earlier state); a rollback is accepted at once.",
            "- Or revert the merge request of the last step: `git revert -m 1 <merge-sha>`.",
            "- ChatOps equivalent:",
            *[f"  - {code(command)}" for command in commands(flag.name, live, off)]]


def cleanup_issue(flag: Flag, references: Sequence[str]) -> str:
    """The removal issue; `references` are `path:line:col` of the code that reads the flag."""
    state = RolloutState.of(flag)
    found = [f"- [ ] {code(place)}" for place in references] or [
        f"- [ ] None found by {_shell('flagops', 'refs', flag.name)} when this issue was "
        "written; search once more before the removal."]
    chatops = [f"  - {code(command)}" for command in commands(flag.name, state, None)]
    return "\n".join([
        CLEANUP_MARKER, "## Summary", "",
        f"This issue removes the {code(flag.name)} feature flag (now {state.describe()}). Once "
        "it is gone the feature's code path is unconditional: it stays on for everyone.", "",
        f"- Owners: {_people(flag.owners)}", f"- Rollout issue: {_url(flag.rollout_issue_url)}",
        "", "## Remove the flag from the code", "", *found,
        f"- [ ] {_shell('flagops', 'refs', flag.name)} finds nothing.", "",
        "## Remove the flag file", "",
        f"- [ ] A merge request made with {_shell('flagops', 'remove', flag.name)} deletes the "
        "file (a released flag: `default_enabled: true` at `enabled`, with this issue as its "
        "`cleanup_issue_url`).", "", "## Check the deployment", "",
        "- [ ] The removal is deployed to staging and production, and the feature works for "
        "everyone.", "- [ ] The flag's live state is gone; ChatOps equivalent:", *chatops, "",
        "## Close the rollout issue", "", f"- [ ] Close {_url(flag.rollout_issue_url)}."]) + "\n"


def announce_marker(name: str, commit: str) -> str:
    """Recognises this announcement on a rerun of the same pipeline."""
    return f"<!-- flagops-announce {name} {commit} -->"


def announcement(name: str, old: RolloutState | None, new: RolloutState | None, *,
                 commit: str, rollback: bool) -> str | None:
    """What is now live where since `commit`; None when no environment's gates changed. A
    released flag's removal changes no gate that matters: its code path is now unconditional."""
    lines = [f"{code(name)} is now {_reach_text(gates(new, where))}"
             f"{_no_longer(gates(old, where), gates(new, where))} in {where} since {commit}."
             for where in reversed(_ENVIRONMENTS)
             if gates(old, where) != gates(new, where)]
    if old is not None and new is not None and old.default_enabled != new.default_enabled:
        lines.append(f"{code(name)} is {_RELEASE[new.default_enabled]} since {commit}.")
    unconditional = removed_reach(old, new)
    if unconditional is not None:
        lines = [f"{code(name)} is removed since {commit}: it reaches {unconditional}."]
    if not lines:
        return None
    heading = f"Rollback of {code(name)}" if rollback else f"Rollout of {code(name)}"
    before = old.describe() if old else "no flag"
    after = new.describe() if new else "removed"
    return "\n".join([announce_marker(name, commit), f"**{heading}**: {before} → {after}", "",
                      *[f"- {line}" for line in lines]]) + "\n"


_RELEASE = {True: "released: on by default",
            False: "no longer released: off by default, on only where its gates say"}


def _no_longer(old: Gates, new: Gates) -> str:
    """The listed actors who lost the flag, where others took their place (a swap reads
    "on for 1 actor" before and after)."""
    lost = sorted(set(old.actors) - set(new.actors))
    if not lost or new.everyone or reach(new) == "nobody":
        return ""
    return f", no longer for {text(', '.join(lost))}"


def _reach_text(found: Gates) -> str:
    """`off` or `on for …`, the actors as literal Markdown (see `_where`)."""
    who = reach(found)
    return "off" if who == "nobody" else f"on for {text(who)}"
