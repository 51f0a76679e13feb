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


def percentage_option(value: float | None, to: str | None) -> float | None:
    """`--percentage`: a share the engines can give (Flipper buckets in thousandths of a
    percent, so 1e-300 was 0.001% in effect, and printed with 300 digits), and only where a
    percentage is the step (`--to staging --percentage 10` dropped it without a word)."""
    if value is None:
        return None
    if to not in (None, "percentage"):
        raise UsageError(f"--percentage goes with --to percentage (or alone), not --to {to}")
    if 0 < value <= 100 and round(value * 1000) / 1000 == value:
        return value
    raise UsageError(f"--percentage: {value:g} is not a percentage from 0.001 to 100 with at "
                     "most three decimals (engines bucket in thousandths of a percent)")
