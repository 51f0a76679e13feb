"""The one runner of git (`git`, `together`, `environment`) and the plain reads: objects,
trees, the index, diffs, attributes, blobs. History is `validator.git.log`, search
`validator.git.grep`; nothing else starts git. Reads go in batches: a few processes,
whatever the repository's size."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache, partial
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, NamedTuple, NoReturn, TypeVar

from validator.background import Background
from validator.digits import whole_number
from validator.errors import UserError
from validator.files import ATTRIBUTES

if TYPE_CHECKING:
    import tempfile

FLAGS_DIR = "flags"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""The tree of no files: the base of a repository's first commit."""
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
"""A whole object id (SHA-1 or SHA-256), as git writes one."""


class GitError(UserError):
    pass


class NotARepository(GitError):
    pass


class RepositoryRefused(GitError):
    """git will not work in the repository (another user's: `safe.directory`). Not "no such
    ref" where a ref was asked for, and not "outside git", which ships an archive as it is."""


class BlockingFile(UserError):
    """A file git would open by name in the working tree is a FIFO or a device: not a
    GitError, which some readers take as "outside git" and skip, for the question it asked
    is unanswered (which attributes apply) and must be said."""


NOT_INSTALLED = "git is not installed, and --base/--staged read git"


_PATHSPEC_VARIABLES = frozenset(("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS",
                                 "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"))
"""They change what every pathspec means: with GIT_LITERAL_PATHSPECS=1 the history query
`:(glob)flags/**/<name>.yml` matches nothing, and a state with no history reads as soaked."""
PINNED_CONFIG = (
    ("core.trustctime", "true"),  # a file whose ctime changed is looked at, as by default
    ("core.checkStat", "default"),  # every stat field, not only mtime and size
    ("core.fsmonitor", "false"),  # no hook of the checkout's owner says what changed
    # Nor runs at all: writing the scratch index the attributes are read from (FO011) ran
    # `post-index-change`, which could take .gitattributes out of it. No such folder exists.
    ("core.hooksPath", "/dev/null/flagops-runs-no-hook"),
    ("diff.ignoreSubmodules", "none"),  # a gitlink under flags/ is seen (.gitmodules ignore=all)
    ("diff.relative", "false"),  # paths from the top, never cut to the current folder
    ("log.follow", "false"),  # a history of one flag is every commit of its name, not one path
    ("log.diffMerges", "first-parent"),  # a merge shows what it landed (combined: nothing)
    ("log.showRoot", "true"),  # a root commit shows the files it added
    ("log.mailmap", "false"),  # authors as committed; no .mailmap opened (a FIFO blocks log)
    ("core.useReplaceRefs", "false"),  # objects as committed, not as refs/replace swaps them
    ("advice.graftFileDeprecated", "false"),  # grafts are off (environment): no stderr
    # A partial clone fetches a missing blob from its remote: one that takes the connection
    # and never answers held the gate without end; under a byte a second for 30 s, git stops.
    ("http.lowSpeedLimit", "1"),
    ("http.lowSpeedTime", "30"),
)
"""Settings that would make git show the gate another change (or another history) than the one
made, whatever the user's or the repository's configuration says. They are given last in
GIT_CONFIG_PARAMETERS, which git reads after every file and after GIT_CONFIG_COUNT, so they win
over `git -c` too (which hands its settings to hooks and aliases in that variable)."""


def _sq(text: str) -> str:
    """Single-quoted as git quotes GIT_CONFIG_PARAMETERS."""
    return "'" + text.replace("'", "'\\''") + "'"


_PINNED_PARAMETERS = " ".join(f"{_sq(key)}={_sq(value)}" for key, value in PINNED_CONFIG)


def environment(extra: dict[str, str] | None = None,
                drop: frozenset[str] = frozenset()) -> dict[str, str]:
    """The environment every git process of the gate runs in: the caller's, without the
    pathspec switches, with PINNED_CONFIG after any configuration the caller passes, and no
    grafts (GIT_GRAFT_FILE the empty file). A clone's .git/info/grafts, which git 2.39 still
    honours, gives a commit other parents than it records: a state could be made to have
    landed days earlier on the first-parent line and pass its soak (a CI runner that keeps its
    clone between jobs keeps one an earlier job wrote). Replacement objects (`git replace`,
    its --graft too) are refused by core.useReplaceRefs in PINNED_CONFIG: the gate judges the
    commits and files as recorded. No prompt for a password."""
    env = {key: value for key, value in os.environ.items()
           if key not in _PATHSPEC_VARIABLES and key not in drop}
    if whole_number(env.get("GIT_CONFIG_COUNT", "0")) is None:  # `²` is isdigit(), not int()
        del env["GIT_CONFIG_COUNT"]  # git would refuse every command; read as no settings
    given = env.get("GIT_CONFIG_PARAMETERS", "").strip()
    env["GIT_CONFIG_PARAMETERS"] = f"{given} {_PINNED_PARAMETERS}".lstrip()
    env["GIT_GRAFT_FILE"] = os.devnull
    # Never wait on a person: a remote asking for a password (a partial clone fetching a
    # missing blob) would have prompted on the hook's terminal. The fetch itself stays: a CI
    # checkout with `filter: blob:none` reads every flag file that way.
    env["GIT_TERMINAL_PROMPT"] = "0"
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
        raise GitError(NOT_INSTALLED) from None
    if process.returncode != 0:
        raise_failure(root, args, process.stderr, process.returncode)
    return process.stdout


