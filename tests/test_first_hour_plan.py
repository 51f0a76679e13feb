"""What the plan says a revert would do, step by step, and what removing a flag leaves; how
durations read. Pure (tests/test_first_hour.py shows the same through a real merge request)."""

from __future__ import annotations

from typing import Any

import pytest
from test_transitions import loaded

from validator.check import LoadedFlag
from validator.durations import minutes_text
from validator.plan import plan, to_markdown
from validator.policy import DEFAULT_POLICY

ACTORS = {"actors": ("Project:gitlab-org/gitlab",)}


def _one(before: LoadedFlag | None, after: LoadedFlag | None) -> Any:
    [item] = plan({"demo": before} if before else {}, {"demo": after} if after else {}, [],
                  DEFAULT_POLICY)
    return item


def _state(stage: str, **fields: Any) -> LoadedFlag:
    return loaded(stage, **fields)


@pytest.mark.parametrize(("before", "after", "revert"), [
    (_state("off"), _state("staging"),
     "takes it back to off: a rollback, which flagops accepts at once."),
    (_state("beta", **ACTORS), _state("staging"),
     "takes it back to beta (1 actor): a forward step, judged like any other; not at once: it "
     "waits until staging has soaked 15 min after this change lands."),
    (_state("enabled"), _state("off"),
     "takes it back to enabled: not a legal step (FO201: demo: off → enabled skips staging, "
     "beta, percentage; the next legal step is off → staging); to go back, step forward again "
     "from off, one step at a time."),
    (_state("staging"), _state("off"),
     "takes it back to staging: a forward step, legal at once (no soak for it)."),
    (None, _state("off"), "removes the flag again: accepted at once."),
    (_state("off"), None, "brings the flag back at off: accepted at once."),
    (_state("enabled", default_enabled=True, cleanup=True), None,
     "brings the flag back at enabled with default_enabled: accepted at once."),
    # A revert restores its base's file whole: one that breaks the file rules is refused
    # (the eighth review: the plan said "a rollback, which flagops accepts at once").
    (_state("percentage", **ACTORS), _state("percentage", percentage=("actors", 10), **ACTORS),
     "takes it back to percentage: it restores a file that breaks the file rules (FO131: demo: "
     "stage percentage needs a percentage, e.g. {of: actors, value: 10}), which the gate "
     "refuses; go back with flagops rollback demo instead."),
])
def test_the_plan_says_what_the_revert_of_each_step_would_be(
        before: LoadedFlag | None, after: LoadedFlag | None, revert: str) -> None:
    item = _one(before, after)
    assert item.revert == revert
    assert f"Revert: `git revert -m 1 <merge-sha>` {revert.split(':')[0]}" in \
        to_markdown([item], "main → HEAD").replace("\\", "")


def test_a_day_long_soak_is_planned_in_days() -> None:
    item = _one(_state("percentage", percentage=("actors", 100), **ACTORS), _state("enabled"))
    assert item.soak == ("the next step (enabled → default_enabled: true (with a "
                         "cleanup_issue_url)) may land 1 d after this change lands")


def test_removing_a_released_flag_leaves_the_feature_on_for_everyone() -> None:
    item = _one(_state("enabled", default_enabled=True, cleanup=True), None)
    assert item.after == {"staging": "everyone (no flag: the code path is unconditional)",
                          "production": "everyone (no flag: the code path is unconditional)"}
    assert item.reminders == [
        "The feature stays on for everyone: with the flag gone, its code path is unconditional. "
        "Every code reference to the flag must be gone before this merges (a check of a flag "
        "that is not defined reads it as off)."]
    at_off = _one(_state("off"), None)
    assert at_off.after == {"staging": "nobody", "production": "nobody"}


@pytest.mark.parametrize(("minutes", "up", "text"), [
    (0, False, "0 min"), (9, False, "9 min"), (60, False, "1 h"), (90, False, "1 h 30 min"),
    (1320, False, "22 h"), (1440, False, "1 d"), (1560, False, "1 d 2 h"),
    (1561, False, "1 d 2 h"), (1561, True, "1 d 3 h"), (2879, True, "2 d"), (-1440, False, "1 d"),
])
def test_minutes_read_as_people_say_them(minutes: int, up: bool, text: str) -> None:
    assert minutes_text(minutes, round_up=up) == text
