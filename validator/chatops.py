"""GitLab ChatOps commands that move a flag between two rollout states (Flipper gates)."""

from __future__ import annotations

from validator.digits import decimal_text, whole_number
from validator.engines.bucketing import bucketed_as_written
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
    """The commands that take the flag from `old` to `new`, staging first. A flag removed
    while closed is set false, not deleted: GitLab answers a feature it does not store from
    its code's definition, whose `default_enabled` may still be true (`sync gitlab` stores
    such a flag off too). A released flag's removal deletes it: its code is gone, and a
    stored false would turn off whatever still read it."""
    if new is None and old is not None and old.default_enabled:
        return [f"{_PREFIX} delete {name} --staging", f"{_PREFIX} delete {name}"]
    if new is None:  # stored off even where it was off: GitLab may not store it at all
        return [f"{_PREFIX} set {name} false --staging", f"{_PREFIX} set {name} false"]
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
    """A percentage gate set, or removed with 0.0: GitLab's features API reads a value of 0
    as false, and false disables the whole flag, its actors' gates too (a rollback from a
    percentage to beta would have taken the flag from the beta actors as well)."""
    if old == new:
        return []
    suffix = f" {option}" if option else ""
    return [f"{_PREFIX} set {name} {decimal_text(new) if new else '0.0'}{suffix}"]


def _actor_option(actor: str) -> str:
    """The option naming the actor as ChatOps finds it: a user by username, a project or group
    by path, several of them at commas. Where the file does not name it so (`User:42` is
    Flipper's id of user 42; `User:a,b` is one actor here), the option holds a placeholder
    that names no one, not a command that gives the flag to someone else (a user named 42,
    or users a and b)."""
    kind, _, identifier = actor.partition(":")
    option = _ACTOR_OPTIONS.get(kind)
    if option is None:
        return f"--actor={actor}"
    if "," in identifier:
        return f"{option}=<not-one-GitLab-{kind.lower()}:{identifier}>"
    if bucketed_as_written(actor, "flipper") or whole_number(identifier) is not None:
        return f"{option}=<{_BY_NAME.get(kind, 'path')}-of-{actor}>"
    return f"{option}={identifier}"


_BY_NAME = {"User": "username", "Project": "path", "Group": "path"}
"""How ChatOps finds the actors a flag file may name by GitLab's numeric id; every other kind
(`--namespace`, `--repository`) by path. A number is never passed as a name: `--namespace=2`
gives the flag to whoever has the path `2`."""
