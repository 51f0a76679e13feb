"""`flagops sync gitlab --url URL --environment ENV [--apply]`: make GitLab's live feature flags
match the repository. Without --apply it prints the plan and changes nothing."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from validator.build import MergedConfig, build_config
from validator.digits import whole_number
from validator.engines.bucketing import bucketed_as_written
from validator.errors import UserError
from validator.export import bucketing_warning
from validator.files import stem
from validator.findings import errors
from validator.model import Environment
from validator.output import emit
from validator.policy import DEFAULT_POLICY, PolicyError, load_policy
from validator.reports.escape import escape
from validator.shipping import require_committed
from validator.sync.gitlab import (
    ACTOR_PARAMETERS,
    FeaturesAnswerError,
    Live,
    Plan,
    Progress,
    UnknownActor,
    actor_parameter,
    apply,
    live_from_api,
    plan,
)
from validator.trackers.http import (
    ForeignHost,
    Settings,
    Unbounded,
    WaitTooLong,
    begin,
    session,
    transport_message,
)
from validator.tree import check_tree, report_of

T = TypeVar("T")
TOKEN_VARIABLE = "FLAGOPS_GITLAB_TOKEN"
"""An administrator's token (the features API is admin-only); CI_JOB_TOKEN cannot write it."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    config, broken = _config(Path(args.root), Environment(args.environment),
                             allow_dirty=args.allow_dirty)
    settings = Settings.from_env(os.environ)
    progress = Progress()
    try:
        steps = sync(_client(args.url, settings), config, apply_changes=args.apply,
                     progress=progress)
    except _gitlab_errors() as error:
        said = transport_message(error, settings)
        out.write(_progress_lines(progress))
        raise UserError(f"GitLab at {args.url}: {said or error}") from None
    steps = Plan(steps.steps, tuple(name for name in steps.unknown if name not in broken),
                 steps.unsynced + tuple(sorted(broken.items())))
    out.write(_render(steps, args, applied=args.apply))
    return 1 if steps.unsynced else 0


def sync(client: Any, config: MergedConfig, *, apply_changes: bool,
         progress: Progress | None = None) -> Plan:
    """Reads the live features, plans, and with `apply_changes` sets the plan, noting each
    step set in `progress`. `client` is a python-gitlab `Gitlab`. A flag with an actor GitLab
    cannot name is set without that actor (said in the plan), and the others as they are:
    one deleted user must not hold back every rollback."""
    listed = _read(client, client.features.list, get_all=True)
    live = live_from_api(_read(client, lambda: [feature.attributes for feature in listed]))
    found, unresolved, held = _actors_found(client, config)
    ids = {actor: flipper_id for actor, (flipper_id, _) in found.items()}
    foreign, gone = _foreign_actors(client, config, live, set(ids.values()))
    steps = plan(config, live, ids, gone, unresolved, foreign, held)
    if not apply_changes:
        return steps
    names = {actor: api_name for actor, (_, api_name) in found.items()}
    apply(steps.steps, _Features(client), names, progress)
    if any(step.opens_everyone() for step in steps.steps):
        # Flipper cleared every other gate of a flag it opened for everyone; a GitLab that
        # kept some is read again, and what it still lists beside the boolean gate goes
        listed = _read(client, client.features.list, get_all=True)
        live = live_from_api(_read(client, lambda: [f.attributes for f in listed]))
        foreign, gone = _foreign_actors(client, config, live, set(ids.values()))
        again = plan(config, live, ids, gone, unresolved, foreign, held)
        apply(again.steps, _Features(client), names, progress)
        steps = Plan(steps.steps + again.steps, steps.unknown, steps.unsynced)
    return steps


def _actors_found(client: Any, config: MergedConfig) -> tuple[
        dict[str, tuple[str, str]], dict[str, str], dict[str, str]]:
    """Each actor as GitLab lists and finds it (`_flipper_id`); the flags with an actor it
    cannot name, each with why (the first such actor); and the flags with an actor GitLab
    could not be asked about (a 500, a timeout): those are left as they are, and every other
    flag goes on (a rollback must not wait on the look-up of another flag's actor)."""
    found: dict[str, tuple[str, str]] = {}
    unknown: dict[str, str] = {}
    failed: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    held: dict[str, str] = {}
    for name, state in config.flags.items():
        for actor in state.gates.actors:
            if actor not in found and actor not in unknown and actor not in failed:
                try:
                    found[actor] = _flipper_id(client, actor)
                except UnknownActor as error:
                    unknown[actor] = str(error)
                except _lookup_errors() as error:
                    failed[actor] = (f"left as it is: GitLab could not be asked about actor "
                                     f"{actor!r} ({error})")
            if actor in failed:
                held.setdefault(name, failed[actor])
            elif actor in unknown:
                unresolved.setdefault(name, unknown[actor])
    return found, {n: why for n, why in unresolved.items() if n not in held}, held


