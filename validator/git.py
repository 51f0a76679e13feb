"""The only module that runs git. Reads go in batches: a few processes, whatever the repo size."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from validator.errors import UserError

FLAGS_DIR = "flags"


class GitError(UserError):
    pass


class NotARepository(GitError):
    pass


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        process = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False
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


def is_flag_path(path: str) -> bool:
    return path.startswith(f"{FLAGS_DIR}/") and path.endswith(".yml")


def _split_z(raw: bytes) -> list[str]:
    return [part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0") if part]


def changed_paths(root: Path, base: str, head: str | None, *, staged: bool = False) -> list[str]:
    """Files under flags/ that differ between base and head (a ref, the index, the work tree)."""
    args = ["diff", "--no-renames", "--name-only", "-z", "--no-ext-diff"]
    if staged:
        args.append("--cached")
    args.append(base)
    if head is not None:
        args.append(head)
    paths = set(_split_z(git(root, *args, "--", FLAGS_DIR)))
    if head is None and not staged:
        untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", FLAGS_DIR)
        paths.update(_split_z(untracked))
    return sorted(paths)


def tree_paths(root: Path, ref: str) -> list[str]:
    raw = git(root, "ls-tree", "-r", "--name-only", "-z", ref, "--", FLAGS_DIR)
    return [path for path in _split_z(raw) if is_flag_path(path)]


def index_paths(root: Path) -> list[str]:
    raw = git(root, "ls-files", "--cached", "-z", "--", FLAGS_DIR)
    return [path for path in _split_z(raw) if is_flag_path(path)]


def is_shallow(root: Path) -> bool:
    return git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    committed_at: int
    paths: tuple[str, ...]


def first_parent_history(root: Path, ref: str, paths: Sequence[str], *,
                         since: int | None = None) -> list[Commit]:
    """Commits on ref's first-parent line that touched any of paths, newest first.

    First parent only: a change lands on the base branch when its merge commit does.
    `since` (epoch seconds) stops the walk early, so its cost does not grow with the history.
    """
    if not paths:
        return []
    window = [f"--since=@{since}"] if since is not None else []
    raw = git(root, "log", "--first-parent", "-m", "--no-renames", "--name-only", "-z",
              *window, "--format=%x01%H %ct", ref, "--", *paths)
    return list(_parse_log(raw))


def _parse_log(raw: bytes) -> Iterator[Commit]:
    for record in raw.split(b"\x01")[1:]:
        header, _, names = record.partition(b"\n")
        sha, _, stamp = header.rstrip(b"\0").decode().partition(" ")
        yield Commit(sha, int(stamp), tuple(_split_z(names)))


def trailers(root: Path, revision_range: str, key: str) -> list[str]:
    """Values of the trailer `key` in every commit message of the range."""
    raw = git(root, "log", f"--format=%(trailers:key={key},valueonly,separator=%x00)%x00",
              revision_range)
    return [value.strip() for value in _split_z(raw) if value.strip()]


def merge_tree(root: Path, ours: str, theirs: str) -> str | None:
    """The tree a merge would produce, or None when it conflicts (git >= 2.38).

    Exit code 1 means conflicts; anything else (an old git, a bad object) is an error.
    """
    process = subprocess.run(["git", "merge-tree", "--write-tree", ours, theirs], cwd=root,
                             capture_output=True, check=False)
    if process.returncode == 1:
        return None
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git merge-tree --write-tree failed (git 2.38 or newer is needed): "
                       f"{detail[-1] if detail else process.returncode}")
    return process.stdout.decode().splitlines()[0].strip()


class BlobReader:
    """One `git cat-file --batch` process answering `<rev>:<path>` lookups on demand."""

    def __init__(self, root: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def read(self, spec: str) -> bytes | None:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        self._process.stdin.flush()
        header = self._process.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            if len(header) == 3:  # a tree or commit: skip its body
                self._process.stdout.read(int(header[2]) + 1)
            return None
        body = self._process.stdout.read(int(header[2]))
        self._process.stdout.read(1)
        return body

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
