"""The only module that runs git. Reads go in batches: a few processes, whatever the repo size."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

from validator.errors import UserError
from validator.files import ATTRIBUTES

FLAGS_DIR = "flags"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""The tree of no files: the base of a repository's first commit."""
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class GitError(UserError):
    pass


class NotARepository(GitError):
    pass


_PATHSPEC_VARIABLES = frozenset(("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS",
                                 "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"))
"""They change what every pathspec means: with GIT_LITERAL_PATHSPECS=1 the history query
`:(glob)flags/**/<name>.yml` matches nothing, and a state with no history reads as soaked."""
PINNED_CONFIG = (
    ("core.trustctime", "true"),  # a file whose ctime changed is looked at, as by default
    ("core.checkStat", "default"),  # every stat field, not only mtime and size
    ("core.fsmonitor", "false"),  # no hook of the checkout's owner says what changed
    ("diff.ignoreSubmodules", "none"),  # a gitlink under flags/ is seen (.gitmodules ignore=all)
    ("diff.relative", "false"),  # paths from the top, never cut to the current folder
)
"""Settings that would make git show the gate another change than the one made, whatever the
user's or the repository's configuration says (given as GIT_CONFIG_* variables, which come
last and so win)."""


def environment(extra: dict[str, str] | None = None,
                drop: frozenset[str] = frozenset()) -> dict[str, str]:
    """The environment every git process of the gate runs in: the caller's, without the
    pathspec switches, with PINNED_CONFIG after any configuration the caller passes."""
    env = {key: value for key, value in os.environ.items()
           if key not in _PATHSPEC_VARIABLES and key not in drop}
    given = env.get("GIT_CONFIG_COUNT", "")
    count = int(given) if given.isdigit() else 0
    env["GIT_CONFIG_COUNT"] = str(count + len(PINNED_CONFIG))
    for index, (key, value) in enumerate(PINNED_CONFIG, start=count):
        env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
    env.update(extra or {})
    return env


def git(root: Path, *args: str, stdin: bytes | None = None,
        env: dict[str, str] | None = None) -> bytes:
    try:
        process = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False,
            env=environment(env),
        )
    except FileNotFoundError:
        raise GitError("git is not installed, and --base/--staged read git") from None
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("not a git repository" in line for line in detail):
            raise NotARepository(f"{root.resolve()} is not in a git repository; --base, "
                                 "--staged and plan compare git states")
        raise GitError(f"git {args[0]} failed: {detail[-1] if detail else process.returncode}")
    return process.stdout


def together(root: Path, *commands: Sequence[str]) -> list[bytes]:
    """Independent git commands run at once, their outputs in order; the first failure is
    raised. For the pre-commit hook's shortcut, where each process is most of the wait."""
    outputs: list[bytes | GitError] = [b""] * len(commands)

    def run(index: int) -> None:
        try:
            outputs[index] = git(root, *commands[index])
        except GitError as error:
            outputs[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(1, len(commands))]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    for output in outputs:
        if isinstance(output, GitError):
            raise output
    return [output for output in outputs if isinstance(output, bytes)]


def resolve(root: Path, ref: str) -> str:
    """The commit id of ref (or its tree id if it names a tree), or an error naming the ref."""
    for peel in ("commit", "tree"):
        try:
            found = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{{peel}}}")
            return found.decode().strip()
        except NotARepository:
            raise
        except GitError:
            continue
    raise GitError(f"unknown git ref {ref!r}; fetch it first (CI: GIT_DEPTH: \"0\")")


def object_type(root: Path, object_id: str) -> str:
    return git(root, "cat-file", "-t", object_id).decode().strip()


def fetch(root: Path, remote: str, refspec: str) -> None:
    """One ref from a remote (a name or a URL), e.g. a merge request's target branch."""
    git(root, "fetch", "--quiet", "--no-tags", remote, refspec)


def prefix_in_work_tree(folder: Path) -> str:
    """Where folder sits below the top of its work tree ("" at the top, or outside one)."""
    try:
        return git(folder, "rev-parse", "--show-prefix").decode("utf-8", "surrogateescape").strip()
    except GitError:
        return ""


def require_top_level(root: Path) -> None:
    """git names paths from the top of the work tree, and the base's policy and flags/ are read
    there: judged from a folder below it, every flag path would look like code (`svc/flags/…`)
    and every change would pass."""
    prefix = prefix_in_work_tree(root)
    if prefix:
        raise GitError(f"{root} is the folder {prefix.rstrip('/')} of a git repository, not its "
                       "top; flagops judges flags/ and pyproject.toml at the top of the "
                       "repository: keep them there")


