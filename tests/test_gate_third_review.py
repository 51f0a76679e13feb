"""The third review's attacks on the gate, each in a real repository through the command line:
every one of them must be refused, and the legal change next to it must still pass."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from test_gate_integrity import flagops

from validator.cli import main
from validator.git import PINNED_CONFIG

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}
FIFTY: dict[str, Any] = {"percentage": ("actors", 50), **BETA}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "percentage", **FIFTY)
    repo.commit("demo at 50%", at=NOW - 10 * DAY)
    return repo


# The index holds what the commit records, and nothing else.

def test_an_intent_to_add_entry_does_not_keep_a_deleted_live_flag_alive(repo: Repo) -> None:
    """`git add -N` puts a placeholder in the index that no commit records (and `git diff
    --cached` does not show). The hook took it for a file still carrying the flag's name, so
    the staged deletion of a live flag was not judged at all; the commit deleted it."""
    repo.git("rm", "-q", "flags/demo.yml")
    repo.write("flags/team/demo.yml", flag_yaml("demo", "percentage", **FIFTY))
    repo.git("add", "--intent-to-add", "flags/team/demo.yml")
    code, found, _ = flagops(repo, "validate", "--staged")
    assert code == 1 and found == ["FO208:error"]
    repo.git("add", "flags/team/demo.yml")  # staged for real: a move, which passes
    assert flagops(repo, "validate", "--staged")[:2] == (0, [])


@pytest.mark.parametrize("placeholder", ["flags/demo.yml", "flags/x.yml/demo.yml"])
def test_an_intent_to_add_entry_is_judged_as_the_commit_records_it(repo: Repo,
                                                                   placeholder: str) -> None:
    """Where the placeholder replaces the live flag's own file (`git rm --cached`, then `git
    add -N`), or sits in a folder named like a flag, the commit records the deletion and no
    folder: the deletion is judged, and nothing is said about a file the commit lacks."""
    repo.git("rm", "-q", "--cached", "flags/demo.yml")
    if placeholder != "flags/demo.yml":
        repo.write(placeholder, flag_yaml("demo", "off"))
    repo.git("add", "--intent-to-add", placeholder)
    code, found, _ = flagops(repo, "validate", "--staged", "--all-files")
    assert code == 1 and found == ["FO208:error"]


# A CI run about a pull request judges that pull request, or nothing passes.

def _github_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event_name: str,
                event: dict[str, Any], *, fetch_head: bool = True) -> int:
    """origin's main holds demo at off; branch `jump` takes it to enabled at once (FO201).
    The CI clone is at main's tip, as a workflow triggered on the base branch checks it out
    (with the request's head fetched, as such workflows do to test it), and `flagops ci github`
    runs there with GitHub's variables for `event_name`."""
    import json

    now, home = int(time.time()), tmp_path / "home"
    dev = Repo.create(tmp_path / "dev", home)
    dev.write_flag("demo", "off")
    dev.commit("demo off", at=now - 3 * DAY)
    origin = dev.publish(tmp_path / "origin.git")
    dev.git("checkout", "-q", "-b", "jump")
    dev.write_flag("demo", "enabled")
    head = dev.commit("everyone at once", at=now - 600)
    dev.git("push", "-q", str(origin), "jump")
    ci = Repo(tmp_path / "ci", home)
    ci.git("clone", "-q", "--single-branch", "-b", "main", f"file://{origin}", str(ci.path))
    if fetch_head:
        ci.git("fetch", "-q", "origin", head)
    path = tmp_path / "event.json"
    payload = json.dumps(event).replace("HEAD_SHA", head)
    path.write_text(payload, encoding="utf-8")
    for key, value in {"GITHUB_EVENT_NAME": event_name, "GITHUB_BASE_REF": "main",
                       "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                       "GITHUB_SHA": ci.head(),
                       "GITHUB_EVENT_PATH": str(path), **ci.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ci.path)
    return main(["-C", str(ci.path), "ci", "github"], out=io.StringIO())


PULL_REQUEST = {"pull_request": {"head": {"sha": "HEAD_SHA"}, "base": {"ref": "main"}},
                "repository": {"default_branch": "main"}}


def test_a_pull_request_target_run_judges_the_request_not_the_base_branch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pull_request_target` runs on the base branch (GITHUB_REF_NAME main, GITHUB_SHA its
    tip): taken for a run started by hand there, it checked main's own files and passed,
    and the request's check went green however far its flags jumped."""
    assert _github_run(tmp_path, monkeypatch, "pull_request_target", PULL_REQUEST) == 1


