"""Arguments in, one command called, an exit code out. Command modules load lazily.

The parser is the command line's documentation: a one-line summary per command (the README's
command table is generated from it), help and default for every option, the exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, cast

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
    "init": "validator.commands.init",
    "ci": "validator.commands.ci",
    "new": "validator.commands.new",
    "promote": "validator.commands.promote",
    "rollback": "validator.commands.rollback",
    "remove": "validator.commands.remove",
    "history": "validator.commands.history",
    "status": "validator.commands.status",
    "refs": "validator.commands.refs",
    "export": "validator.commands.export",
    "import": "validator.commands.import_",
    "sync": "validator.commands.sync",
    "issue": "validator.commands.issue",
    "announce": "validator.commands.announce",
}
SHORTCUTS: dict[str, tuple[str, str]] = {"validate": ("validator.staged", "staged")}
"""Modules that may answer a command before its module (and what that imports) is loaded,
with the option that must be set for them to be asked (a tree run never imports git's
module): `shortcut(args, out)` returns an exit code, or None to run the command."""
ROOTLESS = ("init",)
"""Commands that work on a folder of their own (DIR), not on the repository found upwards."""
SUMMARY = "Feature flags as reviewed files: legal rollout steps, a plan, a merged config."
EXIT_CODES = """exit codes:
  0  no errors (warnings allowed)
  1  errors in the flags or the change, or a mistake in the input (one line says which)
  2  usage error: the command line itself is wrong
  3  a bug in flagops (FLAGOPS_DEBUG=1 shows the traceback)"""


class _Help(argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help, unless there is none (or the help names it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text is None or "%(default)" in text or action.default in (None, False, []) \
                or action.default is argparse.SUPPRESS or not action.option_strings \
                or action.nargs == 0:  # a switch: its default is not to be given
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


class _Version(argparse.Action):
    """--version, reading the package metadata only when asked (the hook path stays fast)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("flagops")
        except PackageNotFoundError:
            found = "(not installed)"
        print(f"flagops {found}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flagops", description=SUMMARY, epilog=EXIT_CODES)
    parser.add_argument("--version", action=_Version, help="print flagops's version and exit")
    parser.add_argument("-C", "--root", help="repository root (default: the nearest folder at "
                        "or above the current one that holds flags/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _validate_arguments(commands.add_parser("validate", help="check flag files and transitions"))
    schema = commands.add_parser("schema", help="write the flag file JSON Schema")
    schema.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    schema.add_argument("-o", "--output", default="schema/flag.schema.json",
                        help="where to write it, relative to the root")
    build = commands.add_parser("build", help="write the merged config for one environment")
    _environment_argument(build)
    build.add_argument("-o", "--output", default="build/flags.json",
                       help="where to write the merged config, relative to the root")
    build.add_argument("--write-schema", action="store_true",
                       help="write schema/flags-config.schema.json from the model and stop")
    build.add_argument("--history", action="store_true",
                       help="add each flag's history and facts from git (the catalog's "
                       "timelines, times in state, legal times); reads every past version "
                       "of every flag, so it is for the pages job, not every build")
    _cache_arguments(build)
    evaluate = commands.add_parser("eval", help="is FLAG on for one actor?")
    evaluate.add_argument("flag", help="the flag's name")
    evaluate.add_argument("--actor", required=True,
                          help="who asks: Kind:id, e.g. User:42 or Project:gitlab-org/gitlab")
    evaluate.add_argument("--environment", choices=("production", "staging"),
                          help="fail unless the config was built for it (default: the config's)")
    evaluate.add_argument("--config", default="build/flags.json",
                          help="the merged config `flagops build` wrote")
    evaluate.add_argument("--format", choices=("text", "json"), default="text",
                          help="on/off, or JSON with the reason")
    plan = commands.add_parser("plan", help="what a change does to each flag, in Markdown")
    _range_arguments(plan)
    plan.add_argument("--format", choices=("markdown", "json"), default="markdown",
                      help="Markdown for people and merge request notes, or JSON")
    plan.add_argument("--comment", action="store_true",
                      help="also keep the plan as one note on the merge request (GitLab CI) or "
                      "one comment on the pull request (GitHub Actions)")
    render = commands.add_parser("render", help="write the survey site from the merged config")
    render.add_argument("--config", default="build/flags.json",
                        help="the merged config `flagops build` wrote")
    render.add_argument("-o", "--output", default="public",
                        help="the folder to write the site to")
    render.add_argument("--invite-url", help="the Calendly link (default: GitLab's research "
                        "booking page); https on a host of the policy's invite_link_hosts")
    _init_arguments(commands.add_parser("init", help="start a flags repository of your own: "
                                        "flags, policy, schema, hook, CI, CODEOWNERS"))
    ci = commands.add_parser("ci", help="the CI job: judge this pipeline's change with the "
                             "host's variables, write the reports")
    ci.add_argument("host", choices=("gitlab", "github"),
                    help="the CI service whose variables say what to judge")
    _authoring_commands(commands)
    _lifecycle_commands(commands)
    _engine_commands(commands)
    _tracker_commands(commands)
    _describe_commands(commands)
    return parser


def _authoring_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """new, promote, rollback, remove: one legal change to one flag file. Stages are checked
    by the commands, so that building the parser imports no model."""
    new = commands.add_parser("new", help="write flags/NAME.yml at stage off, as GitLab's "
                              "bin/feature-flag does")
    new.add_argument("name", help="the flag's name (GitLab's rules: lowercased, - read as _)")
    new.add_argument("-t", "--type", help="flag type, e.g. beta (asked on a terminal)")
    new.add_argument("-g", "--group", help="e.g. group::activation (asked on a terminal)")
    new.add_argument("-M", "--milestone", help="e.g. 17.10 (default: from the VERSION file)")
    new.add_argument("--description", metavar="TEXT", help="what the flag does")
    new.add_argument("-m", "--introduced-by", "--introduced-by-url", dest="introduced_by",
                     metavar="URL", help="the merge request that introduces the flag")
    new.add_argument("-i", "--rollout-issue", "--rollout-issue-url", dest="rollout_issue",
                     metavar="URL", help="the rollout issue")
    new.add_argument("-a", "--feature-issue", "--feature-issue-url", dest="feature_issue",
                     metavar="URL", help="the feature's issue")
    new.add_argument("-u", "--owner", action="extend", nargs="+", metavar="@HANDLE",
                     help="the flag's owners")
    new.add_argument("-f", "--force", action="store_true",
                     help="overwrite an existing flag file of that name")
    promote = commands.add_parser("promote", help="take the flag's next legal forward step")
    promote.add_argument("name", help="the flag's name")
    promote.add_argument("--to", metavar="STAGE", help="go to STAGE (default: the next one)")
    promote.add_argument("--percentage", type=float, metavar="N",
                         help="at stage percentage (default: the policy's next step)")
    promote.add_argument("--actor", action="extend", nargs="+", metavar="ID",
                         help="add actors Kind:id (beta needs one; adds within beta, percentage)")
    promote.add_argument("--default-enabled", action="store_true",
                         help="set default_enabled: true (at stage enabled, with a cleanup issue)")
    promote.add_argument("--cleanup-issue", metavar="URL",
                         help="the cleanup issue (default: the file's cleanup_issue_url)")
    rollback = commands.add_parser("rollback", help="take the flag back to off or an earlier "
                                   "state (always legal)")
    rollback.add_argument("name", help="the flag's name")
    rollback.add_argument("--to", metavar="STAGE", help="go back to STAGE (default: off)")
    rollback.add_argument("--percentage", type=float, metavar="N",
                          help="a lower percentage (default: the policy's step below)")
    rollback.add_argument("--remove-actor", action="extend", nargs="+", metavar="ID",
                          help="take actors Kind:id off the list")
    remove = commands.add_parser("remove", help="delete the flag's file (at off, or released "
                                 "with its cleanup issue)")
    remove.add_argument("name", help="the flag's name")
    for parser in (new, promote, rollback, remove):
        parser.add_argument("-n", "--dry-run", action="store_true",
                            help="show what would change and write nothing")
        parser.add_argument("--diff", action="store_true", help="also print the unified diff")
        parser.add_argument("--json", action="store_true", help="print one JSON object")


def _lifecycle_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """history, status, refs: what git says about flags after review; they change nothing."""
    history = commands.add_parser("history", help="a flag's rollout timeline from git: when "
                                  "each state landed, the commit, the author")
    history.add_argument("name", help="the flag's name")
    history.add_argument("--all", action="store_true",
                         help="also list edits that change no rollout state")
    history.add_argument("--ref", default="HEAD", help="the branch whose first-parent line "
                         "is read")
    history.add_argument("--format", choices=("text", "json"), default="text",
                         help="lines for people, or a JSON list")
    status = commands.add_parser("status", help="one row per flag: exposure, time in its "
                                 "state, the next legal step and when, age, references")
    status.add_argument("names", nargs="*", metavar="NAME", help="flags (default: every flag)")
    status.add_argument("--stale", action="store_true", help="only flags past their "
                        "lifespan, their intended_to_rollout_by or max_released_days")
    status.add_argument("--ref", default="HEAD", help="the commit whose flags are shown; "
                        "its first-parent line dates them")
    status.add_argument("--format", choices=("table", "json"), default="table",
                        help="a table for people, or a JSON list")
    _cache_arguments(status)  # the states of history's blobs, kept between runs
    refs = commands.add_parser("refs", help="where code uses each flag (git grep), and "
                               "references to flags that have no file")
    refs.add_argument("names", nargs="*", metavar="NAME", help="flags (default: every flag)")
    refs.add_argument("--path", action="append", dest="paths", metavar="DIR",
                      help="another checkout to search as well (repeatable)")
    refs.add_argument("--format", choices=("text", "json"), default="text",
                      help="file:line:col lines, or JSON")


def _engine_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """export, import, sync: the config out to an engine, definitions in, live state."""
    export = commands.add_parser("export", help="write the merged config in an engine's "
                                 "format: flagd or Flipper")
    export.add_argument("--format", required=True, choices=("flagd", "flipper"),
                        help="flagd's flag file (OpenFeature) or Flipper's JSON export")
    _environment_argument(export)
    export.add_argument("-o", "--output", metavar="FILE",
                        help="where to write it, relative to the root (default: "
                        "build/FORMAT.json)")
    imports = commands.add_parser("import", help="turn another tool's flag definitions into "
                                  "flag files: GitLab's config/feature_flags")
    imports.add_argument("source", choices=("gitlab",), help="whose definitions")
    imports.add_argument("paths", nargs="+", metavar="PATH",
                         help="definition files <type>/<name>.yml, or folders of them")
    imports.add_argument("--stage", choices=("off", "staging", "beta", "percentage", "enabled"),
                         help="the stage of every imported flag (default: enabled when "
                         "default_enabled is true, else off)")
    imports.add_argument("-f", "--force", action="store_true",
                         help="replace flag files that exist")
    imports.add_argument("-n", "--dry-run", action="store_true",
                         help="say what would be written and write nothing")
    sync = commands.add_parser("sync", help="make a live GitLab's feature flags match this "
                               "repository (a plan; --apply sets it)")
    sync.add_argument("target", choices=("gitlab",), help="the live engine")
    sync.add_argument("--url", required=True,
                      help="GitLab's address, e.g. $CI_SERVER_URL; token in FLAGOPS_GITLAB_TOKEN")
    _environment_argument(sync)
    sync.add_argument("--apply", action="store_true",
                      help="set the difference (without it nothing changes)")


def _tracker_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """issue, announce: the flag's issues on its tracker (GitHub or GitLab)."""
    issue = commands.add_parser("issue", help="a flag's rollout or cleanup issue in Markdown; "
                                "--create opens it and writes its URL into the flag file")
    issue.add_argument("kind", choices=("rollout", "cleanup"), help="which issue")
    issue.add_argument("name", help="the flag's name")
    issue.add_argument("--create", action="store_true", help="open it on the policy's tracker "
                       "and write rollout_issue_url or cleanup_issue_url")
    announce = commands.add_parser("announce", help="after a merge: a note on each changed "
                                   "flag's rollout issue saying what is now live where")
    announce.add_argument("--base", required=True, metavar="REF",
                          help="the commit before the merge or push")
    announce.add_argument("--head", default="HEAD", metavar="REF", help="the commit after it")
    announce.add_argument("-n", "--dry-run", action="store_true",
                          help="print the notes and post nothing")


def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="where to create the repository (made if absent; default: the "
                        "current folder)")
    host = parser.add_mutually_exclusive_group()
    host.add_argument("--gitlab", dest="host", action="store_const", const="gitlab",
                      help="write .gitlab-ci.yml (the default)")
    host.add_argument("--github", dest="host", action="store_const", const="github",
                      help="write .github/workflows/flagops.yml")
    parser.set_defaults(host="gitlab")
    parser.add_argument("--hook-repo", metavar="URL", help="the git repository pre-commit "
                        "fetches the flagops hook from (default: flagops's published one; "
                        "use your mirror's URL)")


