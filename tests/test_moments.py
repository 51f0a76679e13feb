"""Commit dates beyond what Python's datetime holds (git keeps any number): every command that
shows a time shows one, and none fails with an internal error."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from validator import moments
from validator.build import MergedConfig
from validator.cli import EXIT_BUG, main
from validator.model import IsoTime
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


def _is_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("year", [1, 4, 99, 100, 200, 400, 1600, 1700, 1900, 1996, 2000, 2023,
                                  2024, 2026, 2100, 2400, 9996, 9999])
def test_the_time_pattern_takes_every_real_day_and_no_other(year: int) -> None:
    """ISO_PATTERN encodes the calendar (months' lengths, 29 February of leap years only, the
    century rule) in a regex that Rust's engine can run: held against datetime's calendar."""
    pattern = re.compile(moments.ISO_PATTERN)
    for month in range(0, 14):
        for day in range(0, 33):
            text = f"{year:04d}-{month:02d}-{day:02d}T23:59:59+00:00"
            real = 1 <= month <= 12 and 1 <= day <= 31 and _is_day(year, month, day)
            assert bool(pattern.match(text)) is real, text


@settings(max_examples=500)
@given(st.integers(-YEAR_11476, YEAR_11476))
def test_every_time_iso_writes_matches_the_pattern_and_reads_back(moment: int) -> None:
    text = moments.iso(moment)
    assert re.fullmatch(moments.ISO_PATTERN, text)
    assert TypeAdapter(IsoTime).validate_python(text) == text
    clamped = min(max(moment, moments.EARLIEST), moments.LATEST)
    assert int(datetime.fromisoformat(text).timestamp()) == clamped


@pytest.mark.parametrize("text", [
    '2026-01-01"12:00:00+00:00',  # datetime.fromisoformat takes any one separator
    "2026-01-01<12:00:00+00:00",
    "2026-01-01 12:00:00+00:00",
    "2026-W01-1T00:00:00+00:00",
    "2026-02-29T00:00:00+00:00",
    "1900-02-29T00:00:00+00:00",
    "0000-01-01T00:00:00+00:00",
    "2026-01-01T24:00:00+00:00",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.5+00:00",
    "2026-01-01T00:00:00+00:00\n",  # Python's `$` would take it, pydantic's does not
    "\uff12\uff10\uff12\uff16-01-01T00:00:00+00:00",  # fullwidth: digits to `\d`
])
def test_no_other_text_is_a_time_to_the_model_or_its_schema(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(IsoTime).validate_python(text)
    schema = MergedConfig.model_json_schema(by_alias=True)["$defs"]["Landed"]
    assert not Draft202012Validator(schema["properties"]["time"]).is_valid(text)


def test_a_legal_time_is_shown_at_the_minute_it_is_legal_from() -> None:
    """status showed 21:50 for a step legal at 21:50:30, where promote refuses it and says
    21:51: every "legal at" people read rounds up."""
    from validator.moments import minute_up, when

    assert minute_up(1_800_000_030) == 1_800_000_060 and minute_up(1_800_000_000) == 1_800_000_000
    assert when(minute_up(1_800_000_030)) == when(1_800_000_060) != when(1_800_000_030)