def raise_failure(root: Path, args: Sequence[str], stderr: bytes, returncode: int) -> NoReturn:
    """The error for a git command that failed, the same wherever its output was read: git's
    `fatal:` line where it wrote one (its hints come after it), named by the command."""
    detail = stderr.decode("utf-8", "replace").strip().splitlines()
    if any("not a git repository" in line for line in detail):
        raise NotARepository(f"{root.resolve()} is not in a git repository; --base, "
                             "--staged and plan compare git states")
    if any("detected dubious ownership" in line for line in detail):
        raise RepositoryRefused(f"git refuses the repository of {root.resolve()}: it belongs "
                                "to another user than the one running flagops (git's "
                                "safe.directory setting lists the repositories trusted so)")
    said = next((line for line in detail if line.startswith("fatal:")),
                detail[-1] if detail else str(returncode))
    raise GitError(f"git {_command_of(args)} failed: {said}")


def _command_of(args: Sequence[str]) -> str:
    """The git command in args, after git's own options (`-c key=value`, `--no-optional-locks`)."""
    values = {index + 1 for index, arg in enumerate(args) if arg in ("-c", "-C")}
    return next((arg for index, arg in enumerate(args)
                 if not arg.startswith("-") and index not in values), "")


class Started(Background[bytes]):
    """`git(root, *args)` running from now on, in a thread that reads its output as it comes;
    `result` waits for it: its output, or whatever `git` raised."""

    def __init__(self, root: Path, *args: str) -> None:
        super().__init__(partial(git, root, *args))


def together(root: Path, *commands: Sequence[str]) -> list[bytes]:
    """Independent git commands run at once, their outputs in order; the first failure is
    raised. For the pre-commit hook's shortcut, where each process is most of the wait."""
    started = [Started(root, *command) for command in commands[1:]]
    return [git(root, *commands[0]), *(each.result() for each in started)]


def resolve(root: Path, ref: str) -> str:
    """The commit id of ref (or its tree id if it names a tree), or an error naming the ref;
    an error too where its name is ambiguous (`shadowing_refs`)."""
    for peel in ("commit", "tree"):
        found = commit_of(root, f"{ref}^{{{peel}}}")
        if found is None:
            continue
        shadowing = shadowing_refs(root, ref)
        if len(shadowing) > 1:
            raise GitError(f"git ref {ref!r} is ambiguous: {' and '.join(shadowing)} name "
                           "different commits; give the one meant in full")
        if shadowing:
            raise GitError(f"git ref {ref!r} is ambiguous: {shadowing[0]}, or a commit id it "
                           "abbreviates; give the one meant in full")
        return found
    raise GitError(f"unknown git ref {ref!r}; fetch it first (CI: GIT_DEPTH: \"0\")")


_SHORTHANDS = ("refs/{}", "refs/tags/{}", "refs/heads/{}", "refs/remotes/{}",
               "refs/remotes/{}/HEAD")
"""Where git looks for a short ref name, first match first (gitrevisions(7), after
$GIT_DIR/<name>): a tag `origin/main` comes before the remote branch `origin/main`."""
_LEADING_NAME = re.compile(r"(?:[^~^:@]|@(?!\{))*")
"""A revision's leading ref name: up to `~`, `^`, `:` or `@{`."""
_HEX = re.compile(r"[0-9a-f]{4,63}")


def shadowing_refs(root: Path, ref: str) -> list[str]:
    """The refs a short name in `ref` could mean, where they are not all one commit: git takes
    the first silently (its warning goes to stderr), so whoever can push a tag named
    `origin/main` would choose the base a change is judged against, and the judge itself
    where CI checks out the base's flagops. Empty for a full name (`refs/…`, a whole object
    id, `HEAD` and the other names in .git itself come first) and for a name only one ref
    has. A hex name that a ref has is refused even alone: it may also abbreviate a commit."""
    name = _LEADING_NAME.match(ref)
    name_text = name.group() if name else ""
    if not name_text or name_text.startswith("refs/") or name_text == "HEAD" or \
            name_text.endswith("_HEAD") or OBJECT_ID.fullmatch(name_text):
        return []
    candidates = [shape.format(name_text) for shape in _SHORTHANDS]
    listed = git(root, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)",
                 "--", *candidates).decode("utf-8", "replace")
    found: dict[str, str] = {}
    for line in listed.splitlines():
        refname, _, ids = line.partition("\0")
        direct, _, peeled = ids.partition("\0")
        if refname in candidates:
            found[refname] = peeled or direct
    if len(set(found.values())) > 1 or (found and _HEX.fullmatch(name_text)):
        return sorted(found, key=candidates.index)
    return []


def commit_of(root: Path, revision: str) -> str | None:
    """The object `revision` names (`X^{commit}` peels it to a commit), or None where it
    names none here (an unborn HEAD, another repository's commit); a repository git cannot
    open raises, as every command."""
    try:
        return git(root, "rev-parse", "--verify", "--quiet", revision).decode().strip()
    except (NotARepository, RepositoryRefused):
        raise
    except GitError:
        return None


def first_commit(root: Path, refs: Sequence[str]) -> tuple[str, str] | None:
    """The first of `refs` that names a commit here, with that commit (a remote's default
    branch as `origin/HEAD`, else `origin/main`...), or None."""
    for ref in refs:
        found = commit_of(root, f"{ref}^{{commit}}")
        if found is not None:
            return ref, found
    return None


