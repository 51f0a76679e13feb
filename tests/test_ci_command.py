"""`flagops ci gitlab|github`: the host's variables decide what a pipeline judges (pure, every
branch of the decision), and the GitHub job runs for real against a bare origin (the GitLab one
is walked end to end in tests/test_first_hour.py and, for this repository, tests/test_gitlab_ci.py).
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from teamrepo import Team

from validator.ci import github, gitlab
from validator.ci.base import NO_COMMIT, Fetch, NothingToJudge

SHA, BEFORE = "c" * 40, "b" * 40
DAY = 24 * 3600
MR = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main",
      "CI_COMMIT_SHA": SHA}
PUSH = {"CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": SHA}


def test_gitlab_merge_request_judges_the_merge_into_the_fetched_target() -> None:
    job = gitlab.job(MR, {})
    assert (job.base, job.head, job.merged) == ("refs/remotes/origin/main", SHA, True)
    assert job.fetch == Fetch("origin", "main", "refs/remotes/origin/main")
    assert job.fetch.refspec == "+refs/heads/main:refs/remotes/origin/main"
    assert job.files == (("codequality", "gl-code-quality-report.json"), ("junit", "junit.xml"))
    assert (job.comment, job.notes) == (False, ())
    assert gitlab.job({**MR, "FLAGOPS_GITLAB_TOKEN": "t"}, {}).comment


def test_gitlab_pipeline_in_a_fork_fetches_the_upstream_project() -> None:
    fork = {**MR, "CI_PROJECT_ID": "2", "CI_MERGE_REQUEST_PROJECT_ID": "1",
            "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example/group/flags"}
    job = gitlab.job(fork, {})
    assert job.fetch is not None and job.fetch.remote == "https://gitlab.example/group/flags.git"
    assert job.notes == (gitlab.FORK_NOTE,)
    same = gitlab.job({**fork, "CI_PROJECT_ID": "1"}, {})  # the target project's own pipeline
    assert same.fetch is not None and same.fetch.remote == "origin"


@pytest.mark.parametrize(("before", "base"), [(BEFORE, BEFORE), (NO_COMMIT, None), ("", None)])
def test_gitlab_default_branch_judges_the_push_or_every_file(before: str, base: str | None
                                                             ) -> None:
    job = gitlab.job({**PUSH, "CI_COMMIT_BEFORE_SHA": before}, {})
    assert (job.base, job.head, job.merged, job.fetch) == (base, SHA, False, None)


def test_gitlab_other_branches_are_refused() -> None:
    with pytest.raises(NothingToJudge, match=r"neither a merge request nor a main pipeline: no "
                       r"trusted state to judge with \(feature\)"):
        gitlab.job({**PUSH, "CI_COMMIT_BRANCH": "feature", "CI_COMMIT_REF_NAME": "feature"}, {})


GH_PUSH = {"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
           "GITHUB_SHA": SHA}
REPOSITORY = {"repository": {"default_branch": "main"}}


def test_github_pull_request_judges_the_merge_commit_into_the_base_branch() -> None:
    job = github.job({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main",
                      "GITHUB_SHA": SHA, "GITHUB_REF_NAME": "7/merge"}, {})
    assert (job.base, job.head, job.merged, job.annotations) == (
        "refs/remotes/origin/main", SHA, True, True)
    assert job.fetch == Fetch("origin", "main", "refs/remotes/origin/main")
    with pytest.raises(NothingToJudge, match="without GITHUB_BASE_REF"):
        github.job({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": SHA}, {})


@pytest.mark.parametrize(("before", "base"), [(BEFORE, BEFORE), (NO_COMMIT, None)])
def test_github_push_to_the_default_branch_reads_before_from_the_event(
        before: str, base: str | None) -> None:
    job = github.job(GH_PUSH, {**REPOSITORY, "before": before})
    assert (job.base, job.head, job.merged, job.fetch) == (base, SHA, False, None)


@pytest.mark.parametrize(("environ", "event"), [
    ({**GH_PUSH, "GITHUB_REF": "refs/heads/feature", "GITHUB_REF_NAME": "feature"},
     {**REPOSITORY, "before": BEFORE}),
    # a tag named like the default branch: GITHUB_REF_NAME is `main` for it too
    ({**GH_PUSH, "GITHUB_REF": "refs/tags/main"}, {**REPOSITORY, "before": NO_COMMIT}),
    ({**GH_PUSH, "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/tags/main"},
     REPOSITORY),
    ({key: value for key, value in GH_PUSH.items() if key != "GITHUB_REF"}, REPOSITORY),
    ({**GH_PUSH, "GITHUB_EVENT_NAME": "issue_comment"}, {}),
])
def test_github_other_events_and_branches_are_refused(environ: dict[str, str],
                                                      event: dict[str, object]) -> None:
    with pytest.raises(NothingToJudge, match="no trusted state to judge with"):
        github.job(environ, event)


def _pull_request(team: Team, head: str) -> dict[str, str]:
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": "staging", "GITHUB_REF_NAME": "1/merge", "GITHUB_SHA": head}


def test_github_job_annotates_a_pull_request_and_judges_a_push(tmp_path: Path) -> None:
    """init --github, a first commit, then the scaffolded workflow's steps as GitHub runs them:
    a pull request that skips stages fails with annotations, its fix passes and lands, and the
    push is judged from the event's `before`."""
    team = Team(tmp_path, "--github")
    now = int(time.time())
    assert team.commit("Start our flags", at=now - 3 * DAY).returncode == 0
    first = team.push()
    start = team.pipeline({**GH_PUSH, "GITHUB_SHA": first}, first, host="github",
                          event={**REPOSITORY, "before": NO_COMMIT})
    assert start.returncode == 0, start.stdout + start.stderr
    assert "judging every flag file of this commit of main" in start.stderr

    team.branch("staging")
    flag = team.path / "flags/example_flag.yml"
    flag.write_text(flag.read_text(encoding="utf-8").replace("stage: off", "stage: enabled"),
                    encoding="utf-8")
    team.commit("everyone at once", at=now - 2 * DAY)
    refused = team.pipeline(_pull_request(team, team.push()), team.repo.head(), host="github")
    assert refused.returncode == 1
    assert "::error file=flags/example_flag.yml,line=11,col=8,title=FO201::example_flag: off → " \
           "enabled skips staging, beta, percentage" in refused.stdout
    summary = (tmp_path / "ci" / "2-summary.md").read_text(encoding="utf-8")
    assert "**blocked**" in summary and "FO201" in summary
    junit = ET.parse(team.last_ci / "junit.xml").getroot()
    assert junit.get("tests") == junit.get("failures") == "1"
    assert "in 1 file" in refused.stderr  # the summary counts what JUnit lists

    flag.write_text(flag.read_text(encoding="utf-8").replace("stage: enabled", "stage: staging"),
                    encoding="utf-8")
    team.commit("staging only", at=now - 2 * DAY)
    passed = team.pipeline(_pull_request(team, team.push()), team.repo.head(), host="github")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "example_flag`: off → staging" in passed.stdout

    before, after = team.merge("staging", at=now - DAY)
    pushed = team.pipeline({**GH_PUSH, "GITHUB_SHA": after}, after, host="github",
                           event={**REPOSITORY, "before": before})
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert f"judging a push to main: {before} → {after}" in pushed.stderr
    assert (team.last_ci / "flagops.sarif").is_file()


