"""`flagops build`: validate the tree as `flagops validate` does, then write the merged config."""

from __future__ import annotations

import argparse
import os
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
from validator.commands.validate import check_tree, report_of
from validator.errors import UserError
from validator.model import Environment
from validator.output import atomic_write, emit
from validator.policy import load_policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    if args.write_schema:
        atomic_write(root / SCHEMA_PATH, config_schema_text())
        out.write(f"wrote {SCHEMA_PATH}\n")
        return 0
    checked = check_tree(root, load_policy(root), [])
    report = report_of(checked, root)
    if report.findings:  # warnings are shown too; errors stop the build
        emit(report, [("text", None)], sys.stderr if not report.errors else out)
    if report.errors:
        return 1
    target = root / args.output
    environment = Environment(args.environment)
    flags = (loaded.flag for loaded in checked.flags.values())
    config, warnings = build_config(flags, environment, schema_ref=schema_ref(root, target))
    for warning in warnings:
        print(f"flagops: warning: {warning}", file=sys.stderr)
    atomic_write(target, config_text(config))
    out.write(f"wrote {args.output}: {len(config.flags)} flag(s) for {environment}\n")
    return 0


def schema_ref(root: Path, target: Path) -> str:
    """The schema's path relative to the output file, as editors resolve `$schema`."""
    schema = (root / SCHEMA_PATH).resolve()
    return Path(os.path.relpath(schema, target.resolve().parent)).as_posix()


def read_config(path: Path, shown: str) -> MergedConfig:
    """The file `flagops build` wrote, read back for `eval` and `render`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{shown} not found; run `flagops build` first") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {shown}: {error}") from None
    return parse_config(text, shown)
