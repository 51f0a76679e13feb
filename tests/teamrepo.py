"""A team's own flags repository as `flagops init` makes it, with a bare origin and CI pipelines.

Everything is real: the `flagops` console script of this venv (run as a process), git, and, when
a test installs it, pre-commit. A pipeline is a fresh clone of the origin at a detached commit
that runs the scaffolded CI file's own commands with the host's variables; only the line that
installs flagops from the package index is not run (no network): this venv's `flagops` is first
on PATH instead, and a test checks that the line pins this version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from gitrepo import Repo

BIN = Path(sys.executable).parent
VERSION = version("flagops")
INSTALL = f'python -I -m pip install --quiet --disable-pip-version-check "flagops=={VERSION}"'
INHERITED_NOT = ("CI_", "GITLAB_", "GITHUB_", "FLAGOPS_", "PRE_COMMIT")
GITLAB_MR = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main",
             "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
GITLAB_PUSH = {"CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main",
               "CI_COMMIT_BRANCH": "main"}


def flagops(cwd: Path, *args: str, env: Mapping[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    return subprocess.run([str(BIN / "flagops"), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=False, timeout=120)


class Team:
    """`flagops init` in tmp/team, an origin in tmp/origin.git; CI clones in tmp/ci."""

    def __init__(self, tmp: Path, *init_args: str, pre_commit_home: Path | None = None) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.env = Repo(tmp, self.home).env  # pinned identity, nothing in $HOME
        done = flagops(tmp, "init", "team", *init_args, env=self.env)
        assert done.returncode == 0, done.stdout + done.stderr
        self.init_output = done.stdout
        self.repo = Repo(tmp / "team", self.home)
        self.repo.git("config", "commit.gpgsign", "false")
        self.origin = tmp / "origin.git"
        self.repo.git("init", "-q", "--bare", "-b", "main", str(self.origin))
        self.repo.git("remote", "add", "origin", str(self.origin))
        self.pre_commit_home = pre_commit_home
        self.pipelines = 0

    @property
    def path(self) -> Path:
        return self.repo.path

    def hook_env(self) -> dict[str, str]:
        env = {**self.env, "PRE_COMMIT_COLOR": "never"}
        if self.pre_commit_home is not None:
            env["PRE_COMMIT_HOME"] = str(self.pre_commit_home)
        return env

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=self.path,
                              env=self.hook_env(), capture_output=True, text=True, check=False)

    def commit(self, message: str, at: int, *, skip_hook: bool = False
               ) -> subprocess.CompletedProcess[str]:
        """`git add -A && git commit` through whatever hook is installed, dated `at`."""
        self.repo.git("add", "-A")
        env = {**self.hook_env(), "GIT_AUTHOR_DATE": f"@{at} +0000",
               "GIT_COMMITTER_DATE": f"@{at} +0000"}
        if skip_hook:
            env["SKIP"] = "flagops-validate"
        return subprocess.run(["git", "commit", "-q", "-m", message], cwd=self.path, env=env,
                              capture_output=True, text=True, check=False)

    def merge(self, branch: str, at: int) -> tuple[str, str]:
        """Merges `branch` into main with a merge commit dated `at`, as GitLab does, and pushes;
        (main before, main after)."""
        self.repo.git("checkout", "-q", "main")
        before = self.repo.head()
        self.repo.git("merge", "-q", "--no-ff", "-m", f"Merge branch '{branch}'", branch, at=at)
        self.repo.git("push", "-q", "origin", "main")
        return before, self.repo.head()

    def branch(self, name: str) -> None:
        self.repo.git("checkout", "-q", "-b", name, "main")

    def push(self, ref: str = "HEAD") -> str:
        branch = self.repo.git("rev-parse", "--abbrev-ref", ref).strip()
        self.repo.git("push", "-q", "origin", branch)
        return self.repo.head()

    def pipeline(self, variables: Mapping[str, str], sha: str, *, host: str = "gitlab",
                 event: Mapping[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
        """One CI job as the host runs it: a fresh clone at a detached sha, the CI file's
        commands (but the pip install), the host's variables."""
        self.pipelines += 1
        ci = Repo(self.tmp / "ci" / str(self.pipelines), self.home)
        ci.git("clone", "-q", str(self.origin), str(ci.path))
        ci.git("checkout", "-q", "--detach", sha)
        commands = _job_commands(ci.path, host)
        variables = {**variables, **_host_variables(host, ci.path, sha, event)}
        inherited = {key: value for key, value in self.env.items()
                     if not key.startswith(INHERITED_NOT)}
        env = {**inherited, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **variables}
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(commands)],
                              cwd=ci.path, capture_output=True, text=True, env=env, check=False)
        self.last_ci = ci.path
        return done


def _job_commands(checkout: Path, host: str) -> list[str]:
    """The scaffolded job's commands from the checkout's CI file, without the pinned install
    (asserted to be there, exactly)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    if host == "gitlab":
        job = yaml.load(checkout / ".gitlab-ci.yml")["flagops"]
        assert job["before_script"] == [INSTALL]
        return list(job["script"])
    steps = yaml.load(checkout / ".github/workflows/flagops.yml")["jobs"]["flagops"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    assert runs[0] == INSTALL
    return runs[1:]


def _host_variables(host: str, checkout: Path, sha: str,
                    event: Mapping[str, Any] | None) -> dict[str, str]:
    if host == "gitlab":
        return {"CI_PROJECT_DIR": str(checkout), "CI_COMMIT_SHA": sha}
    import json

    event_file = checkout.parent / f"{checkout.name}-event.json"
    event_file.write_text(json.dumps(event or {}), encoding="utf-8")
    return {"GITHUB_WORKSPACE": str(checkout), "GITHUB_SHA": sha,
            "GITHUB_EVENT_PATH": str(event_file),
            "GITHUB_STEP_SUMMARY": str(checkout.parent / f"{checkout.name}-summary.md")}