def _progress_lines(progress: Progress) -> str:
    """What a sync that failed had set, and the step it failed at."""
    lines = [f"applied before the error: {escape(step.text())}" for step in progress.applied]
    if progress.setting is not None:
        lines.append(f"failed while setting: {escape(progress.setting.text())} (it may or may "
                     "not have been set)")
    return "".join(line + "\n" for line in lines)


def _foreign_actors(client: Any, config: MergedConfig, live: dict[str, Live],
                    known: set[str]) -> tuple[dict[str, str], frozenset[str]]:
    """Live actors of the repository's flags that the repository does not list, each by its
    Flipper id (User:50) to the actor as the API finds it (User:43, when 43 is user 50's
    username), so that a step can remove it through the API; and those no step can name:
    GitLab no longer has them (a deleted user's gate stays in Flipper's table), or theirs is
    no id. Keyed by Flipper id, never by the name: a username or path of digits is the
    repository's name of another actor (its User:43 is user 43)."""
    found: dict[str, str] = {}
    gone: set[str] = set()
    for name in config.flags:
        for flipper_id in sorted(live[name].actors - known if name in live else ()):
            kind, _, digits = flipper_id.partition(":")
            number = whole_number(digits)
            if kind not in ACTOR_PARAMETERS:
                continue  # the plan clears every gate for it (no parameter names it)
            if number is None:
                # not an id GitLab gave (User:alice, set in a console): sent as listed,
                # `user=alice` would remove user alice's own gate (User:42), the listed one
                gone.add(flipper_id)
                continue
            parameter = ACTOR_PARAMETERS[kind]
            try:
                item = _existing(client, _manager(client, parameter), number)
            except _lookup_errors():
                item = None  # as a deleted user's: the plan clears every gate, sets the rest
            if item is None:
                gone.add(flipper_id)
                continue
            found[flipper_id] = f"{kind}:{_text(item, _NAMED_BY[parameter])}"
    return found, frozenset(gone)


_NAMED_BY = {"user": "username", "project": "path_with_namespace", "group": "full_path"}
"""The attribute by which the features API finds each kind of actor (its parameter): a user
by username, a project or group by its full path, never by id."""


def _manager(client: Any, parameter: str) -> Any:
    """python-gitlab's manager of the users, projects or groups an actor parameter names."""
    return {"user": client.users, "project": client.projects, "group": client.groups}[parameter]


def _existing(client: Any, manager: Any, ref: int | str) -> Any:
    """The user, project or group with this id (a project or group also by path); None when
    GitLab answers 404."""
    import gitlab

    try:
        return _read(client, manager.get, ref)
    except gitlab.exceptions.GitlabGetError as error:
        if error.response_code == 404:
            return None
        raise


