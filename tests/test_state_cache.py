"""The states kept between runs (`validator.lifecycle.state_cache`) change no output: `status`
and `build --history` print the same bytes with a cold cache, a warm one, none, a corrupt one,
and with their blobs parsed in a pool of processes; and the fast JSON writer of the merged
config writes what `json.dumps` writes."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from catalog_repo import AS_OF, CatalogRepo, make
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.cli import main
from validator.json_text import dumps_sorted
from validator.lifecycle import state_cache, states
from validator.lifecycle.state_cache import MISS, StateStore, decode, encode, entry_key
from validator.model import Percentage, Stage
from validator.transitions import RolloutState


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> CatalogRepo:
    return make(tmp_path_factory.mktemp("states"))


def outputs(root: Path, *cache: str) -> tuple[str, str]:
    """`status --format json` and `build --history`'s merged config, on a fixed clock."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("validator.commands.status.time.time", lambda: AS_OF)
        patch.setenv("SOURCE_DATE_EPOCH", str(AS_OF))
        assert main(["-C", str(root), "status", "--format", "json", *cache], out=out) == 0
        assert main(["-C", str(root), "build", "--history", *cache], out=io.StringIO()) == 0
    return out.getvalue(), (root / "build/flags.json").read_text(encoding="utf-8")


def packs(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*.{state_cache.KIND}.json")) + \
        sorted(folder.glob(f"*.{state_cache.HEADS}.json"))


def _no_parse(item: Any) -> Any:
    raise AssertionError("a warm cache parsed a blob")


def test_warm_cold_and_no_cache_print_the_same(made: CatalogRepo, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    without = outputs(root, "--no-cache")
    assert json.loads(without[0]) and json.loads(without[1])["flags"]["demo"]["summary"]
    assert outputs(root, "--cache-dir", str(folder)) == without  # cold: writes the packs
    assert len(packs(folder)) == 2
    with monkeypatch.context() as patch:  # warm: not one blob is parsed again
        patch.setattr(states, "state_of_bytes", _no_parse)
        patch.setattr(states, "flag_of_bytes", _no_parse)
        assert outputs(root, "--cache-dir", str(folder)) == without


def test_blobs_parsed_in_a_pool_give_the_same(made: CatalogRepo,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    without = outputs(made.repo.path, "--no-cache")
    monkeypatch.setattr(states, "PARALLEL_FROM", 1)
    monkeypatch.setattr(states, "cores", lambda: 2)
    assert outputs(made.repo.path, "--no-cache") == without


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"format": 1, "context": "x"}',
                                     b"\xff\xfe not json"])
def test_a_corrupt_pack_is_ignored_and_rebuilt(made: CatalogRepo, tmp_path: Path,
                                               garbage: bytes) -> None:
    root, folder = made.repo.path, tmp_path / "cache"
    without = outputs(root, "--no-cache")
    outputs(root, "--cache-dir", str(folder))
    for pack in packs(folder):
        pack.write_bytes(garbage)
    assert outputs(root, "--cache-dir", str(folder)) == without
    assert all(json.loads(pack.read_bytes())["entries"] for pack in packs(folder))


def test_foreign_entries_are_misses(made: CatalogRepo, tmp_path: Path) -> None:
    """Entries under the right keys that do not decode to what a parse gives: every one is
    parsed again, and the outputs do not change."""
    root, folder = made.repo.path, tmp_path / "cache"
    without = outputs(root, "--no-cache")
    outputs(root, "--cache-dir", str(folder))
    for pack in packs(folder):
        data = json.loads(pack.read_bytes())
        data["entries"] = {key: [key, ["x", "sideways", [1], None, "no"]]
                           if state_cache.KIND in pack.name else [key, {"name": 5}]
                           for key in data["entries"]}
        pack.write_text(json.dumps(data), encoding="utf-8")
    assert outputs(root, "--cache-dir", str(folder)) == without


def test_a_state_decodes_to_itself_and_nothing_else_does() -> None:
    key = entry_key("a" * 40, "flags/demo.yml", "100644")
    state = RolloutState("demo", Stage.PERCENTAGE, frozenset({"User:2", "User:1"}),
                         Percentage(of="actors", value=12.5), False)
    for kept in (state, None, RolloutState.nobody("demo")):
        assert decode(json.loads(json.dumps(encode(key, kept))), key) == kept
    good = encode(key, state)
    bad: list[Any]
    for bad in ([key], ["other", good[1]], [key, ["demo", "nope", [], None, False]],
                [key, ["demo", "beta", [1], None, False]],
                [key, ["demo", "percentage", [], ["actors", 500], False]],
                [key, ["demo", "percentage", [], ["actors", "5"], False]],
                [key, ["demo", "off", [], None, 0]], [key, ["demo"]], [key, 7]):
        store = StateStore(Path("unused"), "context", {key: bad}, Path("unused"), {})
        assert store.get(key) is MISS


def test_no_cache_folder_no_store(tmp_path: Path) -> None:
    from validator.cache import Settings

    assert StateStore.open(Settings(None), tmp_path) is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_the_config_writer_writes_what_json_dumps_writes(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    assert dumps_sorted(value) == expected


def test_the_config_writer_hands_odd_values_to_json() -> None:
    for value in ({1: "a", 2: "b"}, {"t": (1, 2)}, [math.inf, -0.0, "\udcff\u2028"]):
        assert dumps_sorted(value) == json.dumps(value, sort_keys=True, indent=2,
                                                 ensure_ascii=False)
