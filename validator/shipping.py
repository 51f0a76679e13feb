"""`build`, `export` and `sync` ship what they read (the pages and the provider's config, an
engine's file, a live GitLab's flags), and they read the working tree: it must be the commit
the gate judged. One rule for the three, so each refuses alike and says the same."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from validator import git
from validator.ci.job_commit import JobCommit, job_commit, names_project
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
    job = job_commit(os.environ)
    try:
        # `git status` opens them in the top folder and in each folder above a file it is
        # asked about by name (a FIFO `deploy/.gitattributes` beside the version file held it)
        git.refuse_blocking_files(root, {path.rpartition("/")[0] for path in also},
                                  git.CONTROL_FILES)
        found = not_committed(root, walk_flags(root)[0], also)
    except git.GitError as error:
        _refuse_uncompared(root, command, error, job)
        return  # an archive of a commit: nothing to compare with
    _require_job_commit(root, command, job)
    _require_current(root, command, job)
    if found:
        path, how = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise UserError(f"{path} is {how}{more}: {command} ships only what the commit holds, "
                        "which is what the gate judged; make the checkout the commit's, or "
                        f"give --allow-dirty to {command} the working tree as it is")


def _require_current(root: Path, command: str, job: JobCommit | None) -> None:
    """A checkout behind the branch it ships (as this clone last fetched it) ships a state the
    branch has moved past: a rollback that landed there, already synced, was undone by a sync
    from a clone that had fetched and not pulled, and so would be by an older pipeline's job
    finishing after a newer one's. The branch is the job's in CI (`origin/<branch>`), else
    the upstream of HEAD's branch, else, for a detached HEAD or a branch with no upstream,
    the remote's default branch where HEAD is an older commit of it. Ahead of it, or off it,
    the checkout is the user's to ship."""
    ref = _shipped_branch(root, job)
    if ref is None:
        return
    behind = int(git.git(root, "rev-list", "--count", f"HEAD..{ref}"))
    if behind:
        shown = git.git(root, "rev-parse", "--abbrev-ref", ref).decode("utf-8", "replace")
        raise UserError(f"HEAD is {behind} commit(s) behind {escape(shown.strip())} (as last "
                        f"fetched): {command} would ship a state the branch has moved past (a "
                        "rollback that landed there would be undone); ship its newest commit, "
                        f"or give --allow-dirty to {command} the working tree as it is")


def _shipped_branch(root: Path, job: JobCommit | None) -> str | None:
    """The ref of the branch the checkout ships, where one is known."""
    if job is not None:
        ref = f"refs/remotes/origin/{job.branch}"
        return ref if job.branch and git.commit_of(root, f"{ref}^{{commit}}") else None
    if git.commit_of(root, "@{upstream}^{commit}") is not None:
        return "@{upstream}"
    head = git.commit_of(root, "HEAD^{commit}")
    default = git.first_commit(root, _DEFAULT_BRANCHES)
    if head is None or default is None or not git.is_ancestor(root, head, default[1]):
        return None
    return default[0]


_DEFAULT_BRANCHES = ("refs/remotes/origin/HEAD", "refs/remotes/origin/main",
                     "refs/remotes/origin/master")
"""The remote's default branch, for a detached HEAD or a branch with no upstream: an older
commit of it ships a state it has moved past. Not any remote branch holding HEAD: every
branch started from main's tip held it, and a CI that fetches them all refused main itself."""


def _refuse_uncompared(root: Path, command: str, error: git.GitError,
                       job: JobCommit | None) -> None:
    """Returns where git found no checkout to compare (an archive's build), else raises: a
    repository git cannot open, a CI job's own checkout with no repository in it (an earlier
    job on the runner emptied `.git`: "an archive" shipped its edits), or git's error."""
    if _outside_git(root, error):
        if job is None or not _in_workspace(root, job):
            return
        raise UserError(f"{escape(str(root))} is in this CI job's workspace, and holds no "
                        f"git repository to compare with its commit ({job.variable}): {command} "
                        "ships only that commit; let the runner check it out, or give "
                        f"--allow-dirty to {command} the folder as it is") from None
    if isinstance(error, git.NotARepository):
        raise UserError(f"git cannot open the repository of {escape(str(root))} (its .git "
                        f"file, or GIT_DIR, names one): {command} ships only what the commit "
                        "holds, and there is no commit to compare with; repair the checkout, "
                        f"or give --allow-dirty to {command} the working tree as it is") \
            from None
    raise error


def _require_job_commit(root: Path, command: str, job: JobCommit | None) -> None:
    """In a CI job, a checkout of its own project (its workspace, or any repository that
    holds the job's commit: a worktree, `actions/checkout` with `path:`, the workspace by
    another path) must have HEAD at the job's commit: a workspace a runner reuses without a
    checkout of its own (GIT_STRATEGY: none), or a step's `git checkout`, left HEAD at another
    commit, one the gate may have refused, and its flags shipped as clean. Not asked of
    another repository the job checked out (a flags repository beside its project, a
    submodule), which does not hold the job's commit."""
    if job is None:
        return
    wanted = git.commit_of(root, f"{job.sha}^{{commit}}") if _OBJECT_ID.fullmatch(job.sha) \
        else None  # what the host sets: an id, never an option or a ref name for git to read
    if wanted is None and not _is_workspace(root, job) and not _clones_project(root, job):
        return  # another repository than the job's project: its own HEAD is what it holds
    head = git.commit_of(root, "HEAD^{commit}")
    if head is None or wanted is None or head != wanted:
        now = "names no commit yet" if head is None else f"is {head[:12]}"
        how = ("the runner's checkout, not GIT_STRATEGY: none" if job.variable == "CI_COMMIT_SHA"
               else "actions/checkout with no other ref:")
        raise UserError(f"HEAD {now}, not this job's commit {escape(job.sha[:64])} "
                        f"({job.variable}), which the pipeline's gate judged: {command} ships "
                        f"only that commit; check it out ({how}), or give --allow-dirty to "
                        f"{command} the working tree as it is")


_OBJECT_ID = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


def _is_workspace(root: Path, job: JobCommit) -> bool:
    """Is root the job's workspace folder, by any path to it (a bind mount too)?"""
    return _same(root, job.workspace)


def _in_workspace(root: Path, job: JobCommit) -> bool:
    """Is root the job's workspace or a folder in it (`actions/checkout` with `path:`)?"""
    folder = Path(os.path.realpath(root))
    return any(_same(place, job.workspace) for place in (folder, *folder.parents))


def _same(folder: Path, other: str) -> bool:
    try:
        return bool(other) and os.path.samefile(folder, other)
    except OSError:
        return False


def _clones_project(root: Path, job: JobCommit) -> bool:
    """Is root a clone of the job's project by its remote (one an earlier job on a reused
    runner left at another commit, without the job's)? A remote an earlier job wrote can name
    anything: a runner shared with untrusted jobs has each job check out its repositories."""
    try:
        url = git.git(root, "config", "--get", "remote.origin.url").decode("utf-8", "replace")
    except git.GitError:
        return False
    return names_project(url, job.project)


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