def command_summaries() -> list[tuple[str, str, list[str]]]:
    """(name, one-line summary, arguments) of every subcommand, in --help's order; arguments
    are positionals by metavar and options by their longest name, -h excepted."""
    commands = next(action for action in build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    return [(action.dest, action.help or "", _arguments(commands.choices[action.dest]))
            for action in commands._choices_actions]


def _arguments(parser: argparse.ArgumentParser) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            found.append(max(action.option_strings, key=len))
        else:
            found.append(str(action.metavar or action.dest).upper())
    return found


def _describe_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """Each command's --help opens with its summary and closes with the exit codes."""
    summaries = {action.dest: action.help for action in commands._choices_actions}
    for name, parser in commands.choices.items():
        if parser.description is None:
            summary = summaries.get(name) or ""
            parser.description = summary[:1].upper() + summary[1:]
        if parser.epilog is None:
            parser.epilog = EXIT_CODES


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="flag files (default: every flags/**/*.yml)")
    _range_arguments(parser)
    parser.add_argument("--staged", action="store_true",
                        help="judge the git index against HEAD (the pre-commit hook)")
    parser.add_argument("--all-files", action="store_true",
                        help="with --base: check every flag file at head, not only changed ones")
    parser.add_argument("--format", action="append", choices=FORMAT_NAMES, dest="formats",
                        help="report format (default: text, to the terminal); repeat with "
                        "--output to write several reports")
    parser.add_argument("--output", action="append", dest="outputs", metavar="FILE",
                        help="write the report of the matching --format to FILE")
    parser.add_argument("--check-links", action="store_true",
                        help="also look up each flag's rollout and cleanup issue on its "
                        "tracker (changed flags only with --base)")
    _cache_arguments(parser)


