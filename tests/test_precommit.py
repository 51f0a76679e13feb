"""The hook as other repositories use it: real pre-commit builds it from a hook repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gitrepo import Repo

PROJECT = Path(__file__).resolve().parents[1]
# The fixtures hook_repo (this checkout as a hook repository, tagged v<version>) and
# pre_commit_home are in conftest.py: tests/test_first_hour.py uses the same hook environment.


def _pre_commit(repo: Repo, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**repo.env, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.path, env=env,
                          capture_output=True, text=True, check=False)


def _commit(repo: Repo, home: Path, message: str) -> subprocess.CompletedProcess[str]:
    env = {**repo.env, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    repo.git("add", "-A")
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo.path, env=env,
                          capture_output=True, text=True, check=False)


def _docs_branch_then_target_steps(repo: Repo, branch: str, name: str,
                                   steps: list[tuple[str, tuple[str, ...]]]) -> None:
    """`branch` (documentation only) from main, then main takes `name` through `steps`, the
    first two hours ago, the next an hour later; main is checked out at the end."""
    repo.git("checkout", "-q", "-b", branch)
    repo.write("docs/how.md", "how\n")
    repo.commit("docs", at=int(time.time()) - 7200)
    repo.git("checkout", "-q", "main")
    for hours, (stage, actors) in zip((2, 1), steps, strict=True):
        repo.write_flag(name, stage, actors=actors)
        repo.commit(f"{name} at {stage}", at=int(time.time()) - hours * 3600)


def _repo_using_the_hook(tmp_path: Path, hook_repo: tuple[Repo, str], home: Path,
                         **stages: str) -> Repo:
    """A flags repository whose first commit (a day old) has `stages`, with the hook installed."""
    source, rev = hook_repo
    repo = Repo.create(tmp_path / "flags-repo", tmp_path / "home")
    repo.write(".pre-commit-config.yaml", (
        f"repos:\n  - repo: {source.path}\n    rev: {rev}\n"
        "    hooks:\n      - id: flagops-validate\n"
    ))
    for name, stage in stages.items():
        repo.write_flag(name, stage)
    repo.commit("add the flags", at=int(time.time()) - 86400)
    installed = _pre_commit(repo, home, "install")
    assert installed.returncode == 0, installed.stderr
    return repo


@pytest.mark.slow
def test_hook_refuses_an_illegal_step_and_accepts_the_fix(
    tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path
) -> None:
    repo = _repo_using_the_hook(tmp_path, hook_repo, pre_commit_home, calendly_invite_link="off")

    repo.write_flag("calendly_invite_link", "enabled")
    refused = _commit(repo, pre_commit_home, "enable everywhere")
    assert refused.returncode != 0
    assert ("flags/calendly_invite_link.yml:12:8: error FO201 calendly_invite_link: off → "
            "enabled skips staging, beta, percentage") in refused.stdout + refused.stderr

    repo.write_flag("calendly_invite_link", "staging")
    accepted = _commit(repo, pre_commit_home, "enable on staging")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert repo.git("log", "-1", "--format=%s").strip() == "enable on staging"


@pytest.mark.slow
def test_hook_catches_the_deletion_of_a_live_flag(
    tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path
) -> None:
    repo = _repo_using_the_hook(tmp_path, hook_repo, pre_commit_home, demo="staging")
    (repo.path / "flags/demo.yml").unlink()
    refused = _commit(repo, pre_commit_home, "drop demo")
    assert refused.returncode != 0
    assert "FO208" in refused.stdout + refused.stderr


@pytest.mark.slow
def test_this_repository_passes_its_own_hooks(tmp_path: Path, pre_commit_home: Path) -> None:
    """The committed tree, copied into a fresh repository, passes .pre-commit-config.yaml."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    repo = Repo.create(tmp_path / "copy", tmp_path / "home")
    for name in filter(None, listed):
        source = PROJECT / name
        if source.is_file():
            (repo.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo.path / name)
    repo.commit("copy", at=int(time.time()) - 86400)
    env = {**repo.env, "PRE_COMMIT_HOME": str(pre_commit_home),
           "PATH": f"{Path(sys.executable).parent}:{repo.env['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"],
                          cwd=repo.path, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flagops validate (staged flags against HEAD)" in done.stdout


def _jump_committed_past_the_hook(repo: Repo, home: Path) -> str:
    """`calendly_invite_link` off → enabled, committed with --no-verify (or by a merge, a
    cherry-pick): the hook never judged it."""
    repo.write_flag("calendly_invite_link", "enabled")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "everyone at once")
    return repo.head()


