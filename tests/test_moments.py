"""Commit dates beyond what Python's datetime holds (git keeps any number): every command that
shows a time shows one, and none fails with an internal error."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo

from validator import moments
from validator.cli import EXIT_BUG, main
from validator.trackers.http import reset_text

YEAR_11476 = 300_000_000_000
BETA: dict[str, Any] = {"actors": ("User:1",)}


def test_a_moment_is_shown_within_the_years_datetime_holds() -> None:
    assert moments.iso(0) == "1970-01-01T00:00:00+00:00"
    assert moments.minute_text(YEAR_11476) == "after 9999-12-31 23:59 UTC"
    assert moments.minute_text(-YEAR_11476) == "before 0001-01-01 00:00 UTC"
    assert moments.iso(YEAR_11476) == "9999-12-31T23:59:59+00:00"
    assert reset_text("9" * 30) == "; it resets at after 9999-12-31 23:59 UTC"


@pytest.mark.parametrize("command", [("status",), ("status", "--format", "json"),
                                     ("history", "demo"), ("history", "demo", "--format", "json"),
                                     ("build", "--history", "--no-cache"),
                                     ("promote", "demo", "--dry-run")])
def test_a_commit_dated_past_the_year_9999_breaks_no_command(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging")
    repo.commit("demo at staging", at=1_700_000_000)
    repo.write_flag("demo", "beta", **BETA)
    repo.commit("demo at beta, dated far ahead", at=YEAR_11476)
    out = io.StringIO()
    code = main(["-C", str(repo.path), *command], out=out)
    assert code != EXIT_BUG
    shown = "9999-12-31T23:59:59+00:00" if "json" in command else "after 9999-12-31 23:59 UTC"
    assert shown in out.getvalue() or command[0] in ("build", "promote")
