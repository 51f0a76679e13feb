"""A flag file is a regular file with a printable path, in every mode: range, --staged, the
working tree, the full tree and build. Symlinks, submodules, folders and control characters
are findings, and no path text can make git answer for another file (gate integrity 1, 2)."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.cli import main
from validator.errors import UserError
from validator.files import path_problem

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    return repo


def flagops(repo: Repo, *args: str) -> tuple[int, str]:
    """The command line in this process; the text report's lines and the exit code."""
    out = io.StringIO()
    code = main(["-C", str(repo.path), *args], out=out)
    return code, out.getvalue()


def rules(output: str) -> list[str]:
    return sorted(set(re.findall(r" (?:error|warning) (FO\d{3}) ", output)))


ALL_MODES = (("validate",), ("validate", "--base", "HEAD~1", "--head", "HEAD"),
             ("validate", "--base", "HEAD~1", "--head", "HEAD", "--all-files"))


def test_a_symlink_to_an_enabled_flag_is_refused_in_every_mode(repo: Repo) -> None:
    """The link text can itself be valid flag YAML while the checkout follows the link."""
    repo.write("elsewhere/demo.yml", flag_yaml("demo", "enabled"))
    (repo.path / "flags/demo.yml").unlink()
    link_text = flag_yaml("demo", "beta", actors=BETA["actors"])
    os.symlink("../elsewhere/demo.yml", repo.path / "flags/demo.yml")
    repo.git("add", "-A")
    assert flagops(repo, "validate", "--staged")[0] == 1
    assert "FO009" in rules(flagops(repo, "validate", "--staged")[1])
    repo.commit("link", at=NOW - DAY)
    for mode in ALL_MODES:
        code, out = flagops(repo, *mode)
        assert code == 1 and "FO009" in rules(out), (mode, out)
    assert flagops(repo, "validate", "--base", "HEAD~1")[0] == 1  # against the working tree
    assert flagops(repo, "build", "-o", "build/flags.json")[0] == 1
    assert not (repo.path / "build/flags.json").exists()
    assert link_text  # the link text was never what was judged


def test_a_symlinked_folder_and_a_submodule_under_flags_are_findings(repo: Repo,
                                                                     tmp_path: Path) -> None:
    os.symlink("../elsewhere", repo.path / "flags/team")
    repo.write("elsewhere/other.yml", flag_yaml("other", "enabled"))
    sub = Repo.create(tmp_path / "sub", tmp_path / "home")
    sub.write("README", "x\n")
    sha = sub.commit("sub", at=NOW - DAY)
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},flags/vendored.yml")
    repo.git("add", "flags/team", "elsewhere")
    repo.git("commit", "-q", "-m", "link and gitlink")
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    assert "flags/team is a symlink" in out and "flags/vendored.yml is a submodule" in out
    assert flagops(repo, "validate")[0] == 1


def test_a_folder_where_a_live_flag_was_is_its_deletion(repo: Repo) -> None:
    (repo.path / "flags/demo.yml").unlink()
    repo.write("flags/demo.yml/README.md", "not a flag\n")
    repo.commit("folder", at=NOW - DAY)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and rules(out) == ["FO009", "FO208"]
    assert flagops(repo, "validate", "--base", "HEAD~1") == (code, out)  # the working tree
    code, out = flagops(repo, "validate")
    assert code == 1 and rules(out) == ["FO009"]


def test_control_characters_in_a_path_are_refused_and_never_confuse_other_reads(
        repo: Repo) -> None:
    """A folder name with a newline once made `cat-file --batch` answer for another request."""
    repo.write("flags/a\nflags/demo.yml/demo.yml", flag_yaml("demo", "off"))
    repo.write("flags/\x01team/other.yml", flag_yaml("other", "off"))
    repo.write_flag("demo", "enabled")
    repo.commit("sneaky", at=NOW - 60)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1
    assert {"FO010", "FO201"} <= set(rules(out)), out
    assert "\\n" in out and "\\x01" in out  # shown escaped, one finding per line
    code, out = flagops(repo, "plan", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and "A forward step, **blocked**" in out.split("### `demo`")[1]


@pytest.mark.parametrize("folder", ["team a", "team [ab]", "tëam", "team{a,b}!"])
def test_odd_folder_names_give_a_verdict_when_one_side_is_missing(repo: Repo,
                                                                  folder: str) -> None:
    repo.write_flag("fresh", "off", folder=f"flags/{folder}")
    repo.commit("new flag there", at=NOW - DAY)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD") == (0, "")
    assert flagops(repo, "plan", "--base", "HEAD~1", "--head", "HEAD")[0] == 0
    (repo.path / f"flags/{folder}/fresh.yml").unlink()
    repo.commit("delete it at off", at=NOW - 60)
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD") == (0, "")
    repo.write_flag("eager", "enabled", folder=f"flags/{folder}")
    repo.commit("a new flag fully on", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and rules(out) == ["FO207"]


def test_a_glob_folder_does_not_match_another_flags_history(repo: Repo) -> None:
    """`flags/[ab]/x.yml` as a pathspec would match flags/a/x.yml: history reads by name."""
    repo.write_flag("x", "staging", folder="flags/a")
    repo.commit("x at staging", at=NOW - 10 * DAY)
    (repo.path / "flags/a/x.yml").unlink()
    repo.write_flag("x", "staging", folder="flags/[ab]")
    repo.commit("moved", at=NOW - 9 * DAY)
    repo.write_flag("x", "beta", folder="flags/[ab]", **BETA)
    repo.commit("beta", at=NOW - 60)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0, out  # staging soaked for days: the move did not restart the clock


# The verdict must not depend on where the file lives or what the folder is called.

FOLDER = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="/\0"),
                 min_size=1, max_size=12).filter(lambda name: name not in (".", "..", ".git"))
