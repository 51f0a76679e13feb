"""The trackers against real HTTP stand-ins of GitHub and GitLab on 127.0.0.1: PyGithub and
python-gitlab as flagops runs them, through the commands, with the CI variables each sets."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitrepo import Repo, flag_yaml
from tracker_stand_in import TOKEN, Fault, Forge, serve

from validator.cli import main

PROJECT = {"github": "owner/flags", "gitlab": "group/flags"}
KINDS = ("github", "gitlab")
CI_VARIABLES = ("GITHUB_API_URL", "GITHUB_SERVER_URL", "GITHUB_TOKEN", "GITHUB_EVENT_PATH",
                "GITHUB_REPOSITORY", "CI_API_V4_URL", "CI_SERVER_URL", "CI_PROJECT_ID",
                "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_PROJECT_ID", "FLAGOPS_GITLAB_TOKEN",
                "GITLAB_TOKEN")


def issue_url(kind: str, number: int) -> str:
    if kind == "github":
        return f"https://github.com/{PROJECT[kind]}/issues/{number}"
    return f"https://gitlab.com/{PROJECT[kind]}/-/issues/{number}"


@pytest.fixture(params=KINDS)
def forge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forge]:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLAGOPS_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("FLAGOPS_HTTP_RETRIES", "2")
    monkeypatch.setenv("FLAGOPS_HTTP_BACKOFF", "0")
    with serve(Forge(request.param)) as running:
        if running.kind == "github":
            monkeypatch.setenv("GITHUB_API_URL", running.base)
            monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        else:
            monkeypatch.setenv("CI_API_V4_URL", f"{running.base}/api/v4")
            monkeypatch.setenv("FLAGOPS_GITLAB_TOKEN", TOKEN)
        yield running


def flag_text(kind: str, name: str = "demo", *, rollout: int | None = 1,
              cleanup: int | None = None, stage: str = "off") -> str:
    text = flag_yaml(name, stage, actors=["User:alice"] if stage == "beta" else ())
    url = f"rollout_issue_url: {issue_url(kind, rollout)}" if rollout else "rollout_issue_url:"
    text = text.replace("rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
                        url)
    if cleanup:
        text += f"cleanup_issue_url: {issue_url(kind, cleanup)}\n"
    return text


def run(root: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(["-C", str(root), *argv], out=out)
    captured = capsys.readouterr()
    return code, out.getvalue() + captured.out, captured.err


def tree(tmp_path: Path, kind: str, files: dict[str, str], tracker: bool = True) -> Path:
    root = Repo.create(tmp_path / "repo", tmp_path / "home").path
    for name, text in files.items():
        (root / "flags").mkdir(parents=True, exist_ok=True)
        (root / "flags" / f"{name}.yml").write_text(text, encoding="utf-8")
    home = "https://github.com" if kind == "github" else "https://gitlab.com"
    policy = f'tracker = "{home}/{PROJECT[kind]}"\n' if tracker else ""
    (root / "pyproject.toml").write_text(f"[tool.flagops]\n{policy}", encoding="utf-8")
    return root


# validate --check-links -------------------------------------------------------------------

def test_check_links_reports_missing_and_closed_issues_where_the_urls_are(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1)
    forge.add_issue(project, 2, state="closed")
    forge.add_issue(project, 3, state="closed")
    root = tree(tmp_path, forge.kind, {
        "fine": flag_text(forge.kind, "fine", rollout=1),
        "gone": flag_text(forge.kind, "gone", rollout=9),
        "early": flag_text(forge.kind, "early", rollout=2, stage="beta"),
        "kept": flag_text(forge.kind, "kept", rollout=1, cleanup=3)})
    code, out, err = run(root, "validate", "--check-links", "--format", "json", capsys=capsys)
    assert out, err
    found = {(f["rule"], f["path"], f["line"], f["column"]) for f in json.loads(out)}
    assert found == {("FO501", "flags/gone.yml", 7, 20), ("FO504", "flags/early.yml", 7, 20),
                     ("FO503", "flags/kept.yml", 14, 20)}, err
    assert code == 1


def test_validate_without_check_links_asks_no_tracker(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, forge.kind, {"gone": flag_text(forge.kind, "gone", rollout=9)})
    code, _, _ = run(root, "validate", capsys=capsys)
    assert code == 0 and forge.requests == []


def test_a_missing_token_is_one_warning_per_tracker(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("FLAGOPS_GITLAB_TOKEN", raising=False)
    root = tree(tmp_path, forge.kind, {name: flag_text(forge.kind, name, rollout=1, cleanup=2)
                                       for name in ("one", "two")})
    code, out, _ = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 0  # a warning: never a silent pass, never a failure of the gate
    assert out.count("FO505") == 1 and "no token: set" in out
    assert forge.requests == []


def test_an_unreachable_tracker_is_one_warning_not_a_traceback(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens
    monkeypatch.setenv("GITHUB_API_URL", closed)
    monkeypatch.setenv("CI_API_V4_URL", f"{closed}/api/v4")
    root = tree(tmp_path, forge.kind, {name: flag_text(forge.kind, name, rollout=1)
                                       for name in ("one", "two")})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 0 and out.count("FO505") == 1 and "cannot connect" in out
    assert "Traceback" not in err


def test_403_and_forbidden_issue(forge: Forge, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    forge.add_issue(PROJECT[forge.kind], 1, state="forbidden")
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, _ = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO502" in out and code == 0


def test_403_with_rate_limit_headers_says_when_it_resets(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reset = int(time.time()) + 3600
    forge.faults.append(Fault(403, {"X-RateLimit-Remaining": "0",
                                    "X-RateLimit-Reset": str(reset),
                                    "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
                              body={"message": "API rate limit exceeded"}))
    forge.add_issue(PROJECT[forge.kind], 1)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert out.count("FO505") == 1 and code == 0, out + err
    assert "rate limit exhausted (403); it resets at" in out
    assert len(forge.requests) == 1  # a 403 is not retried


def test_429_then_success(forge: Forge, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    forge.faults.append(Fault(429, {"Retry-After": "0"}))
    forge.faults.append(Fault(503))
    forge.add_issue(PROJECT[forge.kind], 1, state="closed")
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1, stage="beta")})
    code, out, _ = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO504" in out and "FO505" not in out and code == 1
    assert len(forge.requests) == 3


def test_retries_are_bounded(forge: Forge, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    forge.faults += [Fault(502) for _ in range(5)]
    forge.add_issue(PROJECT[forge.kind], 1)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, _ = run(root, "validate", "--check-links", capsys=capsys)
    assert "still failing (429 or 5xx) after 3 tries" in out and code == 0
    assert len(forge.requests) == 3


def test_a_long_retry_after_is_not_waited_for(forge: Forge, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    forge.faults.append(Fault(429, {"Retry-After": "3600"}))
    forge.add_issue(PROJECT[forge.kind], 1)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    started = time.monotonic()
    code, out, _ = run(root, "validate", "--check-links", capsys=capsys)
    assert "the server asks to wait 3600 s" in out and code == 0
    assert time.monotonic() - started < 5


def test_a_timeout_is_one_clear_line(forge: Forge, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGOPS_HTTP_TIMEOUT", "0.3")
    forge.faults.append(Fault(delay=2.5))
    forge.add_issue(PROJECT[forge.kind], 1)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    started = time.monotonic()
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    shown = "1" if forge.kind == "github" else "0.3"  # PyGithub takes whole seconds only
    assert f"no answer within {shown} s (FLAGOPS_HTTP_TIMEOUT)" in out and code == 0, out + err
    assert time.monotonic() - started < 2.4


# issue rollout|cleanup --create -------------------------------------------------------------

@pytest.mark.parametrize("which", ["rollout", "cleanup"])
def test_create_opens_the_issue_and_writes_its_url_keeping_every_other_byte(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str) -> None:
    forge.add_issue(PROJECT[forge.kind], 1)
    original = flag_text(forge.kind, rollout=None if which == "rollout" else 1)
    original = original.replace("stage: off", "stage: off   # a comment that stays\r") \
        .replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    if which == "cleanup":
        original += "cleanup_issue_url:   # filled in by flagops\r\n"
    root = tree(tmp_path, forge.kind, {"demo": original})
    code, out, err = run(root, "issue", which, "demo", "--create", capsys=capsys)
    assert code == 0, err
    url = issue_url(forge.kind, 2)
    assert f"opened {url}" in out
    field = f"{which}_issue_url:"
    expected = original.replace(f"{field}\r\n", f"{field} {url}\r\n") if which == "rollout" \
        else original.replace(f"{field}   #", f"{field} {url}   #")
    assert (root / "flags" / "demo.yml").read_bytes() == expected.encode()
    created = forge.issues[(PROJECT[forge.kind], 2)]
    title = "Rollout of `demo`" if which == "rollout" else "Cleanup `demo`"
    assert created["title"] == f"[Feature flag] {title}"
    assert created["body"].startswith(f"<!-- flagops-{which}-issue -->")


def test_a_second_run_after_a_lost_answer_finds_the_issue_and_opens_no_other(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server opens the issue, and its answer never comes in time: the line says the
    issue may be open, and the next run takes that issue, opened by this token with this
    title, rather than open a second one."""
    monkeypatch.setenv("FLAGOPS_HTTP_TIMEOUT", "0.3")
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    before = (root / "flags" / "demo.yml").read_bytes()
    forge.faults.append(Fault(delay=2.5, done=True, method="POST"))
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and "no answer within" in err and "may have been opened" in err, err
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err, err
    assert (root / "flags" / "demo.yml").read_bytes() == before
    assert list(forge.issues) == [(PROJECT[forge.kind], 1)]  # opened all the same
    code, out, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 0, err
    assert f"found {issue_url(forge.kind, 1)}" in out and "opened no other" in out
    assert list(forge.issues) == [(PROJECT[forge.kind], 1)]
    assert f"rollout_issue_url: {issue_url(forge.kind, 1)}" in \
        (root / "flags" / "demo.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("state", "author", "filtered"), [
    ("open", "someone-else", True), ("closed", None, True), ("open", "someone-else", False),
    ("closed", None, False)])
