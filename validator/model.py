"""The `Flag` model: what a flag file may hold, field by field, with the stages in order, what
each stage means where and GitLab's type table from `validator.stages`.

The JSON Schema in schema/flag.schema.json is generated from `Flag` (`flagops schema`).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

from validator.characters import FREE_TEXT_REFUSED, INVISIBLE, char_class, invisible_character
from validator.moments import ISO_FORM, ISO_PATTERN
from validator.stages import MILESTONE_PATTERN
from validator.stages import STAGE_EXPOSURE as STAGE_EXPOSURE
from validator.stages import STAGE_ORDER as STAGE_ORDER
from validator.stages import TYPE_RULES as TYPE_RULES
from validator.stages import Environment as Environment
from validator.stages import Exposure as Exposure
from validator.stages import FlagType as FlagType
from validator.stages import Stage as Stage
from validator.stages import TypeRules as TypeRules

NAME_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
ACTOR_PATTERN = r"^[A-Z][A-Za-z]*:[^\s:][^\s]*$"
HANDLE_PATTERN = r"^@[A-Za-z0-9_][A-Za-z0-9_.-]*$"
MERGE_REQUEST_PATTERN = r"^(?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]+![0-9]{1,12}$"
"""`group/project!123`, as GitLab writes it in its merge commits."""
COMMIT_PATTERN = r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$"
"""A whole commit id (SHA-1, or SHA-256)."""
# No `@` before the path: `https://user:pass@host/` leaks a credential, and
# `https://gitlab.com@evil.example/` goes to evil.example.
HTTPS_URL_PATTERN = r"^https://[^\s/?#@]+(?:[/?#][^\s]*)?$"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_SCHEMA_INVISIBLE = char_class(INVISIBLE, bmp_only=True)


def _refuse(free_text: bool) -> BeforeValidator:
    """Runs before the type's own checks, so the value is reported as FO104, not a mismatch."""

    def check(value: Any) -> Any:
        found = invisible_character(value, free_text=free_text) if isinstance(value, str) else None
        if found is not None:
            raise PydanticCustomError("invisible_character", "{character}",
                                      {"character": found})
        return value

    return BeforeValidator(check)


VISIBLE = _refuse(free_text=False)
FIT_FOR_PROSE = _refuse(free_text=True)


def _iso_date(value: Any) -> Any:
    """YAML 1.2 has no dates; accept exactly YYYY-MM-DD strings, as the JSON Schema does."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _one_line(pattern: str, **constraints: Any) -> Any:
    """A pattern field whose schema also refuses what `VISIBLE` refuses, newline included.

    Python's `re` lets `$` match before a final newline, ECMA-262 and pydantic's engine do not,
    and the three read `\\s` and `.` differently only on characters of INVISIBLE: with the
    extra clause every validator of the schema agrees with the model (up to U+FFFF).
    """
    return Field(pattern=pattern, json_schema_extra={"not": {"pattern": _SCHEMA_INVISIBLE}},
                 **constraints)


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    Strict(),
    WithJsonSchema({"type": "string", "format": "date"}),
    VISIBLE,
]
HttpsUrl = Annotated[str, Strict(), _one_line(HTTPS_URL_PATTERN), VISIBLE]
_PROSE_SCHEMA = {"not": {"pattern": char_class(FREE_TEXT_REFUSED)}}
Text = Annotated[str, Strict(), Field(min_length=1, json_schema_extra=_PROSE_SCHEMA),
                 FIT_FOR_PROSE]
Prose = Annotated[str, Strict(), Field(json_schema_extra=_PROSE_SCHEMA), FIT_FOR_PROSE]
"""Free text that may be empty: a git author's name (`free_text_shown`)."""
Handle = Annotated[str, Strict(), _one_line(HANDLE_PATTERN), VISIBLE]
MergeRequestRef = Annotated[str, Strict(), _one_line(MERGE_REQUEST_PATTERN), VISIBLE]
"""A merge request as a commit message names it: repository text, so held to its form."""
CommitId = Annotated[str, Strict(), _one_line(COMMIT_PATTERN)]
IsoTime = Annotated[str, _one_line(ISO_PATTERN, description=f"ISO 8601, UTC, as {ISO_FORM}.")]
"""A moment as `moments.iso` writes it: the merged config's times (its pattern says why)."""


Actor = Annotated[str, Strict(), _one_line(ACTOR_PATTERN), VISIBLE]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Percentage(_Strict):
    of: Annotated[Literal["actors", "time"], VISIBLE]
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

    name: Annotated[str, Strict(), _one_line(NAME_PATTERN, max_length=200), VISIBLE]
    description: Text | None = None
    type: Annotated[FlagType, VISIBLE]
    group: Annotated[str, Strict(), _one_line(r"^group::\S.*$"), VISIBLE]
    milestone: Annotated[str, Strict(), _one_line(MILESTONE_PATTERN), VISIBLE]
    feature_issue_url: HttpsUrl | None = None
    introduced_by_url: HttpsUrl | None = None
    rollout_issue_url: HttpsUrl | None = None
    log_state_changes: Annotated[bool, Strict()] | None = None
    intended_to_rollout_by: IsoDate | None = None
    owners: list[Handle] | None = None
    stakeholders: list[Handle] | None = None
    expectations: Expectations | None = None
    stage: Annotated[Stage, VISIBLE]
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


def flag_schema_text() -> str:
    """The flag file's JSON Schema as `flagops schema` writes it (and `init` scaffolds it)."""
    return json.dumps(Flag.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
