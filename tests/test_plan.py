"""The plan: who a step reaches, the ChatOps equivalent, the rollback and the reminders."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gitrepo import Repo
from test_transitions import loaded

from validator.check import LoadedFlag
from validator.engines.bucketing import bucketed_as_written
from validator.plan import plan, to_json, to_markdown
from validator.policy import DEFAULT_POLICY

BETA = {"actors": ("Project:gitlab-org/gitlab", "Group:gitlab-org/gitlab-com")}


def one(before: LoadedFlag | None, after: LoadedFlag | None):  # type: ignore[no-untyped-def]
    [item] = plan({"demo": before} if before else {}, {"demo": after} if after else {}, [],
                  DEFAULT_POLICY)
    return item


@pytest.mark.parametrize(("before", "after", "chatops", "rollback"), [
    (("off", {}), ("staging", {}),
     ["/chatops run feature set demo true --staging"],
     ["/chatops run feature set demo false --staging"]),
    (("staging", {}), ("beta", BETA),
     ["/chatops run feature set --group=gitlab-org/gitlab-com demo true",
      "/chatops run feature set --project=gitlab-org/gitlab demo true"],
     ["/chatops run feature set demo false"]),
    (("beta", BETA), ("percentage", {**BETA, "percentage": ("actors", 10)}),
     ["/chatops run feature set demo 10 --actors"],
     ["/chatops run feature set demo 0.0 --actors"]),
    (("percentage", {**BETA, "percentage": ("actors", 100)}), ("enabled", {}),
     ["/chatops run feature set demo true"],
     ["/chatops run feature set demo false",
      "/chatops run feature set --group=gitlab-org/gitlab-com demo true",
      "/chatops run feature set --project=gitlab-org/gitlab demo true",
      "/chatops run feature set demo 100 --actors"]),
    (("enabled", {}), ("enabled", {"default_enabled": True, "cleanup": True}), [], []),
])
def test_chatops_equivalent_and_rollback(before: tuple[str, dict[str, object]],
                                         after: tuple[str, dict[str, object]],
                                         chatops: list[str], rollback: list[str]) -> None:
    item = one(loaded(before[0], **before[1]), loaded(after[0], **after[1]))
    assert item.chatops == chatops
    assert item.rollback == rollback


def test_an_odd_percentage_is_named_with_every_digit_the_file_gave() -> None:
    """`{:g}` kept six significant digits: the ChatOps command set 12.3455 where the file
    (and the export, and eval) said 12.34545, and the text named another step."""
    item = one(loaded("beta", **BETA),
               loaded("percentage", percentage=("actors", 12.34545), **BETA))
    assert item.chatops == ["/chatops run feature set demo 12.34545 --actors"]
    assert item.change == "beta (2 actors) → percentage 12.34545% of actors"
    assert item.after["production"].endswith("plus 12.34545% of actors")
    tiny = one(loaded("beta", **BETA), loaded("percentage", percentage=("actors", 1e-05), **BETA))
    assert tiny.chatops == ["/chatops run feature set demo 0.00001 --actors"]


def test_reach_per_environment_and_soak_it_starts() -> None:
    item = one(loaded("beta", **BETA), loaded("percentage", percentage=("actors", 10), **BETA))
    assert item.change == "beta (2 actors) → percentage 10% of actors"
    assert item.before == {"staging": "everyone",
                           "production": "Group:gitlab-org/gitlab-com, Project:gitlab-org/gitlab"}
    assert item.after["production"].endswith("plus 10% of actors")
    assert item.soak == ("the next step (percentage 10% of actors → 50%) may land 15 min after "
                         "this change lands")
    assert any("2 hours" in text for text in item.reminders)


def test_reminders_follow_the_step() -> None:
    assert any("staging" in r for r in one(loaded("off"), loaded("staging")).reminders)
    enabled = one(loaded("percentage", percentage=("actors", 100), **BETA), loaded("enabled"))
    assert any("cleanup issue" in r for r in enabled.reminders)
    assert one(loaded("enabled"), loaded("off")).reminders == [
        "Say in the rollout issue why the flag was rolled back."]
    removed = one(loaded("off"), None)
    assert removed.kind == "removed"
    # stored off, never deleted: GitLab answers a deleted feature from its code's definition
    assert removed.chatops == ["/chatops run feature set demo false --staging",
                               "/chatops run feature set demo false"]
    released = one(loaded("enabled", default_enabled=True), None)
    assert released.chatops == ["/chatops run feature delete demo --staging",
                                "/chatops run feature delete demo"]


def test_chatops_never_names_an_actor_by_a_number_it_would_take_for_a_path() -> None:
    """`--namespace=2` gives the flag to whoever has the path 2; GitLab buckets no actor as
    `Namespace:2`, so adding one at a percentage is a step forward, not "no change"."""
    base = loaded("percentage", percentage=("actors", 50), **BETA)
    head = loaded("percentage", percentage=("actors", 50),
                  actors=[*BETA["actors"], "Namespace:2", "Repository:7"])
    found = one(base, head)
    assert "--namespace=<path-of-Namespace:2>" in " ".join(found.chatops)
    assert "--repository=<path-of-Repository:7>" in " ".join(found.chatops)
    assert not any("--namespace=2 " in line for line in found.chatops)
    assert found.kind == "forward"
    assert not bucketed_as_written("Namespace:2", "flipper")
    assert bucketed_as_written("Group:2", "flipper")


def test_markdown_and_json_carry_the_same_plan() -> None:
    plans = plan({"demo": loaded("off")}, {"demo": loaded("staging")}, [], DEFAULT_POLICY)
    text = to_markdown(plans, "main → HEAD")
    assert "### `demo`: off → staging" in text
    assert "| after | everyone | nobody |" in text
    data = json.loads(to_json(plans, "main → HEAD"))
    assert data["compared"] == "main → HEAD"
    assert data["flags"][0]["chatops"] == ["/chatops run feature set demo true --staging"]


def test_markdown_table_cells_cannot_be_broken_by_flag_text() -> None:
    plans = plan({"demo": loaded("staging")}, {"demo": loaded("beta", actors=("User:a|b",))}, [],
                 DEFAULT_POLICY)
    assert "| after | everyone | User:a\\|b |" in to_markdown(plans, "x")


def test_plan_command_with_nothing_changed_says_so(tmp_path: Path) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("add", at=int(time.time()) - 86400)
    done = subprocess.run([sys.executable, "-m", "validator", "plan", "--base", "HEAD"],
                          cwd=repo.path, capture_output=True, text=True, env=repo.env,
                          check=False)
    assert done.returncode == 0
    assert "No flag changes (HEAD → the working tree): nothing to plan." in done.stdout


def test_chatops_never_names_another_actor_than_the_file_and_keeps_the_actors_on_a_step_back(
) -> None:
    """GitLab reads a value of 0 as false, which disables the whole flag: a percentage is
    removed with 0.0, so the actors of beta keep it. ChatOps finds a user by username and a
    project or group by path, and splits at commas: an actor the file names by GitLab's
    numeric id, or with a comma, gets a placeholder that names no one, never a command that
    gives the flag to a user named 42, or to users a and b."""
    from validator.chatops import commands
    from validator.model import Percentage, Stage
    from validator.transitions import RolloutState

    listed = ("User:42", "User:alice", "User:a,b", "Project:278964", "Group:gitlab-org")
    beta = RolloutState("demo", Stage.BETA, frozenset(listed), None, False)
    tenth = RolloutState("demo", Stage.PERCENTAGE, frozenset(listed),
                         Percentage(of="actors", value=10), False)
    staging = RolloutState("demo", Stage.STAGING, frozenset(), None, False)
    assert commands("demo", tenth, beta) == ["/chatops run feature set demo 0.0 --actors"]
    assert commands("demo", staging, beta) == [
        "/chatops run feature set --group=gitlab-org demo true",
        "/chatops run feature set --project=<path-of-Project:278964> demo true",
        "/chatops run feature set --user=<username-of-User:42> demo true",
        "/chatops run feature set --user=<not-one-GitLab-user:a,b> demo true",
        "/chatops run feature set --user=alice demo true"]
