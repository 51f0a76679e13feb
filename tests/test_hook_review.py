"""An attacker's review of the hook path (2026-11-30): a merge of several branches stopped
before its commit, and the hook's shortcut beside a staged version file. Real repositories,
the command line in this process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo
from test_gate_fourth_review import BETA, DAY, NOW
from test_gate_integrity import flagops

CLOCK_DATED = True  # NOW read again as each test starts (conftest)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


@pytest.mark.parametrize("order", [("t1", "t2"), ("t2", "t1")])
def test_a_merge_of_several_branches_is_not_charged_any_of_their_steps(
        repo: Repo, order: tuple[str, str]) -> None:
    """`git merge --no-commit t1 t2` stops with both heads in MERGE_HEAD, one a line; only
    the first was read, so the other's own legal history (a new flag at off, then staging)
    was judged as this commit's jump (FO207), whichever came first."""
    repo.write_flag("demo", "staging")
    repo.commit("demo", at=NOW - 10 * DAY)
    for branch, name in (("t1", "first"), ("t2", "second")):
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.write_flag(name, "off")
        repo.commit(f"{name} at off", at=NOW - 9 * DAY)
        repo.write_flag(name, "staging")
        repo.commit(f"{name} on staging", at=NOW - 8 * DAY)
    repo.git("checkout", "-q", "main")
    merged = subprocess.run(["git", "merge", "--no-commit", "-q", *order], cwd=repo.path,
                            env=repo.env, capture_output=True, text=True, check=False)
    assert merged.returncode == 0, merged.stderr
    assert len((repo.path / ".git/MERGE_HEAD").read_text().split()) == 2
    code, found, text = flagops(repo, "validate", "--staged")
    assert (code, found) == (0, []), text
    repo.write_flag("second", "beta", **BETA)  # beyond what either branch has: judged
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", "--staged")
    assert code == 1 and "FO207:error" in found, text


def test_a_merge_head_that_is_no_object_name_is_not_read(repo: Repo) -> None:
    """Only git's own lines: anything else in MERGE_HEAD excuses nothing (nor reaches git as
    an option)."""
    repo.write_flag("demo", "staging")
    repo.commit("demo", at=NOW - 10 * DAY)
    repo.write_flag("demo", "enabled")
    repo.git("add", "-A")
    (repo.path / ".git/MERGE_HEAD").write_text("--all\nHEAD\n")
    code, found, text = flagops(repo, "validate", "--staged")
    assert code == 1 and "FO201:error" in found, text


@pytest.mark.parametrize(("policy", "version_file"), [
    ("[tool.flagops]\n", "VERSION"),
    ('[tool.flagops]\nversion_file = "config/VERSION"\n', "config/VERSION"),
])
def test_the_hook_says_what_a_staged_version_file_does_to_the_milestone(
        repo: Repo, policy: str, version_file: str) -> None:
    """The hook's shortcut for commits that stage no flag file showed only FO303 for a
    VERSION taken back, where the judge (and CI) says FO302: the flags' ages shrink."""
    repo.write("pyproject.toml", policy)
    repo.write(version_file, "17.10.0\n")
    repo.write_flag("demo", "staging")
    repo.commit("demo, at 17.10", at=NOW - 10 * DAY)
    repo.write(version_file, "16.0.0\n")
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", "--staged")
    assert code == 0 and "FO302:warning" in found, text
    repo.git("reset", "-q", "--hard")
    repo.write("scripts/tool.sh", "echo\n")  # a file that is no version file: the shortcut
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", "--staged")
    assert (code, found) == (0, ["FO303:warning"]), text


@pytest.mark.parametrize("policy", [
    '[tool.flagops]\nversion_file = ["VERSION"]\n', "tool = 1\n", "a = " + "[" * 2000 + "\n",
    "[tool.flagops]\nversion_file = 7\n",
])
def test_a_head_policy_the_shortcut_cannot_read_is_no_crash(repo: Repo, policy: str) -> None:
    """The shortcut's lookup of HEAD's version_file: a list (unhashable), `tool` not a table,
    TOML nested past Python's recursion limit were internal errors (exit 3) of every commit
    that staged a file outside flags/."""
    repo.write("pyproject.toml", policy)
    repo.write_flag("demo", "staging")
    repo.commit("a policy pushed round the gate", at=NOW - DAY)
    repo.write("src/tool.py", "print()\n")
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", "--staged")
    assert (code, found) == (0, ["FO303:warning"]), text


def test_a_fifo_at_merge_head_is_refused_not_waited_on(repo: Repo) -> None:
    """The hook read MERGE_HEAD whole (and `rev-parse MERGE_HEAD` before it): a FIFO there
    left every commit waiting forever."""
    import os
    import sys

    repo.write_flag("demo", "staging")
    repo.commit("demo", at=NOW - DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.git("add", "-A")
    os.mkfifo(repo.path / ".git/MERGE_HEAD")
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(repo.path), "validate",
                           "--staged"], env=repo.env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1 and ".git/MERGE_HEAD is a FIFO" in done.stderr, done.stderr
