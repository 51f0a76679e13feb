"""A fresh clone has no ../shared and maybe no Chromium: those tests skip with one line saying
what is missing, and with FLAGOPS_REQUIRE_ALL=1 (as .ci/run sets it) the skip is a failure.

Each case runs pytest itself as a real process on one of our test modules, with the shared
folder pointed at an empty one or PATH pointed at a folder without chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

TIMEOUT = 300


def _pytest(*args: str, require_all: bool, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("FLAGOPS_REQUIRE_ALL", None)
    if require_all:
        environment["FLAGOPS_REQUIRE_ALL"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rsfE", "-p", "no:cacheprovider",
                           *args], capture_output=True, text=True, cwd=REPO_ROOT, env=environment,
                          timeout=TIMEOUT, check=False)


@pytest.mark.parametrize("require_all", [False, True], ids=["fresh-clone", "ci"])
def test_without_the_shared_folder_the_corpus_tests_skip_or_fail(
    tmp_path: Path, require_all: bool
) -> None:
    done = _pytest("tests/test_gitlab_corpus.py", require_all=require_all,
                   FLAGOPS_SHARED_DIR=str(tmp_path))
    reason = f"needs {tmp_path}/gitlab-feature-flags: the team's shared folder"
    assert reason in done.stdout, done.stdout
    if require_all:
        assert done.returncode != 0 and "FLAGOPS_REQUIRE_ALL=1: required" in done.stdout
    else:
        # 5: pytest's "no tests ran", as the whole module is skipped
        assert done.returncode == 5 and "1 skipped" in done.stdout, done.stdout


@pytest.mark.parametrize("require_all", [False, True], ids=["fresh-clone", "ci"])
def test_without_chromium_the_browser_tests_skip_or_fail(
    tmp_path: Path, require_all: bool
) -> None:
    done = _pytest("tests/test_survey_page.py", "-m", "browser", require_all=require_all,
                   PATH=str(tmp_path))  # an empty folder: no chromium, no chromedriver
    reason = "chromium and chromedriver not on PATH: apt-get install chromium chromium-driver"
    assert reason in done.stdout, done.stdout
    if require_all:
        assert done.returncode != 0 and "FLAGOPS_REQUIRE_ALL=1: required" in done.stdout
        assert " passed" not in done.stdout
    else:
        assert done.returncode == 0 and " skipped" in done.stdout and " passed" not in done.stdout
