"""The sixth review's attacks on the gate and the commands around it, each in a real repository
through the command line: every one of them must be refused (or answered in one line, never a
hang), and the legal change next to it must still pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import Repo
from test_gate_fourth_review import BETA, DAY, NOW
from test_gate_integrity import flagops


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    return repo


# 1. A base policy this clone cannot read is no policy: not the defaults.

def test_a_base_policy_whose_blob_is_missing_is_refused_not_read_as_the_defaults(
        repo: Repo) -> None:
    """`policy_at` read a blob git does not have (a partial clone that cannot fetch, a damaged
    one) as no bytes, which is the defaults: a step the base's policy refuses (here a soak of
    100,000 minutes) passed under the default 15. It is FO301 now, as an unreadable policy is;
    the flag turned off still passes, as there."""
    repo.write("pyproject.toml", "[tool.flagops.soak_minutes]\nbeta = 100000\n")
    repo.write_flag("demo", "staging")
    repo.commit("demo at staging", at=NOW - DAY)
    policy = repo.git("rev-parse", "HEAD:pyproject.toml").strip()
    repo.write_flag("demo", "off")
    turned_off = repo.commit("demo off", at=NOW - 120)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta", at=NOW - 60)
    rangespec = ("validate", "--base", "HEAD~1", "--head", "HEAD")
    assert flagops(repo, *rangespec)[:2] == (1, ["FO204:error"])
    (repo.path / ".git" / "objects" / policy[:2] / policy[2:]).unlink()
    code, found, text = flagops(repo, *rangespec)
    assert (code, found) == (1, ["FO301:error"]) and "git has no blob" in text, text
    assert flagops(repo, "validate", "--base", "HEAD~1", "--head", turned_off)[:2] == \
        (0, ["FO301:warning"])