def test_only_an_open_issue_this_token_opened_is_taken_for_a_lost_answer(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], state: str,
        author: str | None, filtered: bool) -> None:
    """Anyone may open an issue of the same title: one of theirs would put their text in the
    flag's rollout issue. A closed one of ours is the rollout before this one. Both hold
    where the server answers every issue, whatever the list asked for."""
    forge.filters_ignored = not filtered
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1, state=state, title="[Feature flag] Rollout of `demo`",
                    author=author or forge.login)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    code, out, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 0 and f"opened {issue_url(forge.kind, 2)}" in out, out + err
    assert (project, 2) in forge.issues


def test_create_refuses_a_flag_that_has_its_issue(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and "has a rollout issue already" in err and forge.requests == []


def test_a_refused_token_is_one_line_that_never_shows_the_token(
        forge: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "wrong-" + TOKEN[::-1]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    env = {"GITHUB_TOKEN": wrong} if forge.kind == "github" else {"FLAGOPS_GITLAB_TOKEN": wrong}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import os

    before = (root / "flags" / "demo.yml").read_bytes()
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(root), "issue",
                           "rollout", "demo", "--create"], capture_output=True, text=True,
                          env=dict(os.environ), check=False)
    assert done.returncode == 1
    assert "401: the token was refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert wrong not in done.stdout + done.stderr and TOKEN not in done.stdout + done.stderr
    assert (root / "flags" / "demo.yml").read_bytes() == before
    (root / "flags" / "demo.yml").write_text(flag_text(forge.kind, rollout=1), encoding="utf-8")
    report = tmp_path / "report.sarif"
    links = subprocess.run([sys.executable, "-m", "validator", "-C", str(root), "validate",
                            "--check-links", "--format", "sarif", "--output", str(report)],
                           capture_output=True, text=True, env=dict(os.environ), check=False)
    shown = links.stdout + links.stderr + report.read_text(encoding="utf-8")
    assert "FO505" in shown and "401: the token was refused" in shown
    assert wrong not in shown and TOKEN not in shown