@pytest.mark.parametrize(("event_name", "event"), [
    ("pull_request_target", {**PULL_REQUEST, "pull_request": {"head": {}}}),
    ("issue_comment", {"issue": {"number": 1, "pull_request": {"url": "https://x"}},
                       "repository": {"default_branch": "main"}}),
    ("pull_request_target", PULL_REQUEST),
])
def test_a_run_about_a_pull_request_it_cannot_judge_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event_name: str,
        event: dict[str, Any]) -> None:
    """Without the request's own head (a comment names none), or with a head this clone does
    not hold, nothing is judged: the run fails rather than pass on the base branch's files."""
    code = _github_run(tmp_path, monkeypatch, event_name, event,
                       fetch_head=event is not PULL_REQUEST)
    assert code in (1, 2) and code != 0


CARRIED = {"number": 7, "head": {"ref": "jump", "sha": "HEAD_SHA"},
           "base": {"ref": "main", "sha": "0" * 40}}


@pytest.mark.parametrize(("event_name", "event"), [
    ("workflow_run", {"workflow_run": {"event": "pull_request", "pull_requests": [CARRIED]}}),
    ("check_suite", {"check_suite": {"pull_requests": [CARRIED]}}),
    ("check_run", {"check_run": {"pull_requests": [CARRIED]}}),
    ("check_run", {"check_run": {"check_suite": {"pull_requests": [CARRIED]}}}),
])
def test_an_event_that_lists_its_pull_request_judges_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event_name: str,
        event: dict[str, Any]) -> None:
    """Workflow runs, check suites and check runs carry their pull requests in a list, not
    under `pull_request`: taken for a run started by hand on main, each checked main's own
    files and passed a request that jumps to enabled (the ninth review)."""
    event = {**event, "repository": {"default_branch": "main"}}
    assert _github_run(tmp_path, monkeypatch, event_name, event) == 1


@pytest.mark.parametrize("event", [
    {"workflow_run": {"event": "pull_request", "pull_requests": []}},
    {"check_suite": {"pull_requests": [CARRIED, {**CARRIED, "number": 8}]}},
    {"check_suite": {"pull_requests": [], "head_sha": "HEAD_SHA"}},
    {"check_run": {"pull_requests": [], "head_sha": "HEAD_SHA"}},
    {"workflow_run": {"event": "issue_comment", "pull_requests": [], "head_sha": "HEAD_SHA"}},
    {"workflow_run": {"event": "push", "pull_requests": [], "head_sha": "HEAD_SHA"}},
], ids=["fork", "two-requests", "fork-suite", "fork-check", "comment-run", "push-elsewhere"])
def test_an_event_about_pull_requests_it_cannot_tell_apart_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]) -> None:
    """A fork's pull request is not listed in its workflow run, check suite or check run
    (GitHub leaves the list empty), a check suite of a commit two requests share lists both,
    and a run started otherwise may concern another commit than the default branch's tip
    the job checks out (the fourth review): nothing passes."""
    event = {**event, "repository": {"default_branch": "main"}}
    assert _github_run(tmp_path, monkeypatch, "workflow_run", event) == 2