def test_github_push_to_another_branch_is_refused(tmp_path: Path) -> None:
    team = Team(tmp_path, "--github")
    team.commit("Start", at=int(time.time()) - DAY)
    sha = team.push()
    done = team.pipeline({**GH_PUSH, "GITHUB_REF": "refs/heads/feature",
                          "GITHUB_REF_NAME": "feature"}, sha, host="github",
                         event={**REPOSITORY, "before": BEFORE})
    assert done.returncode == 2
    assert done.stderr == ("flagops: error: a push event on refs/heads/feature, not a pull "
                           "request or a push to the branch main: no trusted state to judge "
                           "with\n")


def test_gitlab_merged_results_pipeline_judges_the_source_not_gitlabs_merge_commit() -> None:
    """There CI_COMMIT_SHA is GitLab's own merge commit; judged as the head, it would look like
    a merge commit the author made (FO213 with require_merge_commits)."""
    merged = {**MR, "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
              "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": BEFORE}
    assert (gitlab.job(merged, {}).head, gitlab.job(merged, {}).merged) == (BEFORE, True)
    detached = {**merged, "CI_MERGE_REQUEST_EVENT_TYPE": "detached"}
    assert gitlab.job(detached, {}).head == SHA


def test_github_pull_request_judges_the_requests_own_head_from_the_event() -> None:
    """GITHUB_SHA is GitHub's merge commit; the request's commits end at pull_request.head."""
    environ = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main", "GITHUB_SHA": SHA}
    job = github.job(environ, {"pull_request": {"head": {"sha": BEFORE}}})
    assert (job.head, job.base, job.merged) == (BEFORE, "refs/remotes/origin/main", True)
    for forged in ("HEAD~1", "main", {"sha": BEFORE}, None):
        assert github.job(environ, {"pull_request": {"head": {"sha": forged}}}).head == SHA


def test_github_pull_request_with_merge_commits_required_is_not_its_own_merge(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With require_merge_commits, judging GitHub's merge commit as the head made every pull
    request carry a merge "made by its author" (FO213): a legal one-commit step was refused."""
    import io
    import json

    from gitrepo import Repo

    from validator.cli import main

    now, home = int(time.time()), tmp_path / "home"
    dev = Repo.create(tmp_path / "dev", home)
    dev.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    dev.write_flag("demo", "off")
    dev.commit("demo off", at=now - 3 * DAY)
    origin = dev.publish(tmp_path / "origin.git")
    dev.git("checkout", "-q", "-b", "step")
    dev.write_flag("demo", "staging")
    dev.commit("demo to staging", at=now - 600)
    dev.git("push", "-q", str(origin), "step")
    ci = Repo(tmp_path / "ci", home)
    ci.git("clone", "-q", str(origin), str(ci.path))
    ci.git("checkout", "-q", "--detach", "origin/main")
    ci.git("merge", "-q", "--no-ff", "origin/step", "-m", "Merge step into main", at=now)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": dev.head()}}}))
    for key, value in {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main",
                       "GITHUB_SHA": ci.head(), "GITHUB_EVENT_PATH": str(event),
                       **ci.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ci.path)
    assert main(["-C", str(ci.path), "ci", "github"], out=io.StringIO()) == 0


def test_a_deeply_nested_github_event_file_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # json.loads raises RecursionError (no ValueError) past ~1,000 levels: it was exit 3.
    import io

    from validator.cli import main

    event = tmp_path / "event.json"
    event.write_text('{"pull_request": ' * 50_000, encoding="utf-8")
    for key, value in {**GH_PUSH, "GITHUB_EVENT_PATH": str(event)}.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "flags").mkdir()
    code = main(["-C", str(tmp_path), "ci", "github"], out=io.StringIO())
    err = capsys.readouterr().err
    assert code in (1, 2) and "internal error" not in err, err
    assert "GITHUB_EVENT_PATH" in err and "nested too deeply" in err, err
