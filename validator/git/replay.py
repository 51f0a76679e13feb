"""What a rebase of a change onto its target lands: GitHub's "Rebase and merge" replays each of
the change's commits onto the target, and that can land another tree than the merge the gate
judged. A branch that took a flag 50 % → 10 % and back to 50 %, merged after the target's own
rollback to 10 %, merges to 10 % (its commits cancel out), and rebases to 50 %: the first
commit is the target's change already, the second takes the flag to 50 % again.

Each commit is replayed as git replays it (a three-way merge of the commit onto the tree so
far, from the commit's parent), with `git merge-tree`: git 2.39 has no `--merge-base`, so the
tree so far is made a commit whose parent is the replayed commit's, and their one merge base
is that parent. Merges are left out, as a rebase leaves them, and so are commits the target
has already (`--cherry-pick`, where they matter). Nothing is checked out: the objects are
written to the repository, as `merge_tree`'s are.
"""

from __future__ import annotations

from pathlib import Path

from validator.git import git, merge_tree

MOST_COMMITS = 500
"""A change of more commits is not replayed (each is a merge): it is told to rebase."""
_AUTHOR = {"GIT_AUTHOR_NAME": "flagops", "GIT_AUTHOR_EMAIL": "flagops@localhost",
           "GIT_AUTHOR_DATE": "@0 +0000", "GIT_COMMITTER_NAME": "flagops",
           "GIT_COMMITTER_EMAIL": "flagops@localhost", "GIT_COMMITTER_DATE": "@0 +0000"}
"""The replay's own commits, whatever the clone's configuration (CI has no identity)."""


def rebased_tree(root: Path, target: str, head: str) -> str | None:
    """The tree that rebasing `head` onto the commit `target` lands, or None where a commit
    does not replay cleanly, or there are more than MOST_COMMITS.

    The commits the target has already are dropped only where a replay stops on one: a
    commit the target has made too replays as no change, and telling them apart
    (`--cherry-pick`) diffs every commit of the target since the fork (a second at 1,800
    commits of a 10,000-flag repository)."""
    found = _replayed(root, target, _commits(root, target, head))
    if found is None:
        found = _replayed(root, target, _commits(root, target, head, "--cherry-pick"))
    return found


def _commits(root: Path, target: str, head: str, *drop: str) -> list[str]:
    """The commits a rebase of head onto target replays, oldest first (not its merges)."""
    return git(root, "rev-list", "--reverse", "--topo-order", "--no-merges", *drop,
               "--right-only", f"{target}...{head}").decode().split()


def _replayed(root: Path, target: str, listed: list[str]) -> str | None:
    if len(listed) > MOST_COMMITS:
        return None
    tree = _tree(root, target)
    for commit in listed:
        parents = git(root, "rev-list", "--parents", "-n", "1", commit).decode().split()
        if len(parents) != 2:  # a root commit: no parent to replay it from
            return None
        parent = parents[1]
        if _tree(root, parent) == tree:  # the commit applies as it was made
            tree = _tree(root, commit)
            continue
        ours = git(root, "commit-tree", tree, "-p", parent, "-m", "flagops replay",
                   env=_AUTHOR).decode().strip()
        merged = merge_tree(root, ours, commit)
        if merged is None:
            return None
        tree = merged
    return tree


def _tree(root: Path, commit: str) -> str:
    return git(root, "rev-parse", "--verify", "-q", f"{commit}^{{tree}}").decode().strip()
