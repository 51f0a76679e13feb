"""Where `plan --comment` keeps the plan: the merge request of this GitLab CI pipeline, or the
pull request of this GitHub Actions run, read from each CI's own variables. One comment, found
again by its marker and edited in place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from validator.digits import whole_number
from validator.errors import UserError
from validator.trackers.base import Thread
from validator.trackers.choose import Kind, host_of, tracker

PLAN_MARKER = "<!-- flagops-plan -->"
_NEEDS = ("--comment needs a merge request pipeline (GitLab CI: CI_API_V4_URL, CI_PROJECT_ID, "
          "CI_MERGE_REQUEST_IID; a token in FLAGOPS_GITLAB_TOKEN or GITLAB_TOKEN) or a "
          "pull_request run (GitHub Actions: GITHUB_REPOSITORY, GITHUB_EVENT_PATH; GITHUB_TOKEN)")


def publish_plan(markdown: str, environ: Mapping[str, str]) -> str:
    """Adds the plan or edits the earlier one; says which it did, and where."""
    host, kind, thread = review_thread(environ)
    done = tracker(host, kind, environ).keep_note(thread, PLAN_MARKER,
                                                  f"{PLAN_MARKER}\n{markdown}", "edit")
    where = "merge request" if kind == "gitlab" else "pull request"
    return f"added the plan to the {where}" if done == "added" else \
        f"updated the plan on the {where}"


def review_thread(environ: Mapping[str, str]) -> tuple[str, Kind, Thread]:
    if environ.get("CI_MERGE_REQUEST_IID"):
        return _gitlab(environ)
    if environ.get("GITHUB_EVENT_PATH") and environ.get("GITHUB_REPOSITORY"):
        return _github(environ)
    raise UserError(_NEEDS)


def _gitlab(environ: Mapping[str, str]) -> tuple[str, Kind, Thread]:
    project = environ.get("CI_MERGE_REQUEST_PROJECT_ID") or environ.get("CI_PROJECT_ID")
    api = environ.get("CI_API_V4_URL")
    iid = whole_number(environ.get("CI_MERGE_REQUEST_IID", ""))
    if not (project and api and iid is not None):
        raise UserError(_NEEDS)
    host = host_of(environ.get("CI_SERVER_URL") or api)
    return host, "gitlab", Thread(project, iid, "merge_request")


def _github(environ: Mapping[str, str]) -> tuple[str, Kind, Thread]:
    event = _event(Path(environ["GITHUB_EVENT_PATH"]))
    pull = event.get("pull_request")
    number = pull.get("number") if isinstance(pull, dict) else None
    if not isinstance(number, int):
        raise UserError("--comment on GitHub runs on pull_request events; this event has no "
                        "pull request number")
    host = host_of(environ.get("GITHUB_SERVER_URL") or "https://github.com")
    return host, "github", Thread(environ["GITHUB_REPOSITORY"], number, "merge_request")


def _event(path: Path) -> dict[str, Any]:
    from validator.config_file import event_object

    return event_object(path, f"GITHUB_EVENT_PATH ({path})")