@pytest.mark.slow
def test_the_hook_run_on_a_range_judges_that_range(
    tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path
) -> None:
    """`pre-commit run --from-ref A --to-ref B` (how CI runs pre-commit) and the pre-push
    stage name a range: the hook judged HEAD → the index there, no change at all, and passed
    "no flag changed" (the ninth review)."""
    repo = _repo_using_the_hook(tmp_path, hook_repo, pre_commit_home, calendly_invite_link="off")
    _jump_committed_past_the_hook(repo, pre_commit_home)
    ran = _pre_commit(repo, pre_commit_home, "run", "--from-ref", "HEAD~1", "--to-ref", "HEAD")
    assert ran.returncode != 0 and "FO201" in ran.stdout, ran.stdout + ran.stderr
    origin = tmp_path / "origin.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(origin))
    repo.git("push", "-q", "--no-verify", str(origin), "HEAD~1:refs/heads/main")
    repo.git("remote", "add", "origin", str(origin))
    repo.git("fetch", "-q", "origin")
    assert _pre_commit(repo, pre_commit_home, "install", "-t", "pre-push").returncode == 0
    env = {**repo.env, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never"}
    pushed = subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=repo.path,
                            env=env, capture_output=True, text=True, check=False)
    assert pushed.returncode != 0 and "FO201" in pushed.stdout + pushed.stderr
    repo.write_flag("calendly_invite_link", "staging")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-verify", "-m", "staging first")
    pushed = subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=repo.path,
                            env=env, capture_output=True, text=True, check=False)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


@pytest.mark.slow
def test_a_push_after_merging_the_target_is_judged_as_ci_will(
    tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path
) -> None:
    """A branch that merged the target (`git pull`) carries the target's own steps: the
    pushed range judged alone read them as the branch's (staging → beta from off skips
    staging, the fourth review). Judged merged into the remote's default branch, as CI
    judges the merge request, the branch changes no flag."""
    repo = _repo_using_the_hook(tmp_path, hook_repo, pre_commit_home, calendly_invite_link="off")
    origin = tmp_path / "origin.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(origin))
    repo.git("remote", "add", "origin", str(origin))
    repo.git("push", "-q", "--no-verify", "origin", "main")
    _docs_branch_then_target_steps(repo, "docs", "calendly_invite_link",
                                   [("staging", ()), ("beta", ("User:1",))])
    repo.git("push", "-q", "--no-verify", "origin", "main")
    repo.git("fetch", "-q", "origin")
    repo.git("remote", "set-head", "origin", "main")
    repo.git("checkout", "-q", "docs")
    repo.git("merge", "-q", "--no-edit", "main", at=int(time.time()) - 60)
    assert _pre_commit(repo, pre_commit_home, "install", "-t", "pre-push").returncode == 0
    env = {**repo.env, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never"}
    pushed = subprocess.run(["git", "push", "-q", "origin", "docs"], cwd=repo.path, env=env,
                            capture_output=True, text=True, check=False)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


@pytest.mark.slow
def test_the_hook_runs_at_no_merge_or_checkout_hook_another_hook_installs(
    tmp_path: Path, hook_repo: tuple[Repo, str], pre_commit_home: Path
) -> None:
    """Installed for `pre-merge-commit` (for another hook), the hook judged a clean merge of
    the target with no MERGE_HEAD yet: the target's own steps (a new flag at off, then
    staging) read as the merge's jump, and every branch update was refused (FO207). At
    `post-checkout` a checkout was judged as a range. Its stages now name the commit, the
    push and a manual run only."""
    repo = _repo_using_the_hook(tmp_path, hook_repo, pre_commit_home, calendly_invite_link="off")
    installed = _pre_commit(repo, pre_commit_home, "install", "-t", "pre-merge-commit",
                            "-t", "post-checkout")
    assert installed.returncode == 0, installed.stderr
    _docs_branch_then_target_steps(repo, "feature", "fresh", [("off", ()), ("staging", ())])
    env = {**repo.env, "PRE_COMMIT_HOME": str(pre_commit_home), "PRE_COMMIT_COLOR": "never"}
    checkout = subprocess.run(["git", "checkout", "-q", "feature"], cwd=repo.path, env=env,
                              capture_output=True, text=True, check=False)
    assert checkout.returncode == 0 and "flagops validate" not in checkout.stdout + checkout.stderr
    merged = subprocess.run(["git", "merge", "-q", "--no-edit", "main"], cwd=repo.path, env=env,
                            capture_output=True, text=True, check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert len(repo.git("log", "-1", "--format=%p").split()) == 2  # the merge commit was made