def is_ancestor(root: Path, ancestor: str, commit: str) -> bool:
    """Is `ancestor` in `commit`'s history (or the same commit)? False for anything git does
    not take as two commits."""
    done = subprocess.run(["git", "merge-base", "--is-ancestor", ancestor, commit], cwd=root,
                          env=environment(), capture_output=True, check=False)
    return done.returncode == 0


def object_type(root: Path, object_id: str) -> str:
    return git(root, "cat-file", "-t", object_id).decode().strip()


def fetch(root: Path, remote: str, refspec: str) -> None:
    """One ref from a remote (a name or a URL), e.g. a merge request's target branch."""
    git(root, "fetch", "--quiet", "--no-tags", remote, refspec)


def prefix_in_work_tree(folder: Path) -> str:
    """Where folder sits below the top of its work tree ("" at the top, or outside one)."""
    return _where_in_work_tree(folder)[1]


def _where_in_work_tree(folder: Path) -> tuple[bool, str]:
    """Whether folder is in its repository's work tree, and where below its top (one git
    process: the pre-commit hook asks both)."""
    try:
        found = git(folder, "rev-parse", "--is-inside-work-tree", "--show-prefix")
    except GitError:
        return False, ""
    inside, _, prefix = found.decode("utf-8", "surrogateescape").partition("\n")
    return inside == "true", prefix.strip()


def require_top_level(root: Path) -> None:
    """git names paths from the top of the work tree, and the base's policy and flags/ are read
    there: judged from a folder below it, every flag path would look like code (`svc/flags/…`)
    and every change would pass. Nor may git's work tree be another folder (`core.worktree` in
    the repository's configuration, or GIT_WORK_TREE): git then compared that folder's files
    with the commit, and `build` shipped root's, which nobody compared (a line an earlier job
    on a reused runner added to .git/config; the runner's checkout and clean then worked on the
    other folder too)."""
    inside, prefix = _where_in_work_tree(root)
    elsewhere = None if inside else _work_tree_top(root)
    if elsewhere is not None:
        raise GitError(f"{root} is not in its git repository's work tree, which is "
                       f"{elsewhere} (core.worktree or GIT_WORK_TREE): git would compare that "
                       "folder with the commits, and flagops reads this one; run flagops in "
                       "the work tree, or remove the setting")
    if prefix:
        raise GitError(f"{root} is the folder {prefix.rstrip('/')} of a git repository, not its "
                       "top; flagops judges flags/ and pyproject.toml at the top of the "
                       "repository: keep them there")


