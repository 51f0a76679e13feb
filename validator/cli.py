"""Arguments in, one command called, an exit code out. Command modules load lazily."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from validator.errors import UsageError, UserError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
FORMAT_NAMES = ("text", "json", "codequality", "junit", "sarif", "github")

COMMANDS: dict[str, str] = {
    "validate": "validator.commands.validate",
    "schema": "validator.commands.schema",
    "build": "validator.commands.build",
    "eval": "validator.commands.evaluate",
    "plan": "validator.commands.plan",
    "render": "survey_renderer.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flagops", description=__doc__)
    parser.add_argument("-C", "--root", help="repository root (default: the nearest folder at "
                        "or above the current one that holds flags/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _validate_arguments(commands.add_parser("validate", help="check flag files and transitions"))
    schema = commands.add_parser("schema", help="write the flag file JSON Schema")
    schema.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    schema.add_argument("-o", "--output", default="schema/flag.schema.json")
    build = commands.add_parser("build", help="write the merged config for one environment")
    _environment_argument(build)
    build.add_argument("-o", "--output", default="build/flags.json")
    build.add_argument("--write-schema", action="store_true",
                       help="write schema/flags-config.schema.json from the model and stop")
    evaluate = commands.add_parser("eval", help="is FLAG on for one actor?")
    evaluate.add_argument("flag")
    evaluate.add_argument("--actor", required=True, help="e.g. User:42")
    evaluate.add_argument("--environment", choices=("production", "staging"),
                          help="fail unless the config was built for it (default: the config's)")
    evaluate.add_argument("--config", default="build/flags.json")
    evaluate.add_argument("--format", choices=("text", "json"), default="text")
    plan = commands.add_parser("plan", help="what a change does to each flag, in Markdown")
    _range_arguments(plan)
    plan.add_argument("--format", choices=("markdown", "json"), default="markdown")
    plan.add_argument("--comment", action="store_true",
                      help="also keep the plan as one note on the merge request (GitLab CI)")
    render = commands.add_parser("render", help="write the survey site from the merged config")
    render.add_argument("--config", default="build/flags.json")
    render.add_argument("-o", "--output", default="public")
    render.add_argument("--invite-url", help="the Calendly link (default: GitLab's research "
                        "booking page); https on a host of the policy's invite_link_hosts")
    return parser


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="flag files (default: every flags/**/*.yml)")
    _range_arguments(parser)
    parser.add_argument("--staged", action="store_true",
                        help="judge the git index against HEAD (the pre-commit hook)")
    parser.add_argument("--all-files", action="store_true",
                        help="with --base: check every flag file at head, not only changed ones")
    parser.add_argument("--format", action="append", choices=FORMAT_NAMES, dest="formats",
                        help="report format; repeat with --output to write several reports")
    parser.add_argument("--output", action="append", dest="outputs", metavar="FILE",
                        help="write the report of the matching --format to FILE")


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", help="git ref of the state before the change")
    parser.add_argument("--head", metavar="REF", help="git ref after the change "
                        "(default: the working tree)")
    parser.add_argument("--merged", action="store_true",
                        help="judge the tree that merging HEAD (or --head) into --base would "
                        "produce (git merge-tree)")


def _environment_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--environment", choices=("production", "staging"), default="production")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    args = build_parser().parse_args(argv)
    if args.root is None:
        _discover_root(args)
    try:
        command = importlib.import_module(COMMANDS[args.command])
        code: int = command.run(args, stdout)
        return code
    except UsageError as error:
        print(f"flagops: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UserError as error:
        print(_user_error_line(error), file=sys.stderr)
        return EXIT_FINDINGS
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: say so, with the traceback only on request
        if os.environ.get("FLAGOPS_DEBUG"):
            traceback.print_exc()
        print(f"flagops: internal error: {type(error).__name__}: {error} "
              "(set FLAGOPS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_BUG


def _user_error_line(error: UserError) -> str:
    """Errors that know where they are print as a located finding line."""
    finding = getattr(error, "finding", None)
    if finding is not None:
        return (f"{finding.path}:{finding.line}:{finding.column}: {finding.severity} "
                f"{finding.rule} {finding.message}")
    return f"flagops: error: {error}"


def _discover_root(args: argparse.Namespace) -> None:
    """Like git, work from a subfolder too: the root is found upwards, and files named on the
    command line stay relative to where the user is (with -C, to the root, as with `git -C`)."""
    here = Path.cwd()
    args.root = str(find_root(here))
    for option in ("paths", "outputs"):
        if getattr(args, option, None):
            setattr(args, option, [str(here / path) for path in getattr(args, option)])


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds flags/, else one that holds .git."""
    for marker in ("flags", ".git"):
        for folder in (start, *start.parents):
            if (folder / marker).exists():
                return folder
    return start
