"""Where the cache lives, and whether that folder may be trusted with our entries."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the cache lives, or None for no cache; from the command line and environment."""

    directory: Path | None

    @classmethod
    def of(cls, option: str | None, disabled: bool,
           environ: Mapping[str, str] | None = None) -> Settings:
        """--cache-dir, else FLAGOPS_CACHE_DIR, else the user's cache folder, except in CI.

        In CI (CI set and not false) the cache is used only when named: a runner's home may
        be shared between projects, and a cache restored from another pipeline is input
        that the change under review may have written.
        """
        env = os.environ if environ is None else environ
        if disabled or env.get("FLAGOPS_NO_CACHE", "").lower() not in _FALSE:
            return cls(None)
        named = option or env.get("FLAGOPS_CACHE_DIR")
        if named:
            return cls(Path(named))
        if env.get("CI", "").lower() not in _FALSE:
            return cls(None)
        return cls(_user_cache(env))

    @classmethod
    def from_args(cls, args: object) -> Settings:
        """From a command's parsed options (`--cache-dir`, `--no-cache`; absent: not given)."""
        return cls.of(getattr(args, "cache_dir", None), bool(getattr(args, "no_cache", False)))


def _user_cache(env: Mapping[str, str]) -> Path | None:
    xdg = env.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is invalid and ignored
        return Path(xdg) / "flagops"
    home = env.get("HOME", "")
    return Path(home) / ".cache" / "flagops" if os.path.isabs(home) else None


def safe_folder(directory: Path, root: Path | None = None) -> bool:
    """Creates the folder (private); refuses one whose entries could be someone else's.

    Refused: a folder that is a symlink, another user's, or writable by others (their entries
    would be taken for ours); one reached through a symlink in any component below the
    repository `root` (or, named by a relative path, in any component as named), since a
    committed symlink such as `.cache -> cachedata` leads a folder the CI job restores into
    one the change under review wrote; and one that lies in the repository's tracked tree,
    whose packs are whatever was committed. `root` is the tree the cache is for.
    """
    if not _no_symlink_on_the_way(directory, root):
        return False
    with contextlib.suppress(OSError):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            and _no_symlink_on_the_way(directory, root)  # again: made between the looks?
            and not _tracked(directory, root))


def _components(directory: Path, root: Path | None) -> list[str]:
    """The paths whose every component is checked, shortest first: those below `root` when
    the folder is named under it, else those of a relative name as given (from the working
    folder); an absolute folder elsewhere is the user's own choice, checked itself alone."""
    named = os.path.abspath(directory)
    if root is not None:
        base = os.path.abspath(root)
        if os.path.commonpath([base, named]) == base and named != base:
            parts = Path(os.path.relpath(named, base)).parts
            return [os.path.join(base, *parts[: i + 1]) for i in range(len(parts))]
    if not directory.is_absolute():
        parts = Path(os.path.normpath(directory)).parts
        return [os.path.join(*parts[: i + 1]) for i in range(len(parts)) if parts[i] != ".."]
    return [named]


def _no_symlink_on_the_way(directory: Path, root: Path | None) -> bool:
    """No component is a symlink; one not made yet is none (it is made a real folder)."""
    for path in _components(directory, root):
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return False
        except FileNotFoundError:
            return True
        except OSError:
            return False
    return True


def _tracked(directory: Path, root: Path | None) -> bool:
    """Whether git tracks anything at or under the folder (as it really is, symlinks
    resolved, and as named): packs committed there are the committer's, not ours. Only a
    folder inside the repository's work tree is asked about (one git call); when git cannot
    answer, the folder is taken as tracked."""
    if root is None:
        return False
    base, real = os.path.realpath(root), os.path.realpath(directory)
    named, lexical = os.path.abspath(root), os.path.abspath(directory)
    inside = [os.path.relpath(path, top) for path, top in ((real, base), (lexical, named))
              if os.path.commonpath([top, path]) == top]
    if not inside:
        return False
    from validator.git import GitError, NotARepository, git

    try:
        listed = git(Path(base), "--literal-pathspecs", "ls-files", "-z", "--",
                     *dict.fromkeys(inside))
    except NotARepository:
        return False
    except GitError:
        return True
    return bool(listed)
