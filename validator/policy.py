"""The rollout policy: defaults live here and only here; `[tool.flagops]` may override them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from validator.errors import UserError
from validator.findings import RULES, START, Finding, Position
from validator.model import FlagType, Stage

Minutes = Annotated[int, Strict(), Field(ge=0)]


class SoakMinutes(BaseModel):
    """How long the base state must have been live before the next forward step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    staging: Minutes = Field(default=0, description="Before off → staging.")
    beta: Minutes = Field(default=15, description="Before staging → beta.")
    percentage: Minutes = Field(
        default=15, description="Before beta → percentage and between percentage steps.")
    enabled: Minutes = Field(default=15, description="Before percentage 100% → enabled.")
    default_enabled: Minutes = Field(
        default=24 * 60, description="At enabled before default_enabled: true.")
    actors: Minutes = Field(
        default=0, description="Adding actors within beta or percentage; 0 keeps every revert "
        "of an actor swap legal at once.")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    percentage_steps: tuple[Annotated[float, Strict(), Field(gt=0, le=100)], ...] = Field(
        default=(10, 50, 100),
        description="The percentages a rollout steps through; a forward step goes at most to "
        "the next one. Must rise and end at 100.")
    soak_minutes: SoakMinutes = SoakMinutes()
    may_skip: dict[FlagType, tuple[Stage, ...]] = Field(
        default_factory=dict,
        description="Stages a flag type may skip on a forward step, e.g. `{ops = ['beta']}`.",
    )
    allow_overrides: Annotated[bool, Strict()] = Field(
        default=True, description="Whether a `Flag-Override: <flag>: <reason>` trailer turns "
        "that flag's transition errors into warnings.")
    invite_link_hosts: tuple[Annotated[str, Strict()], ...] = Field(
        default=("calendly.com",),
        description="Hosts the survey page's invite link may point to (https only).")

    @field_validator("percentage_steps")
    @classmethod
    def _ascending_to_100(cls, steps: tuple[float, ...]) -> tuple[float, ...]:
        if not steps or list(steps) != sorted(set(steps)) or steps[-1] != 100:
            raise ValueError("percentage_steps must rise strictly and end at 100")
        return steps


DEFAULT_POLICY = Policy()


class PolicyError(UserError):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def load_policy(root: Path) -> Policy:
    """Reads `[tool.flagops]` from root/pyproject.toml; raises PolicyError with a location."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return DEFAULT_POLICY
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    try:
        table = tomllib.loads(text).get("tool", {}).get("flagops", {})
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        where = Position(int(found[1]), int(found[2])) if found else START
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise PolicyError(RULES["FO301"].at("pyproject.toml", where,
                                            f"invalid TOML: {message}")) from None
    return policy_from_table(table, text)


def policy_from_table(table: dict[str, Any], source: str = "") -> Policy:
    try:
        return Policy.model_validate(table)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        dotted = ".".join(loc)
        message = (f"[tool.flagops] unknown policy key {dotted!r}" if first["type"] ==
                   "extra_forbidden" else f"[tool.flagops] {dotted}: {first['msg']}")
        raise PolicyError(RULES["FO301"].at("pyproject.toml", locate_key(source, loc),
                                            message)) from None


def locate_key(source: str, loc: tuple[str, ...]) -> Position:
    """tomllib keeps no positions: find the key under [tool.flagops] or one of its subtables.

    The deepest match wins: `soak_minutes.bogus` is found in `[tool.flagops.soak_minutes]`,
    as a dotted key, or else at the line of `soak_minutes` itself.
    """
    best = START
    table: tuple[str, ...] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        header = re.match(r"\s*\[\s*tool\.flagops((?:\.[\w\"'-]+)*)\s*\]", line)
        if header or line.lstrip().startswith("["):
            table = _table_path(header[1]) if header else None
            continue
        if table is None or loc[: len(table)] != table:
            continue
        rest = loc[len(table):]
        key = re.match(r"(\s*)((?:[\w-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[\w-]+|\"[^\"]*\"|"
                       r"'[^']*'))*)\s*=", line)
        if key and rest and _table_path(key[2]) == rest[: len(_table_path(key[2]))]:
            best = Position(number, len(key[1]) + 1)
            if _table_path(key[2]) == rest:
                return best
    return best


def _table_path(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"[\w-]+|\"[^\"]*\"|'[^']*'", dotted)
    return tuple(part.strip("\"'") for part in parts)
