"""pyproject.toml, the file that decides every result, read once per run (bounded, never
through a symlink).

A fact that keys the cache must come from the very bytes that were judged. pyproject.toml used
to be read twice, once for the cache's context and once for the policy: a file swapped in
between (a branch switch, an editor's save) filed the results judged by one policy under the
other's context, and later runs with a policy that does not load took them as theirs. So the
file is read here once, and both the context (`validator.cache.keys.context_digest`) and the
policy (`validator.policy.policy_of_read`) are made from this one read.

No YAML, model or cache import here: a warm run reads the file without loading the policy,
and the policy loads without the cache.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from validator.files import MAX_PYPROJECT_BYTES as MAX_PYPROJECT_BYTES

PYPROJECT = "pyproject.toml"


@dataclass(frozen=True, slots=True)
class PyprojectRead:
    """pyproject.toml as one read found it: its bytes, or none (no such file), or why it
    cannot be the policy's source (`problem`: a symlink, a folder, a FIFO, unreadable)."""

    raw: bytes | None
    problem: str | None = None

    def digest(self) -> bytes:
        """What the context holds of it: the bytes' digest, or what stood there instead, so
        that a missing, refused and present file are three different contexts."""
        if self.problem is not None:
            return b"problem " + self.problem.encode("utf-8", "surrogatepass")
        if self.raw is None:
            return b"missing"
        return b"bytes " + hashlib.blake2b(self.raw, digest_size=20).digest()


NOT_REGULAR = "pyproject.toml is not a regular file; the policy must be read from the file itself"


def read_pyproject(root: Path) -> PyprojectRead:
    """One read of root/pyproject.toml, never following a symlink and never blocking on a FIFO:
    at most one byte more than the policy may hold (a larger one is refused by its size)."""
    try:
        descriptor = os.open(root / PYPROJECT, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK |
                             getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return PyprojectRead(None)
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            return PyprojectRead(None, NOT_REGULAR)
        return PyprojectRead(None, _cannot_read(error))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # before fdopen: it refuses folders
            return PyprojectRead(None, NOT_REGULAR)
        with os.fdopen(os.dup(descriptor), "rb") as stream:
            return PyprojectRead(stream.read(MAX_PYPROJECT_BYTES + 1))
    except OSError as error:
        return PyprojectRead(None, _cannot_read(error))
    finally:
        os.close(descriptor)


def _cannot_read(error: OSError) -> str:
    return f"cannot read pyproject.toml: {error.strerror or error}"
