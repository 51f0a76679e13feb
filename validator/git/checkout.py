"""Is this checkout's flags/ the commit's? `build`, `export` and `sync` read the working tree,
and what they write ships (the pages, an engine's file, a live GitLab), while the gate judged
commits. A file the commit does not hold, or holds otherwise, was never judged: one left in a
runner's reused workspace by an earlier job, one a script step wrote, one git ignores, a
modified one hidden from `git status` (assume-unchanged), or one a sparse checkout left out
(the build then dropped the flag without a word)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from validator import git
from validator.pyproject_file import PYPROJECT

SHIPPED = (git.FLAGS_DIR, PYPROJECT)
"""What the shipping commands read from the working tree: the flags and the policy."""
_UNTRACKED = {"??": "not in the commit (untracked)", "!!": "not in the commit (ignored by git)"}


def not_committed(root: Path, walked: Iterable[str],
                  also: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Each file the build reads whose checkout is not HEAD's, with how, in git's order
    (outside a git work tree, git's error says so). `walked`: the flag files the build reads;
    `also`: other files it reads (a version file), besides SHIPPED.

    Only what the build reads counts: flag files (and folders holding them) and the policy,
    not an editor's swap file or a `.DS_Store` beside them. `git status` compares through
    git's normalized view: a flag file committed with CRLF under `*.yml text eol=lf` shows as
    changed in every fresh clone, so a file it calls changed is compared by its bytes with
    HEAD's blob (`hash-object --no-filters`), which is what the build reads. It does not look
    at a file the index marks skip-worktree or assume-unchanged, so those marks are read and
    refused too (`ls-files -v`: `S`, or a lower-case letter); nor does it show a path git
    cannot hold (`flags/.git/x.yml`): every file walked must be one the index lists. Nor
    does it see an edit that a conversion cleans back to HEAD's blob: a clean filter in git's
    configuration, or `ident` (`$Id: …$` on a line is `$Id$` to git, whatever is between),
    named in `.git/info/attributes`, which no review sees. The files an attribute gives one
    of those are compared by their bytes too."""
    walked = list(walked)
    shipped = (*SHIPPED, *(f":(literal){path}" for path in also))
    listing = git.Started(root, "ls-files", "-v", "-z", "--", *shipped)
    status, committed = _against_commit(root, shipped)
    marks = listing.result()
    read = partial(_read, walked=walked, also=frozenset(also))
    entries = [(code, path) for code, path in _entries(status) if read(path)]
    reported = {path for _, path in entries}
    hidden = [path for path in _converted(root, [*walked, *_files(root, (PYPROJECT, *also))])
              if path not in reported]
    same = _as_committed(root, [*(path for code, path in entries
                                  if code not in _UNTRACKED and "D" not in code
                                  and "T" not in code), *hidden])
    listed = _entries(marks, width=1)
    # A marked file first: its mark says why it differs (the scratch index shows it changed).
    found = [(path, _mark_words(tag)) for tag, path in listed
             if (tag == "S" or tag.islower()) and read(path)]
    marked = {path for path, _ in found}
    found += [(path, _status_words(code)) for code, path in entries
              if path not in same and path not in marked]
    found += [(path, "changed since the commit (a conversion its attributes ask for, a "
                     "filter or ident, cleans it back to the commit's bytes, so git status "
                     "does not show it)")
              for path in hidden if path not in same and path not in marked]
    known = {*git.split_z(committed), *(path for _, path in entries)}
    folders = tuple(path for path in known if path.endswith("/"))  # `!! flags/team/`
    found += [(path, "not in the commit (a path git does not list)") for path in walked
              if path not in known and not path.startswith(folders)]
    found += [(path, "not in the commit (a path git does not list: in another repository, "
                     "a submodule or a nested one)") for path in also
              if path not in known and _reached(root, path)]
    return found


def _reached(root: Path, path: str) -> bool:
    """Is something at `path`, reached through folders that are no symlinks (what the build
    reads: validator/lifecycle/reads.py `_working_version` reads nothing through a link)?"""
    parts = path.split("/")
    folders = [root.joinpath(*parts[:end]) for end in range(1, len(parts))]
    return not any(folder.is_symlink() for folder in folders) and os.path.lexists(root / path)


