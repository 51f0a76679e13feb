"""GitLab's feature flag definitions (config/feature_flags/<type>/<name>.yml, also under ee/)
as flagops flag files.

An import keeps the definition's text byte for byte (folded descriptions, empty values, trailing
spaces, keys we do not know) and appends the one thing GitLab keeps in its database instead: the
rollout state, `stage: enabled` when `default_enabled: true`, else `stage: off` (or the stage
asked for). So every finding `flagops validate` reports on an imported file sits at the same line
and column as in GitLab's own file, and is a gap of GitLab's data against our rules, never one
made by the import. `is_exact_import` recognises such a file, for a gate that lets a batch of
imports land without one override trailer per flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from validator.document import LoadError
from validator.errors import UserError
from validator.loader import load_document
from validator.model import FlagType, Stage

STATE_KEYS = ("stage", "actors", "percentage")
"""flagops's rollout state: GitLab keeps it in a database, never in a definition."""


class DefinitionError(UserError):
    """A definition GitLab itself would refuse to load; `path: error: message`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, slots=True)
class Imported:
    name: str
    type: str
    source: str
    target: str
    """Where the flag file goes, relative to the repository root: flags/<type>/<name>.yml."""
    text: str


def import_definition(raw: bytes, source: str, *, stage: Stage | None = None) -> Imported:
    """One definition's bytes (read from `source`) as a flagops flag file. Pure."""
    data = _definition(raw, source)
    name, kind = data["name"], data["type"]
    state = stage or default_stage(data)
    if default_stage(data) is Stage.ENABLED and state is not Stage.ENABLED:
        raise DefinitionError(source, f"{name} is released in GitLab (default_enabled: true), "
                              f"which is stage enabled here; at {state.value} it would be "
                              "FO121: import it without --stage")
    text = _text(raw, source) + f"stage: {state.value}\n"
    _check_round_trip(text, data, state, source)
    return Imported(name=name, type=kind, source=source,
                    target=f"flags/{kind}/{name}.yml", text=text)


def default_stage(data: dict[str, Any]) -> Stage:
    """Released in GitLab (`default_enabled: true`) is enabled here; anything else is off."""
    return Stage.ENABLED if data.get("default_enabled") is True else Stage.OFF


def is_exact_import(text: str, path: str) -> bool:
    """Is this flag file exactly the import of a GitLab definition at its default stage: the
    definition's text untouched, one `stage:` line appended, that stage the one its
    `default_enabled` gives? Anything edited after the import (actors, a percentage, another
    stage, a changed field) is not."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    if not last.startswith("stage: ") or not text.endswith("\n"):
        return False
    try:
        again = import_definition((body + "\n").encode("utf-8"), path)
    except UserError:
        return False
    return again.text == text and again.target == path


def _definition(raw: bytes, source: str) -> dict[str, Any]:
    try:
        data = load_document(raw, source).data
    except LoadError as error:
        raise DefinitionError(source, f"not a YAML mapping GitLab can load: {error}") from None
    _check_fields(data, source)
    _check_path(data, source)
    return data


def _check_fields(data: dict[str, Any], source: str) -> None:
    """What GitLab's Feature::Definition#validate! refuses, in its order."""
    name, kind = data.get("name"), data.get("type")
    if not isinstance(name, str) or not name:
        raise DefinitionError(source, "feature flag is missing name")
    if not isinstance(kind, str) or not kind:
        raise DefinitionError(source, f"feature flag '{name}' is missing `type`")
    if kind not in {str(t) for t in FlagType}:
        raise DefinitionError(source, f"feature flag '{name}' type '{kind}' is invalid")
    if not isinstance(data.get("default_enabled"), bool):
        raise DefinitionError(source, f"feature flag '{name}' is missing `default_enabled` "
                              "(true or false)")
    carried = [key for key in STATE_KEYS if key in data]
    if carried:
        raise DefinitionError(source, f"feature flag '{name}' already carries flagops state "
                              f"({', '.join(carried)}): it is not a GitLab definition")


def _check_path(data: dict[str, Any], source: str) -> None:
    """GitLab loads <type>/<name>.yml only: the file name is the name, the folder the type."""
    path = PurePosixPath(source.replace("\\", "/"))
    if path.stem != data["name"] or path.suffix != ".yml":
        raise DefinitionError(source, f"feature flag '{data['name']}' has an invalid path: "
                              "the file must be named <name>.yml")
    if path.parent.name != data["type"]:
        raise DefinitionError(source, f"feature flag '{data['name']}' has an invalid type: "
                              f"it is in {path.parent.name}/, its type is {data['type']}")


def _text(raw: bytes, source: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DefinitionError(source, f"not UTF-8 (byte {error.start})") from None
    return text if text.endswith("\n") or not text else text + "\n"


def _check_round_trip(text: str, data: dict[str, Any], state: Stage, source: str) -> None:
    """The appended line must add the stage and change nothing else (a definition ending in
    `...`, or in a block scalar that keeps trailing lines, could otherwise change)."""
    try:
        again = load_document(text.encode("utf-8"), source).data
    except LoadError:
        again = {}
    if again != {**data, "stage": state.value}:
        raise DefinitionError(source, "cannot append the rollout state to this definition "
                              "without changing it (does it end in `...` or a `|+` block?)")
