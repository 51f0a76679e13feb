"""Exports: the merged config in a format an existing engine loads. Pure: config in, JSON out.

Each exporter is a module with `to_document(config) -> dict` and `check(document)`, which holds
the document to our own model of the target format before anything is written (a user's machine
has no copy of the engine's schema and no network). Chosen by name from `EXPORTERS`.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Protocol, cast

from pydantic import BaseModel, ValidationError

from validator.build import MergedConfig
from validator.engines import Bucketing
from validator.errors import UserError

EXPORTERS: dict[str, str] = {
    "flagd": "validator.export.flagd",
    "flipper": "validator.export.flipper",
}
"""Format name → module; the modules load only when their format is asked for."""

ENGINE_BUCKETING: dict[str, Bucketing] = {"flagd": "flagd", "flipper": "flipper"}
"""Whose percentage-of-actors rule each format's engine runs: flagd's murmur3 `fractional`,
Flipper's crc32 (GitLab's runtime, and so `sync gitlab` too)."""


def bucketing_warning(engine: str, policy: Bucketing, config: MergedConfig) -> str | None:
    """A line when the engine lets other actors into a percentage than flagops's own answers
    (`flagops eval`, the provider, the survey page, which follow the policy's `bucketing`):
    the share is the same, the actors are not, and nothing else would say so."""
    rule = ENGINE_BUCKETING.get(engine)
    shared = sorted(name for name, state in config.flags.items()
                    if state.gates.percentage_of_actors)
    if rule is None or rule == policy or not shared:
        return None
    return (f"{engine} buckets a percentage of actors by {rule}'s rule, the policy by "
            f"{policy}'s: at {len(shared)} flag(s) ({', '.join(shared[:3])}"
            f"{', …' if len(shared) > 3 else ''}) it lets in other actors than flagops eval "
            f"and the survey page; set bucketing = \"{rule}\" in [tool.flagops] if {engine} "
            "is the engine you run")


def unmatched_actors_warning(engine: str, config: MergedConfig) -> str | None:
    """A line when the engine matches listed actors by an id the flag file does not write:
    Flipper's actor gate holds each actor's Flipper id (`Project:278964`, `User:42`), so
    `Project:gitlab-org/gitlab` or `User:alice`, exported as written, lets nobody in, and
    only this line would say so (`flagops sync gitlab` looks such actors up instead)."""
    if ENGINE_BUCKETING.get(engine) != "flipper":
        return None
    from validator.engines.bucketing import bucketed_as_written

    unmatched = [f"{actor} ({name})" for name, state in sorted(config.flags.items())
                 for actor in state.gates.actors if not bucketed_as_written(actor, "flipper")]
    if not unmatched:
        return None
    return (f"{engine} matches an actor by its Flipper id (Kind:<numeric id>, Project:278964): "
            f"{len(unmatched)} actor(s) written otherwise get nothing from this export: "
            f"{', '.join(unmatched[:3])}{', …' if len(unmatched) > 3 else ''}; write them by "
            "id, or run flagops sync gitlab, which looks paths and usernames up")


class ExportError(UserError):
    """The export does not fit the target format's model: a bug here, or a state it cannot hold."""


def fits(model: type[BaseModel], document: dict[str, Any], engine: str) -> None:
    """Holds a document to our model of an engine's format; the first misfit, located."""
    try:
        model.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ExportError(f"{engine} export does not fit {engine}'s format ({where}: "
                          f"{first['msg']})") from None


class Exporter(Protocol):
    def to_document(self, config: MergedConfig) -> dict[str, Any]: ...

    def check(self, document: dict[str, Any]) -> None: ...


def exporter(name: str) -> Exporter:
    if name not in EXPORTERS:
        raise UserError(f"unknown export format {name!r}; one of {', '.join(EXPORTERS)}")
    return cast(Exporter, importlib.import_module(EXPORTERS[name]))


def export_document(name: str, config: MergedConfig) -> dict[str, Any]:
    """The export as a JSON value, checked against the target format's model."""
    chosen = exporter(name)
    document = chosen.to_document(config)
    chosen.check(document)
    return document


def export_text(name: str, config: MergedConfig) -> str:
    """Deterministic JSON text: sorted keys, two-space indent, a trailing newline."""
    document = export_document(name, config)
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
