"""`flagops rollback`: straight to off, or to any earlier state; always legal."""

from __future__ import annotations

import argparse
from typing import TextIO

from validator.edit.command import finish, options_of, percentage_option, stage_option
from validator.edit.session import change
from validator.edit.steps import RollbackRequest, Target, rollback
from validator.model import Flag, Stage
from validator.policy import Policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    to = stage_option(args.to)
    request = RollbackRequest(
        to=Stage(to) if to else None,
        percentage=percentage_option(args.percentage, to),
        remove_actors=tuple(args.remove_actor or ()),
    )

    def compute(flag: Flag, policy: Policy) -> Target:
        return rollback(flag, request, policy)

    options = options_of(args)
    return finish("rollback", args, out, lambda: change("rollback", args.name, compute, options))
