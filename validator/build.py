"""The merged config: every flag's effective state in one environment, the renderer's only input.

Each flag's gates come from `validator.gates`. The JSON Schema in
schema/flags-config.schema.json is generated from `MergedConfig` (`flagops build
--write-schema`), and a test fails when it drifts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Annotated

from pydantic import ConfigDict, Field, Strict, ValidationError
from pydantic_core import ErrorDetails

from validator.digits import decimal_text
from validator.errors import UserError
from validator.flag_summary import CatalogNote, FlagSummary
from validator.gates import FrozenRecord, Gates, effective_gates
from validator.json_text import dumps_sorted
from validator.model import NAME_PATTERN, Environment, Flag, Stage
from validator.moments import ISO_FORM, ISO_PATTERN


class FlagState(FrozenRecord):
    stage: Stage
    default_enabled: Annotated[bool, Strict()]
    gates: Gates
    summary: FlagSummary | None = Field(
        default=None, description="What the catalog shows; null when built without it.")


class MergedConfig(FrozenRecord):
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
        if gates.percentage_of_time is not None and not gates.everyone:
            warnings.append(
                f"{flag.name}: {decimal_text(gates.percentage_of_time)}% of time in "
                f"{environment} cannot be evaluated statically; the survey page treats it as "
                "off")
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
        raise UserError(f"{source} is not a valid merged config ({where}: {_said(first)}); "
                        "run `flagops build`") from None


def _said(detail: ErrorDetails) -> str:
    """pydantic's words, but a time's: its pattern is two hundred characters of regex."""
    if detail["type"] == "string_pattern_mismatch" and \
            detail.get("ctx", {}).get("pattern") == ISO_PATTERN:
        return f"not a time as `flagops build` writes it, {ISO_FORM}"
    return detail["msg"]
