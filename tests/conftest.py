"""Shared fixtures: the repository root and the command line, in process or as a real process;
and `require`, the one way a test depends on something outside the repository."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from validator.cli import main

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FLAGOPS_SHARED_DIR") or REPO_ROOT.parent / "shared")
"""The team's shared folder: ../shared beside the checkout, where CI lays it too."""
REQUIRE_ALL = "FLAGOPS_REQUIRE_ALL"


def require(condition: bool, reason: str) -> None:
    """Skips the test (or, at module level, the module) unless `condition` holds: for what a
    fresh clone does not have, the shared folder or a browser. `reason` says what to install
    or where it comes from. With FLAGOPS_REQUIRE_ALL=1 (.ci/run sets it) the skip is a
    failure instead, so CI cannot pass by skipping."""
    if condition:
        return
    if os.environ.get(REQUIRE_ALL) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ALL}=1: required, not skipped)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def shared(relative: str) -> Path:
    """A path in the shared folder; skips (see `require`) where it is absent."""
    path = SHARED / relative
    require(path.exists(), f"needs {path}: the team's shared folder (../shared beside the "
                           "checkout, or FLAGOPS_SHARED_DIR); a fresh clone has none")
    return path

CliResult = tuple[int, str, str]
"""(exit code, stdout, stderr) of one run of the command line."""

HOOK_SHIPPED = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "validator",
                "survey_renderer", "schema")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """A git repository holding this checkout's code, as pre-commit would clone it, tagged
    v<version> as `flagops init` pins it; (the Repo, that tag)."""
    from importlib.metadata import version

    from gitrepo import Repo

    root = tmp_path_factory.mktemp("hook")
    repo = Repo.create(root / "flagops", root / "home")
    for name in HOOK_SHIPPED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo.path / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, repo.path / name)
    repo.commit("flagops", at=int(time.time()))
    tag = f"v{version('flagops')}"
    repo.git("tag", tag)
    return repo, tag


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by every test of the session, so the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Runs `flagops ARGS` in this process; argparse's SystemExit becomes the exit code."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        out = io.StringIO()
        try:
            code = main(list(args), out=out)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return code, out.getvalue() + captured.out, captured.err

    return run


@pytest.fixture
def run_process(tmp_path: Path) -> Callable[..., CliResult]:
    """Runs `python -m validator ARGS` as a real process, with HOME pointed at a temporary dir."""

    def run(*args: str) -> CliResult:
        env = {**os.environ, "HOME": str(tmp_path / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("FLAGOPS_DEBUG", None)
        done = subprocess.run(
            [sys.executable, "-m", "validator", *args],
            capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=60, check=False,
        )
        return done.returncode, done.stdout, done.stderr

    return run


@pytest.fixture(autouse=True)
def _now_when_the_test_starts(request: pytest.FixtureRequest) -> None:
    """A module that dates its commits minutes before `NOW`, the real clock, read that clock
    once, when it was collected: a test that ran 14 minutes later (the suite on every core of
    a busy machine) had its commit of "a minute ago" judged 15 minutes old, and a soak it must
    refuse had passed. Such a module says `CLOCK_DATED = True`, and its `NOW` is read again
    as each of its tests starts, before its fixtures date anything."""
    module = request.module
    if getattr(module, "CLOCK_DATED", False):
        module.NOW = int(time.time())


@pytest.fixture(autouse=True, scope="session")
def _cache_outside_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """flagops keeps its cache in $XDG_CACHE_HOME/flagops: a folder of the session's, never
    the developer's own (in-process runs and the subprocesses they start alike)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Chrome]:
    """One headless Chromium for every browser test of the session, started as
    `survey_renderer.browser` starts it (only 127.0.0.1, no network, no first-run services)."""
    from survey_renderer.browser import chromium, missing_binaries

    missing = missing_binaries()
    require(not missing, f"{' and '.join(missing)} not on PATH: apt-get install chromium "
                         "chromium-driver (.ci/run does)")
    with chromium() as browser:
        yield browser
