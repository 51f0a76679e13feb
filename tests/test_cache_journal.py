"""The cache's recent entries (validator/cache/journal.py): a run that changed a few files
writes those few beside the packs, a run that changed many writes the packs again, and either
way the next run finds what a run without a cache finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import flag_tree, flag_yaml

from validator.cache import Cache, Settings
from validator.cache.journal import RECENT_SHARE, read_journaled, recent_path, write_journaled
from validator.findings import Finding
from validator.policy import DEFAULT_POLICY
from validator.tree import check_tree

CONTEXT = "a" * 64
FLAGS = 200


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return flag_tree(tmp_path / "repo", FLAGS)


def _run(root: Path, folder: Path) -> tuple[list[Finding], int]:
    """A cached run's findings and hits; the clock far ahead, so that every file is old
    enough for its status to be kept (stat_keys.py)."""
    cache = Cache.open(Settings(folder), root, with_data=True, version="test",
                       clock=lambda: 2**62)
    assert cache is not None
    found = list(check_tree(root, DEFAULT_POLICY, [], cache=cache).findings)
    return found, cache.hits


def _packs(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file of the cache folder: its inode and size (a pack written again is a new
    inode: each write is a rename)."""
    return {path.name.split(".", 1)[1]: (path.stat().st_ino, path.stat().st_size)
            for path in folder.iterdir()}


def test_a_few_changed_files_are_written_beside_the_packs(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _run(root, folder)
    before = _packs(folder)
    assert "summaries.recent.json" not in before  # a first run writes the whole packs
    (root / "flags/flag_3.yml").write_text(flag_yaml("flag_3", "beta"), encoding="utf-8")
    found, hits = _run(root, folder)
    assert (found, hits) == (list(check_tree(root, DEFAULT_POLICY, []).findings), FLAGS - 1)
    after = _packs(folder)
    assert [after[kind] for kind in ("stats.json", "summaries.json", "data.json")] == \
        [before[kind] for kind in ("stats.json", "summaries.json", "data.json")]
    for kind in ("stats", "summaries", "data"):
        assert after[f"{kind}.recent.json"][1] < before[f"{kind}.json"][1] / 10
    found, hits = _run(root, folder)  # the recent entries are read: every file a hit
    assert (found, hits) == (list(check_tree(root, DEFAULT_POLICY, []).findings), FLAGS)


def test_many_changed_files_write_the_packs_again(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _run(root, folder)
    before = _packs(folder)
    for index in range(0, FLAGS, 2):  # 100 changed: more than the recent file takes
        (root / f"flags/flag_{index}.yml").write_text(flag_yaml(f"flag_{index}", "beta"),
                                                      encoding="utf-8")
    found, hits = _run(root, folder)
    assert (found, hits) == (list(check_tree(root, DEFAULT_POLICY, []).findings), FLAGS // 2)
    after = _packs(folder)
    assert not any(name.endswith(".recent.json") for name in after)
    assert after["summaries.json"][0] != before["summaries.json"][0]
    found, hits = _run(root, folder)
    assert (found, hits) == (list(check_tree(root, DEFAULT_POLICY, []).findings), FLAGS)


def test_the_recent_entries_read_over_the_pack_and_only_the_difference_is_written(
        tmp_path: Path) -> None:
    pack = tmp_path / "s.summaries.json"
    whole = {f"k{index}": f"v{index}" for index in range(1000)}
    write_journaled(pack, CONTEXT, whole, {})
    assert read_journaled(pack, CONTEXT) == (whole, whole)
    assert not recent_path(pack).exists()
    wanted = {**whole, "k1": "changed", "new": "entry"}
    del wanted["k2"]  # unused now: it stays in the whole pack until it is written again
    write_journaled(pack, CONTEXT, wanted, whole)
    assert read_journaled(recent_path(pack), CONTEXT).entries == \
        {"k1": "changed", "new": "entry"}
    assert read_journaled(pack, CONTEXT) == ({**whole, "k1": "changed", "new": "entry"}, whole)
    many = {f"k{index}": "all changed" for index in range(1000)}
    write_journaled(pack, CONTEXT, many, whole)
    assert read_journaled(pack, CONTEXT) == (many, many)
    assert not recent_path(pack).exists()


def test_unused_entries_count_towards_writing_the_pack_again(tmp_path: Path) -> None:
    pack = tmp_path / "s.stats.json"
    whole = {f"k{index}": "v" for index in range(RECENT_SHARE * 10)}
    write_journaled(pack, CONTEXT, whole, {})
    fewer = dict(list(whole.items())[:-9])  # 9 in 160 no longer used: within a sixteenth,
    write_journaled(pack, CONTEXT, fewer, whole)  # so they stay in the whole pack for now
    assert read_journaled(pack, CONTEXT) == (whole, whole)
    assert read_journaled(recent_path(pack), CONTEXT).entries == {}
    fewer = dict(list(whole.items())[:-11])  # 11: past it
    write_journaled(pack, CONTEXT, fewer, whole)
    assert read_journaled(pack, CONTEXT) == (fewer, fewer)


def test_recent_entries_of_another_context_or_torn_are_none(tmp_path: Path) -> None:
    pack = tmp_path / "s.summaries.json"
    whole = {f"k{index}": "v" for index in range(1000)}
    write_journaled(pack, CONTEXT, whole, {})
    write_journaled(pack, "b" * 64, {**whole, "k1": "other context"}, whole)
    assert read_journaled(pack, CONTEXT).entries == whole
    write_journaled(pack, CONTEXT, {**whole, "k1": "mine"}, whole)
    text = recent_path(pack).read_bytes()
    recent_path(pack).write_bytes(text[:-2])
    assert read_journaled(pack, CONTEXT).entries == whole