def _cache_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", metavar="DIR", help="where results of unchanged files "
                        "are kept (default: $FLAGOPS_CACHE_DIR, else $XDG_CACHE_HOME/flagops; "
                        "in CI only when named); never read with --base or --staged")
    parser.add_argument("--no-cache", action="store_true",
                        help="parse every file; read and write no cache")


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", help="git ref of the state before the change")
    parser.add_argument("--head", metavar="REF", help="git ref after the change "
                        "(default: the working tree)")
    parser.add_argument("--merged", action="store_true",
                        help="judge the tree that merging HEAD (or --head) into --base would "
                        "produce (git merge-tree)")


def _environment_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--environment", choices=("production", "staging"), default="production",
                        help="which environment's gates to write")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    # Our command's own process: no pydantic plugin is ours to run, and looking for them
    # scans every installed distribution's entry points on the first model (about 0.1 s,
    # a hook's whole budget). A library user's process keeps its plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = build_parser().parse_args(argv)
    try:
        stdout = out or terminal()
        _settle_root(args)
        code: int | None = _shortcut(args, stdout)
        if code is None:
            command = importlib.import_module(COMMANDS[args.command])
            code = command.run(args, stdout)
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
            import traceback  # a bug's path only: every run would pay for it

            traceback.print_exc()
        print(f"flagops: internal error: {type(error).__name__}: {escape(str(error))} "
              "(set FLAGOPS_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_BUG


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
