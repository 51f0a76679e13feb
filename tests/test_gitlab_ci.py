"""The CI jobs as GitLab runs them: the pipeline file is valid, and the validate-flags job judges
a merge request against its target's current tip in a real origin/clone setup, with the flagops
of that tip, never the merge request's own.

Every run is the job's own commands, read from the checkout's .gitlab-ci.yml as GitLab reads them,
in a fresh clone of a bare origin at a detached CI_COMMIT_SHA, with GitLab's variables. The origin
holds a copy of this checkout's package, so the judge really is installed from the target tip
(`git worktree`, a venv, `pip install`). No network: pip runs with PIP_NO_INDEX and --no-deps, the
judge finds its dependencies through PYTHONPATH (this venv's site-packages), and the copy builds
with tests/ci_backend.py, as this venv has no setuptools that can build the real pyproject.toml.
`flagops` itself is not on the job's PATH: only the judge venv's can run. Installing a judge takes
2-4 s, so the jobs keep judges in FLAGOPS_JUDGE_CACHE by the content they come from (each distinct
flagops is installed once per session); the test of a merge request that rewrites the validator
installs as CI does, with no cache, and checks that nothing is left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gitrepo import Repo

PROJECT = Path(__file__).resolve().parents[1]
DAY = 24 * 3600
PACKAGE = ("pyproject.toml", "validator", "survey_renderer", "schema")
GATE = (".ci/validate-flags", ".gitlab-ci.yml")
OFFLINE_BUILD = ('[build-system]\nrequires = []\nbuild-backend = "ci_backend"\n'
                 'backend-path = ["_ci_backend"]\n')
ACCEPT_EVERYTHING = """

def judge(name: object, before: object, after: object, verdict: object) -> list[object]:
    return []  # a merge request that makes the validator accept every step
"""
BETA = {"actors": ("Project:gitlab-org/gitlab",)}
INHERITED_NOT = ("CI_", "GITLAB_", "FLAGOPS_", "PIP_", "PYTHON", "VIRTUAL_ENV")


def test_gitlab_ci_file_is_valid_against_gitlab_schema() -> None:
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.gitlab-ci", str(PROJECT / ".gitlab-ci.yml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_ci_test_job_runs_ci_run_and_reports_survive_failure() -> None:
    from ruamel.yaml import YAML

    pipeline = YAML(typ="safe").load(PROJECT / ".gitlab-ci.yml")
    assert pipeline["test"]["script"] == ["bash .ci/run"]
    job = pipeline["validate-flags"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert job["artifacts"]["when"] == "always"
    assert set(job["artifacts"]["reports"]) == {"codequality", "junit"}
    assert "before_script" not in job  # nothing of the checkout is installed or run before it


def test_gitlab_ci_pages_job_publishes_the_catalog_from_full_history() -> None:
    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(PROJECT / ".gitlab-ci.yml")["pages"]
    assert job["variables"]["GIT_DEPTH"] == "0"  # the catalog's timelines read history
    assert job["script"][-1].startswith("flagops render") and "--output public" in \
        job["script"][-1]
    assert job["artifacts"]["paths"] == ["public"]


def _offline_build(pyproject: bytes) -> bytes:
    """The same pyproject.toml, built by tests/ci_backend.py (see the module docstring)."""
    text = pyproject.decode()
    start = text.index("[build-system]")
    end = text.index("\n[", start) + 1
    text = text[:start] + OFFLINE_BUILD + text[end:]
    assert tomllib.loads(text)["project"]["name"] == "flagops"
    return text.encode()


@pytest.fixture(scope="session")
def package() -> dict[str, bytes]:
    """This checkout's flagops and CI job as files to commit: tracked files, and new ones not
    ignored yet (work in progress imports them), as they are in the working tree."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                             "--", *PACKAGE, *GATE], cwd=PROJECT, capture_output=True,
                            check=True).stdout.decode()
    files = {name: (PROJECT / name).read_bytes() for name in listed.split("\0")
             if name and (PROJECT / name).is_file()}
    files["pyproject.toml"] = _offline_build(files["pyproject.toml"])
    files["_ci_backend/ci_backend.py"] = (PROJECT / "tests" / "ci_backend.py").read_bytes()
    return files


