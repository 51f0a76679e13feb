"""`build`, `export` and `sync` ship what they read from the working tree: a checkout that is not
the commit the gate judged is refused, in real repositories (untracked, ignored, changed,
assume-unchanged, sparse), and so is a folder below the top of the work tree."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
SHIPPING = (("build",), ("export", "--format", "flagd"),
            ("sync", "gitlab", "--url", "http://127.0.0.1:9"))
"""Each refusal comes before any output is written or any address is asked (port 9: discard,
nothing listens; a request would fail with another line)."""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("demo, off", at=NOW - 3600)
    return repo


def _ghost(repo: Repo) -> None:
    """A flag at enabled that no commit holds: what a reused runner's workspace can keep."""
    repo.write_flag("ghost", "enabled")


def _refused(run_cli: Any, repo: Repo, command: tuple[str, ...], said: str) -> None:
    code, out, err = run_cli("-C", str(repo.path), *command)
    assert code == 1, (command, out, err)
    lines = [line for line in (out + err).splitlines() if line.startswith("flagops: error")]
    assert len(lines) == 1 and said in lines[0], (command, out, err)
    assert "--allow-dirty" in lines[0] or "not its top" in lines[0]
    assert not (repo.path / "build").exists()


@pytest.mark.parametrize("command", SHIPPING, ids=["build", "export", "sync"])
def test_an_untracked_flag_hidden_from_git_status_is_refused(
        repo: Repo, run_cli: Any, command: tuple[str, ...]) -> None:
    _ghost(repo)
    (repo.path / ".git" / "info" / "exclude").write_text("flags/ghost.yml\n", encoding="utf-8")
    assert repo.git("status", "--porcelain") == ""
    _refused(run_cli, repo, command, "flags/ghost.yml is not in the commit (ignored by git)")


@pytest.mark.parametrize("command", SHIPPING[:2], ids=["build", "export"])
def test_allow_dirty_builds_the_working_tree_as_it_is(
        repo: Repo, run_cli: Any, command: tuple[str, ...]) -> None:
    _ghost(repo)
    _refused(run_cli, repo, command, "flags/ghost.yml is not in the commit (untracked)")
    code, _, err = run_cli("-C", str(repo.path), *command, "--allow-dirty")
    assert code == 0, err
    written = (repo.path / "build" / ("flags.json" if command == ("build",) else "flagd.json"))
    assert "ghost" in written.read_text(encoding="utf-8")


def test_a_clean_checkout_ships_and_the_outputs_own_folder_is_no_dirt(
        repo: Repo, run_cli: Any) -> None:
    """build/ is written beside flags/ and is untracked: only flags/ and the policy count."""
    for command in SHIPPING[:2] * 2:
        code, _, err = run_cli("-C", str(repo.path), *command)
        assert code == 0, (command, err)
    config = json.loads((repo.path / "build/flags.json").read_text(encoding="utf-8"))
    assert list(config["flags"]) == ["demo"]


def test_a_changed_flag_and_a_changed_policy_are_refused(repo: Repo, run_cli: Any) -> None:
    repo.write_flag("demo", "staging")
    _refused(run_cli, repo, ("build",), "flags/demo.yml is changed since the commit")
    repo.git("add", "flags/demo.yml")  # staged is not committed either
    _refused(run_cli, repo, ("build",), "flags/demo.yml is changed since the commit")
    repo.commit("demo: staging", at=NOW)
    repo.write("pyproject.toml", "[tool.flagops]\n")
    _refused(run_cli, repo, ("export", "--format", "flipper"),
             "pyproject.toml is not in the commit")


def test_a_flag_marked_assume_unchanged_is_refused(repo: Repo, run_cli: Any) -> None:
    """git status does not compare such a file: the mark is read itself."""
    repo.git("update-index", "--assume-unchanged", "flags/demo.yml")
    repo.write_flag("demo", "enabled")
    assert repo.git("status", "--porcelain") == ""
    _refused(run_cli, repo, ("build",), "flags/demo.yml is marked assume-unchanged")