def _work_tree_top(root: Path) -> str | None:
    """The top of the work tree of root's repository, which root is not in; None where it
    has none (a bare repository, a .git folder: git's own errors say so where one is needed)
    or root is in no repository."""
    try:
        top = git(root, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape")
    except GitError:
        return None
    return top.strip() or None


def inside_work_tree(folder: Path) -> bool:
    return _where_in_work_tree(folder)[0]


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


def fold(path: str) -> str:
    """A path as a case-insensitive file system compares it (macOS's APFS and HFS+, Windows'
    NTFS): case and Unicode normalization ignored. NTFS compares names by its upcase table,
    each character's uppercase, which case folding alone misses where a lowercase letter's
    uppercase is another's: the dotless i (U+0131) upcases to I, so `.gitattr\u0131butes` opens
    as `.gitattributes` there, and casefold keeps U+0131. So the path is upcased, then folded
    (the long s becomes s either way): folding more refuses more, never less. ASCII text
    (every flag path, usually) is only lowered: a listing of 100,000 flags, folded whole,
    costs a millisecond instead of a tenth of a second."""
    if path.isascii():
        return path.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", path).upper().casefold())


def folds_into_flags(path: str) -> bool:
    """A path that git keeps outside flags/ but a case-insensitive checkout writes into it
    (`FLAGS/x.yml`, `Flags/team/x.yml`): a flag that only some checkouts have."""
    if under_flags(path):
        return False
    folded = fold(path.partition("/")[0])
    return folded == FLAGS_DIR


def attributes_twin(path: str) -> bool:
    """A `.GITATTRIBUTES` (any case of the name) where a `.gitattributes` would apply to flag
    files (the root, flags/): git reads attributes from the index by their exact name, then
    from the working tree, where a checkout that ignores case opens this file under that
    name, so its conversions apply to flag files there only."""
    name = path.rpartition("/")[2]
    return name != ATTRIBUTES and fold(name) == ATTRIBUTES and (
        "/" not in path or under_flags(path))


def split_z(raw: bytes) -> list[str]:
    """NUL-separated paths (`-z` output), decoded as every path here is."""
    return [part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0") if part]


REGULAR_MODES = frozenset(("100644", "100755"))
FOLDER_MODE = "040000"
MODE_KINDS = {"120000": "a symlink", "160000": "a submodule (gitlink)", FOLDER_MODE: "a folder"}
"""What a path is instead of a regular file, in the words findings use."""
MISSING_MODE = "000000"


class Entry(NamedTuple):
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
    return {entry.path: entry for entry in map(_ls_entry, split_z(raw))}


def path_entry(root: Path, ref: str, path: str) -> Entry | None:
    """What `path` is at ref (a file, a symlink, a submodule or a folder), or None: listed
    without -r, so that a folder is itself, where `tree_entries` gives the files below it."""
    raw = git(root, "ls-tree", "-z", "--full-tree", ref, "--", path)
    return next((entry for entry in map(_ls_entry, split_z(raw)) if entry.path == path), None)


def _ls_entry(line: str) -> Entry:
    """`<mode> <type> <oid>\t<path>`, as `git ls-tree -z` prints it."""
    info, _, path = line.partition("\t")
    mode, _, oid = info.split(" ")
    return Entry(path, mode, oid)


EMPTY_BLOBS = frozenset(("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
                         "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"))
"""The blob of no bytes (SHA-1, SHA-256): what `git ls-files` shows for a `git add -N` entry."""


def index_listing(root: Path, base: str = "HEAD") -> str:
    """The index under flags/ (and the root's .gitattributes) as the commit made from it on
    base would record it, as `git ls-files --stage -z` lists it: NUL-separated
    `<mode> <oid> <stage>\t<path>` (see validator.head_listing). Intent-to-add entries
    (`git add -N`) are left out: no commit records them, and a placeholder carrying a deleted
    flag's name would have kept that deletion from being judged."""
    raw = git(root, "ls-files", "--stage", "-z", "--", FLAGS_DIR, ATTRIBUTES)
    listing = raw.decode("utf-8", "surrogateescape")
    if not any(f" {blob} " in listing for blob in EMPTY_BLOBS):  # (the hook's usual case,
        return listing  # at memory speed: every placeholder is empty, a flag file never is)
    records = [record.partition("\t") for record in listing.split("\0") if record]
    empty = [path for info, _, path in records if info.split(" ")[1] in EMPTY_BLOBS]
    if not empty:
        return listing
    placeholders = intent_to_add(root, base, empty)
    return "\0".join(f"{info}\t{path}" for info, _, path in records
                      if path not in placeholders)


def tree_listing(root: Path, ref: str, *paths: str) -> str:
    """Paths at ref as `git ls-tree -r -z` lists them: `<mode> <type> <oid>\t<path>`."""
    raw = git(root, "ls-tree", "-r", "-z", "--full-tree", ref, "--", *paths)
    return raw.decode("utf-8", "surrogateescape")


def unbuildable_name(name: str) -> bool:
    """Is this a path component no checkout creates (git's `verify_path` refuses it): empty,
    `.`, `..`, or `.git` in any case, with trailing dots or spaces, or as Windows' short name
    `git~1`? A tree made by hand can hold one; a checkout of it fails outright."""
    folded = name.lower()
    return name in ("", ".", "..") or "/" in name or folded.rstrip(". ") == ".git" \
        or folded == "git~1"


def top_tree_problems(root: Path, tree_ish: str) -> list[tuple[str, str]]:
    """(name, what is wrong) for the top tree of `tree_ish` where git's lookups by path would
    read it otherwise than a checkout does: a name out of git's order (`ls-tree` or `diff`
    with a pathspec stops at the first name past the one it looks for, so a `flags` listed
    after `schema` is not found), a name listed twice, a name no checkout creates. Empty for
    every tree git itself writes; only a tree made by hand has any."""
    raw = git(root, "ls-tree", "-z", tree_ish)
    problems: list[tuple[str, str]] = []
    seen: set[bytes] = set()
    previous, folder = b"", FOLDER_MODE.encode()
    for record in raw.split(b"\0"):
        info, tab, name = record.partition(b"\t")
        if not tab:
            continue
        shown = name.decode("utf-8", "surrogateescape")
        key = name + (b"/" if info.startswith(folder) else b"")
        if name in seen:
            problems.append((shown, "twice"))
        elif key < previous:
            problems.append((shown, "out of git's order"))
        elif unbuildable_name(shown):
            problems.append((shown, "as a name no checkout creates"))
        seen.add(name)
        previous = max(previous, key)
    return problems



def merge_heads(root: Path) -> list[str]:
    """The commits a merge that waits for its commit brings into HEAD (MERGE_HEAD, one a line:
    a merge stopped on a conflict, or by `--no-commit`, of one branch or of several), or
    none. Only whole object names are read: git writes nothing else there."""
    path = git(root, "rev-parse", "--git-path", "MERGE_HEAD").decode("utf-8", "replace").strip()
    _refuse_blocking(root / path, path, follow=True)  # a FIFO there: any read waits forever
    try:
        with open(root / path, "rb") as stream:
            lines = stream.read(_MOST_MERGE_HEAD_BYTES).decode("ascii").split()
    except (OSError, UnicodeDecodeError):
        return []
    named = dict.fromkeys(line for line in lines if OBJECT_ID.fullmatch(line))
    return [commit for line in named if (commit := commit_of(root, f"{line}^{{commit}}"))]


_MOST_MERGE_HEAD_BYTES = 65 * 128
"""128 heads of 64 hex digits and a newline, more than any octopus merge holds: each head read
costs a listing of its whole tree."""



class Change(NamedTuple):
    """One path of `git diff --raw`: what it was at the base and what it is at the head."""

    path: str
    before: Entry | None
    after: Entry | None


_RAW_DIFF = ("diff", "--raw", "-z", "--no-abbrev", "--no-renames", "--no-ext-diff",
             "--ignore-submodules=none")
"""How the gate asks git for a change: modes and whole object ids with every path, no path
text parsed out of a line, no rename pairing, no external diff, every gitlink seen."""


def diff_entries(root: Path, base: str, head: str | None, *paths: str,
                 staged: bool = False, untracked: Sequence[str] = ()) -> list[Change]:
    """Paths that differ between base and head (a ref, the index, or the working tree).

    Read with `--raw -z`, so modes and object ids come with every path and no path text is
    ever parsed out of a line: names with spaces, newlines or glob characters stay intact.
    Untracked files under `untracked` (default: paths) count as added in working-tree mode
    (under flags/, ignored ones too). There the new files are asked for while git diffs: each
    walks or reads the whole tree (0.35 s for `git diff` at 100,000 files).
    """
    args = list(_RAW_DIFF)
    if staged:
        args.append("--cached")
    args.append(base)
    if head is not None:
        args.append(head)
    if head is not None or staged:
        return sorted(_parse_raw(git(root, *args, "--", *paths).split(b"\0")),
                      key=lambda change: change.path)
    listed = git(root, "ls-files", "-v", "-z", "--", *paths).split(b"\0")
    # (the tracked files' folders: those whose attributes a diff may read)
    refuse_blocking_files(root, folders_of(item[2:] for item in listed))
    new = Background(partial(_untracked, root, untracked or paths))
    changes = list(_parse_raw(git(root, *args, "--", *paths).split(b"\0")))
    known = {change.path for change in changes}
    changes += [Change(path, None, Entry(path, "100644", None))
                for path in dict.fromkeys(new.result()) if path not in known]
    changes += [change for change in _hidden_edits(root, base, listed)
                if change.path not in known]
    return sorted(changes, key=lambda change: change.path)


def _hidden_edits(root: Path, base: str, listed: list[bytes]) -> list[Change]:
    """Files the index marks skip-worktree or assume-unchanged: `git diff` takes them as they
    are in the index whatever the file now holds, while `build` reads the working tree. So
    they are judged as the build sees them: a file whose bytes (as `git add` would store them)
    differ from the base's is an edit read from disk, and an absent one is gone (a sparse
    checkout's missing flags would be missing from its build too). Only regular files are
    hashed (git would block reading a FIFO); anything else there is a change the reader
    refuses (FO009). `listed` is `git ls-files -v -z` of the diff's paths."""
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


IGNORES = ".gitignore"
CONTROL_FILES = (ATTRIBUTES, IGNORES)
"""Files git opens by name in the working tree's folders as it reads the tree: attributes, to
hash a file (`diff` against the working tree, `hash-object`, `check-attr`), and ignore rules
(`ls-files --exclude-standard`, `grep --untracked`). Git 2.39 opens them as it finds them, with
no GIT_ATTR_SOURCE and no check for a FIFO, so a FIFO of either name (made by hand or by a
tool, never by a checkout: git stores none) left those commands, and flagops, waiting forever
for a writer."""


def refuse_blocking_files(root: Path, folders: Iterable[str],
                          names: Sequence[str] = CONTROL_FILES) -> None:
    """Raises BlockingFile naming the first of `names` in one of folders or a folder above it
    (the root too) that is a FIFO or a device (git would block reading it, or read forever),
    before a git command that reads them is started: one line and exit 1, never a hang.
    lstat only: a symlink git 2.39 does not follow for these files, and a folder it reads as
    empty. The files of the same rules git opens outside the work tree are refused first
    (`refuse_blocking_git_files`): each caller is about to start such a walk or lookup."""
    refuse_blocking_git_files(root)
    every = {""}
    for folder in folders:
        while folder not in every:
            every.add(folder)
            folder = folder.rpartition("/")[0]
    for folder in sorted(every):
        for name in names:
            relative = f"{folder}/{name}" if folder else name
            _refuse_blocking(root / relative, relative)


def _refuse_blocking(path: Path, shown: str, *, follow: bool = False) -> None:
    """BlockingFile where path is a FIFO or a device (but /dev/null, which reads as empty:
    `core.excludesFile = /dev/null` turns the user's own ignores off). `follow`: through a
    link, for the files git opens where a link leads (its own, outside the work tree)."""
    try:
        found = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return
    mode = found.st_mode
    if stat.S_ISCHR(mode) and found.st_rdev == _null_device():
        return
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device"
        raise BlockingFile(f"{shown} is {kind}, not a regular file: git reads it by that name "
                           "and would wait on it forever; remove it")


@cache
def _null_device() -> int | None:
    try:
        return os.stat(os.devnull).st_rdev
    except OSError:
        return None


_OWN_FILES = {"core.excludesfile": "ignore", "core.attributesfile": "attributes"}
"""The settings naming the user's own ignore and attributes files, and the name each has in
git's folder of $XDG_CONFIG_HOME (or ~/.config) when unset."""


def refuse_blocking_git_files(root: Path) -> None:
    """BlockingFile for the ignore and attributes files git opens by name outside the work
    tree, for every walk for untracked files (`ls-files --exclude-standard`, `grep
    --untracked`) and every attribute lookup (`diff` or `hash-object` of a working tree file,
    `check-attr`, `--cached` too): $GIT_DIR/info/exclude, $GIT_DIR/info/attributes,
    core.excludesFile and core.attributesFile (by default $XDG_CONFIG_HOME/git/ignore and
    …/attributes). A FIFO there (made by hand or a tool; no clone makes one) left those
    commands, and flagops, waiting forever, as one in the work tree did."""
    configured = Background(partial(_own_files_set, root))
    shown = git(root, "rev-parse", "--git-path", "info/exclude", "--git-path",
                "info/attributes").decode("utf-8", "surrogateescape").splitlines()
    settings = configured.result()
    for key, name in _OWN_FILES.items():
        shown.append(settings.get(key) or _xdg_file(name))
    for path in filter(None, shown):
        _refuse_blocking(root / path, path, follow=True)


def _own_files_set(root: Path) -> dict[str, str]:
    """core.excludesFile and core.attributesFile where set, as git reads them (~ expanded);
    `git config` exits 1 where neither is."""
    process = subprocess.run(["git", "config", "--null", "--type=path", "--get-regexp",
                              r"^core\.(excludesfile|attributesfile)$"], cwd=root,
                             capture_output=True, check=False, env=environment())
    if process.returncode not in (0, 1):
        raise_failure(root, ("config",), process.stderr, process.returncode)
    settings: dict[str, str] = {}
    for record in process.stdout.split(b"\0"):
        key, _, value = record.decode("utf-8", "surrogateescape").partition("\n")
        if key in _OWN_FILES:
            settings[key] = value  # the last one wins, as in git
    return settings


def _xdg_file(name: str) -> str:
    """git's default for a user's own `name` file ("" where no HOME says where)."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        return os.path.join(xdg, "git", name)
    home = os.environ.get("HOME", "")
    return os.path.join(home, ".config", "git", name) if home else ""


def folders_of(listing: Iterable[bytes]) -> set[str]:
    """The folders of paths as git lists them (`-z` records, or `ls-files -v`'s with a
    two-byte tag cut off already): the distinct ones first, so 100,000 files in a few
    folders decode a few folders."""
    return {folder.decode("utf-8", "surrogateescape")
            for folder in {path.rpartition(b"/")[0] for path in listing if path}}


def refuse_blocking_ignores(root: Path, paths: Sequence[str]) -> None:
    """`refuse_blocking_files` for the ignore files of the untracked folders a walk for
    untracked files under paths enters (`untracked_folders`)."""
    refuse_blocking_files(root, untracked_folders(root, paths), (IGNORES,))


def untracked_folders(root: Path, paths: Sequence[str]) -> list[str]:
    """Every untracked, unignored folder under paths and the folders in it: those a walk for
    untracked files (`ls-files --others --exclude-standard`, `grep --untracked`) enters, whose
    ignore files it opens. Git names each such folder once (`--directory`), opening only the
    ignore files of the root and of tracked folders to do so: the caller has refused blocking
    ones there first (`refuse_blocking_files`). No paths, no walk (git would walk them all)."""
    if not paths:
        return []
    listed = split_z(git(root, "ls-files", "--others", "--directory", "--exclude-standard",
                         "-z", "--", *paths))
    found: list[str] = []
    for folder in (path.rstrip("/") for path in listed if path.endswith("/")):
        found += [Path(top).relative_to(root).as_posix() for top, _, _ in os.walk(root / folder)]
    return found


def _untracked(root: Path, paths: Sequence[str]) -> list[str]:
    """New files in the working tree. Under flags/ even ignored ones: `build` reads them."""
    found = split_z(git(root, "ls-files", "--others", "-z", "--", FLAGS_DIR))
    others = [path for path in paths if path != FLAGS_DIR]
    if others:
        refuse_blocking_ignores(root, others)
        found += split_z(git(root, "ls-files", "--others", "--exclude-standard", "-z", "--",
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
        yield Change(path, side(path, old_mode, old_oid), side(path, new_mode, new_oid))
        index += 2


def intent_to_add(root: Path, base: str, paths: Sequence[str]) -> frozenset[str]:
    """Those of paths (in the index) that are only `git add -N` placeholders. `git diff
    --cached` leaves them out (a commit records nothing there) unless asked to show them:
    a placeholder is a path that diff shows with a file only when asked, or as deleted (the
    base has a file there, and the commit will not)."""
    literal = [f":(literal){path}" for path in paths]
    hidden = {change.path: change for change in _cached_changes(root, base, literal)}
    shown = {change.path for change in _cached_changes(root, base, literal,
                                                        "--ita-visible-in-index")
             if change.after is not None}
    return frozenset(path for path in paths if (
        hidden[path].after is None if path in hidden else path in shown))


def _cached_changes(root: Path, base: str, pathspecs: Sequence[str],
                    *options: str) -> list[Change]:
    raw = git(root, *_RAW_DIFF, "--cached", *options, base, "--", *pathspecs)
    return list(_parse_raw(raw.split(b"\0")))


def side(path: str, mode: str, oid: str) -> Entry | None:
    """One side of a `--raw` change: None where the file is absent (mode 000000), no object
    id where git names none (all zeros: a working tree side git has not hashed)."""
    if mode == MISSING_MODE:
        return None
    return Entry(path, mode, None if oid.strip("0") == "" else oid)


CONVERSIONS = ("working-tree-encoding", "filter", "ident", "export-subst", "export-ignore", "merge",
               "diff", "linguist-generated", "gitlab-generated")
"""Attributes that make a checkout's bytes differ from the blob's (beyond line endings), or an
archive's (`git archive`, a host's "Download source" or tarball, which a runner without git
checks out: `export-subst` expands `$Format:...$` into any text, lines and keys included;
`export-ignore` leaves the file out, so the flag drops out of the build unseen), a merge's
from git's own three-way merge (`merge`), or what review shows from the change (`diff`,
`*-generated`); see HARMLESS for the values that do none of it."""
HARMLESS = {"merge": frozenset(("set", "text", "binary")), "diff": frozenset(("set",)),
            "linguist-generated": frozenset(("false",)), "gitlab-generated": frozenset(("false",))}
"""Values of CONVERSIONS, beyond unset and unspecified, that change nothing the gate judges or
review sees: git's own text merge, or none (`-merge`, `binary`: a conflict); a text diff.
Any other merge driver is refused: `merge=union` keeps both sides' lines of a conflict, so a
merge that honours the tree's attributes (a server that reads them, anyone's `git merge`)
lands a file with `stage:` twice, where the gate's merge (`merge_tree`, which reads none)
conflicted and judged the request's own head, which passed; under flags/ such an attribute
needed no owner's review and drew no warning."""
HIDDEN_WHEN_UNSET = frozenset(("diff",))
"""Attributes whose unset value is the harmful one: `-diff` (or the `binary` macro) shows a
flag file's change in review as "Binary files differ"."""


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
    folders = _folders_of(paths)
    listing = b"".join(path.encode("utf-8", "surrogateescape") + b"\0"
                       for path in [*paths, *folders])
    # A clone on macOS or Windows sets core.ignorecase, and git then matches attribute
    # patterns without case (`*.YML` takes flags/x.yml there): asked so, git names every
    # file some checkout converts, a superset of what a Linux one does.
    query = ["-c", "core.ignorecase=true", "check-attr", "-z", "--stdin", *CONVERSIONS]
    if attributes is None:
        refuse_blocking_files(root, {path.rpartition("/")[0] for path in paths}, (ATTRIBUTES,))
        return _in_folders(paths, _parse_attributes(git(root, *query, stdin=listing)))
    refuse_blocking_git_files(root)  # read by `check-attr --cached` too
    with _scratch_folder("flagops-attributes-") as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        info = b"".join(f"{entry.mode} {entry.oid}\t".encode() +
                        entry.path.encode("utf-8", "surrogateescape") + b"\0"
                        for entry in attributes if entry.oid is not None)
        git(root, "update-index", "-z", "--index-info", stdin=info, env=env)
        return _in_folders(paths, _parse_attributes(
            git(root, *query[:3], "--cached", *query[3:], stdin=listing, env=env)))


