"""An attacker's review of "decide by what each actor gets" (2026-11-30): a new bucketing gives a
percentage to other actors, a switch of percentage kind can be a rollback, and an actor that
looks like another is another. Real git repositories, judged through the command line."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from gitrepo import Repo

from validator.cli import main
from validator.engines.bucketing import in_share

NOW = int(time.time())
CLOCK_DATED = True  # NOW read again as each test starts (conftest)
DAY = 24 * 3600
ACTORS = ("Project:gitlab-org/gitlab",)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo.create(tmp_path / "repo", tmp_path / "home")


def flagops(repo: Repo, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["-C", str(repo.path), *args], out=out)
    return code, out.getvalue()


def findings(output: str) -> list[tuple[str, str, str]]:
    """(path:line, rule, flag) of each finding line."""
    return re.findall(r"^(\S+?:\d+):\d+: (?:error|warning) (FO\d{3}) (\w+)?", output, re.M)


def test_the_bucketing_rule_gives_ten_percent_to_other_actors() -> None:
    """Why a new bucketing is a step: the same 10% under each rule, and who is in it."""
    actors = [f"User:{n}" for n in range(20_000)]
    flipper = {actor for actor in actors if in_share("demo", actor, 10, "flipper")}
    flagd = {actor for actor in actors if in_share("demo", actor, 10, "flagd")}
    assert len(flipper - flagd) > 1000 and len(flagd - flipper) > 1000


def _fleet(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=("actors", 10))
    repo.write_flag("listed", "beta", actors=ACTORS)
    repo.write_flag("everyone", "enabled")
    repo.write_flag("timed", "percentage", actors=ACTORS, percentage=("time", 50))
    repo.commit("the fleet", at=NOW - 30 * DAY)


def test_a_new_bucketing_is_a_mixed_step_of_each_flag_at_a_share_of_actors(repo: Repo) -> None:
    """Only the policy changes, and no flag file: the flag at 10% of actors gives it to
    another 10% (FO211, an error, in every mode); a list of actors, everyone and a percentage
    of time read no bucket and pass."""
    _fleet(repo)
    repo.write("pyproject.toml", '[tool.flagops]\nbucketing = "flagd"\n')
    repo.git("add", "-A")
    code, out = flagops(repo, "validate", "--staged")
    assert code == 1 and ("flags/demo.yml:15", "FO211", "demo") in findings(out), out
    assert [rule for _, rule, _ in findings(out)] == ["FO211", "FO302"], out
    repo.commit("we run flagd", at=NOW - DAY)
    for mode in (("--base", "HEAD~1", "--head", "HEAD"), ("--base", "HEAD~1")):
        code, out = flagops(repo, "validate", *mode)
        assert code == 1 and "from flipper to flagd while the flag gives 10% of actors" in out


def test_a_new_bucketing_passes_once_no_flag_is_at_a_share_of_actors(repo: Repo) -> None:
    """The way through: the flag rolled back to its actors in the same change (a rollback,
    judged by the base's bucketing); or a flag at 100% of actors, which is everyone listed."""
    _fleet(repo)
    repo.write("pyproject.toml", '[tool.flagops]\nbucketing = "flagd"\n')
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.commit("demo back to its actors, then flagd", at=NOW - DAY)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and [rule for _, rule, _ in findings(out)] == ["FO302"], out
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=("actors", 100))
    repo.commit("demo at 100% of actors (pushed round the gate)", at=NOW - DAY)
    repo.write("pyproject.toml", '[tool.flagops]\nbucketing = "flipper"\n')
    repo.commit("flipper again", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0 and [rule for _, rule, _ in findings(out)] == ["FO302"], out


def test_a_new_bucketing_is_refused_while_a_flag_file_cannot_be_read(repo: Repo) -> None:
    """A flag file that gives no flag at the head (here, a second file of one name) was left
    out of the count: whether it is at a share of actors could not be told, and the change
    passed."""
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "beta", actors=ACTORS)
    repo.write_flag("demo", "percentage", folder="flags/team", actors=ACTORS,
                    percentage=("actors", 10))
    repo.commit("two files of demo, pushed round the gate", at=NOW - 30 * DAY)
    repo.write("pyproject.toml", '[tool.flagops]\nbucketing = "flagd"\n')
    repo.commit("we run flagd", at=NOW - DAY)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 1 and ("flags/team/demo.yml:1", "FO211", "") in findings(out), out


