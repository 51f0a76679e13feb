"""`flagops eval`: is FLAG on for one actor, and why? For support and debugging."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import TextIO

from survey_renderer.gate import Decision, evaluate
from validator.build import MergedConfig
from validator.config_file import read_config
from validator.engines.bucketing import is_text
from validator.errors import UsageError, UserError
from validator.expects import ACTOR_FORM
from validator.model import ACTOR_PATTERN
from validator.policy import load_policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    _check_actor(args.actor)
    config = read_config(Path(args.root) / args.config, args.config)
    _check_environment(config, args.environment, args.config)
    state = config.flags.get(args.flag)
    if state is None:
        raise UserError(f"unknown flag {args.flag!r} in {args.config}")
    bucketing = load_policy(Path(args.root)).bucketing  # the engine the team runs
    decision = evaluate(args.flag, state.gates, args.actor, bucketing=bucketing)
    out.write(_render(args, config, decision))
    return 0


def _check_actor(actor: str) -> None:
    """An actor that is not Kind:id is listed nowhere and in no bucket anyone meant: asking
    about it is a mistake on the command line, not an answer "off"."""
    if not re.fullmatch(ACTOR_PATTERN, actor):
        raise UsageError(f"--actor {actor!r}: {ACTOR_FORM}")
    if not is_text(actor):
        raise UsageError(f"--actor {actor!r}: not UTF-8 text (a byte no character is made "
                         "of); no flag file can list it, and no engine buckets it")


def _check_environment(config: MergedConfig, wanted: str | None, shown: str) -> None:
    """A config answers for one environment; asking it about another would mislead."""
    if wanted is not None and wanted != config.environment:
        raise UserError(f"{shown} was built for {config.environment}, not {wanted}; run "
                        f"`flagops build --environment {wanted}`")


def _render(args: argparse.Namespace, config: MergedConfig, decision: Decision) -> str:
    if args.format == "json":
        record = {"flag": args.flag, "actor": args.actor, "environment": config.environment.value,
                  "enabled": decision.enabled, "reason": decision.reason.value}
        return json.dumps(record, indent=2) + "\n"
    return "on\n" if decision.enabled else "off\n"
