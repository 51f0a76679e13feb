"""The command line's grammar: every command, its one-line summary, its arguments.

The parser is the command line's documentation: a one-line summary per command (the README's
command table is generated from it), help and default for every option, the exit codes.
Each command's arguments are built by a function of its own, so that a run that names its
command builds that command's parser only: building all twenty takes about 30 ms, a tenth of
the pre-commit hook's budget, and the other nineteen would never be asked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

FORMAT_NAMES = ("text", "json", "codequality", "junit", "sarif", "github")
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

    def error(self, message: str) -> NoReturn:
        """argparse's usage error, its message escaped: it quotes words of the command line
        (`unrecognized arguments: …`), anyone's bytes, whose escape sequences a terminal
        would run (a clear screen, the clipboard)."""
        from validator.reports.escape import escape

        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {escape(message)}\n")


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


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for this command line: when argv opens with a command's name, only that
    command's parser is built (it parses argv exactly as the full one would); otherwise, for
    --help, -C, --version or a mistake, every command's."""
    parser = _Parser(prog="flagops", description=SUMMARY, epilog=EXIT_CODES)
    parser.add_argument("--version", action=_Version, help="print flagops's version and exit")
    parser.add_argument("-C", "--root", help="repository root (default: the nearest folder at "
                        "or above the current one that holds flags/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = argv[0] if argv and argv[0] in COMMANDS else None
    for name, command in COMMANDS.items():
        if named in (None, name):
            summary = command.summary
            command.arguments(commands.add_parser(
                name, help=summary, description=summary[:1].upper() + summary[1:],
                epilog=EXIT_CODES))
    return parser


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


def _validate(parser: argparse.ArgumentParser) -> None:
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


def _schema(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("-o", "--output", default="schema/flag.schema.json",
                        help="where to write it, relative to the root")


def _build(parser: argparse.ArgumentParser) -> None:
    _environment_argument(parser)
    parser.add_argument("-o", "--output", default="build/flags.json",
                        help="where to write the merged config, relative to the root")
    parser.add_argument("--write-schema", action="store_true",
                        help="write schema/flags-config.schema.json from the model and stop")
    parser.add_argument("--history", action="store_true",
                        help="add each flag's history and facts from git (the catalog's "
                        "timelines, times in state, legal times); reads every past version "
                        "of every flag, so it is for the pages job, not every build")
    _allow_dirty_argument(parser, "build")
    _cache_arguments(parser)


def _evaluate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flag", help="the flag's name")
    parser.add_argument("--actor", required=True,
                        help="who asks: Kind:id, e.g. User:42 or Project:gitlab-org/gitlab")
    parser.add_argument("--environment", choices=("production", "staging"),
                        help="fail unless the config was built for it (default: the config's)")
    parser.add_argument("--config", default="build/flags.json",
                        help="the merged config `flagops build` wrote")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="on/off, or JSON with the reason")


def _plan(parser: argparse.ArgumentParser) -> None:
    _range_arguments(parser)
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="Markdown for people and merge request notes, or JSON")
    parser.add_argument("--comment", action="store_true",
                        help="also keep the plan as one note on the merge request (GitLab CI) "
                        "or one comment on the pull request (GitHub Actions)")


def _render(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="build/flags.json",
                        help="the merged config `flagops build` wrote")
    parser.add_argument("-o", "--output", default="public",
                        help="the folder to write the site to")
    parser.add_argument("--invite-url", help="the Calendly link (default: GitLab's research "
                        "booking page); https on a host of the policy's invite_link_hosts")
    _cache_arguments(parser)  # what the last render left, so an unchanged one writes nothing


def _init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", nargs="?", default=".", metavar="DIR",
                        help="where to create the repository (made if absent; default: the "
                        "current folder)")
    host = parser.add_mutually_exclusive_group()
    host.add_argument("--gitlab", dest="host", action="store_const", const="gitlab",
                      help="write .gitlab-ci.yml (the default)")
    host.add_argument("--github", dest="host", action="store_const", const="github",
                      help="write .github/workflows/flagops.yml")
    parser.set_defaults(host="gitlab")
    parser.add_argument("--hook-repo", metavar="URL", type=_hook_repository,
                        help="the git repository pre-commit "
                        "fetches the flagops hook from (default: flagops's published one; "
                        "use your mirror's URL)")


