"""Shared fixtures: the repository root and the command line, in process or as a real process;
and `require`, the one way a test depends on something outside the repository."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from validator.cli import main

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