@pytest.fixture(scope="session")
def job_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the job's shell gets besides GitLab's variables: python3 but no flagops on PATH, the
    judge's dependencies through PYTHONPATH, pip kept off every index."""
    root = tmp_path_factory.mktemp("job env")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name in ("python3", "python"):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join([str(bin_dir), *(entry for entry in os.environ["PATH"].split(os.pathsep)
                                            if entry != venv_bin)])
    assert shutil.which("flagops", path=path) is None, "a flagops outside this venv is on PATH"
    paths = sysconfig.get_paths()
    (root / "tmp dir").mkdir()
    return {
        "PATH": path,
        "PYTHONPATH": os.pathsep.join(dict.fromkeys((paths["purelib"], paths["platlib"]))),
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CACHE_DIR": str(root / "pip cache"),
        "TMPDIR": str(root / "tmp dir"),
        "FLAGOPS_JUDGE_CACHE": str(root / "judges"),
    }


def _job_commands(checkout: Path) -> str:
    """The validate-flags job's commands, from the .gitlab-ci.yml GitLab would read."""
    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(checkout / ".gitlab-ci.yml")["validate-flags"]
    return "\n".join([*job.get("before_script", []), *job["script"]])


class Forge:
    """An origin repository, a developer clone and the CI clone of one pipeline."""

    def __init__(self, tmp: Path, job_env: dict[str, str]) -> None:
        self.home = tmp / "home"
        self.origin = tmp / "origin.git"
        self.job_env = job_env
        Repo(tmp, self.home).git("init", "-q", "--bare", "-b", "main", str(self.origin))
        self.dev = self._clone(tmp / "dev", self.origin)
        self.ci_dir = tmp / "build dir" / "ci"  # paths with spaces, as on some runners

    def _clone(self, path: Path, origin: Path) -> Repo:
        repo = Repo(path.parent, self.home)
        repo.git("clone", "-q", str(origin), str(path))
        return Repo(path, self.home)

    def write_files(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            target = self.dev.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def run_job(self, env: dict[str, str], sha: str, origin: Path | None = None,
                cache: bool = True) -> subprocess.CompletedProcess[str]:
        """The job as GitLab runs it: a fresh clone, a detached head, the job's commands."""
        ci = self._clone(self.ci_dir, origin or self.origin)
        ci.git("checkout", "-q", "--detach", sha)
        inherited = {key: value for key, value in ci.env.items()
                     if not key.startswith(INHERITED_NOT)}  # e.g. a real pipeline's CI_*
        job_env = {key: value for key, value in self.job_env.items()
                   if cache or key != "FLAGOPS_JUDGE_CACHE"}
        variables = {"CI_PROJECT_DIR": str(ci.path), "CI_COMMIT_SHA": sha, **env}
        return subprocess.run(["bash", "-eo", "pipefail", "-c", _job_commands(ci.path)],
                              cwd=ci.path, capture_output=True, text=True,
                              env={**inherited, **job_env, **variables}, check=False)

    def report(self, name: str) -> str:
        return (self.ci_dir / name).read_text(encoding="utf-8")


@pytest.fixture
def forge(tmp_path: Path, package: dict[str, bytes], job_env: dict[str, str]) -> Forge:
    forge = Forge(tmp_path, job_env)
    dev = forge.dev
    forge.write_files(package)
    dev.write_flag("calendly_invite_link", "beta", **BETA)  # type: ignore[arg-type]
    dev.write_flag("other_flag", "off")
    dev.commit("flagops and flags", at=int(time.time()) - 10 * DAY)
    dev.git("push", "-q", "origin", "main")
    return forge


def _merge_request(forge: Forge, branch: str) -> str:
    forge.dev.commit(branch, at=int(time.time()) - DAY)
    forge.dev.git("push", "-q", "origin", branch)
    return forge.dev.head()


def _concurrent_merge_to_main(forge: Forge, **flags: dict[str, object]) -> None:
    """Someone else's merge request lands on main while ours is open."""
    dev = forge.dev
    branch = dev.git("rev-parse", "--abbrev-ref", "HEAD").strip()
    dev.git("checkout", "-q", "main")
    for name, state in flags.items():
        dev.write_flag(name, **state)  # type: ignore[arg-type]
    dev.commit("concurrent change", at=int(time.time()) - 3600)
    dev.git("push", "-q", "origin", "main")
    dev.git("checkout", "-q", branch)


MR = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_PIPELINE_SOURCE":
      "merge_request_event", "CI_DEFAULT_BRANCH": "main"}