def test_a_status_about_another_commit_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `status` event runs on the default branch's tip and names the commit it is about
    (the fifth review: it passed on main's files while the jump was the request's head)."""
    event = {"sha": "HEAD_SHA", "branches": [{"name": "jump"}],
             "repository": {"default_branch": "main"}}
    assert _github_run(tmp_path, monkeypatch, "status", event) == 2


@pytest.mark.parametrize(("stage", "code"), [("enabled", 1), ("staging", 0)])
def test_a_merge_queue_entry_is_judged_on_the_entries_ahead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str, code: int) -> None:
    """GitHub's merge queue runs `merge_group` on its own commit of the request merged onto
    the entries ahead (`base_sha`): it was refused always (exit 2), so a repository that
    requires the check could merge nothing through the queue (the fifth review)."""
    import json

    now, home = int(time.time()), tmp_path / "home"
    repo = Repo.create(tmp_path / "repo", home)
    repo.write_flag("demo", "off")
    base = repo.commit("demo off", at=now - 3 * DAY)
    repo.git("remote", "add", "origin", str(repo.publish(tmp_path / "origin.git")))
    repo.git("checkout", "-q", "-b", "request")
    repo.write_flag("demo", stage)
    repo.commit(f"demo {stage}", at=now - 600)
    repo.git("checkout", "-q", "--detach", base)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge queue entry", "request", at=now - 60)
    group = repo.head()
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"merge_group": {"head_sha": group, "base_sha": base,
                                                "base_ref": "refs/heads/main"},
                                "repository": {"default_branch": "main"}}), encoding="utf-8")
    for key, value in {"GITHUB_EVENT_NAME": "merge_group", "GITHUB_SHA": group,
                       "GITHUB_REF_NAME": "gh-readonly-queue/main/pr-7-" + group,
                       "GITHUB_EVENT_PATH": str(path), **repo.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo.path)
    assert main(["-C", str(repo.path), "ci", "github"], out=io.StringIO()) == code


# The settings the gate pins win over every configuration source, `git -c` included.

def test_git_dash_c_cannot_unpin_the_settings_that_would_hide_an_edit(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """`git -c key=value <command>` hands its settings to what it runs (a hook, an alias) as
    GIT_CONFIG_PARAMETERS, which git reads after GIT_CONFIG_COUNT, where the pins were: with
    ctime and all but mtime and size untrusted, an edit of the same size whose mtime was put
    back was not shown to the gate, while `build` reads the edited file."""
    import os

    flag = repo.path / "flags/demo.yml"
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    os.utime(flag, (NOW - 3600, NOW - 3600))  # older than the index: not racily clean
    repo.commit("10%", at=NOW - 60)
    kept = os.stat(flag)
    time.sleep(1.1)  # git compares ctimes to the second
    repo.write_flag("demo", "percentage", **FIFTY)  # 10 → 50: the same number of bytes
    os.utime(flag, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert flagops(repo, "validate", "--base", "HEAD")[1] == ["FO204:error"]
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS",
                       "'core.trustctime'='false' 'core.checkstat'='minimal'")
    assert flagops(repo, "validate", "--base", "HEAD")[1] == ["FO204:error"]


OPPOSITE = {"true": "false", "false": "true", "default": "minimal", "none": "all",
            "first-parent": "combined", "1": "0", "30": "0",
            "/dev/null/flagops-runs-no-hook": ".git/hooks"}


@pytest.mark.parametrize(("key", "pinned"), PINNED_CONFIG)
def test_every_pin_wins_over_git_dash_c(key: str, pinned: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from validator import git

    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'{key}'='{OPPOSITE[pinned]}'")
    assert git.git(tmp_path, "config", "--get", key).decode().strip() == pinned


def test_the_repositorys_log_settings_change_no_history_the_gate_reads(repo: Repo) -> None:
    """With log.diffMerges = combined a merge commit shows only what differs from every parent:
    the merge that landed a removal showed none, so the removal's revert (a released flag
    coming back) read as a flag released from nowhere (FO207), a verdict that depended on the
    checkout's configuration."""
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("released", at=NOW - 5 * DAY)
    repo.git("checkout", "-q", "-b", "cleanup")
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge cleanup", "cleanup", at=NOW - 2 * DAY)
    repo.git("revert", "--no-edit", "-m", "1", "HEAD", at=NOW)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])
    repo.git("config", "log.diffMerges", "combined")
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])


