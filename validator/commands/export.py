"""`flagops export`: validate the tree, build the merged config, write it in an engine's format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from validator.build import build_config
from validator.export import bucketing_warning, export_text, unmatched_actors_warning
from validator.model import Environment
from validator.output import atomic_write, emit
from validator.policy import load_policy
from validator.reports.escape import escape
from validator.shipping import require_committed
from validator.tree import check_tree, report_of


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    policy = load_policy(root)
    checked = check_tree(root, policy, [], with_data=True)
    report = report_of(checked, root)
    if report.findings:  # as `flagops build`: warnings shown, errors stop the export
        emit(report, [("text", None)], sys.stderr if not report.errors else out)
    if report.errors:
        return 1
    require_committed(root, "export", allow_dirty=args.allow_dirty)
    environment = Environment(args.environment)
    flags = checked.flag_values()
    config, warnings = build_config(flags, environment, schema_ref="")
    said = [bucketing_warning(args.format, policy.bucketing, config),
            unmatched_actors_warning(args.format, config)]
    for warning in warnings + [line for line in said if line]:
        print(f"flagops: warning: {escape(warning)}", file=sys.stderr)
    output = args.output or f"build/{args.format}.json"
    atomic_write(root / output, export_text(args.format, config), root=root)
    out.write(f"wrote {escape(output)}: {len(config.flags)} flag(s) for {environment} "
              f"as {args.format}\n")
    return 0