def inside_work_tree(folder: Path) -> bool:
    try:
        return git(folder, "rev-parse", "--is-inside-work-tree").decode().strip() == "true"
    except GitError:
        return False


def init_repository(folder: Path, branch: str) -> bool:
    """`git init` unless folder is already inside a work tree; True if it made one."""
    inside = inside_work_tree(folder)
    if not inside:
        git(folder, "init", "--quiet", "--initial-branch", branch)
    return not inside


def is_flag_path(path: str) -> bool:
    return path.startswith(f"{FLAGS_DIR}/") and path.endswith(".yml")


def under_flags(path: str) -> bool:
    return path == FLAGS_DIR or path.startswith(f"{FLAGS_DIR}/")


def _split_z(raw: bytes) -> list[str]:
    return [part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0") if part]


REGULAR_MODES = frozenset(("100644", "100755"))
MODE_KINDS = {"120000": "a symlink", "160000": "a submodule (gitlink)", "040000": "a folder"}
"""What a path is instead of a regular file, in the words findings use."""
MISSING_MODE = "000000"


@dataclass(frozen=True, slots=True)
class Entry:
    """One path in a tree, the index or a diff side: git's mode and object id.

    `oid` is None where git has no object for it (the working tree side of a diff).
    """

    path: str
    mode: str
    oid: str | None

    @property
    def is_regular(self) -> bool:
        return self.mode in REGULAR_MODES


def tree_entries(root: Path, ref: str, *paths: str) -> dict[str, Entry]:
    """Every blob, symlink and submodule under paths at ref (default flags/), by path."""
    raw = git(root, "ls-tree", "-r", "-z", "--full-tree", ref, "--", *(paths or (FLAGS_DIR,)))
    return {entry.path: entry for entry in map(_ls_entry, _split_z(raw))}


def _ls_entry(line: str) -> Entry:
    """`<mode> <type> <oid>\t<path>`, as `git ls-tree -z` prints it."""
    info, _, path = line.partition("\t")
    mode, _, oid = info.split(" ")
    return Entry(path, mode, oid)


def index_listing(root: Path) -> str:
    """The index under flags/ (and the root's .gitattributes) as `git ls-files --stage -z`
    lists it: NUL-separated `<mode> <oid> <stage>\t<path>` (see validator.head_listing)."""
    raw = git(root, "ls-files", "--stage", "-z", "--", FLAGS_DIR, ATTRIBUTES)
    return raw.decode("utf-8", "surrogateescape")


def tree_listing(root: Path, ref: str, *paths: str) -> str:
    """Paths at ref as `git ls-tree -r -z` lists them: `<mode> <type> <oid>\t<path>`."""
    raw = git(root, "ls-tree", "-r", "-z", "--full-tree", ref, "--", *paths)
    return raw.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Change:
    """One path of `git diff --raw`: what it was at the base and what it is at the head."""

    path: str
    before: Entry | None
    after: Entry | None


def diff_entries(root: Path, base: str, head: str | None, *paths: str,
                 staged: bool = False, untracked: Sequence[str] = ()) -> list[Change]:
    """Paths that differ between base and head (a ref, the index, or the working tree).

    Read with `--raw -z`, so modes and object ids come with every path and no path text is
    ever parsed out of a line: names with spaces, newlines or glob characters stay intact.
    Untracked files under `untracked` (default: paths) count as added in working-tree mode
    (under flags/, ignored ones too).
    """
    args = ["diff", "--raw", "-z", "--no-abbrev", "--no-renames", "--no-ext-diff",
            "--ignore-submodules=none"]
    if staged:
        args.append("--cached")
    args.append(base)
    if head is not None:
        args.append(head)
    raw = git(root, *args, "--", *paths)
    changes = list(_parse_raw(raw.split(b"\0")))
    if head is None and not staged:
        known = {change.path for change in changes}
        changes += [Change(path, None, Entry(path, "100644", None))
                    for path in _untracked(root, untracked or paths) if path not in known]
        changes += [change for change in _hidden_edits(root, base, paths)
                    if change.path not in known]
    return sorted(changes, key=lambda change: change.path)


def _hidden_edits(root: Path, base: str, paths: Sequence[str]) -> list[Change]:
    """Files the index marks skip-worktree or assume-unchanged: `git diff` takes them as they
    are in the index whatever the file now holds, while `build` reads the working tree. So
    they are judged as the build sees them: a file whose bytes (as `git add` would store them)
    differ from the base's is an edit read from disk, and an absent one is gone (a sparse
    checkout's missing flags would be missing from its build too). Only regular files are
    hashed (git would block reading a FIFO); anything else there is a change the reader
    refuses (FO009)."""
    listed = git(root, "ls-files", "-v", "-z", "--", *paths).split(b"\0")
    hidden = [item[2:].decode("utf-8", "surrogateescape") for item in listed
              if item[:1] == b"S" or item[:1].islower()]
    if not hidden:
        return []
    before = tree_entries(root, base, *hidden)
    now: dict[str, str | None] = {path: _file_kind(root / path) for path in hidden}
    regular = [path for path, kind in now.items() if kind == "regular"]
    stored = git(root, "hash-object", "--", *regular).decode("ascii").split() if regular else []
    now.update(zip(regular, stored, strict=True))
    return [Change(path, before.get(path), None if oid is None else Entry(path, "100644", None))
            for path, oid in now.items()
            if (before.get(path) is None) != (oid is None)
            or (oid is not None and before[path].oid != oid)]


def _file_kind(path: Path) -> str | None:
    """"regular", "other" (a symlink, folder, FIFO, device), or None when nothing is there."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return "regular" if stat.S_ISREG(mode) else "other"


def _untracked(root: Path, paths: Sequence[str]) -> list[str]:
    """New files in the working tree. Under flags/ even ignored ones: `build` reads them."""
    found = _split_z(git(root, "ls-files", "--others", "-z", "--", FLAGS_DIR))
    others = [path for path in paths if path != FLAGS_DIR]
    if others:
        found += _split_z(git(root, "ls-files", "--others", "--exclude-standard", "-z", "--",
                              *others))
    return found


def _parse_raw(fields: list[bytes]) -> Iterator[Change]:
    """`:<mode> <mode> <oid> <oid> <status>\0<path>\0` records, one after the other."""
    index = 0
    while index + 1 < len(fields):
        header = fields[index].decode("ascii")
        if not header.startswith(":"):
            index += 1
            continue
        path = fields[index + 1].decode("utf-8", "surrogateescape")
        old_mode, new_mode, old_oid, new_oid, _status = header[1:].split(" ")
        yield Change(path, _side(path, old_mode, old_oid), _side(path, new_mode, new_oid))
        index += 2


def _side(path: str, mode: str, oid: str) -> Entry | None:
    if mode == MISSING_MODE:
        return None
    return Entry(path, mode, None if oid.strip("0") == "" else oid)


CONVERSIONS = ("working-tree-encoding", "filter", "ident")
"""Attributes that make a checkout's bytes differ from the blob's (beyond line endings)."""


def attribute_files(entries: Iterable[str]) -> list[str]:
    """The .gitattributes files among paths that can apply to flags/: the root's and those
    inside flags/ (others apply only to their own folders)."""
    return [path for path in entries if path == ATTRIBUTES
            or (path.startswith(f"{FLAGS_DIR}/") and path.endswith(f"/{ATTRIBUTES}"))]


def conversions(root: Path, paths: Sequence[str],
                attributes: Sequence[Entry] | None = None) -> dict[str, str]:
    """Paths that git would convert on checkout, with the attribute that does it.

    `attributes` None reads the working tree's .gitattributes (what this checkout did);
    otherwise those blobs are put in a throwaway index, so a commit's or a merge's own
    attributes are read (`git check-attr --source` needs git 2.40).
    """
    if not paths:
        return {}
    listing = b"".join(path.encode("utf-8", "surrogateescape") + b"\0" for path in paths)
    query = ["check-attr", "-z", "--stdin", *CONVERSIONS]
    if attributes is None:
        return _parse_attributes(git(root, *query, stdin=listing))
    with tempfile.TemporaryDirectory(prefix="flagops-attributes-") as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        info = b"".join(f"{entry.mode} {entry.oid}\t".encode() +
                        entry.path.encode("utf-8", "surrogateescape") + b"\0"
                        for entry in attributes if entry.oid is not None)
        git(root, "update-index", "-z", "--index-info", stdin=info, env=env)
        return _parse_attributes(git(root, *query[:1], "--cached", *query[1:], stdin=listing,
                                     env=env))


def _parse_attributes(raw: bytes) -> dict[str, str]:
    """`<path>\0<attribute>\0<value>\0` triples; unset and unspecified convert nothing."""
    fields = raw.split(b"\0")
    found: dict[str, str] = {}
    for index in range(0, len(fields) - 2, 3):
        value = fields[index + 2].decode("utf-8", "replace")
        if value not in ("unspecified", "unset"):
            path = fields[index].decode("utf-8", "surrogateescape")
            found.setdefault(path, f"{fields[index + 1].decode()}={value}")
    return found


def shallow_commits(root: Path) -> frozenset[str] | None:
    """The commits where a shallow clone's history is cut, or None for a full clone."""
    answer = git(root, "rev-parse", "--is-shallow-repository", "--git-path", "shallow")
    shallow, _, where = answer.decode("utf-8", "surrogateescape").partition("\n")
    if shallow.strip() != "true":
        return None
    try:
        listed = (root / where.strip()).read_text(encoding="ascii").split()
    except OSError:
        listed = []
    return frozenset(listed)


@dataclass(frozen=True, slots=True)
class FirstParent:
    """One commit of a branch's first-parent line, as `git log --first-parent` lists it."""

    sha: str
    committed_at: int
    parents: int


def first_parent_line(root: Path, ref: str) -> list[FirstParent]:
    """The whole first-parent line of ref, newest first: ids, committer times, parent counts.

    No diffs are computed, so this stays cheap on long histories; landing times are judged
    against it (see `validator.history`). The times are the commits' own (`%ct`), as every
    other history read gives them: `rev-list --timestamp` would be faster with a commit-graph,
    but that file keeps 34 bits of a date (a commit dated past 2514 would read as long ago)
    and parses a malformed commit differently, so the verdict would depend on housekeeping.
    """
    raw = git(root, "log", "--no-show-signature", "--first-parent", "--format=%H %ct %P", ref,
              "--")
    line: list[FirstParent] = []
    for row in raw.decode("ascii").splitlines():
        sha, stamp, *parents = row.split(" ")  # a root commit's %P is empty: "sha time "
        line.append(FirstParent(sha, int(stamp), len([p for p in parents if p])))
    return line


@dataclass(frozen=True, slots=True)
class Commit:
    """A first-parent commit and what it changed under flags/ (against its first parent)."""

    sha: str
    committed_at: int
    changes: tuple[Change, ...]

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


def removed_paths(root: Path, ref: str) -> set[str]:
    """Every path under flags/ that a first-parent commit of ref ever deleted (or moved
    away): with the paths at ref, every flag file the branch has ever had."""
    raw = git(root, "log", "--no-show-signature", "--first-parent", "-m", "--no-renames",
              "--diff-filter=D", "--raw", "-z", "--no-abbrev", "--format=%x00%H %ct", ref, "--",
              FLAGS_DIR)
    return {change.path for commit in _parse_log(raw) for change in commit.changes}


LOG_CONFIG = ("-c", "core.deltaBaseCacheLimit=32m")
"""The history log's cache of delta bases: at git's default (96 MB) the log of a
10,000-flag history grew to 134 MB, the biggest process of `status`; at 32 MB it peaks at
68 MB and takes as long (1.5 s)."""
_HEADER = re.compile(rb"[0-9a-f]{40,64} [0-9]+")
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
                                       env=environment())
        except FileNotFoundError:
            raise GitError("git is not installed, and --base/--staged read git") from None
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
                _raise(root, args, errors.read(), returncode)
            yield tail
        finally:
            if process.poll() is None:  # the reader stopped early: git need not finish
                process.kill()
                process.wait()
            process.stdout.close()