# plan --comment -------------------------------------------------------------------------

def _review_env(forge: Forge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if forge.kind == "github":
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7}}), encoding="utf-8")
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
        monkeypatch.setenv("GITHUB_REPOSITORY", PROJECT["github"])
    else:
        monkeypatch.setenv("CI_PROJECT_ID", PROJECT["gitlab"])
        monkeypatch.setenv("CI_MERGE_REQUEST_IID", "7")


def test_plan_comment_is_created_once_then_edited_in_place(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _review_env(forge, tmp_path, monkeypatch)
    thread = "issue" if forge.kind == "github" else "merge_request"
    forge.notes[(PROJECT[forge.kind], thread, 7)] = [{"id": 1, "body": "LGTM", "url": ""}]
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind))
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    where = "pull request" if forge.kind == "github" else "merge request"
    assert code == 0 and f"added the plan to the {where}" in err
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging").replace(
        "More bookings.", "Even more bookings."))
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    assert code == 0 and f"updated the plan on the {where}" in err
    notes = forge.notes[(PROJECT[forge.kind], thread, 7)]
    assert [note["body"].splitlines()[0] for note in notes] == ["LGTM", "<!-- flagops-plan -->"]
    assert "### `demo`: off → staging" in notes[1]["body"]


def test_plan_comment_outside_a_review_says_what_is_missing(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind))
    repo.commit("add", at=int(time.time()))
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    assert code == 1 and "--comment needs a merge request pipeline (GitLab CI" in err


