"""`build`, `export` and `sync` ship what they read (the pages and the provider's config, an
engine's file, a live GitLab's flags), and they read the working tree: it must be the commit
the gate judged. One rule for the three, so each refuses alike and says the same."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
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
        # `git status` opens them in the top folder and in each folder above a file it is
        # asked about by name (a FIFO `deploy/.gitattributes` beside the version file held it)
        git.refuse_blocking_files(root, {path.rpartition("/")[0] for path in also},
                                  git.CONTROL_FILES)
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
    _require_pipeline_commit(root, command, os.environ)
    if found:
        path, how = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise UserError(f"{path} is {how}{more}: {command} ships only what the commit holds, "
                        "which is what the gate judged; make the checkout the commit's, or "
                        f"give --allow-dirty to {command} the working tree as it is")


def _pipeline_commit(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The commit a CI job was started for, which the pipeline's gate judged, and the
    variable that names it: GitLab's CI_COMMIT_SHA; GitHub's GITHUB_SHA on a push (on a pull
    request it is GitHub's merge commit, which a job may well not check out)."""
    if environ.get("GITLAB_CI") == "true" and environ.get("CI_COMMIT_SHA"):
        return "CI_COMMIT_SHA", environ["CI_COMMIT_SHA"]
    if environ.get("GITHUB_ACTIONS") == "true" and environ.get("GITHUB_EVENT_NAME") == "push" \
            and environ.get("GITHUB_SHA"):
        return "GITHUB_SHA", environ["GITHUB_SHA"]
    return None


def _require_pipeline_commit(root: Path, command: str, environ: Mapping[str, str]) -> None:
    """In a CI job, HEAD must be the job's commit: a workspace a runner reuses without a
    checkout of its own (GIT_STRATEGY: none), or a step's `git checkout`, left HEAD at another
    commit, one the gate may have refused, and its flags shipped as clean."""
    pipeline = _pipeline_commit(environ)
    if pipeline is None:
        return
    name, wanted = pipeline
    head = git.git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip()
    if head.lower() != wanted.strip().lower():
        raise UserError(f"HEAD is {head[:12]}, not this job's commit {escape(wanted[:40])} "
                        f"({name}), which the pipeline's gate judged: {command} ships only "
                        "that commit; check it out (the runner's checkout, not GIT_STRATEGY: "
                        f"none), or give --allow-dirty to {command} the working tree as it is")


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
