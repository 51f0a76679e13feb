"""The third review's attacks on the gate, each in a real repository through the command line:
every one of them must be refused, and the legal change next to it must still pass."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, flag_yaml

from validator.cli import main

NOW = int(time.time())
DAY = 24 * 3600
BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}
FIFTY: dict[str, Any] = {"percentage": ("actors", 50), **BETA}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("pyproject.toml", "[tool.flagops]\n")
    repo.write_flag("demo", "percentage", **FIFTY)
    repo.commit("demo at 50%", at=NOW - 10 * DAY)
    return repo


def flagops(repo: Repo, *args: str) -> tuple[int, list[str], str]:
    """Exit code, the rule:severity pairs found, and the text report."""
    out = io.StringIO()
    code = main(["-C", str(repo.path), *args], out=out)
    text = out.getvalue()
    found = re.findall(r" (error|warning) (FO\d{3}) ", text)
    return code, sorted(f"{rule}:{severity}" for severity, rule in found), text


# The index holds what the commit records, and nothing else.

def test_an_intent_to_add_entry_does_not_keep_a_deleted_live_flag_alive(repo: Repo) -> None:
    """`git add -N` puts a placeholder in the index that no commit records (and `git diff
    --cached` does not show). The hook took it for a file still carrying the flag's name, so
    the staged deletion of a live flag was not judged at all; the commit deleted it."""
    repo.git("rm", "-q", "flags/demo.yml")
    repo.write("flags/team/demo.yml", flag_yaml("demo", "percentage", **FIFTY))
    repo.git("add", "--intent-to-add", "flags/team/demo.yml")
    code, found, _ = flagops(repo, "validate", "--staged")
    assert code == 1 and found == ["FO208:error"]
    repo.git("add", "flags/team/demo.yml")  # staged for real: a move, which passes
    assert flagops(repo, "validate", "--staged")[:2] == (0, [])


@pytest.mark.parametrize("placeholder", ["flags/demo.yml", "flags/x.yml/demo.yml"])
def test_an_intent_to_add_entry_is_judged_as_the_commit_records_it(repo: Repo,
                                                                   placeholder: str) -> None:
    """Where the placeholder replaces the live flag's own file (`git rm --cached`, then `git
    add -N`), or sits in a folder named like a flag, the commit records the deletion and no
    folder: the deletion is judged, and nothing is said about a file the commit lacks."""
    repo.git("rm", "-q", "--cached", "flags/demo.yml")
    if placeholder != "flags/demo.yml":
        repo.write(placeholder, flag_yaml("demo", "off"))
    repo.git("add", "--intent-to-add", placeholder)
    code, found, _ = flagops(repo, "validate", "--staged", "--all-files")
    assert code == 1 and found == ["FO208:error"]
