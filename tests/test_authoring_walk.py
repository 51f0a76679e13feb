"""The whole calendly_invite_link plan, walked with the authoring commands in a real git
repository: new, each promote up to default_enabled, remove. Every step is committed at a set
time (GIT_COMMITTER_DATE) and accepted by `flagops validate --base HEAD~1 --head HEAD`; from
every state every rollback is committed and accepted too, and where a `git revert` is offered,
it makes the same rollback.

The commands read the real clock, so the history is set a month back: every soak has passed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult
from gitrepo import Repo

from validator.edit.steps import Target
from validator.loader import load_document
from validator.parse import parse_flag

NAME = "calendly_invite_link"
PATH = f"flags/{NAME}.yml"
HOUR, DAY = 3600, 86400
START = int(time.time()) - 30 * DAY
ISSUE = "https://gitlab.com/gitlab-org/gitlab/-/issues/330340"
CLEANUP = "https://gitlab.com/gitlab-org/gitlab/-/issues/330341"
EXPECTATIONS = ("expectations:\n  expected: More survey respondents book a research call.\n"
                "  risks: A broken link on a public page.\n"
                "  monitoring: Calendly bookings and 4xx/5xx on the survey response page.\n")

Run = Callable[..., CliResult]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("README.md", "Feature flags.\n")
    repo.commit("Start", at=START)
    return repo


def flagops(run_cli: Run, repo: Repo, *args: str) -> CliResult:
    return run_cli("-C", str(repo.path), *args)


def accepted(run_cli: Run, repo: Repo) -> None:
    code, out, err = flagops(run_cli, repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0, out + err
    assert "0 error(s)" in err
    ci_job_accepts_the_push(repo)


def ci_job_accepts_the_push(repo: Repo) -> None:
    """The CI job's own logic (`flagops ci gitlab`) on a default-branch pipeline, as GitLab
    runs it: a clone at the pushed commit, detached, judging the push's range."""
    clone = repo.path.parent / "ci clone"
    if not clone.exists():
        repo.git("clone", "-q", str(repo.path), str(clone))
    head, before = repo.head(), repo.git("rev-parse", "HEAD~1").strip()
    for args in (("fetch", "-q", "origin"), ("checkout", "-q", "--detach", head)):
        subprocess.run(["git", *args], cwd=clone, env=repo.env, check=True)
    env = {**repo.env, "CI": "true", "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "main",
           "CI_COMMIT_BEFORE_SHA": before, "CI_COMMIT_SHA": head, "CI_PROJECT_DIR": str(clone)}
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(clone), "ci", "gitlab"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "<failure" not in (clone / "junit.xml").read_text(encoding="utf-8")


def target(raw: bytes) -> Target:
    flag = parse_flag(load_document(raw, PATH))[0]
    assert flag is not None
    return Target.of(flag)


def rollbacks(state: Target) -> list[list[str]]:
    """Every rollback from `state`: straight to off, and to each earlier state."""
    found: list[list[str]] = [[]] if state.stage != "off" else []
    ranks = ["off", "staging", "beta", "percentage", "enabled"]
    found += [["--to", stage] for stage in ranks[1:ranks.index(state.stage)]]
    if state.stage == "percentage" and state.percentage and state.percentage.value > 10:
        found.append(["--to", "percentage"])
    if state.stage == "enabled" and state.default_enabled:
        found.append(["--to", "enabled"])
    if state.stage in ("beta", "percentage") and len(state.actors) > 1:
        found.append(["--remove-actor", state.actors[0]])
    return found


