"""FO408: a flag's file moved to another folder in two commits (removed in one, added in the
other) instead of one. The gate judged the change as a move, which restarts no count, and it
passed; landed commit by commit (a fast-forward or rebase merge), the base branch's history
then held an add with nothing of the name before it in that folder, and the history of the
flag, read by its paths and its moves within one commit, started there. A flag's age (months)
and its oldest milestone restarted with it, so a stale flag was young again for every later
change: its next forward step passed `stale_severity = "error"`. Each test is a real
repository judged through the command line, as CI judges a merge request."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo
from test_gate_integrity import flagops

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}
STALE = '[tool.flagops]\nstale_in_months = true\nstale_severity = "error"\n'
"""Beta flags live six months, counted from the commit that added the flag's file."""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """main: `demo` at beta, added 150 days ago (young: a beta flag lives six months)."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", STALE)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("add demo", at=NOW - 150 * DAY)
    repo.git("checkout", "-q", "-b", "move")
    return repo


def _split_move(repo: Repo, *, add_first: bool = False, stage: str = "beta",
                **fields: Any) -> None:
    """On the branch: flags/demo.yml removed in one commit and flags/team/demo.yml added in
    another (the add first, with `add_first`, which leaves two files of the name between)."""
    fields = fields or (BETA if stage == "beta" else {})

    def remove() -> None:
        (repo.path / "flags/demo.yml").unlink()

    def add() -> None:
        repo.write_flag("demo", stage, folder="flags/team", **fields)

    for step in (add, remove) if add_first else (remove, add):
        step()
        repo.commit("move demo, one half", at=NOW - 2 * DAY)


@pytest.mark.parametrize("add_first", [False, True], ids=["removed-first", "added-first"])
@pytest.mark.parametrize("merged", [False, True], ids=["head", "merged"])
def test_a_move_split_over_two_commits_is_refused(repo: Repo, add_first: bool,
                                                  merged: bool) -> None:
    _split_move(repo, add_first=add_first)
    side = ["--merged"] if merged else []
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move", *side)
    assert (code, found) == (1, ["FO408:error"]), report
    assert ("demo: flags/team/demo.yml is added in ") in report
    assert ("with no file of the name removed there, while the base holds demo "
            "(flags/demo.yml)") in report
    assert "move a flag's file in one commit (git mv)" in report


def test_a_move_in_one_commit_passes(repo: Repo) -> None:
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.commit("move demo", at=NOW - 2 * DAY)
    assert flagops(repo, "validate", "--base", "main", "--head", "move")[:2] == (0, [])


def test_a_rollback_does_not_carry_a_split_move(repo: Repo) -> None:
    """A rollback is never judged by the lifecycle rules, and a split move carried by one
    restarted the flag's age as well: FO408 holds it too. The rollback alone passes."""
    _split_move(repo, stage="staging")
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (1, ["FO408:error"]), report
    repo.git("reset", "-q", "--hard", "main")
    repo.write_flag("demo", "staging")
    repo.commit("roll demo back", at=NOW - 2 * DAY)
    assert flagops(repo, "validate", "--base", "main", "--head", "move")[:2] == (0, [])


def test_without_stale_severity_error_it_is_a_warning(repo: Repo) -> None:
    repo.git("checkout", "-q", "main")
    repo.write("pyproject.toml", "[tool.flagops]\nstale_in_months = true\n")
    repo.commit("stale flags warn", at=NOW - 100 * DAY)
    repo.git("checkout", "-q", "-B", "move")
    _split_move(repo)
    code, found, _ = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (0, ["FO408:warning"])


@pytest.mark.parametrize(("merged", "rebase_merge"), [(True, False), (True, True),
                                                      (False, False)],
                         ids=["gitlab-merge-request", "github-pull-request", "push"])