FOLDER_ATTRIBUTE = "export-ignore"
"""The one attribute git reads on a folder for the files in it: `git archive` leaves out a
folder it marks (archive.c asks about each tree, as `path/`), though `check-attr` of a file
in it says unspecified. `team export-ignore` in flags/.gitattributes dropped flags/team/ from
every archive of the commit, and asked about the files alone, FO011 said nothing."""


def _folders_of(paths: Sequence[str]) -> list[str]:
    """Every folder above the paths, each as `git archive` asks about it (`flags/team/`)."""
    folders = {path[:at + 1] for path in paths for at, char in enumerate(path) if char == "/"}
    return sorted(folders)


def _in_folders(paths: Sequence[str], found: dict[str, str]) -> dict[str, str]:
    """The files' own findings, and FOLDER_ATTRIBUTE on a folder above one as the file's."""
    marked = sorted(folder for folder, how in found.items()
                    if folder.endswith("/") and how.startswith(f"{FOLDER_ATTRIBUTE}="))
    kept = {path: how for path, how in found.items() if not path.endswith("/")}
    for path in paths:
        folder = next((folder for folder in marked if path.startswith(folder)), None)
        if folder is not None and path not in kept:
            kept[path] = f"{found[folder]} (on its folder {folder.rstrip('/')})"
    return kept


