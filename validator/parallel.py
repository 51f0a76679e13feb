"""Files parsed on every core: a cold run spends most of its time in the loader and the model,
file by file and independently, so a pool of processes divides it.

Measured on a 2-core machine at 10,000 flags (load, model and rules of every file): 3.2 to
3.6 s in one process, 1.95 s in a fork pool of two, the results pickled back included. Below
`PARALLEL_FROM` files starting the pool costs more than it saves, so small trees and the
tests' trees stay in one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from validator.check import FileSummary, summarize
from validator.fork_pool import can_fork, cores, fork_pool
from validator.loader import load_or_finding

if TYPE_CHECKING:
    from validator.policy import Policy

PARALLEL_FROM = 1000
_POLICY: list[Policy] = []
"""The policy of the pool's workers, set by the initializer (forked, not pickled per file)."""


def parse_all(files: Sequence[tuple[str, bytes]], policy: Policy) -> list[FileSummary]:
    """Each (path, bytes) to its summary, in order; in a pool when there are enough files."""
    workers = cores()
    if len(files) < PARALLEL_FROM or workers < 2 or not can_fork():
        return [summarize(load_or_finding(raw, path), policy)[0] for path, raw in files]
    chunk = max(50, len(files) // (workers * 8))
    with fork_pool(workers, _start, (policy,)) as pool:
        return list(pool.map(_parse, files, chunksize=chunk))


def _start(policy: Policy) -> None:
    _POLICY[:] = [policy]


def _parse(item: tuple[str, bytes]) -> FileSummary:
    path, raw = item
    return summarize(load_or_finding(raw, path), _POLICY[0])[0]
