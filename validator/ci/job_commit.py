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


_MERGE_COMMIT_EVENTS = frozenset(("pull_request", "pull_request_target"))
"""GitHub events whose GITHUB_SHA is GitHub's merge commit (or the base's tip), which a job
may well not check out: every other event's is the commit `actions/checkout` checks out."""


def job_commit(environ: Mapping[str, str]) -> JobCommit | None:
    """GitLab's CI_COMMIT_SHA in CI_PROJECT_DIR; GitHub's GITHUB_SHA in GITHUB_WORKSPACE, but
    for a pull request; None outside CI."""
    if environ.get("GITLAB_CI") == "true" and environ.get("CI_COMMIT_SHA", "").strip():
        return JobCommit("CI_COMMIT_SHA", environ["CI_COMMIT_SHA"].strip(),
                         environ.get("CI_PROJECT_DIR", ""))
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_SHA", "").strip() \
            and environ.get("GITHUB_EVENT_NAME") not in _MERGE_COMMIT_EVENTS:
        return JobCommit("GITHUB_SHA", environ["GITHUB_SHA"].strip(),
                         environ.get("GITHUB_WORKSPACE", ""))
    return None
