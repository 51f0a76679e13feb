"""Reading the merged config back: the one way `eval`, `render`, the catalog and the OpenFeature
provider read the file `flagops build` wrote (a core module, so no reader imports a command)."""

from __future__ import annotations

import gc
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from validator.errors import UserError

if TYPE_CHECKING:  # the model loads only when a config is read, not for read_regular_file
    from validator.build import MergedConfig

SCHEMA_PATH = "schema/flags-config.schema.json"
"""The merged config's schema, relative to the root (written by `build --write-schema`)."""
MAX_CONFIG_BYTES = 128 * 1024 * 1024
"""Far above any merged config, far below a memory's worth: a flag takes a few hundred bytes,
and its summary (its history above all) about 3 KB, some 30 MB at 10,000 flags."""


def read_config(path: Path, shown: str) -> MergedConfig:
    """The file `flagops build` wrote, read back for `eval` and `render`."""
    return config_from_bytes(read_regular_file(path, shown, MAX_CONFIG_BYTES), shown)


def config_from_bytes(raw: bytes, shown: str) -> MergedConfig:
    """The merged config in bytes read already (render digests them first, to skip a render
    whose inputs have not changed).

    The bytes are validated as they are, without a str of the whole file: at 10,000 flags with
    their histories that str was 74 MB (a few non-ASCII characters make every character two
    bytes), and the parser then read a UTF-8 copy of it. pydantic's JSON parser refuses bytes
    that are not UTF-8 (outside a string such a byte is not JSON, and every string is checked),
    so a config it accepts decodes to the same text. Whatever it refuses is decoded first, so
    that the refusal says the same either way: not UTF-8 (with the byte), or the first error
    (tests/test_render_config.py holds both)."""
    from validator.build import parse_config

    try:
        return parse_config(raw, shown)
    except UserError:
        pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"cannot read {shown}: not UTF-8 (byte {error.start})") from None
    return parse_config(text, shown)


MERGED_CONFIG = "a merged config written by `flagops build`"


def read_regular_file(path: Path, shown: str, limit: int, *, what: str = MERGED_CONFIG) -> bytes:
    """At most `limit` bytes of a regular file. Anything else is refused before it is read: a
    FIFO would block forever and /dev/zero never ends. O_NONBLOCK and a second look at the
    opened file keep a path swapped for a FIFO in between from blocking either. `what` the
    file is, for the refusals' words."""
    try:
        _require_regular(os.stat(path).st_mode, shown)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        hint = "; run `flagops build` first" if what == MERGED_CONFIG else ""
        raise UserError(f"{shown} not found{hint}") from None
    except OSError as error:
        raise UserError(f"cannot read {shown}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as stream:
        _require_regular(os.fstat(descriptor).st_mode, shown)
        try:
            raw = stream.read(limit + 1)
        except OSError as error:
            raise UserError(f"cannot read {shown}: {error.strerror or error}") from None
    if len(raw) > limit:
        raise UserError(f"{shown} is larger than {limit // (1024 * 1024)} MiB; {what} is "
                        "far smaller")
    return raw


def _require_regular(mode: int, shown: str) -> None:
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, device or socket"
        raise UserError(f"{shown} is {what}, not a regular file")


MAX_EVENT_BYTES = 16 * 1024 * 1024
"""A CI's event file (GitHub's GITHUB_EVENT_PATH): far above any real one."""


def event_object(path: Path, shown: str) -> dict[str, Any]:
    """A CI's event file, JSON that flagops did not write, as an object ({} for any other
    JSON value); one line when it cannot be read: not a regular file, too large, not UTF-8,
    not JSON, or nested deeper than the parser follows (json.loads raises RecursionError
    there, which is no ValueError). `ci github` and `plan --comment` read it alike."""
    raw = read_regular_file(path, shown, MAX_EVENT_BYTES, what="a CI's event file")
    try:
        found = _without_collection(json.loads, raw)
    except RecursionError:
        raise UserError(f"{shown} is not JSON flagops can read: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise UserError(f"{shown} is not JSON: {error}") from None
    return found if isinstance(found, dict) else {}


def _without_collection(load: Callable[[bytes], Any], raw: bytes) -> Any:
    """`load(raw)` with the cycle collector paused: nested a thousand levels deep, the parser
    runs at the edge of the recursion limit, and a collection there ran other objects'
    finalizers (a finished subprocess, a closed generator) with no stack left: each failed
    with a RecursionError of its own, reported as an unraisable exception."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return load(raw)
    finally:
        if paused:
            gc.enable()


def file_start(path: Path, limit: int) -> bytes | None:
    """The first `limit` bytes of `path` when it is a regular file and no symlink, else None.
    For small files the repository holds (GitLab's VERSION): a merge request may make one a
    symlink to /dev/zero, which never ends, and a FIFO in its place blocks an open for
    reading; O_NOFOLLOW and O_NONBLOCK refuse both before a byte is read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # a folder, a FIFO, a device
            return None
        return os.read(descriptor, limit)
    except OSError:
        return None
    finally:
        os.close(descriptor)
