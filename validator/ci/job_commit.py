"""The commit a CI job was started for, and the folder its own checkout is in, from the host's
variables alone: what `build`, `export` and `sync` compare a checkout with before they ship
it (validator/shipping.py). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class JobCommit(NamedTuple):
    variable: str
    """The variable that names it, for the refusal's words."""
    sha: str
    workspace: str
    """Where the runner checks the job's own project out (empty where the host says not)."""
    project: str
    """The project's path on its host (`group/project`, `owner/repo`), as a clone's remote
    names it; empty where the host says not."""
    branch: str = ""
    """The branch the job runs for (a push's, GitLab's branch pipeline's); empty for a tag,
    a merge request or a pull request."""


_NOT_THE_REQUEST = frozenset((
    "pull_request", "pull_request_target", "pull_request_review",
    "pull_request_review_comment", "issue_comment", "workflow_run", "check_suite",
    "check_run"))
"""GitHub events whose GITHUB_SHA is GitHub's merge commit or the base branch's tip, not
the commit the gate judged (a pull request's head: validator/ci/github.py), so a job may
well not check it out: every other event's is the commit `actions/checkout` checks out."""


def job_commit(environ: Mapping[str, str]) -> JobCommit | None:
    """GitLab's CI_COMMIT_SHA in CI_PROJECT_DIR; GitHub's GITHUB_SHA in GITHUB_WORKSPACE, but
    for events about a pull request; None outside CI."""
    if environ.get("GITLAB_CI") == "true" and environ.get("CI_COMMIT_SHA", "").strip():
        return JobCommit("CI_COMMIT_SHA", environ["CI_COMMIT_SHA"].strip(),
                         environ.get("CI_PROJECT_DIR", ""), environ.get("CI_PROJECT_PATH", ""),
                         environ.get("CI_COMMIT_BRANCH", ""))
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_SHA", "").strip() \
            and environ.get("GITHUB_EVENT_NAME") not in _NOT_THE_REQUEST:
        ref = environ.get("GITHUB_REF", "")
        return JobCommit("GITHUB_SHA", environ["GITHUB_SHA"].strip(),
                         environ.get("GITHUB_WORKSPACE", ""),
                         environ.get("GITHUB_REPOSITORY", ""),
                         ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else "")
    return None


def names_project(url: str, project: str) -> bool:
    """Does a remote's URL name the job's project (`https://host/group/project.git`,
    `git@host:group/project`)? Compared by the project's path, case aside."""
    if not project:
        return False
    path = url.strip().rstrip("/").removesuffix(".git").replace(":", "/").lower()
    return path == project.lower() or path.endswith("/" + project.strip("/").lower())
