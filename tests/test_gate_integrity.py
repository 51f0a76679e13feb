"""The outside review's attacks on the gate, each in a real repository through the command
line: every one of them must be refused, and every legal rollback must still pass."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator.cli import main
from validator.compare import RangeRequest, compare

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}
RANGE = ("validate", "--base", "HEAD~1", "--head", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 10 * DAY)
    return repo


def flagops(repo: Repo, *args: str) -> tuple[int, list[str], str]:
    """Exit code, the rule:severity pairs found, and the text report."""
    out = io.StringIO()
    code = main(["-C", str(repo.path), *args], out=out)
    text = out.getvalue()
    found = re.findall(r" (error|warning) (FO\d{3}) ", text)
    return code, sorted(f"{rule}:{severity}" for severity, rule in found), text


# 3. The policy comes from the base, never from the change.

@pytest.mark.parametrize("loosened", [
    "[tool.flagops]\nmay_skip = {beta = ['percentage']}\n",
    "[tool.flagops]\nallow_overrides = true\npercentage_steps = [100]\n",
])
def test_a_change_that_loosens_the_policy_is_judged_by_the_base_policy(repo: Repo,
                                                                      loosened: str) -> None:
    repo.write("pyproject.toml", loosened)
    repo.write_flag("demo", "enabled")
    repo.commit("loosen and jump", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert code == 1
    assert "FO302:warning" in found and ("FO201:error" in found or "FO202:error" in found)
    assert "applies from the next change on" in text


def test_lowering_the_soak_in_the_same_change_does_not_shorten_it(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\npercentage = 0\n")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 120)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW - 60)
    assert flagops(repo, *RANGE)[1] == []  # the base's policy says 0 now...
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write("pyproject.toml", "[tool.flagops]\n")  # ...but only once it has merged
    repo.commit("restore", at=NOW - 30)
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\npercentage = 0\n")
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("drop soak and step", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO204:error", "FO302:warning"]


@pytest.mark.parametrize("broken", ["[tool.flagops\n", "[tool.flagops]\nbogus = 1\n", None])
def test_a_change_that_breaks_or_deletes_the_policy(repo: Repo, broken: str | None) -> None:
    if broken is None:
        (repo.path / "pyproject.toml").unlink()
    else:
        repo.write("pyproject.toml", broken)
    repo.commit("policy", at=NOW - 60)
    code, found, _ = flagops(repo, *RANGE)
    assert found == (["FO301:error"] if broken else ["FO303:warning"])  # packaging went too
    assert code == (1 if broken else 0)


def test_staged_judges_with_heads_policy_not_the_working_tree(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\nmay_skip = {beta = ['percentage']}\n")
    repo.write_flag("demo", "enabled")
    repo.git("add", "flags")
    code, found, _ = flagops(repo, "validate", "--staged")
    assert code == 1 and "FO201:error" in found


def test_a_policy_symlink_at_the_base_is_not_followed(repo: Repo) -> None:
    """Not read, so there are no rules: a step is refused (FO301), and only a change that
    turns flags off passes, with FO301 as a warning (tests/test_gate_fifth_review.py)."""
    (repo.path / "pyproject.toml").unlink()
    (repo.path / "pyproject.toml").symlink_to("/etc/hostname")
    repo.commit("link", at=NOW - 60)
    repo.write_flag("demo", "staging")
    repo.commit("a new flag on in staging", at=NOW)
    code, found, text = flagops(repo, *RANGE)
    assert code == 1 and found == ["FO301:error"] and "symlink" in text, text
    repo.write_flag("demo", "off")
    repo.commit("a new flag at off", at=NOW)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~2", "--head", "HEAD")
    assert code == 0 and found == ["FO301:warning"], text


@pytest.mark.parametrize("below", ["pyproject.toml", "README"])
def test_a_policy_made_a_folder_is_no_policy(repo: Repo, below: str) -> None:
    """`ls-tree -r` lists a folder's files, none of them pyproject.toml, so a folder there
    read as no file, the defaults: a change that moved a strict policy into
    pyproject.toml/pyproject.toml passed with a warning (the policy changed), and the next
    change stepped on by a 15-minute soak, judged by nobody's rules. `build` refused it."""
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\nbeta = 100000\n")
    repo.write_flag("demo", "staging")
    repo.commit("strict, demo at staging", at=NOW - 3600)
    (repo.path / "pyproject.toml").unlink()
    repo.write(f"pyproject.toml/{below}", "[tool.flagops.soak_minutes]\nbeta = 100000\n")
    repo.commit("the policy moved into a folder", at=NOW - 3000)
    code, found, text = flagops(repo, *RANGE)
    assert (code, found) == (1, ["FO301:error", "FO303:warning"]), text
    assert "pyproject.toml at the head is a folder" in text, text
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo to beta, an hour after staging", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert (code, found) == (1, ["FO301:error"]), text
    assert "pyproject.toml at the base is a folder" in text, text


