"""Sync to a live GitLab through its features API (GET/POST/DELETE /api/v4/features).

The core is pure: the live features (as the API lists them) and the repository's gates in, a
plan out. `apply` is the one place that writes, through a `FeaturesApi` (python-gitlab in
production, anything with the same three calls in tests). Flipper semantics, as GitLab runs them
(lib/api/features.rb, Flipper's ActiveRecord adapter): `value=true` without an actor opens the
boolean gate; `value=false` without an actor clears every gate of the feature, and so does
`value=0` whatever its `key` ('0' is read as false); with an actor it adds or removes that
actor; a percentage is `value=N` with `key=percentage_of_actors|percentage_of_time`, read as
digits with an optional fraction (an exponent is refused, older GitLabs read "1e-05" as 1), so
a percentage is removed with "0.0", which Flipper keeps as a share nobody is inside. Opening
the boolean gate clears the others, so a flag going fully on takes that one step (nobody
loses the flag on the way), and whatever a GitLab then still lists beside it is removed.
A flag that opens for no one is stored as off (`value=false`), never deleted: GitLab answers
a feature it does not store from the definition in its own code, whose `default_enabled` may
still be true after the repository's rollback. Every flag's narrowing steps come before any
flag's widening ones, so a sync that fails half-way has rolled back first and left no flag
wider than both its old and its new state. Flags the repository does not know are reported,
never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from validator.build import MergedConfig
from validator.digits import decimal_text
from validator.errors import UserError
from validator.gates import Gates

ACTOR_PARAMETERS = {"User": "user", "Group": "group", "Project": "project"}
"""Actor kinds the features API takes, and the parameter naming each (by username or path)."""
PERCENT_KEYS = ("percentage_of_actors", "percentage_of_time")


@dataclass(frozen=True, slots=True)
class Live:
    """One feature's gates as GET /features lists them; actors by Flipper id (Project:278964)."""

    boolean: bool = False
    actors: frozenset[str] = frozenset()
    percentages: Mapping[str, float] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()
    """Flipper groups (`feature_group`, e.g. gitlab_team_members): a flag file has none, so
    any live one opens the flag for people the repository does not, and is closed."""


@dataclass(frozen=True, slots=True)
class Step:
    flag: str
    value: bool | float = False
    key: str | None = None
    actor: str | None = None
    """The repository's actor id (Kind:username-or-path), for set steps that target one; for
    a live actor the repository does not list, its Flipper id (User:50)."""
    sent: str | None = None
    """A live actor the repository does not list as the API finds it (User:50 is sent as
    `user=43` when 43 is user 50's username): never looked up among the repository's actors,
    whose `User:43` is user 43."""
    group: str | None = None
    """A Flipper group's name, for the step that closes it."""

    def opens_everyone(self) -> bool:
        """`value=true` without an actor: Flipper clears every other gate as it opens this
        one, so what the plan then sees may differ from what it assumed."""
        return self.value is True and self.actor is None and self.group is None \
            and self.key is None

    def text(self) -> str:
        if self.key is not None:
            return f"{self.flag}: set {self.key} to {decimal_text(float(self.value))}%"
        verb = "enable" if self.value else "disable"
        if self.group is not None:
            return f"{self.flag}: {verb} for feature group {self.group}"
        if self.actor and self.sent:
            parameter, ref = actor_parameter(self.sent)
            return f"{self.flag}: {verb} for {self.actor} ({parameter}={ref})"
        return f"{self.flag}: {verb} for {self.actor}" if self.actor else \
            f"{self.flag}: {verb} for everyone" + ("" if self.value else " (clears all gates)")


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    unknown: tuple[str, ...]
    """Live features the repository has no flag for: reported, left alone."""
    unsynced: tuple[tuple[str, str], ...] = ()
    """Flags set without some of their actors, or left as they are, each with why (an actor
    GitLab cannot name, or could not be asked about)."""


@dataclass(slots=True)
class Progress:
    """What `apply` has set so far, and the step it was setting: after an error, what GitLab
    holds is said, not guessed."""

    applied: list[Step] = field(default_factory=list)
    setting: Step | None = None


class UnknownActor(UserError):
    """An actor of one flag that GitLab cannot name: that flag is synced without it, and the
    sync goes on."""


