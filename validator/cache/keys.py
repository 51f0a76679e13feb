"""Keys: digests of everything that decides a result, so that a different input is a miss."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

from validator.cache.code import read_source, remember
from validator.pyproject_file import PyprojectRead, read_pyproject

FORMAT = 2
"""The packs' format; 2 added the status pack and the verdict (validator/cache/__init__.py)."""
_LIBRARIES = ("pydantic", "pydantic_core", "ruamel.yaml", "ruamel_yaml", "flagops")
SCHEMA = "schema/flags-config.schema.json"
_PACKAGE = Path(__file__).resolve().parent.parent
"""The validator package, whose every source file is part of the context."""


def file_key(context: str, path: str, raw: bytes) -> str:
    """The key of one file's result: its bytes, its path, the context."""
    digest = hashlib.blake2b(raw, digest_size=20)
    digest.update(b"\0" + path.encode("utf-8", "surrogatepass") + b"\0" + context.encode())
    return digest.hexdigest()


def context_digest(root: Path, *, pyproject: PyprojectRead | None = None,
                   package: Path | None = None, version: str | None = None) -> str:
    """Everything besides a file's bytes and path that decides its result.

    `pyproject` is the read the policy is made from (validator/pyproject_file.py): a caller
    that judges with a policy passes the read it loads that policy from, never lets this
    function read the file a second time. The validator's source is read once per process
    and the context remembered with it (code.py): packs are written under it only while that
    source is the code that ran. `version` stands in for the source digest in tests (a
    flagops version change).
    """
    digest = hashlib.blake2b(f"flagops-cache {FORMAT} {sys.version}".encode(), digest_size=20)
    source = None
    if version is not None:
        digest.update(version.encode())
    else:
        source = read_source(package or _PACKAGE)
        digest.update(source.digest)
    read = pyproject if pyproject is not None else read_pyproject(root)
    digest.update(b"\0pyproject.toml\0" + read.digest())
    # not read by validate or build (only its path is written into the config); kept so
    # that a regenerated schema is a new context, as it always was
    digest.update(b"\0" + SCHEMA.encode() + b"\0" + _file_digest(root / SCHEMA))
    libraries = library_versions(_LIBRARIES)
    digest.update("\0".join(libraries).encode())
    context = digest.hexdigest()
    if source is not None:  # a pack is written under it only if that code is what ran
        remember(context, source, libraries)
    return context


def parts_key(context: str, parts: list[str]) -> str:
    """The key of an output made from `parts` (keys, options, findings as JSON) in this
    context: none holds a NUL, so the parts joined by NULs are read back one way only."""
    digest = hashlib.blake2b(context.encode(), digest_size=20)
    digest.update(("\0" + "\0".join(parts)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _file_digest(path: Path) -> bytes:
    """A file's bytes digested; what it is instead when it is not a regular file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return f"unreadable {error.errno}".encode()
    with os.fdopen(descriptor, "rb") as stream:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            return f"mode {mode:o}".encode()
        return hashlib.blake2b(stream.read(), digest_size=20).digest()


def library_versions(prefixes: tuple[str, ...]) -> list[str]:
    """The installed distributions whose names start with one of `prefixes` (those that parse
    and validate, for the context), by their metadata folders' names
    (`pydantic-2.11.7.dist-info`): read with one listing, without importing anything."""
    found: list[str] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found += [name for name in names if name.endswith((".dist-info", ".egg-info"))
                  and name.lower().replace("-", "_").startswith(prefixes)]
    return sorted(found)