STEPS = [("staging", {}, "off"), ("beta", BETA, "staging"), ("enabled", {}, "beta")]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(folder=FOLDER, step=st.sampled_from(STEPS), age=st.sampled_from([60, 10 * DAY]))
def test_the_verdict_does_not_depend_on_the_path(tmp_path_factory: pytest.TempPathFactory,
                                                 folder: str, step: tuple[str, dict[str, object],
                                                                          str],
                                                 age: int) -> None:
    stage, fields, start = step
    verdicts = []
    for where in ("flags", f"flags/{folder}"):
        base = tmp_path_factory.mktemp("path")
        repo = Repo.create(base / "repo", base / "home")
        start_fields = BETA if start == "beta" else {}
        repo.write_flag("demo", start, folder=where, **start_fields)
        repo.commit("start", at=NOW - age)
        repo.write_flag("demo", stage, folder=where, **fields)
        repo.commit("step", at=NOW)
        code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
        verdicts.append((code, [r for r in rules(out) if r != "FO010"]))
    if path_problem(f"flags/{folder}/demo.yml") is not None:
        assert verdicts[1][0] == 1  # the path itself is refused (FO010)
    else:
        assert verdicts[0] == verdicts[1], (folder, verdicts)


# What a checkout builds must be what was judged (.gitattributes).

SHIFT_JIS_TRICK = """\
name: new_checkout
description: "\uff83\u8868"
stage: off
group: 'group::activation # "
stage: enabled
group: group::activation
#'
type: beta
milestone: '13.12'
rollout_issue_url: https://gitlab.com/gitlab-org/gitlab/-/issues/330340
expectations:
  expected: More bookings.
  risks: A broken link.
  monitoring: Error rates.
default_enabled: false
"""


@pytest.mark.parametrize("attributes", [".gitattributes", "flags/.gitattributes"])
def test_a_checkout_conversion_of_flag_files_is_refused(repo: Repo, tmp_path: Path,
                                                        attributes: str) -> None:
    """The blob says `stage: off`; re-encoded as Shift-JIS on checkout, a backslash appears
    that ends a quoted string early, and the checked-out file says `stage: enabled`."""
    repo.write("flags/new_checkout.yml", SHIFT_JIS_TRICK)
    repo.git("add", "flags/new_checkout.yml")  # the blob is stored before the attribute exists
    repo.write(attributes, "*.yml working-tree-encoding=SHIFT-JIS\n")
    repo.git("add", attributes)
    repo.git("commit", "-q", "-m", "a new flag, off")
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO011" in rules(out)
    assert "working-tree-encoding=SHIFT-JIS" in out
    clone = Repo(tmp_path / "pages", tmp_path / "home")
    repo.git("clone", "-q", str(repo.path), str(clone.path))
    code, out = flagops(clone, "build", "-o", "build/flags.json")
    assert code == 1 and not (clone.path / "build/flags.json").exists()


