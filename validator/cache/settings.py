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


def safe_folder(directory: Path) -> bool:
    """Creates the folder (private); refuses a symlink, another user's folder, or one that
    others may write to: their entries would be taken for ours."""
    with contextlib.suppress(OSError):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        info = os.lstat(directory)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
