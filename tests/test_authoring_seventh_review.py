"""The authoring commands against what the gate says, from a review of them: a step the gate
passes is written, a rollback takes the flag from the actor it names or is refused, and a new
file never makes a pair the gate refuses. Real repositories, through the command line."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult
from gitrepo import Repo

Run = Callable[..., CliResult]
NOW = int(time.time())
DAY = 86_400
ACTORS = ("Project:gitlab-org/gitlab",)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


def flagops(run_cli: Run, repo: Repo, *args: str) -> CliResult:
    return run_cli("-C", str(repo.path), *args)


def test_promote_judges_head_by_what_its_file_gives(run_cli: Run, repo: Repo) -> None:
    """HEAD says 100 % with default_enabled: true (FO121, pushed round the gate): it gives
    100 %, so enabled is a forward step, as the gate judges it, and its landing is read. By
    its label the command took it for none, read no landing, and refused with FO205 ("not
    in this clone") in a whole clone, a step `validate --base HEAD` passes."""
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=("actors", 50))
    repo.commit("50 %", at=NOW - 40 * DAY)
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=("actors", 100),
                    default_enabled=True, cleanup=True)
    repo.commit("100 %, default_enabled round the gate", at=NOW - 30 * DAY)
    code, _, err = flagops(run_cli, repo, "promote", "demo")
    assert code == 0, err
    assert "stage: enabled" in (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
    assert flagops(run_cli, repo, "validate", "--base", "HEAD")[0] == 0


def test_a_soak_refusal_says_when_from_what_the_file_gives(run_cli: Run, repo: Repo) -> None:
    """HEAD says percentage with no percentage (FO131): it gives beta. The soak was looked
    up by its label (no soak), so the refusal lost its "legal in N min" line."""
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit("beta", at=NOW - DAY)
    repo.write("flags/demo.yml", (repo.path / "flags/demo.yml").read_text(encoding="utf-8")
               .replace("stage: beta", "stage: percentage"))
    repo.commit("percentage without a value", at=NOW - 120)
    code, _, err = flagops(run_cli, repo, "promote", "demo", "--percentage", "10")
    assert code == 1 and "FO204" in err, err
    assert "the next step is legal in" in err, err


@pytest.mark.parametrize("released", [False, True])
def test_removing_an_actor_at_enabled_is_refused(run_cli: Run, repo: Repo,
                                                 released: bool) -> None:
    """At enabled everyone has the flag: the command wrote the actor off the list, said it
    was rolled back, and the actor kept the flag (on a released flag it also turned
    default_enabled off, which nobody asked for)."""
    repo.write_flag("demo", "enabled", actors=ACTORS, default_enabled=released,
                    cleanup=released)
    repo.commit("enabled", at=NOW - DAY)
    before = (repo.path / "flags/demo.yml").read_bytes()
    code, _, err = flagops(run_cli, repo, "rollback", "demo", "--remove-actor", ACTORS[0])
    assert code == 1, err
    assert "would keep the flag through enabled (everyone has it)" in err, err
    assert "--to percentage" in err
    assert (repo.path / "flags/demo.yml").read_bytes() == before


@pytest.mark.parametrize("twin", ["flags/demo.YML", "flags/Demo.yml", "flags/DEMO.yml"])
def test_new_refuses_a_case_twin_of_an_existing_file(run_cli: Run, repo: Repo,
                                                     twin: str) -> None:
    """`flags/demo.yml` beside `flags/Demo.yml` is one file where case is ignored: the gate
    refuses the pair (FO010), and the command had written it and said "created"."""
    repo.write_flag("other", "off")
    repo.write(twin, (repo.path / "flags/other.yml").read_text(encoding="utf-8"))
    repo.commit("a twin-to-be", at=NOW - DAY)
    code, _, err = flagops(run_cli, repo, "new", "demo", "--type", "beta", "--group",
                           "group::activation", "--milestone", "13.12")
    assert code == 1, err
    assert f"{twin} is flags/demo.yml on a checkout that ignores case" in err, err
    assert not (repo.path / "flags/demo.yml").exists()


FLOW = ("actors: [Project:acme/app,   # pilot customer, contract until 2027\n"
        "         Group:acme-beta]    # internal testers\n")


@pytest.mark.parametrize(("removed", "left"), [
    ("Group:acme-beta", "actors: [Project:acme/app   # pilot customer, contract until 2027\n"
                        "         ]    # internal testers\n"),
    ("Project:acme/app", "actors: [   # pilot customer, contract until 2027\n"
                         "         Group:acme-beta]    # internal testers\n")])
def test_removing_an_actor_from_a_flow_list_keeps_the_comments(
        run_cli: Run, repo: Repo, removed: str, left: str) -> None:
    """The cut from one item to the next took what sat between them: the comment about the
    actor kept went, and the removed actor's comment was left on the kept one's line."""
    text = repo.write_flag("demo", "beta", actors=("Project:acme/app", "Group:acme-beta"))
    flag = (repo.path / text).read_text(encoding="utf-8")
    start = flag.index("actors:")
    end = flag.index("default_enabled")
    repo.write(text, flag[:start] + FLOW + flag[end:])
    repo.commit("beta, a flow list with comments", at=NOW - DAY)
    code, _, err = flagops(run_cli, repo, "rollback", "demo", "--remove-actor", removed)
    assert code == 0, err
    assert (repo.path / text).read_text(encoding="utf-8") == flag[:start] + left + flag[end:]
    assert flagops(run_cli, repo, "validate", "--base", "HEAD")[0] == 0

