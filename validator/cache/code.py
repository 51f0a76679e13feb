"""The validator's own code and libraries in the context: digested from the files on disk,
and trusted for the code that actually ran only when nothing of it can have changed between.

The context digests every source file of the validator and names the installed parser and
model libraries (keys.py). Python reads a module when it is imported, and most are imported
before the digest is made (the command line, the cache itself) or after it (the model and the
parser load only when a file has to be parsed): a checkout switched to another branch, or a
library upgraded, while a run is under way would file results made by one code under another
code's context, where every later run of that code takes them as its own.

So the source is read once per process (`read_source`), with the status of every file as it was
read, and a pack is written under a context only when `ran_as_digested` holds at the moment of
writing: every source file still has that status, and that status is older than the moment the
validator's first module was read (`validator.STARTED_NS`) by a margin that covers the grain of
file times (`settling_margin`). A write to a file sets its ctime to the current time and
nothing sets it back, so a file whose ctime is older than that moment and unchanged now was
never written while this process ran: each module was imported from the bytes digested. Every
library module already imported must be of a version the context names. Otherwise nothing is
written (the run's own verdict is unaffected, and the next run, settled, writes). A network
filesystem whose server stamps times by a clock behind ours by more than the margin could
defeat the part before the digest, as it can the stat rule (use --no-cache there).

Not covered: Python's bytecode cache. A source edit that keeps the file's size and puts its
mtime back (to the second) leaves a stale `.pyc` that Python runs instead of the source that
was digested; the edit changed the ctime, but the import never read the source. That needs a
deliberate `touch -d` after an edit of equal size; `--no-cache`, or deleting `__pycache__`,
covers it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from validator.cache.stat_keys import RACY_MARGIN_NS, status

_IMPORTED = {"pydantic": "pydantic", "pydantic_core": "pydantic_core",
             "ruamel.yaml": "ruamel_yaml"}
"""The library modules whose versions decide a result, by their distributions' names."""


@dataclass(frozen=True, slots=True)
class SourceRead:
    """The source digest, and each file's status as it was read: (path, status, the newer of
    its mtime and ctime)."""

    digest: bytes
    files: tuple[tuple[str, str, int], ...]


_ELSEWHERE: dict[str, set[str]] = {}
"""The versions of the library modules that parsed files for this process in another one
(validator/parse_beside.py), by module: checked as this process's own imports are."""
_SOURCES: dict[Path, SourceRead] = {}
_MADE: dict[str, tuple[SourceRead, tuple[str, ...]]] = {}
"""The contexts this process made from a source read, with the libraries they name."""


def read_source(package: Path) -> SourceRead:
    """Every source file of the validator, read once per process: a second cache opened in
    the same run (the history states') digests the same bytes the first did."""
    known = _SOURCES.get(package)
    if known is None:
        known = _SOURCES[package] = _read_source(package)
    return known


def _read_source(package: Path) -> SourceRead:
    digest = hashlib.blake2b(digest_size=20)
    files: list[tuple[str, str, int]] = []
    for folder, folders, names in os.walk(package):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".json", ".toml")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, package).encode() + b"\0")
                with open(path, "rb") as stream:
                    info = os.fstat(stream.fileno())
                    digest.update(hashlib.blake2b(stream.read(), digest_size=20).digest())
                files.append((path, status(info), max(info.st_mtime_ns, info.st_ctime_ns)))
    return SourceRead(digest.digest(), tuple(files))


def remember(context: str, source: SourceRead, libraries: list[str]) -> None:
    """Keeps what `context` was made of, for `ran_as_digested` to check when writing."""
    _MADE[context] = (source, tuple(libraries))


def ran_as_digested(context: str, margin_ns: int | None = None) -> bool:
    """Whether the code that ran is the code `context` digested (see the module's docstring).
    A context not made here from a source read (tests give a version instead) has nothing
    to check. `margin_ns` replaces each file's own margin (`settling_margin`) in tests."""
    made = _MADE.get(context)
    if made is None:
        return True
    source, libraries = made
    from validator import STARTED_NS

    for path, kept, newest in source.files:
        try:
            now = status(os.lstat(path))
        except OSError:
            return False
        margin = settling_margin(newest) if margin_ns is None else margin_ns
        if now != kept or newest >= STARTED_NS - margin:
            return False
    return _libraries_match(libraries)


FINE_MARGIN_NS = 100_000_000
"""Where a filesystem stamps files finer than a second, a write's time is the kernel's coarse
clock (a jiffy, at most 10 ms, behind the clock read at start); ten times that is margin."""


def settling_margin(stamp_ns: int) -> int:
    """How much older than the start a file's newest time must be to prove it was not written
    since: the coarse clock's grain when its stamp has sub-second digits, else the racy margin
    of stat_keys.py (a filesystem that keeps whole seconds, or 2 s). The finer margin matters:
    a pipeline that installs flagops and runs it at once would else never write its cache."""
    return FINE_MARGIN_NS if stamp_ns % 1_000_000_000 else RACY_MARGIN_NS


def _libraries_match(libraries: tuple[str, ...]) -> bool:
    """Every library module imported by now is of a version the context names (when the
    context names that distribution at all)."""
    named: dict[str, set[str]] = {}
    for entry in libraries:
        stem = entry.removesuffix(".dist-info").removesuffix(".egg-info")
        dist, _, version = stem.partition("-")
        named.setdefault(dist.lower().replace("-", "_").replace(".", "_"), set()).add(version)
    ran = _ran_versions()
    for module_name, dist in _IMPORTED.items():
        versions = named.get(dist)
        if versions and not ran.get(module_name, set()) <= versions:
            return False
    return True


def _ran_versions() -> dict[str, set[str]]:
    """The versions of each library module that ran for this process: here, and in children."""
    ran = {name: set(versions) for name, versions in _ELSEWHERE.items()}
    for name, version in imported_library_versions().items():
        ran.setdefault(name, set()).add(version)
    return ran


def imported_library_versions() -> dict[str, str]:
    """The version of each library module this process imported (sent by a parsing child)."""
    return {name: str(getattr(sys.modules[name], "__version__", "")) for name in _IMPORTED
            if name in sys.modules}


def note_library_versions(versions: dict[str, str]) -> None:
    """Versions a child parsed with for this process (`imported_library_versions`)."""
    for name, version in versions.items():
        _ELSEWHERE.setdefault(str(name), set()).add(str(version))