def _parse_attributes(raw: bytes) -> dict[str, str]:
    """`<path>\0<attribute>\0<value>\0` triples; unset and unspecified convert nothing (but
    an unset `diff` hides the change: HIDDEN_WHEN_UNSET). A folder (`path/`) is asked about
    FOLDER_ATTRIBUTE alone: git reads no other attribute of a folder for its files."""
    fields = raw.split(b"\0")
    found: dict[str, str] = {}
    for index in range(0, len(fields) - 2, 3):
        value = fields[index + 2].decode("utf-8", "replace")
        attribute = fields[index + 1].decode("utf-8", "replace")
        quiet = ("unspecified",) if attribute in HIDDEN_WHEN_UNSET else ("unspecified", "unset")
        if value not in quiet and value not in HARMLESS.get(attribute, ()):
            path = fields[index].decode("utf-8", "surrogateescape")
            if not path.endswith("/") or attribute == FOLDER_ATTRIBUTE:  # a folder: only it
                found.setdefault(path, f"{attribute}={value}")
    return found


@contextlib.contextmanager
def index_of(root: Path, commit: str | None) -> Iterator[dict[str, str]]:
    """The environment of a scratch index read from `commit`'s tree (None: no files), for the
    `with`: it keeps no file's size or times, so a command run in it (`status`) reads every
    file it compares, where the checkout's own index lets git take a file whose times it
    recorded as the blob it recorded beside them, unread."""
    with _scratch_folder("flagops-index-") as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        git(root, "read-tree", *([commit] if commit else ["--empty"]), env=env)
        yield env


