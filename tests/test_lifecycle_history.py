"""`flagops history` on a real repository: a move, a GitLab merge commit and a revert."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gitrepo import EPOCH, Repo

CliResult = tuple[int, str, str]
HOUR = 3600


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, dict[str, str]]:
    return _story(tmp_path_factory.mktemp("history"))


def _story(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    """off → staging, beta from a merge request, a move, a description edit, 10% reverted."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    shas: dict[str, str] = {}
    repo.write_flag("demo")
    shas["new"] = repo.commit("add demo", at=EPOCH)
    repo.write_flag("demo", "staging")
    shas["staging"] = repo.commit("demo to staging", at=EPOCH + HOUR)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write_flag("demo", "beta", actors=["User:1"])
    repo.commit("demo to beta", at=EPOCH + 2 * HOUR)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "feature", "-m",
             "Merge branch 'feature' into 'main'\n\nSee merge request group/flags!7",
             at=EPOCH + 3 * HOUR)
    shas["merge"] = repo.head()
    (repo.path / "flags/team").mkdir()
    repo.git("mv", "flags/demo.yml", "flags/team/demo.yml")
    shas["move"] = repo.commit("move demo", at=EPOCH + 4 * HOUR)
    repo.write_flag("demo", "beta", folder="flags/team", actors=["User:1"],
                    description="Shows the invite link on the home page.")
    shas["edit"] = repo.commit("describe demo", at=EPOCH + 5 * HOUR)
    repo.write_flag("demo", "percentage", folder="flags/team", actors=["User:1"],
                    percentage=("actors", 10),
                    description="Shows the invite link on the home page.")
    shas["percentage"] = repo.commit("demo to 10%", at=EPOCH + 6 * HOUR)
    repo.git("revert", "--no-edit", shas["percentage"], at=EPOCH + 7 * HOUR)
    shas["revert"] = repo.head()
    return repo, shas


def test_history_follows_moves_and_names_the_merge_request(
        story: tuple[Repo, dict[str, str]], run_cli: Callable[..., CliResult]) -> None:
    repo, shas = story
    code, out, err = run_cli("-C", str(repo.path), "history", "demo", "--format", "json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [(r["commit"], r["from"], r["to"], r["step"]) for r in rows] == [
        (shas["new"], "(no flag)", "off", "new"),
        (shas["staging"], "off", "staging", "forward"),
        (shas["merge"], "staging", "beta (1 actor)", "forward"),
        (shas["percentage"], "beta (1 actor)", "percentage 10% of actors", "forward"),
        (shas["revert"], "percentage 10% of actors", "beta (1 actor)", "rollback"),
    ]
    assert rows[2]["merge_request"] == "group/flags!7"
    merged_at = datetime.fromtimestamp(EPOCH + 3 * HOUR, UTC).isoformat()
    assert rows[2]["time"] == merged_at  # the merge commit's, not the branch commit's
    assert rows[0]["author"] == "Flag Tester"


def test_history_all_lists_edits_but_not_the_move(
        story: tuple[Repo, dict[str, str]], run_cli: Callable[..., CliResult]) -> None:
    repo, shas = story
    _, out, _ = run_cli("-C", str(repo.path), "history", "demo", "--all", "--format", "json")
    commits = [row["commit"] for row in json.loads(out)]
    assert shas["edit"] in commits and shas["move"] not in commits
    assert len(commits) == 6  # the description edit is listed, as no rollout change


def test_history_text_and_unknown_flag(story: tuple[Repo, dict[str, str]],
                                       run_cli: Callable[..., CliResult]) -> None:
    repo, shas = story
    code, out, _ = run_cli("-C", str(repo.path), "history", "demo")
    assert code == 0
    assert f"{shas['merge'][:12]} (group/flags!7)  Flag Tester" in out
    assert "staging → beta (1 actor)  [forward]" in out
    code, _, err = run_cli("-C", str(repo.path), "history", "nothing_here")
    assert code == 1 and "no flag file named nothing_here.yml" in err


@pytest.mark.parametrize("name", ["*", "**", "d?mo", "../demo", "team/demo", "[d]emo", "Demo"])
def test_history_of_a_name_no_flag_can_have_is_an_error(
        story: tuple[Repo, dict[str, str]], run_cli: Callable[..., CliResult], name: str) -> None:
    """A name outside [a-z0-9_] went into the glob pathspec as it was: `*` matched demo's file
    and printed nothing (or another flag's history) with exit 0. It is one error line now."""
    repo, _ = story
    code, out, err = run_cli("-C", str(repo.path), "history", name)
    assert (code, out) == (1, "")
    assert f"no flag file named {name}.yml" in err and "not a flag name" in err


def test_no_pathspec_is_made_from_a_name_that_is_not_a_flag_name() -> None:
    from validator.landings import name_pathspec

    assert name_pathspec("demo_2") == ":(glob)flags/**/demo_2.yml"
    for name in ("*", "../demo", "d?mo", ""):
        with pytest.raises(ValueError):
            name_pathspec(name)

