"""Arguments in, one command called, an exit code out. Command modules load lazily; the
grammar (commands, options, help) is validator.arguments."""

from __future__ import annotations

import gc
import importlib
import io
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, cast

from validator.errors import UsageError, UserError
from validator.reports.escape import escape

if TYPE_CHECKING:  # the grammar and argparse load where a command line is parsed
    import argparse

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
SHORTCUTS: dict[str, tuple[str, str]] = {"validate": ("validator.staged", "staged")}
"""Modules that may answer a command before its module (and what that imports) is loaded,
with the option that must be set for them to be asked (a tree run never imports git's
module): `shortcut(args, out)` returns an exit code, or None to run the command."""
ROOTLESS = ("init",)
"""Commands that work on a folder of their own (DIR), not on the repository found upwards."""


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    # Our command's own process: no pydantic plugin is ours to run, and looking for them
    # scans every installed distribution's entry points on the first model (about 0.1 s,
    # a hook's whole budget). A library user's process keeps its plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _no_plugin_loader()
    words = list(sys.argv[1:] if argv is None else argv)
    hook = words == HOOK_LINE
    args = None if hook else _parsed(words)
    try:
        stdout = out or terminal()
        code = _hook_shortcut(stdout) if hook else None
        if code is None:
            code = _run(args or _parsed(words), stdout, shortcut=not hook)
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
    except OSError as error:  # the file system's answer about a path given: not a bug
        print(f"flagops: error: {_os_error_line(error)}", file=sys.stderr)
        return EXIT_FINDINGS
    except Exception as error:  # a bug: say so, with the traceback only on request
        if os.environ.get("FLAGOPS_DEBUG"):
            import traceback  # a bug's path only: every run would pay for it

            traceback.print_exc()
        print(f"flagops: internal error: {type(error).__name__}: {escape(str(error))} "
              "(set FLAGOPS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_BUG


def _os_error_line(error: OSError) -> str:
    """What the system said of which path, in one line: a path argument too long for the file
    system (a name over 255 bytes) or that cannot be looked at, wherever it was first used."""
    said = error.strerror or str(error)
    if error.filename is None:
        return escape(said)
    return f"cannot use {escape(os.fsdecode(error.filename))}: {escape(said)}"


PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugin_loader() -> None:
    """With every pydantic plugin disabled, pydantic's plugin loader answers "none" to each
    model it builds, but importing the loader imports `importlib.metadata`, and with it
    email, zipfile, csv and more: 35 modules and about a tenth of the pre-commit hook's CPU
    time with one flag file staged. Its one function, with that answer, is registered in its
    place. Only where the plugins are off (a user's own PYDANTIC_DISABLE_PLUGINS is kept) and
    the loader is not imported yet. tests/test_staged_shortcut.py checks that `get_plugins`
    is the only name pydantic takes from it: a pydantic that wants more fails there."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") != "__all__" or PLUGIN_LOADER in sys.modules:
        return
    loader = types.ModuleType(PLUGIN_LOADER, "pydantic's plugin loader, every plugin disabled")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[PLUGIN_LOADER] = loader


def _no_plugins() -> tuple[()]:
    return ()


def console() -> NoReturn:
    """The `flagops` command: `main`, its output flushed, then an exit without the
    interpreter's teardown, which frees every object one by one (30 ms of a 0.33 s warm run at
    ten thousand flags) and runs nothing a command needs: every file is closed where it is
    written, every pool and scratch folder by its `with`. mypy's command exits the same way.
    Under a tracer or a profiler (coverage, cProfile), which write their results at exit,
    it exits as usual.

    Nor does it collect cyclic garbage: a command makes next to none, and the collector walked
    every object a command keeps (ten thousand flags and their histories) again and again: a
    third of `build --history`'s own CPU time (18.8 s → 12.6 s), half of `build`'s (2.3 s →
    1.3 s). Counting references still frees what each step leaves, and the benchmark's peak
    memory of every command stayed where it was."""
    gc.disable()
    code = main()
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the error line went where it could; exit 1 as main
            code = code or EXIT_FINDINGS
    os._exit(code)


def _parsed(words: list[str]) -> argparse.Namespace:
    from validator.arguments import build_parser

    return build_parser(words).parse_args(words)


def _run(args: argparse.Namespace, stdout: TextIO, *, shortcut: bool) -> int:
    """The command, unless its shortcut (not asked again when it already said no) answers."""
    from validator.arguments import COMMANDS

    _settle_root(args)
    code = _shortcut(args, stdout) if shortcut else None
    if code is None:
        command = importlib.import_module(COMMANDS[args.command].module)
        code = command.run(args, stdout)
    return cast(int, code)


HOOK_LINE = ["validate", "--staged"]
"""The pre-commit hook's command line (.pre-commit-hooks.yaml), word for word: most commits
stage no flag file, and its shortcut answers them before argparse and the grammar are even
imported (about 15 ms of a hook that takes 0.09 s). Any other line is parsed first."""


def _hook_shortcut(stdout: TextIO) -> int | None:
    """`validate --staged`'s shortcut, asked with what argparse makes of HOOK_LINE for the
    options it reads (tests/test_staged_shortcut.py holds the two equal); None: the command
    line is parsed and the command runs."""
    from validator.staged import shortcut

    args = types.SimpleNamespace(command="validate", root=None, staged=True, base=None,
                                 head=None, merged=False, fast_forward=True, all_files=False,
                                 formats=None, outputs=None)
    _settle_root(cast("argparse.Namespace", args))
    return shortcut(cast("argparse.Namespace", args), stdout)


def _shortcut(args: argparse.Namespace, out: TextIO) -> int | None:
    name, option = SHORTCUTS.get(args.command, ("", ""))
    if not name or not getattr(args, option, False):
        return None
    code: int | None = importlib.import_module(name).shortcut(args, out)
    return code


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
    if args.root is None and args.command in ROOTLESS:
        args.root = "."
    elif args.root is None:
        _discover_root(args)
    elif not Path(args.root).is_dir():
        what = "not a folder" if os.path.lexists(args.root) else "no such folder"
        raise UsageError(f"-C {args.root}: {what}")
    flags = Path(args.root) / "flags"
    if _reads_working_tree(args) and os.path.lexists(flags) and not flags.is_dir():
        raise PathError("flags", "not a folder; flag files are flags/<name>.yml")


def _reads_working_tree(args: argparse.Namespace) -> bool:
    if args.command not in ("validate", "build", "plan", "new", "promote", "rollback",
                            "remove"):
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
