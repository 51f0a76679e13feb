"""`flagops build`: validate the tree as `flagops validate` does, then write the merged config."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path
from typing import TextIO

from validator.build import (
    SCHEMA_PATH,
    MergedConfig,
    build_config,
    config_schema_text,
    config_text,
    parse_config,
)
from validator.cache import Cache
from validator.check import Checked
from validator.commands.validate import cache_settings, check_tree, report_of
from validator.errors import UserError
from validator.model import Environment
from validator.output import atomic_write, emit
from validator.policy import load_policy
from validator.reports.escape import escape


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    if args.write_schema:
        atomic_write(root / SCHEMA_PATH, config_schema_text(), root=root)
        out.write(f"wrote {SCHEMA_PATH}\n")
        return 0
    cache = Cache.open(cache_settings(args), root, with_data=True)
    checked = check_tree(root, load_policy(root), [], cache=cache, with_data=True)
    report = report_of(checked, root)
    if report.findings:  # warnings are shown too; errors stop the build
        emit(report, [("text", None)], sys.stderr if not report.errors else out)
    if report.errors:
        return 1
    target = root / args.output
    environment = Environment(args.environment)
    text, warnings, count = _config(checked, cache, environment, schema_ref(root, target))
    for warning in warnings:
        print(f"flagops: warning: {escape(warning)}", file=sys.stderr)
    atomic_write(target, text, root=root)
    out.write(f"wrote {escape(args.output)}: {count} flag(s) for {environment}\n")
    return 0


def _config(checked: Checked, cache: Cache | None, environment: Environment,
            ref: str) -> tuple[str, list[str], int]:
    """The merged config's text, its warnings and its size: from the cache when no flag file,
    option or context changed since it was made (then no flag is validated again)."""
    key = cache.derived_key("build", environment.value, ref) if cache is not None else ""
    stored = cache.derived("build", key) if cache is not None else None
    if isinstance(stored, list) and len(stored) == 3 and isinstance(stored[0], str) and \
            isinstance(stored[1], list) and all(isinstance(w, str) for w in stored[1]) and \
            type(stored[2]) is int:
        return stored[0], stored[1], stored[2]
    config, warnings = build_config(checked.flag_values(), environment, schema_ref=ref)
    made = config_text(config), warnings, len(config.flags)
    if cache is not None:
        cache.keep_derived("build", key, list(made))
    return made


def schema_ref(root: Path, target: Path) -> str:
    """The schema's path relative to the output file, as editors resolve `$schema`."""
    schema = (root / SCHEMA_PATH).resolve()
    return Path(os.path.relpath(schema, target.resolve().parent)).as_posix()


MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""Far above any merged config (a flag takes a few hundred bytes), far below a memory's worth."""


def read_config(path: Path, shown: str) -> MergedConfig:
    """The file `flagops build` wrote, read back for `eval` and `render`."""
    raw = read_regular_file(path, shown, MAX_CONFIG_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"cannot read {shown}: not UTF-8 (byte {error.start})") from None
    return parse_config(text, shown)


def read_regular_file(path: Path, shown: str, limit: int) -> bytes:
    """At most `limit` bytes of a regular file. Anything else is refused before it is read: a
    FIFO would block forever and /dev/zero never ends. O_NONBLOCK and a second look at the
    opened file keep a path swapped for a FIFO in between from blocking either."""
    try:
        _require_regular(os.stat(path).st_mode, shown)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserError(f"{shown} not found; run `flagops build` first") from None
    except OSError as error:
        raise UserError(f"cannot read {shown}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as stream:
        _require_regular(os.fstat(descriptor).st_mode, shown)
        try:
            raw = stream.read(limit + 1)
        except OSError as error:
            raise UserError(f"cannot read {shown}: {error.strerror or error}") from None
    if len(raw) > limit:
        raise UserError(f"{shown} is larger than {limit // (1024 * 1024)} MiB; a merged config "
                        "written by `flagops build` is far smaller")
    return raw


def _require_regular(mode: int, shown: str) -> None:
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, device or socket"
        raise UserError(f"{shown} is {what}, not a regular file")
