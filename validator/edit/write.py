"""Replacing or deleting one flag file so that readers, and a crash, see the old bytes or the
new ones, never a mix.

The new bytes go to a temporary file in the same folder (so the rename cannot cross file
systems), are flushed to disk (fsync), get the old file's permission bits and are renamed over
it; the folder is synced after. A new file is linked into place, so one that appeared in the
meantime is never overwritten. Just before the rename the old file must still hold the bytes
the edit started from: a change made meanwhile (an editor, another command) is never lost.
Interrupted before the rename, the old file is untouched; any failure removes the temporary.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path

from validator.errors import UserError

PAUSE_VARIABLE = "FLAGOPS_TEST_WRITE_PAUSE"
"""Seconds to wait between the synced temporary file and the rename: lets tests kill the
process inside the one window that matters. Unset outside tests."""


def replace_file(path: Path, data: bytes, *, expected: bytes | None, shown: str) -> None:
    """Writes `data` to `path`; `expected` is what it must still hold (None: no file yet)."""
    try:
        mode = _mode_of(path, expected, shown)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = _create_beside(path)
        try:
            _fill(descriptor, data, mode)
            _pause()
            _require(path, expected, shown)
            _put_in_place(temporary, path, expected, shown)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        _sync_folder(path.parent)
    except OSError as error:
        raise UserError(f"cannot write {shown}: {error.strerror or error}") from None


def delete_file(path: Path, *, expected: bytes, shown: str) -> None:
    try:
        _require(path, expected, shown)
        path.unlink()
        _sync_folder(path.parent)
    except OSError as error:
        raise UserError(f"cannot delete {shown}: {error.strerror or error}") from None


def _mode_of(path: Path, expected: bytes | None, shown: str) -> int | None:
    """The permission bits to keep; None for a new file (the umask decides)."""
    if expected is None:
        return None
    found = os.lstat(path).st_mode
    if not stat.S_ISREG(found):
        raise UserError(f"{shown} is no longer a regular file; not replaced")
    return stat.S_IMODE(found)


def _create_beside(path: Path) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _fill(descriptor: int, data: bytes, mode: int | None) -> None:
    with open(descriptor, "wb") as stream:
        if mode is not None:
            os.fchmod(descriptor, mode)
        stream.write(data)
        stream.flush()
        os.fsync(descriptor)


def _pause() -> None:
    seconds = os.environ.get(PAUSE_VARIABLE)
    if seconds:
        time.sleep(float(seconds))


def _require(path: Path, expected: bytes | None, shown: str) -> None:
    """The file still holds what the edit was computed from."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if expected is None:
            return
        raise UserError(f"{shown} was removed while it was being edited; nothing written") \
            from None
    with os.fdopen(descriptor, "rb") as stream:
        current = stream.read(len(expected or b"") + 1)
    if expected is None:
        raise UserError(f"{shown} appeared while it was being created; nothing written")
    if current != expected:
        raise UserError(f"{shown} changed while it was being edited; nothing written, run "
                        "the command again")


def _put_in_place(temporary: Path, path: Path, expected: bytes | None, shown: str) -> None:
    if expected is not None:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if a file appeared meanwhile; rename would clobber it
    except FileExistsError:
        raise UserError(f"{shown} appeared while it was being created; nothing written") \
            from None


def _sync_folder(folder: Path) -> None:
    """The rename itself is durable once the folder is synced (where the platform allows)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