def test_with_merge_commits_required_a_split_move_is_refused_still(
        repo: Repo, merged: bool, rebase_merge: bool) -> None:
    """require_merge_commits says the team lands changes with merge commits; nothing makes
    it so. GitHub's "Rebase and merge", GitLab's fast-forward merge method and a push land
    the commits one by one, and FO408, not asked under that key, let a split move restart a
    stale flag's age (two reviews of FO408)."""
    from validator.compare import RangeRequest, compare

    repo.git("checkout", "-q", "main")
    repo.write("pyproject.toml", STALE + "require_merge_commits = true\n")
    repo.commit("merge commits only", at=NOW - 100 * DAY)
    repo.git("checkout", "-q", "-B", "move")
    _split_move(repo)
    request = RangeRequest("main", "move", merged=merged, rebase_merge=rebase_merge)
    found = [f.rule for f in compare(repo.path, request, now=NOW).findings]
    assert "FO408" in found, found


@pytest.mark.parametrize("moved", [False, True], ids=["touching-nothing", "moving-it"])
def test_a_branch_that_merged_its_target_in_is_refused_unless_merges_are_required(
        repo: Repo, moved: bool) -> None:
    """The flag was added on main after the branch started, and the branch merged main. Its
    first-parent line holds that merge, whose diff from its first parent adds the flag's
    file: fast-forwarded, main's first-parent line is the branch's, the flag's life starts
    at the merge, and a stale flag is young again (the review of FO408's third version).
    Whatever the branch itself changes. With require_merge_commits the branch lands as a
    merge commit, and main's line keeps the add."""
    repo.git("checkout", "-q", "main")
    repo.write_flag("other", "off")
    repo.commit("add other", at=NOW - 20 * DAY)
    repo.git("checkout", "-q", "move")
    repo.commit("branch work", at=NOW - 19 * DAY)
    repo.git("merge", "-q", "--no-edit", "main", at=NOW - 18 * DAY)
    if moved:
        (repo.path / "flags/team").mkdir()
        repo.git("mv", "flags/other.yml", "flags/team/other.yml")
        repo.commit("move other", at=NOW - 2 * DAY)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (1, ["FO408:error"]), report
    assert "the change merged its target in, which is not on its first-parent line" in report
    assert "rebase onto the target, or land the change with a merge commit" in report
    repo.git("checkout", "-q", "main")
    repo.write("pyproject.toml", STALE + "require_merge_commits = true\n")
    repo.commit("merge commits only", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move",
                                  "--merged")
    assert "FO408" not in report, report


def _copy_then_move(repo: Repo, at: int) -> None:
    """flags/demo.yml copied to flags/a/ in one commit; then one commit removes both and
    adds flags/team/demo.yml (git mv of the copy)."""
    repo.write("flags/a/demo.yml", (repo.path / "flags/demo.yml").read_text(encoding="utf-8"))
    repo.commit("a copy of demo", at=at - 60)
    (repo.path / "flags/demo.yml").unlink()
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/a/demo.yml", "flags/team/demo.yml")
    repo.commit("move demo", at=at)


def test_a_copy_then_a_move_of_both_in_one_commit_passes(repo: Repo) -> None:
    """A copy in one commit, then one commit that removes both files and adds the new path.
    The history follows a move into every file of the name it removed, so it reaches the
    base's file, and the flag keeps its age (next test): FO408 refused it all the same (the
    review of FO408's seventh version), though its third version's history, which followed
    only the first file a move removed, did start at the copy. A copy left in place, then
    the original removed, restarts it still."""
    _copy_then_move(repo, at=NOW - 2 * DAY)
    assert flagops(repo, "validate", "--base", "main", "--head", "move")[:2] == (0, [])
    repo.git("checkout", "-q", "-b", "copy", "main")
    repo.write("flags/a/demo.yml", (repo.path / "flags/demo.yml").read_text(encoding="utf-8"))
    repo.commit("a copy of demo", at=NOW - 2 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("the original removed", at=NOW - DAY)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "copy")
    assert (code, found) == (1, ["FO408:error"]), report


@pytest.mark.parametrize("merged", [False, True], ids=["head", "merged"])
def test_a_split_move_made_on_a_branch_the_change_merges_is_refused(repo: Repo,
                                                                    merged: bool) -> None:
    """The branch's first-parent line holds the merge of a side branch, whose diff is the
    whole move; a rebase merge replays the side branch's two commits without the merge, and
    they land one by one (the review of the first FO408)."""
    repo.git("checkout", "-q", "-b", "side")
    _split_move(repo)
    repo.git("checkout", "-q", "move")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side", at=NOW - DAY)
    side = ["--merged"] if merged else []
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move", *side)
    assert (code, found) == (1, ["FO408:error"]), report