def check_rollbacks(run_cli: Run, repo: Repo, at: int) -> tuple[int, int]:
    """Each rollback from the current state is written, committed and accepted; a `git revert`
    that is offered gives the same rollout state. Every one is undone again after. Returns
    how many rollbacks and reverts were checked."""
    state, checked, reverts = target((repo.path / PATH).read_bytes()), 0, 0
    for options in rollbacks(state):
        code, out, err = flagops(run_cli, repo, "rollback", NAME, *options)
        assert code == 0, out + err
        assert "ChatOps equivalent:" in out
        rolled = (repo.path / PATH).read_bytes()
        assert target(rolled).state(NAME).describe() in out.splitlines()[0]
        repo.commit(f"Roll back {NAME} {' '.join(options)}", at=at + 20 * 60)
        accepted(run_cli, repo)
        repo.git("reset", "-q", "--hard", "HEAD~1")
        revert = re.search(r"git revert ([0-9a-f]{12})", out)
        if revert:
            repo.git("revert", "--no-edit", revert[1], at=at + 20 * 60)
            reverted = target((repo.path / PATH).read_bytes())
            assert reverted.state(NAME) == target(rolled).state(NAME)
            accepted(run_cli, repo)
            repo.git("reset", "-q", "--hard", "HEAD~1")
            reverts += 1
        checked += 1
    return checked, reverts


def test_the_calendly_plan_from_new_to_remove_with_a_rollback_from_every_state(
        run_cli: Run, repo: Repo) -> None:
    code, out, _ = flagops(run_cli, repo, "new", NAME, "-t", "beta", "-g", "group::activation",
                           "-M", "13.12", "-m",
                           "https://gitlab.com/gitlab-org/gitlab/-/merge_requests/61146",
                           "--description", "Shows a link to book a research call.",
                           "--owner", "@alice")
    assert code == 0 and out.startswith(f"created {PATH}: {NAME} at stage off"), out
    assert "flagops promote calendly_invite_link (off → staging)" in out
    repo.commit(f"Add {NAME}", at=START + HOUR)
    accepted(run_cli, repo)
    text = (repo.path / PATH).read_text(encoding="utf-8")
    repo.write(PATH, text.replace("rollout_issue_url:\n", f"rollout_issue_url: {ISSUE}\n")
               .replace("expectations:\n", EXPECTATIONS))
    repo.commit("Rollout issue and expectations", at=START + 2 * HOUR)
    accepted(run_cli, repo)
    steps = [
        ([], "off → staging"),
        (["--actor", "Project:gitlab-org/gitlab", "Group:gitlab-org/gitlab-com"],
         "staging → beta (2 actors)"),
        ([], "beta (2 actors) → percentage 10% of actors"),
        ([], "percentage 10% of actors → percentage 50% of actors"),
        ([], "percentage 50% of actors → percentage 100% of actors"),
        ([], "percentage 100% of actors → enabled"),
        (["--default-enabled", "--cleanup-issue", CLEANUP], "enabled → enabled with "
         "default_enabled"),
    ]
    at, rolled, reverted = START + DAY, 0, 0
    for options, change in steps:
        code, out, err = flagops(run_cli, repo, "promote", NAME, *options, "--diff")
        assert code == 0, out + err
        assert out.startswith(f"{PATH}: {NAME}: {change}\n--- a/{PATH}\n+++ b/{PATH}\n"), out
        repo.commit(f"{NAME}: {change}", at=at)
        accepted(run_cli, repo)
        rollbacks_here, reverts_here = check_rollbacks(run_cli, repo, at)
        rolled, reverted = rolled + rollbacks_here, reverted + reverts_here
        at += DAY + HOUR  # past every soak, the day before default_enabled included
    code, out, err = flagops(run_cli, repo, "promote", NAME)
    assert code == 1 and "nothing is left to promote" in err
    code, out, err = flagops(run_cli, repo, "remove", NAME)
    assert code == 0 and out.startswith(f"removed {PATH}: {NAME} was enabled with "
                                        "default_enabled"), out + err
    assert not (repo.path / PATH).exists()
    repo.commit(f"Remove {NAME}", at=at)
    accepted(run_cli, repo)
    assert (rolled, reverted) == (27, 6)  # the revert of enabled is 100%, not the 10% asked
