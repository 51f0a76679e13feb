"""The fifth review's attacks on the gate, each in a real repository through the command line:
every one of them must be refused, and the legal change next to it must still pass."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo
from test_gate_integrity import flagops

NOW = int(time.time())
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    return repo


# 1. A broken file of the same name on the base does not hide a live flag's deletion.

@pytest.mark.parametrize("twin", ["name: [unclosed\n", "name: demo\nstage: nowhere\n"],
                         ids=["unparseable", "invalid"])
@pytest.mark.parametrize("stage", ["beta", "off"])
def test_deleting_a_live_flag_beside_a_broken_twin_is_judged_as_a_deletion(
        repo: Repo, twin: str, stage: str) -> None:
    repo.write_flag("demo", stage, **(BETA if stage == "beta" else {}))
    repo.write("flags/old/demo.yml", twin)
    repo.commit("demo, and a broken twin a stale pipeline let in", at=NOW - 10 * DAY)
    repo.git("rm", "-q", "flags/demo.yml")
    repo.commit("remove demo", at=NOW - 60)
    code, found, text = flagops(repo, "validate", "--base", "HEAD~1", "--head", "HEAD")
    if stage == "beta":
        assert code == 1 and "FO208:error" in found, text
    else:  # a flag at off may go, broken twin or not (its findings do not block a rollback)
        assert code == 0, text
