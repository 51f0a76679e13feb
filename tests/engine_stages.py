"""The calendly_invite_link rollout, every stage, as merged configs: shared by the engine tests."""

from __future__ import annotations

from validator.build import FlagState, MergedConfig
from validator.gates import stage_gates
from validator.model import Environment, Percentage, Stage

FLAG = "calendly_invite_link"
ACTORS = ("Project:gitlab-org/gitlab", "Group:gitlab-org/gitlab-com", "User:7")

ROLLOUT: list[tuple[str, Stage, Percentage | None, bool]] = [
    ("off", Stage.OFF, None, False),
    ("staging", Stage.STAGING, None, False),
    ("beta", Stage.BETA, None, False),
    ("10% of actors", Stage.PERCENTAGE, Percentage(of="actors", value=10.0), False),
    ("12.345% of actors", Stage.PERCENTAGE, Percentage(of="actors", value=12.345), False),
    ("50% of actors", Stage.PERCENTAGE, Percentage(of="actors", value=50.0), False),
    ("100% of actors", Stage.PERCENTAGE, Percentage(of="actors", value=100.0), False),
    ("25% of time", Stage.PERCENTAGE, Percentage(of="time", value=25.0), False),
    ("100% of time", Stage.PERCENTAGE, Percentage(of="time", value=100.0), False),
    ("enabled", Stage.ENABLED, None, False),
    ("default enabled", Stage.ENABLED, None, True),
]
STAGE_IDS = [label for label, *_ in ROLLOUT]


def config_at(stage: Stage, percentage: Percentage | None, default_enabled: bool,
              environment: Environment = Environment.PRODUCTION,
              name: str = FLAG, actors: tuple[str, ...] = ACTORS) -> MergedConfig:
    gates = stage_gates(stage, actors, percentage, environment)
    state = FlagState(stage=stage, default_enabled=default_enabled, gates=gates)
    return MergedConfig(schema_ref="", environment=environment, flags={name: state})
