"""`flagops new`: a new flag file at stage off, as GitLab's `bin/feature-flag` starts one.

A required value that is missing is asked for on a terminal (offering the types, and the
groups this tree already uses); without a terminal the command stops with every missing option
named, exit 2. Prompts go to standard error, so standard output stays the command's own.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from validator.characters import invisible_character
from validator.config_file import file_start
from validator.digits import whole_number
from validator.document import Document
from validator.edit.command import finish, options_of
from validator.edit.new_flag import (
    GROUP_PATTERN,
    MILESTONE_PATTERN,
    TYPE_CHOICES,
    NewFlag,
    missing_options,
    name_problem,
    normalized_name,
    owner_handle,
)
from validator.edit.report import Outcome, Refusal
from validator.edit.session import create
from validator.errors import UsageError
from validator.files import flag_paths
from validator.lifecycle.lifespan import leading_milestone
from validator.lifecycle.reads import VERSION_BYTES
from validator.loader import read_document
from validator.reports.escape import escape


def run(args: argparse.Namespace, out: TextIO) -> int:
    return finish("new", args, out, lambda: _new(args))


def _new(args: argparse.Namespace) -> Outcome:
    root = Path(args.root)
    name = normalized_name(args.name)
    problem = name_problem(name)
    if problem is not None:
        raise Refusal("new", name, problem)
    values = {"--type": args.type, "--group": args.group,
              "--milestone": args.milestone or version_milestone(root)}
    missing = missing_options(list(values.items()))
    if missing and not sys.stdin.isatty():
        raise UsageError(f"missing {', '.join(missing)}: give them as options (there is no "
                         "terminal to ask on)")
    if missing:
        values.update(_ask_missing(root, missing))
    flag = NewFlag(name, str(values["--type"]), str(values["--group"]),
                   str(values["--milestone"]), args.description, args.feature_issue,
                   args.introduced_by, args.rollout_issue,
                   tuple(owner_handle(owner) for owner in args.owner or ()))
    return create(flag, options_of(args), force=args.force)


def version_milestone(root: Path) -> str | None:
    """GitLab's generator takes the milestone from the VERSION file (`17.10.0-pre` → 17.10)."""
    start = file_start(root / "VERSION", VERSION_BYTES)  # no FIFO, device or symlink
    try:
        first = (start or b"").decode("utf-8", "replace").strip().splitlines()[0]
    except IndexError:
        return None
    return leading_milestone(first)


def _ask_missing(root: Path, missing: Sequence[str]) -> dict[str, str]:
    types, groups = _seen(root)
    answers: dict[str, str] = {}
    for option in missing:
        if option == "--type":
            shown = [f"{kind} ({types[kind]} here)" if types[kind] else kind
                     for kind in TYPE_CHOICES]
            answers[option] = _ask("type of the flag", option, shown, list(TYPE_CHOICES),
                                   lambda value: value in TYPE_CHOICES)
        elif option == "--group":
            known = [group for group, _ in groups.most_common()]
            answers[option] = _ask("group, like group::activation", option, known, known,
                                   lambda value: GROUP_PATTERN.fullmatch(value) is not None)
        else:
            answers[option] = _ask("milestone, like 17.10", option, [], [],
                                   lambda value: MILESTONE_PATTERN.fullmatch(value) is not None)
    return answers


def _ask(what: str, option: str, shown: Sequence[str], values: Sequence[str],
         valid: Callable[[str], bool]) -> str:
    """One question on the terminal, asked again until the answer is valid; a number picks
    from the list. End of input is the option still missing (exit 2)."""
    print(f">> {what} ({option}):", file=sys.stderr)
    for number, choice in enumerate(shown, start=1):
        print(f"{number:3}. {escape(choice)}", file=sys.stderr)
    while True:
        print("?> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            raise UsageError(f"missing {option}")
        answer = line.strip()
        picked = whole_number(answer)  # not isdigit() and int(): "²" is a digit int() refuses
        if picked is not None and 1 <= picked <= len(values):
            answer = values[picked - 1]
        if valid(answer):
            return answer
        print(f"not a valid {option.removeprefix('--')}: {answer!r}", file=sys.stderr)


def _seen(root: Path) -> tuple[Counter[str], Counter[str]]:
    """The types and groups the tree's flag files use, with how often: only groups a flag may
    name (a file's text is the repository's, and a group holding an escape sequence would run
    in the terminal the list is printed to)."""
    types: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    for path in flag_paths(root):
        document = read_document(root / path, path)
        if isinstance(document, Document):
            kind, group = document.data.get("type"), document.data.get("group")
            if isinstance(kind, str):
                types[kind] += 1
            if isinstance(group, str) and GROUP_PATTERN.fullmatch(group) is not None \
                    and invisible_character(group) is None:
                groups[group] += 1
    return types, groups
