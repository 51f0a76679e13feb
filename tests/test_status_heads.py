"""The head flags a history walk holds packed (`states.Packed`) are the flags a parse gives:
made after the walk, each one equals the one parsed in this process, its state is that
flag's state, and its document's data is the parse's."""

from __future__ import annotations

import pytest
from gitrepo import flag_yaml

from validator.lifecycle import states
from validator.lifecycle.states import Packed, data_of, head_state, heads_of, unpacked
from validator.transitions import RolloutState

ITEMS: list[states.Item] = [
    ("flags/a.yml", flag_yaml("a").encode()),
    ("flags/b.yml", flag_yaml("b", "actors", actors=["User:1", "Group:2"]).encode()),
    ("flags/c.yml", flag_yaml("c", "percentage", percentage=("actors", 12.5)).encode()),
    ("flags/d.yml", flag_yaml("d", "percentage", percentage=("time", 3)).encode()),
    ("flags/e.yml", flag_yaml("e", "on", default_enabled=True).encode()),
    ("flags/f.yml", b"name: [unclosed"),
    ("flags/g.yml", flag_yaml("other_name").encode()),
    ("flags/h.yml", None),
]


def test_pooled_heads_are_the_parsed_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = [states.flag_of_bytes(item) for item in ITEMS]
    monkeypatch.setattr(states, "PARALLEL_FROM", 1)
    monkeypatch.setattr(states, "cores", lambda: 2)
    pooled = list(heads_of(ITEMS))
    assert any(isinstance(head, Packed) for head, _ in pooled)
    assert [head is None for head, _ in pooled] == [flag is None for flag, _ in parsed]
    for (head, data), (flag, parsed_data) in zip(pooled, parsed, strict=True):
        if head is None or flag is None:
            continue
        assert unpacked(head) == flag
        assert head_state(head) == RolloutState.of(flag)
        assert head.name == flag.name
        assert data_of(head, data) == parsed_data


def test_unpooled_heads_are_flags_already() -> None:
    for (head, data), (flag, parsed_data) in zip(heads_of(ITEMS),
                                                 map(states.flag_of_bytes, ITEMS),
                                                 strict=True):
        assert head == flag and data_of(head, data) == parsed_data
        assert head is None or unpacked(head) is head
