"""The fifth review's attacks on the gate, each in a real repository through the command line:
every one of them must be refused, and the legal change next to it must still pass."""

from __future__ import annotations

import io
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo
from test_gate_fourth_review import BETA, DAY, NOW
from test_gate_integrity import flagops

from validator.cli import main

CLOCK_DATED = True  # NOW read again as each test starts (conftest)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    return repo


# 1. A broken file of the same name on the base does not hide a live flag's deletion.

@pytest.mark.parametrize("twin", ["name: [unclosed\n", "name: demo\nstage: nowhere\n"],
                         ids=["unparseable", "invalid"])
@pytest.mark.parametrize("stage", ["beta", "off"])
def test_deleting_a_live_flag_beside_a_broken_twin_is_judged_as_a_deletion(
        repo: Repo, twin: str, stage: str) -> None:
    repo.write_flag("demo", stage, **(BETA if stage == "beta" else {}))
    repo.write("flags/old/demo.yml", twin)
    repo.commit("demo, and a broken twin a stale pipeline let in", at=NOW - 10 * DAY)
    repo.git("rm", "-q", "flags/demo.yml")
    repo.commit("remove demo", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    if stage == "beta":
        assert code == 1 and "FO208:error" in found, text
    else:  # a flag at off may go, broken twin or not (its findings do not block a rollback)
        assert code == 0, text



@pytest.mark.parametrize("twin", ["flags/a/demo.yml", "flags/aaa.yml"])
def test_deleting_every_file_of_a_name_the_base_holds_twice_is_judged_for_each(
        repo: Repo, twin: str) -> None:
    """The base's flags are keyed by name, the first changed file of a name winning: with
    a twin at off that sorts first (same stem in another folder, or a file that declares
    the name), deleting both files judged the deletion from the twin's off, and the file
    at beta went without FO208."""
    repo.write_flag("demo", "beta", folder="flags/z", **BETA)
    repo.write(twin, (repo.path / "flags/z/demo.yml").read_text().replace(
        "stage: beta", "stage: off").replace("actors:\n  - Project:gitlab-org/gitlab\n", ""))
    repo.commit("demo twice, which a stale pipeline let in", at=NOW - 10 * DAY)
    repo.git("rm", "-q", "flags/z/demo.yml", twin)
    repo.commit("remove demo", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO208:error" in found and "flags/z/demo.yml" in text, text

# 2. A fast-forward push of several commits is judged from the tip before it to its tip.

def _gitlab_push(repo: Repo, before: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`flagops ci gitlab` as the default branch's pipeline of a push runs it."""
    for key, value in {"CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BRANCH": "main",
                       "CI_COMMIT_SHA": repo.head(), "CI_COMMIT_BEFORE_SHA": before,
                       **repo.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo.path)
    out = io.StringIO()
    code = main(["-C", str(repo.path), "ci", "gitlab"], out=out)
    return code, out.getvalue()


def _percent(value: float) -> dict[str, Any]:
    return {"percentage": ("actors", value), **BETA}


def test_a_pushed_train_of_steps_each_soaked_is_one_step_from_the_tip_before_it(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the pushed tip is deployed, so the push is judged from the tip before it to its
    tip (the README's "A range is judged from base to head"): two increments that each
    soaked on the author's clock (10% → 50% → 100%, an hour apart) are one skip (FO202);
    pushed one commit at a time, each is judged (and the second waits for the first's soak
    on the branch, whose clock counts from the commit that brought 50%)."""
    repo.write_flag("demo", "percentage", **_percent(10))
    before = repo.commit("10%", at=NOW - 5 * DAY)
    repo.write_flag("demo", "percentage", **_percent(50))
    repo.commit("50%", at=NOW - 2 * 3600)
    repo.write_flag("demo", "percentage", **_percent(100))
    repo.commit("100%", at=NOW - 3600)
    code, text = _gitlab_push(repo, before, monkeypatch)
    assert code == 1 and "FO202" in text, text
    code, text = _gitlab_push(repo, repo.git("rev-parse", "HEAD~1").strip(), monkeypatch)
    assert code == 0, text  # 50% landed two hours ago: 50% → 100% alone is legal


def test_a_detour_in_a_pushed_train_restarts_the_soak_it_could_only_lengthen(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A train that rolls back and comes back (10% → beta → 10%) changes nothing that is
    deployed, and passes; the next step counts its soak from the commit that brought 10%
    back, not from the 10% of days ago: intermediate commits can only make it wait longer."""
    repo.write_flag("demo", "percentage", **_percent(10))
    before = repo.commit("10%", at=NOW - 5 * DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("back to beta", at=NOW - 300)
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("10% again", at=NOW - 240)
    assert _gitlab_push(repo, before, monkeypatch)[0] == 0
    train = repo.head()
    repo.write_flag("demo", "percentage", **_percent(50))
    repo.commit("50%", at=NOW - 60)
    code, text = _gitlab_push(repo, train, monkeypatch)
    assert code == 1 and "FO204" in text, text


# 3. Paths that a case-insensitive checkout (macOS, Windows) writes to one file.

@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
@pytest.mark.parametrize("path", ["FLAGS/sneaky.yml", "Flags/team/sneaky.yml",
                                  "flag\u017f/sneaky.yml"], ids=["upper", "title", "long-s"])
def test_a_flag_file_in_a_case_twin_of_flags_is_refused(repo: Repo, path: str,
                                                        mode: tuple[str, ...]) -> None:
    """`FLAGS/` is no flag folder to git, the gate or a Linux build (FO303 at most), but a
    checkout on macOS or Windows puts its files in flags/: a flag at enabled that no rule
    judged, for every build made there. (U+017F, the long s, folds to s as well.)"""
    repo.write_flag("demo", "off")
    repo.commit("demo", at=NOW - DAY)
    repo.write(path, (repo.path / "flags/demo.yml").read_text().replace(
        "demo", "sneaky").replace("stage: off", "stage: enabled"))
    repo.git("add", "-A")
    if mode[0] == "--base":
        repo.commit("sneaky", at=NOW - 60)
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and "FO010:error" in found and "case" in text, text


@pytest.mark.parametrize("twin", ["flags/demo.YML", "flags/Demo.yml"])
def test_a_case_twin_of_a_flag_file_is_refused_and_a_rollback_beside_an_old_one_passes(
        repo: Repo, twin: str) -> None:
    """`flags/demo.YML` next to `flags/demo.yml`: git keeps two files, a case-insensitive
    checkout one, under the name written first (`demo.YML`, which build does not read) with
    the bytes written last: the flag is gone there, live on Linux. The change that brings
    the twin is refused; a rollback of the flag beside a twin the base already holds passes
    (its finding is the base's, as for any broken file), and a forward step does not."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - DAY)
    repo.write(twin, (repo.path / "flags/demo.yml").read_text())
    repo.commit("a twin", at=NOW - 3600)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and "FO010:error" in found, text
    repo.write_flag("demo", "staging")
    repo.commit("demo back to staging", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and "FO010:warning" in found, text
    repo.write_flag("demo", "beta", **BETA)
    code, found, text = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and "FO010:error" in found, text


def test_many_case_twins_each_name_a_few_of_the_others(repo: Repo) -> None:
    """Each of thousands of paths that fold alike named every other one: the report grew with
    the square of the change (400 MB for 4,000 files). Each names five and counts the rest."""
    repo.write_flag("demo", "off")
    repo.commit("demo", at=NOW - DAY)
    text = (repo.path / "flags/demo.yml").read_text()
    for spelled in ("Demo", "dEmo", "deMo", "demO", "DEmo", "DeMo", "DemO"):
        repo.write(f"flags/{spelled}.yml", text)
    repo.git("add", "-A")
    code, _, report = flagops(repo, "validate", "--staged")
    lines = [line for line in report.splitlines() if " FO010 " in line]
    assert code == 1 and len(lines) == 7, report
    assert all(line.count("flags/") == 1 + 1 + 5 and " and 2 more only in case" in line
               for line in lines), lines[0]


# 4. A shallow clone (GitLab CI's default GIT_DEPTH) says what it cannot read.

def _shallow_clone(repo: Repo, depth: int) -> Repo:
    clone = Repo(repo.path.parent / "shallow", repo.path.parent / "home")
    repo.git("clone", "-q", "--depth", str(depth), f"file://{repo.path}", str(clone.path))
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"
    return clone


def test_a_soak_that_began_beyond_a_shallow_cut_is_not_proven(repo: Repo) -> None:
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    repo.write("README.md", "notes\n")
    repo.commit("notes", at=NOW - DAY)
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("demo at 10%", at=NOW - 60)
    code, found, text = flagops(_shallow_clone(repo, 2), "validate", "--base", "HEAD~1",
                                "--head", "HEAD")
    assert code == 1 and found == ["FO205:error"] and "GIT_DEPTH" in text, text
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")[0] == 0


@pytest.mark.parametrize("severity", ["error", "warning"])
def test_a_flag_whose_age_is_beyond_a_shallow_cut_is_not_young(repo: Repo,
                                                               severity: str) -> None:
    """Counted in months, a flag's age starts at the commit that added its file; a shallow
    clone shows every file as added at its cut, so a flag of years looked days old (FO402
    silent, even with stale_severity = "error"). Where the age cannot be read, FO205 says so,
    as the policy's stale_severity reports FO402."""
    repo.write("pyproject.toml", "[tool.flagops]\nstale_in_months = true\n"
               f"stale_severity = \"{severity}\"\nversion_file = \"NONE\"\n")
    repo.write_flag("demo", "staging", flag_type="gitlab_com_derisk")
    repo.commit("demo, long ago", at=NOW - 400 * DAY)
    repo.write("README.md", "notes\n")
    repo.commit("notes", at=NOW - DAY)
    repo.write_flag("demo", "staging", flag_type="gitlab_com_derisk", description="Reworded.")
    repo.commit("reword demo", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert found == [f"FO402:{severity}"], text
    code, found, text = flagops(_shallow_clone(repo, 2), "validate", "--base", "HEAD~1",
                                "--head", "HEAD")
    assert found == [f"FO205:{severity}"] and "how long it has lived" in text, text
    assert code == (1 if severity == "error" else 0)


def test_a_release_that_landed_beyond_a_shallow_cut_is_not_recent(repo: Repo) -> None:
    """FO407 counts from when default_enabled landed; beyond the cut it said nothing."""
    repo.write("pyproject.toml", "[tool.flagops]\nstale_severity = \"error\"\n")
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("demo released", at=NOW - 100 * DAY)
    repo.write("README.md", "notes\n")
    repo.commit("notes", at=NOW - DAY)
    repo.write_flag("demo", "enabled", description="Reworded.", default_enabled=True,
                    cleanup=True)
    repo.commit("reword demo", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and found == ["FO405:warning", "FO407:error"], text
    code, found, text = flagops(_shallow_clone(repo, 2), "validate", "--base", "HEAD~1",
                                "--head", "HEAD")
    assert code == 1 and found == ["FO205:error", "FO405:warning"], text


# 5. `git commit --amend` replaces HEAD: the hook says so, and how to judge the real step.

def test_the_hook_says_that_an_amend_is_judged_from_head_s_parent(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The pre-commit hook judges HEAD → the index; an amend makes a commit on HEAD~1, so
    a 10% step committed a minute ago, amended to 50%, is beta → 50% (FO202), which the
    hook took for 10% → 50% (a soak warning only). Git tells a pre-commit hook nothing of
    the amend but the author date it keeps (GIT_AUTHOR_DATE is HEAD's), so where the two
    agree the hook names the step it judged and the command that judges the amend; a new
    commit, whose author date is its own, hears nothing of amends. CI judges the pushed
    commit from its real base anyway."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - DAY)
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("demo at 10%", at=NOW - 60)
    repo.write_flag("demo", "percentage", **_percent(50))
    repo.git("add", "-A")
    for said in (None, f"@{NOW} +0000", f"{NOW - 60} +0000"):  # a new commit; not git's form
        if said is None:
            monkeypatch.delenv("GIT_AUTHOR_DATE", raising=False)
        else:
            monkeypatch.setenv("GIT_AUTHOR_DATE", said)
        assert flagops(repo, "validate", "--staged")[:2] == (0, ["FO204:warning"])
        assert "--amend" not in capsys.readouterr().err
    monkeypatch.setenv("GIT_AUTHOR_DATE", f"@{NOW - 60} +0100")  # HEAD's: an amend
    code, found, _ = flagops(repo, "validate", "--staged")
    notes = capsys.readouterr().err
    assert code == 0 and found == ["FO204:warning"]
    assert "--amend" in notes and "--staged --base HEAD~1" in notes, notes
    code, found, text = flagops(repo, "validate", "--staged", "--base", "HEAD~1")
    assert code == 1 and "FO202:error" in found, text
    assert "--amend" not in capsys.readouterr().err  # judged from HEAD~1: nothing to add


def test_git_gives_a_pre_commit_hook_the_author_date_an_amend_keeps(repo: Repo) -> None:
    """What the note above rests on, asked of the real git: a hook under `commit --amend`
    sees HEAD's author date in GIT_AUTHOR_DATE, as `@<seconds> <zone>`; under a new
    commit, a date of its own."""
    seen = repo.path / ".git" / "seen"
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f'#!/bin/sh\nprintf "%s\\n" "$GIT_AUTHOR_DATE" >> "{seen}"\n')
    hook.chmod(0o755)
    repo.write("a.txt", "1\n")
    repo.commit("one", at=NOW - DAY)
    repo.write("a.txt", "2\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "-m", "one, amended")
    repo.write("a.txt", "3\n")
    repo.commit("two", at=NOW - 60)
    first, second = seen.read_text().splitlines()[-2:]
    assert first.startswith(f"@{NOW - DAY} ")
    assert not second.startswith(f"@{NOW - DAY} ")


@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
@pytest.mark.parametrize("path", [".GITATTRIBUTES", "flags/.GitAttributes",
                                  "flags/team/.gitattribute\u017f",
                                  ".gitattr\u0131butes", "flags/.gitattr\u0131butes"])
def test_a_case_twin_of_gitattributes_is_refused(repo: Repo, path: str,
                                                 mode: tuple[str, ...]) -> None:
    """Git reads `.gitattributes` from the index by its exact name, then from the working
    tree, where a checkout that ignores case opens `.GITATTRIBUTES` under that name: its
    conversions (here UTF-16 on checkout) apply to flag files on macOS and Windows only,
    and the gate's FO011, which asks git on the exact name, never saw them.

    The sixth review added the dotless i (U+0131): NTFS upcases each character to compare
    names, and it upcases to I, so `.gitattr\u0131butes` is `.gitattributes` on Windows.
    Python's casefold keeps U+0131, so `git.fold` missed it (at the root a FO303 warning,
    under flags/ nothing at all); it upcases before folding now."""
    repo.write_flag("demo", "off", folder="flags/team")
    repo.commit("demo", at=NOW - DAY)
    repo.write(path, "*.yml working-tree-encoding=UTF-16\n")
    repo.git("add", "-A")
    if mode[0] == "--base":
        repo.commit("attributes", at=NOW - 60)
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and "FO010:error" in found and ".gitattributes" in text, text


@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
@pytest.mark.parametrize("pattern", ["*.YML", "FLAGS/**", "flags/Team/*.yml"])
def test_an_attribute_that_matches_flag_files_only_where_case_is_ignored_is_refused(
        repo: Repo, pattern: str, mode: tuple[str, ...]) -> None:
    """A clone on macOS or Windows sets core.ignorecase, and git then matches attribute
    patterns without case: `*.YML working-tree-encoding=UTF-16` converts flag files there,
    and nowhere the gate asked (FO011 asked git with case)."""
    repo.write_flag("demo", "off", folder="flags/team")
    repo.commit("demo", at=NOW - DAY)
    repo.write(".gitattributes", f"{pattern} working-tree-encoding=UTF-16\n")
    repo.git("add", "-A")
    if mode[0] == "--base":
        repo.commit("attributes", at=NOW - 60)
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and "FO011:error" in found, text


def test_with_merge_commits_required_an_old_commit_pushed_late_starts_no_soak(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit made two hours ago and pushed (fast-forwarded) a minute ago carries its
    author's date: by that clock 10% soaked before it was ever deployed. The README's answer
    is require_merge_commits: the state waits for a merge commit (FO204), as the server's
    clock says it landed."""
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("beta", at=NOW - 5 * DAY)
    repo.git("checkout", "-q", "-b", "side")
    repo.write("README.md", "notes\n")
    repo.commit("notes", at=NOW - 5 * DAY + 60)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge notes", "side", at=NOW - 4 * DAY)
    before = repo.head()
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("10%, made two hours ago", at=NOW - 2 * 3600)
    assert _gitlab_push(repo, before, monkeypatch)[0] == 0  # beta soaked at a merge
    pushed = repo.head()
    repo.write_flag("demo", "percentage", **_percent(50))
    repo.commit("50%", at=NOW - 60)
    code, text = _gitlab_push(repo, pushed, monkeypatch)
    assert code == 1 and "FO204" in text and "merge commit" in text, text


# The rollout date a forward step is judged by is the base's, as the lifespan is.

def test_a_passed_rollout_date_moved_in_the_change_that_steps_forward_still_counts(
        repo: Repo) -> None:
    """With stale_severity = "error", a flag past its intended_to_rollout_by may not step
    forward (FO403); moving the date in the same change silenced it. The new date counts
    from the next change on; a change that only moves the date (the README's remedy: a new
    date, with the reason in the rollout issue) passes, and the step after it too."""
    repo.write("pyproject.toml", "[tool.flagops]\nstale_severity = \"error\"\n")
    repo.write_flag("demo", "beta", **BETA)
    text = (repo.path / "flags/demo.yml").read_text()
    repo.write("flags/demo.yml", text + "intended_to_rollout_by: '2020-01-01'\n")
    repo.commit("demo at beta, due long ago", at=NOW - 5 * DAY)
    later = (repo.path / "flags/demo.yml").read_text().replace("2020-01-01", "2999-01-01")
    repo.write("flags/demo.yml", later.replace("stage: beta", "stage: percentage").replace(
        "default_enabled", "percentage: {of: actors, value: 10}\ndefault_enabled"))
    code, found, text = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and found == ["FO403:error"] and "2020-01-01" in text, text
    repo.write("flags/demo.yml", later)
    assert flagops(repo, "validate", "--base", "HEAD")[0] == 0  # a new date alone


@pytest.mark.parametrize("suffix", [".YML", ".Yml", ".yaml", ".YAML", ".yml.", ".yml ",
                                    ".YAML. "])
@pytest.mark.parametrize("mode", [(), ("--base", "HEAD"), ("--staged",)])
def test_a_flag_file_whose_suffix_is_not_yml_in_lower_case_is_not_read_and_says_so(
        repo: Repo, suffix: str, mode: tuple[str, ...]) -> None:
    """The build, git's pathspecs and the gate read `*.yml` by its case on every system, so
    `demo.YML` is a flag nobody reads: off in production without a word, as `.yaml` was
    (FO008). The same flag as `demo.yml` passes."""
    from gitrepo import flag_yaml

    repo.write("flags/other.yml", flag_yaml("other"))
    repo.commit("other", at=NOW - DAY)
    repo.write(f"flags/demo{suffix}", flag_yaml("demo"))
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 1 and found == ["FO008:error"], text
    assert shlex.join(["git", "mv", f"flags/demo{suffix}", "flags/demo.yml"]) in text
    repo.git("mv", f"flags/demo{suffix}", "flags/demo.yml")
    code, found, text = flagops(repo, "validate", *mode)
    assert code == 0 and found == [], text


# A base whose policy cannot be read (a push round the gate, an upgrade that refuses an old key).

@pytest.mark.parametrize("mode", [("--base", "HEAD~1", "--head", "HEAD"), ("--staged",)])
def test_with_the_base_s_policy_unreadable_only_a_change_that_turns_flags_off_passes(
        repo: Repo, mode: tuple[str, ...]) -> None:
    """No rules to judge a step by: every step is FO301, but a flag taken to off (nobody has
    it, whatever the rules were) passes with FO301 as a warning, so the rollback stays one
    step at 3 a.m. A step back that leaves anyone the flag, a forward step, and a flag turned
    off beside any other file are still refused."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - DAY)
    repo.write("pyproject.toml", '[tool.flagops]\nsoak_minutes = "x"\n')
    repo.commit("a policy pushed round the gate", at=NOW - DAY + 60)
    staged = mode == ("--staged",)
    for stage, other, verdict in (("off", None, (0, ["FO301:warning"])),
                                  ("staging", None, (1, ["FO301:error"])),
                                  ("off", "ci.sh", (1, ["FO301:error", "FO303:warning"]))):
        repo.write_flag("demo", stage)
        if other is not None:
            repo.write(other, "exit 0\n")
        if staged:
            repo.git("add", "-A")
        else:
            repo.commit(f"demo at {stage}", at=NOW - 60)
        code, found, text = flagops(repo, "validate", *mode)
        assert (code, found) == verdict, text
        repo.git("reset", "-q", "--hard", "HEAD" if staged else "HEAD~1")
        repo.git("clean", "-q", "-f")


@pytest.mark.parametrize(("attack", "refused_by"), [
    ("policy fixed too", "FO301"), ("second file of the name", "FO111"), ("case twin", "FO010"),
    ("symlink", "FO301"), ("renamed", "FO301")])
def test_with_the_base_s_policy_unreadable_nothing_rides_along_with_a_flag_turned_off(
        repo: Repo, attack: str, refused_by: str) -> None:
    """The one exception to an unreadable base policy is a change of flag files alone, each a
    flag at off: a policy edit beside it, another file of a live flag's name at off, a case
    twin at off, a flag file that is a symlink to one at off, or the live file moved to a new
    path at off (a deletion of the old one) are each still refused: by FO301, or, where the
    files are all flags at off, by the rule on what else they bring (a second file of a live
    flag's name, a case twin)."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - DAY)
    repo.write("pyproject.toml", '[tool.flagops]\nsoak_minutes = "x"\n')
    repo.commit("a policy pushed round the gate", at=NOW - DAY + 60)
    if attack == "policy fixed too":
        repo.write_flag("demo", "off")
        repo.write("pyproject.toml", "[tool.flagops]\n")
    elif attack == "second file of the name":
        repo.write_flag("demo", "off", folder="flags/team")
    elif attack == "case twin":
        repo.write("flags/Demo.yml", (repo.path / "flags/demo.yml").read_text()
                   .replace("stage: beta", "stage: \"off\""))
    elif attack == "symlink":
        repo.write_flag("other", "off", folder="elsewhere")
        (repo.path / "flags/other.yml").symlink_to("../elsewhere/other.yml")
    else:
        repo.git("mv", "flags/demo.yml", "flags/demo2.yml")
        repo.write_flag("demo2", "off")
    repo.commit(attack, at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and f"{refused_by}:error" in found, text


def test_a_live_flag_renamed_to_a_suffix_nobody_reads_is_a_deletion(repo: Repo) -> None:
    """`git mv flags/demo.yml flags/demo.YML` takes a live flag out of every build: FO008 for
    the new name, and FO208 for the live flag that is gone."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - DAY)
    repo.git("mv", "flags/demo.yml", "flags/demo.YML")
    repo.commit("renamed", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and {"FO008:error", "FO208:error"} <= set(found), text


def test_a_merge_beyond_a_shallow_cut_says_to_fetch_the_history(
        repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """Cut at depth 1, the request and its target share no commit: the line says so and what
    to do, not that git is too old."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "request")
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("demo at 10%", at=NOW - 60)
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "main moved on\n")
    repo.commit("notes", at=NOW - 30)
    clone = Repo(repo.path.parent / "shallow", repo.path.parent / "home")
    repo.git("clone", "-q", "--depth", "1", "--no-single-branch", f"file://{repo.path}",
             str(clone.path))
    code, _, _ = flagops(clone, "validate", "--base", "origin/main", "--head",
                         "origin/request", "--merged")
    error = capsys.readouterr().err
    assert code == 1 and "share no commit in this shallow clone" in error, error
    assert 'GIT_DEPTH: "0"' in error and "2.38" not in error
    # the full repository judges the same merge
    assert flagops(repo, "validate", "--base", "main", "--head", "request", "--merged")[0] == 0


@pytest.mark.parametrize(("remote", "code", "severity"), [("", 1, "error"),
                                                          ("origin", 0, "warning")])
def test_a_hook_range_holds_the_soak_unless_it_is_a_push(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, remote: str, code: int,
        severity: str) -> None:
    """`pre-commit run --from-ref A --to-ref B` is how CI runs the hook: an unsoaked step is
    refused there. At pre-push (pre-commit names the remote) the push lands later: a
    warning, which CI enforces."""
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("demo at 10%", at=NOW - 600)
    repo.write_flag("demo", "percentage", **_percent(50))
    repo.commit("demo at 50%", at=NOW - 60)
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "HEAD~1")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "HEAD")
    if remote:
        monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", remote)
    else:
        monkeypatch.delenv("PRE_COMMIT_REMOTE_NAME", raising=False)
    found = flagops(repo, "validate", "--staged")
    assert found[:2] == (code, [f"FO204:{severity}"]), found[2]


def test_committing_a_merge_that_stopped_on_a_conflict_is_not_charged_the_targets_steps(
        repo: Repo) -> None:
    """A merge of the target that stops on a conflict is committed through the commit hook
    (a clean one runs none): HEAD → the index holds the target's own steps, staging → beta →
    10 %, which were read as the branch's jump (FO201). Files the index holds as the merged
    commit has them are its change; a flag resolved otherwise is still judged from HEAD."""
    repo.write_flag("demo", "staging")
    repo.write("README.md", "notes\n")
    repo.commit("staging", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("README.md", "feature notes\n")
    repo.commit("feature docs", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "main")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("beta", at=NOW - 8 * DAY)
    repo.write_flag("demo", "percentage", **_percent(10))
    repo.commit("10%", at=NOW - 7 * DAY)
    repo.write("README.md", "main notes\n")
    repo.commit("main docs", at=NOW - 6 * DAY)
    repo.git("checkout", "-q", "feature")
    merged = subprocess.run(["git", "merge", "-q", "main"], cwd=repo.path, env=repo.env,
                            capture_output=True, text=True, check=False)
    assert merged.returncode != 0  # README.md conflicts
    repo.write("README.md", "feature notes\nmain notes\n")
    repo.git("add", "README.md")
    code, found, text = flagops(repo, "validate", "--staged")
    assert (code, found) == (0, []), text
    repo.write_flag("demo", "enabled")  # resolved by hand beyond both sides: judged
    repo.git("add", "-A")
    code, found, text = flagops(repo, "validate", "--staged")
    assert code == 1 and "FO201:error" in found, text


def test_two_flags_stepped_forward_in_one_change_each_find_their_landing(repo: Repo) -> None:
    """The flags' one log was walked whole for each: `a`'s walk stopped at `b`'s newer
    commit and found no landing (FO205, "the history is not in this clone"). Each legal
    step alone passed; together they pass too, and each soak is still its own."""
    repo.write_flag("flag_a", "staging")
    repo.commit("a at staging", at=NOW - 2 * DAY)
    repo.write_flag("flag_b", "staging")
    repo.commit("b at staging", at=NOW - 20 * 60)
    repo.write_flag("flag_c", "staging")
    repo.commit("c at staging", at=NOW - 5 * 60)
    for name in ("flag_a", "flag_b"):
        repo.write_flag(name, "beta", **BETA)
    code, found, text = flagops(repo, "validate", "--base", "HEAD")
    assert (code, found) == (0, []), text
    repo.write_flag("flag_c", "beta", **BETA)  # 5 minutes of a 15-minute soak
    code, found, text = flagops(repo, "validate", "--base", "HEAD")
    assert (code, found) == (1, ["FO204:error"]) and "flag_c" in text, text