# announce -------------------------------------------------------------------------------

def test_announce_adds_one_note_per_step_even_when_run_twice(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1)
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="beta"))
    base = repo.commit("beta", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="beta").replace(
        "stage: beta", "stage: percentage").replace(
        "default_enabled", "percentage: {of: actors, value: 10}\ndefault_enabled"))
    head = repo.commit("10%", at=int(time.time()) - 3600)
    for _ in range(2):
        code, out, err = run(repo.path, "announce", "--base", base, capsys=capsys)
        assert code == 0, err
    assert "already announced on" in out
    [note] = forge.notes[(project, "issue", 1)]
    assert f"`demo` is now on for User:alice plus 10% of actors in production since " \
        f"{head[:12]}." in note["body"]
    assert note["body"].startswith(f"<!-- flagops-announce demo {head[:12]} -->")


def test_announce_calls_a_rollback_one(forge: Forge, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    forge.add_issue(PROJECT[forge.kind], 1)
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    base = repo.commit("staging", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="off"))
    repo.commit("off", at=int(time.time()) - 3600)
    code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert code == 0, err
    [body] = forge.all_notes()
    assert "**Rollback of `demo`**: staging → off" in body
    assert "`demo` is now off in staging" in body


def test_announce_calls_the_removal_of_a_live_flag_a_rollback(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleted at staging (never released), the flag goes off for all: it was announced as
    the "Rollout" of its removal."""
    forge.add_issue(PROJECT[forge.kind], 1)
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    base = repo.commit("staging", at=int(time.time()) - 86400)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("gone", at=int(time.time()) - 3600)
    code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert code == 0, err
    [body] = forge.all_notes()
    assert "**Rollback of `demo`**: staging → removed" in body


def test_the_gitlab_ci_announce_job_announces_a_merge(tmp_path: Path) -> None:
    """The `announce` job's script, read from .gitlab-ci.yml, run as GitLab runs it."""
    import os

    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(Path(__file__).resolve().parents[1] / ".gitlab-ci.yml")[
        "announce"]
    assert "$FLAGOPS_GITLAB_TOKEN" in job["rules"][0]["if"]
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text("gitlab", stage="off"))
    base = repo.commit("off", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text("gitlab", stage="staging"))
    head = repo.commit("staging", at=int(time.time()) - 3600)
    shim = tmp_path / "bin" / "flagops"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m validator "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    with serve(Forge("gitlab")) as forge:
        forge.add_issue(PROJECT["gitlab"], 1)
        env = {**{k: v for k, v in repo.env.items() if k not in CI_VARIABLES},
               "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
               "CI_COMMIT_BEFORE_SHA": base, "CI_COMMIT_SHA": head,
               "CI_API_V4_URL": f"{forge.base}/api/v4", "FLAGOPS_GITLAB_TOKEN": TOKEN}
        for _ in range(2):  # a retried job adds nothing
            done = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(job["script"])],
                                  cwd=repo.path, env=env, capture_output=True, text=True,
                                  check=False)
            assert done.returncode == 0, done.stderr
        [body] = forge.all_notes()
    assert f"`demo` is now on for everyone in staging since {head[:12]}." in body