# What build reads is what the gate judged: flags/ itself included.

@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"),
                                  ("--base", "HEAD~1", "--head", "HEAD", "--all-files"),
                                  ("--staged",)])
def test_a_file_in_place_of_the_flags_folder_is_refused_in_every_mode(
        tmp_path: Path, mode: tuple[str, ...]) -> None:
    """A change that replaced flags/ by a file named flags passed the range judge when every
    flag in it was off (deleting those is legal), and from then on build refused to run
    ("flags: not a folder"): no later change, not even an urgent rollback, could be built."""
    import shutil

    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("demo off", at=NOW - DAY)
    shutil.rmtree(repo.path / "flags")
    repo.write("flags", "see the wiki\n")
    if mode == ("--staged",):
        repo.git("add", "-A")
    else:
        repo.commit("flags moved to the wiki", at=NOW)
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and found == ["FO009:error"] and "not a folder" in text
    assert flagops(repo, "validate", "--no-cache")[0] == 1  # as the tree check says


# A merge train's car lands on the cars ahead of it, not on the target's tip.

def test_a_merge_train_judges_each_car_on_the_cars_ahead_of_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitLab's merge train pipeline for a car runs on its own merge commit of the request
    into the car ahead's (first parent: the target's tip plus the requests ahead), and that is
    what lands. The job judged the request merged into the target's tip alone: two requests
    that each add the flag `banner` in their own folder passed, one after the other in the
    train, and landed together (FO111; build refuses the target from then on)."""
    ci, cars = _train(tmp_path, {
        folder: (f"flags/{folder}/banner.yml", flag_yaml("banner", "off"))
        for folder in ("team_a", "team_b")})
    for car in cars:  # refs/merge-requests/<iid>/train: each car merged into the one ahead
        ci.git("merge", "-q", "--no-ff", "-m", f"Merge train car {car[:8]}", car,
               at=int(time.time()) - 60)
    train = ci.head()
    said = _train_job(ci, monkeypatch, train, cars[1])
    assert said.startswith("1\n") and "FO111" in said, said
    # A fast-forward train's first car is the request itself; the first car of this train
    # lands on the tip itself.
    assert _train_job(ci, monkeypatch, cars[1], cars[1]).startswith("0\n")
    first = ci.git("rev-parse", f"{train}~1").strip()
    assert _train_job(ci, monkeypatch, first, cars[0]).startswith("0\n")


def _ci_clone(path: Path, home: Path, origin: Path) -> Repo:
    """The CI runner's clone of the shared origin."""
    ci = Repo(path, home)
    ci.git("clone", "-q", str(origin), str(ci.path))
    return ci


def _squash_onto(ci: Repo, car: str, head: str, message: str, *, at: int) -> None:
    """The train's commit as GitLab squashes the request `head` onto `car`."""
    ci.git("checkout", "-q", "--detach", car)
    ci.git("merge", "-q", "--squash", head)
    ci.commit(message, at=at)


def _train(tmp_path: Path, changes: dict[str, tuple[str, str]]) -> tuple[Repo, list[str]]:
    """A CI clone of an origin whose main holds `demo` off and an empty policy, and one
    pushed branch per request (name → (path, text), committed with the message the name
    gives after a colon, if any), each from main: the cars of a train."""
    now, home = int(time.time()), tmp_path / "home"
    dev = Repo.create(tmp_path / "dev", home)
    dev.write_flag("demo", "off")
    dev.write("pyproject.toml", "[tool.flagops]\n")
    dev.commit("demo off", at=now - 3 * DAY)
    origin = dev.publish(tmp_path / "origin.git")
    cars = []
    for branch, (path, text) in changes.items():
        name, _, message = branch.partition(":")
        dev.git("checkout", "-q", "-b", name, "main")
        dev.write(path, text)
        cars.append(dev.commit(message or f"{name}'s change", at=now - 600))
        dev.git("push", "-q", str(origin), name)
    ci = _ci_clone(tmp_path / "ci", home, origin)
    ci.git("checkout", "-q", "--detach", "origin/main")
    return ci, cars


