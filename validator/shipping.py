"""`build`, `export` and `sync` ship what they read (the pages and the provider's config, an
engine's file, a live GitLab's flags), and they read the working tree: it must be the commit
the gate judged. One rule for the three, so each refuses alike and says the same."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from validator import git
from validator.errors import UserError
from validator.files import walk_flags
from validator.git.checkout import not_committed
from validator.reports.escape import escape


def require_committed(root: Path, command: str, *, allow_dirty: bool,
                      also: Sequence[str] = ()) -> None:
    """Raises where the checkout is not one the gate could have judged: a folder below the
    top of its work tree (the gate reads flags/ at the top: `deploy/flags/` is code to it), or,
    unless `allow_dirty`, a flag file, the policy or a file of `also` (the version file the
    catalog's lifespans count from) that is not the commit's."""
    git.require_top_level(root)
    if allow_dirty:
        return
    try:
        git.refuse_blocking_files(root, (), git.CONTROL_FILES)  # `git status` opens them
        found = not_committed(root, walk_flags(root)[0], also)
    except git.GitError as error:
        if _outside_git(root, error):  # an archive of a commit: nothing to compare with
            return
        if isinstance(error, git.NotARepository):
            raise UserError(f"git cannot open the repository of {escape(str(root))} (its .git "
                            f"file, or GIT_DIR, names one): {command} ships only what the "
                            "commit holds, and there is no commit to compare with; repair the "
                            f"checkout, or give --allow-dirty to {command} the working tree "
                            "as it is") from None
        raise
    if found:
        path, how = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise UserError(f"{path} is {how}{more}: {command} ships only what the commit holds, "
                        "which is what the gate judged; make the checkout the commit's, or "
                        f"give --allow-dirty to {command} the working tree as it is")


def _outside_git(root: Path, error: git.GitError) -> bool:
    """Not a repository, or no git on this machine (an archive's build): no checkout to
    compare, and FO011 keeps an archive as the commit says. Not where a `.git` file at or
    above the root, or GIT_DIR, names a repository git cannot open (a worktree whose folder
    in the main repository was removed): that is a checkout nobody can compare. (A `.git`
    folder git does not take, an empty one say, is no more a checkout than none at all: who
    can empty it could remove it, and an archive's build ships what it holds.)"""
    if str(error) == git.NOT_INSTALLED:
        return True
    return isinstance(error, git.NotARepository) and "GIT_DIR" not in os.environ and not any(
        (folder / ".git").is_file() for folder in (root, *root.resolve().parents))