def _read(client: Any, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One read through python-gitlab, with its own budget of requests (`http.begin`: a next
    page that links to itself was followed without end, a page without items by recursion),
    which builds objects from whatever GitLab answered: an object where a list belongs, null
    or a list of numbers are no features API, said so in one line (not a KeyError or
    TypeError from inside the library)."""
    import gitlab

    begin(client.session)
    try:
        return call(*args, **kwargs)
    except (gitlab.exceptions.GitlabParsingError, TypeError, KeyError, ValueError,
            AttributeError, RecursionError):
        raise FeaturesAnswerError("not the objects it lists") from None


def _text(item: Any, key: str) -> str:
    """A text attribute of an object GitLab answered with; the answer is the server's."""
    value = item.attributes.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise FeaturesAnswerError(f"GitLab answered a {type(item).__name__} without its {key}")
    return str(value)


def _config(root: Path, environment: Environment, *,
            allow_dirty: bool) -> tuple[MergedConfig, dict[str, str]]:
    """The config of every flag whose files read cleanly, and each flag left out, with why. A
    rollback must reach GitLab while another file is broken (pushed round the gate) or the
    policy unreadable (the gate passes it then): a flag left out is left as it is live (never
    deleted, never turned off), and the command exits 1 naming it. An unreadable policy is
    read as the defaults here (the sync takes nothing else from it but the bucketing to warn
    about). `build` and `export` write no partial config: a consumer reads a flag missing
    from one as its own default."""
    try:
        policy = load_policy(root)
    except PolicyError as error:
        print(f"flagops: warning: {escape(error.finding.message)} (pyproject.toml); synced by "
              "the default policy", file=sys.stderr)
        policy = DEFAULT_POLICY
    checked = check_tree(root, policy, [], with_data=True)
    report = report_of(checked, root)
    if report.findings:
        emit(report, [("text", None)], sys.stderr)
    require_committed(root, "sync", allow_dirty=allow_dirty)
    broken = {finding.flag or stem(finding.path): f"left as it is: {finding.path} has an error "
              f"({finding.rule})" for finding in reversed(errors(report.findings))}
    flags = [flag for flag in checked.flag_values() if flag.name not in broken]
    config = build_config(flags, environment, schema_ref="")[0]
    mismatch = bucketing_warning("flipper", policy.bucketing, config)  # GitLab runs Flipper
    if mismatch:
        print(f"flagops: warning: GitLab's {escape(mismatch)}", file=sys.stderr)
    return config, broken


def _client(url: str, settings: Settings) -> Any:
    """python-gitlab with the trackers' HTTP settings: a timeout on every request (its own
    default waits forever), bounded retries, and a session that sends nothing outside `url`'s
    origin (an administrator's token must not follow a redirect to another host)."""
    import gitlab

    return gitlab.Gitlab(url, private_token=os.environ.get(TOKEN_VARIABLE) or None,
                         timeout=settings.timeout, retry_transient_errors=False,
                         session=session(settings, url), keep_base_url=True)


def _gitlab_errors() -> tuple[type[Exception], ...]:
    import gitlab
    import requests

    return (gitlab.exceptions.GitlabError, requests.RequestException, ForeignHost, Unbounded,
            WaitTooLong, FeaturesAnswerError)


def _lookup_errors() -> tuple[type[Exception], ...]:
    """What one actor's look-up may fail with (a 500, a timeout, an answer that is no user):
    that actor's flag is then synced without it, or a live gate no one can name is cleared
    with the flag's others, and every other flag goes on. A rollback must not wait on the
    look-up of another flag's actor."""
    import gitlab
    import requests

    return (gitlab.exceptions.GitlabError, requests.RequestException, ForeignHost, Unbounded,
            WaitTooLong, FeaturesAnswerError)


def _flipper_id(client: Any, actor: str) -> tuple[str, str]:
    """GitLab lists actors by Flipper id (Project:278964); the repository names them by path,
    or by that id. Also the actor as the features API finds it when set: GitLab answers a
    project or group asked for by id, but `project=278964` in a POST is "not found" (it takes
    full paths only), so the path GitLab answered with is what a step sends."""
    parameter, ref = actor_parameter(actor)
    kind = actor.partition(":")[0]
    if parameter == "user" and bucketed_as_written(actor, "flipper"):
        # User:42 is Flipper's id for user 42, as flagops buckets it: that user, by id
        user = _existing(client, client.users, int(ref))
        if user is None:
            raise UnknownActor(f"actor {actor!r}: no user with id {ref} on GitLab")
        return f"{kind}:{_text(user, 'id')}", f"{kind}:{_text(user, _NAMED_BY[parameter])}"
    if parameter == "user":
        found = list(_read(client, client.users.list, username=ref, get_all=False))
        if not found:
            raise UnknownActor(f"actor {actor!r}: no user {ref!r} on GitLab")
        return f"{kind}:{_text(found[0], 'id')}", actor
    item = _existing(client, _manager(client, parameter), ref)
    if item is None:
        raise UnknownActor(f"actor {actor!r}: no {parameter} {ref!r} on GitLab")
    return f"{kind}:{_text(item, 'id')}", f"{kind}:{_text(item, _NAMED_BY[parameter])}"


class _Features:
    """The features API through python-gitlab; `key` travels as a request parameter."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def set(self, name: str, value: bool | str, **params: str) -> None:
        begin(self._client.session)
        self._client.features.set(name, value, **params)


def _render(steps: Plan, args: argparse.Namespace, *, applied: bool) -> str:
    lines = [f"flagops sync gitlab: {args.environment} at {args.url}"]
    lines += [f"  {escape(step.text())}" for step in steps.steps] or ["  (no changes)"]
    if steps.unknown:
        lines.append("not in this repository, left alone: " +
                     ", ".join(escape(name) for name in steps.unknown))
    lines += [f"not synced as its file says: {escape(name)}: {escape(why)}"
              for name, why in steps.unsynced]
    if steps.steps:
        lines.append(f"applied {len(steps.steps)} step(s)" if applied
                     else "plan only: nothing changed; --apply sets it")
    return "\n".join(lines) + "\n"
