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
from validator.arguments import one_line_path
from validator.errors import UsageError, UserError
from validator.output import atomic_write
from validator.reports.escape import escape
from validator.scaffold import BRANCH, HOOK_REPO, scaffold


def run(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.root) / args.directory
    version = flagops_version()
    hook_repo, hook_rev, note = hook_source(args.hook_repo, version)
    files = scaffold(args.host, version, hook_repo, hook_rev)
    if target.exists() and not target.is_dir():
        raise UserError(f"{escape(str(target))} is not a folder")
    _refuse_inside_another_repository(target)
    existing = [name for name in files if os.path.lexists(target / name)]
    if existing:
        raise UserError(f"{escape(str(target))} already has {', '.join(existing)}; flagops init "
                        "overwrites nothing: move them away, or init another folder")
    for name, text in sorted(files.items()):
        atomic_write(target / name, text, root=target, flag_file=name.startswith("flags/"))
    made = git.init_repository(target, BRANCH)
    out.write(_next_steps(target, sorted(files), made))
    if note:
        out.write(f"{escape(note)}\n")
    return 0


def hook_source(given: str | None, version: str) -> tuple[str, str | None, str | None]:
    """Where pre-commit fetches the hook, the revision to pin (None: the tag v<version>), and
    what to tell about it. A folder (a checkout of flagops, as the README says until it is
    published) is written as an absolute path, which pre-commit reads from the flags
    repository (`./flagops` was looked up there, and the first commit failed), and pinned at
    its tag, or at its commit where it has none (pre-commit's checkout of a missing tag was
    the first commit's error too)."""
    if given is None or not os.path.isdir(given):
        return given or HOOK_REPO, None, None
    folder = os.path.abspath(given)
    if not one_line_path(folder):  # the rule --hook-repo is held to, for the whole path
        raise UsageError(f"--hook-repo {escape(folder)}: the folder's whole path holds a "
                         "space, a control character or a byte that is not UTF-8, which "
                         ".pre-commit-config.yaml cannot hold; move the checkout")
    if not _repository_at(Path(folder)):
        raise UserError(f"--hook-repo {escape(folder)}: not a git repository of its own (git "
                        "would answer from the one around it, and pre-commit fetches from "
                        "the folder itself); give the checkout's top folder")
    tag = f"v{version}"
    try:
        git.git(Path(folder), "rev-parse", "--verify", "-q", f"refs/tags/{tag}^{{commit}}")
        return folder, None, None
    except git.GitError:
        pass
    try:
        commit = git.git(Path(folder), "rev-parse", "--verify", "-q", "HEAD^{commit}")
    except git.GitError:
        raise UserError(f"--hook-repo {folder}: not a git repository with a commit; pre-commit "
                        "fetches the hook from one") from None
    pinned = commit.decode().strip()
    return folder, pinned, (f"the hook is pinned at {pinned[:12]}: {folder} has no tag {tag} "
                            "(tag it, and set rev: in .pre-commit-config.yaml, to follow "
                            "releases)")


def _repository_at(folder: Path) -> bool:
    """Is folder the top of a work tree, or a bare repository, itself?"""
    try:
        bare, git_dir = git.git(folder, "rev-parse", "--is-bare-repository",
                                "--absolute-git-dir").decode("utf-8", "surrogateescape").split()
        top = git_dir if bare == "true" else git.git(folder, "rev-parse", "--show-toplevel") \
            .decode("utf-8", "surrogateescape").strip()
    except (git.GitError, ValueError):
        return False
    return Path(top).resolve() == folder.resolve()


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