def _scratch_folder(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A folder of its own for git's index or work tree, removed after. `tempfile` (with the
    shutil, random and hashing it imports) is imported here: most commits the hook judges
    stage no flag file, and need none."""
    import tempfile

    return tempfile.TemporaryDirectory(prefix=prefix)


def merge_tree(root: Path, ours: str, theirs: str) -> str | None:
    """The tree a merge would produce, or None when it conflicts (git >= 2.38).

    Run from an empty folder with an empty index, as the server merges: the checkout's own
    .gitattributes (the change under review) could otherwise pick merge drivers that turn a
    clean merge into a conflict, and the gate would judge another tree than the merge.
    Exit code 1 means conflicts; anything else (an old git, a bad object) is an error.
    """
    git_dir = git(root, "rev-parse", "--absolute-git-dir").decode("utf-8", "surrogateescape")
    with _scratch_folder("flagops-merge-") as empty:
        env = environment({"GIT_DIR": git_dir.strip(),
                           "GIT_INDEX_FILE": os.path.join(empty, "index")},
                          drop=frozenset(("GIT_WORK_TREE",)))
        process = subprocess.run(["git", "merge-tree", "--write-tree", ours, theirs], cwd=empty,
                                 env=env, capture_output=True, check=False)
    if process.returncode == 1:
        return None
    if process.returncode != 0:
        detail = process.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(_merge_failure(root, detail[-1] if detail else str(process.returncode)))
    return process.stdout.decode().splitlines()[0].strip()


def _merge_failure(root: Path, detail: str) -> str:
    """Why no merge could be made, in the words that say what to do: two commits with no
    common commit in this clone are mostly a shallow clone's cut (CI fetched too little)."""
    if "unrelated histories" not in detail:
        return f"git merge-tree --write-tree failed (git 2.38 or newer is needed): {detail}"
    shallow = git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"
    if shallow:
        return ("the change and its target share no commit in this shallow clone: fetch the "
                'whole history (GitLab CI: GIT_DEPTH: "0"; GitHub: fetch-depth: 0)')
    return "the change and its target share no commit (unrelated histories): nothing to judge"


