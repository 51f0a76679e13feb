"""Where reports and generated files go: the terminal, or files written atomically.

Whatever the environment refuses (a folder or a file where a folder should be, a full disk, a
FIFO nobody reads) is a `UserError` naming the path, never a traceback. A file is replaced by
renaming a finished temporary file over it, so readers never see half of one; what cannot be
renamed over (a device, a FIFO, a descriptor such as /dev/stdout) is written through instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from validator.atomic import install
from validator.errors import UsageError, UserError
from validator.reports import Report, renderer
from validator.reports.escape import escape

_DESCRIPTOR = re.compile(r"/dev/(stdout|stderr|fd/\d+)|/proc/[^/]+/fd/\d+")
"""Names of an open descriptor: the shell's file behind them must be written, never replaced."""


def atomic_write(path: Path, text: str, *, root: Path | None = None,
                 flag_file: bool = False) -> None:
    """Writes `text` (UTF-8) to `path`.

    `root` is the repository: a symlink inside it that leads outside is refused, since the
    repository, not the user, chose where it points. Without `root`, the nearest folder above
    `path` that holds flags/ or .git counts as the repository. Nothing goes into its git
    folder, and into flags/ only a flag file (`flag_file`: `init`'s example, an import).
    """
    shown = _shown(path)
    if Path(path).name == "-":  # `-o -` meant the terminal: a file named `-` never is
        raise UserError("cannot write -: give a file's path (no output of flagops is written to "
                        "the terminal by -o)")
    try:
        if _writes_through(path):
            _write_through(path, text.encode("utf-8"), shown)
        else:
            _replace(_target(path, root, shown, flag_file), text.encode("utf-8"), shown)
    except OSError as error:
        raise UserError(f"cannot write {shown}: {error.strerror or error}") from None


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to the current folder when below it."""
    with contextlib.suppress(ValueError, OSError):  # elsewhere, or no current folder
        path = path.relative_to(Path.cwd()) if path.is_absolute() else path
    return escape(str(path))


def _writes_through(path: Path) -> bool:
    """A character device or FIFO (even behind a symlink), or a descriptor's name."""
    if _DESCRIPTOR.fullmatch(os.path.abspath(path)):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:  # absent, or a dangling link: the replacing path reports what is wrong
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _write_through(path: Path, data: bytes, shown: str) -> None:
    """Opens without creating or truncating; O_NONBLOCK so that a FIFO without a reader
    fails (ENXIO) instead of waiting forever, then blocking writes so that none is partial."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise UserError(f"cannot write {shown}: no process reads this FIFO") from None
        raise
    try:
        os.set_blocking(descriptor, True)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view):]
    finally:
        os.close(descriptor)


def _target(path: Path, root: Path | None, shown: str, flag_file: bool) -> Path:
    """The file to replace: `path` itself, or where its symlinks lead (the links stay links)."""
    lexical = Path(os.path.abspath(path))
    real = Path(os.path.realpath(lexical))
    repository = Path(os.path.abspath(root)) if root is not None else _repository_of(lexical)
    where = _where_links_lead(repository, lexical, real) \
        if repository is not None and real != lexical else None
    if where is not None:
        raise UserError(f"cannot write {shown}: a symbolic link leads {where}, to "
                        f"{escape(str(real))}; not replaced")
    kept = _kept_out(repository, real, flag_file) if repository is not None else None
    if kept is not None:
        raise UserError(f"cannot write {shown}: {kept}, where no output of flagops belongs")
    return real


def _kept_out(repository: Path, real: Path, flag_file: bool) -> str | None:
    """The repository's folders an output never goes to, by any path: its git folder (`-o
    .git/HEAD` broke the clone) and, but for a flag file, flags/ (`-o flags/demo.yml`
    replaced a flag file with the merged config)."""
    home = Path(os.path.realpath(repository))
    if real.is_relative_to(home / ".git"):
        return "it is in the repository's git folder"
    if not flag_file and real.is_relative_to(home / "flags"):
        return "it is in flags/, which holds flag files only"
    return None


def _where_links_lead(repository: Path, lexical: Path, real: Path) -> str | None:
    """Where a path the repository holds leads that no output may go, or None. Outside the
    repository: the repository, not the user, chose where its links point (a path outside it
    was the user's own choice, and may go through any link the user likes). Into its `.git`:
    no output of flagops belongs there, and a merge request can commit such a link where CI
    writes (its plan, its reports); followed, the job's markdown replaced `.git/config` or a
    hook of a checkout that a runner may keep for the next job (GitLab's fetch strategy)."""
    if not lexical.is_relative_to(repository):
        return None
    home = Path(os.path.realpath(repository))
    if not real.is_relative_to(home):
        return "outside the repository"
    if real.is_relative_to(home / ".git"):
        return "into the repository's git folder"
    return None


def _repository_of(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / "flags").is_dir() or (folder / ".git").exists():
            return folder
    return None


def _replace(target: Path, data: bytes, shown: str) -> None:
    """New files follow the umask, a replaced file keeps its mode (see validator.atomic)."""
    mode = _mode_to_keep(target, shown)
    _make_folder(target.parent, shown)
    install(target, data, mode)


def _mode_to_keep(target: Path, shown: str) -> int | None:
    """The permission bits of the regular file at `target`; None if there is none yet."""
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(mode):
        raise UserError(f"cannot write {shown}: it is a folder")
    if not stat.S_ISREG(mode):
        raise UserError(f"cannot write {shown}: it is not a regular file; not replaced")
    return stat.S_IMODE(mode)


def _make_folder(folder: Path, shown: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next(p for p in (folder, *folder.parents) if os.path.lexists(p))
        raise UserError(f"cannot write {shown}: {escape(str(blocking))} is not a folder") from None


def pair_reports(
    formats: Sequence[str] | None, outputs: Sequence[str] | None
) -> list[tuple[str, str | None]]:
    """Pairs the i-th --format with the i-th --output; the text report always reaches a screen."""
    formats, outputs = list(formats or []), list(outputs or [])
    if len(outputs) > len(formats):
        raise UsageError("each --output needs a --format before it")
    pairs: list[tuple[str, str | None]] = [
        (name, outputs[index] if index < len(outputs) else None)
        for index, name in enumerate(formats)
    ]
    to_terminal = [name for name, target in pairs if target is None]
    if len(to_terminal) > 1:
        raise UsageError(f"only one report can go to the terminal, got {', '.join(to_terminal)}")
    if not to_terminal:
        pairs.insert(0, ("text", None))
    return pairs


def emit(report: Report, pairs: Sequence[tuple[str, str | None]], out: TextIO) -> None:
    for name, target in pairs:
        text = renderer(name)(report)
        if target is None:
            out.write(text)
        else:
            atomic_write(Path(target), text)
    if any(name == "text" and target is None for name, target in pairs):
        from validator.reports.text import summary

        for note in report.notes:
            print(f"flagops: {escape(note)}", file=sys.stderr)
        print(summary(report), file=sys.stderr)