def test_adding_only_the_attribute_is_refused_too(repo: Repo) -> None:
    repo.write(".gitattributes", "flags/** working-tree-encoding=UTF-16LE\n")
    repo.commit("attributes only", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO011" in rules(out) and "FO303" in rules(out)


@pytest.mark.parametrize("attribute", ["-diff", "binary", "diff=yaml", "linguist-generated",
                                       "linguist-generated=true", "gitlab-generated"])
def test_an_attribute_that_hides_flag_changes_from_review_is_refused(
        repo: Repo, attribute: str) -> None:
    """GitLab and GitHub show a `-diff` file's change as "Binary files differ" and fold a
    generated one away: a step would pass review unread."""
    repo.write("flags/.gitattributes", f"*.yml {attribute}\n")
    repo.write_flag("quiet", "off")
    repo.commit("a new flag, and an attribute", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO011" in rules(out), out
    assert "hides its changes from review" in out


ARCHIVE_TRICK = ("# build id: $Format:%x0astage: enabled%x0adescription: %x27$\n"
                 "description: Shows the new checkout page.\n")


@pytest.mark.parametrize("attribute", ["export-subst", "export-ignore"])
def test_an_attribute_that_changes_the_flag_in_an_archive_is_refused(
        repo: Repo, attribute: str) -> None:
    """A runner without git checks out the host's archive of the commit, and `git archive`
    expands `$Format:...$` in an export-subst file: the comment below becomes a line
    `stage: enabled` and a quote that swallows the real stage. With export-ignore the flag is
    not in the archive at all. The gate reads the blob, which says off."""
    repo.write("flags/.gitattributes", f"*.yml {attribute}\n")
    repo.write_flag("quiet", "off")
    flag = repo.path / "flags" / "quiet.yml"
    flag.write_text(ARCHIVE_TRICK + flag.read_text(encoding="utf-8") + "# '\n", encoding="utf-8")
    repo.commit("a new flag, off, and an attribute", at=NOW)
    archived = repo.git("archive", "HEAD", "flags/")
    assert ("stage: enabled" in archived) == (attribute == "export-subst")
    assert ("quiet.yml" in archived) == (attribute == "export-subst")
    for mode in ALL_MODES:
        code, out = flagops(repo, *mode)
        assert code == 1 and "FO011" in rules(out), (mode, out)
        assert f"{attribute}=set" in out and "archive of the commit" in out


@pytest.mark.parametrize("lines", ["pyproject.toml export-subst\n", "*.toml ident\n"])
def test_an_attribute_that_changes_the_policy_the_build_reads_is_refused(
        repo: Repo, lines: str) -> None:
    """The build reads pyproject.toml (the survey page's bucketing and invite hosts, the
    catalog's lifespans): an archive's `$Format:%x0a...$` in a comment is a new key there."""
    repo.write("pyproject.toml", "# $Format:%x0abucketing = 'flagd'$\n[tool.flagops]\n")
    repo.write(".gitattributes", lines)
    repo.commit("a policy and an attribute", at=NOW)
    for mode in ALL_MODES:
        code, out = flagops(repo, *mode)
        assert code == 1 and "FO011" in rules(out), (mode, out)
        assert "pyproject.toml:1:1: error FO011 pyproject.toml:" in out
        assert "remove that attribute for pyproject.toml" in out


@pytest.mark.parametrize(("path", "lines"), [
    ("flags/.gitattributes", "team export-ignore\n"),
    ("flags/.gitattributes", "team filter=lfs export-ignore\n"),  # another attribute first
    (".gitattributes", "flags export-ignore\n"),
    ("flags/.gitattributes", "t* export-ignore\n"),  # a glob, on the odd folder below
])
def test_export_ignore_on_a_folder_above_a_flag_is_refused(
        repo: Repo, path: str, lines: str) -> None:
    """git archive asks about each folder, and leaves out one marked export-ignore with all
    it holds; `check-attr` of a file in it says unspecified."""
    odd = "flags/team/t ë[1]" if lines.startswith("t*") else "flags/team"
    repo.write_flag("demo", "beta", folder=odd, **BETA)
    (repo.path / "flags" / "demo.yml").unlink()  # moved into the team folder, same state
    repo.commit("demo in the team folder", at=NOW - 60)
    repo.write(path, lines)
    repo.commit("an attribute", at=NOW)
    assert f"{odd}/demo.yml" not in repo.git("archive", "HEAD")
    for mode in ALL_MODES:
        code, out = flagops(repo, *mode)
        assert code == 1 and "FO011" in rules(out), (mode, out)
        assert "export-ignore=set (on its folder flags" in out


@pytest.mark.parametrize(("path", "lines"), [
    (".gitattributes", "flags/** -diff\n"),  # the root's, for flags/ only
    (".gitattributes", "[attr]quiet -diff linguist-generated\n*.yml quiet\n"),  # a macro
    ("flags/team/.gitattributes", "demo.yml binary\n"),  # a subfolder's, for one file
])
def test_review_hiding_attributes_are_refused_wherever_they_are_set(
        repo: Repo, path: str, lines: str) -> None:
    """The attribute reaches the flag file through a macro, from the root or from a folder
    below: git's own resolution (check-attr) is what is asked, so each is seen."""
    repo.write(path, lines)
    repo.write_flag("demo", "beta", folder="flags/team", **BETA)
    (repo.path / "flags" / "demo.yml").unlink()  # moved into the team folder, same state
    repo.commit("move demo below an attribute", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO011" in rules(out), out
    assert "hides its changes from review" in out


def test_a_type_change_moved_to_another_folder_still_lifts_no_cap(repo: Repo) -> None:
    """A `wip` flag made `beta` and taken to beta in the change that also moves its file:
    the move keeps its name, and so its base type decides (FO142); the next change may."""
    repo.write_flag("early", "staging", flag_type="wip")
    repo.commit("early at staging", at=NOW - 2 * DAY)
    (repo.path / "flags" / "early.yml").unlink()
    repo.write_flag("early", "beta", flag_type="beta", folder="flags/team b", **BETA)
    repo.commit("early: beta, moved, now a beta flag", at=NOW - DAY)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and rules(out) == ["FO142"], out
    assert "its type at the base" in out


@pytest.mark.parametrize("attribute", ["diff", "-linguist-generated",
                                       "linguist-generated=false", "-gitlab-generated",
                                       "-export-subst", "-export-ignore"])
def test_an_attribute_that_shows_flag_changes_passes(repo: Repo, attribute: str) -> None:
    repo.write("flags/.gitattributes", f"*.yml {attribute}\n")
    repo.commit("attributes", at=NOW)
    _, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert "FO011" not in rules(out), out


def test_harmless_attributes_pass(repo: Repo) -> None:
    repo.write(".gitattributes", "*.yml text eol=lf\n*.png filter=lfs diff=lfs -text\n")
    repo.commit("attributes", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and rules(out) == ["FO303"]
    assert flagops(repo, "validate")[0] == 0


def test_a_folder_named_like_a_flag_is_seen_in_range_mode(repo: Repo) -> None:
    repo.write_flag("y", "off", folder="flags/team.yml")
    repo.commit("a folder named *.yml", at=NOW)
    for mode in ALL_MODES:
        code, out = flagops(repo, *mode)
        assert code == 1 and "FO009" in rules(out), (mode, out)


def test_an_ignored_flag_file_is_still_judged_in_working_tree_mode(repo: Repo) -> None:
    repo.write(".gitignore", "flags/local_*.yml\n")
    repo.commit("ignore", at=NOW - 60)
    repo.write_flag("local_x", "enabled")
    code, out = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and rules(out) == ["FO207"]


def test_the_merge_is_judged_without_the_changes_own_merge_drivers(repo: Repo) -> None:
    """A `.gitattributes` in the merge request could make `merge-tree` in the CI checkout
    conflict where the server's merge is clean, so that the gate judged another tree."""
    repo.write("notes.txt", "l1\nl2\nl3\nl4\nl5\n")
    repo.commit("notes", at=NOW - DAY)
    repo.git("checkout", "-q", "-b", "mr")
    repo.write("notes.txt", "l1\nl2\nl3\nl4\nH5\n")
    repo.write(".gitattributes", "notes.txt merge=binary\n")
    repo.write_flag("n", "off", folder="flags/b")
    repo.commit("mr", at=NOW - 600)
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "T1\nl2\nl3\nl4\nl5\n")
    repo.write_flag("n", "off", folder="flags/a")
    repo.commit("main moved on", at=NOW - 300)
    repo.git("checkout", "-q", "--detach", "mr")
    code, out = flagops(repo, "validate", "--base", "main", "--head", "HEAD", "--merged",
                        "--all-files")
    assert "does not merge cleanly" not in out
    assert code == 1 and "FO111" in rules(out)


def test_render_publishes_only_what_it_wrote(tmp_path: Path) -> None:
    """A change can commit files under public/; the pages job must not publish them beside
    the rendered site (render replaces its folder whole, and never one it did not write)."""
    from survey_renderer.cli import SITE_MARKER, write_site

    site = tmp_path / "public"
    write_site({"index.html": "one\n"}, site)
    (site / "-").mkdir()
    (site / "-" / "evil.html").write_text("<a href=https://evil.example>talk</a>\n")
    write_site({"index.html": "two\n"}, site)
    assert sorted(p.name for p in site.rglob("*")) == [SITE_MARKER, "index.html"]
    assert (site / "index.html").read_text() == "two\n"
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep\n")
    with pytest.raises(UserError):
        write_site({"index.html": "x\n"}, foreign)
    assert (foreign / "mine.txt").read_text() == "keep\n"
