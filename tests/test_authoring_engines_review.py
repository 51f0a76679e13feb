"""Attack review of the authoring commands and the engine exports: each test shows a hole that
the code had, through the command line or the engine's own client where possible."""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import require
from engine_stages import FLAG, config_at
from gitlab_features import PROJECTS, GitLabFeatures, admin_client, mounted
from gitrepo import Repo, flag_yaml
from werkzeug import Request, Response

from validator.model import Percentage, Stage

PAST = int(time.time()) - 30 * 86400
HAS_GITLAB = all(importlib.util.find_spec(name) for name in ("gitlab", "pytest_httpserver"))


class FlipperGitLab(GitLabFeatures):
    """GitLab's POST /features/:name as GitLab runs it (lib/api/features.rb, Flipper's
    ActiveRecord adapter), where tests/gitlab_features.py is kinder: `value` is read as text,
    'true' → true and '0' or 'false' → false; anything else must be digits with an optional
    '.fraction' (to_f with a '.', else to_i; an exponent is a 400); true without an actor
    enables the boolean gate and clears every other (`clear: true`); false without an actor
    clears every gate, whatever `key` says; a percentage on a fully-on flag is refused; a
    project or group is found by its full path only, never by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, set[str]] = {}

    def __call__(self, request: Request) -> Response:
        answer = super().__call__(request)
        if request.method == "GET" and request.path.rstrip("/").endswith("/features"):
            listed = json.loads(answer.get_data())
            for feature in listed:
                if self.groups.get(feature["name"]) and feature["name"] in self.features:
                    feature["gates"].append({"key": "groups",
                                             "value": sorted(self.groups[feature["name"]])})
            answer.set_data(json.dumps(listed))
        return answer

    def _set(self, name: str, request: Request) -> Response:
        params = {**request.args, **(request.get_json(silent=True) or request.form or {})}
        raw = params["value"]
        text = "true" if raw is True else "false" if raw is False else str(raw)
        if "feature_group" in params:  # a Flipper group (GitLab's gitlab_team_members, ...)
            feature = self.features.setdefault(name, _feature())
            groups = self.groups.setdefault(name, set())
            (groups.add if text == "true" else groups.discard)(str(params["feature_group"]))
            return _answer(feature.listed(name), 201)
        for parameter in ("project", "group"):
            if parameter in params and str(params[parameter]).isdigit():
                return _answer({"message": f"{params[parameter]} is not found!"}, 400)
        if text not in ("true", "false", "0") and not re.fullmatch(r"\d+(\.\d+)?", text):
            return _answer({"message": f"Value must be boolean or numeric, got {text}"}, 400)
        gated = any(parameter in params for parameter in ("user", "group", "project"))
        if text in ("true", "false", "0") and not gated:
            self.groups.pop(name, None)
        if text == "true" and not gated:
            self.features[name] = feature = self.features.setdefault(name, type(
                self.features.get(name) or _feature())())
            feature.actors.clear()
            feature.percentages.clear()
            feature.boolean = True
            return _answer(feature.listed(name), 201)
        if text in ("false", "0") and not gated:
            self.features[name] = feature = _feature()
            return _answer(feature.listed(name), 201)
        if not gated:
            current = self.features.get(name)
            if current is not None and current.boolean:
                return _answer({"message": "Cannot enable percentage for a fully-enabled flag"},
                               500)
            value = float(text) if "." in text else int(text)
            feature = self.features.setdefault(name, _feature())
            key = str(params.get("key") or "percentage_of_time")
            if value:
                feature.percentages[key] = float(value)
            else:  # a percentage of 0.0: Flipper keeps it, no actor is inside; GET hides it
                feature.percentages.pop(key, None)
            return _answer(feature.listed(name), 201)
        return super()._set(name, request)


def _feature() -> Any:
    from gitlab_features import Feature

    return Feature()


def _answer(data: Any, status: int) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture
def flipper_gitlab(httpserver: Any) -> FlipperGitLab:
    return mounted(httpserver, FlipperGitLab())


@pytest.fixture
def gitlab_client(httpserver: Any) -> Any:
    require(HAS_GITLAB, "needs python-gitlab and pytest-httpserver")
    return admin_client(httpserver)


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


SYNC_ACTORS = ("Project:gitlab-org/gitlab", "Group:gitlab-org/gitlab-com", "User:alice")
SYNC_WALK = [
    ("beta", Stage.BETA, None), ("10%", Stage.PERCENTAGE, 10.0),
    ("50%", Stage.PERCENTAGE, 50.0), ("100%", Stage.PERCENTAGE, 100.0),
    ("enabled", Stage.ENABLED, None), ("50% again", Stage.PERCENTAGE, 50.0),
    ("beta again", Stage.BETA, None), ("0.00001%", Stage.PERCENTAGE, 0.00001),
    ("beta at last", Stage.BETA, None),
]


def _live_gates(server: FlipperGitLab) -> tuple[bool, frozenset[str], dict[str, float]]:
    feature = server.features.get(FLAG)
    if feature is None:
        return False, frozenset(), {}
    return feature.boolean, frozenset(feature.actors), dict(feature.percentages)


def test_sync_walks_a_rollout_on_gitlabs_own_rules(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # GitLab reads value=0 as false, and false without an actor clears every gate: the
    # "remove the percentage" step after `value=true` (100% → enabled) turned the flag off for
    # everyone; 0.00001 was sent as "1e-05", which GitLab refuses (older ones read 1%).
    from validator.commands.sync import sync

    for label, stage, share in SYNC_WALK:
        percentage = None if share is None else Percentage(of="actors", value=share)
        config = config_at(stage, percentage, False, actors=SYNC_ACTORS)
        writes = len(flipper_gitlab.writes)
        sync(gitlab_client, config, apply_changes=True)
        if label == "enabled":  # one write: nobody in the 100% loses the flag on the way
            assert flipper_gitlab.writes[writes:] == [f"POST {FLAG}"]
        gates = config.flags[FLAG].gates
        ids = {"Project:gitlab-org/gitlab": "Project:278964", "Group:gitlab-org/gitlab-com":
               "Group:6543", "User:alice": "User:42"}
        wanted = (gates.boolean, frozenset(ids[actor] for actor in gates.actors),
                  {"percentage_of_actors": share} if share and not gates.boolean else {})
        assert _live_gates(flipper_gitlab) == wanted, label
        assert sync(gitlab_client, config, apply_changes=False).steps == (), label


def test_sync_names_an_actor_written_by_its_id_by_its_path(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # `Project:278964` is Flipper's own id; GitLab's API finds a project by its full path only,
    # so `project=278964` was a 400 in the middle of --apply.
    from validator.commands.sync import sync

    number = PROJECTS["gitlab-org/gitlab"]
    config = config_at(Stage.BETA, None, False, actors=(f"Project:{number}", "User:alice"))
    sync(gitlab_client, config, apply_changes=True)
    assert _live_gates(flipper_gitlab) == (False, frozenset({f"Project:{number}", "User:42"}),
                                           {})
    assert sync(gitlab_client, config, apply_changes=False).steps == ()


# Authoring commands, through the command line in real repositories.

def _repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("keep")
    repo.commit("keep at off", at=PAST)
    return repo


def test_new_never_writes_through_a_flags_folder_that_is_a_symlink(
        tmp_path: Path, run_cli: Any) -> None:
    # `flags` a symlink to a folder outside the repository: walk_flags saw no flag there (it
    # never follows one), and `new` wrote flags/NAME.yml into the folder it points to.
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("README", "x\n")
    repo.commit("start", at=PAST)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo.path / "flags").symlink_to(outside)
    code, _, err = run_cli("-C", str(repo.path), "new", "zzz", "-t", "beta", "-g", "group::a",
                           "-M", "1.0")
    assert code == 1 and "symlink" in err and len(err.strip().splitlines()) == 1, err
    assert list(outside.iterdir()) == []


def test_sync_closes_a_flipper_group_gate_the_repository_does_not_have(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # A feature group set by hand (`feature set --feature-group=gitlab_team_members`) opened
    # the flag for that group; sync read no `groups` gate, planned "(no changes)" and left it.
    from validator.commands.sync import sync

    config = config_at(Stage.BETA, None, False, actors=("User:alice",))
    sync(gitlab_client, config, apply_changes=True)
    gitlab_client.features.set(FLAG, True, feature_group="gitlab_team_members")
    assert flipper_gitlab.groups[FLAG] == {"gitlab_team_members"}
    steps = sync(gitlab_client, config, apply_changes=True).steps
    assert [step.text() for step in steps] == [
        f"{FLAG}: disable for feature group gitlab_team_members"]
    assert not flipper_gitlab.groups.get(FLAG)
    assert _live_gates(flipper_gitlab) == (False, frozenset({"User:42"}), {})
    assert sync(gitlab_client, config, apply_changes=False).steps == ()


def test_promote_refuses_a_file_whose_path_the_gate_refuses(
        tmp_path: Path, run_cli: Any) -> None:
    # A control character in the folder's name is FO010 at the gate, for any change to the
    # file; promote judged the file and the step but not the path, so it wrote a step that
    # `validate --base HEAD` refuses. A rollback there still writes.
    repo = _repo(tmp_path)
    relative = "flags/te am\n[*]/demo.yml"
    repo.write(relative, flag_yaml("demo", "beta", actors=("User:1",)))
    repo.commit("demo at beta", at=PAST + 60)
    before = (repo.path / relative).read_bytes()
    code, _, err = run_cli("-C", str(repo.path), "promote", "demo")
    assert code == 1 and "FO010" in err, err
    assert (repo.path / relative).read_bytes() == before
    code, _, err = run_cli("-C", str(repo.path), "rollback", "demo")
    assert code == 0, err
    assert b"stage: off" in (repo.path / relative).read_bytes()


def test_sync_reads_a_user_written_by_id_as_that_user(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # `User:42` is the Flipper id flagops buckets (bucketed_as_written): user 42 is alice.
    # sync looked it up as the username "42": no such user, so no sync at all (and with a
    # user named "42" the flag would have gone to someone else).
    from validator.commands.sync import sync

    config = config_at(Stage.BETA, None, False, actors=("User:42",))
    sync(gitlab_client, config, apply_changes=True)
    assert _live_gates(flipper_gitlab) == (False, frozenset({"User:42"}), {})
    assert sync(gitlab_client, config, apply_changes=False).steps == ()


# Engines: the exported file and what each actor gets.

@pytest.mark.parametrize(("policy", "fmt", "warned"), [
    ("", "flagd", True), ('bucketing = "flagd"\n', "flagd", False),
    ('bucketing = "flagd"\n', "flipper", True), ("", "flipper", False)])
def test_export_says_when_the_engine_buckets_other_actors_than_flagops(
        tmp_path: Path, run_cli: Any, policy: str, fmt: str, warned: bool) -> None:
    # With the default policy (Flipper's crc32) the flagd export lets other actors into a
    # percentage than `flagops eval` and the survey page, and said nothing about it.
    repo = _repo(tmp_path)
    repo.write("pyproject.toml", "[tool.flagops]\n" + policy)
    repo.write_flag("demo", "percentage", actors=("User:1",), percentage=("actors", 10.0))
    repo.commit("demo at 10%", at=PAST)
    code, _, err = run_cli("-C", str(repo.path), "export", "--format", fmt, "-o", "out.json")
    assert code == 0, err
    assert ("buckets" in err) is warned, err
    if warned:
        assert "demo" in err and len(err.strip().splitlines()) == 1


def test_sync_says_when_gitlab_buckets_other_actors_than_the_policy(
        tmp_path: Path, run_cli: Any, flipper_gitlab: FlipperGitLab, httpserver: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    require(HAS_GITLAB, "needs python-gitlab and pytest-httpserver")
    monkeypatch.setenv("FLAGOPS_GITLAB_TOKEN", "admin-token")
    repo = _repo(tmp_path)
    repo.write("pyproject.toml", '[tool.flagops]\nbucketing = "flagd"\n')
    repo.write_flag("demo", "percentage", actors=("User:alice",), percentage=("actors", 10.0))
    repo.commit("demo at 10%", at=PAST)
    url = httpserver.url_for("/").rstrip("/")
    code, out, err = run_cli("-C", str(repo.path), "sync", "gitlab", "--url", url,
                             "--environment", "production")
    assert code == 0, err
    assert "GitLab's flipper buckets" in err and "demo" in err, err
    assert "plan only" in out


@pytest.mark.parametrize("command", [("promote", "demo", "--actor", "User:" + "9" * 5000),
                                     ("validate", "--base", "HEAD")])
def test_an_actor_id_of_thousands_of_digits_is_no_internal_error(
        tmp_path: Path, run_cli: Any, command: tuple[str, ...]) -> None:
    # bucketed_as_written asked int() for the actor's digits: over 4,300 of them int() raises,
    # and promote, validate and even a rollback at a percentage exited 3.
    big = "User:" + "9" * 5000
    repo = _repo(tmp_path)
    repo.write_flag("demo", "percentage", actors=("User:1",), percentage=("actors", 10.0))
    repo.commit("demo at 10%", at=PAST + 60)
    if command[0] == "validate":
        repo.write_flag("demo", "percentage", actors=("User:1", big),
                        percentage=("actors", 10.0))
    code, _, err = run_cli("-C", str(repo.path), *command)
    assert code == 0 and "internal error" not in err, err
    if command[0] == "promote":
        repo.commit("big actor", at=PAST + 120)
        code, _, err = run_cli("-C", str(repo.path), "rollback", "demo", "--remove-actor", big)
        assert code == 0, err


def _new_on_a_terminal(repo: Repo, typed: bytes) -> tuple[int, bytes]:
    """`flagops new asked -M 1.0` on a pseudo-terminal, `typed` as the answers."""
    from test_authoring_commands import new_on_a_terminal

    return new_on_a_terminal(repo, typed)[:2]


@pytest.mark.parametrize("answer", [b"\xc2\xb2", b"9" * 5000, b"\xff\xfe"],
                         ids=["superscript-two", "5000-digits", "not-utf-8"])
def test_new_asks_again_for_an_answer_that_is_no_number_it_can_read(
        tmp_path: Path, answer: bytes) -> None:
    # "²".isdigit() holds and int("²") raises, as int() does for 5,000 digits: the answer at
    # the type prompt was an internal error (exit 3); bytes that are not UTF-8 too.
    repo = _repo(tmp_path)
    code, shown = _new_on_a_terminal(repo, answer + b"\nbeta\ngroup::a\n")
    assert code == 0, shown
    assert b"internal error" not in shown and b"not a valid type" in shown


def test_sync_clears_a_live_actor_the_api_cannot_name(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # `Feature.enable(:flag, :instance)` in a Rails console lists FlipperGitlabInstance:... as
    # an actor, which the API's user/group/project cannot name: --apply set some steps, then
    # stopped with an error at that actor, and so did every run after it.
    from validator.commands.sync import sync

    config = config_at(Stage.BETA, None, False, actors=("User:alice",))
    sync(gitlab_client, config, apply_changes=True)
    flipper_gitlab.features[FLAG].actors.add("FlipperGitlabInstance:instance")
    flipper_gitlab.features[FLAG].percentages["percentage_of_actors"] = 5.0
    sync(gitlab_client, config, apply_changes=True)
    assert _live_gates(flipper_gitlab) == (False, frozenset({"User:42"}), {})
    assert sync(gitlab_client, config, apply_changes=False).steps == ()


@pytest.mark.parametrize("force", [False, True])
def test_new_over_a_fifo_is_refused_not_a_hang(tmp_path: Path, force: bool) -> None:
    # The last look before the rename opened the target without O_NONBLOCK: a FIFO there
    # (walk_flags lists it as no flag file) blocked `new` until someone wrote to it.
    import os
    import subprocess
    import sys

    from conftest import REPO_ROOT
    from gitrepo import git_env

    repo = _repo(tmp_path)
    os.mkfifo(repo.path / "flags" / "zz.yml")
    command = [sys.executable, "-m", "validator", "-C", str(repo.path), "new", "zz", "-t",
               "beta", "-g", "group::a", "-M", "1.0", *(["--force"] if force else [])]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, env=git_env(tmp_path / "home"),
                              capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("flagops new hung on a FIFO where the flag file goes")
    assert done.returncode == 1, done.stderr
    assert "not a regular file" in done.stderr and len(done.stderr.splitlines()) == 1
    assert sorted(os.listdir(repo.path / "flags")) == ["keep.yml", "zz.yml"]


ODD_ACTORS = ("User:7", "user:7", "Project:a:b", "User:ü", "Project:日本/x", "User:İ",
              "User:\uff11", "Group:a b", "User:true", "User:~")


@pytest.mark.parametrize("share", [0.0001, 0.0005, 12.3455, 12.34545, 99.9995, 99.9999])
@pytest.mark.parametrize("environment", ["production", "staging"])
def test_flagd_gives_every_odd_actor_what_flagops_gives(
        tmp_path: Path, share: float, environment: str) -> None:
    # Found safe: many decimals (flagd's whole weights, rounded as flagops rounds them), ids
    # with ':', unicode and case variants, listed actors inside the percentage, staging and
    # production, a caller default of true: the real flagd provider agrees with flagops.
    require(importlib.util.find_spec("openfeature") is not None, "needs openfeature")
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
    from openfeature.evaluation_context import EvaluationContext

    from survey_renderer.gate import evaluate
    from validator.export import export_text
    from validator.model import Environment

    listed = ("User:7", "Project:a:b", "User:ü", "User:15")
    actors = [f"User:{n}" for n in range(400)] + list(ODD_ACTORS)
    for stage in (Stage.PERCENTAGE, Stage.BETA, Stage.STAGING):
        percentage = Percentage(of="actors", value=share) if stage is Stage.PERCENTAGE else None
        config = config_at(stage, percentage, False, environment=Environment(environment),
                           actors=listed)
        path = tmp_path / f"{stage}.json"
        path.write_text(export_text("flagd", config), encoding="utf-8")
        api.set_provider_and_wait(FlagdProvider(resolver_type=ResolverType.FILE,
                                                offline_flag_source_path=str(path)))
        client = api.get_client()
        gates = config.flags[FLAG].gates
        try:
            apart = [actor for actor in actors for default in (False, True)
                     if client.get_boolean_value(FLAG, default, EvaluationContext(actor))
                     != evaluate(FLAG, gates, actor, bucketing="flagd").enabled]
        finally:
            api.shutdown()
        assert apart == [], f"{stage}: {apart[:5]}"


def test_sync_clears_a_live_actor_gitlab_no_longer_has(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any) -> None:
    # A deleted user's gate stays in Flipper's table (User:99): looking it up answered 404,
    # so every sync stopped there, before any step, and the flag kept that gate for good.
    from validator.commands.sync import sync

    config = config_at(Stage.BETA, None, False, actors=("User:alice",))
    sync(gitlab_client, config, apply_changes=True)
    flipper_gitlab.features[FLAG].actors.add("User:99")
    sync(gitlab_client, config, apply_changes=True)
    assert _live_gates(flipper_gitlab) == (False, frozenset({"User:42"}), {})
    assert sync(gitlab_client, config, apply_changes=False).steps == ()


@pytest.mark.parametrize("actor", ["Project:gitlab-org/nosuch", "Group:nosuch", "User:77"])
def test_sync_names_a_repository_actor_gitlab_does_not_have(
        flipper_gitlab: FlipperGitLab, gitlab_client: Any, actor: str) -> None:
    # A 404 for the repository's own actor surfaced as "404 Not Found", naming no actor.
    # The flag is set without it, said so (here: stored off, nobody else is listed); the
    # others are synced (test_sync_gitlab).
    from validator.commands.sync import sync

    config = config_at(Stage.BETA, None, False, actors=(actor,))
    done = sync(gitlab_client, config, apply_changes=True)
    assert [(flag, why.startswith(f"actor {actor!r}: no ")) for flag, why in done.unsynced] == [
        (FLAG, True)]
    assert [step.text() for step in done.steps] == [
        f"{FLAG}: disable for everyone (clears all gates)"]
