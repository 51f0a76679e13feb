"""Arguments in, one command called, an exit code out. Command modules load lazily."""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from validator.errors import UsageError, UserError
from validator.reports.escape import escape

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
    args = build_parser().parse_args(argv)
    try:
        stdout = out or terminal()
        _settle_root(args)
        command = importlib.import_module(COMMANDS[args.command])
        code: int = command.run(args, stdout)
        stdout.flush()  # a full disk or a closed pipe shows here, not at interpreter exit
        return code
    except UsageError as error:
        print(f"flagops: error: {escape(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except UserError as error:
        print(_user_error_line(error), file=sys.stderr)
        return EXIT_FINDINGS
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: say so, with the traceback only on request
        if os.environ.get("FLAGOPS_DEBUG"):
            traceback.print_exc()
        print(f"flagops: internal error: {type(error).__name__}: {escape(str(error))} "
              "(set FLAGOPS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_BUG


class PathError(UserError):
    """A problem with a path as a whole: printed as `path: error: message`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _user_error_line(error: UserError) -> str:
    """Errors that know where they are print as a located finding line; all text escaped."""
    finding = getattr(error, "finding", None)
    if finding is not None:
        return (f"{escape(finding.path)}:{finding.line}:{finding.column}: {finding.severity} "
                f"{finding.rule} {escape(finding.message)}")
    if isinstance(error, PathError):
        return f"{escape(error.path)}: error: {escape(str(error))}"
    return f"flagops: error: {escape(str(error))}"


class _Terminal:
    """Standard output for the commands. A write that fails there (stdout on a full device, a
    reader that went away) is the environment's doing, not a bug: one line and exit 1."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError) -> UserError:
        """Points the descriptor at /dev/null first, so that Python's own flush at exit
        does not fail a second time with a traceback and exit code 120."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # a stream without a descriptor: nothing to silence
            pass
        return UserError(f"cannot write to standard output: {error.strerror or error}")


def terminal() -> TextIO:
    """sys.stdout, checked, showing what its encoding cannot as backslash escapes."""
    stream = sys.stdout
    if stream is None:  # started with stdout closed (`>&-`)
        raise UserError("standard output is closed; redirect it to a file or /dev/null")
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return cast(TextIO, _Terminal(stream))


def _settle_root(args: argparse.Namespace) -> None:
    """The root from -C must be a folder; without -C it is found upwards. A `flags` that is
    not a folder is an error where the working tree is read, never an empty tree."""
    if args.root is None:
        _discover_root(args)
    elif not Path(args.root).is_dir():
        what = "not a folder" if os.path.lexists(args.root) else "no such folder"
        raise UsageError(f"-C {args.root}: {what}")
    flags = Path(args.root) / "flags"
    if _reads_working_tree(args) and os.path.lexists(flags) and not flags.is_dir():
        raise PathError("flags", "not a folder; flag files are flags/<name>.yml")


def _reads_working_tree(args: argparse.Namespace) -> bool:
    if args.command not in ("validate", "build", "plan"):
        return False
    return not (getattr(args, "head", None) or getattr(args, "staged", False)
                or getattr(args, "merged", False))


def _discover_root(args: argparse.Namespace) -> None:
    """Like git, work from a subfolder too: the root is found upwards, and files named on the
    command line stay relative to where the user is (with -C, to the root, as with `git -C`)."""
    try:
        here = Path.cwd()
    except FileNotFoundError:
        raise UserError("the current folder no longer exists") from None
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
