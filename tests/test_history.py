"""Landing times from plain commit lists: the walk stops where the rollout state changed, and
the clock only ever makes people wait longer."""

from __future__ import annotations

from validator.git import Change, Entry
from validator.git.log import Commit, FirstParent
from validator.history import Clock, landing_time, trusted_times


def stem(path: str) -> str:
    return path.rpartition("/")[2].removesuffix(".yml")


def entry(state: str | None, path: str = "flags/demo.yml") -> Entry | None:
    return None if state is None else Entry(path, "100644", state)


def change(before: str | None, after: str | None, path: str = "flags/demo.yml") -> Change:
    return Change(path, entry(before, path), entry(after, path))


def state_of(side: Entry) -> str | None:
    return side.oid


def commit(sha: str, at: int, *changes: Change) -> Commit:
    return Commit(sha, at, changes)


def line(*rows: tuple[str, int, int]) -> list[FirstParent]:
    """Newest first: (sha, committer time, number of parents)."""
    return [FirstParent(sha, at, parents) for sha, at, parents in rows]


HISTORY = [commit("c3", 300, change("beta", "beta")),  # a description edit
           commit("c2", 200, change("staging", "beta")),
           commit("c1", 100, change(None, "staging"))]
LINE = line(("c3", 300, 1), ("c2", 200, 1), ("c1", 100, 0))


def landed(commits: list[Commit], clock: Clock, *, shallow: bool = False,
           state: str = "beta") -> int | None:
    return landing_time(commits, "demo", state, state_of, stem, clock, shallow=shallow)


def test_the_commit_that_introduced_the_state_is_the_landing() -> None:
    assert landed(HISTORY, trusted_times(LINE, None)) == 200


def test_a_move_to_another_folder_keeps_the_clock() -> None:
    moved = [commit("c4", 400, change("beta", None), change(None, "beta", "flags/team/demo.yml")),
             *HISTORY]
    clock = trusted_times([FirstParent("c4", 400, 1), *LINE], None)
    assert landed(moved, clock) == 200


def test_a_backdated_commit_counts_as_landing_no_earlier_than_the_commit_before_it() -> None:
    backdated = [commit("c3", 300, change("staging", "beta")),
                 commit("c2", 50, change("off", "staging"))]
    clock = trusted_times(line(("c3", 300, 1), ("c2", 50, 1), ("c1", 280, 0)), None)
    assert clock.times == {"c1": 280, "c2": 280, "c3": 300}
    assert landed(backdated, clock, state="beta") == 300
    assert landed(backdated[1:], clock, state="staging") == 280


def test_an_unrelated_backdated_tip_does_not_end_the_walk() -> None:
    """`git log --since` stopped at the first old commit; the horizon is now found on the
    monotone clock, so an old-dated tip cannot make a fresh state count as soaked."""
    clock = trusted_times(line(("tip", 10, 1), ("c2", 200, 1), ("c1", 100, 0)), horizon=150)
    assert clock.times["tip"] == 200 and clock.horizon_commit == "c1"
    recent = [commit("c2", 200, change("staging", "beta"))]
    assert landed(recent, clock) == 200


def test_a_state_older_than_the_horizon_lands_at_the_horizon_commit() -> None:
    clock = trusted_times(LINE, horizon=250)
    assert clock.horizon_commit == "c2"
    assert landed([commit("c3", 300, change("beta", "beta"))], clock) == 200
    assert landed([], clock) == 200


def test_a_shallow_cut_is_no_evidence() -> None:
    cut = [commit("c3", 300, change(None, "beta"))]
    clock = trusted_times(line(("c3", 300, 1)), None, frozenset({"c3"}))
    assert landed(cut, clock, shallow=True) is None
    assert landed(HISTORY[:2], trusted_times(LINE, None), shallow=True) == 200
    assert landed(HISTORY[:1], trusted_times(LINE, None), shallow=True) is None


def test_with_merge_commits_required_the_soak_starts_at_the_next_merge() -> None:
    merged = line(("m2", 500, 2), ("c3", 300, 1), ("c2", 200, 1), ("c1", 100, 0))
    assert landed(HISTORY, trusted_times(merged, None, merges_only=True)) == 500
    assert landed(HISTORY, trusted_times(LINE, None, merges_only=True)) is None
    by_merge = [commit("m", 400, change("staging", "beta"))]
    assert landed(by_merge, trusted_times(line(("m", 400, 2)), None, merges_only=True)) == 400


def test_with_merge_commits_required_an_old_fast_forward_is_not_past_the_horizon() -> None:
    clock = trusted_times(LINE, horizon=1000, merges_only=True)
    assert clock.horizon_commit is None


def test_other_flags_in_the_same_commit_are_ignored() -> None:
    noisy = [commit("c2", 200, change("x", "y", "flags/other.yml"), change("staging", "beta"))]
    assert landed(noisy, trusted_times(LINE, None)) == 200
