"""The flag pages on every core: each page depends on its flag alone, and at ten thousand
flags writing them out was most of a render's CPU time after the config was read.

The pool is forked after the config is read and validated, so the workers inherit it (the
flags are not pickled to them): one worker per core renders the pages and sends back their
text (a fraction of rendering it) while this process renders the index. With every flag's
history a page costs more than its row: with a fixed share of the pages here and one worker
fewer, this process finished early and a core stood idle while it waited; one worker per
core took 0.84 times the wall time at 10,000 flags. Below `PARALLEL_FROM` pages with a
chart starting the pool costs more than it saves, so small catalogs, configs built without
--history and the tests' stay in one
process; tests/test_catalog_pages.py checks that both ways give the same pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from survey_renderer.catalog.flag_html import Shared, flag_page
from validator.build import FlagState
from validator.parallel import cores

PARALLEL_FROM = 1000
_JOB: list[tuple[Mapping[str, FlagState], Shared]] = []
"""The flags and the shared part of the pages, set before the fork, read by the workers."""


@contextmanager
def flag_pages(flags: Mapping[str, FlagState], shared: Shared, *,
               parallel_from: int | None = None) -> Iterator[Callable[[], list[str]]]:
    """Starts the pages in the background; the function it gives returns every flag's page
    in the order of `flags`. Work done inside the `with` (the index) runs meanwhile."""
    names = list(flags)
    workers = cores()
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    if _charted(flags) < least or workers < 2 or not _can_fork():
        yield lambda: _pages(flags, shared, names)
        return
    import multiprocessing

    size = max(1, -(-len(names) // (workers * 4)))
    _JOB[:] = [(flags, shared)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(
                _render, [names[start:start + size] for start in range(0, len(names), size)],
                chunksize=1)
            yield lambda: [page for chunk in pending.get() for page in chunk]
    finally:
        _JOB.clear()


def _charted(flags: Mapping[str, FlagState]) -> int:
    """The pages with a summary (a chart, a history): one without is a few lines, and ten
    thousand of them took less time than starting the pool and sending them back."""
    return sum(1 for state in flags.values() if state.summary is not None)


def _pages(flags: Mapping[str, FlagState], shared: Shared, names: Sequence[str]) -> list[str]:
    return [flag_page(name, flags[name], shared) for name in names]


def _render(names: Sequence[str]) -> list[str]:
    flags, shared = _JOB[0]
    return _pages(flags, shared, names)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()
