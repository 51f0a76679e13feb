"""`flagops plan`: the Markdown (or JSON) summary of what a change does to each flag."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from validator.compare import RangeRequest, compare
from validator.plan import plan, to_json, to_markdown


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    request = RangeRequest(args.base, args.head, merged=args.merged,
                           fast_forward=args.fast_forward)
    comparison = compare(root, request, now=int(time.time()))
    plans = plan(comparison.before, comparison.after, comparison.findings, comparison.policy)
    render = to_json if args.format == "json" else to_markdown
    out.write(render(plans, comparison.label))
    if args.comment:
        publish(to_markdown(plans, comparison.label))
    return 0


def publish(markdown: str) -> None:
    """Keeps the plan as one note on this pipeline's merge request (GitLab CI) or one comment
    on this run's pull request (GitHub Actions)."""
    from validator.trackers.review import publish_plan

    said = publish_plan(markdown, os.environ)
    print(f"flagops: {said}", file=sys.stderr)
