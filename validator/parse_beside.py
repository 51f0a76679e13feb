"""A warm run's few changed files parsed in a forked process while this one decodes the
cached results of all the others.

With ten files changed among 10,000, a warm `validate` spends its time on two independent
things: decoding the 9,990 stored summaries, and, for the ten, importing the parser, pydantic
and the models (about 0.2 s, most of the run's CPU) before parsing them. One process does them
one after the other; a child forked as soon as the changed files are read does the second on
another core, and this process never imports the model at all. The child is forked when the
first changed file is found, imports while this process goes on looking for the others, and
is then sent them all.

The child sends its summaries back pickled through a pipe, with the versions of the libraries
it parsed with (the cache writes its packs only when they are the ones its context names:
validator/cache/code.py). A child that fails, dies or says anything unexpected gives nothing,
and those files are parsed here as they would have been: where a file was parsed never
changes its summary. A run that fails or is interrupted kills and reaps its child; one killed
outright (SIGTERM or SIGKILL to it alone) leaves the child to finish its imports and find no
one to answer (end of file on its pipe): it exits within a fraction of a second, having
written nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from validator.check import FileSummary

if TYPE_CHECKING:
    from validator.policy import Policy

HITS_FROM = 500
"""Cached results to decode meanwhile, at least: below that the fork costs what it saves."""
PIPE_HOLDS = 65_536
"""What a Linux pipe holds unread by default: the changed files are sent only if they fit, so
that sending them never waits for the child to be done importing. More are parsed here."""

Parsed = dict[tuple[str, bytes], FileSummary]
"""Each (path, bytes) the child parsed, to its summary."""


@dataclass(slots=True)
class Beside:
    """The forked child, the ends of the pipes to and from it, and the files it was sent,
    until its results are taken."""

    pid: int
    sending: int | None
    reading: int | None
    files: Sequence[tuple[str, bytes]] = ()
    """The files sent to the child, none until they are."""
    reaped: bool = False
    taken: Parsed | None = field(default=None)

    def parse(self, files: Sequence[tuple[str, bytes]]) -> bool:
        """Sends the child the files to parse (once), if they fit in the pipe at once: this
        process must not wait for the child to be ready to read them. False: not sent (the
        child is ended), to be parsed here."""
        import pickle

        payload = pickle.dumps(list(files), protocol=pickle.HIGHEST_PROTOCOL)
        if len(payload) > PIPE_HOLDS or self.sending is None:
            self.close()
            return False
        self.files = files
        with contextlib.suppress(OSError):  # the child is gone: `take` finds it so
            _write_all(self.sending, payload)
        self.shut("sending")
        return True

    def take(self) -> Parsed:
        """The child's summaries of the files sent (waiting for them); empty when it gave none
        that can be used. Asked again, the same answer."""
        if self.taken is None:
            self.taken = _received(self)
        return self.taken

    def close(self) -> None:
        """Ends a child whose results are not wanted (nothing changed, or this run failed,
        even halfway through `take`)."""
        if self.taken is None:
            self.taken = {}
            _end(self, signal.SIGKILL)

    def shut(self, end: str) -> None:
        """Closes one end of the pipes ("sending" or "reading"), once: a number closed twice
        may by then be another file's."""
        descriptor = getattr(self, end)
        if descriptor is not None:
            setattr(self, end, None)
            os.close(descriptor)


def worth_it(hits: int) -> bool:
    """Whether to parse changed files beside decoding about `hits` cached results."""
    return hits >= HITS_FROM and hasattr(os, "fork") and _cores() >= 2


def start(policy: Callable[[], Policy]) -> Beside | None:
    """A child that imports the parser and loads `policy()`, then parses what it is sent;
    None if none forks."""
    asking, sending = os.pipe()
    reading, answering = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        for end in (asking, sending, reading, answering):
            os.close(end)
        return None
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        _child((sending, reading), asking, answering, policy)
    os.close(asking)
    os.close(answering)
    return Beside(pid, sending, reading)


def _child(parents: tuple[int, int], asking: int, answering: int,
           policy: Callable[[], Policy]) -> None:  # pragma: no cover - runs in the child
    """Imports, parses what it is sent, writes the pickled results, and leaves without running
    anything of the parent's (no atexit handler, no flush of the parent's buffered output)."""
    status = 1
    try:
        for end in parents:
            os.close(end)
        import pickle

        from validator.cache.code import imported_library_versions
        from validator.check import summarize
        from validator.loader import load_or_finding

        chosen = policy()
        files = pickle.loads(_read_all(asking))
        parsed = [summarize(load_or_finding(raw, path), chosen)[0] for path, raw in files]
        _write_all(answering, pickle.dumps((imported_library_versions(), parsed),
                                           protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)


def _write_all(end: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(end, view):]


def _read_all(end: int) -> bytes:
    chunks: list[bytes] = []
    while chunk := os.read(end, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _received(beside: Beside) -> Parsed:
    try:
        payload = _read_all(beside.reading) if beside.reading is not None else b""
    except OSError:
        payload = b""
    if not _end(beside, None):
        return {}
    return _unpickled(payload, beside.files)


def _unpickled(payload: bytes, files: Sequence[tuple[str, bytes]]) -> Parsed:
    """The child's results, when they are exactly what it sends; its library versions noted."""
    import pickle

    from validator.cache.code import note_library_versions

    try:
        versions, parsed = pickle.loads(payload)
    except Exception:  # a torn payload can fail in any way unpickling can
        return {}
    if type(versions) is not dict or type(parsed) is not list or len(files) != len(parsed) \
            or not all(type(summary) is FileSummary for summary in parsed):
        return {}
    note_library_versions(versions)
    return {(path, raw): summary for (path, raw), summary in zip(files, parsed, strict=True)}


def _end(beside: Beside, kill: signal.Signals | None) -> bool:
    """Reaps the child (killed first if asked), once; whether it exited with status 0."""
    beside.shut("sending")
    beside.shut("reading")
    if beside.reaped:
        return False
    beside.reaped = True
    if kill is not None:
        with contextlib.suppress(ProcessLookupError):  # it already ended
            os.kill(beside.pid, kill)
    try:
        _, status = os.waitpid(beside.pid, 0)
    except ChildProcessError:  # pragma: no cover - reaped elsewhere (a SIGCHLD handler)
        return False
    return os.waitstatus_to_exitcode(status) == 0


def _cores() -> int:
    from validator.fork_pool import cores

    return cores()
