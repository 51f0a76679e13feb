"""Replacing or deleting one flag file so that readers, and a crash, see the old bytes or the
new ones, never a mix.

The new bytes go in place through `validator.atomic` (a synced temporary file beside the
old one, with its permission bits, renamed over it). A new file is linked into place, so one
that appeared in the meantime is never overwritten. Just before the rename the old file must
still hold the bytes the edit started from: a change made meanwhile (an editor, another
command) is never lost. Two flagops commands make that check and their rename one after the
other, holding the folder's lock (an editor takes none: its save is only caught when it lands
before the check). Interrupted before the rename, the old file is untouched; any failure
removes the temporary.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from validator.atomic import TargetAppeared, install, sync_folder
from validator.errors import UserError

PAUSE_VARIABLE = "FLAGOPS_TEST_WRITE_PAUSE"
"""Seconds to wait between the last check of the old bytes and the rename: lets tests kill the
process inside the one window that matters, or hold two commands there. Unset outside tests."""


def replace_file(path: Path, data: bytes, *, expected: bytes | None, shown: str) -> None:
    """Writes `data` to `path`; `expected` is what it must still hold (None: no file yet)."""
    try:
        mode = _mode_of(path, expected, shown)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _folder_held(path.parent):
            install(path, data, mode, exclusive=expected is None,
                    just_before=lambda: _last_look(path, expected, shown))
    except TargetAppeared:
        raise UserError(f"{shown} appeared while it was being created; nothing written") \
            from None
    except OSError as error:
        raise UserError(f"cannot write {shown}: {error.strerror or error}") from None


def _last_look(path: Path, expected: bytes | None, shown: str) -> None:
    _require(path, expected, shown)
    _pause()  # after the check: a test holds two commands inside the window the lock closes


def delete_file(path: Path, *, expected: bytes, shown: str) -> None:
    try:
        with _folder_held(path.parent):
            _require(path, expected, shown)
            path.unlink()
        sync_folder(path.parent)
    except OSError as error:
        raise UserError(f"cannot delete {shown}: {error.strerror or error}") from None


@contextmanager
def _folder_held(folder: Path) -> Iterator[None]:
    """The folder's exclusive lock (flock on the folder itself: no lock file in flags/, and the
    folder stays while its files are renamed over), held from the last check to the rename:
    without it two commands each found the bytes they started from, and both said they wrote
    while one write was lost. Where the file system takes no such lock (NFS wants a
    descriptor open for writing, which a folder has none of) the edit goes on without it, as
    before; one held past LOCK_WAIT_S (a stopped command) is a refusal, never a hang."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                             | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        yield  # a folder that cannot be opened to read (but can be written): no lock
        return
    try:
        _lock(descriptor, folder)
        yield
    finally:
        os.close(descriptor)


LOCK_WAIT_S = 30.0
_NO_LOCK_HERE = frozenset({errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL,
                           errno.EACCES})


def _lock(descriptor: int, folder: Path) -> None:
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise UserError(f"another command has held {folder}'s lock for over "
                                f"{LOCK_WAIT_S:.0f} s (a flagops edit that stopped?); nothing "
                                "written, run the command again") from None
            time.sleep(0.05)
        except OSError as error:
            if error.errno in _NO_LOCK_HERE:
                return  # no lock on this file system: the last check alone, as before
            raise


def _mode_of(path: Path, expected: bytes | None, shown: str) -> int | None:
    """The permission bits to keep; None for a new file (the umask decides)."""
    if expected is None:
        return None
    found = os.lstat(path).st_mode
    if not stat.S_ISREG(found):
        raise UserError(f"{shown} is no longer a regular file; not replaced")
    return stat.S_IMODE(found)


def _pause() -> None:
    seconds = os.environ.get(PAUSE_VARIABLE)
    if seconds:
        time.sleep(float(seconds))


def _require(path: Path, expected: bytes | None, shown: str) -> None:
    """The file still holds what the edit was computed from. Opened without blocking and
    read only when it is a regular file: a FIFO there would wait for a writer forever."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        if expected is None:
            return
        raise UserError(f"{shown} was removed while it was being edited; nothing written") \
            from None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UserError(f"{shown} is there and is not a regular file; nothing written")
        current = stream.read(len(expected or b"") + 1)
    if expected is None:
        raise UserError(f"{shown} appeared while it was being created; nothing written")
    if current != expected:
        raise UserError(f"{shown} changed while it was being edited; nothing written, run "
                        "the command again")
