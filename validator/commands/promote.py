"""`flagops promote`: the next legal forward step of one flag, written to its file."""

from __future__ import annotations

import argparse
from typing import TextIO

from validator.edit.command import finish, options_of, percentage_option, stage_option
from validator.edit.session import change
from validator.edit.steps import PromoteRequest, Target, promote
from validator.model import Flag, Stage
from validator.policy import Policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    to = stage_option(args.to)
    request = PromoteRequest(
        to=Stage(to) if to else None,
        percentage=percentage_option(args.percentage, to),
        actors=tuple(args.actor or ()),
        default_enabled=args.default_enabled,
        cleanup_issue_url=args.cleanup_issue,
    )

    def compute(flag: Flag, policy: Policy) -> Target:
        return promote(flag, request, policy)

    options = options_of(args)
    return finish("promote", args, out, lambda: change("promote", args.name, compute, options))
