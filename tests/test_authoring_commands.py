"""The authoring commands one by one: what they refuse and in which words (the validator's own,
checked against `flagops validate --base HEAD` on the same file), the soak wait in minutes and
at a clock time, `new`'s options and prompts, --json, --dry-run, and the pure step logic."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO_ROOT, CliResult
from gitrepo import EPOCH, Repo, flag_yaml, git_env

from validator.edit.judge import soak
from validator.edit.steps import PromoteRequest, RollbackRequest, StepError, promote, rollback
from validator.model import Flag, Percentage, Stage
from validator.policy import DEFAULT_POLICY, Policy
from validator.transitions import RolloutState

Run = Callable[..., CliResult]
NAME = "demo"
PATH = f"flags/{NAME}.yml"
PAST = int(time.time()) - 30 * 86400
BETA = ("Project:gitlab-org/gitlab",)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


def at(repo: Repo, stage: str, when: int = PAST, **fields: object) -> None:
    repo.write_flag(NAME, stage, **fields)  # type: ignore[arg-type]
    repo.commit(f"{NAME} at {stage}", at=when)


def flagops(run_cli: Run, repo: Repo, *args: str) -> CliResult:
    return run_cli("-C", str(repo.path), *args)


def _flag(stage: str, **fields: object) -> Flag:
    data = {"name": NAME, "type": "beta", "group": "group::a", "milestone": "1.0",
            "stage": stage, "default_enabled": False, **fields}
    return Flag.model_validate(data)


# The step logic, pure.

def test_promote_walks_the_policy_steps_and_rollback_goes_back_to_any_earlier_state() -> None:
    policy = Policy(percentage_steps=(5, 25, 100))
    flag = _flag("beta", actors=list(BETA))
    seen = []
    for _ in range(5):
        request = PromoteRequest(default_enabled=flag.stage is Stage.ENABLED)
        target = promote(flag, request, policy)
        seen.append(target.state(NAME).describe())
        flag = _flag(str(target.stage), actors=list(target.actors),
                     percentage=target.percentage.model_dump() if target.percentage else None,
                     default_enabled=target.default_enabled,
                     cleanup_issue_url="https://gitlab.com/g/p/-/issues/1")
    assert seen == ["percentage 5% of actors", "percentage 25% of actors",
                    "percentage 100% of actors", "enabled", "enabled with default_enabled"]
    with pytest.raises(StepError, match="nothing is left to promote"):
        promote(flag, PromoteRequest(), policy)
    with pytest.raises(StepError, match="--default-enabled --cleanup-issue URL"):
        promote(_flag("enabled"), PromoteRequest(), policy)
    assert rollback(flag, RollbackRequest(), policy).stage is Stage.OFF
    assert rollback(flag, RollbackRequest(to=Stage.PERCENTAGE), policy).percentage == \
        Percentage(of="actors", value=5)
    at_25 = _flag("percentage", actors=list(BETA), percentage={"of": "actors", "value": 25})
    assert rollback(at_25, RollbackRequest(to=Stage.PERCENTAGE), policy).percentage == \
        Percentage(of="actors", value=5)
    with pytest.raises(StepError, match="forward step"):
        rollback(at_25, RollbackRequest(to=Stage.ENABLED), policy)
    with pytest.raises(StepError, match="is not listed"):
        rollback(at_25, RollbackRequest(remove_actors=("User:9",)), policy)
    with pytest.raises(StepError, match="that is a rollback"):
        promote(at_25, PromoteRequest(to=Stage.BETA), policy)
    with pytest.raises(StepError, match="from stage beta on"):
        promote(_flag("off"), PromoteRequest(actors=("User:1",)), policy)


def test_a_step_goes_from_what_the_file_gives_not_from_its_label() -> None:
    """A file that breaks the rules of what a stage holds (pushed round the gate) is stepped
    from as the gate judges it (`RolloutState.as_reached`), so what promote and rollback write
    is a step the gate takes (the eighth review)."""
    cleanup = "https://gitlab.com/g/p/-/issues/1"
    released_early = _flag("percentage", percentage={"of": "actors", "value": 100},
                           default_enabled=True, cleanup_issue_url=cleanup)
    target = promote(released_early, PromoteRequest(), DEFAULT_POLICY)
    assert (target.stage, target.default_enabled) == (Stage.ENABLED, False)
    unset = _flag("percentage", actors=list(BETA))  # percentage without a percentage: beta
    assert promote(unset, PromoteRequest(), DEFAULT_POLICY).percentage == \
        Percentage(of="actors", value=10)
    assert rollback(unset, RollbackRequest(to=Stage.BETA), DEFAULT_POLICY).stage is Stage.BETA
    # Beta with its last actor taken off gives nobody the flag in production: staging.
    beta = _flag("beta", actors=["User:1"])
    target = rollback(beta, RollbackRequest(remove_actors=("User:1",)), DEFAULT_POLICY)
    assert (target.stage, target.actors) == (Stage.STAGING, ())
    nobody_listed = _flag("percentage", percentage={"of": "actors", "value": 10})
    with pytest.raises(StepError, match="--to staging"):
        rollback(nobody_listed, RollbackRequest(to=Stage.BETA), DEFAULT_POLICY)


def test_removing_an_actor_the_percentage_buckets_in_is_refused_with_what_takes_it() -> None:
    """Taken off the list at 50 %, an actor whose bucket is in the 50 % keeps the flag: the
    edit said "rolled back" and took it from nobody. An actor outside the share loses it."""
    from validator.engines.bucketing import in_share

    inside = next(f"User:{n}" for n in range(1000) if in_share(NAME, f"User:{n}", 50.0))
    outside = next(f"User:{n}" for n in range(1000) if not in_share(NAME, f"User:{n}", 50.0))
    flag = _flag("percentage", actors=[*BETA, inside, outside],
                 percentage={"of": "actors", "value": 50})
    with pytest.raises(StepError, match=f"{inside} would keep the flag .*--to beta"):
        rollback(flag, RollbackRequest(remove_actors=(inside,)), DEFAULT_POLICY)
    with pytest.raises(StepError, match=f"{inside} would keep the flag"):
        rollback(flag, RollbackRequest(remove_actors=(inside, outside)), DEFAULT_POLICY)
    assert outside not in rollback(flag, RollbackRequest(remove_actors=(outside,)),
                                   DEFAULT_POLICY).actors
    lowered = rollback(flag, RollbackRequest(to=Stage.BETA, remove_actors=(inside,)),
                       DEFAULT_POLICY)
    assert (lowered.stage, inside in lowered.actors) == (Stage.BETA, False)


def test_the_soak_wait_is_said_in_minutes_and_as_a_clock_time() -> None:
    before = RolloutState(NAME, Stage.PERCENTAGE, frozenset(BETA),
                          Percentage(of="actors", value=10), False)
    after = RolloutState(NAME, Stage.PERCENTAGE, frozenset(BETA),
                         Percentage(of="actors", value=50), False)
    legal = 1_795_000_000 - 1_795_000_000 % 86400 + 14 * 3600 + 32 * 60  # 14:32 UTC
    landed = legal - 15 * 60
    waiting = soak(before, after, DEFAULT_POLICY, landed, now=landed + 6 * 60 + 20)
    assert waiting is not None
    assert waiting.line(NAME, landed + 6 * 60 + 20) == (
        "demo: percentage 10% of actors has been live for 6 min; the next step is legal in "
        "9 min (at 14:32 UTC)")
    assert soak(before, after, DEFAULT_POLICY, landed, now=legal) is None
    tomorrow = soak(RolloutState(NAME, Stage.ENABLED, frozenset(), None, False),
                    RolloutState(NAME, Stage.ENABLED, frozenset(), None, True),
                    DEFAULT_POLICY, landed, now=landed + 60)
    assert tomorrow is not None
    assert re.fullmatch(r"demo: enabled has been live for 1 min; the next step is legal in "
                        r"\d+ h \d+ min \(at \d{4}-\d\d-\d\d 14:17 UTC\)",
                        tomorrow.line(NAME, landed + 60))


# The validator's words.

def test_an_illegal_promote_is_refused_with_the_rule_and_words_validate_gives(
        run_cli: Run, repo: Repo) -> None:
    at(repo, "beta", actors=BETA)
    original = (repo.path / PATH).read_bytes()
    repo.write_flag(NAME, "enabled", actors=BETA)
    code, validated, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 1 and " error FO201 " in validated
    (repo.path / PATH).write_bytes(original)
    code, out, err = flagops(run_cli, repo, "promote", NAME, "--to", "enabled")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == validated.splitlines()[0]
    assert (repo.path / PATH).read_bytes() == original


def test_a_step_before_its_soak_says_how_long_is_left_and_when(run_cli: Run,
                                                               repo: Repo) -> None:
    at(repo, "percentage", when=int(time.time()) - 6 * 60, actors=BETA,
       percentage=("actors", 10))
    code, out, err = flagops(run_cli, repo, "promote", NAME)
    assert code == 1
    assert re.search(r"error FO204 demo: percentage 10% of actors → percentage 50% of actors "
                     r"after \d+ min", err)
    # The date is said too when the step is legal on another day (run before midnight).
    assert re.search(r"flagops: demo: percentage 10% of actors has been live for \d+ min; the "
                     r"next step is legal in \d+ min \(at (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)",
                     err), err
    code, out, _ = flagops(run_cli, repo, "promote", NAME, "--json")
    record = json.loads(out)
    assert code == 1 and record["written"] is False and record["soak"]["wait_minutes"] > 0
    assert [finding["rule"] for finding in record["findings"]] == ["FO204"]


def test_a_layout_flagops_cannot_edit_says_which_file_and_what_to_do_by_hand(
        run_cli: Run, repo: Repo) -> None:
    """YAML's explicit key (`? actors` / `: [...]`) loads and validates; the editor cannot
    place its value. The refusal names the file and the rollback by hand, in text and JSON."""
    at(repo, "beta", actors=BETA)
    text = (repo.path / PATH).read_text(encoding="utf-8")
    text = text.replace("actors:\n  - Project:gitlab-org/gitlab\n",
                        "? actors\n: [Project:gitlab-org/gitlab]\n")
    assert "? actors" in text
    (repo.path / PATH).write_text(text, encoding="utf-8")
    repo.commit("explicit key", at=PAST + 60)
    assert flagops(run_cli, repo, "validate")[0] == 0
    code, _, err = flagops(run_cli, repo, "rollback", NAME)
    assert code == 1 and f"{PATH}: flagops cannot edit this file as it is written" in err, err
    assert "`stage: off` with no actors and no percentage is a rollback the gate takes" in err
    code, out, _ = flagops(run_cli, repo, "rollback", NAME, "--json")
    assert code == 1 and "stage: off" in json.loads(out)["hints"][0]
    assert (repo.path / PATH).read_text(encoding="utf-8") == text


def test_remove_is_refused_while_the_flag_is_live_and_says_what_to_do(run_cli: Run,
                                                                      repo: Repo) -> None:
    at(repo, "beta", actors=BETA)
    code, _, err = flagops(run_cli, repo, "remove", NAME)
    assert code == 1 and " error FO208 demo: deleting a flag that is live (beta (1 actor))" in err
    assert "hint: roll it back first (flagops rollback demo)" in err
    assert (repo.path / PATH).exists()
    code, out, err = flagops(run_cli, repo, "rollback", NAME)
    assert code == 0, err
    code, _, err = flagops(run_cli, repo, "remove", NAME)
    assert code == 1 and "already differs from HEAD (beta (1 actor))" in err
    repo.commit("off", at=PAST + 60)
    code, out, _ = flagops(run_cli, repo, "remove", NAME, "--json")
    assert code == 0 and json.loads(out)["written"] is True
    assert not (repo.path / PATH).exists()


def test_rollback_of_a_merged_step_offers_the_merge_revert(run_cli: Run, repo: Repo) -> None:
    at(repo, "staging")
    repo.git("checkout", "-q", "-b", "step")
    repo.write_flag(NAME, "beta", actors=BETA)
    repo.commit("beta", at=PAST + 3600)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge step", "step", at=PAST + 7200)
    code, out, _ = flagops(run_cli, repo, "rollback", NAME, "--to", "staging")
    assert code == 0
    assert re.search(r"git revert -m 1 [0-9a-f]{12}\n", out), out


def test_the_committed_policy_decides_the_next_percentage(run_cli: Run, repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\npercentage_steps = [5, 25, 100]\n")
    at(repo, "beta", actors=BETA)
    code, out, err = flagops(run_cli, repo, "promote", NAME)
    assert code == 0 and "beta (1 actor) → percentage 5% of actors" in out, err
    assert "percentage: {of: actors, value: 5}\n" in (repo.path / PATH).read_text()


# new.

def test_new_writes_a_valid_file_in_the_readme_order_with_the_modeline(run_cli: Run,
                                                                       repo: Repo) -> None:
    code, out, _ = flagops(run_cli, repo, "new", "Survey-Link", "-t", "wip", "-g",
                           "group::activation", "-M", "17.10", "-i",
                           "https://gitlab.com/gitlab-org/gitlab/-/issues/1", "-u", "alice",
                           "--description", "Shows: a link # not a comment")
    assert code == 0 and out.startswith("created flags/survey_link.yml: survey_link at stage off")
    text = (repo.path / "flags/survey_link.yml").read_text(encoding="utf-8")
    assert text.splitlines()[:6] == [
        "# yaml-language-server: $schema=../schema/flag.schema.json", "name: survey_link",
        "description: 'Shows: a link # not a comment'", "type: wip",
        "group: group::activation", "milestone: '17.10'"]
    assert "owners: ['@alice']\n" in text and "stage: off\nactors:\npercentage:\n" in text
    assert flagops(run_cli, repo, "validate")[0] == 0


def test_new_refuses_bad_names_taken_names_and_unknown_types(run_cli: Run, repo: Repo) -> None:
    repo.write("flags/team_a/demo.yml", flag_yaml(NAME, "off"))
    options = ("-t", "beta", "-g", "group::a", "-M", "1.0")
    for bad in ("2fast", "a__b", "../escape", "x" * 201):
        code, out, err = flagops(run_cli, repo, "new", bad, *options)
        assert code == 1 and "FO112" in err and out == "", bad
    code, _, err = flagops(run_cli, repo, "new", NAME, *options)
    assert code == 1 and "flags/team_a/demo.yml already exists; use --force" in err
    code, out, err = flagops(run_cli, repo, "new", NAME, *options, "--force", "--diff")
    assert code == 0 and out.startswith("replaced flags/team_a/demo.yml"), err
    written = (repo.path / "flags/team_a/demo.yml").read_text(encoding="utf-8")
    assert written.startswith("# yaml-language-server: $schema=../../schema/flag.schema.json\n")
    code, _, err = flagops(run_cli, repo, "new", "other", "-t", "nonsense", "-g", "group::a",
                           "-M", "1.0")
    assert code == 1 and "flags/other.yml:4:7: error FO102 type: " in err
    assert "gitlab_com_derisk" in err and "nonsense" in err
    assert not (repo.path / "flags/other.yml").exists()


def test_new_without_a_terminal_names_every_missing_option(run_process: Run,
                                                           tmp_path: Path) -> None:
    (tmp_path / "flags").mkdir()
    code, out, err = run_process("-C", str(tmp_path), "new", "demo")
    assert code == 2 and out == ""
    assert err == ("flagops: error: missing --type, --group, --milestone: give them as "
                   "options (there is no terminal to ask on)\n")
    (tmp_path / "VERSION").write_text("17.10.0-pre\n")
    code, out, err = run_process("-C", str(tmp_path), "new", "demo", "-t", "beta", "-g",
                                 "group::a", "--dry-run")
    assert code == 0 and "milestone: '17.10'\n" in out and "would create" in out
    assert not (tmp_path / "flags/demo.yml").exists()


def new_on_a_terminal(repo: Repo, typed: bytes) -> tuple[int, bytes, bytes]:
    """`flagops new asked -M 1.0` on a pseudo-terminal, `typed` as the answers: its exit code,
    what the terminal showed, and its standard output."""
    controller, terminal = pty.openpty()
    env = {**git_env(repo.path.parent / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "validator", "-C", str(repo.path), "new",
                                "asked", "-M", "1.0"], cwd=REPO_ROOT, env=env, stdin=terminal,
                               stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    os.write(controller, typed)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    out, _ = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, shown, out


def test_new_asks_on_a_terminal_offering_the_groups_the_tree_uses(repo: Repo) -> None:
    repo.write("flags/seen.yml", flag_yaml("seen", "off"))
    code, shown, out = new_on_a_terminal(repo, b"nonsense\nbeta\n1\n")
    assert code == 0, shown
    assert b"beta (1 here)" in shown and b"1. group::activation" in shown
    assert b"not a valid type: 'nonsense'" in shown
    assert out.startswith(b"created flags/asked.yml")
    text = (repo.path / "flags/asked.yml").read_text(encoding="utf-8")
    assert "type: beta\ngroup: group::activation\n" in text


def test_new_offers_no_group_a_terminal_would_run(repo: Repo) -> None:
    """The offered groups are other files' text: one holding an escape sequence (the gate
    refuses it, FO104) reached the terminal raw, set its title and cleared it."""
    hostile = "group::x\x1b]0;PWNED\x07\x1b[2J"
    repo.write("flags/seen.yml", flag_yaml("seen", "off").replace(
        "group: group::activation", f"group: \"{hostile.encode('unicode_escape').decode()}\""))
    repo.write("flags/fine.yml", flag_yaml("fine", "off"))
    code, shown, _ = new_on_a_terminal(repo, b"beta\n1\n")
    assert code == 0, shown
    assert b"\x1b" not in shown and b"PWNED" not in shown
    assert b"1. group::activation" in shown


def test_dry_run_and_json_write_nothing_and_say_what_would_change(run_cli: Run,
                                                                 repo: Repo) -> None:
    at(repo, "staging", when=EPOCH - 86400)
    before = (repo.path / PATH).read_bytes()
    code, out, _ = flagops(run_cli, repo, "promote", NAME, "--actor", "User:1", "-n", "--json")
    record = json.loads(out)
    assert code == 0 and record["written"] is False
    assert record["after"] == "beta (1 actor)"
    assert "-stage: staging\n+stage: beta\n" in record["diff"]
    assert record["chatops"] == ["/chatops run feature set --user=<username-of-User:1> demo true"]
    assert (repo.path / PATH).read_bytes() == before
    code, out, err = flagops(run_cli, repo, "promote", "nosuch")
    assert code == 1 and err == ("flagops: error: no flag named 'nosuch' under flags/; "
                                 "flagops new nosuch creates one\n")
    assert flagops(run_cli, repo, "promote", NAME, "--to", "nowhere")[0] == 2


# The lifecycle rules, said before writing.

def _freeze_now() -> str:
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(time.time() - 86400, UTC).isoformat()
    end = datetime.fromtimestamp(time.time() + 86400, UTC).isoformat()
    return (f'[tool.flagops]\n[[tool.flagops.freeze]]\nstart = "{start}"\nend = "{end}"\n'
            'reason = "the release freeze"\n')


def test_promote_in_a_freeze_is_refused_before_writing_and_rollback_still_passes(
        run_cli: Run, repo: Repo) -> None:
    repo.write("pyproject.toml", _freeze_now())
    at(repo, "beta", actors=BETA)
    original = (repo.path / PATH).read_bytes()
    code, out, err = flagops(run_cli, repo, "promote", NAME)
    assert code == 1 and out == ""
    assert " error FO401 demo: forward steps are frozen until " in err
    assert "(the release freeze); rollbacks pass" in err
    assert "hint: wait until the freeze ends; a rollback passes at any time" in err
    assert (repo.path / PATH).read_bytes() == original
    code, _, err = flagops(run_cli, repo, "rollback", NAME)
    assert code == 0, err
    code, validated, _ = flagops(run_cli, repo, "validate", "--base", "HEAD")
    assert code == 0 and "FO401" not in validated


def test_remove_while_code_reads_the_flag_is_refused_until_the_reference_is_gone(
        run_cli: Run, repo: Repo) -> None:
    at(repo, "off")
    repo.write("app/models/user.rb", "def invite?\n  Feature.enabled?(:demo, self)\nend\n")
    repo.commit("code reads demo", at=PAST + 60)
    code, _, err = flagops(run_cli, repo, "remove", NAME)
    assert code == 1 and " error FO404 demo: " in err and "app/models/user.rb:2:3" in err
    assert "hint: remove the code that reads it first (flagops refs demo lists it)" in err
    assert (repo.path / PATH).exists()
    repo.write("app/models/user.rb", "def invite?\n  true\nend\n")
    code, _, err = flagops(run_cli, repo, "remove", NAME)
    assert code == 0, err
    assert not (repo.path / PATH).exists()


def test_lifting_the_freeze_in_the_working_tree_does_not_let_promote_through(
        run_cli: Run, repo: Repo) -> None:
    """HEAD's policy judges the step, as validate --base HEAD would: an uncommitted policy
    without the freeze is the change's own, not its judge's."""
    repo.write("pyproject.toml", _freeze_now())
    at(repo, "beta", actors=BETA)
    repo.write("pyproject.toml", "[tool.flagops]\n")
    original = (repo.path / PATH).read_bytes()
    code, _, err = flagops(run_cli, repo, "promote", NAME)
    assert code == 1 and " error FO401 demo: forward steps are frozen until " in err
    assert (repo.path / PATH).read_bytes() == original


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_new_reads_a_version_file_only_when_it_is_a_regular_file(tmp_path: Path,
                                                                  kind: str) -> None:
    # `new` read all of VERSION for its default milestone: a FIFO blocked forever, and a
    # VERSION committed as a symlink to /dev/zero grew without end. Either is no version.
    (tmp_path / "flags").mkdir()
    version = tmp_path / "VERSION"
    if kind == "fifo":
        os.mkfifo(version)  # nobody writes: opening it for reading would block
    elif kind == "device":
        version.symlink_to("/dev/zero")
    else:
        version.mkdir()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "validator", "-C", str(tmp_path), "new",
                               "demo", "-t", "beta", "-g", "group::a", "--dry-run"],
                              capture_output=True, text=True, cwd=REPO_ROOT, env=env,
                              timeout=15, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"flagops new hung on a VERSION that is a {kind}")
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("flagops: error: missing --milestone: give them as options (there "
                           "is no terminal to ask on)\n")