def test_a_flag_left_out_by_a_sparse_checkout_is_refused(repo: Repo, run_cli: Any) -> None:
    """The build would have dropped the flag without a word: engines then answer
    FLAG_NOT_FOUND, and sync leaves it live as it is."""
    repo.write_flag("kept", "off", folder="flags/team_a")
    repo.write_flag("gone", "off", folder="flags/team_b")
    repo.commit("two teams", at=NOW)
    repo.git("sparse-checkout", "set", "--cone", "flags/team_a")
    assert not (repo.path / "flags/team_b/gone.yml").exists()
    _refused(run_cli, repo, ("build",), "flags/team_b/gone.yml is left out of this checkout")


@pytest.mark.parametrize("command", SHIPPING, ids=["build", "export", "sync"])
def test_a_folder_below_the_top_is_refused_even_when_dirt_is_allowed(
        repo: Repo, run_cli: Any, command: tuple[str, ...]) -> None:
    """The gate reads flags/ at the top: `deploy/flags/` was code to it, judged by nothing."""
    repo.write_flag("demo", "enabled", folder="deploy/flags")
    repo.commit("a copy below, enabled", at=NOW)
    code, out, err = run_cli("-C", str(repo.path / "deploy"), *command, "--allow-dirty")
    assert code == 1 and "is the folder deploy of a git repository, not its top" in err, out
    assert not (repo.path / "deploy/build").exists()


def test_outside_git_the_folder_is_what_ships(tmp_path: Path, run_cli: Any) -> None:
    """An archive of a commit has no git to compare with (FO011 keeps it as the commit)."""
    repo = Repo(tmp_path / "archive", tmp_path / "home")
    repo.write_flag("demo", "off")
    code, _, err = run_cli("-C", str(repo.path), "build")
    assert code == 0, err


@pytest.mark.parametrize("folder", [".git", ".GIT", "git~1"])
def test_a_flag_in_a_folder_git_cannot_hold_is_refused(
        repo: Repo, run_cli: Any, folder: str) -> None:
    """git lists no path with a `.git` part: the build read flags/.git/ghost.yml as a flag,
    and `git status` was clean. Such a folder is another repository's (FO009); one git holds
    otherwise (`.GIT`, `git~1`: refused on NTFS and HFS) is untracked."""
    repo.write_flag("ghost", "enabled", folder=f"flags/{folder}")
    code, out, err = run_cli("-C", str(repo.path), "build")
    assert code == 1 and ("FO009" in out or "is not in the commit" in err), (out, err)
    assert not (repo.path / "build").exists()


def test_a_walked_file_the_index_does_not_list_is_refused(repo: Repo) -> None:
    """The last word is the walk's: a file the build reads that git lists nowhere."""
    from validator.git.checkout import not_committed

    assert not_committed(repo.path, ["flags/demo.yml"]) == []
    assert not_committed(repo.path, ["flags/demo.yml", "flags/phantom.yml"]) == [
        ("flags/phantom.yml", "not in the commit (a path git does not list)")]
    (repo.path / ".gitignore").write_text("flags/team/\n", encoding="utf-8")
    repo.write_flag("x", "off", folder="flags/team")  # `!! flags/team/`: one line, not two
    walked = ["flags/demo.yml", "flags/team/x.yml"]
    assert [path for path, _ in not_committed(repo.path, walked)] == ["flags/team/"]


def test_only_what_the_build_reads_counts(repo: Repo, run_cli: Any) -> None:
    """An editor's swap file, a `.DS_Store`, notes beside the flags: the build reads none of
    them, and refusing them only taught people to reach for --allow-dirty."""
    for name in (".demo.yml.swp", ".DS_Store", "NOTES.md"):
        (repo.path / "flags" / name).write_bytes(b"\0junk")
    code, _, err = run_cli("-C", str(repo.path), "build")
    assert code == 0, err


