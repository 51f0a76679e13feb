"""An attacker's review of the authoring commands (the eighth, 2026-11-30): a folder that looks
like another, a flag file that is a link, names as GitLab's habits write them, a `.yaml` that
`new --force` wrote beside. Real repositories; the commands in this process or as processes."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml

from validator.cli import main
from validator.files import look_alike, path_problem


def _flagops(repo: Repo, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["-C", str(repo.path), *args], out=out), out.getvalue()



@pytest.mark.parametrize(("folder", "said"), [
    ("team_a\u200b", "U+200B ZERO WIDTH SPACE"),
    ("team_a\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("te\u0301am", "not in Unicode NFC"),
    ("team*", "cannot be checked out on Windows"),
    ("team.", "cannot be checked out on Windows"),
    ("aux", "cannot be checked out on Windows"),
    ("aux .d", "cannot be checked out on Windows"),
    ("team_a\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
    ("team_a\u3164", "U+3164 HANGUL FILLER"),
    ("team_a\u2800", "U+2800 BRAILLE PATTERN BLANK"),
    ("team_a\u034f", "U+034F COMBINING GRAPHEME JOINER"),
])
def test_a_folder_that_looks_like_another_or_that_windows_refuses_is_fo010(
        tmp_path: Path, folder: str, said: str) -> None:
    """`git mv flags/team_a/f.yml "flags/team_a<U+200B>/f.yml"` passed: review shows the
    path as before, and CODEOWNERS' `/flags/team_a/` no longer owns it. A folder git for
    Windows cannot check out (`*`, a trailing dot, a device name) broke every Windows clone."""
    relative = f"flags/{folder}/demo.yml"
    problem = look_alike(relative)
    assert problem is not None and problem.rule == "FO010" and said in problem.message
    assert path_problem(relative) is None  # not refused on a side that already holds it
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging", folder="flags/team_a")
    repo.commit("demo", at=int(time.time()) - 86400)
    (repo.path / "flags/team_a/demo.yml").unlink()
    repo.write(relative, flag_yaml("demo", "staging"))
    repo.commit("moved out of its owners' folder", at=int(time.time()))
    out = io.StringIO()
    assert main(["-C", str(repo.path), "validate", "--base", "HEAD~1", "--head", "HEAD"],
                out=out) == 1
    assert " FO010 " in out.getvalue()



@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("shared/demo.yml", flag_yaml("demo", "beta", actors=("User:1",)))
    os.makedirs(repo.path / "flags")
    os.symlink("../shared/demo.yml", repo.path / "flags/demo.yml")
    repo.write_flag("my_flag", "staging")
    repo.commit("pushed round the gate: flags/demo.yml is a link", at=int(time.time()) - 86400)
    return repo


def test_rollback_of_a_linked_flag_says_how_to_roll_it_back(repo: Repo, run_cli: Any) -> None:
    """`rollback demo` said "no flag named 'demo'; flagops new demo creates one", and `new`
    failed with "Too many levels of symbolic links": on-call had no way through."""
    code, _, err = run_cli("-C", str(repo.path), "rollback", "demo")
    assert code == 1 and "flags/demo.yml is a symlink, not a regular file (FO009)" in err
    assert "git rm flags/demo.yml" in err and "flagops new demo" in err
    for force in ((), ("--force",)):
        code, _, err = run_cli("-C", str(repo.path), "new", "demo", "-t", "ops", "-g",
                               "group::a", "-M", "1.0", *force)
        assert code == 1 and "remove it first (git rm flags/demo.yml)" in err, err
    repo.git("rm", "-q", "flags/demo.yml")
    code, _, err = run_cli("-C", str(repo.path), "new", "demo", "-t", "ops", "-g", "group::a",
                           "-M", "1.0")
    assert code == 0, err
    repo.git("add", "-A")
    assert _flagops(repo, "validate", "--staged")[0] == 0  # the link at off: its rollback


def test_a_name_as_gitlab_writes_it_is_named_and_no_new_is_offered_for_a_bad_one(
        repo: Repo, run_cli: Any) -> None:
    code, _, err = run_cli("-C", str(repo.path), "rollback", "my-flag")
    assert code == 1 and "flag names are written my_flag" in err and "new my-flag" not in err
    code, _, err = run_cli("-C", str(repo.path), "rollback", "../x")
    assert code == 1 and "FO112" in err and "flagops new" not in err


def test_new_does_not_write_a_yml_beside_the_flags_yaml(tmp_path: Path, run_cli: Any) -> None:
    """`new f` said "flags/team/f.yaml already exists; use --force to overwrite it", and
    `--force` wrote flags/f.yml beside it, which still failed (FO008)."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/team/f.yaml", flag_yaml("f", "off"))
    for force in ((), ("--force",)):
        code, _, err = run_cli("-C", str(repo.path), "new", "f", "-t", "ops", "-g", "group::a",
                               "-M", "1.0", *force)
        assert code == 1 and "git mv flags/team/f.yaml flags/team/f.yml" in err, err
    assert sorted(p.name for p in (repo.path / "flags").rglob("*")) == ["f.yaml", "team"]