PUSH = {"CI_COMMIT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push", "CI_DEFAULT_BRANCH": "main"}


def test_legal_merge_request_passes_and_is_judged_as_merged(forge: Forge) -> None:
    forge.dev.git("checkout", "-q", "-b", "ten-percent")
    forge.dev.write_flag("calendly_invite_link", "percentage",
                         percentage=("actors", 10), **BETA)  # type: ignore[arg-type]
    sha = _merge_request(forge, "ten-percent")
    _concurrent_merge_to_main(forge, other_flag={"stage": "staging"})
    done = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert done.returncode == 0, done.stdout + done.stderr
    tip = forge.dev.git("rev-parse", "origin/main").strip()
    assert f"validate-flags: judged by flagops from the tip of main ({tip})" in done.stderr
    assert "the merge of" in done.stderr and "into refs/remotes/origin/main" in done.stderr
    plan = forge.report("flagops-plan.md")
    assert "`calendly_invite_link`: beta (1 actor) → percentage 10% of actors" in plan
    assert "/chatops run feature set calendly_invite_link 10 --actors" in plan
    assert "other_flag" not in plan  # main's own change is not this merge request's
    assert json.loads(forge.report("gl-code-quality-report.json")) == []
    suite = ET.fromstring(forge.report("junit.xml"))
    assert {case.get("name") for case in suite.iter("testcase")} >= {"calendly_invite_link"}