class FeaturesAnswerError(UserError):
    """GET /features answered something that is not GitLab's list of features: the answer is
    the server's, and a plan made from a misread one would set the wrong gates."""

    def __init__(self, what: str) -> None:
        super().__init__(f"an answer that is not GitLab's features API ({what})")


def live_from_api(features: Iterable[Any]) -> dict[str, Live]:
    live: dict[str, Live] = {}
    for feature in features:
        name = feature.get("name") if isinstance(feature, Mapping) else None
        if not isinstance(name, str) or not name:
            raise FeaturesAnswerError("the features list holds an entry without a name")
        gates = feature.get("gates") or []
        if not isinstance(gates, list):
            raise FeaturesAnswerError(f"feature {name!r}: its gates are not a list")
        live[name] = _live(name, gates)
    return live


def _live(name: str, gates: list[Any]) -> Live:
    boolean, actors, groups, percentages = False, frozenset[str](), frozenset[str](), {}
    for gate in gates:
        if not isinstance(gate, Mapping):
            raise FeaturesAnswerError(f"feature {name!r}: a gate is not an object")
        key, value = gate.get("key"), gate.get("value")
        if key == "boolean":
            boolean = value is True
        elif key == "actors":
            actors = _names(name, "actors", value)
        elif key == "groups":
            groups = _names(name, "groups", value)
        elif key in PERCENT_KEYS and value:
            percentages[str(key)] = _percent(name, str(key), value)
    return Live(boolean, actors, percentages, groups)


def _names(name: str, key: str, value: Any) -> frozenset[str]:
    """A set gate's members (actor ids, group names) as GitLab lists them."""
    if not isinstance(value, list | None) or not all(isinstance(item, str) for item in value or []):
        raise FeaturesAnswerError(f"feature {name!r}: its {key} are not a list of names")
    return frozenset(value or [])


def _percent(name: str, key: str, value: Any) -> float:
    """A live percentage: a number 0..100 (GitLab answers a number; a numeric string is read)."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not 0 <= number <= 100:  # NaN fails both comparisons
        raise FeaturesAnswerError(f"feature {name!r}: {key} is {value!r}, not a percentage")
    return number


def plan(config: MergedConfig, live: Mapping[str, Live],
         flipper_ids: Mapping[str, str], gone: frozenset[str] = frozenset(),
         unresolved: Mapping[str, str] | None = None,
         foreign: Mapping[str, str] | None = None,
         held: Mapping[str, str] | None = None) -> Plan:
    """The steps that make GitLab's features equal the config's gates, every narrowing step
    first. `flipper_ids` maps each repository actor (Project:gitlab-org/gitlab) to GitLab's
    Flipper id (Project:278964); `gone` names live actors GitLab no longer has, which no step
    can name; `unresolved` names the flags with an actor `flipper_ids` lacks, with why: each
    is set without those actors, so that it is never wider than its file (a rollback to a
    beta that lists a deleted user still closes the flag for everyone else). `foreign` maps
    the Flipper id of each live actor the repository does not list to that actor as the API
    finds it (User:50 to User:43, when 43 is user 50's username): a map of its own, since its
    names may be the repository's names of others (the repository's User:43 is user 43).
    `held` names the flags left as they are live, with why (an actor GitLab could not be
    asked about just now: set without it, the flag would be taken from that actor)."""
    partly = unresolved or {}
    kept = held or {}
    narrowing: list[Step] = []
    widening: list[Step] = []
    for name, state in config.flags.items():
        if name in kept:
            continue
        gates = state.gates
        if name in partly:
            gates = gates.model_copy(update={"actors": tuple(
                actor for actor in gates.actors if actor in flipper_ids)})
        narrow, widen = _flag_steps(name, gates, live.get(name), flipper_ids, gone,
                                    foreign or {})
        narrowing += narrow
        widening += widen
    unknown = tuple(sorted(set(live) - set(config.flags)))
    return Plan((*narrowing, *widening), unknown, tuple(sorted({**partly, **kept}.items())))


def _flag_steps(name: str, gates: Gates, live: Live | None, ids: Mapping[str, str],
                gone: frozenset[str] = frozenset(),
                foreign: Mapping[str, str] | None = None) -> tuple[list[Step], list[Step]]:
    """One flag's steps that take from whom has it, and those that give."""
    wanted = _percentages(gates)
    if not (gates.boolean or gates.actors or wanted):
        return ([] if live == Live() else [Step(name, False)]), []  # stored as off
    current = live or Live()
    if gates.boolean and not current.boolean:
        # Flipper: opening the boolean gate clears every other; no one loses the flag on the
        # way, as removing a percentage first would do
        return [], [Step(name, True)]
    narrow: list[Step] = []
    by_id = {ids[actor]: actor for actor in gates.actors}
    if (current.boolean and not gates.boolean) or _unnamed(current.actors - set(by_id), gone):
        narrow.append(Step(name, False))  # Flipper: clears every gate
        current = Live()
        if gates.boolean:  # open before, and to be open after: opened again, alone
            return narrow, [Step(name, True)]
    reverse = {flipper_id: actor for actor, flipper_id in ids.items()}
    narrow += [Step(name, False, actor=reverse[flipper_id]) if flipper_id in reverse else
               Step(name, False, actor=flipper_id, sent=(foreign or {}).get(flipper_id))
               for flipper_id in sorted(current.actors - set(by_id))]
    narrow += [Step(name, False, group=group) for group in sorted(current.groups)]
    widen = [Step(name, True, actor=by_id[flipper_id])
             for flipper_id in sorted(set(by_id) - current.actors)]
    for key in PERCENT_KEYS:
        share, was = wanted.get(key, 0.0), current.percentages.get(key, 0.0)
        if share != was:
            (narrow if share < was else widen).append(Step(name, share, key=key))
    return narrow, widen  # fully on already: only what was left beside the boolean gate goes


