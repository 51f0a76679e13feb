"""A new flag file, as GitLab's `bin/feature-flag` would start it plus the rollout state.

The fields come in the README's order with the rollout-state fields present (`stage: off`,
empty `actors:` and `percentage:`, `default_enabled: false`), under the schema modeline that
editors read. Names follow GitLab's generator: lowercased, `-` read as `_`. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from validator.edit.render import string_text, value_text
from validator.findings import RULES
from validator.model import NAME_PATTERN, FlagType

SCHEMA_FILE = "schema/flag.schema.json"
MAX_NAME = 200
TYPE_CHOICES = tuple(str(kind) for kind in FlagType if kind is not FlagType.DEVELOPMENT)
"""What `new` offers; development is deprecated (accepted with a warning, never offered)."""
GROUP_PATTERN = re.compile(r"group::\S.*")
MILESTONE_PATTERN = re.compile(r"[0-9]+\.[0-9]+")


@dataclass(frozen=True, slots=True)
class NewFlag:
    name: str
    type: str
    group: str
    milestone: str
    description: str | None = None
    feature_issue_url: str | None = None
    introduced_by_url: str | None = None
    rollout_issue_url: str | None = None
    owners: tuple[str, ...] = ()


def normalized_name(raw: str) -> str:
    """GitLab's generator lowercases the name and reads `-` as `_`."""
    return raw.strip().lower().replace("-", "_")


def name_problem(name: str) -> str | None:
    """FO112's words when `name` cannot be a flag's name (and so a file name), else None."""
    if len(name) > MAX_NAME:
        return f"FO112 a flag name has at most {MAX_NAME} characters, not {len(name)}"
    if re.fullmatch(NAME_PATTERN.strip("^$"), name):
        return None
    advice = RULES["FO112"].help
    return f"FO112 {name!r} is not a flag name: {advice[0].lower()}{advice[1:]}"


def owner_handle(owner: str) -> str:
    """`alice` or `@alice`, as GitLab's `--username` takes it, is the handle `@alice`."""
    return owner if owner.startswith("@") else f"@{owner}"


def flag_text(flag: NewFlag, schema: str) -> str:
    """The new file's text; `schema` is the schema's path relative to the file's folder."""
    fields: list[tuple[str, Any]] = [
        ("name", flag.name),
        ("description", flag.description),
        ("type", flag.type),
        ("group", flag.group),
        ("milestone", flag.milestone),
    ]
    if flag.feature_issue_url:
        fields.append(("feature_issue_url", flag.feature_issue_url))
    fields += [
        ("introduced_by_url", flag.introduced_by_url),
        ("rollout_issue_url", flag.rollout_issue_url),
        ("owners", list(flag.owners) or None),
        ("stakeholders", None),
        ("expectations", None),
        ("stage", "off"),
        ("actors", None),
        ("percentage", None),
        ("default_enabled", False),
        ("cleanup_issue_url", None),
    ]
    lines = [f"# yaml-language-server: $schema={schema}"]
    lines += [f"{key}:" if value is None else f"{key}: {_value(value)}" for key, value in fields]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    return string_text(value) if isinstance(value, str) else value_text(value)


def next_steps(flag: NewFlag, path: str, needs_rollout_issue: bool) -> list[str]:
    steps: list[str] = []
    if flag.rollout_issue_url is None:
        required = " (required from stage beta on for this type)" if needs_rollout_issue else ""
        steps.append("open the rollout issue (GitLab's \"Feature Flag Roll Out\" template) and "
                     f"set rollout_issue_url in {path}{required}")
    steps.append(f"fill in expectations (expected, risks, monitoring) in {path}: required from "
                 "stage beta on")
    steps.append(f"commit {path} in a merge request of its own: a new flag starts at off")
    steps.append(f"then the first step: flagops promote {flag.name} (off → staging)")
    return steps


def missing_options(values: Sequence[tuple[str, str | None]]) -> list[str]:
    """The options among (option, value) pairs that have no value."""
    return [option for option, value in values if not value]
