"""The merge request note through python-gitlab (validator/trackers), against a GitLab stand-in
served on 127.0.0.1 by http.server: notes paginated as GitLab pages them (Link headers)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from gitrepo import Repo
from tracker_stand_in import serve

from validator.errors import UserError
from validator.trackers.review import PLAN_MARKER as MARKER
from validator.trackers.review import publish_plan

NOTES_PATH = "/api/v4/projects/group%2Fflags/merge_requests/7/notes"
BOT = {"id": 77, "username": "project_7_bot"}
"""The project access token's user: the author of the notes the token adds."""


class FakeGitLab:
    """Just enough of GitLab's notes API: paginated list, create, edit, and a token check."""

    def __init__(self, token: str = "secret", page_size: int = 2) -> None:
        self.token = token
        self.page_size = page_size
        self.notes: list[dict[str, Any]] = [{"id": 1, "body": "LGTM"}, {"id": 2, "body": "ok"}]
        self.requests: list[tuple[str, str]] = []
        self.base = ""

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any, dict[
            str, str]]:
        self.requests.append((method, path))
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        url = urlsplit(path)
        if method == "GET" and url.path == "/api/v4/user":  # the token's own user
            return 200, {"id": BOT["id"], "username": BOT["username"]}, {}
        if method == "GET" and url.path == NOTES_PATH:
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            start = (page - 1) * self.page_size
            more = start + self.page_size < len(self.notes)
            link = f'<{self.base}{url.path}?page={page + 1}&per_page={self.page_size}>; ' \
                'rel="next"'
            return 200, self.notes[start:start + self.page_size], {
                "X-Next-Page": str(page + 1) if more else "", **({"Link": link} if more else {})}
        if method == "POST" and url.path == NOTES_PATH:
            note = {"id": len(self.notes) + 1, "body": json.loads(body)["body"], "author": BOT}
            self.notes.append(note)
            return 201, note, {}
        if method == "PUT" and url.path.startswith(f"{NOTES_PATH}/"):
            note_id = int(url.path.rsplit("/", 1)[1])
            [note] = [n for n in self.notes if n["id"] == note_id]
            note["body"] = json.loads(body)["body"]
            return 200, note, {}
        return 404, {"message": "404 Not Found"}, {}


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    with serve(FakeGitLab()) as fake:
        yield fake, f"{fake.base}/api/v4"


def _ci(api: str, token: str = "secret") -> dict[str, str]:
    return {"CI_API_V4_URL": api, "CI_PROJECT_ID": "group/flags", "CI_MERGE_REQUEST_IID": "7",
            "FLAGOPS_GITLAB_TOKEN": token, "FLAGOPS_HTTP_RETRIES": "0"}


def test_the_plan_note_is_added_once_then_edited(gitlab: tuple[FakeGitLab, str]) -> None:
    fake, api = gitlab
    fake.notes.append({"id": 3, "body": "a third comment pushes ours to page two"})
    assert publish_plan("first plan", _ci(api)) == "added the plan to the merge request"
    assert publish_plan("second plan", _ci(api)) == "updated the plan on the merge request"
    ours = [note for note in fake.notes if note["body"].startswith(MARKER)]
    assert [note["body"] for note in ours] == [f"{MARKER}\nsecond plan"]
    assert ("PUT", f"{NOTES_PATH}/4") in fake.requests
    assert any("page=2" in path for _, path in fake.requests)


def test_a_refused_token_is_one_clear_error_without_the_token(
        gitlab: tuple[FakeGitLab, str]) -> None:
    _, api = gitlab
    with pytest.raises(UserError, match=r"GitLab \(.*/api/v4\): 401: the token was refused") \
            as raised:
        publish_plan("plan", _ci(api, "wrong-token-value"))
    assert "wrong-token-value" not in str(raised.value)


def test_plan_comment_from_the_ci_variables(gitlab: tuple[FakeGitLab, str],
                                            tmp_path: Path) -> None:
    fake, api = gitlab
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write_flag("demo", "staging")
    env = {**repo.env, "CI_API_V4_URL": api, "CI_PROJECT_ID": "group/flags",
           "CI_MERGE_REQUEST_IID": "7", "FLAGOPS_GITLAB_TOKEN": "secret"}
    done = subprocess.run([sys.executable, "-m", "validator", "plan", "--base", "HEAD",
                           "--comment"], cwd=repo.path, env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "flagops: added the plan to the merge request" in done.stderr
    assert "### `demo`: off → staging" in fake.notes[-1]["body"]


def test_plan_comment_outside_a_merge_request_pipeline_says_what_is_missing(
        tmp_path: Path) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("add", at=int(time.time()))
    ci_variables = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID",
                    "FLAGOPS_GITLAB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
    env = {key: value for key, value in repo.env.items() if key not in ci_variables}
    done = subprocess.run([sys.executable, "-m", "validator", "plan", "--base", "HEAD",
                           "--comment"], cwd=repo.path, env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 1
    assert "--comment needs a merge request pipeline (GitLab CI: CI_API_V4_URL, CI_PROJECT_ID, " \
        "CI_MERGE_REQUEST_IID" in done.stderr


@pytest.mark.parametrize("tracker", ["down", "refusing the token"])
def test_a_note_the_tracker_does_not_take_never_changes_the_gates_verdict(
        gitlab: tuple[FakeGitLab, str], tmp_path: Path, tracker: str) -> None:
    """`flagops ci gitlab` keeps the plan on the merge request when it can: a tracker down
    (nothing listens) or a token refused (401) is a warning line, and the rollback passes
    with its reports written, as it does without a token."""
    fake, api = gitlab
    fake.notes.clear()
    token = "expired-token"
    if tracker == "down":
        api = "http://127.0.0.1:9/api/v4"
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging")
    repo.commit("add", at=int(time.time()) - 86400)
    repo.git("remote", "add", "origin", str(repo.publish(tmp_path / "origin.git")))
    repo.git("checkout", "-q", "-b", "rollback")
    repo.write_flag("demo", "off")
    head = repo.commit("roll back", at=int(time.time()) - 60)
    env = {**repo.env, **_ci(api, token), "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
           "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_SHA": head, "FLAGOPS_HTTP_TIMEOUT": "3"}
    done = subprocess.run([sys.executable, "-m", "validator", "ci", "gitlab"], cwd=repo.path,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flagops: warning: the plan was not kept on the merge request: GitLab" in done.stderr
    assert token not in done.stdout + done.stderr and fake.notes == []
    assert (repo.path / "gl-code-quality-report.json").is_file()
    assert (repo.path / "junit.xml").is_file()