def _unnamed(actors: Iterable[str], gone: frozenset[str]) -> bool:
    """Is any of these live actors one the API cannot name (FlipperGitlabInstance:instance,
    a request or a pod, set in a Rails console; a user, project or group GitLab no longer
    has)? It goes only with every gate, so the plan clears them all and sets the rest again,
    rather than stop at it halfway through."""
    return any(actor.partition(":")[0] not in ACTOR_PARAMETERS or actor in gone
               for actor in actors)


def _percentages(gates: Gates) -> dict[str, float]:
    values = {"percentage_of_actors": gates.percentage_of_actors,
              "percentage_of_time": gates.percentage_of_time}
    return {key: value for key, value in values.items() if value}


def actor_parameter(actor: str) -> tuple[str, str]:
    """(API parameter, value) naming this actor: user=username, group=path, project=path."""
    kind, _, ref = actor.partition(":")
    if kind not in ACTOR_PARAMETERS:
        raise UnknownActor(f"actor {actor!r}: GitLab's features API takes only "
                        f"{', '.join(ACTOR_PARAMETERS)} actors")
    return ACTOR_PARAMETERS[kind], ref


class FeaturesApi(Protocol):
    def set(self, name: str, value: bool | str, **params: str) -> None: ...


def percent_value(value: float) -> str:
    """A percentage as GitLab's features API reads it: plain digits ("50", "12.34545",
    "0.00001", never "1e-05"), and "0.0" for none: "0" is GitLab's false, which clears every
    gate of the feature (the boolean and the actors too), not only this percentage."""
    return decimal_text(value) if value else "0.0"


def apply(steps: Iterable[Step], api: FeaturesApi, names: Mapping[str, str] | None = None,
          progress: Progress | None = None) -> None:
    """Sets the steps in order, each noted in `progress` as it is set. `names` maps a
    repository actor to the one GitLab's API finds (a project or group by its full path, never
    by its id: `Project:278964` is sent as `project=gitlab-org/gitlab`)."""
    noted = progress or Progress()
    for step in steps:
        noted.setting = step
        _set(step, api, names)
        noted.applied.append(step)
        noted.setting = None


def _set(step: Step, api: FeaturesApi, names: Mapping[str, str] | None) -> None:
    params: dict[str, str] = {}
    if step.sent is not None:  # a live actor the repository does not list: its own name
        parameter, ref = actor_parameter(step.sent)
        params[parameter] = ref
    elif step.actor is not None:
        parameter, ref = actor_parameter((names or {}).get(step.actor, step.actor))
        params[parameter] = ref
    if step.group is not None:
        params["feature_group"] = step.group
    value: bool | str = step.value if isinstance(step.value, bool) else ""
    if step.key is not None:
        params["key"] = step.key
        value = percent_value(float(step.value))
    api.set(step.flag, value, **params)
