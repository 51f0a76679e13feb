"""Shared fixtures: the repository root and the command line, in process or as a real process."""

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