def _train_job(ci: Repo, monkeypatch: pytest.MonkeyPatch, train: str, source: str) -> str:
    for key, value in {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main",
                       "CI_PROJECT_ID": "1", "CI_MERGE_REQUEST_PROJECT_ID": "1",
                       "CI_MERGE_REQUEST_EVENT_TYPE": "merge_train", "CI_COMMIT_SHA": train,
                       "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": source, **ci.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ci.path)
    out = io.StringIO()
    code = main(["-C", str(ci.path), "ci", "gitlab"], out=out)
    return f"{code}\n{out.getvalue()}"


def test_a_fast_forward_train_judges_what_its_rebased_commit_lands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A fast-forward or semi-linear merge train rebases each car onto the one ahead: its
    commit is no merge, and the job judged the request on the target's tip alone and passed
    the same new flag in two folders (the ninth review). It now judges everything that
    commit lands; one that neither merges nor descends from the tip passes nothing."""
    ci, cars = _train(tmp_path, {
        "team_a": ("flags/team_a/banner.yml", flag_yaml("banner", "off")),
        "team_b": ("flags/team_b/banner.yml", flag_yaml("banner", "off"))})
    ci.git("cherry-pick", cars[0], cars[1], at=int(time.time()) - 60)
    said = _train_job(ci, monkeypatch, ci.head(), cars[1])
    assert said.startswith("1\n") and "FO111" in said, said
    assert f"on {cars[0][:7]}" not in capsys.readouterr().err  # on the rebased car ahead
    ci.git("checkout", "-q", "--orphan", "elsewhere")
    ci.write("flags/other.yml", flag_yaml("other", "off"))
    stray = ci.commit("a commit of no train", at=int(time.time()) - 60)
    said = _train_job(ci, monkeypatch, stray, cars[1])
    assert said.startswith("1\n"), said
    assert "neither merges the request" in capsys.readouterr().err


def _freeze_train(tmp_path: Path, shape: str) -> tuple[Repo, str]:
    """A car ahead that adds a freeze window lasting now, and a request of two commits (demo
    10 % → 50 %, soaked; a comment beside the freeze in pyproject.toml) rebased onto it as a
    fast-forward train would: one by one, squashed, or with the comment left out as already
    upstream (the car ahead carries it too); rebased and merged into it (semi-linear);
    stacked on the car's branch, or merging it in, so that the train's commit is the request
    itself (or the rebase drops the merge); or with a first commit that copies the car's
    author, date and message. The train's commit and the request's head."""
    now, home = int(time.time()), tmp_path / "home"
    dev = Repo.create(tmp_path / "dev", home)
    dev.write("pyproject.toml", "# flag policy\n[tool.flagops]\n")
    dev.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    dev.commit("demo at 10 %", at=now - 3 * DAY)
    origin = dev.publish(tmp_path / "origin.git")
    dev.git("checkout", "-q", "-b", "step")
    if shape == "copied":  # the car's author, date and message, on another file
        dev.write("README.md", "flags\n")
        dev.commit("freeze", at=now - 600)
    dev.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    dev.commit("demo to 50 %", at=now - 800)
    dev.write("pyproject.toml", "# the flag policy\n[tool.flagops]\n")
    head = dev.commit("the comment", at=now - 700)
    dev.git("checkout", "-q", "-b", "freeze", "main")
    if shape == "upstream":
        dev.git("cherry-pick", head, at=now - 700)
    text = (dev.path / "pyproject.toml").read_text()
    dev.write("pyproject.toml", text + f"\n[[tool.flagops.freeze]]\nstart = {now - DAY}\n"
              f"end = {now + DAY}\nreason = \"incident freeze\"\n")
    dev.commit("freeze", at=now - 600)
    if shape in ("stacked", "merged-car", "merged-car-rebased"):
        dev.git("checkout", "-q", "step")
        if shape == "stacked":
            dev.git("rebase", "-q", "freeze", at=now - 500)
        else:
            dev.git("merge", "-q", "--no-ff", "-m", "Merge the freeze in", "freeze",
                    at=now - 500)
        head = dev.head()
    dev.git("push", "-q", "-f", str(origin), "step", "freeze")
    ci = _ci_clone(tmp_path / "ci", home, origin)
    if shape == "squashed":
        _squash_onto(ci, "origin/freeze", head, "demo to 50 % (squashed)", at=now - 60)
    elif shape in ("stacked", "merged-car"):  # already on the car: no rebase
        ci.git("checkout", "-q", "--detach", head)
    else:  # a rebase leaves out what is upstream already, and merges
        ci.git("checkout", "-q", "-B", "train", head)
        ci.git("rebase", "-q", "origin/freeze", at=now - 60)
    if shape == "semi-linear":  # the rebased request merged into the car ahead
        rebased = ci.head()
        ci.git("checkout", "-q", "--detach", "origin/freeze")
        ci.git("merge", "-q", "--no-ff", "-m", "Merge the request", rebased, at=now - 60)
    return ci, head


@pytest.mark.parametrize("shape", ["rebased", "squashed", "upstream", "semi-linear", "stacked",
                                   "merged-car", "merged-car-rebased", "copied"])
def test_a_fast_forward_train_judges_the_request_on_the_car_ahead_whatever_its_shape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    """The car ahead was found by counting the request's commits: squashed, the count
    reached below it, to the tip, and its freeze did not hold; with a commit dropped as
    already upstream, it reached into it (the fifth review). Rebased onto a car that edited
    the lines around them, the request's commits have other patches too; what a rebase keeps
    is their author, date, message and paths. A request stacked on the car, or merging it
    in, holds the car's commits: they are not the request's, and a train commit that is the
    request itself is judged by the policy it lands with; a commit that copies the car's
    author, date and message makes the car's no commit of the request (the sixth review)."""
    ci, head = _freeze_train(tmp_path, shape)
    said = _train_job(ci, monkeypatch, ci.head(), head)
    assert said.startswith("1\n") and "error FO401" in said, said


