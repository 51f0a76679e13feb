"""GitLab ChatOps commands that move a flag between two rollout states (Flipper gates)."""

from __future__ import annotations

from dataclasses import dataclass

from validator.model import STAGE_EXPOSURE, Environment, Exposure, Percentage
from validator.transitions import RolloutState

_PREFIX = "/chatops run feature"
_ACTOR_OPTIONS = {"Project": "--project", "Group": "--group", "User": "--user",
                  "Namespace": "--namespace", "Repository": "--repository"}


@dataclass(frozen=True, slots=True)
class Gates:
    """A flag's Flipper gates in one environment."""

    boolean: bool = False
    actors: frozenset[str] = frozenset()
    percentage: Percentage | None = None

    @property
    def any(self) -> bool:
        return self.boolean or bool(self.actors) or self.percentage is not None


def gates(state: RolloutState | None, environment: Environment) -> Gates:
    if state is None:
        return Gates()
    exposure = STAGE_EXPOSURE[state.stage][environment]
    if exposure is Exposure.ON:
        return Gates(boolean=True)
    if exposure is Exposure.ACTORS:
        return Gates(actors=state.actors)
    if exposure is Exposure.ACTORS_AND_PERCENTAGE:
        return Gates(actors=state.actors, percentage=state.percentage)
    return Gates()


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
    if not new.any:
        return [f"{_PREFIX} set {name} false"]
    if new.boolean:
        return [f"{_PREFIX} set {name} true"]
    found: list[str] = []
    if old.boolean:
        found.append(f"{_PREFIX} set {name} false")
        old = Gates()
    found += [f"{_PREFIX} set {_actor_option(a)} {name} true"
              for a in sorted(new.actors - old.actors)]
    found += [f"{_PREFIX} set {_actor_option(a)} {name} false"
              for a in sorted(old.actors - new.actors)]
    if new.percentage != old.percentage:
        found.append(_percentage(name, new.percentage, old.percentage))
    return found


def _percentage(name: str, new: Percentage | None, old: Percentage | None) -> str:
    current = new or old
    assert current is not None
    suffix = " --actors" if current.of == "actors" else ""
    value = new.value if new is not None else 0
    return f"{_PREFIX} set {name} {value:g}{suffix}"


def _actor_option(actor: str) -> str:
    kind, _, identifier = actor.partition(":")
    option = _ACTOR_OPTIONS.get(kind)
    return f"{option}={identifier}" if option else f"--actor={actor}"
