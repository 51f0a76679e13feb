"""Flipper's gates: what a rollout state opens in one environment, and who is in a percentage.

What a stage means in an environment comes from `STAGE_EXPOSURE` alone; this module turns that
exposure into gates. The gate's transitions, ChatOps plans and the merged config
(`validator.build`) all read them here, and the pre-commit hook imports this without the
merged config's models (the catalog's among them).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from validator.model import STAGE_EXPOSURE, Actor, Environment, Exposure, Flag, Percentage, Stage

Percent = Annotated[float, Field(ge=0, le=100)]

SCALE = 1_000
"""Flipper's scaling factor: percentages keep three decimals of precision."""
BUCKETS = 100 * SCALE


def bucket(flag_name: str, actor: str) -> int:
    """The actor's bucket for this flag; the flag name makes each flag bucket independently."""
    return zlib.crc32(f"{flag_name}{actor}".encode()) % BUCKETS


def in_percentage(flag_name: str, actor: str, percentage: float) -> bool:
    """Flipper's test; an actor in at p stays in at every higher p."""
    return bucket(flag_name, actor) < percentage * SCALE


class FrozenRecord(BaseModel):
    """A record read back from a file flagops wrote: unknown keys are refused, nothing changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Gates(FrozenRecord):
    """Flipper's gates for one flag; the flag is on if any of them opens."""

    boolean: Annotated[bool, Strict()] = Field(description="On for everyone.")
    actors: tuple[Actor, ...] = Field(description="Actor ids that get the flag, sorted.")
    percentage_of_actors: Percent | None = Field(
        description="crc32(flag name + actor id) % 100000 < this * 1000 opens the gate.")
    percentage_of_time: Percent | None = Field(
        description="Random per check; static consumers treat it as off, but at 100 (open "
        "on every check) as on.")

    @property
    def everyone(self) -> bool:
        """Open for every check, with or without an actor: the boolean gate, or a percentage
        of time at 100 (Flipper opens it where a random number in [0, 1) is below 1.0, so on
        every check: GitLab gives it to everyone, and an evaluator that read it as off, as
        it reads a random share, said off to all of them)."""
        return self.boolean or (self.percentage_of_time is not None
                                and self.percentage_of_time >= 100)


def effective_gates(flag: Flag, environment: Environment) -> Gates:
    """The gates the flag's stage opens in this environment."""
    return stage_gates(flag.stage, flag.actor_list, flag.percentage, environment)


def stage_gates(stage: Stage, actors: Iterable[str], percentage: Percentage | None,
                environment: Environment) -> Gates:
    """What a rollout state opens in one environment; ChatOps plans read the same answer."""
    exposure = STAGE_EXPOSURE[stage][environment]
    listed = exposure in (Exposure.ACTORS, Exposure.ACTORS_AND_PERCENTAGE)
    share = percentage if exposure is Exposure.ACTORS_AND_PERCENTAGE else None
    return Gates(
        boolean=exposure is Exposure.ON,
        actors=tuple(sorted(actors)) if listed else (),
        percentage_of_actors=share.value if share and share.of == "actors" else None,
        percentage_of_time=share.value if share and share.of == "time" else None,
    )
