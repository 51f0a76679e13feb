"""Flipper's evaluation: the formula against CRC-32 computed independently, boundaries, reasons."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey_renderer.gate import Reason, bucket, evaluate, in_percentage, static_decision
from validator.gates import Gates

FLAG = "calendly_invite_link"
ACTORS = [f"User:{n}" for n in range(1, 3001)] + ["Project:gitlab-org/gitlab", "User:jürgen",
                                                   "User:名前", "User:🙂", "Group:a/b"]


def _bitwise_crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, reflected) bit by bit: no table and no zlib, so independent of both."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _gates(*, boolean: bool = False, actors: tuple[str, ...] = (),
           share: float | None = None, time: float | None = None) -> Gates:
    return Gates(boolean=boolean, actors=actors, percentage_of_actors=share,
                 percentage_of_time=time)


def test_known_value() -> None:
    assert zlib.crc32(b"calendly_invite_linkUser:42") == 510645728
    assert bucket(FLAG, "User:42") == 510645728 % 100000 == 45728


def test_bucket_matches_an_independent_crc32() -> None:
    for actor in ACTORS[:500] + ACTORS[-5:]:
        expected = _bitwise_crc32(f"{FLAG}{actor}".encode()) % 100000
        assert bucket(FLAG, actor) == expected == zlib.crc32(f"{FLAG}{actor}".encode()) % 100000


@pytest.mark.parametrize("percentage", [0.001, 0.5, 10, 12.345, 33.333, 50, 99.999])
def test_formula_for_many_actors(percentage: float) -> None:
    for actor in ACTORS:
        expected = zlib.crc32(f"{FLAG}{actor}".encode()) % 100000 < percentage * 1000
        assert in_percentage(FLAG, actor, percentage) is expected, actor


def test_boundaries_zero_and_hundred() -> None:
    assert not any(in_percentage(FLAG, actor, 0) for actor in ACTORS)
    assert all(in_percentage(FLAG, actor, 100) for actor in ACTORS)


def test_fractional_boundary_at_the_bucket() -> None:
    """User:42 sits in bucket 45728: in from 45.729 %, out at 45.728 % (45728 < 45728 is false)."""
    assert 45.728 * 1000 == 45728
    assert not in_percentage(FLAG, "User:42", 45.728)
    assert in_percentage(FLAG, "User:42", 45.729)
    assert not in_percentage(FLAG, "User:42", 45.7)


def test_share_is_close_to_the_percentage() -> None:
    users = [actor for actor in ACTORS if actor.startswith("User:")]
    share = sum(in_percentage(FLAG, actor, 25) for actor in users) / len(users)
    assert 0.22 < share < 0.28


@given(st.text(min_size=1, max_size=30), st.floats(0, 100), st.floats(0, 100))
def test_monotonic_as_the_percentage_rises(actor: str, first: float, second: float) -> None:
    low, high = sorted((first, second))
    if in_percentage(FLAG, actor, low):
        assert in_percentage(FLAG, actor, high)


def test_each_flag_buckets_independently() -> None:
    ours = {actor for actor in ACTORS if in_percentage(FLAG, actor, 50)}
    other = {actor for actor in ACTORS if in_percentage("another_flag", actor, 50)}
    overlap = len(ours & other) / len(ours)
    assert 0.4 < overlap < 0.6


@pytest.mark.parametrize(("gates", "actor", "enabled", "reason"), [
    (_gates(boolean=True), "User:1", True, Reason.FULLY_ON),
    (_gates(boolean=True), None, True, Reason.FULLY_ON),
    (_gates(actors=("User:1",)), "User:1", True, Reason.LISTED),
    (_gates(actors=("User:1",)), "User:2", False, Reason.OFF),
    (_gates(actors=("User:1",)), None, False, Reason.OFF),
    (_gates(share=100), "User:2", True, Reason.PERCENTAGE),
    (_gates(share=100), None, False, Reason.OFF),
    (_gates(actors=("User:42",), share=100), "User:42", True, Reason.LISTED),
    (_gates(share=45.729), "User:42", True, Reason.PERCENTAGE),
    (_gates(share=45.728), "User:42", False, Reason.OFF),
    (_gates(time=100), "User:42", True, Reason.FULLY_ON),  # open on every check
    (_gates(time=100), None, True, Reason.FULLY_ON),
    (_gates(time=99.999), "User:42", False, Reason.OFF),  # random: off to a static reader
    (_gates(), "User:42", False, Reason.OFF),
])
def test_evaluate_says_why(gates: Gates, actor: str | None, enabled: bool, reason: Reason) -> None:
    decision = evaluate(FLAG, gates, actor)
    assert (decision.enabled, decision.reason) == (enabled, reason)


@pytest.mark.parametrize(("gates", "expected"), [
    (_gates(boolean=True), True),
    (_gates(), False),
    (_gates(actors=("Project:gitlab-org/gitlab", "Group:x")), False),
    (_gates(time=50), False),
    (_gates(share=0), False),
    (_gates(actors=("User:7",)), None),
    (_gates(share=10), None),
    (_gates(share=100), None),
])
def test_static_decision_for_users(gates: Gates, expected: bool | None) -> None:
    assert static_decision(gates, "User") is expected
