"""The flagd export: one JSON flag file for flagd and the OpenFeature flagd providers.

Every flag is boolean with variants `on`/`off`, and ENABLED: stage `off` is `defaultVariant`
off without targeting, false for everyone. As `state: DISABLED` it gave each caller its own
default, so a caller whose default is true had the flag on at `off`, and the step from staging
to off, which the gate takes as a rollback, gave it to them. Any other stage is `defaultVariant`
on (fully on) or off, with targeting from the gates: listed actors by
`targetingKey`, then a percentage of actors with flagd's `fractional` shorthand, which buckets by
[flag key, targeting key] with murmur3 (validator/engines/bucketing.py) — not Flipper's crc32.
Our own fields go under `metadata` only, as non-null scalars: flagd rejects anything else.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from validator.build import FlagState, MergedConfig
from validator.engines.bucketing import share_weight
from validator.export import fits
from validator.gates import BUCKETS, Gates
from validator.model import Stage

SCHEMA = "https://flagd.dev/schema/v0/flags.json"
ON, OFF = "on", "off"
MAX_WEIGHT_SUM = 2_147_483_647
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat
OPERATORS = frozenset({"if", "in", "var", "fractional"})
"""The JSONLogic operators this export writes; the model refuses any other."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FlagdFlag(_Strict):
    state: Literal["ENABLED", "DISABLED"]
    variants: dict[Annotated[str, Field(min_length=1)], StrictBool] = Field(min_length=1)
    default_variant: StrictStr = Field(alias="defaultVariant")
    targeting: dict[str, Any] | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_variants(self) -> FlagdFlag:
        if self.default_variant not in self.variants:
            raise ValueError(f"defaultVariant {self.default_variant!r} is not a variant")
        if self.targeting is not None:
            _check_rule(self.targeting, frozenset(self.variants))
        return self


class FlagdFile(_Strict):
    schema_ref: Literal["https://flagd.dev/schema/v0/flags.json"] = Field(alias="$schema")
    flags: dict[Annotated[str, Field(min_length=1)], FlagdFlag]
    metadata: dict[str, Scalar] = Field(default_factory=dict)


def _check_rule(node: Any, variants: frozenset[str]) -> None:
    """A JSONLogic rule of our operators only, with fractional weights flagd accepts."""
    if isinstance(node, list):
        for item in node:
            _check_rule(item, variants)
        return
    if not isinstance(node, dict):
        return
    if len(node) != 1 or next(iter(node)) not in OPERATORS:
        raise ValueError(f"targeting rule {sorted(node)} is not one this export writes")
    operator, args = next(iter(node.items()))
    if operator == "fractional":
        _check_fractional(args, variants)
    else:
        _check_rule(args, variants)


def _check_fractional(args: Any, variants: frozenset[str]) -> None:
    if not isinstance(args, list) or not args:
        raise ValueError("fractional needs [variant, weight] pairs")
    for pair in args:
        if (not isinstance(pair, list) or len(pair) != 2 or pair[0] not in variants
                or type(pair[1]) is not int or pair[1] < 0):
            raise ValueError(f"fractional pair {pair!r} is not [variant, weight >= 0]")
    if sum(pair[1] for pair in args) > MAX_WEIGHT_SUM:
        raise ValueError("fractional weights exceed MaxInt32")


def to_document(config: MergedConfig) -> dict[str, Any]:
    flags = {name: _flag(state) for name, state in config.flags.items()}
    metadata = {"flagSetId": "flagops", "environment": config.environment.value}
    return {"$schema": SCHEMA, "flags": flags, "metadata": metadata}


def _flag(state: FlagState) -> dict[str, Any]:
    gates = state.gates
    document: dict[str, Any] = {
        "state": "ENABLED",
        "variants": {ON: True, OFF: False},
        "defaultVariant": ON if gates.everyone else OFF,
        "metadata": _metadata(state),
    }
    rule = None if gates.everyone or state.stage is Stage.OFF else targeting(gates)
    if rule is not None:
        document["targeting"] = rule
    return document


def targeting(gates: Gates) -> dict[str, Any] | None:
    """Listed actors first, then the percentage bucket; None when neither opens."""
    share = None
    if gates.percentage_of_actors is not None:
        weight = share_weight(gates.percentage_of_actors)
        share = {"fractional": [[ON, weight], [OFF, BUCKETS - weight]]}
    if not gates.actors:
        return share
    listed = {"in": [{"var": "targetingKey"}, list(gates.actors)]}
    return {"if": [listed, ON, share if share is not None else OFF]}


def _metadata(state: FlagState) -> dict[str, str | bool | float]:
    metadata: dict[str, str | bool | float] = {
        "stage": state.stage.value, "default_enabled": state.default_enabled}
    if state.gates.percentage_of_time is not None:  # flagd has none: off, on at 100 (everyone)
        metadata["percentage_of_time"] = state.gates.percentage_of_time
    return metadata


def check(document: dict[str, Any]) -> None:
    fits(FlagdFile, document, "flagd")