def git_ref(text: str) -> str:
    """A ref option's value: never blank. `--base ""` (a CI variable that was empty) read as no
    base judged the working tree's files alone, no step, and passed a jump to enabled."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a git ref, not an empty value (an unset variable?)")
    return text


def one_line_path(text: str) -> bool:
    """A URL or path pre-commit's `repo:` holds: printable, no blank. A byte that is not
    UTF-8 comes as a lone surrogate, which is not printable either."""
    return bool(text) and text.isprintable() and not any(c.isspace() for c in text)


def _hook_repository(text: str) -> str:
    """A URL or path, on one line (`one_line_path`; exit 2 otherwise)."""
    if not one_line_path(text):
        raise argparse.ArgumentTypeError(f"{text!r} is no repository URL or path (spaces, "
                                         "control characters and bytes that are not UTF-8 "
                                         "cannot be one)")
    return text


def _ci(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("host", choices=("gitlab", "github"),
                        help="the CI service whose variables say what to judge")


# new, promote, rollback, remove: one legal change to one flag file. Stages are checked by the
# commands, so that building the parser imports no model.

def _new(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the flag's name (GitLab's rules: lowercased, - read as _)")
    parser.add_argument("-t", "--type", help="flag type, e.g. beta (asked on a terminal)")
    parser.add_argument("-g", "--group", help="e.g. group::activation (asked on a terminal)")
    parser.add_argument("-M", "--milestone", help="e.g. 17.10 (default: from the VERSION file)")
    parser.add_argument("--description", metavar="TEXT", help="what the flag does")
    parser.add_argument("-m", "--introduced-by", "--introduced-by-url", dest="introduced_by",
                        metavar="URL", help="the merge request that introduces the flag")
    parser.add_argument("-i", "--rollout-issue", "--rollout-issue-url", dest="rollout_issue",
                        metavar="URL", help="the rollout issue")
    parser.add_argument("-a", "--feature-issue", "--feature-issue-url", dest="feature_issue",
                        metavar="URL", help="the feature's issue")
    parser.add_argument("-u", "--owner", action="extend", nargs="+", metavar="@HANDLE",
                        help="the flag's owners")
    parser.add_argument("-f", "--force", action="store_true",
                        help="overwrite an existing flag file of that name")
    _edit_options(parser)


def _promote(parser: argparse.ArgumentParser) -> None:
    _step_target(parser, to="go to STAGE (default: the next one)",
                 percentage="at stage percentage (default: the policy's next step)")
    parser.add_argument("--actor", action="extend", nargs="+", metavar="ID",
                        help="add actors Kind:id (beta needs one; adds within beta, percentage)")
    parser.add_argument("--default-enabled", action="store_true",
                        help="set default_enabled: true (at stage enabled, with a cleanup issue)")
    parser.add_argument("--cleanup-issue", metavar="URL",
                        help="the cleanup issue (default: the file's cleanup_issue_url)")
    _edit_options(parser)


def _rollback(parser: argparse.ArgumentParser) -> None:
    _step_target(parser, to="go back to STAGE (default: off)",
                 percentage="a lower percentage (default: the policy's step below)")
    parser.add_argument("--remove-actor", action="extend", nargs="+", metavar="ID",
                        help="take actors Kind:id off the list")
    _edit_options(parser)


def _remove(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the flag's name")
    _edit_options(parser)


def _step_target(parser: argparse.ArgumentParser, *, to: str, percentage: str) -> None:
    """The flag and where a step takes it: promote and rollback say it alike."""
    parser.add_argument("name", help="the flag's name")
    parser.add_argument("--to", metavar="STAGE", help=to)
    parser.add_argument("--percentage", type=float, metavar="N", help=percentage)


def _edit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="show what would change and write nothing")
    parser.add_argument("--diff", action="store_true", help="also print the unified diff")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


# history, status, refs: what git says about flags after review; they change nothing.

def _history(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the flag's name")
    parser.add_argument("--all", action="store_true",
                        help="also list edits that change no rollout state")
    parser.add_argument("--ref", default="HEAD", type=git_ref,
                        help="the branch whose first-parent line is read")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="lines for people, or a JSON list")


def _status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="flags (default: every flag)")
    parser.add_argument("--stale", action="store_true", help="only flags past their "
                        "lifespan, their intended_to_rollout_by or max_released_days")
    parser.add_argument("--ref", type=git_ref,
                        help="the commit whose flags are shown; its first-parent line dates "
                        "them, its code and version file are read (default: HEAD, with the "
                        "working tree's code and version file)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="a table for people, or a JSON list")
    _cache_arguments(parser)  # the states of history's blobs, kept between runs


def _refs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="flags (default: every flag)")
    parser.add_argument("--path", action="append", dest="paths", metavar="DIR",
                        help="another checkout to search as well (repeatable)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="file:line:col lines, or JSON")


# export, import, sync: the config out to an engine, definitions in, live state.

def _export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=("flagd", "flipper"),
                        help="flagd's flag file (OpenFeature) or Flipper's JSON export")
    _environment_argument(parser)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="where to write it, relative to the root (default: "
                        "build/FORMAT.json)")
    _allow_dirty_argument(parser, "export")


def _import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=("gitlab",), help="whose definitions")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="definition files <type>/<name>.yml, or folders of them")
    # No beta or percentage: a definition lists no actors and no share, which they need.
    parser.add_argument("--stage", choices=("off", "staging", "enabled"),
                        help="the stage of every imported flag (default: enabled when "
                        "default_enabled is true, else off; a released flag stays enabled)")
    parser.add_argument("-f", "--force", action="store_true",
                        help="replace flag files that exist")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="say what would be written and write nothing")


def _sync(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=("gitlab",), help="the live engine")
    parser.add_argument("--url", required=True, help="GitLab's address, e.g. $CI_SERVER_URL; "
                        "token in FLAGOPS_GITLAB_TOKEN")
    _environment_argument(parser)
    parser.add_argument("--apply", action="store_true",
                        help="set the difference (without it nothing changes)")
    _allow_dirty_argument(parser, "sync")


# issue, announce: the flag's issues on its tracker (GitHub or GitLab).

def _issue(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("rollout", "cleanup"), help="which issue")
    parser.add_argument("name", help="the flag's name")
    parser.add_argument("--create", action="store_true", help="open it on the policy's "
                        "tracker and write rollout_issue_url or cleanup_issue_url")


def _announce(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, metavar="REF", type=git_ref,
                        help="the commit before the merge or push")
    parser.add_argument("--head", default="HEAD", metavar="REF", type=git_ref,
                        help="the commit after it")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="print the notes and post nothing")


def _allow_dirty_argument(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument("--allow-dirty", action="store_true",
                        help=f"{command} flag files and a policy the commit does not hold "
                        "(untracked, ignored, changed, left out of a sparse checkout): a local "
                        "preview; without it they are refused, as the gate never judged them")


def _cache_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", metavar="DIR", help="where results of unchanged files "
                        "are kept (default: $FLAGOPS_CACHE_DIR, else $XDG_CACHE_HOME/flagops; "
                        "in CI only when named); never read with --base or --staged")
    parser.add_argument("--no-cache", action="store_true",
                        help="parse every file; read and write no cache")


def _range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="REF", type=git_ref,
                        help="git ref of the state before the change")
    parser.add_argument("--head", metavar="REF", type=git_ref, help="git ref after the change "
                        "(default: the working tree)")
    parser.add_argument("--merged", action="store_true",
                        help="judge the tree that merging HEAD (or --head) into --base would "
                        "produce (git merge-tree)")
    parser.add_argument("--no-fast-forward", action="store_false", dest="fast_forward",
                        help="the change lands by a merge commit, a squash or a rebase, never as "
                        "a fast-forward of --base (a GitHub pull request): its first-parent "
                        "line is no landing order (FO408)")


def _environment_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--environment", choices=("production", "staging"), default="production",
                        help="which environment's gates to write")


class Command(NamedTuple):
    """A command: the module whose `run(args, out)` does its work (imported only when the
    command is chosen), its one-line summary, and what adds its arguments."""

    module: str
    summary: str
    arguments: Callable[[argparse.ArgumentParser], None]


COMMANDS: dict[str, Command] = {  # in --help's order
    "validate": Command("validator.commands.validate", "check flag files and transitions",
                        _validate),
    "schema": Command("validator.commands.schema", "write the flag file JSON Schema", _schema),
    "build": Command("validator.commands.build",
                     "write the merged config for one environment", _build),
    "eval": Command("validator.commands.evaluate", "is FLAG on for one actor?", _evaluate),
    "plan": Command("validator.commands.plan", "what a change does to each flag, in Markdown",
                    _plan),
    "render": Command("survey_renderer.cli", "write the survey site from the merged config",
                      _render),
    "init": Command("validator.commands.init", "start a flags repository of your own: flags, "
                    "policy, schema, hook, CI, CODEOWNERS", _init),
    "ci": Command("validator.commands.ci", "the CI job: judge this pipeline's change with the "
                  "host's variables, write the reports", _ci),
    "new": Command("validator.commands.new", "write flags/NAME.yml at stage off, as GitLab's "
                   "bin/feature-flag does", _new),
    "promote": Command("validator.commands.promote", "take the flag's next legal forward step",
                       _promote),
    "rollback": Command("validator.commands.rollback", "take the flag back to off or an "
                        "earlier state (always legal)", _rollback),
    "remove": Command("validator.commands.remove", "delete the flag's file (at off, or "
                      "released with its cleanup issue)", _remove),
    "history": Command("validator.commands.history", "a flag's rollout timeline from git: "
                       "when each state landed, the commit, the author", _history),
    "status": Command("validator.commands.status", "one row per flag: exposure, time in its "
                      "state, the next legal step and when, age, references", _status),
    "refs": Command("validator.commands.refs", "where code uses each flag (git grep), and "
                    "references to flags that have no file", _refs),
    "export": Command("validator.commands.export", "write the merged config in an engine's "
                      "format: flagd or Flipper", _export),
    "import": Command("validator.commands.import_", "turn another tool's flag definitions "
                      "into flag files: GitLab's config/feature_flags", _import),
    "sync": Command("validator.commands.sync", "make a live GitLab's feature flags match this "
                    "repository (a plan; --apply sets it)", _sync),
    "issue": Command("validator.commands.issue", "a flag's rollout or cleanup issue in "
                     "Markdown; --create opens it and writes its URL into the flag file",
                     _issue),
    "announce": Command("validator.commands.announce", "after a merge: a note on each changed "
                        "flag's rollout issue saying what is now live where", _announce),
}
