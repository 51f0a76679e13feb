"""Landing times from plain commit lists: the walk stops where the rollout state changed."""

from __future__ import annotations

from validator.git import Commit
from validator.history import landing_time

PATH = "flags/demo.yml"


def commits(*rows: tuple[str, int]) -> list[Commit]:
    return [Commit(sha, at, (PATH,)) for sha, at in rows]


STATES = {"c3": "beta", "c2": "beta", "c1": "staging", "c1^": None, "c2^": "staging",
          "c3^": "beta", "c0": "beta", "c0^": "beta"}


def test_the_commit_that_introduced_the_state_is_the_landing() -> None:
    history = commits(("c3", 300), ("c2", 200), ("c1", 100))
    assert landing_time(history, PATH, "beta", STATES.get, shallow=False) == 200


def test_other_files_commits_are_ignored() -> None:
    history = [Commit("cx", 400, ("flags/other.yml",)), *commits(("c3", 300), ("c2", 200),
                                                                   ("c1", 100))]
    assert landing_time(history, PATH, "beta", STATES.get, shallow=False) == 200


def test_a_shallow_history_that_never_shows_the_change_is_unknown() -> None:
    assert landing_time(commits(("c3", 300), ("c2", 200)), PATH, "beta", STATES.get,
                        shallow=True) is None
    assert landing_time(commits(("c3", 300), ("c2", 200)), PATH, "beta", STATES.get,
                        shallow=False) == 200


def test_with_a_horizon_an_older_state_counts_as_landed_at_the_horizon() -> None:
    assert landing_time([], PATH, "beta", STATES.get, shallow=False, horizon=50) == 50
    assert landing_time(commits(("c0", 300)), PATH, "beta", STATES.get, shallow=False,
                        horizon=50) == 50


def test_with_a_horizon_a_state_born_inside_the_window_keeps_its_time() -> None:
    assert landing_time(commits(("c3", 300), ("c2", 200)), PATH, "beta", STATES.get,
                        shallow=False, horizon=150) == 200