@pytest.mark.parametrize("shape", ["squash-upstream", "merged-the-target"])
def test_a_legal_train_passes_whatever_its_shape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str) -> None:
    """No false refusal where the request is legal on the car ahead: a squash that leaves out
    a change the car ahead made already (it changes fewer paths than the request), and a
    first car that merged the newer target and needed no rebase (the sixth review)."""
    now, home = int(time.time()), tmp_path / "home"
    dev = Repo.create(tmp_path / "dev", home)
    dev.write_flag("demo", "off")
    dev.write("README.md", "flags\n")
    dev.commit("demo off", at=now - 3 * DAY)
    dev.git("checkout", "-q", "-b", "step")
    dev.write("README.md", "our flags\n")
    dev.write_flag("demo", "staging")
    dev.commit("demo on staging, README fixed", at=now - 900)
    dev.git("checkout", "-q", "main")
    dev.write("README.md", "our flags\n")  # the same fix, landed first
    dev.write("docs/how.md", "how\n")
    dev.commit("README fixed, docs", at=now - 800)
    if shape == "merged-the-target":
        dev.git("checkout", "-q", "step")
        dev.git("merge", "-q", "--no-edit", "main", at=now - 700)
    origin = dev.publish(tmp_path / "origin.git")
    dev.git("push", "-q", "-f", str(origin), "step")
    head = dev.git("rev-parse", "step").strip()
    ci = _ci_clone(tmp_path / "ci", home, origin)
    if shape == "squash-upstream":
        _squash_onto(ci, "origin/main", head, "demo on staging (squashed)", at=now - 60)
    else:
        ci.git("checkout", "-q", "--detach", head)
    said = _train_job(ci, monkeypatch, ci.head(), head)
    assert said.startswith("0\n"), said


