"""Files parsed in a pool of processes give exactly the findings of one process, in order,
across batch boundaries: the broken-file corpus as one tree, parsed both ways."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from validator import parallel
from validator import tree as tree_module
from validator.policy import DEFAULT_POLICY
from validator.tree import check_tree

CASES = Path(__file__).resolve().parent / "cases" / "invalid"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for index, case in enumerate(sorted(CASES.iterdir())):
        for source in (case / "flags").rglob("*"):
            if source.is_file():
                target = tmp_path / "flags" / f"c{index:03d}" / source.relative_to(case / "flags")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    return tmp_path


def test_a_pool_finds_what_one_process_finds(tree: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    serial = check_tree(tree, DEFAULT_POLICY, [], with_data=True)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 1)
    monkeypatch.setattr(tree_module, "BATCH", 7)  # many batches, the last one partial
    pooled = check_tree(tree, DEFAULT_POLICY, [], with_data=True)
    assert pooled.findings == serial.findings and len(serial.findings) > 80
    assert pooled.files == serial.files
    assert list(pooled.flag_values()) == list(serial.flag_values())
