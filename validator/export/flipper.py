"""The Flipper export: Flipper's own JSON export, version 1, which GitLab's runtime imports.

`{"version": 1, "features": {name: {"boolean", "groups", "actors", "percentage_of_actors",
"percentage_of_time", "expression"}}}`, with values as Flipper's adapters keep them: `"true"` or
null, lists of ids, percentages as strings ("12.5", every digit the flag file gave) or null.
Groups and expressions are empty.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from validator.build import MergedConfig
from validator.digits import decimal_text
from validator.export import fits
from validator.gates import Gates

VERSION = 1


class FlipperFeature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    boolean: Literal["true"] | None
    groups: list[StrictStr]
    actors: list[StrictStr]
    percentage_of_actors: StrictStr | None
    percentage_of_time: StrictStr | None
    expression: dict[str, Any] | None

    @field_validator("percentage_of_actors", "percentage_of_time")
    @classmethod
    def _percent(cls, value: str | None) -> str | None:
        if value is not None and not 0 <= float(value) <= 100:
            raise ValueError("a percentage is 0..100")
        return value


class FlipperExport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    features: dict[Annotated[str, Field(min_length=1)], FlipperFeature]


def to_document(config: MergedConfig) -> dict[str, Any]:
    features = {name: feature(state.gates) for name, state in config.flags.items()}
    return {"version": VERSION, "features": features}


def feature(gates: Gates) -> dict[str, Any]:
    return {
        "boolean": "true" if gates.boolean else None,
        "groups": [],
        "actors": list(gates.actors),
        "percentage_of_actors": percent_text(gates.percentage_of_actors),
        "percentage_of_time": percent_text(gates.percentage_of_time),
        "expression": None,
    }


def percent_text(value: float | None) -> str | None:
    """As Flipper stores it: "50", "12.5", "0.125", and every digit the flag file gave: Flipper
    reads the text back as a float (Typecast.to_percentage, no rounding) and compares
    `crc32 % 100000 < percentage * 1000`, so "12.345" for 12.3454 shuts out the actor in
    bucket 12345 that `flagops eval` lets in. Plain decimals, never an exponent (1e-05)."""
    return None if value is None else decimal_text(value)


def check(document: dict[str, Any]) -> None:
    fits(FlipperExport, document, "Flipper")
