"""A branch's history as the gate reads it: the first-parent line with commit times, the
commits that touched flag files with their `--raw` changes (streamed, so a long history is
never held whole), merges and trailers of a range, and where a shallow clone is cut."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from validator import git


def shallow_commits(root: Path) -> frozenset[str] | None:
    """The commits where a shallow clone's history is cut, or None for a full clone."""
    answer = git.git(root, "rev-parse", "--is-shallow-repository", "--git-path", "shallow")
    shallow, _, where = answer.decode("utf-8", "surrogateescape").partition("\n")
    if shallow.strip() != "true":
        return None
    try:
        listed = (root / where.strip()).read_text(encoding="ascii").split()
    except OSError:
        listed = []
    return frozenset(listed)


class FirstParent(NamedTuple):
    """One commit of a branch's first-parent line, as `git log --first-parent` lists it.
    A tuple: a line of 20,000 commits is read at every judged change, and tuples are made
    (and taken apart into columns, `zip(*line)`) at C speed."""

    sha: str
    committed_at: int
    parents: int


def first_parent_line(root: Path, ref: str) -> Sequence[FirstParent]:
    """The whole first-parent line of ref, newest first: ids, committer times, parent counts.

    No diffs are computed, so this stays cheap on long histories; landing times are judged
    against it (see `validator.history`). The times are the commits' own (`%ct`), as every
    other history read gives them: `rev-list --timestamp` would be faster with a commit-graph,
    but that file keeps 34 bits of a date (a commit dated past 2514 would read as long ago)
    and parses a malformed commit differently, so the verdict would depend on housekeeping.
    Read ahead (`read_line_ahead`) for exactly this root and commit, the line is that read's,
    and every later ask of the run gets it again.
    """
    ahead = _AHEAD.get((root, ref))
    return ahead.line() if ahead is not None else _parsed_line(git.git(root, *_line_command(ref)))


def _parsed_line(raw: bytes) -> tuple[FirstParent, ...]:
    """`%H %ct %P` rows; a root commit's %P is empty ("sha time "), so empty parents are not
    counted."""
    rows = (row.split(" ") for row in raw.decode("ascii").splitlines())
    return tuple(FirstParent(row[0], committer_time(row[1]), len(row) - 2 - row[2:].count(""))
                 for row in rows)


def committer_time(stamp: str) -> int:
    """A commit's `%ct`, which git leaves empty where it cannot read the committer's date
    (a time zone without its sign, `1700000000 0000`: fsck's badTimezone, a check that hosts
    may waive, since old histories hold it, and that a server without fsck on push never
    makes). git orders such a commit as dated 0, and so does the clock: it lands no earlier
    than the commit before it, as any backdated commit does.
    `int("")` made every later read of the branch's history an internal error (exit 3), so
    one such commit fast-forwarded onto the base branch stopped every forward step."""
    return int(stamp) if stamp else 0


def _line_command(ref: str) -> tuple[str, ...]:
    return ("log", "--no-show-signature", "--first-parent", "--format=%H %ct %P", ref, "--")


class _LineAhead:
    """A first-parent line being read in the background, parsed once when first asked for."""

    def __init__(self, root: Path, commit: str) -> None:
        self._read = git.Started(root, *_line_command(commit))
        self._line: tuple[FirstParent, ...] | None = None

    def line(self) -> tuple[FirstParent, ...]:
        if self._line is None:
            self._line = _parsed_line(self._read.result())
        return self._line


_AHEAD: dict[tuple[Path, str], _LineAhead] = {}
"""At most one first-parent line read ahead, by root and commit id: the run's, until dropped.
A commit's first-parent line never changes, and the gate asks for its base's up to three
times (landing times, each revert's removal, the lifecycle rules' ages)."""


def read_line_ahead(root: Path, commit: str) -> None:
    """Starts reading `first_parent_line(root, commit)` now, for the gate: its `git log` is
    the longest git read of a judged commit (0.25 s at 100,000 flags), and it can run while
    the judge's modules load. `commit` must be a commit id, so the line read is the one
    asked for later whatever a ref does meanwhile; `drop_line_ahead` ends the run's."""
    if (root, commit) not in _AHEAD:
        _AHEAD.clear()
        _AHEAD[(root, commit)] = _LineAhead(root, commit)


def read_line_ahead_of(root: Path, ref: str) -> None:
    """`read_line_ahead` for the commit ref names now, resolved as the judge resolves its base
    (so the judge asks for the same id); nothing where git cannot say, and the judge will."""
    try:
        commit = git.resolve(root, ref)
    except git.GitError:
        return
    read_line_ahead(root, commit)