def test_judged_on_the_merge_github_makes_a_split_move_is_refused(repo: Repo) -> None:
    """A pull request's job may judge refs/pull/N/merge, GitHub's merge of the branch into
    its base: its first-parent diff is the whole move, and the branch's commits still land
    one by one under "Rebase and merge"."""
    _split_move(repo)
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "move", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "HEAD")
    assert (code, found) == (1, ["FO408:error"]), report


def test_on_the_working_tree_the_commits_so_far_are_judged(repo: Repo) -> None:
    _split_move(repo)
    code, found, report = flagops(repo, "validate", "--base", "main")
    assert (code, found) == (1, ["FO408:error"]), report


def test_a_file_removed_and_added_again_at_its_own_path_then_moved_is_no_restart(
        repo: Repo) -> None:
    """Its history is read by that path, which keeps both, and the move in one commit after
    them is followed (tests/test_gate_fourth_review.py holds the flag's age through such a
    deletion)."""
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo", at=NOW - 2 * DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo again", at=NOW - 2 * DAY)
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.commit("move demo", at=NOW - DAY)
    assert flagops(repo, "validate", "--base", "main", "--head", "move")[:2] == (0, [])


def test_a_removal_then_a_merge_that_brings_the_moved_file_is_refused(repo: Repo) -> None:
    """The branch removes the file in a commit of its own, then merges a branch that moved
    it in one commit: no replayed commit splits it, but fast-forwarded, the first-parent line
    holds the removal, then the merge, whose diff from its first parent is the add alone (the
    review of FO408's second version)."""
    repo.git("checkout", "-q", "-b", "side", "main")
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.commit("move demo in one commit", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "move")
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo", at=NOW - 2 * DAY)
    with pytest.raises(AssertionError, match="git merge"):  # rename/delete: resolved by hand
        repo.git("merge", "-q", "--no-edit", "side", at=NOW - DAY)
    repo.git("add", "flags/team/demo.yml")
    repo.git("commit", "-q", "--no-edit", at=NOW - DAY)
    assert len(repo.git("rev-list", "--parents", "-1", "HEAD").split()) == 3  # a merge
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (1, ["FO408:error"]), report


def test_a_copy_then_a_move_on_the_base_keeps_the_flags_age(tmp_path: Path) -> None:
    """Landed before FO408 (or pushed round it): the move commit removed two files of the
    name, and the history followed only the first in git's order, the copy, whose own
    history started at the copy: the flag, 250 days old, was 100 days old to the gate."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", STALE)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("add demo", at=NOW - 250 * DAY)
    _copy_then_move(repo, at=NOW - 100 * DAY)
    repo.write_flag("demo", "percentage", folder="flags/team", percentage=("actors", 10),
                    **BETA)
    repo.commit("10 %", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert (code, found) == (1, ["FO402:error"]), report


def test_a_side_branch_merged_with_ours_is_read_as_a_rebase_replays_it(repo: Repo) -> None:
    """Merged with `-s ours`, the merge keeps the branch's flags/: git's history
    simplification left the side branch's commits out of a log of flags/, and a rebase
    replays them all, the lone add among them (the review of FO408's fourth version)."""
    repo.write_flag("third", "off")
    repo.commit("F1: a new flag", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "side", "main")
    _split_move(repo, stage="staging")
    repo.git("checkout", "-q", "move")
    repo.git("merge", "-q", "-s", "ours", "--no-edit", "side", at=NOW - DAY)
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.write_flag("demo", "staging", folder="flags/team")
    repo.commit("F2: moved in one commit, and rolled back", at=NOW - 60)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (1, ["FO408:error"]), report


def test_commit_dates_do_not_order_what_a_rebase_replays(repo: Repo) -> None:
    """A child of the lone add, dated before it, removes the file again, and another child,
    dated after, keeps git log's date order walking to the add later: read in that order,
    the removal came first and the add was taken for a file put back (the review of
    FO408's fourth version). A rebase replays parents before children."""
    repo.write_flag("third", "off")
    repo.commit("F: a new flag", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "line", "main")
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("R: remove demo", at=NOW - 9 * DAY)
    repo.write_flag("demo", "staging", folder="flags/team")
    added = repo.commit("C: add flags/team/demo.yml", at=NOW - 8 * DAY)
    (repo.path / "flags/team/demo.yml").unlink()
    repo.commit("Q: remove it, dated earlier", at=NOW - 20 * DAY)
    repo.write_flag("demo", "staging", folder="flags/team")
    repo.write_flag("another", "off")  # so that Q and Q2 are no change git simplifies away
    repo.commit("Q2: add it again, and a new flag", at=NOW - 19 * DAY)
    repo.git("checkout", "-q", "-b", "later", added)
    repo.write_flag("other", "off")
    repo.commit("X: a child of C, dated later", at=NOW - 5 * DAY)
    repo.git("checkout", "-q", "line")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "later", at=NOW - 4 * DAY)
    repo.git("checkout", "-q", "move")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "line", at=NOW - 3 * DAY)
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert (code, found) == (1, ["FO408:error"]), report