def test_a_folder_added_where_there_was_no_policy_is_no_policy(repo: Repo) -> None:
    (repo.path / "pyproject.toml").unlink()
    repo.commit("no policy: the defaults", at=NOW - 3600)
    repo.write("pyproject.toml/x.toml", "[tool.flagops]\n")
    repo.commit("a folder there", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert (code, found) == (1, ["FO301:error", "FO303:warning"]), text
    assert "pyproject.toml at the head is a folder" in text, text


def test_changes_to_the_gate_itself_are_named(repo: Repo) -> None:
    repo.write(".gitlab-ci.yml", "stages: [test]\n")
    repo.write("validator/transitions.py", "def judge(): return []\n")
    repo.write("validator/rules.py", "\n")
    repo.commit("gate", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert code == 0 and found == ["FO303:warning", "FO303:warning"]
    assert "validator/rules.py and 1 more file(s) there" in text


# 4. Soak: commit dates out of order only make people wait longer.

def test_an_unrelated_backdated_commit_does_not_soak_every_flag(repo: Repo) -> None:
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 60)
    repo.write("README.md", "unrelated\n")
    repo.commit("backdated by years", at=NOW - 3 * 365 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW)
    code, found, _ = flagops(repo, *RANGE)
    assert code == 1 and found == ["FO204:error"]


def test_a_backdated_step_counts_from_the_commit_before_it(repo: Repo) -> None:
    repo.write("README.md", "recent\n")
    repo.commit("recent", at=NOW - 120)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%, dated last year", at=NOW - 365 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW)
    _code, found, text = flagops(repo, *RANGE)
    assert found == ["FO204:error"] and re.search(r"after [0-9]+ min", text)


def test_require_merge_commits_starts_the_soak_at_the_next_merge(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.commit("policy", at=NOW - 9 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10% fast-forwarded, dated long ago", at=NOW - 5 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW)
    _, found, text = flagops(repo, *RANGE)
    assert found == ["FO204:error"] and "landed without a merge commit" in text
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("README.md", "side\n")
    repo.commit("side", at=NOW - 3 * 60)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side", at=NOW - 2 * 60)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW)
    _code, found, text = flagops(repo, *RANGE)
    assert found == ["FO204:error"] and re.search(r"after [0-9]+ min", text)


def test_a_soak_of_sixty_years_is_enforced(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\npercentage = 31557600\n")
    repo.commit("long soak", at=NOW - 9 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO204:error"]


# 5. A flag may not appear released from nowhere.

def test_a_new_flag_released_from_nowhere_is_refused(repo: Repo) -> None:
    repo.write_flag("sneaky", "enabled", default_enabled=True, cleanup=True)
    repo.commit("new, fully on", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO207:error"]


def test_deleted_at_off_then_re_added_released_is_refused(repo: Repo) -> None:
    repo.write_flag("demo", "off")
    repo.commit("rollback", at=NOW - 3 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("remove at off", at=NOW - 2 * DAY)
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("back, released", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO207:error"]


def test_reverting_the_removal_of_a_released_flag_passes(repo: Repo) -> None:
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True,
                    folder="flags/team")
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("released (the steps are elsewhere)", at=NOW - 3 * DAY)
    (repo.path / "flags/team/demo.yml").unlink()
    removal = repo.commit("remove", at=NOW - 2 * DAY)
    repo.git("revert", "--no-edit", removal, at=NOW)
    assert flagops(repo, *RANGE)[:2] == (0, [])


# 6. Changing the type buys nothing.

def test_a_type_change_with_a_forward_step_is_judged_by_the_base_type(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\nmay_skip = {ops = ['percentage']}\n")
    repo.commit("ops may skip percentage", at=NOW - 9 * DAY)
    repo.write_flag("demo", "enabled", flag_type="ops")
    repo.commit("beta → ops, beta → enabled", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO201:error"]


# 8. Rollbacks are decided per actor.

def test_lowering_the_stage_while_adding_an_actor_is_not_a_rollback(repo: Repo) -> None:
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 2 * DAY)
    repo.write_flag("demo", "beta", actors=(*BETA["actors"], "User:1"))
    repo.commit("beta plus a user", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO211:error"]
    code, _, text = flagops(repo, "plan", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and "A mixed step, **blocked**" in text


# Rollbacks pass whatever else is broken.

def test_a_rollback_passes_when_main_already_holds_a_broken_file(repo: Repo) -> None:
    repo.write("flags/broken.yml", "name: broken\nstage: off\nstage: off\n")
    repo.write("flags/team/demo.yml", flag_yaml("demo", "off"))
    repo.commit("two clean merges made this", at=NOW - DAY)
    (repo.path / "flags/team/demo.yml").unlink()
    repo.write_flag("demo", "off")
    repo.commit("roll demo back", at=NOW)
    code, found, _ = flagops(repo, *RANGE, "--all-files")
    assert code == 0 and "FO003:warning" in found
    repo.write_flag("demo", "beta", actors=(*BETA["actors"], "User:9"))
    repo.commit("but a forward step is blocked", at=NOW)
    code, found, _ = flagops(repo, *RANGE, "--all-files")
    assert code == 1 and "FO003:error" in found


def test_moving_a_file_keeps_its_soak_clock(repo: Repo) -> None:
    (repo.path / "flags/demo.yml").unlink()
    repo.write_flag("demo", "beta", folder="flags/team", **BETA)
    repo.commit("move to the team's folder", at=NOW - 60)
    repo.write_flag("demo", "percentage", folder="flags/team", percentage=("actors", 10),
                    **BETA)
    repo.commit("10%", at=NOW)
    assert flagops(repo, *RANGE)[:2] == (0, [])


# Random histories: noise never shortens a soak.

NOISE = st.lists(st.tuples(st.sampled_from(["unrelated", "move", "merge", "reword"]),
                           st.integers(min_value=-3 * 365 * DAY, max_value=0)),
                 max_size=5)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=NOISE, landed_ago=st.sampled_from([60, 10 * 60, 20 * 60, 3 * DAY]))
def test_commits_out_of_order_moves_and_merges_never_shorten_a_soak(
        tmp_path_factory: pytest.TempPathFactory, noise: list[tuple[str, int]],
        landed_ago: int) -> None:
    """The clean history: demo lands at 10% `landed_ago` seconds ago, then steps to 50%.
    Noise after the landing (unrelated commits dated anywhere, moves of the file, merges of
    side branches, description edits) may only turn a pass into a wait, never the reverse."""
    base = tmp_path_factory.mktemp("history")
    repo = Repo.create(base / "repo", base / "home")
    folder = "flags"
    now = int(time.time())  # the command reads the real clock; 5 min either side of the soak
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("beta", at=now - 10 * DAY)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=now - landed_ago)
    for index, (kind, offset) in enumerate(noise):
        at = now + offset
        if kind == "move":
            (repo.path / folder / "demo.yml").unlink()
            folder = f"flags/team{index}"
        if kind in ("move", "reword"):
            repo.write_flag("demo", "percentage", folder=folder, percentage=("actors", 10),
                            description=f"Edit {index}.", **BETA)
            repo.commit(kind, at=at)
        elif kind == "unrelated":
            repo.write("README.md", f"{index}\n")
            repo.commit(kind, at=at)
        else:
            repo.git("checkout", "-q", "-b", f"side{index}")
            repo.write(f"side{index}.txt", "x\n")
            repo.commit("side", at=at)
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", "-m", "merge", f"side{index}", at=at)
    repo.write_flag("demo", "percentage", folder=folder, percentage=("actors", 50),
                    **BETA)
    repo.commit("50%", at=now)
    found = flagops(repo, *RANGE)[1]
    if landed_ago < 15 * 60:
        assert found == ["FO204:error"], (noise, found)
    elif all(now + offset <= now - landed_ago for _, offset in noise):
        assert found == [], (noise, found)  # noise dated before the landing changes nothing
    else:
        assert found in ([], ["FO204:error"])


def test_reusing_the_name_of_a_removed_released_flag_is_not_a_revert(repo: Repo) -> None:
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True)
    repo.commit("released", at=NOW - 400 * DAY)
    (repo.path / "flags/demo.yml").unlink()
    repo.commit("removed", at=NOW - 399 * DAY)
    repo.write_flag("demo", "enabled", default_enabled=True, cleanup=True,
                    description="A brand-new payment flow, never rolled out.",
                    folder="flags/payments")
    repo.commit("new feature, old name", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO207:error"]


def test_with_merge_commits_required_a_foxtrot_merge_is_refused(repo: Repo) -> None:
    """Merging main into the branch and fast-forwarding would put the branch's own merge on
    main's first-parent line: the author's merge would pass for the server's."""
    repo.git("checkout", "-q", "-b", "policy")
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.commit("policy", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge policy", "policy", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "-b", "feature", "HEAD~1")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 8 * DAY)
    repo.git("merge", "-q", "--no-ff", "-m", "Merge main into feature", "main",
             at=NOW - 8 * DAY)
    code, found, text = flagops(repo, "validate", "--base", "main", "--head", "feature",
                                "--merged")
    assert code == 1 and "FO213:error" in found and "rebase instead" in text
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("rebase", "-q", "main")
    code, found, _ = flagops(repo, "validate", "--base", "main", "--head", "feature",
                             "--merged")
    assert code == 0, found


def test_with_merge_commits_required_a_rollback_brought_up_to_date_by_a_merge_says_how(
        repo: Repo) -> None:
    """On-call's rollback branch, updated with a merge of main (GitLab's "resolve
    conflicts" makes one), is held as a step forward is: fast-forwarded, the merge's date
    would start the rolled-back state's soak and the step could be taken again at once. The
    message gives the commands that let it through."""
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("policy, 50%", at=NOW - 9 * DAY)
    for branch, stage in (("rollback", "beta"), ("forward", "enabled")):
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.write_flag("demo", stage, **BETA)
        repo.commit(stage, at=NOW - 120)
    repo.git("checkout", "-q", "main")
    repo.write("notes.md", "main moved on\n")
    repo.commit("notes", at=NOW - 60)
    for branch, expected in (("rollback", (1, ["FO213:error"])),
                             ("forward", (1, ["FO213:error"]))):
        repo.git("checkout", "-q", branch)
        repo.git("merge", "-q", "--no-ff", "-m", "Merge main", "main", at=NOW - 30)
        code, found, text = flagops(repo, "validate", "--base", "main", "--head", branch,
                                    "--merged")
        assert (code, [f for f in found if f.startswith("FO213")]) == expected, text
    assert "git rebase <target> && git push --force-with-lease" in text


def test_the_renderer_and_packaging_are_part_of_the_gate(repo: Repo) -> None:
    repo.write("survey_renderer/gate.py", "ALWAYS = True\n")
    repo.write("pyproject.toml", "[project.scripts]\nflagops = 'x:y'\n\n[tool.flagops]\n")
    repo.commit("tidy", at=NOW)
    code, found, text = flagops(repo, *RANGE)
    assert code == 0 and found == ["FO303:warning", "FO303:warning"]
    assert "outside [tool.flagops]" in text and "survey_renderer/gate.py" in text


def test_adding_and_removing_a_released_flag_in_one_change_proves_nothing(repo: Repo) -> None:
    """Fast-forwarded, an add and a remove land as two commits: the removal of a released
    flag that was never live on the branch is no evidence for bringing it back."""
    repo.write_flag("brand_new", "enabled", default_enabled=True, cleanup=True)
    repo.commit("add released", at=NOW - 120)
    (repo.path / "flags/brand_new.yml").unlink()
    repo.commit("remove it again", at=NOW - 120)
    repo.write_flag("brand_new", "enabled", default_enabled=True, cleanup=True)
    repo.commit("now it is a revert?", at=NOW)
    assert flagops(repo, *RANGE)[1] == ["FO207:error"]


def test_with_merge_commits_required_a_merge_request_carries_no_merge(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "policy")
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.commit("policy", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge policy", "policy", at=NOW - 9 * DAY)
    repo.git("checkout", "-q", "-b", "feature")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("10%", at=NOW - 2 * DAY)
    repo.git("checkout", "-q", "--orphan", "side")
    repo.git("rm", "-q", "-r", "-f", ".")
    repo.write("side.txt", "x\n")
    repo.commit("side", at=NOW - 2 * DAY)
    repo.git("checkout", "-q", "feature")
    repo.git("merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", "my own merge",
             "side", at=NOW - 2 * DAY)
    code, found, _ = flagops(repo, "validate", "--base", "main", "--head", "feature", "--merged")
    assert code == 1 and "FO213:error" in found
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")  # had it landed anyway, by a push:
    code, found, _ = flagops(repo, "validate", "--base", "HEAD~2", "--head", "HEAD")
    assert code == 1 and "FO213:error" in found
    repo.git("reset", "-q", "--hard", "HEAD~2")
    repo.git("merge", "-q", "--no-ff", "-m", "server merge", "feature~1", at=NOW)
    assert "FO213:error" not in flagops(repo, *RANGE)[1]  # a merge onto the previous tip


def _lands_other_rebased(repo: Repo, head: str) -> None:
    """`--merged` refuses head into main: rebased, it lands another tree (FO214)."""
    code, found, text = flagops(repo, "validate", "--base", "main", "--head", head, "--merged")
    assert (code, found) == (1, ["FO214:error"]), text


def test_a_change_whose_rebase_lands_other_than_its_merge_is_refused(repo: Repo) -> None:
    """A branch took demo 50 % → 10 % → 50 % (its commits cancel out) while the target rolled
    it back to 10 %: merged, demo stays at 10 % and nothing changed; rebased (GitHub's
    "Rebase and merge"), its first commit is the target's own and its second lands 50 %, two
    minutes after the rollback, judged by no one. Rebased onto the target first, it is
    judged as it lands (FO204)."""
    half = {"percentage": ("actors", 50), **BETA}
    tenth = {"percentage": ("actors", 10), **BETA}
    repo.write_flag("demo", "percentage", **half)
    repo.commit("demo at 50%", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "-b", "alice")
    repo.write_flag("demo", "percentage", **tenth)
    repo.commit("50 to 10", at=NOW - 3600)
    repo.write_flag("demo", "percentage", **half)
    repo.commit("10 to 50", at=NOW - 3500)
    repo.write("NOTES.md", "notes\n")
    repo.commit("notes", at=NOW - 3400)
    repo.git("checkout", "-q", "-b", "incident", "main")
    repo.write_flag("demo", "percentage", **tenth)
    repo.commit("the incident's rollback", at=NOW - 130)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge the rollback", "incident", at=NOW - 120)
    _lands_other_rebased(repo, "alice")
    # GitLab lands no rebase merge (its jobs say so): there the merge is what lands.
    gitlab = compare(repo.path, RangeRequest("main", "alice", merged=True, rebase_merge=False),
                     now=NOW)
    assert not gitlab.findings
    repo.git("checkout", "-q", "alice")
    repo.git("rebase", "-q", "main", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "main", "--head", "alice",
                                "--merged")
    assert (code, found) == (1, ["FO204:error"]), text
    repo.git("checkout", "-q", "-b", "plain", "main~1")  # behind its target, merging alike
    repo.write("OTHER.md", "other\n")
    repo.commit("other", at=NOW - 50)
    assert flagops(repo, "validate", "--base", "main", "--head", "plain", "--merged")[:2] \
        == (0, [])


def test_a_branch_on_its_target_whose_merge_undoes_a_step_is_refused(repo: Repo) -> None:
    """On top of its target, a branch merges (and fast-forwards) to its own tree, and was not
    replayed: but a rebase leaves merges out, and this one's merge put back the 10 % its
    first commit had taken to 100 % (a skip). Rebased, the skip lands."""
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("demo at 10%", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "-b", "side")
    repo.write("NOTES.md", "notes\n")
    repo.commit("notes", at=NOW - 3000)
    repo.git("checkout", "-q", "-b", "evil", "main")
    repo.write_flag("demo", "percentage", percentage=("actors", 100), **BETA)
    repo.commit("10 to 100", at=NOW - 2900)
    repo.git("merge", "-q", "--no-commit", "side", at=NOW - 2800)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("the merge keeps 10%", at=NOW - 2800)
    _lands_other_rebased(repo, "evil")


def test_a_rollback_that_merged_its_target_through_a_conflict_passes(repo: Repo) -> None:
    """A 3 a.m. rollback branch from a stale main merged the target (which meanwhile took
    demo to 100 %) and resolved the conflict at off. Its first commit does not replay onto
    the target, so no rebase merge can land it: only the merge, which is judged, and legal."""
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.write_flag("other", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("demo 50%, other 10%", at=NOW - 10 * DAY)
    repo.git("checkout", "-q", "-b", "rollback")
    repo.write_flag("demo", "off")
    repo.commit("demo off", at=NOW - 3600)
    repo.git("checkout", "-q", "main")
    repo.write_flag("demo", "percentage", percentage=("actors", 100), **BETA)
    repo.commit("demo to 100%", at=NOW - 3500)
    repo.git("checkout", "-q", "rollback")
    subprocess.run(["git", "merge", "-q", "main"], cwd=repo.path, env=repo.env,
                   capture_output=True, check=False)
    repo.write_flag("demo", "off")
    repo.commit("merge main, demo off", at=NOW - 3000)
    repo.git("checkout", "-q", "main")
    repo.write_flag("other", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("other to 50%", at=NOW - 2000)
    assert flagops(repo, "validate", "--base", "main", "--head", "rollback",
                   "--merged")[:2] == (0, [])


def test_a_rollback_the_target_took_and_undid_since_lands_nothing_rebased(repo: Repo) -> None:
    """Alice's and Bob's rollbacks to 10 % are one change; Bob's landed, then demo went back
    to 50 %. Merged, Alice's branch rolls back to 10 %; rebased, her commit is left out as the
    target's own and nothing lands: a rollback that does not happen is refused (FO214), and
    rebased onto main it says so (no flag changed)."""
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("demo at 50%", at=NOW - 10 * DAY)
    tenth = flag_yaml("demo", "percentage", percentage=("actors", 10), **BETA)
    for branch, at in (("alice", NOW - 7200), ("bob", NOW - 7100)):
        repo.git("checkout", "-q", "-b", branch, "main")
        repo.write("flags/demo.yml", tenth)
        repo.commit("demo back to 10%", at=at)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "bob", at=NOW - 7000)
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("demo to 50% again", at=NOW - 3000)
    _lands_other_rebased(repo, "alice")


def test_a_branch_that_merged_another_history_in_is_replayed_too(repo: Repo) -> None:
    """The branch of the first FO214 test, with another history merged in first (a vendored
    library, `--allow-unrelated-histories`): its root commit was taken for one no rebase
    replays, the branch was not replayed, and its rebase landed 50 % unjudged. git's rebase
    replays a root commit onto the target as every file it holds, added."""
    half = {"percentage": ("actors", 50), **BETA}
    tenth = {"percentage": ("actors", 10), **BETA}
    repo.write_flag("demo", "percentage", **half)
    repo.commit("demo at 50%", at=NOW - 3 * DAY)
    repo.git("checkout", "-q", "--orphan", "vendor")
    repo.git("rm", "-rq", "--cached", ".")
    repo.git("clean", "-fdq")
    repo.write("vendor/lib.txt", "lib\n")
    repo.commit("vendor: its own history", at=NOW - 2 * DAY)
    repo.git("checkout", "-q", "-b", "alice", "main")
    repo.git("merge", "-q", "--allow-unrelated-histories", "--no-edit", "vendor",
             at=NOW - 2 * DAY + 10)
    repo.write_flag("demo", "percentage", **tenth)
    repo.commit("50 to 10", at=NOW - 3600)
    repo.write_flag("demo", "percentage", **half)
    repo.commit("10 to 50", at=NOW - 3500)
    repo.git("checkout", "-q", "main")
    repo.write_flag("demo", "percentage", **tenth)
    repo.commit("the incident's rollback", at=NOW - 120)
    code, found, text = flagops(repo, "validate", "--base", "main", "--head", "alice", "--merged")
    assert (code, found) == (1, ["FO214:error", "FO303:warning"]), text  # vendor/: outside


def test_a_rollback_cannot_smuggle_in_a_folder_that_stops_the_build(repo: Repo) -> None:
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.commit("50%", at=NOW - DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.write("flags/team/x.yml/README.txt", "notes\n")
    repo.commit("rollback, and a folder", at=NOW)
    code, found, _ = flagops(repo, *RANGE, "--all-files")
    assert code == 1 and "FO009:error" in found


def test_a_rollback_passes_when_main_already_holds_a_duplicate_name(repo: Repo) -> None:
    repo.write_flag("demo", "percentage", percentage=("actors", 50), **BETA)
    repo.write_flag("demo", "off", folder="flags/b")
    repo.commit("a stale pipeline let two files of one name in", at=NOW - DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("roll back", at=NOW)
    code, found, _ = flagops(repo, *RANGE, "--all-files")
    assert code == 0 and "FO111:warning" in found
    repo.write_flag("demo", "off", folder="flags/c")
    repo.commit("a third file of that name", at=NOW)
    code, found, _ = flagops(repo, *RANGE, "--all-files")
    assert code == 1 and "FO111:error" in found


def test_a_freeze_holds_a_mixed_step_that_an_override_lets_past_its_own_rule(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\n[[tool.flagops.freeze]]\n"
               "start = 2000-01-01T00:00:00Z\nend = 2999-01-01T00:00:00Z\nreason = \"holiday\"\n")
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("freeze, 10%", at=NOW - 2 * DAY)
    repo.write_flag("demo", "beta", actors=(*BETA["actors"], "User:1", "User:2"))
    repo.commit("swap\n\nFlag-Override: demo: urgent", at=NOW)
    code, found, _ = flagops(repo, *RANGE)
    assert code == 1 and "FO401:error" in found and "FO211:warning" in found
    repo.write_flag("demo", "off")
    repo.commit("rollback during the freeze", at=NOW)
    assert flagops(repo, *RANGE)[:2] == (0, [])


def test_with_merge_commits_required_a_merged_results_pipeline_passes_a_rollback(
        repo: Repo, tmp_path: Path) -> None:
    """GitLab's merged results pipeline checks out its own merge of the request; the CI job
    judges the request's source commit merged into the target, as GitLab merges it."""
    repo.write("pyproject.toml", "[tool.flagops]\nrequire_merge_commits = true\n")
    repo.commit("policy", at=NOW - DAY)
    repo.git("checkout", "-q", "-b", "fix")
    repo.write_flag("demo", "off")
    source = repo.commit("roll back", at=NOW - 120)
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "main moved on\n")
    repo.commit("docs", at=NOW - 60)
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merged result", "fix", at=NOW)
    merged = repo.head()
    repo.git("checkout", "-q", "main")
    clone = tmp_path / "ci"
    repo.git("clone", "-q", str(repo.path), str(clone))
    for args in (("fetch", "-q", "origin", merged), ("checkout", "-q", "--detach", merged)):
        subprocess.run(["git", *args], cwd=clone, env=repo.env, check=True)
    env = {**repo.env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_COMMIT_SHA": merged,
           "CI_PROJECT_ID": "1", "CI_MERGE_REQUEST_PROJECT_ID": "1", "CI_DEFAULT_BRANCH": "main",
           "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
           "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": source}
    done = subprocess.run([sys.executable, "-m", "validator", "-C", str(clone), "ci", "gitlab"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FO213" not in done.stdout + done.stderr


# 12. Git's environment and configuration cannot show the gate another change (second review).

def _soaking(repo: Repo) -> None:
    """demo went to beta a minute ago: percentage 10% must wait for its soak (FO204)."""
    repo.write_flag("demo", "staging")
    repo.commit("back to staging", at=NOW - 5 * DAY)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("beta again", at=NOW - 60)
    repo.write_flag("demo", "percentage", percentage=("actors", 10), **BETA)
    repo.commit("ten percent", at=NOW - 30)


@pytest.mark.parametrize("variable", ["GIT_LITERAL_PATHSPECS", "GIT_NOGLOB_PATHSPECS",
                                      "GIT_ICASE_PATHSPECS", "GIT_GLOB_PATHSPECS"])
def test_pathspec_variables_do_not_turn_off_the_soak_clock(
        repo: Repo, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With GIT_LITERAL_PATHSPECS=1 the history query `:(glob)flags/**/demo.yml` matched no
    commit, and a state with no history in the window read as soaked."""
    _soaking(repo)
    assert flagops(repo, *RANGE)[1] == ["FO204:error"]
    monkeypatch.setenv(variable, "1")
    assert flagops(repo, *RANGE)[1] == ["FO204:error"]


@pytest.mark.parametrize("setting", ["diff.ignoreSubmodules=all", "diff.relative=true",
                                     "core.trustctime=false", "core.checkStat=minimal",
                                     "core.fsmonitor=true"])
def test_the_users_git_configuration_is_pinned_where_it_could_hide_a_change(
        repo: Repo, setting: str) -> None:
    """Each setting would let git leave a changed file out of what the gate is shown; git
    sees the pinned value whatever the repository's configuration says."""
    from validator import git

    key, value = setting.split("=")
    repo.git("config", key, value)
    shown = git.git(repo.path, "config", "--get", key).decode().strip()
    assert shown == dict(git.PINNED_CONFIG)[key] != value


def test_no_hook_of_the_checkout_runs_in_the_gate(repo: Repo, tmp_path: Path) -> None:
    """Judging a change whose tree holds a .gitattributes writes a scratch index to read the
    attributes from (FO011), and git ran the checkout's `post-index-change` hook there: one
    that took .gitattributes out of that index turned `filter=lfs` on flags/ into a pass."""
    repo.write(".gitattributes", "flags/*.yml filter=lfs\n")
    repo.write_flag("demo", "staging")
    repo.commit("lfs on the flags, and a step", at=NOW - 60)
    assert flagops(repo, *RANGE)[1] == ["FO011:error", "FO303:warning"]
    hook = repo.path / ".git/hooks/post-index-change"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n[ -n \"$IN_HOOK\" ] && exit 0\n"
                    "IN_HOOK=1 git update-index --force-remove .gitattributes\n",
                    encoding="utf-8")
    hook.chmod(0o755)
    assert flagops(repo, *RANGE)[1] == ["FO011:error", "FO303:warning"]
    assert not (tmp_path / "ran").exists()


def _gitlink_hidden(repo: Repo, tmp_path: Path, how: str) -> None:
    inner = Repo.create(tmp_path / "inner", tmp_path / "home")
    inner.write_flag("evil", "enabled", folder=".")
    inner.commit("a flag from elsewhere", at=NOW - DAY)
    ignored = "\tignore = all\n" if how == "gitmodules" else ""
    repo.write(".gitmodules", f'[submodule "x"]\n\tpath = flags/sub\n\turl = {inner.path}\n'
               f"{ignored}")
    if how != "gitmodules":
        repo.git("config", how, "all")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{inner.head()},flags/sub")
    repo.git("add", ".gitmodules")


@pytest.mark.parametrize("how", ["gitmodules", "diff.ignoreSubmodules", "submodule.x.ignore"])
def test_a_gitlink_under_flags_is_refused_however_git_is_told_to_ignore_it(
        repo: Repo, tmp_path: Path, how: str) -> None:
    """`ignore = all` (in .gitmodules or the configuration) hid the gitlink from every
    `git diff` the gate ran."""
    _gitlink_hidden(repo, tmp_path, how)
    assert "FO009:error" in flagops(repo, "validate", "--staged")[1]
    repo.git("commit", "-q", "-m", "a submodule in flags/", at=NOW - 60)  # no add -A
    assert "FO009:error" in flagops(repo, *RANGE)[1]


def test_a_repository_checked_out_inside_flags_is_not_read_as_flags(repo: Repo) -> None:
    """A submodule's checkout is another repository: the tree check and the build refuse it
    rather than read the flags that repository holds."""
    inner = Repo.create(repo.path / "flags" / "sub", repo.path.parent / "home")
    inner.write_flag("evil", "enabled", folder=".")
    for command in (("validate", "--no-cache"), ("build", "--no-cache")):
        code, _, text = flagops(repo, *command)
        assert code == 1 and "flags/sub is a submodule or another repository" in text, command
    assert not (repo.path / "build" / "flags.json").exists()


def test_a_flag_moved_to_a_path_too_long_to_check_out_is_refused(repo: Repo) -> None:
    """git stores any path, but a checkout below a deep folder cannot open one past PATH_MAX:
    the live flag would drop out of the build after passing the gate as a plain move."""
    deep = "flags/" + "/".join(["d" * 250] * 16) + "/demo.yml"
    blob = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    repo.git("rm", "-q", "--cached", "flags/demo.yml")
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{deep}")
    repo.git("commit", "-q", "-m", "moved deep", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert code == 1 and "FO010:error" in found and "bytes long" in text


def test_a_flag_moved_below_a_name_too_long_to_check_out_is_refused(repo: Repo) -> None:
    """A path well under PATH_MAX whose one folder name passes NAME_MAX (255 bytes): git
    stores it and no file system can create it; 255 bytes (`é` is two) still pass."""
    blob = repo.git("rev-parse", "HEAD:flags/demo.yml").strip()
    repo.git("rm", "-q", "--cached", "flags/demo.yml")
    fits = "flags/" + "é" * 127 + "d" + "/demo.yml"
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{fits}")
    repo.git("commit", "-q", "-m", "moved below a long name", at=NOW - 120)
    assert flagops(repo, *RANGE)[0] == 0
    repo.git("rm", "-q", "--cached", "--", fits)
    too_long = "flags/" + "é" * 128 + "/demo.yml"
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{too_long}")
    repo.git("commit", "-q", "-m", "moved below a name of 256 bytes", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert code == 1 and "FO010:error" in found and "256 bytes long" in text


def test_a_folder_the_walk_cannot_open_is_an_error_not_a_lost_flag(tmp_path: Path) -> None:
    """A folder whose absolute path passes PATH_MAX cannot be listed; the flags in it were
    skipped without a word. Made with paths relative to open folders, as git checks out."""
    from validator.files import walk_flags

    (tmp_path / "flags").mkdir()
    descriptor = os.open(tmp_path / "flags", os.O_RDONLY)
    try:
        for _ in range(17):
            os.mkdir("d" * 250, dir_fd=descriptor)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        with open(os.open("live.yml", os.O_WRONLY | os.O_CREAT, dir_fd=descriptor), "w") as out:
            out.write(flag_yaml("live", "enabled"))
    finally:
        os.close(descriptor)
    found, irregular = walk_flags(tmp_path)
    assert found == [] and any("cannot be read" in what for _, what in irregular)


def test_flags_below_the_top_of_the_work_tree_are_refused_not_waved_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """git names changed paths from the top (`svc/flags/demo.yml`), which no flag path rule
    matched: every change there passed as code. The gate refuses to judge from below."""
    outer = Repo.create(tmp_path / "outer", tmp_path / "home")
    outer.write_flag("demo", "off", folder="svc/flags")
    outer.commit("flags in a subfolder", at=NOW - DAY)
    outer.write_flag("demo", "enabled", folder="svc/flags")
    outer.git("add", "-A")
    service = Repo(outer.path / "svc", tmp_path / "home")
    for args in (("validate", "--staged"), ("validate", "--base", "HEAD"),
                 ("plan", "--base", "HEAD")):
        code, _, _ = flagops(service, *args)
        assert code == 1 and "not its top" in capsys.readouterr().err, args


@pytest.mark.parametrize("marking", ["--skip-worktree", "--assume-unchanged"])
def test_an_edit_the_index_is_told_to_ignore_is_still_judged(repo: Repo, marking: str) -> None:
    """`git diff` takes such a file as the index has it, and `build` reads the file: the
    working tree's change is judged as the build would see it."""
    repo.git("update-index", marking, "flags/demo.yml")
    repo.write_flag("demo", "enabled")
    assert "FO201:error" in flagops(repo, "validate", "--base", "HEAD")[1]
    repo.write_flag("demo", "beta", **BETA)  # the same bytes again: nothing to judge
    assert flagops(repo, "validate", "--base", "HEAD")[:2] == (0, [])
    (repo.path / "flags" / "demo.yml").unlink()  # gone from what build reads
    assert "FO208:error" in flagops(repo, "validate", "--base", "HEAD")[1]


@pytest.mark.parametrize("attributes", ["app/generated.rb -diff\n", "app/generated.rb binary\n"])
def test_a_removal_sees_references_in_files_git_calls_binary(repo: Repo, attributes: str) -> None:
    """`git grep -I` skipped them, so FO404 let a flag go while generated code still read it."""
    repo.write_flag("demo", "off")
    repo.write("app/generated.rb", "if Feature.enabled?(:demo)\n")
    repo.write(".gitattributes", attributes)
    repo.commit("demo off, read by generated code", at=NOW - DAY)
    (repo.path / "flags" / "demo.yml").unlink()
    repo.commit("remove demo", at=NOW - 60)
    code, found, text = flagops(repo, *RANGE)
    assert code == 1 and "FO404:error" in found and "app/generated.rb:1:4" in text


def test_a_fifo_in_place_of_a_file_the_index_ignores_is_refused_not_waited_on(
        repo: Repo) -> None:
    """Hashing it as git would store it would block forever on the FIFO."""
    repo.git("update-index", "--skip-worktree", "flags/demo.yml")
    (repo.path / "flags" / "demo.yml").unlink()
    os.mkfifo(repo.path / "flags" / "demo.yml")
    code, found, _ = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and "FO009:error" in found
