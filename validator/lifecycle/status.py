"""One row per flag: where it stands, what it may do next and when, whether it has outlived
its type. Pure: flags, landing times and the clock (`now`) in, rows out, sorted so that what
needs someone's action comes first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from validator.chatops import gates
from validator.durations import minutes_text
from validator.lifecycle.lifespan import age, released_overdue, rollout_overdue
from validator.model import Environment, Flag
from validator.plan import next_soak_key, reach
from validator.policy import Policy
from validator.transitions import RolloutState, next_step


@dataclass(frozen=True, slots=True)
class Facts:
    """What git says about one flag: when its state landed, when its file was added, and
    whether code references it (None: not looked)."""

    landed_at: int | None = None
    added_at: int | None = None
    referenced: bool | None = None
    released_at: int | None = None
    """When default_enabled: true landed (None: not released, or unknown)."""


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    type: str
    state: str
    staging: str
    production: str
    since: int | None
    in_state: str
    next_step: str
    legal_at: int | None
    """When the next step's soak is over (None: unknown, the history is not here)."""
    owners: list[str]
    age: str
    stale: list[str]
    """Why the flag needs removing: past its lifespan, past intended_to_rollout_by."""
    referenced: bool | None
    action: int
    """0 stale, 1 next step legal now, 2 waiting for a soak, 3 unknown."""


def rows(flags: Mapping[str, Flag], facts: Mapping[str, Facts], policy: Policy,
         current: int | None, now: int) -> list[Row]:
    reaches: dict[ReachKey, str] = {}
    found = [row_of(flag, facts.get(name, Facts()), policy, current, now, reaches)
             for name, flag in flags.items()]
    return sorted(found, key=lambda row: (row.action, row.name))


ReachKey = tuple[object, ...]
"""What an environment's exposure is made of: stage, actors, share, environment."""


def _reach(state: RolloutState, environment: Environment, known: dict[ReachKey, str]) -> str:
    """Who the state reaches in the environment, worked out once for each distinct stage,
    actors and share (building the gates is most of a row, and most flags share them)."""
    share = state.percentage
    key: ReachKey = (state.stage, state.actors, environment, None if share is None else
                     (share.of, type(share.value), share.value))
    found = known.get(key)
    if found is None:
        found = known[key] = reach(gates(state, environment))
    return found


def row_of(flag: Flag, facts: Facts, policy: Policy, current: int | None, now: int,
           reaches: dict[ReachKey, str] | None = None) -> Row:
    """One flag's row; `reaches`: exposures already worked out for other rows."""
    known = {} if reaches is None else reaches
    state = RolloutState.of(flag).as_reached()  # what it gives: its next step is from there
    lived = age(flag, policy, current, facts.added_at, now)
    stale = [f"past its lifespan ({lived.text()})"] if lived and lived.overdue else []
    if rollout_overdue(flag, now):
        stale.append(f"past intended_to_rollout_by {flag.intended_to_rollout_by}")
    if released_overdue(state, facts.released_at, policy, now):
        stale.append(f"enabled by default for over {policy.max_released_days} days")
    legal_at = _legal_at(state, facts.landed_at, policy)
    return Row(flag.name, str(flag.type), state.describe(),
               _reach(state, Environment.STAGING, known),
               _reach(state, Environment.PRODUCTION, known), facts.landed_at,
               _since(facts.landed_at, now), next_step(state, policy), legal_at,
               list(flag.owners or ()), lived.text() if lived else "unknown", stale,
               facts.referenced, _action(stale, legal_at, now))


def _legal_at(state: RolloutState, landed_at: int | None, policy: Policy) -> int | None:
    if landed_at is None:
        return None
    if state.default_enabled:
        return landed_at  # removal waits for its cleanup, not for a soak
    minutes: int = getattr(policy.soak_minutes, next_soak_key(state))
    return landed_at + minutes * 60


def _since(landed_at: int | None, now: int) -> str:
    return "unknown" if landed_at is None else minutes_text(max(now - landed_at, 0) // 60)


def _action(stale: list[str], legal_at: int | None, now: int) -> int:
    if stale:
        return 0
    if legal_at is None:
        return 3
    return 1 if legal_at <= now else 2


def is_stale(row: Row) -> bool:
    return bool(row.stale)
