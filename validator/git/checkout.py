"""Is this checkout's flags/ the commit's? `build`, `export` and `sync` read the working tree,
and what they write ships (the pages, an engine's file, a live GitLab), while the gate judged
commits. A file the commit does not hold, or holds otherwise, was never judged: one left in a
runner's reused workspace by an earlier job, one a script step wrote, one git ignores, a
modified one hidden from `git status` (assume-unchanged), or one a sparse checkout left out
(the build then dropped the flag without a word)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from validator import git
from validator.pyproject_file import PYPROJECT

SHIPPED = (git.FLAGS_DIR, PYPROJECT)
"""What the shipping commands read from the working tree: the flags and the policy."""
_STATUS_WORDS = {"??": "not in the commit (untracked)", "!!": "not in the commit (ignored by git)"}


def not_committed(root: Path, walked: Iterable[str]) -> list[tuple[str, str]]:
    """Each path of SHIPPED whose checkout is not HEAD's, with how, in git's order (outside a
    git work tree, git's error says so). `walked`: the flag files the build reads.

    `git status` compares the files with HEAD through the index; it does not look at a file
    the index marks skip-worktree or assume-unchanged, so those marks are read and refused
    too (`ls-files -v`: `S`, or a lower-case letter). Nor does it show a path git cannot
    hold (`flags/.git/x.yml`): every file walked must be one the index lists."""
    status, marks = git.together(
        root, ("--no-optional-locks", "status", "--porcelain=v1", "-z", "--no-renames",
               "--untracked-files=all", "--ignored=matching", "--", *SHIPPED),
        ("ls-files", "-v", "-z", "--", *SHIPPED))
    found = [(path, _STATUS_WORDS.get(code, f"changed since the commit (git status: {code})"))
             for code, path in _entries(status)]
    listed = _entries(marks, width=1)
    found += [(path, _mark_words(tag)) for tag, path in listed if tag == "S" or tag.islower()]
    known = {path for _, path in listed} | {path for path, _ in found}
    folders = tuple(path for path in known if path.endswith("/"))  # `!! flags/team/`
    found += [(path, "not in the commit (a path git does not list)") for path in walked
              if path not in known and not path.startswith(folders)]
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
