"""What each field of a flag file expects, in the README's words and with an example.

`parse.py` says this when a value is wrong, instead of the model's internals (pydantic's type
names, regular expressions, Python's `False`). Keys are dotted field paths; `*` stands for any
item of a list. Stages and types come from the model, so the lists cannot drift.
"""

from __future__ import annotations

from typing import Any

from validator.model import FlagType, Stage

_URL = "must be an https URL, e.g. https://gitlab.com/gitlab-org/gitlab/-/issues/1"
_HANDLES = "must be a list of quoted @handles, e.g. ['@alice', '@bob']"
_HANDLE = "must be a quoted @handle, e.g. '@alice' (YAML reserves an unquoted @)"
_TYPES = ", ".join(kind for kind in FlagType if kind is not FlagType.DEVELOPMENT)
ACTOR_FORM = "actors are Kind:id, e.g. User:42 or Project:gitlab-org/gitlab"
PERCENTAGE_FORM = "{of: actors, value: 10}"

EXPECTS: dict[str, str] = {
    "name": "must be lowercase snake_case of at most 200 characters, e.g. "
            "calendly_invite_link",
    "description": "must be a line of text saying what the flag does",
    "type": f"must be one of {_TYPES} (development is deprecated)",
    "group": "must be group::<name>, e.g. group::activation",
    "milestone": "must be a quoted version, e.g. '13.12'",
    "feature_issue_url": _URL,
    "introduced_by_url": _URL,
    "rollout_issue_url": _URL,
    "cleanup_issue_url": _URL,
    "log_state_changes": "must be true or false",
    "intended_to_rollout_by": "must be a date YYYY-MM-DD, e.g. 2025-06-30",
    "owners": _HANDLES,
    "owners.*": _HANDLE,
    "stakeholders": _HANDLES,
    "stakeholders.*": _HANDLE,
    "expectations": "must be a mapping of expected, risks and monitoring, each a line of text",
    "expectations.expected": "must be a line of text: what should happen when the flag is on",
    "expectations.risks": "must be a line of text: what might happen if this goes wrong",
    "expectations.monitoring": "must be a line of text: what is watched to detect problems",
    "stage": f"must be one of {', '.join(Stage)}",
    "actors": "must be a list of actors Kind:id, e.g. [User:42, Project:gitlab-org/gitlab]",
    "actors.*": ACTOR_FORM,
    "percentage": f"must be a mapping such as {PERCENTAGE_FORM} (of: actors or time; value: "
                  "above 0 and at most 100)",
    "percentage.of": "must be actors or time",
    "percentage.value": "must be a number above 0 and at most 100, e.g. 10",
    "default_enabled": "must be true or false",
}


def expectation(key_path: tuple[str | int, ...]) -> str | None:
    """The phrase for a field path such as ('actors', 3), or None for one that is not a field."""
    dotted = ".".join("*" if isinstance(part, int) else str(part) for part in key_path)
    return EXPECTS.get(dotted)


def described(value: Any, source: str | None = None) -> str:
    """A value as the flag file shows it: YAML's `false`, not Python's `False`; a number as
    it was written (`17.10`), when the loader kept its source text."""
    if isinstance(value, bool):
        return f"the boolean {source or str(value).lower()}"
    if value is None:
        return "an empty value"
    if isinstance(value, int | float):
        return f"the number {source if source is not None else repr(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