def test_a_clean_clone_of_crlf_flags_under_an_eol_attribute_ships(
        tmp_path: Path, repo: Repo, run_cli: Any) -> None:
    """A flag committed with CRLF, then `*.yml text eol=lf`: git status shows it changed in
    every fresh clone (it would renormalize it), but its bytes are the commit's."""
    text = (repo.path / "flags/demo.yml").read_text(encoding="utf-8").replace("\n", "\r\n")
    (repo.path / "flags/demo.yml").write_bytes(text.encode())
    repo.commit("demo with CRLF", at=NOW - 60)
    repo.write(".gitattributes", "*.yml text eol=lf\n")
    repo.git("add", ".gitattributes")  # alone: `add -A` would renormalize the flag now
    repo.git("commit", "-q", "-m", "line endings", at=NOW)
    clone = Repo(tmp_path / "ci", tmp_path / "home")
    repo.git("clone", "-q", str(repo.path), str(clone.path))
    touched = clone.path / "flags/demo.yml"  # as a racy checkout (index and file in one
    os.utime(touched, (NOW + 10, NOW + 10))  # second) does: git looks at the content again
    assert " M flags/demo.yml" in clone.git("status", "--porcelain")
    code, _, err = run_cli("-C", str(clone.path), "build")
    assert code == 0, err
    shutil.rmtree(clone.path / "build")
    (clone.path / "flags/demo.yml").write_bytes(text.replace("off", "staging").encode())
    _refused(run_cli, clone, ("build",), "flags/demo.yml is changed since the commit")


def test_the_version_file_the_catalog_counts_from_must_be_the_commits(
        repo: Repo, run_cli: Any) -> None:
    """`build --history` reads VERSION for the catalog's lifespans: an edit of it made every
    flag overdue in what the pages job published."""
    repo.write("VERSION", "1.1.0\n")
    repo.commit("version", at=NOW - 60)
    repo.write("VERSION", "99.0.0\n")
    _refused(run_cli, repo, ("build", "--history"), "VERSION is changed since the commit")
    code, _, err = run_cli("-C", str(repo.path), "build")  # a plain build does not read it
    assert code == 0, err


def test_a_move_staged_but_not_committed_is_refused(repo: Repo, run_cli: Any) -> None:
    """`git mv` into another folder, not committed: the build would read the flag where no
    commit holds it (and the old path is gone), with rename detection or without."""
    (repo.path / "flags" / "team ë[1]").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team ë[1]/demo.yml")
    _refused(run_cli, repo, ("build",), "is deleted in this checkout")