def test_check_links_in_range_mode_asks_only_about_changed_flags(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forge.add_issue(PROJECT[forge.kind], 1)
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/kept.yml", flag_text(forge.kind, "kept", rollout=8))
    repo.write("flags/changed.yml", flag_text(forge.kind, "changed", rollout=1))
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/changed.yml", flag_text(forge.kind, "changed", rollout=9))
    code, out, err = run(repo.path, "validate", "--base", "HEAD", "--check-links",
                         capsys=capsys)
    assert code == 1 and "flags/changed.yml:7:20: error FO501" in out, out + err
    assert "kept" not in out and len(forge.requests) == 1


@pytest.mark.parametrize("to", ["staging", "off"])
def test_a_closed_or_deleted_issue_never_holds_up_a_rollback(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], to: str) -> None:
    """FO504 says to roll back to off; the rollback, and one to staging, pass with the
    tracker's findings as warnings. The same closed issue still refuses a step forward."""
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1, state="closed")
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind, "demo", rollout=1, stage="beta"))
    repo.write("flags/kept.yml", flag_text(forge.kind, "kept", rollout=1, cleanup=1))
    home = "https://github.com" if forge.kind == "github" else "https://gitlab.com"
    repo.write("pyproject.toml", f'[tool.flagops]\ntracker = "{home}/{project}"\n')
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, "demo", rollout=1, stage=to))
    repo.write("flags/kept.yml", flag_text(forge.kind, "kept", rollout=9, cleanup=1, stage="beta")
               .replace("User:alice", "User:bob"))
    code, out, err = run(repo.path, "validate", "--base", "HEAD", "--check-links",
                         "--format", "json", capsys=capsys)
    found = {(f["path"], f["rule"], f["severity"]) for f in json.loads(out)}
    assert ("flags/kept.yml", "FO501", "error") in found, out + err  # forward: still refused
    assert ("flags/kept.yml", "FO503", "error") in found
    demo = {finding for finding in found if finding[0] == "flags/demo.yml"}
    assert demo == ({("flags/demo.yml", "FO504", "warning")} if to == "staging" else set())
    assert code == 1
    repo.write("flags/kept.yml", flag_text(forge.kind, "kept", rollout=1, cleanup=1))
    code, out, err = run(repo.path, "validate", "--base", "HEAD", "--check-links",
                         capsys=capsys)
    assert code == 0 and (to == "off" or "not held against a rollback" in out), out + err


# the token stays on the configured host ---------------------------------------------------

class Elsewhere:
    """Another server on 127.0.0.1 (another port: another origin) that records what reaches it."""

    base = ""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def handle(self, method: str, path: str, headers: object,
               body: bytes) -> tuple[int, object, dict[str, str]]:
        self.seen.append((method, path, dict(headers.items())))  # type: ignore[attr-defined]
        return 200, [], {}


@pytest.mark.parametrize("forge", ["gitlab"], indirect=True)  # PyGithub follows none there
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_never_carries_the_token(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int) -> None:
    # requests drops Authorization on a redirect to another host, but not python-gitlab's
    # PRIVATE-TOKEN header: the configured GitLab's answer chose where the token went.
    with serve(Elsewhere()) as elsewhere:
        forge.faults.append(Fault(status, {"Location": f"{elsewhere.base}/steal"}))
        root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
        code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert elsewhere.seen == []
    assert code == 0 and out.count("FO505") == 1 and "another host" in out, out + err
    assert TOKEN not in out + err