READ_AHEAD = 256
"""Blobs `BlobReader.in_batches` asks git for at once."""
_Item = TypeVar("_Item")
_CAT_FILE_STOPPED = ("git cat-file stopped before it gave {oid}: a partial clone whose remote "
                     "did not answer the fetch of a missing object? Fetch the objects first "
                     "(git fetch --refetch), or clone without --filter")


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
        self._stopped = False
        """git's output ended before every blob asked for was answered: no read after that
        is answered, and none may pass for a blob git does not have."""

    def read(self, oid: str) -> bytes | None:
        """The blob's bytes, or None when oid names no blob. A cat-file that stopped (a
        partial clone's lazy fetch failed) raises GitError, for this read and every later
        one that `prefetch` did not answer before it stopped: read as "no such blob", the
        versions of a flag's history (or its base file) were silently left out."""
        if oid in self._ready:
            return self._ready.pop(oid)
        _check_oid(oid)
        if self._stopped:
            raise GitError(_CAT_FILE_STOPPED.format(oid=oid))
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(oid.encode("ascii") + b"\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            self._stopped = True
            raise GitError(_CAT_FILE_STOPPED.format(oid=oid)) from None
        found = self._answer()
        if self._stopped:
            raise GitError(_CAT_FILE_STOPPED.format(oid=oid))
        return found

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
            found = self._answer()
            if self._stopped:  # left unanswered: `read` raises for it and every one after
                break
            self._ready[oid] = found
        writer.join()

    def in_batches(self, items: Sequence[_Item],
                   oid_of: Callable[[_Item], str | None]) -> Iterator[Sequence[_Item]]:
        """The items a batch at a time, the blobs each will read (`oid_of`; None: none)
        streamed from git before its batch is handed out: a round trip per blob took most
        of the time of a change of thousands of flag files. What a batch did not read after
        all is dropped when the next is asked for: at most `READ_AHEAD` blobs wait, a MiB
        each."""
        for start in range(0, len(items), READ_AHEAD):
            batch = items[start:start + READ_AHEAD]
            if len(batch) > 1:
                self.prefetch(oid for item in batch if (oid := oid_of(item)) is not None)
            yield batch
            self._ready.clear()

    def _answer(self) -> bytes | None:
        assert self._process.stdout is not None
        stdout = self._process.stdout
        line = stdout.readline()
        if not line.endswith(b"\n"):  # the end of git's output: it stopped (sets `_stopped`)
            self._stopped = True
            return None
        header = line.split()
        if len(header) != 3:  # `<oid> missing`
            return None
        size = int(header[2])
        wanted = min(size, MAX_BLOB_BYTES + 1)
        body = stdout.read(wanted)
        if len(body) < wanted or not _skip(stdout, size - len(body) + 1):
            self._stopped = True  # cut short: not the blob
            return None
        return body if header[1] == b"blob" else None

    def close(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):  # git stopped first: nothing waits
                self._process.stdin.close()
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


MAX_BLOB_BYTES = 1024 * 1024
"""The most of one blob a `BlobReader` hands out: more than any reader accepts (a flag file
256 KiB, pyproject.toml 1 MiB), so a longer blob comes back cut to this plus one byte, which
every reader refuses as too large. A blob was read whole: git stores a file of zeros in a
thousandth of its size, so a 16 GB "flag file" in a 16 MB push made the gate ask for 16 GB
of memory (a 300 MB one: 330 MB), and CI's job was killed instead of given one line."""


def _skip(stream: IO[bytes], count: int) -> bool:
    """Reads and drops `count` bytes of the stream, a chunk at a time; False where the
    stream ended first."""
    while count > 0:
        dropped = len(stream.read(min(count, 1 << 20)))
        if not dropped:
            return False
        count -= dropped
    return True


def _check_oid(oid: str) -> None:
    if not OBJECT_ID.fullmatch(oid):
        raise ValueError(f"not an object id: {oid!r}")


def _write_all(stream: IO[bytes], oids: Sequence[str]) -> None:
    """(In the prefetch's thread.) A cat-file that stopped answers no more: the reader sees
    the end of its output, and each `read` of a blob left unanswered says why."""
    with contextlib.suppress(BrokenPipeError):
        stream.write(b"".join(oid.encode("ascii") + b"\n" for oid in oids))
        stream.flush()