def drop_line_ahead() -> None:
    """Forgets the line read ahead: no later run may take it."""
    _AHEAD.clear()


@dataclass(frozen=True, slots=True)
class Commit:
    """A first-parent commit and what it changed under flags/ (against its first parent)."""

    sha: str
    committed_at: int
    changes: tuple[git.Change, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes)


def first_parent_history(root: Path, revisions: str, pathspecs: Sequence[str], *,
                         limit: int | None = None) -> list[Commit]:
    """Commits of `revisions` (first parent only) that touched pathspecs, newest first.

    First parent only: a change lands on the base branch when its merge commit does. Each
    commit carries `--raw` changes (modes and object ids), so states are read by object id.
    """
    return list(first_parent_commits(root, revisions, pathspecs, limit=limit))


def first_parent_commits(root: Path, revisions: str, pathspecs: Sequence[str], *,
                         limit: int | None = None) -> Generator[Commit, None, None]:
    """`first_parent_history` as a stream: each commit is parsed as git writes it, so a
    caller that keeps only part of a long history (a few flags, or each flag's own changes)
    never holds the whole log's bytes or every change at once. Closing it early stops git."""
    if not pathspecs:
        return
    count = [f"--max-count={limit}"] if limit is not None else []
    yield from _parse_fields(_streamed_fields(root, (
        "log", "--no-show-signature", "--first-parent", "-m", "--no-renames", "--raw", "-z",
        *count, "--no-abbrev", "--format=%x00%H %ct", revisions, "--", *pathspecs),
        config=LOG_CONFIG))


def commits_in_order(root: Path, shas: Sequence[str], pathspecs: Sequence[str]) -> list[Commit]:
    """Those commits, in the order given, each with its changes under pathspecs from its first
    parent (a root commit's from nothing)."""
    if not shas or not pathspecs:
        return []
    return list(_parse_log(git.git(
        root, "log", "--no-show-signature", "--no-walk=unsorted", "--stdin", "-m",
        "--first-parent", "--no-renames", "--raw", "-z", "--no-abbrev", "--format=%x00%H %ct",
        "--", *pathspecs, stdin="".join(f"{sha}\n" for sha in shas).encode("ascii"))))


def removed_paths(root: Path, ref: str) -> set[str]:
    """Every path under flags/ that a commit of ref ever deleted (or moved away), each merge
    read against each parent: with the paths at ref, every flag file the branch has ever had.
    Not the first-parent line alone: a branch fast-forwarded to a merge of the target holds
    the target's own adds and removals on a second parent ("foxtrot"), and a name it had
    and removed there came back released as a brand-new import."""
    raw = git.git(root, "log", "--no-show-signature", "-m", "--no-renames",
                  "--diff-filter=D", "--raw", "-z", "--no-abbrev", "--format=%x00%H %ct", ref,
                  "--", git.FLAGS_DIR)
    return {change.path for commit in _parse_log(raw) for change in commit.changes}


LOG_CONFIG = ("-c", "core.deltaBaseCacheLimit=32m")
"""The history log's cache of delta bases: at git's default (96 MB) the log of a
10,000-flag history grew to 134 MB, the biggest process of `status`; at 32 MB it peaks at
68 MB and takes as long (1.5 s)."""
_HEADER = re.compile(rb"[0-9a-f]{40,64} [0-9]*")
"""`<sha> <%ct>`; the time is empty where git cannot read the commit's date
(`committer_time`): such a header still starts its own commit, or that commit's changes
would be counted as the newer one's (and a first commit's lost)."""
_CHUNK = 1 << 20
"""How much of a log is read at a time: big enough that the Python per read is nothing."""


def _streamed_fields(root: Path, args: Sequence[str], *,
                     config: Sequence[str] = ()) -> Iterator[bytes]:
    """The NUL-separated fields of a git command's output, read as it comes; the same
    errors as `git` once the output ends (the last field, after the final NUL, included).
    `config`: `-c` options put before the command."""
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(["git", *config, *args], cwd=root,
                                       stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=errors,
                                       env=git.environment())
        except FileNotFoundError:
            raise git.GitError(git.NOT_INSTALLED) from None
        assert process.stdout is not None
        try:
            tail = b""
            while chunk := process.stdout.read(_CHUNK):
                fields = (tail + chunk).split(b"\0")
                tail = fields.pop()
                yield from fields
            process.stdout.close()
            returncode = process.wait()
            if returncode != 0:
                errors.seek(0)
                git.raise_failure(root, args, errors.read(), returncode)
            yield tail
        finally:
            if process.poll() is None:  # the reader stopped early: git need not finish
                process.kill()
                process.wait()
            process.stdout.close()


