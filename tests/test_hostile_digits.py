"""Digits written by others: `str.isdigit()` holds for `²` and Arabic-Indic digits, which `int()`
refuses, and `int()` refuses more than 4,300 digits. Each place that read such text as a number
turned it into an internal error (exit 3); each now reads it as no number."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

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


LONG_MILESTONES = ["1" * 4301 + ".0", "12345.1", "1.12345"]


@pytest.mark.parametrize("milestone", LONG_MILESTONES, ids=["4301-digits", "5-major", "5-minor"])
def test_a_milestone_of_more_digits_than_a_version_has_is_a_file_error(
        milestone: str, tmp_path: Path, run_cli: Any) -> None:
    """A lifespan counts milestones with int(): a milestone of 4,301 digits passed the file
    rules and ended `validate --base`, the hook, `plan`, `status` and `promote` in an internal
    error (the seventh review). It is refused where it is written, in one located line."""
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "off")
    repo.commit("add", at=int(time.time()) - 3600)
    text = (repo.path / "flags/demo.yml").read_text().replace("'13.12'", f"'{milestone}'")
    (repo.path / "flags/demo.yml").write_text(text)
    repo.git("add", "-A")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("milestone"))
    for command in (["validate"], ["validate", "--staged"], ["status"],
                    ["promote", "demo", "--dry-run"]):
        code, out, err = run_cli("-C", str(repo.path), *command)
        assert "internal error" not in out + err and code in (0, 1), (command, out + err)
        if command[0] in ("validate", "promote"):
            assert code == 1 and f"flags/demo.yml:{line}:12: error FO102 milestone" in out + err


@pytest.mark.parametrize("version", ["1" * 5000 + ".1", "12345.6.0-pre", "²٣.1"])
def test_a_version_file_without_a_milestone_leaves_the_milestone_unknown(
        version: str, tmp_path: Path) -> None:
    from validator.commands.new import version_milestone
    from validator.lifecycle.lifespan import current_milestone

    (tmp_path / "VERSION").write_text(version + "\n")
    assert version_milestone(tmp_path) is None
    assert current_milestone(DEFAULT_POLICY, version) is None
    (tmp_path / "VERSION").write_text("17.10.0-pre\n")
    assert version_milestone(tmp_path) == "17.10"
    assert current_milestone(DEFAULT_POLICY, "17.10.0-pre") == 17 * 12 + 10


@pytest.mark.parametrize("index", [*NOT_NUMBERS, "01", "2", "+1"])
def test_a_cached_verdicts_index_that_is_no_index_is_no_verdict(index: str) -> None:
    # A pack is read back from a cache folder, which anything on the machine may have written:
    # an index of 4,301 digits passed isdigit() and ended in int()'s internal error.
    from validator.cache.packs import decode_verdict

    paths = ["flags/a.yml", "flags/b.yml"]
    assert decode_verdict([[], 2, {index: "other_name"}], paths) is None
    verdict = decode_verdict([[], 2, {"1": "other_name"}], paths)
    assert verdict is not None and verdict.checked[1] == ("flags/b.yml", "other_name")