def test_a_commit_that_leaves_the_file_unreadable_is_no_removal(
        tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """An unparsable file (pushed round the gate) read as no flag: history said `beta →
    (no flag) [removed]` and, at the fix, `(no flag) → beta [new]`, though build refused that
    tree and every actor kept beta. It changes nobody's exposure now (a row only with --all),
    the next change is judged from the last readable state, and the catalog agrees."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "beta", actors=["User:1"])
    added = repo.commit("demo at beta", at=EPOCH)
    repo.write("flags/demo.yml", "name: demo\ndescription: [a typo\n")
    broken = repo.commit("typo", at=EPOCH + HOUR)
    repo.write_flag("demo", "percentage", actors=["User:1"], percentage=("actors", 10))
    fixed = repo.commit("fix, and 10%", at=EPOCH + 2 * HOUR)
    repo.write("flags/demo.yml", "stage: [\n")
    broken_again = repo.commit("broken again", at=EPOCH + 3 * HOUR)
    repo.write_flag("demo", "percentage", actors=["User:1"], percentage=("actors", 10))
    repo.commit("fixed as it was", at=EPOCH + 4 * HOUR)
    repo.git("rm", "-q", "flags/demo.yml")
    repo.commit("unused: removed", at=EPOCH + 5 * HOUR)
    beta, ten = "beta (1 actor)", "percentage 10% of actors"

    def rows(*extra: str) -> list[tuple[str, str, str, str]]:
        code, out, err = run_cli("-C", str(repo.path), "history", "demo", "--format", "json",
                                 *extra)
        assert (code, err) == (0, "")
        return [(r["commit"], r["from"], r["to"], r["step"]) for r in json.loads(out)]

    assert [row[1:] for row in rows()] == [
        ("(no flag)", beta, "new"), (beta, ten, "forward"), (ten, "(no flag)", "removed")]
    assert rows()[1][0] == fixed
    every = rows("--all")
    assert (broken, beta, "(unreadable file)", "unreadable") in every
    assert (broken_again, ten, "(unreadable file)", "unreadable") in every
    assert [row[3] for row in every] == ["new", "unreadable", "forward", "unreadable",
                                         "no rollout change", "removed"]
    assert every[0][0] == added
    repo.write_flag("demo", "percentage", actors=["User:1"], percentage=("actors", 10))
    repo.commit("back", at=EPOCH + 6 * HOUR)
    code, _, _ = run_cli("-C", str(repo.path), "build", "--history")
    catalog = json.loads((repo.path / "build/flags.json").read_text())
    assert code == 0 and [(r["from"], r["to"], r["step"]) for r in
                          catalog["flags"]["demo"]["summary"]["history"]] == [
        ("(no flag)", beta, "new"), (beta, ten, "forward"), (ten, "(no flag)", "removed"),
        ("(no flag)", ten, "new")]

def test_literal_paths_find_what_the_name_glob_finds(tmp_path: Path) -> None:
    """The fast read (literal paths, moves followed one by one) gives the same commits and
    changes as the glob over every folder, through two moves and an out-of-order date."""
    repo, _ = _story(tmp_path)
    (repo.path / "flags/ops").mkdir()
    repo.git("mv", "flags/team/demo.yml", "flags/ops/demo.yml")
    repo.commit("move demo again", at=EPOCH + 5 * HOUR)  # dated before the revert
    repo.write_flag("other", folder="flags/team")
    repo.commit("another flag where demo was", at=EPOCH + 9 * HOUR)
    fast = _literal_history_is_the_globs(repo, "flags/ops/demo.yml")
    assert len(fast) == 8  # add, staging, merge, move, edit, 10%, revert, move again


def test_a_move_back_to_an_earlier_folder_keeps_the_history(tmp_path: Path) -> None:
    """a/ → b/, a step in b/, back to a/: the literal-path read follows both moves, so the
    step in b/ is in the history (and status counts its soak from it, as the gate does)."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging", folder="flags/a")
    repo.commit("add in a/", at=EPOCH)
    (repo.path / "flags/b").mkdir()
    repo.git("mv", "flags/a/demo.yml", "flags/b/demo.yml")
    repo.commit("to b/", at=EPOCH + HOUR)
    repo.write_flag("demo", "beta", folder="flags/b", actors=["User:1"])
    beta = repo.commit("beta in b/", at=EPOCH + 2 * HOUR)
    repo.git("mv", "flags/b/demo.yml", "flags/a/demo.yml")
    repo.commit("back to a/", at=EPOCH + 3 * HOUR)
    fast = _literal_history_is_the_globs(repo, "flags/a/demo.yml")
    assert beta in [c.sha for c in fast] and len(fast) == 4


def _literal_history_is_the_globs(repo: Repo, path: str) -> list[Any]:
    """demo's history read by literal paths (moves followed), checked against the glob over
    every folder that it replaces; the commits found."""
    from validator import git
    from validator.landings import name_pathspec
    from validator.lifecycle.reads import clock_of, flag_commits, named_history
    from validator.policy import DEFAULT_POLICY

    ref = git.resolve(repo.path, "HEAD")
    fast = named_history(repo.path, ref, {"demo": path}, clock_of(repo.path, ref, DEFAULT_POLICY))
    slow = flag_commits(repo.path, ref, [name_pathspec("demo")])
    assert [(c.sha, sorted(c.paths)) for c in fast] == [(c.sha, sorted(c.paths)) for c in slow]
    return fast


@pytest.mark.parametrize(("message", "found"), [
    ("Merge branch 'x'\n\nSee merge request group/sub/project!42", "group/sub/project!42"),
    ("See merge request evil/\u202eproj\u200b\x1b[31m!42", None),
    ("See merge request group/project!42\u202e", None),
    ("See merge request !42", None),
])
def test_a_merge_request_is_read_only_in_the_form_gitlab_writes(message: str,
                                                                 found: str | None) -> None:
    """A commit message is anyone's text: a bidi control, an invisible space and an escape in
    its "See merge request" line reached the merged config and the catalog's pages (the
    eighth review). Only a project path and a number are read, and the config holds no other."""
    from pydantic import TypeAdapter, ValidationError

    from validator.lifecycle.timeline import merge_request
    from validator.model import MergeRequestRef

    assert merge_request(message) == found
    with pytest.raises(ValidationError):
        TypeAdapter(MergeRequestRef).validate_python("evil/\u202eproj!42")
