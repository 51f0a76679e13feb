"""The CI jobs as GitLab runs them: the pipeline file is valid, and .ci/validate-flags judges
a merge request against its target's current tip in a real origin/clone setup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gitrepo import Repo

PROJECT = Path(__file__).resolve().parents[1]
JOB = PROJECT / ".ci" / "validate-flags"
DAY = 24 * 3600
BETA = {"actors": ("Project:gitlab-org/gitlab",)}


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


class Forge:
    """An origin repository, a developer clone and the CI clone of one merge request."""

    def __init__(self, tmp: Path) -> None:
        self.home = tmp / "home"
        self.origin = tmp / "origin.git"
        Repo(tmp, self.home).git("init", "-q", "--bare", "-b", "main", str(self.origin))
        self.dev = self._clone(tmp / "dev")
        self.ci_dir = tmp / "ci"

    def _clone(self, path: Path) -> Repo:
        repo = Repo(path.parent, self.home)
        repo.git("clone", "-q", str(self.origin), str(path))
        return Repo(path, self.home)

    def run_job(self, env: dict[str, str], sha: str) -> subprocess.CompletedProcess[str]:
        ci = self._clone(self.ci_dir)
        ci.git("checkout", "-q", "--detach", sha)
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        return subprocess.run(["bash", str(JOB)], cwd=ci.path, capture_output=True, text=True,
                              env={**ci.env, "PATH": path, **env}, check=False)

    def report(self, name: str) -> str:
        return (self.ci_dir / name).read_text(encoding="utf-8")


@pytest.fixture
def forge(tmp_path: Path) -> Forge:
    forge = Forge(tmp_path)
    dev = forge.dev
    dev.write_flag("calendly_invite_link", "beta", **BETA)  # type: ignore[arg-type]
    dev.write_flag("other_flag", "off")
    dev.commit("flags", at=int(time.time()) - 10 * DAY)
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
      "merge_request_event"}


def test_legal_merge_request_passes_and_is_judged_as_merged(forge: Forge) -> None:
    forge.dev.git("checkout", "-q", "-b", "ten-percent")
    forge.dev.write_flag("calendly_invite_link", "percentage",  # type: ignore[arg-type]
                         percentage=("actors", 10), **BETA)
    sha = _merge_request(forge, "ten-percent")
    _concurrent_merge_to_main(forge, other_flag={"stage": "staging"})
    done = forge.run_job({**MR, "CI_COMMIT_SHA": sha}, sha)
    assert done.returncode == 0, done.stdout + done.stderr
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
    assert together.returncode == 1
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
    done = forge.run_job({"CI_COMMIT_BEFORE_SHA": before, "CI_COMMIT_SHA": after}, after)
    assert done.returncode == 1
    assert "FO201" in done.stdout
    assert json.loads(forge.report("gl-code-quality-report.json"))[0]["check_name"] == "FO201"