@pytest.mark.parametrize("train", ["merge", "fast-forward"])
def test_an_error_of_the_car_ahead_counts_where_the_tip_made_it_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, train: str) -> None:
    """The car ahead forbids overrides; the request skips a stage under a Flag-Override
    trailer, which the tip's policy allows (a warning). Where it lands the skip is an error:
    the job dropped it for its (path, rule, flag) being known as the tip's warning, and a
    fast-forward train judged the rebased request by the tip's policy (the fourth review)."""
    enabled = flag_yaml("demo", "enabled")
    ci, cars = _train(tmp_path, {
        "owners": ("pyproject.toml", "[tool.flagops]\nallow_overrides = false\n"),
        "skip:demo straight on\n\nFlag-Override: demo: incident 42": ("flags/demo.yml",
                                                                       enabled)})
    if train == "merge":
        for car in cars:
            ci.git("merge", "-q", "--no-ff", "-m", f"Merge train car {car[:8]}", car,
                   at=int(time.time()) - 60)
    else:
        ci.git("cherry-pick", *cars, at=int(time.time()) - 60)
    said = _train_job(ci, monkeypatch, ci.head(), cars[1])
    assert said.startswith("1\n"), said
    assert "error FO201" in said and "warning FO201" in said, said


@pytest.mark.parametrize(("message", "verdict"), [
    ("demo straight on\n\nFlag-Override: demo: incident 42", "0"), ("demo straight on", "1")])
def test_a_squashing_train_keeps_the_overrides_of_the_requests_own_commits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, message: str, verdict: str) -> None:
    """GitLab squashes a request with its squash commit template (the title alone, by
    default), so the squash carries no trailer: the emergency step the request's own
    pipeline passed on its Flag-Override was refused where it lands. The trailers of the
    request's own commits count there too; without one the skip stays an error."""
    ci, cars = _train(tmp_path, {f"skip:{message}": ("flags/demo.yml",
                                                     flag_yaml("demo", "enabled"))})
    _squash_onto(ci, "origin/main", cars[0], "Skip demo", at=int(time.time()) - 60)
    said = _train_job(ci, monkeypatch, ci.head(), cars[0])
    assert said.startswith(f"{verdict}\n"), said
    assert ("error FO201" in said) is (verdict == "1"), said


# A name the base holds in two files (a stale pipeline let them in) is still judged.

