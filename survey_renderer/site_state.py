"""What render left in its output folder, kept in flagops's cache folder: a digest of
everything the site is made from, and the identity of every file and folder it wrote (the
folder itself too).

With it a render whose inputs have not changed writes nothing (after checking that the folder
still holds exactly what was written), and one whose inputs changed rewrites only the pages
whose bytes differ. A file's identity is its inode, size, mode and both change times: any
write, rename over it, chmod or touch changes one of them (ctime cannot be set back), so a
folder that anyone touched since is not taken for ours and is replaced whole instead. A
folder's identity is kept alike: a `chmod 700` of a folder kept its files' identities, and a
render in place left the mode a fresh render would not write.
Without a cache folder (CI, --no-cache's FLAGOPS_NO_CACHE) every render replaces the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validator.cache.keys import context_digest, library_versions
from validator.cache.packs import read_kept
from validator.cache.settings import safe_folder

FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("jinja2", "markupsafe")
Identity = tuple[int, int, int, int, int]
"""inode, size, mode, mtime_ns, ctime_ns."""


@dataclass(frozen=True, slots=True)
class SiteState:
    """The inputs' digest of the last render into a folder, and what it left there."""

    key: str
    lines: str
    """What that render printed."""
    files: dict[str, Identity]
    folders: dict[str, Identity]
    """Every folder below the site's own."""
    top: Identity
    """The site's folder's own."""

    def holds_exactly(self, target: Path) -> bool:
        """The folder holds these files and folders, untouched, and nothing else."""
        found = scan(target)
        return found is not None and found == (self.files, self.folders, self.top)


def render_key(root: Path, config: bytes, options: list[str]) -> str:
    """Everything a rendered site is made from: the merged config, the policy and schema
    (pyproject.toml, via the cache's context), the options, flagops's own source (the
    renderer's templates and assets too), the libraries' versions and Python's."""
    digest = hashlib.blake2b(f"flagops-render {FORMAT} {sys.version}".encode(), digest_size=20)
    digest.update(context_digest(root).encode())
    digest.update(_package_digest(_PACKAGE))
    digest.update("\0".join(library_versions(_LIBRARIES)).encode())
    digest.update(json.dumps(options).encode())
    digest.update(hashlib.blake2b(config, digest_size=20).digest())
    return digest.hexdigest()


def load(root: Path, target: Path, cache: Path | None) -> SiteState | None:
    """The state kept in the cache folder for this site folder, or None (no cache, none kept,
    or unreadable: read as the cache reads a pack, never through a link)."""
    path = _state_path(root, target, cache)
    if path is None:
        return None
    try:
        data = read_kept(path)
        return SiteState(str(data["key"]), str(data["lines"]), _identities(data["files"]),
                         _identities(data["folders"]), _identity(data["top"]))
    except (ValueError, KeyError, TypeError, AttributeError):  # not what remember writes
        return None


def remember(root: Path, target: Path, cache: Path | None, key: str, lines: str) -> None:
    """Keeps what the folder holds now, under the inputs' key (best effort: a cache that
    cannot be written only costs the next render its shortcut)."""
    path = _state_path(root, target, cache)
    found = None if path is None else scan(target)  # without a cache, nothing to keep
    if path is None or found is None:
        return
    files, folders, top = found
    text = json.dumps({"key": key, "lines": lines, "files": files, "folders": folders,
                       "top": top}, separators=(",", ":"))
    with contextlib.suppress(OSError):
        from validator.atomic import install

        install(path, text.encode(), 0o600, durable=False)


def forget(root: Path, target: Path, cache: Path | None) -> None:
    """Drops the kept state before the folder changes: a render that stops half-way must not
    leave a state that vouches for a folder it no longer describes."""
    path = _state_path(root, target, cache)
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


def scan(target: Path) -> tuple[dict[str, Identity], dict[str, Identity], Identity] | None:
    """Every regular file and every folder (by its path below the folder, `/`-separated) with
    its identity, and the folder's own; None if the folder is missing, is itself a link
    (moved elsewhere, every file keeps its identity) or holds anything else (a link, a
    FIFO)."""
    files: dict[str, Identity] = {}
    folders: dict[str, Identity] = {}
    pending = [("", str(target))]
    try:
        top = os.stat(target, follow_symlinks=False)
        if not stat.S_ISDIR(top.st_mode):
            return None
        while pending:
            prefix, folder = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = prefix + entry.name
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        folders[name] = identity(info)
                        pending.append((name + "/", entry.path))
                    elif stat.S_ISREG(info.st_mode):
                        files[name] = identity(info)
                    else:
                        return None
    except OSError:
        return None
    return files, folders, identity(top)


def identity(info: os.stat_result) -> Identity:
    return (info.st_ino, info.st_size, info.st_mode, info.st_mtime_ns, info.st_ctime_ns)


def _identities(values: Any) -> dict[str, Identity]:
    return {str(name): _identity(value) for name, value in values.items()}


def _identity(value: Any) -> Identity:
    ino, size, mode, mtime, ctime = (int(part) for part in value)
    return ino, size, mode, mtime, ctime


def _state_path(root: Path, target: Path, directory: Path | None) -> Path | None:
    """Where the folder's state is kept; None without a cache folder, in one the cache would
    not use for the repository at `root` (tracked, or reached through a link), or in the
    site's folder or below it (the state would be published, and the folder never hold
    exactly what the render wrote)."""
    if directory is None or _within(directory, target) or not safe_folder(directory, root):
        return None  # (safe_folder makes the folder: in the site, it is never made)
    # the umask too: a render under another one writes other modes, so it starts afresh
    place = f"{os.path.abspath(target)}\0{umask():o}"
    where = hashlib.blake2b(os.fsencode(place), digest_size=16).hexdigest()
    return directory / f"render-{where}.json"


def _within(path: Path, folder: Path) -> bool:
    """`path` is `folder` or below it, links and `..` resolved."""
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([inner, outer]) == outer


def umask() -> int:
    """The process's umask (reading it means setting it: it is put back at once)."""
    current = os.umask(0)
    os.umask(current)
    return current


def _package_digest(package: Path) -> bytes:
    """Every file of the renderer (modules, templates, assets), by path and bytes."""
    digest = hashlib.blake2b(digest_size=20)
    for folder, folders, names in os.walk(package):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(names):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, package).encode() + b"\0")
            with open(path, "rb") as stream:
                digest.update(hashlib.blake2b(stream.read(), digest_size=20).digest())
    return digest.digest()
