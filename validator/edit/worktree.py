"""The rest of the working tree, as `flagops validate --base HEAD` sees it, around one write.

The gate judges the whole working tree against HEAD, not one file: how many flags the change
steps (`one_flag_per_change`, FO406) counts every changed flag file, and a checkout conversion
(FO011, .gitattributes) of any flag file blocks every change but a pure rollback. So before an
authoring command writes, the tree it would leave is described as the gate describes it (every
changed path, both sides of every changed flag, the flag files there) with the one write put in,
and the gate's own functions judge it: `lifecycle_findings` over every changed flag,
`compare.worktree_conversions` over every flag file.

Only what the write brings is refused: a finding on the written file or its flag, or an error
that the tree as it is now does not already give. What is already wrong elsewhere is the gate's
to say; a rollback must stay possible however the rest of the tree stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.check import LoadedFlag, check_documents
from validator.compare import GATE_PATHS, Comparison, worktree_conversions
from validator.document import Document
from validator.files import worktree_files
from validator.findings import Finding, Severity
from validator.head_listing import Listing
from validator.lifecycle.gate import Sides, lifecycle_findings
from validator.loader import load_or_finding, read_document
from validator.parse import parse_flag
from validator.policy import PYPROJECT, Policy


@dataclass(frozen=True, slots=True)
class Write:
    """The one write judged: `name`'s file at `path`, its HEAD side and what it becomes."""

    name: str
    path: str
    before: LoadedFlag | None
    """The flag at HEAD (None: new there, or unreadable)."""
    after: LoadedFlag | None
    """The flag as written (None: the file is deleted, or does not load)."""
    at_head: bool
    """A file is at `path` in HEAD."""
    deleted: bool = False
    """The write deletes the file (remove)."""
    unchanged: bool = False
    """After the write the path is as HEAD has it: HEAD's bytes again, or an untracked file
    deleted."""


@dataclass(frozen=True, slots=True)
class Tree:
    """A working tree against HEAD, as the gate reads it."""

    changes: tuple[git.Change, ...]
    before: dict[str, LoadedFlag]
    after: dict[str, LoadedFlag]
    files: tuple[str, ...]
    """Every regular *.yml file under flags/ (any case of .yml: see worktree_files), and the
    .gitattributes there and at the top."""
    irregular: tuple[tuple[str, str], ...]


def findings(root: Path, head: str, write: Write, policy: Policy, now: int) -> list[Finding]:
    """What `validate --base HEAD` would say after `write` that depends on more than the file:
    the lifecycle rules over every changed flag, and conversions over every flag file."""
    now_tree = read(root, head, policy)
    then = with_write(now_tree, write)
    with git.BlobReader(root) as reader:
        lifecycle = lifecycle_findings(root, reader, Sides(head, None, False), then.before,
                                       then.after, policy, now)
    found = [finding for finding in lifecycle if finding.flag == write.name]
    after = _conversions(root, then, policy)
    brought = [finding for finding in after if finding.path == write.path]
    elsewhere = [finding for finding in after if finding.path != write.path
                 and finding.severity is Severity.ERROR]
    if elsewhere:  # blocking now too? then it is not this write's
        already = {(finding.rule, finding.path) for finding in _conversions(root, now_tree, policy)
                   if finding.severity is Severity.ERROR}
        brought += [finding for finding in elsewhere
                     if (finding.rule, finding.path) not in already]
    return found + brought


def read(root: Path, head: str, policy: Policy) -> Tree:
    """The working tree's changes against HEAD (the gate's `git diff` over the same paths) and
    both sides of every changed flag file, read as the gate reads them."""
    changes = git.diff_entries(root, head, None, ".",
                               untracked=(git.FLAGS_DIR, PYPROJECT, *GATE_PATHS))
    flagged = [change for change in changes if git.is_flag_path(change.path)]
    before: dict[str, LoadedFlag] = {}
    documents: list[Document | Finding] = []
    with git.BlobReader(root) as reader:
        for change in flagged:
            old = change.before
            if old is not None and old.is_regular and old.oid is not None:
                raw = reader.read(old.oid)
                loaded = _loaded(load_or_finding(raw, change.path)) if raw is not None else None
                if loaded is not None:
                    before.setdefault(loaded.flag.name, loaded)
            if change.after is not None and change.after.is_regular:
                documents.append(read_document(root / change.path, change.path))
    changed = {change.path for change in flagged if change.after is not None}
    checked = check_documents(documents, policy)
    after = {name: loaded for name, loaded in checked.flags.items()
             if loaded.document.path in changed}
    found, irregular = worktree_files(root)
    return Tree(tuple(changes), before, after, tuple(found), tuple(irregular))


def with_write(tree: Tree, write: Write) -> Tree:
    """The tree once `write` is made: its path changed (or no longer changed), its flag's two
    sides the write's (none, when the path is as HEAD has it again)."""
    changes = [change for change in tree.changes if change.path != write.path]
    if not write.unchanged:
        entry = git.Entry(write.path, "100644", None)
        changes.append(git.Change(write.path, entry if write.at_head else None,
                                  None if write.deleted else entry))
    before = {name: loaded for name, loaded in tree.before.items()
              if loaded.document.path != write.path}
    after = {name: loaded for name, loaded in tree.after.items()
             if loaded.document.path != write.path}
    if not write.unchanged:  # an unchanged path is no part of the change: the gate skips it
        if write.before is not None:
            before[write.name] = write.before
        if write.after is not None:
            after[write.name] = write.after
    files = [path for path in tree.files if path != write.path]
    if not write.deleted:
        files.append(write.path)
    return Tree(tuple(sorted(changes, key=lambda change: change.path)), before, after,
                tuple(sorted(files)), tree.irregular)


def _conversions(root: Path, tree: Tree, policy: Policy) -> list[Finding]:
    listing = Listing.of_worktree(tree.files, tree.irregular)
    result = Comparison("HEAD → the working tree", policy, before=dict(tree.before),
                        after=dict(tree.after))
    return worktree_conversions(root, list(tree.changes), listing, result)


def _loaded(document: Document | Finding) -> LoadedFlag | None:
    if not isinstance(document, Document):
        return None
    flag = parse_flag(document)[0]
    return LoadedFlag(flag, document) if flag is not None else None
