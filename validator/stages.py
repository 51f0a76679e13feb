"""The facts about a flag's rollout that need no parser: the stages in order, what each stage
means in each environment, and GitLab's type table.

Kept apart from the model so that what reads only these facts (the policy, `refs`) does not
build the pydantic models of a flag file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MILESTONE_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}$"
"""A milestone, `17.10`: GitLab's major and minor version. [0-9], not \\d: Rust and Python read
\\d as any Unicode digit, ECMA-262 as ASCII. At most four digits each: a lifespan counts
milestones with int(), which refuses more than 4,300 digits, and a milestone of 4,301 passed
the file rules and ended every command that reads a flag's age in an internal error."""


class Stage(StrEnum):
    """Rollout stages in order; forward means a higher rank."""

    OFF = "off"
    STAGING = "staging"
    BETA = "beta"
    PERCENTAGE = "percentage"
    ENABLED = "enabled"

    @property
    def rank(self) -> int:
        return STAGE_ORDER.index(self)


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)


class Environment(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"


class Exposure(StrEnum):
    """How a stage gates a flag in one environment."""

    OFF = "off"
    ON = "on"
    ACTORS = "listed actors"
    ACTORS_AND_PERCENTAGE = "listed actors plus the percentage"


STAGE_EXPOSURE: dict[Stage, dict[Environment, Exposure]] = {
    Stage.OFF: {Environment.STAGING: Exposure.OFF, Environment.PRODUCTION: Exposure.OFF},
    Stage.STAGING: {Environment.STAGING: Exposure.ON, Environment.PRODUCTION: Exposure.OFF},
    Stage.BETA: {Environment.STAGING: Exposure.ON, Environment.PRODUCTION: Exposure.ACTORS},
    Stage.PERCENTAGE: {
        Environment.STAGING: Exposure.ON,
        Environment.PRODUCTION: Exposure.ACTORS_AND_PERCENTAGE,
    },
    Stage.ENABLED: {Environment.STAGING: Exposure.ON, Environment.PRODUCTION: Exposure.ON},
}


class FlagType(StrEnum):
    GITLAB_COM_DERISK = "gitlab_com_derisk"
    WIP = "wip"
    BETA = "beta"
    OPS = "ops"
    EXPERIMENT = "experiment"
    WORKER = "worker"
    UNDEFINED = "undefined"
    DEVELOPMENT = "development"


@dataclass(frozen=True, slots=True)
class TypeRules:
    may_default_enable: bool = False
    needs_rollout_issue: bool = False
    max_stage: Stage = Stage.ENABLED
    deprecated: bool = False


TYPE_RULES: dict[FlagType, TypeRules] = {
    FlagType.GITLAB_COM_DERISK: TypeRules(needs_rollout_issue=True),
    FlagType.WIP: TypeRules(max_stage=Stage.STAGING),
    FlagType.BETA: TypeRules(may_default_enable=True, needs_rollout_issue=True),
    FlagType.OPS: TypeRules(may_default_enable=True, needs_rollout_issue=True),
    FlagType.EXPERIMENT: TypeRules(needs_rollout_issue=True),
    FlagType.WORKER: TypeRules(),
    FlagType.UNDEFINED: TypeRules(),
    FlagType.DEVELOPMENT: TypeRules(may_default_enable=True, deprecated=True),
}
