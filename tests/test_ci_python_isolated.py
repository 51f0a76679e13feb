"""Every CI file runs Python with -I where the working folder is the checkout: `python -m pip`
looks for `pip` in the working folder first, so a merge request that adds a `pip/` folder
ran its own code in the gate's job, in place of pip, before the gate (with the job's token),
and could put a `flagops` of its own on PATH that passes everything. The scaffold's templates,
the repository's own CI files and the job script are read here, and a real `python -m pip`
is shown to run a checkout's `pip/` where `python -I -m pip` does not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI_FILES = sorted([ROOT / ".gitlab-ci.yml", ROOT / ".ci/validate-flags",
                   *(ROOT / ".github/workflows").glob("*.yml"),
                   *(ROOT / "validator/scaffold/templates").glob("*.yml")])
"""Not .ci/run: the test job runs the change's own code by design (its tests)."""
PYTHON_MODULE = re.compile(r"\bpython3?((?:\s+-[A-Za-z]+)*)\s+-m\s+(\S+)")


def _module_runs(path: Path) -> list[tuple[str, str]]:
    return [(flags, module) for flags, module in PYTHON_MODULE.findall(path.read_text("utf-8"))]


@pytest.mark.parametrize("path", CI_FILES, ids=[str(p.relative_to(ROOT)) for p in CI_FILES])
def test_every_python_module_run_in_ci_is_isolated(path: Path) -> None:
    runs = _module_runs(path)
    assert all("-I" in flags.split() for flags, _ in runs), runs


def test_the_files_checked_run_python_at_all() -> None:
    """The check above reads real lines: each job file installs flagops with `python -I -m`."""
    assert all(_module_runs(path) for path in CI_FILES
               if path.name in (".gitlab-ci.yml", "flagops.yml", "validate-flags")), CI_FILES


def test_python_m_pip_runs_a_checkouts_pip_folder_and_python_i_does_not(
        tmp_path: Path) -> None:
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip/__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pip/__main__.py").write_text("print('the checkout ran')\n", encoding="utf-8")
    plain = subprocess.run([sys.executable, "-m", "pip", "--version"], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    isolated = subprocess.run([sys.executable, "-I", "-m", "pip", "--version"], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
    assert plain.stdout.strip() == "the checkout ran"
    assert isolated.returncode == 0 and "the checkout ran" not in isolated.stdout