@pytest.mark.parametrize(("before", "after", "refused"), [
    (("time", 100), ("actors", 50), False),  # everyone to half the actors: a rollback
    (("actors", 50), ("time", 100), True),   # half the actors to everyone: forward, a switch
    (("time", 10), ("actors", 10), True),    # some lose it, some gain it
])
def test_a_switch_of_percentage_kind_is_refused_only_where_someone_gains(
        repo: Repo, before: tuple[str, float], after: tuple[str, float], refused: bool) -> None:
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=before)
    repo.commit("demo", at=NOW - 30 * DAY)
    repo.write_flag("demo", "percentage", actors=ACTORS, percentage=after)
    repo.commit("switch", at=NOW - DAY)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert ("FO203" in out) == refused and (code == 1) == refused, out


@pytest.mark.parametrize(("actor", "mark"), [
    ("User:andre\u0301", "U+0301 COMBINING ACUTE ACCENT"),
    ("User:\u2126hm", "U+2126 OHM SIGN"),
])
def test_an_actor_is_taken_only_in_unicode_nfc(repo: Repo, actor: str, mark: str) -> None:
    """Written apart, an accent shows as the composed letter in review: `User:andré` twice,
    no FO133, and a rollback that drops the one leaves the other with the flag. A change
    that brings such an actor is FO104."""
    composed = "User:andr\u00e9"
    repo.write_flag("demo", "beta", actors=(composed,))
    repo.commit("demo at beta", at=NOW - 30 * DAY)
    repo.write_flag("demo", "beta", actors=(composed, actor))
    code, out = flagops(repo, "validate", "--base", "HEAD")
    assert code == 1 and ("flags/demo.yml:15", "FO104", "actors") in findings(out), out
    assert f"is not in Unicode NFC ({mark})" in out
    repo.write_flag("demo", "beta", actors=(composed, "User:\u03a9hm"))
    assert flagops(repo, "validate", "--base", "HEAD") == (0, "")


def test_an_actor_that_landed_before_the_nfc_rule_is_rolled_back_and_retyped(
        repo: Repo) -> None:
    """The rule was the model's: a base listing `User:andré` decomposed did not parse, so
    retyping it composed (as FO104 said) and any rollback but to off were FO212, and
    `build` shipped nothing. Now the base reads as it is."""
    decomposed = "User:andre\u0301"
    repo.write_flag("demo", "percentage", actors=(decomposed,), percentage=("actors", 50))
    repo.commit("50%, before the rule", at=NOW - 30 * DAY)
    assert flagops(repo, "build", "-o", "build/flags.json")[0] == 0
    repo.write_flag("demo", "percentage", actors=(decomposed,), percentage=("actors", 10))
    assert flagops(repo, "validate", "--base", "HEAD")[0] == 0  # a rollback keeping it
    repo.write_flag("demo", "percentage", actors=("User:andr\u00e9",),
                    percentage=("actors", 50))
    code, out = flagops(repo, "validate", "--base", "HEAD")
    assert code == 0 and "FO212" not in out, out  # retyped composed: a swap, soaked
    (repo.path / "build/flags.json").unlink()
    repo.write_flag("demo", "enabled")
    repo.commit("demo enabled for everyone", at=NOW - DAY)
    repo.git("revert", "--no-edit", "HEAD", at=NOW)
    code, out = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0, out  # the revert restores the decomposed actor it had: a rollback
