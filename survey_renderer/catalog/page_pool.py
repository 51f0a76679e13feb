"""The flag pages and the index's rows on every core: each depends on its flag alone, and at ten
thousand flags drawing them was most of a render's CPU time after the config was read.

A fresh render (`draw_parts`) forks the pool before the config's flags are validated: each
task validates one part of the config's bytes (catalog.parts), draws those flags' pages and
index rows, and one worker per core takes the tasks. Validating the whole config first, here,
took a quarter of the render on one core, and the workers then copied the memory pages of its
objects that they touched (reference counts): 0.4 s more system time, and each worker's
memory was the whole config's. A render that updates a folder in place, or whose config is
not cut, validates it whole and forks after (`draw`): the workers inherit it (the flags are
not pickled to them) and each task draws a slice of the flags and the rows of the same share
of them by name.
Given a sink (render's writer into its fresh folder), the workers write the pages themselves:
sending them back cost about as much as writing them (at 10,000 flags with their histories,
70 MB pickled and unpickled), and this process wrote them all after. Only the rows (about
900 bytes a flag) come back. This process draws nothing meanwhile: when it drew the index
beside two workers, three processes shared two cores, the tasks waited for a core, and its
writes to the config's objects (reference counts) copied the memory pages it shared with the
workers (a probe at 10,000 flags with their histories, on a busy machine: the pages took
2.7 s of wall time beside the index drawn here, 1.2 s without it). Below `PARALLEL_FROM`
pages with a chart starting the pool costs more than it saves, so small catalogs, configs
built without --history and the tests' stay in one process; tests/test_catalog_pages.py
checks that both ways give the same pages and rows, tests/test_render_incremental.py the
same folder, and tests/test_render_parts.py the same folder and refusals from the parts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from typing import Any, NamedTuple, TypeAlias

from pydantic import TypeAdapter, ValidationError

from survey_renderer.catalog.flag_html import Shared, flag_page
from survey_renderer.catalog.index import ChoiceSets, choice_sets
from survey_renderer.catalog.index_html import row_markup
from survey_renderer.catalog.markup import page_frame
from survey_renderer.catalog.parts import Parts, cut, names_hold
from validator.build import FlagState, MergedConfig
from validator.fork_pool import can_fork, cores, fork_pool

PARALLEL_FROM = 1000
PARTS_PER_WORKER = 16
"""The config's bytes are cut in this many parts a worker: a part's flags are freed before the
next part is validated, so smaller parts mean less memory taken from the kernel (at 10,000
flags with their histories, 16 against 4: system time 0.83 s against 1.03 s, the whole
render's CPU time 3.5 % less), and the two workers finish closer together."""
PageSink: TypeAlias = Callable[[str, str], None]
"""Takes a flag's name and its page, in whichever process drew the page."""


class Drawn(NamedTuple):
    """What the flags' part of the catalog came to."""

    pages: list[str]
    """Every flag's page, in the order of the flags; none with a sink (each went to it)."""
    rows: str
    """The index's rows, every flag's by name, each ending in a newline."""


class _Job(NamedTuple):
    flags: Mapping[str, FlagState]
    shared: Shared
    sink: PageSink | None
    names: list[str]
    """The flags' names in their order: the pages'."""
    by_name: list[str]
    """Sorted: the rows'."""


_JOB: list[_Job] = []
"""The job, set before the fork, read by the workers."""


def draw(flags: Mapping[str, FlagState], shared: Shared, *, sink: PageSink | None = None,
         parallel_from: int | None = None) -> Drawn:
    """Every flag's page (given to `sink` when there is one) and the index's rows."""
    names = list(flags)
    job = _Job(flags, shared, sink, names, sorted(names))
    workers = cores()
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    if _charted(flags) < least or workers < 2 or not can_fork():
        return _part(job, 0, len(names))
    size = max(1, -(-len(names) // (workers * 4)))
    _JOB[:] = [job]
    page_frame()  # made once, before the fork: the workers inherit it
    try:
        with fork_pool(workers) as pool:
            pending = [pool.submit(_render_slice, start, start + size)
                       for start in range(0, len(names), size)]
            parts = [chunk.result() for chunk in pending]
    finally:
        _JOB.clear()
    return Drawn([page for part in parts for page in part.pages],
                 "".join(part.rows for part in parts))


def _charted(flags: Mapping[str, FlagState]) -> int:
    """The pages with a summary (a chart, a history): one without is a few lines, and ten
    thousand of them took less time than starting the pool and sending them back."""
    return sum(1 for state in flags.values() if state.summary is not None)


def _part(job: _Job, start: int, stop: int) -> Drawn:
    """The pages of the flags from `start` to `stop` in their order, and the rows of as
    many by name."""
    flags, shared, sink = job.flags, job.shared, job.sink
    as_of = shared.as_of_moment
    rows = "".join([row_markup(name, flags[name], as_of) for name in job.by_name[start:stop]])
    return Drawn(_pages(flags, shared, job.names[start:stop], sink), rows)


def _pages(flags: Mapping[str, FlagState], shared: Shared, names: Sequence[str],
           sink: PageSink | None) -> list[str]:
    if sink is None:
        return [flag_page(name, flags[name], shared) for name in names]
    for name in names:
        sink(name, flag_page(name, flags[name], shared))
    return []


def _render_slice(start: int, stop: int) -> Drawn:
    return _part(_JOB[0], start, stop)


class PartsDrawn(NamedTuple):
    """What the flags' part of the catalog came to, drawn from the config's bytes cut in
    parts (catalog.parts): the pages went to the sink."""

    names: list[str]
    """Every flag's name, in the order of the flags."""
    rows: bytes
    """The index's rows, every flag's by name, in UTF-8: this process writes them as they
    are (cli), where joining, copying and encoding them as text took 0.1 s."""
    choices: list[ChoiceSets]
    """Each part's share of the index's filters."""
    kept: dict[str, FlagState]
    """The flags asked for by name, where the config has them."""


class _PartDrawn(NamedTuple):
    names: list[str]
    rows: list[bytes]
    """In the order of `names`, in UTF-8 (encoded here, on every core)."""
    choices: ChoiceSets
    kept: dict[str, FlagState]


class _PartsJob(NamedTuple):
    raw: bytes
    parts: Parts
    shared: Shared
    sink: PageSink
    keep: Collection[str]


_PARTS: list[_PartsJob] = []
"""The job of `draw_parts`, set before the fork, read by the workers."""


def cut_for_workers(raw: bytes, *, parallel_from: int | None = None) -> Parts | None:
    """The config's bytes cut for a pool's workers to validate and draw, or None where that
    would not pay (few pages with a chart, one core, no fork) or the bytes are not in the
    layout `build` writes: the config is then validated whole, here."""
    workers = cores()
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    if workers < 2 or not _found(raw, b'"summary": {', least) or not can_fork():
        return None  # the count: about the pages with a summary (_charted), unvalidated
    return cut(raw, workers * PARTS_PER_WORKER)


def _found(raw: bytes, needle: bytes, times: int) -> bool:
    """`needle` is in `raw` at least `times` times: looked for only until then (counting every
    summary of 37 MB took 30 ms, before any worker starts)."""
    at = -1
    for _ in range(times):
        at = raw.find(needle, at + 1)
        if at < 0:
            return False
    return True


def draw_parts(raw: bytes, parts: Parts, shared: Shared, sink: PageSink,
               keep: Collection[str] = ()) -> PartsDrawn | None:
    """Every flag's page, given to `sink` in the worker that validated the flag from its
    part of the bytes, and the index's rows; None, with some pages given to the sink maybe,
    when a part is refused or does not hold the flags found at its lines (the config is then
    to be read whole: its refusal says where)."""
    ready_to_fork()
    page_frame()  # made once, before the fork: the workers inherit it
    _PARTS[:] = [_PartsJob(raw, parts, shared, sink, keep)]
    try:
        with fork_pool(cores()) as pool:
            pending = [pool.submit(_render, index) for index in range(len(parts.spans))]
            drawn = [part.result() for part in pending]
    finally:
        _PARTS.clear()
    if any(part is None for part in drawn):
        return None
    done = [part for part in drawn if part is not None]
    rows = sorted(pair for part in done for pair in zip(part.names, part.rows, strict=True))
    return PartsDrawn([name for part in done for name in part.names],
                      b"".join(row for _, row in rows), [part.choices for part in done],
                      {name: state for part in done for name, state in part.kept.items()})


def _render(index: int) -> _PartDrawn | None:
    """One part of the config: its flags validated, their pages drawn and given to the sink,
    their rows drawn; None, with no page drawn, if the part is refused or its names do not
    hold (catalog.parts). The flags are freed when it returns, and the next part reuses their
    memory: kept until the worker's end, each part's took memory the kernel had to give
    (page faults: 0.3-0.5 s more system time at 10,000 flags with their histories) for less
    than freeing them cost (about 0.1 s)."""
    job = _PARTS[0]
    flags = part_flags(job.raw, job.parts, index)
    if flags is None:
        return None
    names = list(flags)
    _pages(flags, job.shared, names, job.sink)
    as_of = job.shared.as_of_moment
    return _PartDrawn(names,
                      [row_markup(name, flags[name], as_of).encode() for name in names],
                      choice_sets(flags),
                      {name: flags[name] for name in job.keep if name in flags})


def ready_to_fork() -> None:
    """What every worker's `part_flags` needs, made once here: forked, they inherit it."""
    _flags_adapter()


def part_flags(raw: bytes, parts: Parts, index: int) -> dict[str, FlagState] | None:
    """The flags of one part of the config, validated as the whole config validates them, or
    None where the part is refused or its names do not hold (catalog.parts)."""
    start, stop = parts.spans[index]
    try:
        flags = _flags_adapter().validate_json(b"{" + raw[start:stop] + b"}")
    except ValidationError:
        return None
    firsts = parts.firsts
    after = firsts[index + 1] if index + 1 < len(firsts) else None
    return flags if names_hold(list(flags), firsts[index], after) else None


@cache
def _flags_adapter() -> TypeAdapter[dict[str, FlagState]]:
    """`MergedConfig.flags`'s own type, names and all: a part is validated as the whole
    config validates its flags."""
    annotation: Any = MergedConfig.model_fields["flags"].annotation
    return TypeAdapter(annotation)