def test_a_stacked_change_after_its_lower_one_was_squashed_passes(repo: Repo) -> None:
    """A adds a new flag; B, made on A, changes a document; A lands squashed. B's commits
    still hold A's add, which main holds already: a rebase drops it, and B, whose base is
    no ancestor, cannot be fast-forwarded (the review of FO408's fifth version)."""
    repo.write_flag("checkout", "off")
    repo.commit("A: add checkout", at=NOW - 3 * DAY)
    repo.write("docs/notes.md", "notes\n")
    repo.commit("B: notes", at=NOW - 2 * DAY)
    repo.git("checkout", "-q", "main")
    repo.write_flag("checkout", "off")
    repo.commit("add checkout (#1), squashed", at=NOW - DAY)
    code, _, report = flagops(repo, "validate", "--base", "main", "--head", "move")
    assert code == 0 and "FO408" not in report, report


def test_a_shallow_cut_is_no_add(repo: Repo, tmp_path: Path) -> None:
    """In a shallow clone the cut commit has no parent, and its diff adds every file: read as
    the change's commit, it was an add of every flag the base holds (FO408 on every change
    whose merge base is beyond the cut, where the branch had moved a flag in one commit)."""
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    repo.commit("move demo in one commit", at=NOW - 4 * DAY)
    for number in range(3):
        repo.write("docs/notes.md", f"notes {number}\n")
        repo.commit(f"notes {number}", at=NOW - (3 - number) * DAY)
    origin = repo.publish(tmp_path / "origin.git")
    repo.git("push", "-q", str(origin), "move")
    repo.git("clone", "-q", "--depth", "2", "--branch", "move", f"file://{origin}",
             str(tmp_path / "clone"))
    clone = Repo(tmp_path / "clone", tmp_path / "home")
    clone.git("fetch", "-q", "--depth", "1", "origin", "main:main")
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"
    _, found, report = flagops(clone, "validate", "--base", "main", "--head", "HEAD")
    assert "FO408" not in report and "FO205:error" in found, report  # the cut says so


@pytest.mark.parametrize("merged", [False, True], ids=["head", "merged"])
def test_a_removal_of_what_only_a_merge_added_excuses_no_add(repo: Repo, merged: bool) -> None:
    """A merge on the branch adds a throw-away flags/x/demo.yml; the next commit removes it
    and adds flags/team/demo.yml, a move in its diff from the merge; a later one removes
    flags/demo.yml. A rebase replays no merge, so the removal lands nothing there and the
    add lands alone: the flag's history restarted (GitHub's "Rebase and merge"; the review
    of FO408's sixth version)."""
    repo.git("checkout", "-q", "-b", "side", "main")
    repo.write("side.md", "side\n")
    repo.commit("side: notes", at=NOW - 6 * DAY)
    repo.git("checkout", "-q", "move")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side", at=NOW - 5 * DAY)
    repo.write("flags/x/demo.yml", "placeholder: true\n")
    repo.commit("the merge", at=NOW - 5 * DAY)
    (repo.path / "flags/x/demo.yml").unlink()
    repo.write_flag("demo", "beta", folder="flags/team", **BETA)
    repo.commit("remove x/demo.yml, add team/demo.yml", at=NOW - 5 * DAY + 60)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove demo.yml", at=NOW - 5 * DAY + 120)
    repo.git("checkout", "-q", "main")
    repo.write_flag("other", "off")
    repo.commit("someone else's flag", at=NOW - 4 * DAY)
    side = ["--merged"] if merged else []
    code, found, report = flagops(repo, "validate", "--base", "main", "--head", "move", *side)
    assert code == 1 and "FO408:error" in found, report
    assert "flags/team/demo.yml is added in " in report


