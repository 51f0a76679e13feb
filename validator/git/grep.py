"""`git grep` over the work tree, a tree or the index: where flag names are used in code."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from validator import git


@dataclass(frozen=True, slots=True)
class GrepHit:
    """One match of `git grep -o`: where it starts (1-based) and the text it matched."""

    path: str
    line: int
    column: int
    text: str


def grep(root: Path, patterns: Sequence[str], *, exclude: Sequence[str] = (),
         tree: str | None = None, cached: bool = False) -> list[GrepHit]:
    """Every match of the extended regular expressions in the tracked and untracked (not
    ignored) files of root's work tree, or in a tree, or in the index; exit code 1 (nothing
    found) is no error. Every file is read as text (`--text`): one git calls binary (`-diff` or
    `binary` in .gitattributes, as generated code often is) can still use a flag, and a
    removal judged by these matches must not miss it."""
    return grep_each(root, [patterns], exclude=exclude, tree=tree, cached=cached)[0]


def grep_each(root: Path, groups: Sequence[Sequence[str]], *, exclude: Sequence[str] = (),
              tree: str | None = None, cached: bool = False) -> list[list[GrepHit]]:
    """`grep` of each group of patterns, one search each (a group with many matches slowed
    the rare patterns of another in one search), the work tree's files that would block git
    refused once for all of them."""
    _refuse_blocking(root, tree, cached, exclude)
    return [_grep(root, patterns, exclude, tree, cached) for patterns in groups]


def _grep(root: Path, patterns: Sequence[str], exclude: Sequence[str], tree: str | None,
          cached: bool) -> list[GrepHit]:
    args = [*_arguments(tree, cached), "--column", "-o", "-e", one_pattern(patterns)]
    if tree is not None:
        args.append(tree)
    args += ["--", ".", *(f":(exclude){path}" for path in exclude)]
    hits = _parse_grep(_run(root, args))
    if tree is None:
        return list(hits)
    return [GrepHit(hit.path.removeprefix(f"{tree}:"), hit.line, hit.column, hit.text)
            for hit in hits]


def one_pattern(patterns: Sequence[str]) -> str:
    """The patterns as one extended expression, each an alternative: git 2.39 given them as
    several `-e` took 25 s for a file of 3,000 calls that one alternation reads in 0.07 s,
    with the same matches (the leftmost, and of those the longest)."""
    return "|".join(f"({pattern})" for pattern in patterns)


def following(root: Path, patterns: Sequence[str], paths: Sequence[str], count: int, *,
              tree: str | None = None, cached: bool = False) -> dict[tuple[str, int], str]:
    """The whole lines of these files (as `grep` names them) that match, and the `count`
    lines after each (`git grep -A`), by path and line: what follows a match on its line,
    which git grep cannot match across. Files go in batches of `MOST_PATHSPECS`. They are
    files a `grep` of the same place named: the files that would block git were refused
    there."""
    args = [*_arguments(tree, cached), f"--after-context={count}", "-e", one_pattern(patterns)]
    if tree is not None:
        args.append(tree)
    asked = {f"{tree}:{path}" if tree is not None else path for path in paths}
    if any(path.startswith("--\n") for path in asked):  # read as a group's separator
        raise git.GitError(f"git grep in {root}: a file name starts with '--' and a newline")
    found: dict[tuple[str, int], str] = {}
    for start in range(0, len(paths), MOST_PATHSPECS):
        chosen = paths[start:start + MOST_PATHSPECS]
        raw = _run(root, [*args, "--", *(f":(literal){path}" for path in chosen)])
        for path, line, text in _parse_context(raw):
            if path not in asked:
                raise git.GitError(f"git grep in {root} named a file not asked about")
            found[path.removeprefix(f"{tree}:") if tree is not None else path, line] = text
    return found


def _refuse_blocking(root: Path, tree: str | None, cached: bool,
                     exclude: Sequence[str]) -> None:
    if tree is None and not cached:  # git opens the ignore files of the folders it walks
        tracked = git.git(root, "ls-files", "-z").split(b"\0")
        git.refuse_blocking_files(root, git.folders_of(tracked))
        git.refuse_blocking_ignores(root, _walked(root, exclude))


def _arguments(tree: str | None, cached: bool) -> list[str]:
    args = ["grep", "-z", "-n", "--text", "-E", "--no-color"]
    args.append("--cached" if cached else "--untracked" if tree is None else "--full-name")
    return args


def _run(root: Path, args: Sequence[str]) -> bytes:
    """git grep's output; exit code 1 with nothing said is nothing found."""
    # Bytes, not characters: in a UTF-8 locale git's `.` and `[^…]` match no byte that is not
    # UTF-8, so one Latin-1 letter in a comment hid the reference after it on that line.
    process = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False,
                             env=git.environment({"LC_ALL": "C"}))
    if process.returncode == 1 and not process.stderr:
        return b""
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        raise git.GitError(f"git grep in {root} failed: {detail[-1] if detail else 'no output'}")
    return process.stdout


MOST_PATHSPECS = 1000
"""A root with more entries than this is asked about whole, as before (`.`: all of flags/ is
walked too, which is slower and refuses more, never less): its names would make a command line
past what the system takes."""


def _walked(root: Path, exclude: Sequence[str]) -> list[str]:
    """What `git grep --untracked -- . :(exclude)…` walks, as pathspecs that git's walk for
    untracked files prunes by: the root's entries but `.git` and the excluded ones. Given
    `. :(exclude)flags/` instead, `ls-files --others` still walked all of flags/ (0.16 s at
    100,000 flags) and opened the ignore files there, which the grep never opens."""
    skipped = {path.rstrip("/") for path in exclude} | {".git"}
    with os.scandir(root) as entries:
        walked = [f":(literal){entry.name}" for entry in entries if entry.name not in skipped]
    return walked if len(walked) <= MOST_PATHSPECS else ["."]


def _parse_grep(raw: bytes) -> Iterator[GrepHit]:
    """`<path>\0<line>\0<column>\0<match>\n` records: the path ends at a NUL, so a path with
    a newline stays whole; a match never holds one (git grep matches within a line)."""
    position = 0
    while position < len(raw):
        path_end = raw.index(b"\0", position)
        line_end = raw.index(b"\0", path_end + 1)
        column_end = raw.index(b"\0", line_end + 1)
        text_end = raw.find(b"\n", column_end + 1)
        text_end = len(raw) if text_end < 0 else text_end
        yield GrepHit(raw[position:path_end].decode("utf-8", "surrogateescape"),
                      int(raw[path_end + 1:line_end]), int(raw[line_end + 1:column_end]),
                      raw[column_end + 1:text_end].decode("utf-8", "replace"))
        position = text_end + 1


def _parse_context(raw: bytes) -> Iterator[tuple[str, int, str]]:
    """`<path>\0<line>\0<text>\n` records, matches and context alike, and `--\n` between
    groups (which a path starting so would read as: `following` refuses such a name)."""
    position = 0
    while position < len(raw):
        if raw.startswith(b"--\n", position):
            position += 3
            continue
        path_end = raw.index(b"\0", position)
        line_end = raw.index(b"\0", path_end + 1)
        text_end = raw.find(b"\n", line_end + 1)
        text_end = len(raw) if text_end < 0 else text_end
        yield (raw[position:path_end].decode("utf-8", "surrogateescape"),
               int(raw[path_end + 1:line_end]),
               raw[line_end + 1:text_end].decode("utf-8", "replace"))
        position = text_end + 1
