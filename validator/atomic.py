"""The one way flagops puts a whole file in place, so that readers, and a crash, see the old
bytes or the new ones, never a mix.

The new bytes go to a temporary file in the target's folder (so the rename cannot cross file
systems), with the permission bits asked for, and are flushed to disk (fsync) before the
rename; the folder is synced after, which makes the rename itself durable. Both writers use it:
`output.atomic_write` (reports and generated files) and `edit.write` (flag files, which also
check that nobody changed the file meanwhile).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path

NEW_FILE_MODE = 0o666
"""The kernel takes the umask off, as for any file a shell redirection creates."""


class TargetAppeared(FileExistsError):
    """An exclusive install found a file at the target: one appeared since the caller looked."""


def install(target: Path, data: bytes, mode: int | None, *,
            just_before: Callable[[], None] | None = None, exclusive: bool = False,
            durable: bool = True) -> None:
    """Writes `data` to `target` through a synced temporary file; `mode` None leaves a new
    file's bits to the umask. `just_before` runs between the synced temporary and the rename
    (a last check may still refuse); `exclusive` links instead of renaming, so a file that
    appeared meanwhile is never replaced (TargetAppeared). The temporary never outlives this.
    `durable=False` skips the syncs, not the rename: for output rebuilt from its input anyway
    (the rendered site's pages, thousands at a time), where a sync per file cost seconds."""
    descriptor, temporary = create_beside(target)
    try:
        _fill(descriptor, data, mode, durable)
        if just_before is not None:
            just_before()
        if exclusive:
            try:
                os.link(temporary, target)  # unlike a rename, fails if a file is there
            except FileExistsError as error:
                raise TargetAppeared(*error.args) from None
        else:
            os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    if durable:
        sync_folder(target.parent)


def create_beside(target: Path) -> tuple[int, Path]:
    """A new file in the target's folder, named after it (its name cut short enough that the
    temporary's name is still a legal one)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = target.with_name(f".{target.name[:200]}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(temporary, flags, NEW_FILE_MODE), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target.parent))


def _fill(descriptor: int, data: bytes, mode: int | None, durable: bool = True) -> None:
    with open(descriptor, "wb") as stream:
        if mode is not None:
            os.fchmod(descriptor, mode)
        stream.write(data)
        stream.flush()
        if durable:
            os.fsync(descriptor)


def sync_folder(folder: Path) -> None:
    """Syncs a folder, where the platform allows: a rename or an unlink in it is then durable."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