def _raise(root: Path, args: Sequence[str], stderr: bytes, returncode: int) -> NoReturn:
    """`git`'s error for a failed command, so a streamed read fails as a whole one does."""
    detail = stderr.decode("utf-8", "replace").strip().splitlines()
    if any("not a git repository" in line for line in detail):
        raise NotARepository(f"{root.resolve()} is not in a git repository; --base, "
                             "--staged and plan compare git states")
    raise GitError(f"git {args[0]} failed: {detail[-1] if detail else returncode}")


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
    changes: list[Change] = []
    paths: dict[bytes, str] = {}
    older: dict[str, Entry] = {}  # per path: the old side of its newest change so far
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
                after: Entry | None = known
            else:
                after = _side(path, new_mode, new_oid)
            before = _side(path, old_mode, old_oid)
            if before is not None:
                older[path] = before
            changes.append(Change(path, before, after))
            continue
        if _HEADER.fullmatch(field_):
            if current is not None:
                yield Commit(current[0], current[1], tuple(changes))
            sha, stamp = field_.decode("ascii").split(" ")
            current, changes = (sha, int(stamp)), []
    if current is not None:
        yield Commit(current[0], current[1], tuple(changes))


def merges_in(root: Path, revision_range: str) -> list[tuple[str, ...]]:
    """Every merge commit of the range with its parents: (merge, first parent, others...)."""
    raw = git(root, "rev-list", "--merges", "--parents", revision_range)
    return [tuple(line.split(" ")) for line in raw.decode("ascii").splitlines() if line]


