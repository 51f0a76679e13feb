"""The flag pages on every core: each page depends on its flag alone, and at ten thousand
flags writing them out was most of a render's CPU time after the config was read.

The pool is forked after the config is read and validated, so the workers inherit it (the
flags are not pickled to them): one worker per core renders the pages while this process
renders the index. Given a sink (render's writer into its fresh folder), the workers write
the pages themselves: sending them back cost about as much as writing them (at 10,000 flags
with their histories, 70 MB pickled and unpickled), and this process wrote them all after.
With every flag's history a page costs more than its row: with a fixed share of the pages here
and one worker fewer, this process finished early and a core stood idle while it waited; one
worker per core took 0.84 times the wall time at 10,000 flags. Below `PARALLEL_FROM` pages
with a chart starting the pool costs more than it saves, so small catalogs, configs built
without --history and the tests' stay in one process; tests/test_catalog_pages.py checks that
both ways give the same pages, and tests/test_render_incremental.py the same folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeAlias

from survey_renderer.catalog.flag_html import Shared, flag_page
from validator.build import FlagState
from validator.fork_pool import can_fork, cores, fork_pool

PARALLEL_FROM = 1000
PageSink: TypeAlias = Callable[[str, str], None]
"""Takes a flag's name and its page, in whichever process drew the page."""
_JOB: list[tuple[Mapping[str, FlagState], Shared, PageSink | None]] = []
"""The flags, the shared part of the pages and the sink, set before the fork, read by the
workers."""


@contextmanager
def flag_pages(flags: Mapping[str, FlagState], shared: Shared, *, sink: PageSink | None = None,
               parallel_from: int | None = None) -> Iterator[Callable[[], list[str]]]:
    """Starts the pages in the background; the function it gives returns every flag's page
    in the order of `flags` (none with a sink: each went to it). Work done inside the `with`
    (the index) runs meanwhile."""
    names = list(flags)
    workers = cores()
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    if _charted(flags) < least or workers < 2 or not can_fork():
        yield lambda: _pages(flags, shared, names, sink)
        return
    size = max(1, -(-len(names) // (workers * 4)))
    _JOB[:] = [(flags, shared, sink)]
    try:
        with fork_pool(workers) as pool:
            pending = [pool.submit(_render, names[start:start + size])
                       for start in range(0, len(names), size)]
            yield lambda: [page for chunk in pending for page in chunk.result()]
    finally:
        _JOB.clear()


def _charted(flags: Mapping[str, FlagState]) -> int:
    """The pages with a summary (a chart, a history): one without is a few lines, and ten
    thousand of them took less time than starting the pool and sending them back."""
    return sum(1 for state in flags.values() if state.summary is not None)


def _pages(flags: Mapping[str, FlagState], shared: Shared, names: Sequence[str],
           sink: PageSink | None) -> list[str]:
    if sink is None:
        return [flag_page(name, flags[name], shared) for name in names]
    for name in names:
        sink(name, flag_page(name, flags[name], shared))
    return []


def _render(names: Sequence[str]) -> list[str]:
    flags, shared, sink = _JOB[0]
    return _pages(flags, shared, names, sink)

