"""Digits written by others: `str.isdigit()` holds for `²` and Arabic-Indic digits, which `int()`
refuses, and `int()` refuses more than 4,300 digits. Each place that read such text as a number
turned it into an internal error (exit 3); each now reads it as no number."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from gitrepo import Repo

from validator import git
from validator.cli import main
from validator.commands.build import build_clock
from validator.errors import UserError
from validator.policy import DEFAULT_POLICY
from validator.trackers.choose import link
from validator.trackers.http import reset_text
from validator.trackers.review import review_thread

NOT_NUMBERS = ["²", "١٢", "9" * 5000, "", "12a"]


@pytest.mark.parametrize("digits", NOT_NUMBERS)
def test_an_issue_url_whose_number_is_no_number_names_no_issue(digits: str) -> None:
    # The URL is the flag file's: --check-links said FO506 for letters, crashed for these.
    assert link(f"https://gitlab.com/g/p/-/issues/{digits}", DEFAULT_POLICY) is None
    assert link(f"https://github.com/o/r/issues/{digits}", DEFAULT_POLICY) is None


@pytest.mark.parametrize("digits", NOT_NUMBERS)
def test_a_rate_limit_reset_header_that_is_no_number_is_left_out(digits: str) -> None:
    assert reset_text(digits) == ""  # the server's header


@pytest.mark.parametrize("digits", NOT_NUMBERS)
def test_a_merge_request_iid_that_is_no_number_is_not_a_review(digits: str) -> None:
    environ = {"CI_MERGE_REQUEST_IID": digits or "x", "CI_PROJECT_ID": "1",
               "CI_API_V4_URL": "https://gitlab.example/api/v4"}
    with pytest.raises(UserError, match="--comment needs a merge request pipeline"):
        review_thread(environ)


@pytest.mark.parametrize("digits", NOT_NUMBERS)
def test_a_source_date_epoch_that_is_no_number_is_the_system_clock(
        digits: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", digits)
    assert abs(build_clock() - time.time()) < 60


@pytest.mark.parametrize("digits", NOT_NUMBERS)
def test_a_git_config_count_that_is_no_number_is_none(
        digits: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # git refuses every command under such a count; flagops's git runs without it.
    monkeypatch.setenv("GIT_CONFIG_COUNT", digits)
    assert "GIT_CONFIG_COUNT" not in git.environment()
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("add", at=int(time.time()) - 60)
    assert main(["-C", str(repo.path), "status"], out=io.StringIO()) == 0