def _against_commit(root: Path, shipped: Sequence[str]) -> tuple[bytes, bytes]:
    """`git status` of the shipped paths against HEAD, through a scratch index read from HEAD
    (`git.index_of`), so that every file is read. The checkout's own index keeps each file's
    size and times beside its blob id, and an earlier job on a reused workspace could record
    HEAD's blob id there with an edited file's times (`git add` through a one-off clean
    filter, its attribute removed after): `git status`, the runner's `checkout -f` and
    `clean` all took the edit for the commit, and `build` shipped it. At 10,000 flags reading
    them all took 0.17 s, against 0.03 s through the index's times. Each entry's code says
    how the file differs from HEAD: a file only staged is untracked here. With it, the paths
    HEAD lists (a file whose removal is only staged is still the commit's)."""
    born = git.commit_of(root, "HEAD^{commit}") is not None  # an unborn branch holds nothing
    with git.index_of(root, "HEAD" if born else None) as env:
        status = git.git(root, "--no-optional-locks", "status", "--porcelain=v1", "-z",
                         "--no-renames", "--untracked-files=all", "--ignored=matching", "--",
                         *shipped, env=env)
        return status, git.git(root, "ls-files", "-z", "--", *shipped, env=env)


HIDING = ("filter", "ident", "working-tree-encoding")
"""The attributes whose conversion git status compares through, so that it can clean an edit
back to the commit's bytes: a filter's clean program, `ident`'s `$Id$`, a re-encoding."""


def _converted(root: Path, paths: list[str]) -> list[str]:
    """Those of paths that git's attributes (from any attributes file) give one of HIDING."""
    if not paths:
        return []
    listing = "".join(f"{path}\0" for path in paths).encode("utf-8", "surrogateescape")
    fields = git.git(root, "check-attr", "-z", "--stdin", *HIDING, stdin=listing).split(b"\0")
    found = dict.fromkeys(fields[index].decode("utf-8", "surrogateescape")
                          for index in range(0, len(fields) - 2, 3)
                          if fields[index + 2] not in (b"unspecified", b"unset"))
    return list(found)


def _files(root: Path, paths: Sequence[str]) -> list[str]:
    return [path for path in paths if (root / path).is_file()]


def _read(path: str, *, walked: list[str], also: frozenset[str]) -> bool:
    """Does the build read this path (a folder: a file in it)?"""
    if path == PYPROJECT or path in also or path.lower().endswith(".yml"):
        return True
    return path.endswith("/") and any(file.startswith(path) for file in walked)


def _as_committed(root: Path, paths: list[str]) -> set[str]:
    """Those of paths that are regular files, as HEAD has them, with HEAD's blob's bytes.
    (A type change is never excused: `hash-object` follows a symlink, and a file that holds
    a symlink's text has that symlink's blob id, while the build reads neither through.)"""
    if not paths:
        return set()
    others = [path for path in paths if not path.startswith(f"{git.FLAGS_DIR}/")]
    committed = {path: entry.oid for path, entry in
                 git.tree_entries(root, "HEAD", *SHIPPED, *others).items() if entry.is_regular}
    paths = [path for path in paths  # one a line: FO010 refuses the others
             if "\n" not in path and (root / path).is_file() and not (root / path).is_symlink()]
    listing = "".join(f"{path}\n" for path in paths).encode("utf-8", "surrogateescape")
    hashed = git.git(root, "hash-object", "--no-filters", "--stdin-paths",
                     stdin=listing).decode().split() if paths else []
    return {path for path, oid in zip(paths, hashed, strict=True) if committed.get(path) == oid}


def _status_words(code: str) -> str:
    if code in _UNTRACKED:
        return _UNTRACKED[code]
    if "U" in code or code in ("AA", "DD"):
        return "in a merge with conflicts"
    if "T" in code:
        return "of another type than in the commit (a symlink, or a file where it has one)"
    if "D" in code:
        return "deleted in this checkout (the commit has it)"
    return "changed since the commit" if code[0] != "A" else "not in the commit (only staged)"


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