def first_parents_in(root: Path, revision_range: str) -> list[str]:
    """The first-parent commits of a range, newest first."""
    return git(root, "rev-list", "--first-parent", revision_range).decode("ascii").split()


def trailers(root: Path, revision_range: str, key: str) -> list[str]:
    """Values of the trailer `key` in every commit message of the range."""
    raw = git(root, "log", "--no-show-signature",
              f"--format=%(trailers:key={key},valueonly,separator=%x00)%x00", revision_range)
    return [value.strip() for value in _split_z(raw) if value.strip()]


def merge_tree(root: Path, ours: str, theirs: str) -> str | None:
    """The tree a merge would produce, or None when it conflicts (git >= 2.38).

    Run from an empty folder with an empty index, as the server merges: the checkout's own
    .gitattributes (the change under review) could otherwise pick merge drivers that turn a
    clean merge into a conflict, and the gate would judge another tree than the merge.
    Exit code 1 means conflicts; anything else (an old git, a bad object) is an error.
    """
    git_dir = git(root, "rev-parse", "--absolute-git-dir").decode("utf-8", "surrogateescape")
    with tempfile.TemporaryDirectory(prefix="flagops-merge-") as empty:
        env = environment({"GIT_DIR": git_dir.strip(),
                           "GIT_INDEX_FILE": os.path.join(empty, "index")},
                          drop=frozenset(("GIT_WORK_TREE",)))
        process = subprocess.run(["git", "merge-tree", "--write-tree", ours, theirs], cwd=empty,
                                 env=env, capture_output=True, check=False)
    if process.returncode == 1:
        return None
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git merge-tree --write-tree failed (git 2.38 or newer is needed): "
                       f"{detail[-1] if detail else process.returncode}")
    return process.stdout.decode().splitlines()[0].strip()


