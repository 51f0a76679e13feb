"""`flagops render`: the merged config in, the static survey site out."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from survey_renderer import site_state
from survey_renderer.in_place import update_in_place
from survey_renderer.site_state import SiteState, render_key
from validator.cache.settings import Settings
from validator.config_file import MAX_CONFIG_BYTES, config_from_bytes, read_regular_file
from validator.errors import UserError
from validator.reports.escape import escape

if TYPE_CHECKING:  # the model and the templates load only when the site is rendered again
    from validator.build import MergedConfig


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    target = root / args.output
    raw = read_regular_file(root / args.config, args.config, MAX_CONFIG_BYTES)
    cache = Settings.from_args(args).directory
    # Without a cache folder there is no state to match or keep, so no key to make either.
    key = "" if cache is None else render_key(root, raw, [args.config, args.output,
                                                          args.invite_url or ""])
    previous = site_state.load(target, cache)
    if previous is not None and previous.key == key and previous.holds_exactly(target):
        out.write(previous.lines)  # the folder holds what this render would write
        return 0
    with _no_cycle_collection():
        files, lines = _render(root, config_from_bytes(raw, args.config), args)
    site_state.forget(target, cache)
    write_site(files, target, root=root, previous=previous)
    site_state.remember(target, cache, key, lines)
    out.write(lines)
    return 0


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while the config is read and the pages are written: at
    ten thousand flags the config is millions of objects, every collection walked them all,
    and that was a third of the time (reading, validating and rendering make no cycles worth
    collecting before the process ends). The forked page workers inherit this."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _render(root: Path, config: MergedConfig,
            args: argparse.Namespace) -> tuple[dict[str, str], str]:
    """Every file of the site, and what render says it wrote."""
    from survey_renderer.catalog.pages import landing_page, render_catalog
    from survey_renderer.site import DEFAULT_INVITE_URL, FLAG_NAME, render_site
    from validator.policy import load_policy

    catalog = render_catalog(config)
    shown = escape(args.output)
    if FLAG_NAME not in config.flags:  # a team's own flags repository: the page is not theirs
        return {**catalog, "index.html": landing_page()}, (
            f"wrote the flag catalog of {len(config.flags)} flag(s) to {shown}/flags; no "
            f"survey page: it is flagops's own page, and it needs the flag {FLAG_NAME}, "
            f"which {escape(args.config)} does not have\n")
    policy = load_policy(root)
    files = render_site(config, invite_url=args.invite_url or DEFAULT_INVITE_URL,
                        allowed_hosts=policy.invite_link_hosts, bucketing=policy.bucketing)
    return {**files, **catalog}, (
        f"wrote {len(files)} files to {shown} ({config.environment})\n"
        f"wrote the flag catalog of {len(config.flags)} flag(s) to {shown}/flags\n")


SITE_MARKER = ".flagops-site"
"""Marks a folder that render wrote, so that it may replace the folder whole next time."""


def write_site(files: dict[str, str], target: Path, *, root: Path | None = None,
               previous: SiteState | None = None) -> None:
    """The site is built in a fresh folder beside the target, then swapped in whole: nothing
    that was in the target before (a file committed under public/ by a change, a stale page)
    is ever published with it. A target that render did not write is never replaced.

    Only where `previous` says what the target holds, and it holds exactly that, untouched
    since, is the target updated in place instead: the pages whose bytes changed replaced
    one by one (each atomically), the files no longer written removed."""
    _check_replaceable(target)
    if previous is not None and previous.holds_exactly(target):
        try:
            update_in_place(_with_marker(files), target, previous)
        except OSError as error:
            raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None
    try:
        _write_all(fresh, _with_marker(files))
        fresh.chmod(0o777 & ~site_state.umask())
        _swap(fresh, target)
    except OSError as error:
        shutil.rmtree(fresh, ignore_errors=True)
        raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _with_marker(files: dict[str, str]) -> dict[str, str]:
    return {**files, SITE_MARKER: "\n".join(sorted(files)) + "\n"}


def _write_all(fresh: Path, files: dict[str, str]) -> None:
    """Every file into the fresh folder, each folder made once (ten thousand pages share a
    few folders: a mkdir per page cost more than the writes)."""
    made = {""}
    for relative, text in sorted(files.items()):
        folder = os.path.dirname(relative)
        if folder not in made:
            os.makedirs(os.path.join(fresh, folder), exist_ok=True)
            made.add(folder)
        _write_new(os.path.join(fresh, relative), text)


def _write_new(path: str, text: str) -> None:
    """A new file in the fresh folder render made itself (mode 0700, nobody else writes
    there): an exclusive create is enough, and ten thousand pages need it to be cheap, so
    it is written with plain descriptor calls, no file object."""
    data = memoryview(text.encode("utf-8"))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, 0o666)
    try:
        while data:
            data = data[os.write(descriptor, data):]
    finally:
        os.close(descriptor)


def _check_replaceable(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UserError(f"cannot write {escape(str(target))}: not a folder render wrote; give "
                        "--output a new or empty folder")
    if target.is_dir() and any(target.iterdir()) and not (target / SITE_MARKER).is_file():
        raise UserError(f"cannot write {escape(str(target))}: it holds files render did not "
                        "write, and render replaces its output folder whole; give --output a "
                        "new or empty folder")


def _swap(fresh: Path, target: Path) -> None:
    if not target.exists():
        fresh.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    target.rename(old / "site")
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)


