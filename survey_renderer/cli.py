"""`flagops render`: the merged config in, the static survey site out."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
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
    from survey_renderer.catalog.page_pool import PageSink
    from survey_renderer.catalog.parts import Parts
    from validator.build import MergedConfig


_LAST_CONFIG: list[MergedConfig] = []
"""The config last rendered, kept past the command's return: the `flagops` command exits
without the interpreter's teardown (validator.cli.console), and freeing the config's objects
one by one when `run` returned took 0.2 s at 10,000 flags with their histories."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    target = root / args.output
    raw = read_regular_file(root / args.config, args.config, MAX_CONFIG_BYTES)
    cache = Settings.from_args(args).directory
    # Without a cache folder there is no state to match or keep, so no key to make either.
    key = "" if cache is None else render_key(root, raw, [args.config, args.output,
                                                          args.invite_url or ""])
    previous = site_state.load(root, target, cache)
    if previous is not None and previous.key == key and previous.holds_exactly(target):
        out.write(previous.lines)  # the folder holds what this render would write
        return 0
    in_place = previous is not None and previous.holds_exactly(target)
    lines = None if in_place else _render_parts(root, raw, args, target, cache)
    if lines is None:
        with _no_cycle_collection():
            config = config_from_bytes(raw, args.config)
            _LAST_CONFIG[:] = [config]
            if in_place and previous is not None:
                files, lines = _render(root, config, args)  # compared with the folder
                site_state.forget(root, target, cache)
                _update(files, target, previous)
            else:
                site_state.forget(root, target, cache)
                lines = _render_fresh(root, config, args, target)
    site_state.remember(root, target, cache, key, lines)
    out.write(lines)
    return 0


class _Refused(Exception):
    """A part of the config was refused (or held other flags than its lines said): the
    config is to be read whole, which says why, or renders it the usual way."""


def _render_parts(root: Path, raw: bytes, args: argparse.Namespace, target: Path,
                  cache: Path | None) -> str | None:
    """A fresh render whose workers validate the config's flags, each a part of the bytes,
    and draw and write their pages (catalog.page_pool.draw_parts): what render said, or None
    where the config is to be validated whole and rendered as before (few flags, another
    layout, or a part refused: the whole then gives the refusal, and nothing is written).
    An error meanwhile (an output that cannot be written, a worker that died) is reported
    only after the whole config is found valid, as when it was validated first."""
    from survey_renderer.catalog.page_pool import cut_for_workers
    from validator.build import parse_config

    parts = cut_for_workers(raw)
    if parts is None:
        return None
    try:
        rest = parse_config(parts.rest, args.config)
    except UserError:
        return None
    try:
        return _render_fresh_parts(root, raw, parts, rest, args, target, cache)
    except _Refused:
        return None
    except UserError:
        config_from_bytes(raw, args.config)  # its refusal first, as before
        raise


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while the config is read and the pages are written: at
    ten thousand flags the config is millions of objects, every collection walked them all,
    and that was a third of the time (reading, validating and rendering make no cycles worth
    collecting before the process ends). The forked page workers inherit this.

    The objects made meanwhile are then frozen (`gc.freeze`): left to the collector, the first
    collection after it is enabled again walked them all, 0.45 s at 10,000 flags with their
    histories. They form no cycles, so counting references still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _render_fresh(root: Path, config: MergedConfig, args: argparse.Namespace,
                  target: Path) -> str:
    """The site drawn into a fresh folder, then swapped in (as `write_site` does): each flag
    page is written by the process that drew it (catalog.page_pool), the rest here."""
    from survey_renderer.catalog.pages import FOLDER, page_paths

    _check_replaceable(target)
    with _fresh_folder(target) as fresh:
        os.mkdir(os.path.join(fresh, FOLDER))
        with _descriptor(fresh) as folder:
            files, lines = _render(root, config, args, sink=partial(_write_page, folder))
        _write_all(fresh, files)
        _write_new(os.path.join(fresh, SITE_MARKER), _marker([*files, *page_paths(config)]))
    return lines


