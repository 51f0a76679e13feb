"""Is this checkout's flags/ the commit's? `build`, `export` and `sync` read the working tree,
and what they write ships (the pages, an engine's file, a live GitLab), while the gate judged
commits. A file the commit does not hold, or holds otherwise, was never judged: one left in a
runner's reused workspace by an earlier job, one a script step wrote, one git ignores, a
modified one hidden from `git status` (assume-unchanged), or one a sparse checkout left out
(the build then dropped the flag without a word)."""

from __future__ import annotations

from pathlib import Path

from validator import git
from validator.pyproject_file import PYPROJECT

SHIPPED = (git.FLAGS_DIR, PYPROJECT)
"""What the shipping commands read from the working tree: the flags and the policy."""
_STATUS_WORDS = {"??": "not in the commit (untracked)", "!!": "not in the commit (ignored by git)"}


def not_committed(root: Path) -> list[tuple[str, str]]:
    """Each path of SHIPPED whose checkout is not HEAD's, with how, in git's order; nothing
    outside a git work tree (an archive of a commit, which FO011 keeps as the commit says).

    `git status` compares the files with HEAD through the index; it does not look at a file
    the index marks skip-worktree or assume-unchanged, so those marks are read and refused
    too (`ls-files -v`: `S`, or a lower-case letter)."""
    try:
        status, marks = git.together(
            root, ("--no-optional-locks", "status", "--porcelain=v1", "-z", "--no-renames",
                   "--untracked-files=all", "--ignored=matching", "--", *SHIPPED),
            ("ls-files", "-v", "-z", "--", *SHIPPED))
    except git.NotARepository:
        return []
    except git.GitError as error:  # no git on this machine: no checkout to compare either
        if str(error) == git.NOT_INSTALLED:
            return []
        raise
    found = [(path, _STATUS_WORDS.get(code, f"changed since the commit (git status: {code})"))
             for code, path in _entries(status)]
    found += [(path, _mark_words(tag)) for tag, path in _entries(marks, width=1)
              if tag == "S" or tag.islower()]
    return found


def _entries(raw: bytes, *, width: int = 2) -> list[tuple[str, str]]:
    """`<code> <path>` records, NUL-separated: the code `width` characters, then a blank."""
    return [(record[:width].decode("ascii", "replace"),
             record[width + 1:].decode("utf-8", "surrogateescape"))
            for record in raw.split(b"\0") if record]


def _mark_words(tag: str) -> str:
    if tag == "S":
        return ("left out of this checkout by a sparse checkout (skip-worktree; `git "
                "sparse-checkout disable` puts it back)")
    return ("marked assume-unchanged, so git does not compare it with the commit (`git "
            "update-index --no-assume-unchanged` clears the mark)")
