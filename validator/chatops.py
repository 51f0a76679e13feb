"""GitLab ChatOps commands that move a flag between two rollout states (Flipper gates)."""

from __future__ import annotations

from validator.digits import decimal_text
from validator.gates import Gates, stage_gates
from validator.model import Environment
from validator.transitions import RolloutState

_PREFIX = "/chatops run feature"
_ACTOR_OPTIONS = {"Project": "--project", "Group": "--group", "User": "--user",
                  "Namespace": "--namespace", "Repository": "--repository"}
_CLOSED = Gates(boolean=False, actors=(), percentage_of_actors=None, percentage_of_time=None)


def gates(state: RolloutState | None, environment: Environment) -> Gates:
    if state is None:
        return _CLOSED
    return stage_gates(state.stage, state.actors, state.percentage, environment)


def is_open(found: Gates) -> bool:
    return found != _CLOSED


def commands(name: str, old: RolloutState | None, new: RolloutState | None) -> list[str]:
    """The commands that take the flag from `old` to `new`, staging first."""
    if new is None:
        return [f"{_PREFIX} delete {name} --staging", f"{_PREFIX} delete {name}"]
    staging = _environment(name, gates(old, Environment.STAGING), gates(new, Environment.STAGING))
    production = _environment(name, gates(old, Environment.PRODUCTION),
                              gates(new, Environment.PRODUCTION))
    return [f"{command} --staging" for command in staging] + production


def _environment(name: str, old: Gates, new: Gates) -> list[str]:
    if old == new:
        return []
    if not is_open(new):
        return [f"{_PREFIX} set {name} false"]
    if new.boolean:
        return [f"{_PREFIX} set {name} true"]
    found: list[str] = []
    if old.boolean:  # `false` clears every gate; the new ones are set again below
        found.append(f"{_PREFIX} set {name} false")
        old = _CLOSED
    found += [f"{_PREFIX} set {_actor_option(a)} {name} true"
              for a in sorted(set(new.actors) - set(old.actors))]
    found += [f"{_PREFIX} set {_actor_option(a)} {name} false"
              for a in sorted(set(old.actors) - set(new.actors))]
    found += _percentage(name, "--actors", old.percentage_of_actors, new.percentage_of_actors)
    found += _percentage(name, "", old.percentage_of_time, new.percentage_of_time)
    return found


def _percentage(name: str, option: str, old: float | None, new: float | None) -> list[str]:
    if old == new:
        return []
    suffix = f" {option}" if option else ""
    return [f"{_PREFIX} set {name} {decimal_text(new or 0)}{suffix}"]


def _actor_option(actor: str) -> str:
    kind, _, identifier = actor.partition(":")
    option = _ACTOR_OPTIONS.get(kind)
    return f"{option}={identifier}" if option else f"--actor={actor}"
