"""The merged config: every flag's effective state in one environment, the renderer's only input.

What a stage means in an environment comes from `STAGE_EXPOSURE` alone; this module turns that
exposure into Flipper's gates. The JSON Schema in schema/flags-config.schema.json is generated
from `MergedConfig` (`flagops build --write-schema`), and a test fails when it drifts.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from validator.errors import UserError
from validator.flag_summary import CatalogNote, FlagSummary
from validator.json_text import dumps_sorted
from validator.model import (
    NAME_PATTERN,
    STAGE_EXPOSURE,
    Actor,
    Environment,
    Exposure,
    Flag,
    Percentage,
    Stage,
)

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


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Gates(_Frozen):
    """Flipper's gates for one flag; the flag is on if any of them opens."""

    boolean: Annotated[bool, Strict()] = Field(description="On for everyone.")
    actors: tuple[Actor, ...] = Field(description="Actor ids that get the flag, sorted.")
    percentage_of_actors: Percent | None = Field(
        description="crc32(flag name + actor id) % 100000 < this * 1000 opens the gate.")
    percentage_of_time: Percent | None = Field(
        description="Random per check; static consumers treat it as off.")


class FlagState(_Frozen):
    stage: Stage
    default_enabled: Annotated[bool, Strict()]
    gates: Gates
    summary: FlagSummary | None = Field(
        default=None, description="What the catalog shows; null when built without it.")


class MergedConfig(_Frozen):
    """The contract between the validator and everything that consumes flags."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, title="flagops merged config",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    schema_ref: str = Field(alias="$schema", description="Where this file's JSON Schema is.")
    environment: Environment
    catalog: CatalogNote | None = Field(
        default=None, description="When the flags' summaries were computed, from what history.")
    flags: dict[Annotated[str, Field(pattern=NAME_PATTERN)], FlagState] = Field(
        json_schema_extra={"additionalProperties": False})


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


def build_config(
    flags: Iterable[Flag], environment: Environment, *, schema_ref: str,
    summaries: Mapping[str, FlagSummary] | None = None, catalog: CatalogNote | None = None,
) -> tuple[MergedConfig, list[str]]:
    """The merged config, plus warnings about what a static consumer cannot honour.
    `summaries` (by flag name) and `catalog` are the catalog's part, computed from git."""
    states: dict[str, FlagState] = {}
    warnings: list[str] = []
    for flag in sorted(flags, key=lambda f: f.name):
        gates = effective_gates(flag, environment)
        states[flag.name] = FlagState(stage=flag.stage, default_enabled=flag.default_enabled,
                                      gates=gates,
                                      summary=summaries.get(flag.name) if summaries else None)
        if gates.percentage_of_time is not None:
            warnings.append(
                f"{flag.name}: {gates.percentage_of_time:g}% of time in {environment} cannot be "
                "evaluated statically; the survey page treats it as off")
    config = MergedConfig(schema_ref=schema_ref, environment=environment, catalog=catalog,
                          flags=states)
    return config, warnings


def config_text(config: MergedConfig) -> str:
    """Deterministic JSON: sorted keys, two-space indent, a trailing newline, no timestamps."""
    data = config.model_dump(mode="json", by_alias=True)
    return dumps_sorted(data) + "\n"  # json.dumps(sort_keys, indent=2), in half the time


def config_schema_text() -> str:
    schema = MergedConfig.model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def parse_config(text: str | bytes, source: str) -> MergedConfig:
    """The merged config from its JSON text, or its UTF-8 bytes (checked to be UTF-8
    already: `render` gives the file's bytes, and a config with every flag's history decoded
    into a str first took 74 MB, one non-ASCII character making every character two bytes,
    and 37 MB more for the UTF-8 copy the parser reads); a malformed file is the user's
    mistake."""
    try:
        return MergedConfig.model_validate_json(text)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise UserError(f"{source} is not a valid merged config ({where}: {first['msg']}); "
                        "run `flagops build`") from None