def test_illegal_step_fails_the_job_with_reports(forge: Forge) -> None:
    forge.dev.git("checkout", "-q", "-b", "everyone")
    forge.dev.write_flag("calendly_invite_link", "enabled")
    sha = _merge_request(forge, "everyone")
    done = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert done.returncode == 1
    assert "error FO201 calendly_invite_link: beta (1 actor) → enabled skips percentage" in \
        done.stdout
    [issue] = json.loads(forge.report("gl-code-quality-report.json"))
    assert issue["check_name"] == "FO201"
    assert issue["location"] == {"path": "flags/calendly_invite_link.yml", "lines": {"begin": 12}}
    failures = [case for case in ET.fromstring(forge.report("junit.xml")).iter("testcase")
                if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == ["calendly_invite_link"]
    assert "**blocked**" in forge.report("flagops-plan.md")


def test_two_merge_requests_that_pass_alone_fail_together(forge: Forge) -> None:
    forge.dev.git("checkout", "-q", "-b", "new-flag")
    forge.dev.write_flag("survey_banner", "off", folder="flags/team_a")
    sha = _merge_request(forge, "new-flag")
    alone = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    shutil.rmtree(forge.ci_dir)
    _concurrent_merge_to_main(forge, survey_banner={"stage": "off", "folder": "flags/team_b"})
    together = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert together.returncode == 1, together.stdout + together.stderr
    assert "FO111 survey_banner: also defined in flags/team_" in together.stdout


def test_conflicting_merge_request_is_judged_itself_and_says_so(forge: Forge) -> None:
    forge.dev.git("checkout", "-q", "-b", "rollback")
    forge.dev.write_flag("calendly_invite_link", "off")
    sha = _merge_request(forge, "rollback")
    _concurrent_merge_to_main(forge, calendly_invite_link={
        "stage": "percentage", "percentage": ("actors", 10), **BETA})
    done = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert "does not merge cleanly" in done.stderr
    assert done.returncode == 0, done.stdout  # a rollback from the tip's state is legal


def test_direct_push_to_the_default_branch_gets_the_same_rules(forge: Forge) -> None:
    before = forge.dev.head()
    forge.dev.write_flag("calendly_invite_link", "enabled")
    forge.dev.commit("push straight to main", at=int(time.time()) - 60)
    forge.dev.git("push", "-q", "origin", "main")
    after = forge.dev.head()
    done = forge.run_job({**PUSH, "CI_COMMIT_BEFORE_SHA": before}, after)
    assert done.returncode == 1
    assert "FO201" in done.stdout
    assert json.loads(forge.report("gl-code-quality-report.json"))[0]["check_name"] == "FO201"


def _accept_everything(forge: Forge) -> None:
    """Rewrites the developer clone's validator so that every transition is legal."""
    transitions = forge.dev.path / "validator" / "transitions.py"
    transitions.write_text(transitions.read_text(encoding="utf-8") + ACCEPT_EVERYTHING,
                           encoding="utf-8")


def test_merge_request_that_rewrites_the_validator_is_judged_by_the_target(forge: Forge) -> None:
    """The merge request's validator accepts everything; the target tip's flagops judges."""
    forge.dev.git("checkout", "-q", "-b", "no-rules")
    _accept_everything(forge)
    forge.dev.write_flag("calendly_invite_link", "enabled")
    sha = _merge_request(forge, "no-rules")
    done = forge.run_job(MR, sha, cache=False)  # as in CI: a worktree and a venv, then removed
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error FO201 calendly_invite_link: beta (1 actor) → enabled skips percentage" in \
        done.stdout
    tip = forge.dev.git("rev-parse", "origin/main").strip()
    assert f"judged by flagops from the tip of main ({tip})" in done.stderr
    assert not list(Path(forge.job_env["TMPDIR"]).iterdir())  # the worktree and venv are gone
    [worktree] = Repo(forge.ci_dir, forge.home).git("worktree", "list").splitlines()
    assert worktree.startswith(str(forge.ci_dir))


def test_merge_request_that_rewrites_the_job_script_is_still_judged(forge: Forge) -> None:
    """.gitlab-ci.yml runs the target's .ci/validate-flags, not the one the merge request brings."""
    forge.dev.git("checkout", "-q", "-b", "no-job")
    forge.dev.write(".ci/validate-flags", "#!/usr/bin/env bash\nexit 0\n")
    forge.dev.write_flag("calendly_invite_link", "enabled")
    sha = _merge_request(forge, "no-job")
    done = forge.run_job(MR, sha)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FO201" in done.stdout
    own = subprocess.run(["bash", ".ci/validate-flags"], cwd=forge.ci_dir, capture_output=True,
                         check=False)
    assert own.returncode == 0  # what the job would have said had it run the checkout's copy


def test_push_to_the_default_branch_is_judged_by_the_flagops_before_it(forge: Forge) -> None:
    """Which flagops judges a push shows in the verdict: main's last state accepts everything,
    so a push that restores the real rules together with an illegal step passes. The push's own
    flagops (or this checkout's) would have refused it, as the previous test shows."""
    _accept_everything(forge)
    forge.dev.commit("a validator that accepts everything", at=int(time.time()) - 2 * DAY)
    forge.dev.git("push", "-q", "origin", "main")
    before = forge.dev.head()
    forge.dev.git("checkout", "-q", "HEAD~1", "--", "validator/transitions.py")
    forge.dev.write_flag("calendly_invite_link", "enabled")
    forge.dev.commit("the real rules again, and everyone", at=int(time.time()) - 60)
    forge.dev.git("push", "-q", "origin", "main")
    after = forge.dev.head()
    done = forge.run_job({**PUSH, "CI_COMMIT_BEFORE_SHA": before}, after)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"judged by flagops from the state before the push ({before})" in done.stderr


def test_fork_pipeline_fetches_the_target_from_the_upstream_project(
        forge: Forge, tmp_path: Path) -> None:
    """In a pipeline that runs in the fork, origin is the fork: its main (with a validator that
    accepts everything) is not the target, the upstream project's is."""
    fork = tmp_path / "fork.git"
    forge.dev.git("clone", "-q", "--bare", str(forge.origin), str(fork))
    forge.dev.git("remote", "add", "fork", str(fork))
    _accept_everything(forge)
    forge.dev.commit("the fork's main accepts everything", at=int(time.time()) - 2 * DAY)
    forge.dev.git("push", "-q", "fork", "main")
    forge.dev.write_flag("calendly_invite_link", "enabled")
    sha = forge.dev.commit("everyone", at=int(time.time()) - DAY)
    forge.dev.git("push", "-q", "fork", "HEAD:refs/heads/everyone")
    upstream = str(forge.origin.with_suffix(""))  # the project URL; git adds nothing, we do .git
    done = forge.run_job({**MR, "CI_PROJECT_ID": "2", "CI_MERGE_REQUEST_PROJECT_ID": "1",
                          "CI_MERGE_REQUEST_PROJECT_URL": upstream}, sha, origin=fork)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FO201" in done.stdout
    assert "this pipeline runs in the fork" in done.stderr


def test_push_to_another_branch_is_refused(forge: Forge) -> None:
    """A branch's own earlier state is its author's: only the default branch's can judge."""
    forge.dev.git("checkout", "-q", "-b", "feature")
    before = forge.dev.head()
    _accept_everything(forge)
    forge.dev.write_flag("calendly_invite_link", "enabled")
    after = forge.dev.commit("everyone", at=int(time.time()) - 60)
    forge.dev.git("push", "-q", "origin", "feature")
    done = forge.run_job({**PUSH, "CI_COMMIT_BRANCH": "feature", "CI_COMMIT_REF_NAME": "feature",
                          "CI_COMMIT_BEFORE_SHA": before}, after)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == ("validate-flags: neither a merge request nor a main pipeline: no trusted"
                           " state to judge with (feature)\n")


@pytest.mark.parametrize(("target_has", "message"), [
    (GATE, "has no flagops package (no pyproject.toml for project flagops)"),
    ((), "main has no .ci/validate-flags; the merge request's own copy is not run"),
])
def test_target_without_flagops_is_refused_in_one_line(
        tmp_path: Path, package: dict[str, bytes], job_env: dict[str, str],
        target_has: tuple[str, ...], message: str) -> None:
    """A merge request that brings flagops (or its job) to a target that has none is not judged
    by its own code."""
    forge = Forge(tmp_path, job_env)
    forge.write_files({name: package[name] for name in target_has})
    forge.dev.write_flag("calendly_invite_link", "beta", **BETA)  # type: ignore[arg-type]
    forge.dev.commit("flags", at=int(time.time()) - 10 * DAY)
    forge.dev.git("push", "-q", "origin", "main")
    forge.dev.git("checkout", "-q", "-b", "bring-flagops")
    forge.write_files(package)
    sha = _merge_request(forge, "bring-flagops")
    done = forge.run_job(MR, sha)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("validate-flags: ") and message in line
    assert not (forge.ci_dir / "flagops-plan.md").exists()
    assert not list(Path(job_env["TMPDIR"]).glob("flagops-judge.*"))  # cleaned up
