"""Work on every core, in forked processes: the one way flagops starts a pool (cold validation
and build, the history walk of `status` and `build --history`, the catalog's pages).

Forked workers inherit what the parent holds (the policy, the blobs, the validated config), so
nothing large is pickled to them. A worker that dies (the kernel's out-of-memory killer, a
signal, a crash in a C extension) fails the run with one line: multiprocessing's own Pool
waits forever for the task the dead worker held, so a CI job would hang until its timeout.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from validator.errors import UserError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

DIED = "a worker process ended abruptly (killed by a signal, or out of memory)"


def cores() -> int:
    """The processors this process may run on, at most 8 (more did not pay)."""
    try:
        return min(len(os.sched_getaffinity(0)), 8)
    except AttributeError:  # pragma: no cover - not Linux
        return min(os.cpu_count() or 1, 8)


def can_fork() -> bool:
    """Asked only where a pool would pay: most runs never import multiprocessing."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def fork_pool(workers: int, initializer: Callable[..., None] | None = None,
              initargs: tuple[Any, ...] = ()) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` forked processes. Results are to be taken inside the `with`: a
    dead worker shows there, as a `UserError` (exit 1, one line). Leaving the `with` early
    (an error here) cancels the work no worker has started, and waits for the rest."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=initializer, initargs=initargs)
    try:
        yield pool
    except BrokenProcessPool:
        raise UserError(DIED) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
