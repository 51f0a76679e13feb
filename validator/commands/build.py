"""`flagops build`: validate the tree as `flagops validate` does, then write the merged config."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from validator.build import SCHEMA_PATH, build_config, config_schema_text, config_text
from validator.commands.validate import check_tree, report_of
from validator.config_file import MAX_CONFIG_BYTES as MAX_CONFIG_BYTES
from validator.config_file import read_config as read_config
from validator.config_file import read_regular_file as read_regular_file
from validator.flag_summary import CatalogNote, FlagSummary
from validator.model import Environment, Flag
from validator.output import atomic_write, emit
from validator.policy import Policy, load_policy
from validator.reports.escape import escape


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    if args.write_schema:
        atomic_write(root / SCHEMA_PATH, config_schema_text(), root=root)
        out.write(f"wrote {SCHEMA_PATH}\n")
        return 0
    policy = load_policy(root)
    checked = check_tree(root, policy, [])
    report = report_of(checked, root)
    if report.findings:  # warnings are shown too; errors stop the build
        emit(report, [("text", None)], sys.stderr if not report.errors else out)
    if report.errors:
        return 1
    target = root / args.output
    environment = Environment(args.environment)
    flags = {loaded.flag.name: loaded.flag for loaded in checked.flags.values()}
    summaries, catalog = _summaries(root, flags, policy, build_clock(),
                                    history=not args.no_history)
    config, warnings = build_config(flags.values(), environment,
                                    schema_ref=schema_ref(root, target),
                                    summaries=summaries, catalog=catalog)
    for warning in warnings:
        print(f"flagops: warning: {escape(warning)}", file=sys.stderr)
    atomic_write(target, config_text(config), root=root)
    out.write(f"wrote {escape(args.output)}: {len(config.flags)} flag(s) for {environment}\n")
    return 0


def build_clock() -> int:
    """The build's `now`, read here at the edge: SOURCE_DATE_EPOCH when set (reproducible
    builds set it), else the system clock. Ages and legal steps in the config are as of it."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "")
    if fixed.strip().isdigit():
        return int(fixed)
    return int(time.time())


def _summaries(root: Path, flags: dict[str, Flag], policy: Policy, now: int, *,
               history: bool) -> tuple[dict[str, FlagSummary], CatalogNote]:
    from validator.lifecycle.histories import summaries
    from validator.lifecycle.lifespan import current_milestone
    from validator.lifecycle.reads import version_text

    current = current_milestone(policy, version_text(root, policy))
    return summaries(root, flags, policy, current, now, history=history)


def schema_ref(root: Path, target: Path) -> str:
    """The schema's path relative to the output file, as editors resolve `$schema`."""
    schema = (root / SCHEMA_PATH).resolve()
    return Path(os.path.relpath(schema, target.resolve().parent)).as_posix()
