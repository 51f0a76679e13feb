"""The edge shared by the authoring commands: the clock and the options in, the outcome or the
refusal out, exit 0 or 1. With --json a refusal is a JSON object too, so scripts read one
format; usage errors stay exit 2 on stderr."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from validator.edit.report import Outcome, Refusal, refuse, show
from validator.edit.session import Options
from validator.errors import UsageError, UserError


def options_of(args: argparse.Namespace) -> Options:
    return Options(Path(args.root), int(time.time()), dry_run=args.dry_run)


def finish(command: str, args: argparse.Namespace, out: TextIO,
           produce: Callable[[], Outcome]) -> int:
    try:
        outcome = produce()
    except Refusal as refusal:
        return refuse(refusal, out, as_json=args.json)
    except UsageError:
        raise
    except UserError as error:
        if not args.json:
            raise
        return refuse(Refusal(command, args.name, str(error)), out, as_json=True)
    show(outcome, out, as_json=args.json, with_diff=args.diff)
    return 0


def stage_option(value: str | None, option: str = "--to") -> str | None:
    """A stage name, checked here rather than by argparse, so the CLI needs no model import."""
    from validator.model import Stage

    if value is None or value in {str(stage) for stage in Stage}:
        return value
    raise UsageError(f"{option}: {value!r} is not a stage; one of "
                     f"{', '.join(str(stage) for stage in Stage)}")


def percentage_option(value: float | None) -> float | None:
    if value is None or 0 < value <= 100:
        return value
    raise UsageError(f"--percentage: {value:g} is not a percentage above 0 and at most 100")
