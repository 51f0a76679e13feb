"""An attacker's review of a new team's first hour and hostile command lines (2026-11-30): an
empty ref, a link loop where the build writes, a name that is a pattern, an output into the
repository's git folder or flags/. The command line in this process, on real repositories."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo

from validator.cli import main

NOW = int(time.time())


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "percentage", actors=("User:1",), percentage=("actors", 10))
    repo.commit("demo at 10%", at=NOW - 86400)
    return repo


@pytest.mark.parametrize("args", [("validate", "--base", ""), ("validate", "--base", " "),
                                  ("plan", "--base", ""), ("status", "--ref", ""),
                                  ("history", "demo", "--ref", "")])
def test_an_empty_ref_is_a_usage_error(repo: Repo, run_cli: Any, args: tuple[str, ...]) -> None:
    """`validate --base ""` (a CI variable that was empty) was read as no base: the working
    tree's files judged alone, no step, and a jump from 10% to enabled passed."""
    repo.write_flag("demo", "enabled")
    code, _, err = run_cli("-C", str(repo.path), *args)
    assert code == 2 and "not an empty value" in err, err


def test_a_link_loop_where_build_writes_is_one_line(repo: Repo, run_cli: Any) -> None:
    os.makedirs(repo.path / "build")
    os.symlink("loop", repo.path / "build" / "loop")
    code, _, err = run_cli("-C", str(repo.path), "build", "-o", "build/loop/flags.json")
    assert code == 1 and "Too many levels of symbolic links" in err, err
    assert "internal error" not in err


@pytest.mark.parametrize("name", ["x|.*", "(", "", "Demo"])
def test_refs_takes_only_flag_names(repo: Repo, run_cli: Any, name: str) -> None:
    """`refs 'x|.*'` searched git for a pattern and listed every line of every file."""
    code, out, err = run_cli("-C", str(repo.path), "refs", name)
    assert code == 1 and "is not a flag name" in err and out == "", err


@pytest.mark.parametrize(("command", "output"), [
    (("build",), ".git/HEAD"), (("export", "--format", "flagd"), ".git/config"),
    (("build",), "flags/demo.yml"), (("build",), "-")])
def test_no_output_goes_into_git_flags_or_a_file_named_dash(
        repo: Repo, run_cli: Any, command: tuple[str, ...], output: str) -> None:
    before = (repo.path / output).read_bytes() if (repo.path / output).exists() else None
    code, _, err = run_cli("-C", str(repo.path), *command, "-o", output)
    assert code == 1 and "cannot write" in err, err
    after = (repo.path / output).read_bytes() if (repo.path / output).exists() else None
    assert after == before
    assert main(["-C", str(repo.path), "validate"], out=io.StringIO()) == 0
