"""Synthetic flags as plain values: who each flag is, and the legal walk of its versions.

Every flag walks a legal rollout (off → staging → beta → percentage 10/50/100 → enabled →
default_enabled), one step per version; versions past its target are metadata edits, and some
`off` flags were live once and rolled back. No git here: `synth.py` writes the history, and the
benchmark re-derives the same plan from the seed to pick each flag's next legal step.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

# The rollout ladder, one rung per legal forward step (policy defaults: 10, 50, 100 percent).
RUNGS = ("off", "staging", "beta", "p10", "p50", "p100", "enabled", "default")
RUNG_WEIGHTS = (15, 15, 20, 10, 10, 5, 15, 10)
# Highest rung per type: wip stops at staging; only beta and ops may be default_enabled.
TYPES = {"gitlab_com_derisk": 6, "beta": 7, "ops": 7, "wip": 1, "experiment": 6, "worker": 6}
TYPE_WEIGHTS = (35, 25, 15, 10, 10, 5)
AREAS = (
    "ci",
    "merge_request",
    "pipeline",
    "issue",
    "epic",
    "wiki",
    "search",
    "runner",
    "registry",
    "billing",
    "security",
    "deploy",
    "package",
    "snippet",
    "group",
    "survey",
)
THINGS = (
    "widget",
    "cache",
    "export",
    "import",
    "sync",
    "banner",
    "filter",
    "graphql",
    "sidebar",
    "navigation",
    "invite_link",
    "limits",
    "preload",
    "batching",
    "query",
)
ACTORS = (
    "Project:gitlab-org/gitlab",
    "Group:gitlab-org",
    "Group:gitlab-com",
    "User:42",
    "User:1337",
    "Namespace:gitlab-org/security",
)
GROUPS = (
    "activation",
    "pipeline_execution",
    "source_code",
    "code_review",
    "authentication",
    "project_management",
    "runner",
    "package_registry",
    "import_and_integrate",
)


@dataclass(frozen=True, slots=True)
class FlagPlan:
    """One flag and the rung of each of its versions; a repeated rung is a metadata edit."""

    name: str
    number: int
    team: str
    type: str
    group: str
    milestone: str
    actors: tuple[str, ...]
    rungs: tuple[int, ...]

    @property
    def path(self) -> str:
        return f"flags/{self.team}/{self.name}.yml"

    @property
    def max_rung(self) -> int:
        return TYPES[self.type]


@dataclass(frozen=True, slots=True)
class RepoPlan:
    flags: tuple[FlagPlan, ...]
    steps: int
    batch: int
    seed: int

    @property
    def commit_count(self) -> int:
        """One setup commit, then each round of steps in batches."""
        return 1 + self.steps * -(-len(self.flags) // self.batch)


def plan_repo(n: int, *, steps: int = 8, batch: int = 40, seed: int = 6) -> RepoPlan:
    """The whole repository as values, without git: the benchmark re-derives it from the seed."""
    if steps < 1 or batch < 1:
        raise ValueError("steps and batch must be at least 1")
    rng = random.Random(seed)
    teams = min(100, max(1, -(-n // 100)))
    flags = tuple(_plan_flag(rng, index, f"team_{index % teams:02d}", steps) for index in range(n))
    return RepoPlan(flags, steps, batch, seed)


def _plan_flag(rng: random.Random, index: int, team: str, steps: int) -> FlagPlan:
    """Flag 0 is the survey page's `calendly_invite_link`, which `flagops render` requires."""
    flag_type = "beta" if index == 0 else rng.choices(tuple(TYPES), TYPE_WEIGHTS)[0]
    target = min(rng.choices(range(len(RUNGS)), RUNG_WEIGHTS)[0], TYPES[flag_type], steps - 1)
    name = f"{rng.choice(AREAS)}_{rng.choice(THINGS)}_{index}"
    return FlagPlan(
        name="calendly_invite_link" if index == 0 else name,
        number=index,
        team=team,
        type=flag_type,
        group=rng.choice(GROUPS),
        milestone=f"{rng.randint(15, 17)}.{rng.randint(0, 11)}",
        actors=tuple(rng.sample(ACTORS, rng.randint(1, 3))),
        rungs=_walk(rng, target, TYPES[flag_type], steps),
    )