def _two_files_of_banner(tmp_path: Path) -> Repo:
    """banner in two folders on main: team_a's at beta (listed first, so it is the one the
    checks read), team_b's at off. build refuses to run while both are there."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("banner", "beta", folder="flags/team_a", **BETA)
    repo.write_flag("banner", "off", folder="flags/team_b")
    repo.commit("two stale pipelines let two files of one name in", at=NOW - 5 * DAY)
    return repo


RANGE_ALL = ("validate", "--base", "HEAD~1", "--head", "HEAD", "--all-files")


def test_the_file_listed_second_of_a_duplicated_name_is_not_stepped_unjudged(
        tmp_path: Path) -> None:
    """team_b's file went off → enabled: its name's checks read team_a's file, so the change
    to team_b's was judged by nothing, and the duplicate's FO111 passed as a finding on a file
    the change had not caused (as for a rollback)."""
    repo = _two_files_of_banner(tmp_path)
    repo.write_flag("banner", "enabled", folder="flags/team_b")
    repo.commit("team_b's copy to everyone", at=NOW - 4 * DAY)
    code, found, _ = flagops(repo, *RANGE_ALL)
    assert code == 1 and "FO111:error" in found
    repo.write_flag("banner", "staging", folder="flags/team_b")
    repo.commit("team_b's copy back to staging", at=NOW - 3 * DAY)
    code, found, _ = flagops(repo, *RANGE_ALL)  # a rollback of that file still passes
    assert code == 0 and "FO111:warning" in found


def test_removing_one_file_of_a_duplicated_name_judges_the_one_that_stays(
        tmp_path: Path) -> None:
    """Removing team_a's file makes team_b's the flag that build reads: it was skipped as
    "still there", so whatever team_b's file said (enabled, stepped there while the name was
    duplicated) went live unjudged. The file that stays may only step back from every file
    the base held; going to off resolves the duplicate (an override may say otherwise)."""
    repo = _two_files_of_banner(tmp_path)
    repo.git("rm", "-q", "flags/team_b/banner.yml")
    repo.write_flag("banner", "enabled", folder="flags/team_b")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "landed unjudged while the name was duplicated", at=NOW - DAY)
    (repo.path / "flags/team_a/banner.yml").unlink()
    repo.commit("remove the duplicate", at=NOW)
    code, found, text = flagops(repo, *RANGE_ALL)
    assert code == 1 and found == ["FO212:error"] and "flags/team_b/banner.yml" in text
    repo.write_flag("banner", "off", folder="flags/team_b")
    repo.commit("remove the duplicate, the one that stays at off", at=NOW)
    repo.git("reset", "-q", "--soft", "HEAD~2")
    repo.commit("remove the duplicate, the one that stays at off", at=NOW)
    assert flagops(repo, *RANGE_ALL)[:2] == (0, [])


def test_the_file_that_stays_is_judged_against_its_own_base_state_too(tmp_path: Path) -> None:
    """team_a's file (listed first) enabled, team_b's at beta: removing team_a's while taking
    team_b's to enabled reaches, from team_b's own base state, everyone."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("banner", "enabled", folder="flags/team_a")
    repo.write_flag("banner", "beta", folder="flags/team_b", **BETA)
    repo.commit("two stale pipelines let two files of one name in", at=NOW - 5 * DAY)
    (repo.path / "flags/team_a/banner.yml").unlink()
    repo.write_flag("banner", "enabled", folder="flags/team_b")
    repo.commit("one file, enabled", at=NOW)
    code, found, _ = flagops(repo, *RANGE_ALL)
    assert code == 1 and "FO212:error" in found


# A line break only YAML sees (U+0085, U+2028, U+2029) --------------------------------------

def _hidden_step(repo: Repo, stage: str, character: str = "\u2028") -> None:
    """The flag file as review reads it: its stage line is a comment that ends in `stage: …`."""
    text = flag_yaml("demo", stage, **FIFTY)
    repo.write("flags/demo.yml", text.replace(f"stage: {stage}",
                                              f"# rollout notes{character}stage: {stage}"))


@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
@pytest.mark.parametrize("character", ["\x85", "\u2028", "\u2029"])
def test_a_stage_hidden_behind_a_line_break_only_yaml_sees_is_refused(
        repo: Repo, mode: tuple[str, ...], character: str) -> None:
    """A reviewer sees a comment; the parser sees `stage: enabled`. The gate refuses the file
    (FO104) in the range CI judges and in the hook, even where the step itself is legal."""
    _hidden_step(repo, "enabled", character)
    if mode[0] == "--staged":
        repo.git("add", "flags/demo.yml")
    else:
        repo.commit("notes", at=NOW - DAY)
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and "FO104:error" in found, text
    line = flag_yaml("demo", "enabled", **FIFTY).splitlines().index("stage: enabled") + 1
    column = len("# rollout notes") + 1
    assert f"flags/demo.yml:{line}:{column}: error FO104 U+{ord(character):04X} " in text


def test_a_base_file_with_such_a_line_break_may_only_go_to_off(repo: Repo) -> None:
    """Landed somehow (before this rule, or by a direct push), such a base file cannot be
    read, so no step is judged from it: the change may only set the flag to off (FO212)."""
    _hidden_step(repo, "percentage")
    repo.commit("hidden stage", at=NOW - 5 * DAY)
    repo.write_flag("demo", "enabled")
    repo.commit("onward", at=NOW - DAY)
    code, found, _ = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO212:error" in found
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write_flag("demo", "off")
    repo.commit("off", at=NOW - DAY)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[:2] == (0, [])