@pytest.mark.parametrize(("args", "said"), [
    (("rollback", "my_flag", "--to", "off", "--percentage", "10"),
     "--percentage goes with --to percentage"),
    (("promote", "my_flag", "--to", "beta", "--percentage", "10"),
     "--percentage goes with --to percentage"),
    (("rollback", "my_flag", "--percentage", "1e-300"), "at most three decimals"),
    (("promote", "my_flag", "--percentage", "12.3456"), "at most three decimals"),
])
def test_a_percentage_the_step_would_drop_or_no_engine_gives_is_a_usage_error(
        repo: Repo, run_cli: Any, args: tuple[str, ...], said: str) -> None:
    before = (repo.path / "flags/my_flag.yml").read_bytes()
    code, _, err = run_cli("-C", str(repo.path), *args)
    assert code == 2 and said in err, err
    assert (repo.path / "flags/my_flag.yml").read_bytes() == before


def test_promote_says_when_the_step_it_starts_from_has_not_landed(
        tmp_path: Path, run_cli: Any) -> None:
    """On a branch whose own commit took demo to 10% (forty minutes ago, never merged),
    promote judged from HEAD and wrote 50% without a word: CI judges the branch's merge
    request from main, beta → 50%, and refuses it (FO202)."""
    now = int(time.time())
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "beta", actors=("User:1",))
    repo.commit("demo at beta", at=now - 30 * 86400)
    repo.git("checkout", "-q", "-b", "rollout")
    repo.write_flag("demo", "percentage", actors=("User:1",), percentage=("actors", 10))
    repo.commit("demo at 10%", at=now - 40 * 60)
    code, _, err = run_cli("-C", str(repo.path), "promote", "demo")
    assert code == 0 and "warning FO204 demo: percentage 10% of actors is on this branch " \
        "only (main holds beta (1 actor)): it has not landed" in err, err
    repo.git("checkout", "-q", "--", "flags/demo.yml")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "rollout")
    code, _, err = run_cli("-C", str(repo.path), "promote", "demo")
    assert code == 0 and "FO204" not in err, err


@pytest.mark.parametrize("relative", ["flags/aux.yml", "flags/te\u0301am/aux.yml",
                                      "flags/team_a\u200b/aux.yml"])
def test_a_path_that_landed_before_the_rule_is_stepped_rolled_back_and_built(
        tmp_path: Path, relative: str) -> None:
    """The look-alike and Windows rules refused both sides of every change: a live flag
    named `aux` (legal when it landed) could not be rolled back (FO010, then FO212 for its
    removal), nor moved, and `build` shipped nothing. They judge only paths a change brings."""
    now = int(time.time())
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write(relative, flag_yaml("aux", "percentage", actors=("User:1",),
                                   percentage=("actors", 50)))
    repo.commit("aux at 50%, before the rule", at=now - 30 * 86400)
    repo.write(relative, flag_yaml("aux", "percentage", actors=("User:1",),
                                   percentage=("actors", 10)))
    repo.commit("rolled back to 10%", at=now - 60)
    assert _flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD") == (0, "")
    assert _flagops(repo, "build", "-o", str(tmp_path / "flags.json"))[0] == 0
    os.remove(repo.path / relative)
    repo.write("flags/other/aux.yml", flag_yaml("aux", "percentage", actors=("User:1",),
                                                percentage=("actors", 10)))
    repo.commit("moved: a path this change brings", at=now)
    code, out = _flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "flags/other/aux.yml:1:1: error FO010" in out, out


def test_a_path_not_in_utf8_is_fo010(tmp_path: Path) -> None:
    """A folder whose name is no UTF-8 (`team_a\\xff`) passed: review shows another
    character, and Windows and macOS cannot create it."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("other", "off")
    repo.commit("other", at=int(time.time()) - 86400)
    folder = os.fsencode(repo.path / "flags") + b"/team_a\xff"
    os.makedirs(folder)
    with open(folder + b"/demo.yml", "w", encoding="utf-8") as stream:
        stream.write(flag_yaml("demo", "off"))
    repo.commit("demo in a folder of no UTF-8", at=int(time.time()))
    code, out = _flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "which is not UTF-8" in out, out


def test_a_look_alike_path_is_brought_even_where_the_history_held_it(tmp_path: Path) -> None:
    """An exemption for "a path the base's history held" (meant for the revert of a released
    `aux`'s removal) was planted: one change added and removed a file in a look-alike folder,
    fast-forwarded, and the next added a flag there with no FO010."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("other", "off")
    repo.commit("other", at=1577836800)
    planted = "flags/checkout\u200b/new_flag.yml"
    repo.write(planted, flag_yaml("new_flag", "off"))
    repo.commit("add in a look-alike folder", at=1577836860)
    (repo.path / planted).unlink()
    repo.commit("and gone again", at=1577836920)
    repo.write(planted, flag_yaml("new_flag", "off"))
    repo.commit("the same file back", at=1577836980)
    code, out = _flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "error FO010" in out, out


def test_a_link_replaced_by_a_device_named_file_is_fo010(tmp_path: Path) -> None:
    """A symlink at flags/aux.yml (FO009) replaced by a regular file: a type change, not an
    add, and FO010 was not asked."""
    now = int(time.time())
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    os.makedirs(repo.path / "flags")
    os.symlink("elsewhere.yml", repo.path / "flags/aux.yml")
    repo.commit("a link, pushed round the gate", at=now - 86400)
    (repo.path / "flags/aux.yml").unlink()
    repo.write("flags/aux.yml", flag_yaml("aux", "off"))
    repo.commit("a file in its place", at=now)
    code, out = _flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "flags/aux.yml:1:1: error FO010" in out, out