def _walk(rng: random.Random, target: int, max_rung: int, steps: int) -> tuple[int, ...]:
    """Forward one rung at a time to target; some off flags were live once and rolled back.

    The remaining versions are metadata edits (same rung), placed anywhere after the first.
    """
    peak = min(2, max_rung, steps - 2)
    if target == 0 and peak >= 1 and rng.random() < 0.5:
        rungs = [*range(peak + 1), 0]
    else:
        rungs = list(range(target + 1))
    while len(rungs) < steps:
        at = rng.randint(1, len(rungs))
        rungs.insert(at, rungs[at - 1])
    return tuple(rungs)


def flag_text(flag: FlagPlan, rung: int, revision: int = 0) -> str:
    """The file at one rung; revision > 0 rewords the description (an edit, not a step)."""
    stage = RUNGS[rung]
    live_actors = stage in ("beta", "p10", "p50", "p100")
    lines = [
        "# yaml-language-server: $schema=../../schema/flag.schema.json",
        f"name: {flag.name}",
        f"description: {_description(flag, revision)}",
        f"type: {flag.type}",
        f"group: group::{flag.group}",
        f"milestone: '{flag.milestone}'",
        f"introduced_by_url: https://gitlab.com/gitlab-org/gitlab/-/merge_requests/{_id(flag)}",
        f"rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/{_id(flag) + 7}",
        "owners: ['@alice']",
        "stakeholders: ['@bob', '@carol']",
        "expectations:",
        f"  expected: Users of {flag.group} get the new {flag.name.split('_')[-2]} flow.",
        "  risks: Slower pages or 5xx errors for the users who have the flag.",
        "  monitoring: Apdex and error rates on the affected endpoints.",
        f"stage: {_stage_name(stage)}",
        *_actor_lines(flag.actors if live_actors else ()),
        _percentage_line(stage),
        f"default_enabled: {'true' if stage == 'default' else 'false'}",
        _cleanup_line(flag, stage),
    ]
    return "\n".join(lines) + "\n"


def _description(flag: FlagPlan, revision: int) -> str:
    text = f"When enabled, {flag.name.replace('_', ' ')} uses the new code path."
    return text if revision == 0 else f"{text} Reworded ({revision})."


def _id(flag: FlagPlan) -> int:
    return 100_000 + flag.number


def _stage_name(stage: str) -> str:
    if stage.startswith("p"):
        return "percentage"
    return "enabled" if stage == "default" else stage


def _actor_lines(actors: Sequence[str]) -> list[str]:
    if not actors:
        return ["actors:"]
    return ["actors:", *(f"  - {actor}" for actor in actors)]


def _percentage_line(stage: str) -> str:
    if stage.startswith("p"):
        return f"percentage: {{of: actors, value: {stage[1:]}}}"
    return "percentage:            # only at stage percentage, e.g. {of: actors, value: 10}"


def _cleanup_line(flag: FlagPlan, stage: str) -> str:
    if stage != "default":
        return "cleanup_issue_url:"
    return f"cleanup_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/{_id(flag) + 9}"


def versions(flag: FlagPlan) -> Iterator[str]:
    """The text of each version in order; a repeated rung counts as one more edit."""
    revision = 0
    for step, rung in enumerate(flag.rungs):
        if step and rung == flag.rungs[step - 1]:
            revision += 1
        yield flag_text(flag, rung, revision)


def next_step(flag: FlagPlan) -> str | None:
    """The flag's next legal forward step as file text, or None at the type's last rung."""
    rung = flag.rungs[-1]
    if rung >= flag.max_rung:
        return None
    revision = sum(1 for a, b in pairwise(flag.rungs) if a == b)
    return flag_text(flag, rung + 1, revision)
