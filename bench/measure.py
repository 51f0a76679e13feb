"""Timing and peak memory of one real process, repeated: medians over runs, never a single run.

Each run is a fresh grandchild, started and reaped with `os.wait4` by the tiny spawn.py, which
returns that process's own resource usage. `getrusage(RUSAGE_CHILDREN)` here would report the
highest RSS of every child so far, and a direct child would inherit this runner's high-water
mark (see spawn.py). The peak includes the command's own children (git), as
`/usr/bin/time -f %M` does; the wall time is taken in spawn.py around the command alone.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SPAWN = Path(__file__).resolve().with_name("spawn.py")


class CommandFailed(Exception):
    """The measured command exited non-zero: its numbers would describe an error path."""

    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        super().__init__(f"exit {code}: {last}")
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr


@dataclass(frozen=True, slots=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_kb: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What the table shows: median and min wall time, median CPU time, the highest peak RSS."""

    median_s: float
    min_s: float
    cpu_median_s: float
    peak_rss_mb: float
    runs_s: tuple[float, ...]

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Summary:
        walls = tuple(sample.wall_s for sample in samples)
        return cls(
            median_s=statistics.median(walls),
            min_s=min(walls),
            cpu_median_s=statistics.median(sample.cpu_s for sample in samples),
            peak_rss_mb=max(sample.peak_rss_kb for sample in samples) / 1024,
            runs_s=walls,
        )


BYTE_COMPILE = ("import compileall, os, survey_renderer, validator\n"
                "for package in (validator, survey_renderer):\n"
                "    compileall.compile_dir(os.path.dirname(package.__file__), quiet=1)\n")


def byte_compile(interpreter: str) -> None:
    """Byte-compiles flagops's own packages for `interpreter`, as `pip install` does.

    An editable install (the benchmark's usual one) is not compiled when installed, and an
    environment with PYTHONDONTWRITEBYTECODE set (containers and CI images often set it)
    never writes the bytecode either: every run then compiled each module changed since the
    last compile from source again, up to 0.08 s a run of code no installed flagops runs."""
    subprocess.run([interpreter, "-c", BYTE_COMPILE], check=True, capture_output=True)


def run_once(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Runs argv under spawn.py, which times it; output goes to files so no pipe can stall it."""
    with tempfile.TemporaryDirectory(prefix="flagops-bench-") as scratch:
        result = Path(scratch) / "sample"
        with (
            (Path(scratch) / "stdout").open("wb") as out,
            (Path(scratch) / "stderr").open("w+b") as err,
        ):
            subprocess.run(
                [sys.executable, "-I", str(SPAWN), str(result), *argv],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                check=True,
            )
            wall, cpu, rss, code = result.read_text(encoding="ascii").split()
            if int(code) != 0:
                err.seek(0)
                raise CommandFailed(argv, int(code), err.read().decode("utf-8", "replace"))
    return Sample(float(wall), float(cpu), int(rss))


def capture(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    """stderr of one unmeasured run, for notes such as `-X importtime`."""
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CommandFailed(argv, done.returncode, done.stderr)
    return done.stderr


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    cumulative_ms: float


def top_imports(importtime_stderr: str, count: int = 8) -> list[Import]:
    """Top-level entries of `python -X importtime` (name not indented), by cumulative time."""
    found: list[Import] = []
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if name.startswith(" ") and not name.startswith("  "):
            found.append(Import(name.strip(), int(cumulative) / 1000))
    return sorted(found, key=lambda item: item.cumulative_ms, reverse=True)[:count]
