"""`flagops init [DIR]`: a flags repository of a team's own, ready for its first commit.

Nothing is overwritten: if any file it would write exists, it names them all and writes none.
Without a git repository around DIR it runs `git init` (as `cargo new` does), so the next
command can be `pre-commit install`.
"""

from __future__ import annotations

import argparse
import os
import shlex
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TextIO

from validator import git
from validator.errors import UserError
from validator.output import atomic_write
from validator.reports.escape import escape
from validator.scaffold import BRANCH, HOOK_REPO, scaffold


def run(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.root) / args.directory
    files = scaffold(args.host, flagops_version(), args.hook_repo or HOOK_REPO)
    if target.exists() and not target.is_dir():
        raise UserError(f"{escape(str(target))} is not a folder")
    _refuse_inside_another_repository(target)
    existing = [name for name in files if os.path.lexists(target / name)]
    if existing:
        raise UserError(f"{escape(str(target))} already has {', '.join(existing)}; flagops init "
                        "overwrites nothing: move them away, or init another folder")
    for name, text in sorted(files.items()):
        atomic_write(target / name, text, root=target)
    made = git.init_repository(target, BRANCH)
    out.write(_next_steps(target, sorted(files), made))
    return 0


def _refuse_inside_another_repository(target: Path) -> None:
    """Flags in a folder below the top of a work tree would never be judged (git names paths
    from the top): a team's flags get a repository of their own."""
    existing = next(folder for folder in (target, *target.parents) if folder.is_dir())
    if not git.inside_work_tree(existing):
        return  # init makes target a repository of its own
    if existing == target and not git.prefix_in_work_tree(target):
        return  # target is the top of its repository
    raise UserError(f"{escape(str(target))} is inside another git repository, below its top; "
                    "flagops judges flags/ at the top of a repository: make this folder one "
                    "of its own (git init) first, or run init at that repository's top")


def flagops_version() -> str:
    """The version CI pins and the hook's tag: this installed flagops's own."""
    try:
        return version("flagops")
    except PackageNotFoundError:
        raise UserError("flagops is not installed as a package, so there is no version for "
                        "the CI file to pin; pip install flagops") from None


def _next_steps(target: Path, written: list[str], made_repository: bool) -> str:
    shown = escape(str(target))
    lines = [f"wrote {len(written)} files to {shown}:", *[f"  {name}" for name in written]]
    if made_repository:
        lines.append(f"and made it a git repository (branch {BRANCH})")
    folder = escape(shlex.quote(str(target)))  # a folder's name is one word to the shell
    lines += ["next:", f"  cd {folder} && pre-commit install && git add -A && "
              'git commit -m "Start our flags with flagops"',
              "  then replace the placeholder owner in CODEOWNERS, push, and protect the "
              "default branch (README.md)"]
    return "\n".join(lines) + "\n"
