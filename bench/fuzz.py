"""The long fuzz run (issue 10): `python bench/fuzz.py [--examples 100000] [--seed N]`.

Runs the properties of tests/test_fuzz.py and tests/test_fuzz_outputs.py (the suite runs them
with a few hundred examples each) with many more examples, each target in a fresh process so
that its peak RSS is its own, two at a time by default (`--jobs`). Every example runs under a
time guard (`--example-timeout`, a SIGALRM that fails the example and so shows its input) and
an address-space limit (`--memory-mb`). Prints per target: examples run, failures, elapsed
time, the slowest example, peak RSS; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from test_fuzz import Target  # noqa: E402


@dataclass(frozen=True, slots=True)
class Outcome:
    target: str
    examples: int
    failure: str | None
    seconds: float
    slowest_ms: float
    peak_rss_mb: float


def all_targets() -> dict[str, Target]:
    import test_fuzz
    import test_fuzz_outputs

    return {**test_fuzz.TARGETS, **test_fuzz_outputs.TARGETS}


class _Slow(Exception):
    """An example ran past the time guard."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _Slow("example exceeded the time guard")


def _guarded(check: Callable[[Any], None], timeout: float,
             stats: dict[str, float]) -> Callable[[Any], None]:
    """The property, counted and timed, with the alarm armed around each example."""

    def run(value: Any) -> None:
        stats["examples"] += 1
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            check(value)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            stats["slowest"] = max(stats["slowest"], time.perf_counter() - started)

    return run


def run_target(name: str, examples: int, seed_value: int, timeout: float,
               memory_mb: int) -> Outcome:
    """One target in this process (a fresh one: see `main`)."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    target = all_targets()[name]
    stats = {"examples": 0.0, "slowest": 0.0}
    options = settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                       suppress_health_check=list(HealthCheck))
    property_ = given(target.strategy)(_guarded(target.check, timeout, stats))
    test: Callable[[], None] = seed(seed_value)(options(property_))
    started = time.perf_counter()
    failure = None
    try:
        test()
    except Exception as error:  # every failure is a finding of the run
        failure = "".join(traceback.format_exception_only(error)).strip()[-4000:]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Outcome(name, int(stats["examples"]), failure, time.perf_counter() - started,
                   stats["slowest"] * 1000, peak)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = args.targets or sorted(all_targets())
    started = time.perf_counter()
    _header(args)
    jobs = [(name, args.examples, args.seed, args.example_timeout, args.memory_mb)
            for name in names]
    outcomes = []
    with multiprocessing.get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool:
        for outcome in pool.imap_unordered(_run_job, jobs):  # each row as soon as it is done
            print(_row(outcome), flush=True)
            outcomes.append(outcome)
    _footer(outcomes, time.perf_counter() - started)
    return 1 if any(outcome.failure for outcome in outcomes) else 0


def _run_job(job: tuple[str, int, int, float, int]) -> Outcome:
    return run_target(*job)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000, help="per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="targets run at once")
    parser.add_argument("--example-timeout", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address space per target")
    parser.add_argument("targets", nargs="*", help="default: every target")
    return parser


def _header(args: argparse.Namespace) -> None:
    print(f"flagops fuzz: seed {args.seed}, up to {args.examples:,} examples per target, "
          f"{args.jobs} at a time; Python {platform.python_version()}, {platform.machine()}")
    print("| target | examples | failures | time s | slowest example ms | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)


def _row(o: Outcome) -> str:
    return (f"| {o.target} | {o.examples:,} | {1 if o.failure else 0} | {o.seconds:.0f} | "
            f"{o.slowest_ms:.0f} | {o.peak_rss_mb:.0f} |")


def _footer(outcomes: Sequence[Outcome], seconds: float) -> None:
    total = sum(o.examples for o in outcomes)
    print(f"total: {total:,} examples in {seconds:.0f} s wall")
    for o in outcomes:
        if o.failure:
            print(f"\nFAILED {o.target}:\n{o.failure}")


if __name__ == "__main__":
    sys.exit(main())
