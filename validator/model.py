"""The facts about a flag: stages in order, what each stage means where, GitLab's type table.

The JSON Schema in schema/flag.schema.json is generated from `Flag` (`flagops schema`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema


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

NAME_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
ACTOR_PATTERN = r"^[A-Z][A-Za-z]*:[^\s:][^\s]*$"
HANDLE_PATTERN = r"^@[A-Za-z0-9_][A-Za-z0-9_.-]*$"
HTTPS_URL_PATTERN = r"^https://[^\s/?#]+[^\s]*$"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """YAML 1.2 has no dates; accept exactly YYYY-MM-DD strings, as the JSON Schema does."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _one_line(pattern: str, **constraints: Any) -> Any:
    """A pattern field whose schema also says "no newline".

    Python's `re` lets `$` match before a final newline, ECMA-262 and pydantic's engine do not;
    with the extra clause every validator of the schema agrees with the model.
    """
    return Field(pattern=pattern, json_schema_extra={"not": {"pattern": "\n"}}, **constraints)


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    Strict(),
    WithJsonSchema({"type": "string", "format": "date"}),
]
HttpsUrl = Annotated[str, Strict(), _one_line(HTTPS_URL_PATTERN)]
Text = Annotated[str, Strict(), Field(min_length=1)]
Handle = Annotated[str, Strict(), _one_line(HANDLE_PATTERN)]
Actor = Annotated[str, Strict(), _one_line(ACTOR_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Percentage(_Strict):
    of: Literal["actors", "time"]
    value: Annotated[float, Strict(), Field(gt=0, le=100)]


class Expectations(_Strict):
    expected: Text = Field(description="What should happen when the flag is on.")
    risks: Text = Field(description="What might happen if this goes wrong.")
    monitoring: Text = Field(description="What we watch to detect problems.")


class Flag(_Strict):
    """One flag file: GitLab's definition fields plus the rollout state GitLab keeps in a DB."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="flagops flag file",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    name: Annotated[str, Strict(), _one_line(NAME_PATTERN, max_length=200)]
    description: Text | None = None
    type: FlagType
    group: Annotated[str, Strict(), _one_line(r"^group::\S.*$")]
    milestone: Annotated[str, Strict(), _one_line(r"^\d+\.\d+$")]
    feature_issue_url: HttpsUrl | None = None
    introduced_by_url: HttpsUrl | None = None
    rollout_issue_url: HttpsUrl | None = None
    log_state_changes: Annotated[bool, Strict()] | None = None
    intended_to_rollout_by: IsoDate | None = None
    owners: list[Handle] | None = None
    stakeholders: list[Handle] | None = None
    expectations: Expectations | None = None
    stage: Stage
    actors: list[Actor] | None = None
    percentage: Percentage | None = None
    default_enabled: Annotated[bool, Strict()]
    cleanup_issue_url: HttpsUrl | None = None

    @property
    def actor_list(self) -> tuple[str, ...]:
        return tuple(self.actors or ())

    @property
    def rules(self) -> TypeRules:
        return TYPE_RULES[self.type]