@pytest.mark.parametrize("command", SHIPPING, ids=["build", "export", "sync"])
def test_an_edit_a_configured_clean_filter_hides_from_git_status_is_refused(
        repo: Repo, run_cli: Any, tmp_path: Path, command: tuple[str, ...]) -> None:
    """A clean filter in the checkout's own configuration, named in .git/info/attributes (no
    review sees either), that answers with HEAD's copy: git status showed no edit that kept
    the file's size, and the build shipped it (a reused runner's workspace keeps what an
    earlier job set there)."""
    script = tmp_path / "clean.sh"
    script.write_text('#!/bin/sh\ncat >/dev/null\nexec git cat-file blob "HEAD:$1"\n',
                      encoding="utf-8")
    script.chmod(0o755)
    repo.git("config", "filter.pw.clean", f"{script} %f")
    (repo.path / ".git/info/attributes").write_text("flags/* filter=pw\n", encoding="utf-8")
    text = (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    (repo.path / "flags/demo.yml").write_text(text.replace("invite link", "INVITE LINK"),
                                              encoding="utf-8")
    assert repo.git("status", "--porcelain") == ""
    _refused(run_cli, repo, command, "flags/demo.yml is changed since the commit (a "
             "conversion its attributes ask for, a filter or ident, cleans it back")


def test_an_edit_inside_an_ident_marker_is_refused(repo: Repo, run_cli: Any) -> None:
    """`ident` in .git/info/attributes needs no configuration: git reads any `$Id: …$` on a
    line as `$Id$`, so an edit between the two was no change to git status, and the build
    shipped an actor the commit never held."""
    text = (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    repo.write("flags/demo.yml", text.replace("description: Shows the invite link.",
                                              "description: 'Shows $Id$ the invite link.'"))
    repo.commit("a marker in the description", at=NOW - 60)
    (repo.path / ".git/info/attributes").write_text("flags/*.yml ident\n", encoding="utf-8")
    (repo.path / "flags/demo.yml").unlink()
    repo.git("checkout", "--", "flags/demo.yml")
    expanded = (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    assert "$Id: " in expanded
    start = expanded.index("$Id: ")
    marker = expanded[start:expanded.index(" $", start) + 2]
    edited = "$Id: " + "x" * (len(marker) - 7) + " $"  # of the same size: stat shows nothing
    (repo.path / "flags/demo.yml").write_text(expanded.replace(marker, edited),
                                              encoding="utf-8")
    assert repo.git("status", "--porcelain") == ""
    _refused(run_cli, repo, ("build",), "flags/demo.yml is changed since the commit (a "
             "conversion its attributes ask for, a filter or ident")


def test_a_checkout_whose_git_folder_is_gone_is_no_archive(repo: Repo, run_cli: Any,
                                                             tmp_path: Path) -> None:
    """A linked worktree whose folder in the main repository was removed: git answers "not
    a git repository", as outside any, and the build shipped its edit as an archive's."""
    worktree = tmp_path / "worktree"
    repo.git("worktree", "add", "-q", str(worktree))
    shutil.rmtree(repo.path / ".git/worktrees" / worktree.name)
    text = (worktree / "flags/demo.yml").read_text(encoding="utf-8")
    (worktree / "flags/demo.yml").write_text(text.replace("stage: off", "stage: staging"),
                                             encoding="utf-8")
    code, out, err = run_cli("-C", str(worktree), "build")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "git cannot open the repository of" in err and "--allow-dirty" in err, err
    assert not (worktree / "build").exists()


@pytest.mark.parametrize("command", SHIPPING, ids=["build", "export", "sync"])
def test_an_edit_the_index_records_as_the_commits_blob_is_refused(
        repo: Repo, run_cli: Any, tmp_path: Path, command: tuple[str, ...]) -> None:
    """An earlier job on a reused workspace edits a flag, then `git add`s it once through a
    clean filter that answers with HEAD's copy, and removes the attribute: the index records
    HEAD's blob with the edited file's size and times, so git status, the runner's
    `checkout -f` and `git clean` all take the edit for the commit. No attribute is left for
    the conversion check to see."""
    original = tmp_path / "original.yml"
    original.write_bytes((repo.path / "flags/demo.yml").read_bytes())
    text = original.read_text(encoding="utf-8")
    (repo.path / "flags/demo.yml").write_text(text.replace("invite link", "INVITE LINK"),
                                              encoding="utf-8")
    old = NOW - 3600
    os.utime(repo.path / "flags/demo.yml", (old, old))  # not racily clean: stat is trusted
    attributes = repo.path / ".git/info/attributes"
    attributes.write_text("flags/demo.yml filter=hide\n", encoding="utf-8")
    repo.git("-c", f"filter.hide.clean=cat {original}", "add", "flags/demo.yml")
    attributes.unlink()
    repo.git("checkout", "-f", "-q", "HEAD")
    repo.git("clean", "-ffdxq")
    assert repo.git("status", "--porcelain") == ""
    assert "INVITE LINK" in (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    _refused(run_cli, repo, command, "flags/demo.yml is changed since the commit")


@pytest.mark.parametrize("how", ["core.worktree", "GIT_WORK_TREE"])
def test_a_checkout_whose_git_compares_another_folder_is_refused(
        repo: Repo, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    """git's work tree set to another folder (a line in .git/config, or the environment):
    git status compared that folder with the commit, and the build shipped this one's edit.
    Refused even where dirt is allowed: git and flagops would read different files."""
    elsewhere = tmp_path / "elsewhere"
    repo.git("worktree", "add", "-q", "--detach", str(elsewhere))
    text = (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    (repo.path / "flags/demo.yml").write_text(text.replace("stage: off", "stage: staging"),
                                              encoding="utf-8")
    if how == "core.worktree":
        repo.git("config", "core.worktree", str(elsewhere))
    else:
        monkeypatch.setenv("GIT_WORK_TREE", str(elsewhere))
    for command in (*SHIPPING, ("build", "--allow-dirty")):
        code, out, err = run_cli("-C", str(repo.path), *command)
        assert code == 1 and len(err.splitlines()) == 1, (command, out, err)
        assert f"is not in its git repository's work tree, which is {elsewhere}" in err, err
        assert not (repo.path / "build").exists()


@pytest.mark.parametrize("command", [*SHIPPING, ("validate", "--base", "HEAD")],
                         ids=["build", "export", "sync", "validate"])
def test_a_repository_git_refuses_as_another_users_is_said_so(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch,
        command: tuple[str, ...]) -> None:
    """git's safe.directory check (here through git's own test switch, as a repository of
    another owner does it): the line said `git rev-parse failed:` and git's last hint line,
    and the gate "unknown git ref 'HEAD'; fetch it first"."""
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    code, out, err = run_cli("-C", str(repo.path), *command)
    assert code == 1 and out == "" and len(err.splitlines()) == 1, (out, err)
    assert f"git refuses the repository of {repo.path.resolve()}: it belongs to another " \
           "user" in err, err


def test_a_git_failure_names_the_command_and_gits_fatal_line(repo: Repo, run_cli: Any,
                                                             tmp_path: Path) -> None:
    """A `.git` file naming a bare repository: the line named `git --no-optional-locks`."""
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    shutil.rmtree(repo.path / ".git")
    (repo.path / ".git").write_text(f"gitdir: {bare}\n", encoding="utf-8")
    code, out, err = run_cli("-C", str(repo.path), "build")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "failed: fatal: this operation must be run in a work tree" in err, err
    assert "git --no-optional-locks" not in err and "git -c" not in err, err


GITLAB_JOB = {"GITLAB_CI": "true", "CI_COMMIT_SHA": "JUDGED", "CI_PROJECT_DIR": "ROOT"}
GITHUB_PUSH = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_SHA": "JUDGED",
               "GITHUB_WORKSPACE": "ROOT"}


@pytest.mark.parametrize(("variables", "shipped"), [
    (GITLAB_JOB, False),
    (GITHUB_PUSH, False),
    ({**GITHUB_PUSH, "GITHUB_EVENT_NAME": "schedule"}, False),
    ({**GITHUB_PUSH, "GITHUB_EVENT_NAME": "workflow_dispatch"}, False),
    ({**GITHUB_PUSH, "GITHUB_EVENT_NAME": "pull_request"}, True),
    ({**GITLAB_JOB, "CI_PROJECT_DIR": "ELSEWHERE", "CI_COMMIT_SHA": "FOREIGN"}, True),
    ({**GITLAB_JOB, "CI_PROJECT_DIR": "ELSEWHERE"}, False),
], ids=["gitlab", "github-push", "github-schedule", "github-dispatch", "github-pull-request",
        "another-repository", "the-project-by-another-path"])
def test_in_a_ci_job_head_must_be_the_jobs_commit(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        variables: dict[str, str], shipped: bool) -> None:
    """A runner that reuses its workspace without a checkout (GIT_STRATEGY: none), or a step's
    `git checkout`, left HEAD at a commit the gate refused, clean: the job's commit is the one
    the pipeline judged. Not asked where GITHUB_SHA is GitHub's merge commit (a pull request),
    nor of another repository the job checked out (a flags repository beside its project),
    which does not hold the job's commit; asked of the project's repository wherever it is
    (`actions/checkout` with `path:`, a worktree, the workspace by another path)."""
    judged = repo.head()
    repo.write_flag("demo", "enabled")
    repo.commit("everyone at once (refused by the gate)", at=NOW - 60)
    project = Repo.create(tmp_path / "project", tmp_path / "home")
    project.write("README.md", "the job's project\n")
    places = {"JUDGED": judged, "ROOT": str(repo.path), "ELSEWHERE": str(tmp_path),
              "FOREIGN": project.commit("the project", at=NOW - 60)}
    for key, value in variables.items():
        monkeypatch.setenv(key, places.get(value, value))
    code, out, err = run_cli("-C", str(repo.path), "export", "--format", "flagd")
    if shipped:
        assert code == 0, err
        return
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert f"HEAD is {repo.head()[:12]}, not this job's commit {judged}" in err, err
    repo.git("checkout", "-q", judged)
    assert run_cli("-C", str(repo.path), "export", "--format", "flagd")[0] == 0


@pytest.mark.parametrize("git_folder", ["emptied", "removed"])
def test_a_ci_jobs_checkout_with_no_repository_is_no_archive(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch, git_folder: str) -> None:
    """An earlier job on the runner emptied or removed `.git`: outside CI that is an archive
    of a commit, shipped as it is; in the job's own checkout it shipped an edit as one."""
    judged = repo.head()
    text = (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    (repo.path / "flags/demo.yml").write_text(text.replace("stage: off", "stage: staging"),
                                              encoding="utf-8")
    shutil.rmtree(repo.path / ".git")
    if git_folder == "emptied":
        (repo.path / ".git").mkdir()
    for key, value in {**GITLAB_JOB, "CI_COMMIT_SHA": judged,
                       "CI_PROJECT_DIR": str(repo.path)}.items():
        monkeypatch.setenv(key, value)
    code, out, err = run_cli("-C", str(repo.path), "build")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "is in this CI job's workspace, and holds no git repository" in err, err
    assert run_cli("-C", str(repo.path), "build", "--allow-dirty")[0] == 0


def test_an_unborn_head_in_a_ci_job_says_so(tmp_path: Path, run_cli: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """GIT_CHECKOUT: "false" before the job's own checkout: `git rev-parse failed: 1`."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    for key, value in {**GITLAB_JOB, "CI_COMMIT_SHA": "0" * 40,
                       "CI_PROJECT_DIR": str(repo.path)}.items():
        monkeypatch.setenv(key, value)
    code, _, err = run_cli("-C", str(repo.path), "build")
    assert code == 1 and "HEAD names no commit yet, not this job's commit" in err, err


def test_a_fifo_beside_the_version_file_is_refused_not_waited_on(
        repo: Repo, run_cli: Any) -> None:
    """`git status` of the version file by name opens the attributes of every folder above
    it: a FIFO `deploy/.gitattributes` held `build --history` for ever."""
    repo.write("pyproject.toml", '[tool.flagops]\nversion_file = "deploy/VERSION"\n')
    repo.write("deploy/VERSION", "17.10.0\n")
    repo.commit("a version file in a folder", at=NOW - 60)
    os.mkfifo(repo.path / "deploy/.gitattributes")
    code, out, err = run_cli("-C", str(repo.path), "build", "--history")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "deploy/.gitattributes" in err, err


@pytest.mark.parametrize("how", ["a symlink in the file's place", "a file in the symlink's"])
def test_a_version_file_of_another_type_than_the_commits_is_refused(
        repo: Repo, run_cli: Any, how: str) -> None:
    """`hash-object` follows a symlink, and a file that holds a symlink's text has that
    symlink's blob id: either way the type change was excused, and the build read another
    version than the gate."""
    repo.write("pyproject.toml", '[tool.flagops]\nstale_in_months = true\n')
    repo.write("elsewhere", "17.10.0\n")
    if how.startswith("a symlink"):
        repo.write("VERSION", "17.10.0\n")
        repo.commit("version", at=NOW - 60)
        (repo.path / "VERSION").unlink()
        (repo.path / "VERSION").symlink_to("elsewhere")
    else:
        (repo.path / "VERSION").symlink_to("17.10.0")
        repo.commit("version", at=NOW - 60)
        (repo.path / "VERSION").unlink()
        (repo.path / "VERSION").write_text("17.10.0", encoding="utf-8")
    code, out, err = run_cli("-C", str(repo.path), "build", "--history")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "VERSION is of another type than in the commit" in err, err


def test_a_version_file_in_another_repository_below_the_checkout_is_refused(
        repo: Repo, run_cli: Any, tmp_path: Path) -> None:
    """`version_file = "deploy/VERSION"`, and deploy/ a repository of its own that the commit
    does not hold: git status says nothing of a path inside it, and the catalog counted ages
    from its 99.0."""
    repo.write("pyproject.toml", '[tool.flagops]\nversion_file = "deploy/VERSION"\n')
    repo.commit("a version file in a folder", at=NOW - 60)
    nested = Repo.create(repo.path / "deploy", tmp_path / "home")
    nested.write("VERSION", "99.0.0\n")
    nested.commit("a version of its own", at=NOW - 60)
    code, out, err = run_cli("-C", str(repo.path), "build", "--history")
    assert code == 1 and len(err.splitlines()) == 1, (out, err)
    assert "deploy/VERSION is not in the commit (a path git does not list" in err, err
    from validator.lifecycle.reads import version_text
    from validator.policy import load_policy

    assert version_text(repo.path, load_policy(repo.path)) == ""  # read as the gate reads it


def test_a_flag_whose_removal_is_only_staged_is_still_the_commits(repo: Repo,
                                                                  run_cli: Any) -> None:
    """`git rm --cached`: the file is HEAD's, byte for byte, and was refused as "not in the
    commit" (the listing came from the checkout's index, the comparison from HEAD)."""
    repo.git("rm", "-q", "--cached", "flags/demo.yml")
    code, _, err = run_cli("-C", str(repo.path), "export", "--format", "flagd")
    assert code == 0, err


def test_a_stale_clone_of_the_project_in_the_workspace_is_refused(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`actions/checkout` with `path: flags`, and a reused runner's earlier clone of another
    commit (without the job's) left there: taken for another repository, it shipped that
    commit's flags. A clone of the job's project by its remote is held to the job's commit;
    a folder in the workspace with no repository in it is no archive either."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    stale = Repo(workspace / "flags", tmp_path / "home")
    repo.git("clone", "-q", str(repo.path), str(stale.path))
    stale.git("remote", "set-url", "origin", "https://github.com/acme/flags.git")
    stale.write_flag("demo", "staging")
    stale.commit("a commit the gate never judged", at=NOW - 30)
    for key, value in {**GITHUB_PUSH, "GITHUB_SHA": "b" * 40, "GITHUB_WORKSPACE": str(workspace),
                       "GITHUB_REPOSITORY": "acme/flags"}.items():
        monkeypatch.setenv(key, value)
    code, _, err = run_cli("-C", str(stale.path), "export", "--format", "flagd")
    assert code == 1 and f"HEAD is {stale.head()[:12]}, not this job's commit" in err, err
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")  # a flags repository beside it
    assert run_cli("-C", str(stale.path), "export", "--format", "flagd")[0] == 0
    shutil.rmtree(stale.path / ".git")
    code, _, err = run_cli("-C", str(stale.path), "export", "--format", "flagd")
    assert code == 1 and "is in this CI job's workspace, and holds no git repository" in err


@pytest.mark.parametrize("event", ["pull_request_review", "issue_comment", "workflow_run",
                                   "check_suite"])
def test_a_job_about_a_pull_request_is_not_held_to_github_sha(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch, event: str) -> None:
    """GITHUB_SHA is GitHub's merge commit or the base branch's tip there, not the request's
    head that the gate judged and the job checked out."""
    for key, value in {**GITHUB_PUSH, "GITHUB_EVENT_NAME": event, "GITHUB_SHA": "c" * 40,
                       "GITHUB_WORKSPACE": str(repo.path)}.items():
        monkeypatch.setenv(key, value)
    code, _, err = run_cli("-C", str(repo.path), "export", "--format", "flagd")
    assert code == 0, err


def test_a_version_file_reached_through_a_committed_folder_link_is_no_refusal(
        repo: Repo, run_cli: Any) -> None:
    """`conf -> real` committed, `version_file = "conf/VERSION"`: git lists nothing past the
    link and the build reads no version through it, as the gate; every clean checkout was
    refused as holding a file git does not list."""
    repo.write("pyproject.toml", '[tool.flagops]\nversion_file = "conf/VERSION"\n')
    repo.write("real/VERSION", "17.10.0\n")
    (repo.path / "conf").symlink_to("real")
    repo.commit("a linked folder", at=NOW - 60)
    code, _, err = run_cli("-C", str(repo.path), "build", "--history")
    assert code == 0, err


@pytest.mark.parametrize("command", SHIPPING, ids=["build", "export", "sync"])
def test_a_branch_behind_its_upstream_ships_nothing(
        repo: Repo, run_cli: Any, tmp_path: Path, command: tuple[str, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A clone that fetched and did not pull synced its older state: demo, rolled back to off
    on main and synced, was live again for its actors (the eighth review). Outside CI, HEAD
    behind its upstream as last fetched is refused; once pulled it ships."""
    for name in ("CI", "GITLAB_CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    origin = repo.publish(tmp_path / "origin.git")
    other = Repo(tmp_path / "other", tmp_path / "home")
    other.git("clone", "-q", str(origin), str(other.path))
    admin = Repo(tmp_path / "admin", tmp_path / "home")
    admin.git("clone", "-q", str(origin), str(admin.path))
    other.write_flag("demo", "staging")
    other.commit("demo on staging", at=NOW - 60)
    other.git("push", "-q", "origin", "main")
    admin.git("fetch", "-q")
    _refused(run_cli, admin, command, "HEAD is 1 commit(s) behind origin/main (as last fetched)")
    for detached in (("checkout", "-q", "--detach"), ("switch", "-q", "-c", "deploy")):
        admin.git(*detached)  # the same commit with no upstream: behind origin/main still
        _refused(run_cli, admin, command, "HEAD is 1 commit(s) behind origin/main")
        admin.git("checkout", "-q", "main")
    for key, value in {"GITLAB_CI": "true", "CI_COMMIT_SHA": admin.head(),
                       "CI_COMMIT_BRANCH": "main", "CI_PROJECT_DIR": str(admin.path)}.items():
        monkeypatch.setenv(key, value)  # an older pipeline's job, finishing after a newer one
    admin.git("checkout", "-q", "--detach")
    _refused(run_cli, admin, command, "HEAD is 1 commit(s) behind origin/main")
    for key in ("GITLAB_CI", "CI_COMMIT_SHA", "CI_COMMIT_BRANCH", "CI_PROJECT_DIR"):
        monkeypatch.delenv(key)
    admin.git("checkout", "-q", "main")
    admin.git("merge", "-q", "--ff-only", "origin/main")
    if command[0] != "sync":
        code, _, err = run_cli("-C", str(admin.path), *command)
        assert code == 0, err


def test_main_itself_ships_beside_a_remote_branch_ahead_of_it(
        repo: Repo, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first version of the check above refused a detached HEAD at main's tip because a
    feature branch on the remote started from it: every CI that fetches all branches."""
    for name in ("CI", "GITLAB_CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    origin = repo.publish(tmp_path / "origin.git")
    other = Repo(tmp_path / "other", tmp_path / "home")
    other.git("clone", "-q", str(origin), str(other.path))
    other.git("checkout", "-q", "-b", "feature-x")
    other.write("NOTES.md", "notes\n")
    other.commit("notes", at=NOW - 60)
    other.git("push", "-q", "origin", "feature-x")
    ci = Repo(tmp_path / "ci", tmp_path / "home")
    ci.git("clone", "-q", str(origin), str(ci.path))
    ci.git("checkout", "-q", "--detach", "origin/main")
    code, _, err = run_cli("-C", str(ci.path), "build")
    assert code == 0, err
