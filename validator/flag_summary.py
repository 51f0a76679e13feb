"""What the merged config says about each flag beyond its gates: who owns it, where it is live,
how it got there and what it needs next. The catalog pages read these and nothing else.

The values are computed by `validator.lifecycle.summary` from the flag, its history on the
first-parent line and the build's clock; here are only the records, so that the schema of the
merged config (generated from `validator.build.MergedConfig`) describes them too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from validator.gates import Percent
from validator.model import (
    CommitId,
    Environment,
    Expectations,
    FlagType,
    Handle,
    HttpsUrl,
    IsoTime,
    MergeRequestRef,
    Prose,
    Text,
)

LifespanStatus = Literal["ok", "approaching", "overdue", "unknown"]
HistoryCompleteness = Literal["complete", "partial", "none"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Level(_Frozen):
    """Who has the flag in one environment, in the terms a chart draws."""

    kind: Literal["off", "actors", "percentage", "on"] = Field(
        description="on: everyone; percentage: listed actors plus a share; actors: listed only.")
    actors: int = Field(ge=0, description="How many actors are listed.")
    percentage: Percent | None = Field(description="The share, of actors or of time.")


class Reach(Level):
    """A level, and who has the flag in words."""

    text: str = Field(description="Who has it, in the words `flagops status` uses.")


class Landed(_Frozen):
    """One landed change of the flag's rollout state, as `flagops history` lists it."""

    time: IsoTime | None = Field(description="Trusted landing time; null beyond a shallow cut.")
    commit: CommitId
    author: Prose = Field(description="The commit's author, as `free_text_shown` writes it.")
    merge_request: MergeRequestRef | None = Field(
        description="`group/project!N` from GitLab's merge commit.")
    before: str = Field(alias="from")
    after: str = Field(alias="to")
    step: Literal["new", "forward", "rollback", "mixed", "removed", "no rollout change"]
    production: Level | None = Field(description="Production after the change; null: removed.")


class Lifespan(_Frozen):
    """The flag's age against its type's maximum lifespan, and whether someone must act."""

    max_lifespan: int | None = Field(description="The type's limit (null: none).")
    age: int | None = Field(description="Lived so far, in `unit` (null: not known).")
    unit: Literal["milestones", "months"] | None
    end_of_life: str | None = Field(description="The end-of-life milestone, when counted so.")
    status: LifespanStatus = Field(
        description="overdue: past its lifespan or its intended_to_rollout_by; approaching: in "
                    "its last milestone (or month) of life.")
    reasons: tuple[str, ...] = Field(description="Why it is overdue, in words.")


class FlagSummary(_Frozen):
    """The catalog's row and page for one flag."""

    type: FlagType
    group: str
    milestone: str
    description: Text | None
    owners: tuple[Handle, ...]
    expectations: Expectations | None
    rollout_issue_url: HttpsUrl | None
    cleanup_issue_url: HttpsUrl | None
    introduced_by_url: HttpsUrl | None
    feature_issue_url: HttpsUrl | None
    state: str = Field(description="The rollout state, in the words `flagops plan` uses.")
    exposure: dict[Environment, Reach] = Field(
        min_length=len(Environment),
        description="Every environment's: the catalog shows each (its keys are Environment's).")
    since: IsoTime | None = Field(description="When the current state landed (null: unknown).")
    next_step: str
    legal_at: IsoTime | None = Field(description="When the next step's soak is over.")
    needs_action: bool = Field(description="Overdue, or its next step is legal now.")
    lifespan: Lifespan
    history: tuple[Landed, ...] = Field(description="Landed rollout changes, oldest first.")


class CatalogNote(_Frozen):
    """When the summaries were computed and how much history they saw."""

    as_of: IsoTime = Field(description="The build's clock: ages and legal steps are as of it.")
    history: HistoryCompleteness = Field(
        description="complete; partial: a shallow clone; none: not a git repository.")