@pytest.mark.parametrize("host", ["github", "gitlab"])
def test_a_pull_request_updated_by_merging_its_target_passes_on_github(
        repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """GitHub's "Update branch" merges main into the pull request's branch. GitHub lands a
    pull request by a merge commit, a squash or a rebase (which drops that merge), never by a
    fast-forward, so the branch's first-parent line never becomes main's: FO408 refused an
    ordinary pull request that adds a new flag (the review of FO408's sixth version). GitLab
    can fast-forward such a branch, and refuses it still."""
    import io
    import json

    from validator.cli import main

    repo.git("checkout", "-q", "main")
    repo.write_flag("other", "off")
    repo.commit("someone else's flag", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "move")
    repo.write_flag("fresh", "off")
    repo.commit("a new flag", at=NOW - 2 * DAY)
    repo.git("merge", "-q", "--no-edit", "main", at=NOW - DAY)  # "Update branch"
    head = repo.head()
    origin = repo.publish(tmp_path / "origin.git")
    repo.git("push", "-q", str(origin), "move")
    ci = Repo(tmp_path / "ci", tmp_path / "home")
    ci.git("clone", "-q", f"file://{origin}", str(ci.path))
    ci.git("checkout", "-q", "--detach", head)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"head": {"sha": head}, "base": {"ref": "main"}},
                                 "repository": {"default_branch": "main"}}), encoding="utf-8")
    variables = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main",
                 "GITHUB_SHA": head, "GITHUB_EVENT_PATH": str(event)} if host == "github" else {
        "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_SHA": head,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_DEFAULT_BRANCH": "main"}
    for key, value in {**variables, **ci.env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ci.path)
    out = io.StringIO()
    code = main(["-C", str(ci.path), "ci", host], out=out)
    assert code == (0 if host == "github" else 1), out.getvalue()
    assert ("the change merged its target in" in out.getvalue()) == (host == "gitlab")


def test_validate_no_fast_forward_reads_no_first_parent_line(repo: Repo) -> None:
    """The GitHub workflow's own judgement (`validate --merged --no-fast-forward`): a pull
    request that merged its target in lands by a merge commit, a squash or a rebase."""
    repo.git("checkout", "-q", "main")
    repo.write_flag("other", "off")
    repo.commit("someone else's flag", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "move")
    repo.commit("branch work", at=NOW - 2 * DAY)
    repo.git("merge", "-q", "--no-edit", "main", at=NOW - DAY)
    command = ("validate", "--base", "main", "--head", "move", "--merged")
    assert flagops(repo, *command)[:2] == (1, ["FO408:error"])
    assert flagops(repo, *command, "--no-fast-forward")[:2] == (0, [])
    _split_move(repo)  # what a rebase replays is still read
    assert flagops(repo, *command, "--no-fast-forward")[:2] == (1, ["FO408:error"])


def test_a_stacked_change_whose_squashed_lower_one_moved_its_new_flag_passes(
        repo: Repo) -> None:
    """The lower change added a new flag and moved it in a later commit (`git mv`), and was
    squashed; the change stacked on it still carries both commits. Replayed, the first adds
    a file of a flag main now holds, and the second removes it again: the file main holds
    keeps the squash's history, and nothing restarts (the review of FO408's sixth version).
    A file added there that stays is refused still."""
    repo.git("checkout", "-q", "-b", "lower", "main")
    repo.write_flag("fresh", "off")
    repo.commit("lower: a new flag", at=NOW - 5 * DAY)
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/fresh.yml", "flags/team/fresh.yml")
    repo.commit("lower: into the team folder", at=NOW - 5 * DAY + 60)
    repo.git("checkout", "-q", "-b", "upper")
    repo.write("notes.md", "notes\n")
    repo.commit("upper: docs", at=NOW - 4 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--squash", "lower")
    repo.commit("lower, squashed", at=NOW - 3 * DAY)
    command = ("validate", "--base", "main", "--head", "upper")
    assert flagops(repo, *command)[:2] == (0, [])
    assert flagops(repo, *command, "--merged")[:2] == (0, [])
    repo.git("checkout", "-q", "upper")
    repo.write_flag("fresh", "off", folder="flags/other")
    repo.commit("upper: a second file of fresh", at=NOW - 2 * DAY)
    (repo.path / "flags/team/fresh.yml").unlink()
    repo.commit("upper: the first removed", at=NOW - DAY)
    code, found, report = flagops(repo, *command)
    assert (code, found) == (1, ["FO408:error"]), report
    assert "flags/other/fresh.yml is added in " in report


@pytest.mark.parametrize("moves", [3, 4])
def test_a_flag_moved_more_often_than_its_history_is_followed_has_no_age_to_pass(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        moves: int) -> None:
    """Each move in one commit keeps a flag's age, and the history follows a bounded number
    of them: beyond, the flag read as one with no add, and no age, so never stale (a thousand
    moves, fast-forwarded; the review of FO408's seventh version). Beyond the bound the step
    is FO205 at stale_severity (the flag alone: the rest of the change is judged), and
    `status` of it refuses in one line; within it the age holds (here the bound is 3)."""
    from validator.compare import RangeRequest, compare
    from validator.lifecycle import reads

    monkeypatch.setattr(reads, "MOST_MOVES", 3)
    repo.git("checkout", "-q", "main")
    repo.git("commit", "-q", "--amend", "--no-edit", at=NOW - 250 * DAY)  # stale now
    path = "flags/demo.yml"
    for number in range(moves):
        (repo.path / f"flags/f{number}").mkdir()
        repo.git("mv", path, f"flags/f{number}/demo.yml")
        path = f"flags/f{number}/demo.yml"
        repo.commit(f"move {number}", at=NOW - 200 * DAY + number)
    repo.git("checkout", "-q", "-b", "step")
    repo.write_flag("demo", "percentage", folder=str(Path(path).parent),
                    percentage=("actors", 10), **BETA)
    repo.commit("beta → 10 %", at=NOW - 60)
    if moves == 3:
        found = compare(repo.path, RangeRequest("main", "step"), now=NOW).findings
        assert [f.rule for f in found] == ["FO402"], found
        return
    found = compare(repo.path, RangeRequest("main", "step"), now=NOW).findings
    assert [(f.rule, str(f.severity)) for f in found] == [("FO205", "error")], found
    assert "demo: cannot tell how long it has lived: its file was moved more than" in \
        found[0].message
    capsys.readouterr()
    code, _, _ = flagops(repo, "status", "demo")
    said = capsys.readouterr().err
    assert code == 1 and "demo: its file was moved more than 3 times" in said, said


@pytest.mark.parametrize("rollback", [False, True])
def test_a_copy_removed_then_a_move_onto_its_path_keeps_the_history(repo: Repo,
                                                                    rollback: bool) -> None:
    """A mistaken copy at flags/team/, removed again, then `git mv` of the original onto that
    path: the path keeps its history and the move's, which the reader follows back to the
    base's file; FO408 refused it, a rollback with it (the review of its eighth version)."""
    repo.write("flags/team/demo.yml", (repo.path / "flags/demo.yml").read_text(encoding="utf-8"))
    repo.commit("a copy by mistake", at=NOW - 3 * DAY)
    (repo.path / "flags/team/demo.yml").unlink()
    repo.commit("the copy removed", at=NOW - 2 * DAY)
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    if rollback:
        repo.write_flag("demo", "staging", folder="flags/team")
    repo.commit("moved", at=NOW - DAY)
    assert flagops(repo, "validate", "--base", "main", "--head", "move")[:2] == (0, [])

