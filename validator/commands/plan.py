"""`flagops plan`: the Markdown (or JSON) summary of what a change does to each flag."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from validator.compare import RangeRequest, compare
from validator.plan import plan, to_json, to_markdown
from validator.policy import load_policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    policy = load_policy(root)
    request = RangeRequest(args.base, args.head, merged=args.merged)
    comparison = compare(root, policy, request)
    plans = plan(comparison.before, comparison.after, comparison.findings, policy)
    render = to_json if args.format == "json" else to_markdown
    out.write(render(plans, comparison.label))
    return 0