@pytest.mark.parametrize("forge", ["gitlab"], indirect=True)  # PyGithub refuses it itself
def _off_then_staging(forge: Forge, tmp_path: Path) -> tuple[Repo, str, str]:
    """A repository whose flag went off (a day ago) → staging (an hour ago): its base and
    head commits."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="off"))
    base = repo.commit("off", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    return repo, base, repo.commit("staging", at=int(time.time()) - 3600)


def test_a_next_page_on_another_host_never_carries_the_token(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # python-gitlab follows a list's `Link: <…>; rel="next"` wherever it points (with a
    # warning that prints the server's text raw).
    forge.add_issue(PROJECT["gitlab"], 1)
    repo, base, _ = _off_then_staging(forge, tmp_path)
    with serve(Elsewhere()) as elsewhere:
        link = f'<{elsewhere.base}/api/v4/steal?page=2>; rel="next"'
        forge.faults.append(Fault(200, {"Link": link}, body=[]))  # type: ignore[arg-type]
        code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert elsewhere.seen == []
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert TOKEN not in err and elsewhere.base not in err, err


# answers of the wrong shape --------------------------------------------------------------

@pytest.mark.parametrize("answer", [{}, {"state": "weird", "title": "x"}, {"state": 7},
                                    {"state": None, "title": None}, [], "text"])
def test_an_issue_answer_of_the_wrong_shape_is_one_warning_not_a_traceback(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        answer: object) -> None:
    # The answer is the server's: a proxy's page, another API version, a hostile host. An
    # issue with no known state is not an open one (that would pass the link silently).
    forge.faults.append(Fault(200, body=answer))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "internal error" not in err and "Traceback" not in err, err
    assert code == 0 and out.count("FO505") == 1, out + err
    assert len([line for line in out.splitlines() if "FO505" in line]) == 1


@pytest.mark.parametrize("answer", [{}, {"html_url": None, "web_url": 7}, []])
def test_an_opened_issue_without_its_url_is_one_line_and_no_edit(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        answer: object) -> None:
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    before = (root / "flags" / "demo.yml").read_bytes()
    forge.faults.append(Fault(201, body=answer, method="POST"))  # type: ignore[arg-type]
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and "internal error" not in err, err
    assert "answered no URL" in err or "is not GitLab's API" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert (root / "flags" / "demo.yml").read_bytes() == before


def test_a_redirect_cannot_write_the_servers_text_raw_to_the_terminal(
        forge: Forge, tmp_path: Path) -> None:
    # PyGithub logs at INFO to stderr from its import on ("Following Github server redirection
    # from … to <the Location's path>"): the server's bytes, an ESC included, on the job log.
    import os

    forge.add_issue(PROJECT[forge.kind], 1)
    path = "/repos/owner/flags/issues/1" if forge.kind == "github" else \
        "/api/v4/projects/group%2Fflags/issues/1"
    forge.faults.append(Fault(301, {"Location": f"{forge.base}{path}\x1b[2J\x1b[31mRED"}))
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(root), "validate",
                           "--check-links"], capture_output=True, text=True,
                          env=dict(os.environ), check=False, timeout=60)
    assert "\x1b" not in done.stdout + done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr


@pytest.mark.parametrize("status", [301, 302, 303, 307])
@pytest.mark.parametrize("location", ["/elsewhere", "elsewhere", "ftp://127.0.0.1/x", ""])
def test_a_redirect_the_client_cannot_follow_is_one_line(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int,
        location: str) -> None:
    # PyGithub raises RuntimeError for a Location without its scheme, and reads a 302's own
    # body as the issue (a TypeError on {"message": …}): internal errors, exit 3.
    forge.add_issue(PROJECT[forge.kind], 1)
    forge.faults.append(Fault(status, {"Location": location}))
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "internal error" not in err and code in (0, 1), err
    assert len([line for line in out.splitlines() if " FO50" in line]) == 1, out + err


@pytest.mark.parametrize("event", ["[" * 100_000, '{"pull_request": ' * 50_000])
def test_a_deeply_nested_event_file_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        event: str) -> None:
    # json.loads raises RecursionError (not a ValueError) past ~1,000 levels: exit 3.
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "event.json"
    path.write_text(event, encoding="utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    monkeypatch.setenv("GITHUB_REPOSITORY", PROJECT["github"])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text("github"))
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text("github", stage="staging"))
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    assert code == 1 and "internal error" not in err, err
    assert "GITHUB_EVENT_PATH" in err and "nested" in err, err


# markers count only on the token's own notes --------------------------------------------

def test_a_plan_marker_in_someone_elses_comment_is_not_the_plan(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Anyone may write the marker into a comment. Taken for ours, flagops edited the author's
    # comment (GitHub), whose author could then edit a forged plan back in, or was refused the
    # edit (GitLab: 403) and kept no plan at all.
    _review_env(forge, tmp_path, monkeypatch)
    thread = "issue" if forge.kind == "github" else "merge_request"
    forged = {"id": 1, "body": "<!-- flagops-plan -->\n## flagops plan\n\nA rollback, legal.",
              "url": "", **forge.author("mallory", 13)}
    forge.notes[(PROJECT[forge.kind], thread, 7)] = [dict(forged)]
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind))
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    assert code == 0 and "added the plan" in err, err
    notes = forge.notes[(PROJECT[forge.kind], thread, 7)]
    assert notes[0] == forged and len(notes) == 2
    assert "### `demo`: off → staging" in notes[1]["body"]
    code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
    assert code == 0 and "updated the plan" in err and len(notes) == 2 and notes[0] == forged


def test_an_announce_marker_in_someone_elses_note_does_not_silence_the_announcement(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1)
    repo, base, head = _off_then_staging(forge, tmp_path)
    forge.notes[(project, "issue", 1)] = [{
        "id": 1, "body": f"<!-- flagops-announce demo {head[:12]} -->", "url": "",
        **forge.author("mallory", 13)}]
    code, out, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert code == 0 and "demo: announced on" in out, out + err
    assert len(forge.notes[(project, "issue", 1)]) == 2


@pytest.mark.parametrize("forge", ["github"], indirect=True)  # GitHub integrations' tokens
@pytest.mark.parametrize("bot", ["github-actions[bot]", "flagops-app[bot]"])
def test_an_integration_token_finds_its_own_plan_comment(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, bot: str) -> None:
    # github.token or an app's token may not ask GET /user (403 to an integration); it
    # comments as a bot, and the plan is still kept as one comment, never a person's.
    forge.login = bot
    _review_env(forge, tmp_path, monkeypatch)
    forge.notes[(PROJECT["github"], "issue", 7)] = [{
        "id": 1, "body": "<!-- flagops-plan -->\nforged", "url": "",
        **forge.author("mallory", 13)}]
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/demo.yml", flag_text(forge.kind))
    repo.commit("add", at=int(time.time()) - 86400)
    repo.write("flags/demo.yml", flag_text(forge.kind, stage="staging"))
    for said in ("added the plan", "updated the plan"):
        forge.faults.append(Fault(403, body={"message": "Resource not accessible by integration"}))
        code, _, err = run(repo.path, "plan", "--base", "HEAD", "--comment", capsys=capsys)
        assert code == 0 and said in err, err
    notes = forge.notes[(PROJECT["github"], "issue", 7)]
    assert len(notes) == 2 and notes[0]["body"].endswith("forged")


@pytest.mark.parametrize("answer", [[7], {"a": 1}, None, [{"body": 7, "user": "x", "author": 5}],
                                    [{"body": ["<!-- m -->"]}]],
                         ids=["numbers", "object", "null", "body-number", "body-list"])
def test_a_notes_answer_of_the_wrong_shape_is_one_line(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: object) -> None:
    # The libraries build objects from whatever the list answered: TypeError, KeyError and
    # PyGithub's BadAttributeException went through flagops as internal errors (exit 3).
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1)
    repo, base, _ = _off_then_staging(forge, tmp_path)
    forge.faults += [Fault(200, body={"login": forge.login, "id": forge.user_id}),
                     Fault(200, body=answer)]  # type: ignore[arg-type]
    code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert "internal error" not in err and code in (0, 1), err
    assert len(err.strip().splitlines()) <= 1, err