class BlobReader:
    """One `git cat-file --batch` process answering object-id lookups on demand.

    Only object ids are ever written to it: a path (which may hold a newline) never is, so
    no file name can make it answer for another request.
    """

    def __init__(self, root: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=root, env=environment(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._ready: dict[str, bytes | None] = {}

    def read(self, oid: str) -> bytes | None:
        """The blob's bytes, or None when oid names no blob."""
        if oid in self._ready:
            return self._ready.pop(oid)
        _check_oid(oid)
        assert self._process.stdin is not None
        self._process.stdin.write(oid.encode("ascii") + b"\n")
        self._process.stdin.flush()
        return self._answer()

    def prefetch(self, oids: Iterable[str]) -> None:
        """Reads many blobs in one stream, for `read` to hand out once each.

        One request at a time waits a round trip per blob (most of the time of a history
        walk over thousands of flags); here a thread writes every request while the answers
        are read, so git streams them.
        """
        wanted = [oid for oid in dict.fromkeys(oids) if oid not in self._ready]
        for oid in wanted:
            _check_oid(oid)
        assert self._process.stdin is not None
        stdin = self._process.stdin
        writer = threading.Thread(target=_write_all, args=(stdin, wanted), daemon=True)
        writer.start()
        for oid in wanted:
            self._ready[oid] = self._answer()
        writer.join()

    def _answer(self) -> bytes | None:
        assert self._process.stdout is not None
        header = self._process.stdout.readline().split()
        if len(header) != 3:  # `<oid> missing`
            return None
        body = self._process.stdout.read(int(header[2]))
        self._process.stdout.read(1)
        return body if header[1] == b"blob" else None

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def _check_oid(oid: str) -> None:
    if not _OID.fullmatch(oid):
        raise ValueError(f"not an object id: {oid!r}")


def _write_all(stream: IO[bytes], oids: Sequence[str]) -> None:
    stream.write(b"".join(oid.encode("ascii") + b"\n" for oid in oids))
    stream.flush()


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
    args = ["grep", "-z", "-n", "--column", "-o", "--text", "-E", "--no-color"]
    args.append("--cached" if cached else "--untracked" if tree is None else "--full-name")
    for pattern in patterns:
        args += ["-e", pattern]
    if tree is not None:
        args.append(tree)
    args += ["--", ".", *(f":(exclude){path}" for path in exclude)]
    process = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False,
                             env=environment())
    if process.returncode == 1 and not process.stderr:
        return []
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git grep in {root} failed: {detail[-1] if detail else 'no output'}")
    hits = _parse_grep(process.stdout)
    if tree is None:
        return list(hits)
    return [GrepHit(hit.path.removeprefix(f"{tree}:"), hit.line, hit.column, hit.text)
            for hit in hits]


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
