"""An attacker's review of the CI entry points (2026-11-30): a merge queue that merges a group on
its last entry's check, and merges of the author's that land on no first-parent line. Real
repositories with a bare origin, `flagops ci github` with GitHub's variables and event."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from gitrepo import Repo

from validator.cli import main

DAY = 24 * 3600
BETA = ("Project:gitlab-org/gitlab",)


def _queue(tmp_path: Path, first_stage: str) -> tuple[Repo, dict[str, str]]:
    """origin's main holds demo at beta for a week; the queue: entry 1 (pull request 1 takes
    demo to `first_stage`) on main's tip, entry 2 (pull request 2, documentation) on entry 1.
    Their commits by name: tip, entry1, entry2."""
    now = int(time.time())
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "beta", actors=BETA)
    tip = repo.commit("demo at beta", at=now - 7 * DAY)
    repo.git("remote", "add", "origin", str(repo.publish(tmp_path / "origin.git")))
    repo.git("checkout", "-q", "-b", "pr1")
    if first_stage == "percentage":
        repo.write_flag("demo", "percentage", actors=BETA, percentage=("actors", 10))
    else:
        repo.write_flag("demo", first_stage, actors=BETA)
    repo.commit("pull request 1", at=now - 900)
    repo.git("checkout", "-q", "-b", "pr2", tip)
    repo.write("NOTES.md", "notes\n")
    repo.commit("pull request 2", at=now - 800)
    repo.git("checkout", "-q", "--detach", tip)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr1", at=now - 60)
    entry1 = repo.head()
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #2", "pr2", at=now - 60)
    return repo, {"tip": tip, "entry1": entry1, "entry2": repo.head()}


def _entry(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, head: str,
           base: str) -> tuple[int, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"merge_group": {
        "head_sha": head, "base_sha": base, "base_ref": "refs/heads/main",
        "head_ref": f"refs/heads/gh-readonly-queue/main/pr-2-{base}"},
        "repository": {"default_branch": "main"}}), encoding="utf-8")
    for key, value in {"GITHUB_EVENT_NAME": "merge_group", "GITHUB_SHA": head,
                       "GITHUB_REF": f"refs/heads/gh-readonly-queue/main/pr-2-{base}",
                       "GITHUB_EVENT_PATH": str(event), **repo.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo.path)
    repo.git("checkout", "-q", "--detach", head)
    out = io.StringIO()
    return main(["-C", str(repo.path), "ci", "github"], out=out), out.getvalue()


def test_the_last_entry_of_a_merge_queue_judges_the_entries_ahead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With "Only merge non-failing pull requests" unticked, GitHub merges the group once its
    last entry's check passes: entry 2, documentation judged on entry 1, passed, and entry 1's
    skip (beta → enabled, FO201) landed."""
    repo, commits = _queue(tmp_path, "enabled")
    code, out = _entry(repo, tmp_path, monkeypatch, commits["entry1"], commits["tip"])
    assert code == 1 and "FO201" in out
    code, out = _entry(repo, tmp_path, monkeypatch, commits["entry2"], commits["entry1"])
    assert code == 1 and f"an entry ahead in the merge queue ({commits['entry1'][:12]})" in out


def test_a_legal_group_passes_and_a_queue_off_the_tip_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, commits = _queue(tmp_path, "percentage")
    code, out = _entry(repo, tmp_path, monkeypatch, commits["entry2"], commits["entry1"])
    assert code == 0, out
    repo.git("checkout", "-q", "main")
    repo.write("CHANGELOG.md", "moved on\n")
    repo.commit("main moved", at=int(time.time()) - 30)
    repo.git("push", "-q", "origin", "main")
    code, _ = _entry(repo, tmp_path, monkeypatch, commits["entry2"], commits["entry1"])
    assert code == 2  # the queue is built again on the new tip


def _rollback_after_update_branch(tmp_path: Path) -> tuple[Repo, str, str]:
    """require_merge_commits; demo at beta for a week on main, then another change lands on
    main; the branch rolls demo back to staging and merges main in ("Update branch")."""
    now = int(time.time())
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.write_flag("demo", "beta", actors=BETA)
    repo.commit("demo at beta", at=now - 7 * DAY)
    repo.git("checkout", "-q", "-b", "rollback")
    repo.write_flag("demo", "staging")
    repo.commit("demo back to staging", at=now - 3600)
    repo.git("checkout", "-q", "main")
    repo.write("NOTES.md", "notes\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "notes", at=now - 1800)
    tip = repo.head()
    repo.git("checkout", "-q", "rollback")
    repo.git("merge", "-q", "--no-edit", "main", at=now - 600)
    return repo, tip, repo.head()


def test_a_rollback_that_updated_its_branch_passes_where_no_fast_forward_lands(
        tmp_path: Path) -> None:
    """FO213 refuses an author's merge that a fast-forward would put on the base branch's
    first-parent line (where require_merge_commits reads soaks). A GitHub pull request never
    lands so: its "Update branch" merge refused the rollback. Where a fast-forward can land
    (GitLab, a push) it is still refused."""
    repo, tip, head = _rollback_after_update_branch(tmp_path)
    args = ["-C", str(repo.path), "validate", "--base", tip, "--head", head, "--merged"]
    assert main([*args, "--no-fast-forward"], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(args, out=out) == 1 and "FO213" in out.getvalue()


def test_an_author_merge_off_the_first_parent_line_is_no_history_rewrite(
        tmp_path: Path) -> None:
    """A merge queue entry (or a push) that a server's merge brought in holds the author's
    "Update branch" merge on its second-parent side, on no first-parent line the soak clock
    reads: FO213 refused the entry. One on the first-parent line still is."""
    repo, tip, head = _rollback_after_update_branch(tmp_path)
    repo.git("checkout", "-q", "--detach", tip)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #3", head)
    queued = repo.head()
    args = ["-C", str(repo.path), "validate", "--base", tip]
    assert main([*args, "--head", queued], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main([*args, "--head", head], out=out) == 1 and "FO213" in out.getvalue()
