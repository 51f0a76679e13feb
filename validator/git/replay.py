"""What a rebase of a change onto its target lands: GitHub's "Rebase and merge" replays each of
the change's commits onto the target, and that can land another tree than the merge the gate
judged. A branch that took a flag 50 % → 10 % and back to 50 %, merged after the target's own
rollback to 10 %, merges to 10 % (its commits cancel out), and rebases to 50 %: the first
commit is the target's change already, the second takes the flag to 50 % again. A branch on
top of its target rebases to its own tree, unless it holds a merge: a rebase leaves merges
out, and with them whatever a merge itself changed.

Each commit is replayed as git replays it (a three-way merge of the commit onto the tree so
far, from the commit's parent), with `git merge-tree`: git 2.39 has no `--merge-base`, so the
tree so far is made a commit whose parent is the replayed commit's, and their one merge base
is that parent. Merges are left out, and so are commits whose change the target has already
(`--cherry-pick`), as git's rebase leaves them out: a rollback the target took in another
commit, and undid since, lands nothing. Nothing is checked out: the objects are written to
the repository, as `merge_tree`'s are.
"""

from __future__ import annotations

from pathlib import Path

from validator.git import GitError, git, merge_tree
from validator.git.log import shallow_commits

MOST_COMMITS = 500
"""A change of more commits is not replayed (each is a merge): it is told to rebase."""
_AUTHOR = {"GIT_AUTHOR_NAME": "flagops", "GIT_AUTHOR_EMAIL": "flagops@localhost",
           "GIT_AUTHOR_DATE": "@0 +0000", "GIT_COMMITTER_NAME": "flagops",
           "GIT_COMMITTER_EMAIL": "flagops@localhost", "GIT_COMMITTER_DATE": "@0 +0000"}
"""The replay's own commits, whatever the clone's configuration (CI has no identity)."""


class TooLong(Exception):
    """More commits than MOST_COMMITS: what a rebase lands is not worked out."""


def rebased_tree(root: Path, target: str, head: str) -> str | None:
    """The tree that rebasing `head` onto the commit `target` lands, or None where a commit
    does not replay cleanly: a rebase merge of it is refused as well (GitHub: "This branch
    cannot be rebased"), so only its merge can land. TooLong past MOST_COMMITS. A root commit
    (another history merged in) is replayed from the empty tree."""
    listed = replayed(root, target, head)
    if len(listed) > MOST_COMMITS:
        raise TooLong
    tree = _tree(root, target)
    for commit, *parents in listed:  # each commit with its parent (a merge is not listed)
        if not parents:  # the root of another history, merged in: replayed onto nothing
            _refuse_shallow(root, commit)
            parent = _commit(root, _empty_tree(root))
            commit = _commit(root, _tree(root, commit), parent)
        else:
            parent = parents[0]
        if _tree(root, parent) == tree:  # the commit applies as it was made
            tree = _tree(root, commit)
            continue
        merged = merge_tree(root, _commit(root, tree, parent), commit)
        if merged is None:
            return None
        tree = merged
    return tree


def replayed(root: Path, target: str, head: str) -> list[list[str]]:
    """The commits a rebase of `head` onto `target` replays, in the order it replays them,
    each with its parents (none for a root commit): every commit but the merges, those of a
    branch merged in too (the full history: none is left out for a merge that kept one
    side's tree), and none whose change the target has already."""
    return [line.split() for line in git(
        root, "rev-list", "--reverse", "--topo-order", "--no-merges", "--cherry-pick",
        "--right-only", "--parents", f"{target}...{head}").decode().splitlines()]


def _commit(root: Path, tree: str, parent: str | None = None) -> str:
    """A commit of the replay's own: `tree` on `parent` (none: a root)."""
    parents = ("-p", parent) if parent is not None else ()
    return git(root, "commit-tree", tree, *parents, "-m", "flagops replay",
               env=_AUTHOR).decode().strip()


def _empty_tree(root: Path) -> str:
    """What a root commit is replayed from, as git's rebase replays it: its change is every
    file it holds, added. (Left out, a branch that merged another history in before taking
    a flag past the target's rollback was not replayed, and the step it lands passed.)"""
    return git(root, "mktree", stdin=b"").decode().strip()


def _refuse_shallow(root: Path, commit: str) -> None:
    """GitError where a commit with no parent to replay it from is a shallow clone's cut."""
    if commit in (shallow_commits(root) or frozenset()):
        raise GitError(f"the change's commit {commit[:12]} is where this shallow clone's history "
                       "is cut, so what a rebase of it lands cannot be told: fetch the whole "
                       "history (git fetch --unshallow; GitLab CI: GIT_DEPTH: 0)")


def _tree(root: Path, commit: str) -> str:
    return git(root, "rev-parse", "--verify", "-q", f"{commit}^{{tree}}").decode().strip()