def _parse_log(raw: bytes) -> Iterator[Commit]:
    """A whole `git log --raw -z --format=%x00%H %ct` output's commits (see `_parse_fields`)."""
    return _parse_fields(iter(raw.split(b"\0")))


def _parse_fields(fields: Iterator[bytes]) -> Iterator[Commit]:
    """Splits on NULs only: headers are `<sha> <time>`, changes are `--raw` records.

    Raw records start with ':' and are followed by their path, so no path text (newlines,
    U+0001, anything) can be mistaken for a header. A long history repeats each path and
    object id many times (a change's old side is the previous change's new side), so each
    path is decoded once and an old side that equals the new side met next (newest first)
    is the same `Entry`: a 10,000-flag history holds about half the objects.
    """
    current: tuple[str, int] | None = None
    changes: list[git.Change] = []
    paths: dict[bytes, str] = {}
    older: dict[str, git.Entry] = {}  # per path: the old side of its newest change so far
    modes: dict[str, str] = {}  # one string for each mode, not two a change
    for field_ in fields:
        field_ = field_.strip(b"\n")
        if field_[:1] == b":":
            raw_path = next(fields, None)
            if raw_path is None:
                break
            path = paths.get(raw_path)
            if path is None:
                path = paths[raw_path] = raw_path.decode("utf-8", "surrogateescape")
            old_mode, new_mode, old_oid, new_oid, _status = field_[1:].decode("ascii").split(" ")
            old_mode, new_mode = modes.setdefault(old_mode, old_mode), \
                modes.setdefault(new_mode, new_mode)
            known = older.get(path)
            if known is not None and known.oid == new_oid and known.mode == new_mode:
                after: git.Entry | None = known
            else:
                after = git.side(path, new_mode, new_oid)
            before = git.side(path, old_mode, old_oid)
            if before is not None:
                older[path] = before
            changes.append(git.Change(path, before, after))
            continue
        if _HEADER.fullmatch(field_):
            if current is not None:
                yield Commit(current[0], current[1], tuple(changes))
            sha, stamp = field_.decode("ascii").split(" ")
            current, changes = (sha, committer_time(stamp)), []
    if current is not None:
        yield Commit(current[0], current[1], tuple(changes))


def merges_in(root: Path, revision_range: str) -> list[tuple[str, ...]]:
    """Every merge commit of the range with its parents: (merge, first parent, others...)."""
    raw = git.git(root, "rev-list", "--merges", "--parents", revision_range)
    return [tuple(line.split(" ")) for line in raw.decode("ascii").splitlines() if line]


def first_parents_in(root: Path, revision_range: str) -> list[str]:
    """The first-parent commits of a range, newest first."""
    return git.git(root, "rev-list", "--first-parent", revision_range).decode("ascii").split()


def trailers_by_commit(root: Path, revision_range: str, key: str) -> list[tuple[str, str]]:
    """(commit, value) of the trailer `key` in every commit message of the range, newest
    first. A message holds any character but NUL, so records split on another separator let
    a message forge a commit id (`--output=/tmp/x`, read by git as an option): commits are
    listed by rev-list (whole ids only), and each one's trailers read alone, split on NUL."""
    listed = git.git(root, "rev-list", "--regexp-ignore-case",
                     f"--grep=^{key}[[:space:]]*:", revision_range).decode("ascii").split()
    found: list[tuple[str, str]] = []
    for sha in listed:
        if not git.OBJECT_ID.fullmatch(sha):
            continue
        raw = git.git(root, "log", "-1", "--no-show-signature",
                      f"--format=%(trailers:key={key},valueonly,separator=%x00)", sha)
        found += [(sha, value.strip()) for value in git.split_z(raw) if value.strip()]
    return found



def changed_after(root: Path, commit: str, tip: str, pathspec: str) -> str | None:
    """A commit of `commit..tip` that changes `pathspec` (one not in `commit`'s history:
    after it, or beside it on a merged branch), or None. Full history: a merge that kept
    one side's file is no reason to leave the other side's change out."""
    listed = git.git(root, "rev-list", "--full-history", "--max-count=1", f"{commit}..{tip}",
                     "--", pathspec).decode("ascii").split()
    return next((sha for sha in listed if git.OBJECT_ID.fullmatch(sha)), None)