def _render_fresh_parts(root: Path, raw: bytes, parts: Parts, rest: MergedConfig,
                        args: argparse.Namespace, target: Path, cache: Path | None) -> str:
    """`_render_fresh`, with the flags validated and their pages drawn and written by the
    workers, each from its part of the bytes; `rest` is the config without its flags."""
    from survey_renderer.catalog.index import choices_of
    from survey_renderer.catalog.page_pool import draw_parts
    from survey_renderer.catalog.pages import (
        FOLDER,
        INDEX,
        assets,
        by_path,
        index_around,
        index_files,
        page_path,
        shared_of,
    )
    from survey_renderer.site import FLAG_NAME

    _check_replaceable(target)
    with _fresh_folder(target) as fresh:
        os.mkdir(os.path.join(fresh, FOLDER))
        with _descriptor(fresh) as folder:
            drawn = draw_parts(raw, parts, shared_of(rest),
                               by_path(partial(_write_page, folder)), keep=(FLAG_NAME,))
        if drawn is None:
            raise _Refused
        choices, count = choices_of(*drawn.choices), len(drawn.names)
        around = index_around(rest, choices, count)
        if around is None:  # the rows' mark in a filter's value: the index drawn as text
            catalog = index_files(rest, drawn.rows.decode(), choices, count)
        else:
            catalog = assets()
            before, after = around
            _write_data(os.path.join(fresh, INDEX), before.encode(), drawn.rows, after.encode())
        config = rest.model_copy(update={"flags": drawn.kept})  # the survey page's flag
        files, lines = _site(root, config, args, catalog, count)
        _write_all(fresh, files)
        _write_new(os.path.join(fresh, SITE_MARKER),
                   _marker({*files, INDEX, *map(page_path, drawn.names)}))
        site_state.forget(root, target, cache)  # valid: the folder is about to change
    return lines


def _write_page(folder: int, relative: str, text: str) -> None:
    """A flag page, by its path relative to the fresh folder's descriptor: ten thousand
    opens each resolved the whole path of the folder first (15 % of the opens' time)."""
    _write_data(relative, text.encode("utf-8"), folder=folder)


@contextmanager
def _descriptor(folder: Path) -> Iterator[int]:
    """A descriptor of the folder, for the processes that write into it (the pool's workers
    inherit it), closed when the `with` ends."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                         | getattr(os, "O_CLOEXEC", 0))
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _render(root: Path, config: MergedConfig, args: argparse.Namespace,
            sink: PageSink | None = None) -> tuple[dict[str, str], str]:
    """Every file of the site (but the flag pages given to `sink`), and what render says it
    wrote."""
    from survey_renderer.catalog.pages import render_catalog

    return _site(root, config, args, render_catalog(config, sink=sink), len(config.flags))


def _site(root: Path, config: MergedConfig, args: argparse.Namespace,
          catalog: dict[str, str], count: int) -> tuple[dict[str, str], str]:
    """The catalog's files drawn already, with the survey page's (from the config's
    `FLAG_NAME`, the one flag read here), and what render says it wrote of `count` flags."""
    from survey_renderer.catalog.pages import landing_page
    from survey_renderer.site import DEFAULT_INVITE_URL, FLAG_NAME, render_site
    from validator.policy import load_policy

    shown = escape(args.output)
    if FLAG_NAME not in config.flags:  # a team's own flags repository: the page is not theirs
        return {**catalog, "index.html": landing_page()}, (
            f"wrote the flag catalog of {count} flag(s) to {shown}/flags; no "
            f"survey page: it is flagops's own page, and it needs the flag {FLAG_NAME}, "
            f"which {escape(args.config)} does not have\n")
    policy = load_policy(root)
    files = render_site(config, invite_url=args.invite_url or DEFAULT_INVITE_URL,
                        allowed_hosts=policy.invite_link_hosts, bucketing=policy.bucketing)
    return {**files, **catalog}, (
        f"wrote {len(files)} files to {shown} ({config.environment})\n"
        f"wrote the flag catalog of {count} flag(s) to {shown}/flags\n")


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
        _update(files, target, previous)
        return
    with _fresh_folder(target) as fresh:
        _write_all(fresh, _with_marker(files))


def _update(files: dict[str, str], target: Path, previous: SiteState) -> None:
    """The folder, which holds exactly what `previous` says, updated in place."""
    try:
        update_in_place(_with_marker(files), target, previous)
    except OSError as error:
        raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None


@contextmanager
def _fresh_folder(target: Path) -> Iterator[Path]:
    """A new folder beside the target to write the site into; swapped in for the target
    when the `with` ends, removed instead if anything in it fails."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None
    try:
        yield fresh
        fresh.chmod(0o777 & ~site_state.umask())
        _swap(fresh, target)
    except OSError as error:
        shutil.rmtree(fresh, ignore_errors=True)
        raise UserError(f"cannot write {escape(str(target))}: {error.strerror}") from None
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _with_marker(files: dict[str, str]) -> dict[str, str]:
    return {**files, SITE_MARKER: _marker(files)}


def _marker(paths: Iterable[str]) -> str:
    """The marker's text: every file render wrote there, one per line."""
    return "\n".join(sorted(paths)) + "\n"


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
    _write_data(path, text.encode("utf-8"))


def _write_data(path: str, *pieces: bytes, folder: int | None = None) -> None:
    """`_write_new` of text already in UTF-8, in pieces (written one after the other, never
    joined); `path` relative to `folder`'s descriptor when there is one."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, 0o666, dir_fd=folder)
    try:
        for piece in pieces:
            data = memoryview(piece)
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


