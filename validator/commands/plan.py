"""`flagops plan`: the Markdown (or JSON) summary of what a change does to each flag."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from validator.compare import RangeRequest, compare
from validator.errors import UserError
from validator.gitlab_notes import MergeRequest
from validator.plan import plan, to_json, to_markdown


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    request = RangeRequest(args.base, args.head, merged=args.merged)
    comparison = compare(root, request)
    plans = plan(comparison.before, comparison.after, comparison.findings, comparison.policy)
    render = to_json if args.format == "json" else to_markdown
    out.write(render(plans, comparison.label))
    if args.comment:
        publish(to_markdown(plans, comparison.label))
    return 0


def publish(markdown: str) -> None:
    """Keeps the plan as one note on this pipeline's merge request (GitLab CI)."""
    from validator.gitlab_notes import publish_plan

    said = publish_plan(_merge_request_from(os.environ), markdown)
    print(f"flagops: {said}", file=sys.stderr)


def _merge_request_from(environ: Mapping[str, str]) -> MergeRequest:
    """GitLab CI's predefined variables, and a token that may write notes."""
    needed = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID", "FLAGOPS_GITLAB_TOKEN")
    missing = [name for name in needed if not environ.get(name)]
    if missing:
        raise UserError(f"--comment needs {', '.join(missing)} (a merge request pipeline, and "
                        "a project access token with api scope in FLAGOPS_GITLAB_TOKEN)")
    return MergeRequest(environ["CI_API_V4_URL"], environ["CI_PROJECT_ID"],
                        environ["CI_MERGE_REQUEST_IID"], environ["FLAGOPS_GITLAB_TOKEN"])
