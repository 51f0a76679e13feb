"""Both states of a change, read from git (for `validate --base/--staged` and `plan`), judged.

Work is proportional to the change: git names the changed flag files with their modes and
object ids, one `cat-file --batch` process reads both sides by object id, and history is read
only for flags that step forward. The change is judged by the base's policy: a change that
loosens the rules is judged by the rules it wants to replace.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from itertools import islice
from pathlib import Path

from validator import git
from validator.background import Background
from validator.characters import invisible_character
from validator.check import LoadedFlag, check_documents
from validator.digits import whole_number
from validator.document import Document
from validator.errors import UsageError
from validator.files import (
    ATTRIBUTES,
    converted,
    look_alike,
    not_a_folder,
    not_read,
    not_regular,
    path_problem,
    stem,
    worktree_files,
)
from validator.findings import RULES, START, Finding, Severity
from validator.gate_files import base_entry, gate_findings, history_rewrites
from validator.git import log as git_log
from validator.git.replay import TooLong, rebased_tree
from validator.head_listing import INDEX, TREE, Listing
from validator.importers.gate import (
    IMPORT_TRAILER,
    Imports,
    exact_imports,
    import_source,
    with_imports,
)
from validator.landings import (
    landing_times,
    name_pathspec,
    policy_or_defaults,
)
from validator.lifecycle.gate import Sides, lifecycle_findings, restart_findings
from validator.loader import load_or_finding, read_document
from validator.model import NAME_PATTERN, Flag
from validator.parse import parse_flag
from validator.policy import (
    DEFAULT_POLICY,
    PYPROJECT,
    Policy,
)
from validator.rebucketing import rebucketed_findings
from validator.reports import Report
from validator.reverts import released_before_removal, removed_names
from validator.transitions import (
    RolloutState,
    Step,
    Verdict,
    apply_override,
    classify,
    judge,
    judge_unreadable_base,
    judge_unreadable_policy,
)

OVERRIDE_TRAILER = "Flag-Override"
GATE_PATHS = (".gitlab-ci.yml", ".ci", "validator", "survey_renderer", ".pre-commit-config.yaml",
              ".pre-commit-hooks.yaml", "CODEOWNERS", ".gitlab", "schema", ".gitattributes",
              "setup.py", "setup.cfg", ".github")
"""Where new, untracked files are looked for in working-tree mode. Committed changes are
looked for everywhere: any file outside flags/ but documentation may be code that CI runs."""

AMEND_NOTE = ("this looks like a commit --amend, which replaces HEAD, so its step is from "
              "HEAD~1: flagops validate --staged --base HEAD~1 judges that, as CI will")
"""Git tells a pre-commit hook nothing of an amend, which makes its commit on HEAD's parent:
where the commit looks like one, the hook's judgement of flag files from HEAD to the index
says which step it judged, and how to judge the other."""


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """What the user asked to compare, as refs; `head` None is the working tree (or index)."""

    base: str | None
    head: str | None = None
    staged: bool = False
    merged: bool = False
    all_files: bool = False
    author_date: str | None = None
    """The commit's author date as git gives a pre-commit hook (GIT_AUTHOR_DATE): an amend
    keeps HEAD's, so with --staged from HEAD it says when the hook may be judging an amend."""
    soak_as_warning: bool = False
    """Soak findings as warnings, as with `staged`: the hook judging a push, which CI judges
    again when it merges."""
    rebase_merge: bool = True
    """With `merged`: a rebase merge of the change may land (GitHub's "Rebase and merge"),
    so what it lands is worked out as well (FO214). GitLab lands no rebase: its jobs say
    False, and a branch a rebase would land otherwise is not refused there."""
    fast_forward: bool = True
    """The change may land as a fast-forward of its base branch to its tip (a push, GitLab's
    fast-forward merge method), whose first-parent line then becomes the base branch's
    (FO408). A GitHub pull request never does: a merge commit, a squash or a rebase."""
    trailers_from: str | None = None
    """A range whose commits' trailers (`Flag-Override`, `Flag-Import`) count as well: the
    merge request's own commits, where a merge train judges their squash, whose message is
    GitLab's template (the title alone, by default), not theirs."""


@dataclass(frozen=True, slots=True)
class _Span:
    base: str
    head: str | None
    staged: bool
    commits: str | None
    label: str
    rebased_differs: bool = False
    """A merged span whose rebase onto the base lands another tree (FO214)."""

    @property
    def tip(self) -> str | None:
        """The change's last commit, where the head is one (or the merge of one), or HEAD
        where the head is the working tree: what it commits so far."""
        if self.staged or self.commits is None:
            return None
        return self.commits.partition("..")[2]


@dataclass(slots=True)
class Comparison:
    """Both states of every changed flag, and the findings; plans and reports read this."""

    label: str
    policy: Policy = DEFAULT_POLICY
    changed: list[str] = field(default_factory=list)
    before: dict[str, LoadedFlag] = field(default_factory=dict)
    after: dict[str, LoadedFlag] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    amend_note: bool = False
    """Judged from HEAD to the index (the hook): the report says what an amend would be."""
    widens_a_duplicate: bool = False
    """A changed file of a name that another file defines first (so not in `after`) reaches
    someone its own base file did not: the change is no rollback."""

    def steps(self) -> dict[str, Step | None]:
        """Each flag at the head: its change by what each actor gets (None: a new flag)."""
        return {name: None if (before := self.before.get(name)) is None else classify(
                    RolloutState.of(before.flag), RolloutState.of(loaded.flag),
                    self.policy.bucketing)
                for name, loaded in self.after.items()}

    def rolled_back(self) -> set[str]:
        """The flags whose change takes the flag from someone and gives it to no one."""
        if self.widens_a_duplicate:
            return set()
        return {name for name, step in self.steps().items() if step is Step.ROLLBACK}

    def report(self) -> Report:
        if not self.changed:
            return Report(self.findings, self.files, [f"no flag changed: {self.label}"])
        note = f"judged {len(self.changed)} changed flag file(s): {self.label}"
        return Report(self.findings, self.files,
                      [note, AMEND_NOTE] if self.amend_note else [note])


def judge_range(root: Path, request: RangeRequest, *, now: int,
                policy: Policy | None = None) -> Report:
    return compare(root, request, policy=policy, now=now).report()


def compare(root: Path, request: RangeRequest, *, now: int,
            policy: Policy | None = None) -> Comparison:
    """`now`: the clock soak times and lifespans are judged against, read by the command at
    its edge. `policy` None: the base's `[tool.flagops]` (what tests pass instead is theirs)."""
    git.require_top_level(root)
    span = _span(root, request)
    # The head's listing beside the diff: each reads the whole head (tree, index or files).
    head_listing = Background(partial(_head_listing, root, span))
    base_listing = Background(partial(_base_listing, root, span))
    changes = git.diff_entries(root, span.base, span.head, ".",
                               staged=span.staged, untracked=(git.FLAGS_DIR, PYPROJECT,
                                                              *GATE_PATHS))
    if span.staged and request.base is None:
        changes, span = _merged_in(root, changes, span)
    flag_changes = [change for change in changes if git.under_flags(change.path)]
    with git.BlobReader(root) as reader:
        base_policy, unreadable = policy_or_defaults(reader, base_entry(root, span.base,
                                                                        changes), "the base")
        result = Comparison(span.label, policy or base_policy)
        head_policy: Policy | None = base_policy
        if span.base != git.EMPTY_TREE:  # a first commit makes the gate: there is none before it
            head_policy, said = gate_findings(reader, root, span.base, changes, base_policy)
            result.findings += said
        listing = head_listing.result()
        flag_changes, twice_in_base = _as_checked_out(base_listing.result(), flag_changes,
                                                      listing)
        _judge_flags(root, reader, span, request, result, flag_changes, listing,
                     now)
        if head_policy is not None and head_policy.bucketing != base_policy.bucketing:
            flags, unread = _every_head_flag(root, reader, listing, result)
            result.findings += rebucketed_findings(flags, unread, base_policy.bucketing,
                                                   head_policy.bucketing)
        result.findings += _conversion_findings(root, span, listing, changes, result)
        result.findings += _case_twins(changes, listing, result)
        result.findings += _brought_look_alikes(changes)
        result.findings += _unbuildable(root, span, changes, listing, result,
                                        request.all_files, twice_in_base)
        restarts = restart_findings(root, reader, span.base, span.tip, result.policy,
                                    fast_forward=request.fast_forward) \
            if span.tip is not None and span.base != git.EMPTY_TREE else []
    if unreadable is not None and policy is None:
        result.findings.append(_without_base_policy(unreadable, changes, result))
    # Asked of git only where the report shows it: a hook run that judged flag files.
    result.amend_note = bool(result.changed) and request.staged and request.base is None \
        and _keeps_head_author_date(root, request.author_date)
    # FO213 holds a rollback too: fast-forwarded, the author's merge would start the soak
    # of the rolled-back state at a date its author chose, and the step rolled back could be
    # taken again at once. Its message gives the rebase that lets the rollback through.
    result.findings += history_rewrites(root, span.base, span.commits, result.policy,
                                        request.merged, fast_forward=request.fast_forward)
    result.findings += restarts
    if span.rebased_differs:
        result.findings.append(RULES["FO214"].at(
            git.FLAGS_DIR, START, f"{request.head or 'HEAD'} rebased onto {request.base} "
            "(a rebase merge) lands another tree than the merge judged here (or has more "
            f"commits than flagops replays): rebase it onto {request.base} and push again"))
    return result


def _merged_in(root: Path, changes: list[git.Change], span: _Span
               ) -> tuple[list[git.Change], _Span]:
    """The hook committing a merge that stopped on a conflict (a clean merge runs no commit
    hook): HEAD → the index then holds the merged branch's own changes, and a merge of the
    target read its steps (staging → beta → 10 %) as this branch's jump, a false refusal.
    A path the index holds exactly as a merged commit has it (`git merge --no-commit` of
    several branches stops with each) is that commit's change, judged where it lands (its
    merge request, or CI on the push of this merge); every other path, a conflict resolved by
    hand included, is judged from HEAD."""
    heads = git.merge_heads(root) if changes else []
    if not heads:
        return changes, span
    theirs = [git.tree_entries(root, head, ".") for head in heads]
    ours = [change for change in changes
            if not any(_as_merged(change, tree.get(change.path)) for tree in theirs)]
    if len(ours) == len(changes):
        return changes, span
    merged = f"the merged commit {heads[0][:12]} has them (judged where it lands)" \
        if len(heads) == 1 else (f"one of the merged commits {', '.join(h[:12] for h in heads)} "
                                 "has them (judged where they land)")
    label = f"{span.label}, less {len(changes) - len(ours)} file(s) as {merged}"
    return ours, _Span(span.base, span.head, span.staged, span.commits, label)


def _as_merged(change: git.Change, theirs: git.Entry | None) -> bool:
    if change.after is None:
        return theirs is None
    return theirs is not None and (theirs.mode, theirs.oid) == (change.after.mode,
                                                                change.after.oid)


def _judge_flags(root: Path, reader: git.BlobReader, span: _Span, request: RangeRequest,
                 result: Comparison, changes: list[git.Change], listing: Listing,
                 now: int) -> None:
    touched = list(dict.fromkeys(change.path for change in changes))  # a path twice: a
    result.changed = [path for path in touched if git.is_flag_path(path)]  # malformed base
    # Only what is there at head: a .yaml moved away (git mv to .yml) leaves nothing unread.
    result.findings += not_read([change.path for change in changes if change.after])
    if not changes and not request.all_files:
        return
    base_side = _base_side(reader, changes)
    result.before = base_side.flags
    head_changed: dict[str, git.Entry] = {change.path: change.after for change in changes
                                          if change.after}
    targets = listing.entries if request.all_files else {
        **head_changed, **listing.folders_above(head_changed)}
    documents = _read_all(reader, root, [
        entry for path, entry in sorted(targets.items())
        if git.is_flag_path(path) or not entry.is_regular or path == git.FLAGS_DIR])
    read = [doc for doc in documents if doc is not None]
    checked = check_documents(read, result.policy,
                              other_paths=listing.flag_paths_named(_names_in(read)))
    result.after = {name: loaded for name, loaded in checked.flags.items()
                    if loaded.document.path in head_changed}
    result.widens_a_duplicate = _widens_a_duplicate(read, head_changed, base_side, result)
    removed = cache(partial(removed_names, root, span.base))  # read once, only if asked
    still_there = _still_there(reader, root, listing, result, base_side, head_changed)
    judged = _judge_all(root, reader, span, result, base_side, still_there, now, removed,
                        soak_as_warning=span.staged or request.soak_as_warning)
    judged += _duplicate_resolved(reader, root, changes, listing, base_side, result)
    imports = _imports(root, reader, (span.base, _trailer_ranges(span, request)), result,
                       head_changed, removed)
    judged += lifecycle_findings(root, reader, Sides(span.base, span.head, span.staged),
                                 result.before, result.after, result.policy, now,
                                 not_counted=imports.passing if imports else frozenset())
    found = _untouched_never_block(checked.findings, changes, listing, result)
    overrides, unread = _overrides(root, _trailer_ranges(span, request))
    found += _with_overrides(overrides, judged, result) + unread
    result.findings += with_imports(found, imports) if imports else found
    result.files = [(f.path, f.flag) for f in checked.files]
    result.files += [(loaded.document.path, name) for name, loaded in result.before.items()
                     if name not in checked.flags]


def _every_head_flag(root: Path, reader: git.BlobReader, listing: Listing,
                     result: Comparison) -> tuple[dict[str, LoadedFlag], list[str]]:
    """Every flag at the head, read only where a change needs them all (a new bucketing), and
    the flag files that give none (unreadable, invalid, a name's second file)."""
    entries = [entry for path, entry in sorted(listing.entries.items()) if git.is_flag_path(path)]
    flags = check_documents(_read_all(reader, root, entries), result.policy).flags
    read = {loaded.document.path for loaded in flags.values()}
    return flags, [entry.path for entry in entries if entry.path not in read]


def _without_base_policy(unreadable: Finding, changes: list[git.Change],
                         result: Comparison) -> Finding:
    """FO301 for a base whose policy cannot be read: a warning only for a change of flag
    files alone, each a flag at stage off at the head (`judge_unreadable_policy`)."""
    at_head = {loaded.document.path: loaded for loaded in result.after.values()}
    return judge_unreadable_policy(unreadable, bool(changes) and all(
        git.is_flag_path(change.path) and change.after is not None
        and change.path in at_head and RolloutState.of(at_head[change.path].flag).is_off
        for change in changes))


def _keeps_head_author_date(root: Path, author_date: str | None) -> bool:
    """The commit being made has HEAD's author date, as git gives it to a pre-commit hook
    (`@<seconds> <zone>`): what `git commit --amend` does, and a new commit does only in
    HEAD's second. Git tells the hook nothing else of an amend; saying so on every commit
    would be a line nobody reads."""
    seconds = author_date[1:].partition(" ")[0] if author_date and author_date[:1] == "@" else ""
    if whole_number(seconds) is None:
        return False
    try:
        return git.git(root, "show", "-s", "--format=%at", "HEAD").strip() == seconds.encode()
    except git.GitError:  # no HEAD yet: nothing to amend
        return False


def _still_there(reader: git.BlobReader, root: Path, listing: Listing, result: Comparison,
                 base_side: _BaseSide, head_changed: dict[str, git.Entry]) -> frozenset[str]:
    """The base's names that a regular flag file at the head still carries, which are not
    judged as deleted: a file the change touched says for itself why it is not read (its
    findings are the change's, and block), and a file that reads as the flag is one. A file
    the change did not touch that does not read as the flag (a broken twin the base already
    held, whose findings never block a rollback) keeps nothing: the live flag whose file the
    change deletes is judged as deleted (FO208), else it could go behind its broken twin."""
    there = listing.names_still_there(result.before.keys() | base_side.unreadable.keys())
    hidden = set()
    for name in sorted(there & (result.before.keys() - result.after.keys())):
        twins = [entry for path, entry in listing.flag_entries_named([name]).items()
                 if stem(path) == name and entry.is_regular]
        if not any(entry.path in head_changed or _is_flag_named(
                _flag_at(reader, root, entry), name) for entry in twins):
            hidden.add(name)
    return there - hidden


def _is_flag_named(flag: Flag | None, name: str) -> bool:
    return flag is not None and flag.name == name


def _names_in(read: list[Document | Finding]) -> list[str]:
    """Every name these files may define (their stems, and the names they say), so that the
    duplicate-name check needs only the head's paths of those names."""
    names = [stem(item.path) for item in read]
    names += [item.data["name"] for item in read
              if isinstance(item, Document) and isinstance(item.data.get("name"), str)]
    return names


def _span(root: Path, request: RangeRequest) -> _Span:
    if request.staged:
        git.refuse_blocking_git_files(root)  # `diff --cached` waits on a FIFO there
        base = _commit_or_empty(root, request.base or "HEAD")
        return _Span(base, None, True, None, f"{request.base or 'HEAD'} → the index")
    if request.base is None:
        raise UsageError("--head and --merged need --base")
    base = git.resolve(root, request.base)
    if request.merged:
        return _merged_span(root, request.base, base, request.head or "HEAD",
                            request.rebase_merge)
    head = git.resolve(root, request.head) if request.head is not None else None
    commits = f"{base}..{head or 'HEAD'}" if head is None or _is_commit(root, head) else None
    return _Span(base, head, False, commits,
                 f"{request.base} → {request.head or 'the working tree'}")


def _merged_span(root: Path, base_ref: str, base: str, head_ref: str,
                 rebase_merge: bool) -> _Span:
    """Judges what the merge would produce, so two merge requests cannot together skip a step.
    Only commits merge: a tree or a blob named as either side is a usage error, where git's
    refusal read as a conflict."""
    head = git.resolve(root, head_ref)
    for ref, object_id in ((base_ref, base), (head_ref, head)):
        if not _is_commit(root, object_id):
            raise UsageError(f"--merged merges commits: {ref} is a "
                             f"{git.object_type(root, object_id)}")
    git.refuse_blocking_git_files(root)  # a merge of file contents reads the attributes
    tree = git.merge_tree(root, base, head)
    if tree is None:
        return _Span(base, head, False, f"{base}..{head}",
                     f"{base_ref} → {head_ref} ({head_ref} does not merge cleanly into "
                     f"{base_ref}; judged {head_ref} itself)")
    differs = rebase_merge and _rebase_differs(root, base, head, tree)
    return _Span(base, tree, False, f"{base}..{head}",
                 f"{base_ref} → the merge of {head_ref} into {base_ref} (tree {tree[:12]})",
                 differs)


def _rebase_differs(root: Path, base: str, head: str, tree: str) -> bool:
    """A rebase merge, which lands the commits replayed one by one without their merges,
    lands another tree than the merge (`tree`), or cannot be worked out (too many commits).
    A branch on top of the base with no merge rebases to itself; one that does not replay
    cleanly cannot be rebased at all, so only its merge can land."""
    if git.is_ancestor(root, base, head) and not git_log.merges_in(root, f"{base}..{head}"):
        return False
    try:
        rebased = rebased_tree(root, base, head)
    except TooLong:
        return True
    return rebased is not None and rebased != tree


def _is_commit(root: Path, object_id: str) -> bool:
    return git.object_type(root, object_id) == "commit"


def _commit_or_empty(root: Path, ref: str) -> str:
    """Before the first commit there is no HEAD: everything staged is new."""
    try:
        return git.resolve(root, ref)
    except (git.NotARepository, git.RepositoryRefused):
        raise
    except git.GitError:
        if ref == "HEAD":
            return git.EMPTY_TREE
        raise


# Reading both sides.

@dataclass(slots=True)
class _BaseSide:
    flags: dict[str, LoadedFlag] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    """Stems of flag files that exist at the base but cannot be read, and their paths."""
    by_path: dict[str, Flag | None] = field(default_factory=dict)
    """Every changed flag file at the base, by path: its flag, None where it cannot be read
    (`flags` keeps one per name; a name the base holds twice needs them all)."""
    every: dict[str, list[LoadedFlag]] = field(default_factory=dict)
    """Every readable changed flag file at the base, by the name it declares."""


def _base_side(reader: git.BlobReader, changes: list[git.Change]) -> _BaseSide:
    """The base side of every changed flag file; files that do not parse or are not regular
    files there have no state to step from, so they are judged apart."""
    side = _BaseSide()
    flag_changes = [change for change in changes
                    if change.before is not None and git.is_flag_path(change.path)]
    documents = _read_all(reader, None, [change.before for change in flag_changes
                                         if change.before is not None])
    for change, document in zip(flag_changes, documents, strict=True):
        flag = parse_flag(document)[0] if isinstance(document, Document) else None
        side.by_path[change.path] = flag
        if flag is None or not isinstance(document, Document):
            side.unreadable.setdefault(stem(change.path), change.path)
        else:
            side.flags.setdefault(flag.name, LoadedFlag(flag, document))
            side.every.setdefault(flag.name, []).append(LoadedFlag(flag, document))
    return side


def _base_listing(root: Path, span: _Span) -> Listing | None:
    """Everything under flags/ at the base, read whole beside the head's listing: by a
    pathspec per changed path, a base tree made by hand out of git's order hid the second
    entry of a path it lists twice (the lookup stops at the first name past it)."""
    if span.base == git.EMPTY_TREE:
        return None
    return Listing(git.tree_listing(root, span.base, git.FLAGS_DIR), TREE)


def _as_checked_out(at_base: Listing | None, changes: list[git.Change],
                    listing: Listing) -> tuple[list[git.Change], list[str]]:
    """The changes with each base side the entry a checkout of the base keeps, and the paths
    whose base tree (made by hand) lists them twice. git's diff pairs the first entry with
    the head and calls the rest deleted (or, the first equal to the head, calls the path
    deleted alone); a checkout of the base, which production runs, holds the last."""
    paths = list(dict.fromkeys(change.path for change in changes))
    twice = at_base.listed_twice(paths) if at_base is not None and paths else []
    if at_base is None or not twice:
        return changes, []
    kept = [change for change in changes if change.path not in twice]
    for path in twice:
        last = at_base.last_entry(path)
        head = listing.entries.get(path)
        if head != last:  # the same entry: production does not change there
            kept.append(git.Change(path, last, head))
    return kept, twice


def _read_all(reader: git.BlobReader, root: Path | None,
              entries: Sequence[git.Entry]) -> list[Document | Finding]:
    """`_read` of each entry, their blobs streamed from git a batch at a time."""
    found: list[Document | Finding] = []
    for batch in reader.in_batches(entries, _blob_read):
        found += [_read(reader, root, entry) for entry in batch]
    return found


def _blob_read(entry: git.Entry) -> str | None:
    """The blob `_read` reads for the entry: none for a path it refuses first (fetched, the
    blob of each such path waited in memory, a MiB each)."""
    if not entry.is_regular or entry.path == git.FLAGS_DIR \
            or path_problem(entry.path) is not None:
        return None
    return entry.oid


def _read(reader: git.BlobReader, root: Path | None, entry: git.Entry) -> Document | Finding:
    """One side of a path: refused unless it is a regular file with a printable path (and
    flags/ itself, which build walks, is no file at all)."""
    problem = path_problem(entry.path)
    if problem is not None:
        return problem
    if entry.path == git.FLAGS_DIR:
        return not_a_folder(entry.path)
    if entry.oid is None and root is not None:  # the working tree
        return read_document(root / entry.path, entry.path)
    if not entry.is_regular or entry.oid is None:
        return not_regular(entry.path, git.MODE_KINDS.get(entry.mode, "not a regular file"))
    raw = reader.read(entry.oid)
    if raw is None:
        return not_regular(entry.path, "not a blob")
    return load_or_finding(raw, entry.path)


def _widens_a_duplicate(read: list[Document | Finding], head_changed: dict[str, git.Entry],
                        base_side: _BaseSide, result: Comparison) -> bool:
    """Does a changed file whose name another file defines first (two files of one name: the
    checks read the first) reach anyone its own base file did not? It is in no step judged,
    so the change must not pass as a rollback, which lets the duplicate's FO111 through."""
    judged = {loaded.document.path for loaded in result.after.values()}
    for document in read:
        if not isinstance(document, Document) or document.path not in head_changed \
                or document.path in judged:
            continue
        flag = parse_flag(document)[0]  # (only such files are parsed again)
        if flag is None:
            continue
        own = base_side.by_path.get(document.path)
        if own is None or classify(RolloutState.of(own), RolloutState.of(flag),
                                   result.policy.bucketing) in (Step.FORWARD, Step.MIXED):
            return True
    return False


def _duplicate_resolved(reader: git.BlobReader, root: Path, changes: list[git.Change],
                        listing: Listing, base_side: _BaseSide,
                        result: Comparison) -> list[Finding]:
    """A name the base holds in several files (build refused to run: no state of it was
    live from them) that this change leaves in one: that file becomes the flag build reads,
    with no single state to step from. It may only step back from every file the base held
    (off always does); anything else is FO212, as for a base file that cannot be read."""
    touched = {change.path for change in changes}
    names = {stem(change.path) for change in changes
             if change.before is not None and git.is_flag_path(change.path)}
    findings: list[Finding] = []
    heads = listing.flag_entries_named(names) if names else {}
    # Each side grouped by name once: looked through whole for each name, a change of
    # thousands of flag files (a word edited in every description) took minutes.
    head_paths = _by_stem(path for path, entry in heads.items() if entry.is_regular)
    base_paths = _by_stem(base_side.by_path)
    for name in sorted(names):
        here = sorted(head_paths.get(name, ()))
        was = {path: base_side.by_path[path] for path in base_paths.get(name, ())}
        was.update({path: None for path in here if path not in touched})  # read below
        if len(was) < 2 or len(here) != 1:
            continue
        stays = _flag_at(reader, root, heads[here[0]])
        if here[0] not in touched:
            was[here[0]] = stays  # unchanged: its base state is the one it has now
        findings += _steps_back_from_all(name, here[0], stays, was, result.policy)
    return findings


def _by_stem(paths: Iterable[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        found.setdefault(stem(path), []).append(path)
    return found


def _flag_at(reader: git.BlobReader, root: Path, entry: git.Entry) -> Flag | None:
    document = _read(reader, root, entry)
    return parse_flag(document)[0] if isinstance(document, Document) else None


def _steps_back_from_all(name: str, path: str, stays: Flag | None,
                         was: dict[str, Flag | None], policy: Policy) -> list[Finding]:
    if stays is None:
        return []  # its own findings say why it cannot be read
    state = RolloutState.of(stays)
    for other, flag in sorted(was.items()):
        if flag is None:
            wider = not state.is_off
        else:
            wider = classify(RolloutState.of(flag), state, policy.bucketing) in (
                Step.FORWARD, Step.MIXED)
        if wider:
            before = "cannot be read" if flag is None else \
                f"is {RolloutState.of(flag).describe()}"
            message = (f"{name}: the base holds {len(was)} files of this flag "
                       f"({', '.join(sorted(was))}), so build refused to run and no state of "
                       f"it can be stepped from; {path}, the file that stays, may only step "
                       f"back from each of them, but it is {state.describe()} where {other} "
                       f"{before}; set it to off (or step back), then step forward again")
            return [RULES["FO212"].at(path, START, message, flag=name)]
    return []


def _head_listing(root: Path, span: _Span) -> Listing:
    """Everything under flags/ at the head, and the .gitattributes that apply to it."""
    if span.staged:
        return Listing(git.index_listing(root, span.base), INDEX)
    if span.head is not None:
        return Listing(git.tree_listing(root, span.head, git.FLAGS_DIR, ATTRIBUTES), TREE)
    return Listing.of_worktree(*worktree_files(root))


def _conversion_findings(root: Path, span: _Span, listing: Listing, changes: list[git.Change],
                         result: Comparison) -> list[Finding]:
    """Flag files (and the policy) that a checkout or an archive would convert
    (.gitattributes): what `build` reads would not be what was judged. Blocking when this
    change touches an attributes file."""
    attributes = listing.attribute_files()
    if not attributes:
        return []
    worktree = span.head is None and not span.staged
    judged = [p for p in listing.entries if git.is_flag_path(p)] + _policy_at_head(root, span)
    found = git.conversions(root, sorted(judged),
                            None if worktree else [listing.entries[a] for a in attributes])
    findings = [converted(path, how) for path, how in sorted(found.items())]
    if any(change.path in attributes or change.path == ATTRIBUTES for change in changes):
        return findings
    return _untouched_never_block(findings, changes, listing, result)


def _policy_at_head(root: Path, span: _Span) -> list[str]:
    """pyproject.toml where the head holds it (asked only where attributes apply): the build
    reads it too, so a conversion of it is one of what the build reads."""
    if span.head is None and not span.staged:
        return [PYPROJECT] if (root / PYPROJECT).is_file() else []
    listed = git.git(root, "ls-files", "-z", "--", PYPROJECT) if span.staged \
        else git.git(root, "ls-tree", "-z", "--full-tree", "--name-only", span.head or "HEAD",
                     "--", PYPROJECT)
    return [PYPROJECT] if listed.strip(b"\0") else []


def _brought_look_alikes(changes: list[git.Change]) -> list[Finding]:
    """FO010 for each flag file the change brings (where the base holds no regular file) at a
    path review would take for another or Windows cannot check out (`files.look_alike`). A
    path the base holds as a file is left to be stepped and rolled back. One the base's
    history held is brought all the same: a change that added and removed a look-alike
    folder's file, fast-forwarded, made any later add there "a revert" (so a flag named `aux`,
    once removed, does not come back under that name)."""
    return [problem for change in changes
            if change.after is not None and (change.before is None or
                                             not change.before.is_regular)
            and git.is_flag_path(change.path)  # any other file there is FO008 already
            and (problem := look_alike(change.path)) is not None]


def _case_twins(changes: list[git.Change], listing: Listing,
                result: Comparison) -> list[Finding]:
    """Paths that a case-insensitive checkout (macOS, Windows) writes where another goes, so
    that it builds other flags than git, the gate and a Linux build see (FO010): a file
    outside flags/ that folds into it (`FLAGS/x.yml`) is a flag no rule judged there; twins
    under flags/ (`demo.YML` beside `demo.yml`) are one file there, with one's name and the
    other's bytes. A collision the change brings is its own; one the base already held is
    reported on the twins it left alone, so that it blocks no rollback."""
    findings = [_folds_into_flags(change.path) for change in changes
                if change.after is not None and git.folds_into_flags(change.path)]
    findings += [_attributes_twin(change.path) for change in changes
                 if change.after is not None and git.attributes_twin(change.path)]
    existed = {change.path: change.before is not None for change in changes}
    at_head = [change.path for change in changes
               if change.after is not None and git.under_flags(change.path)]
    reported: set[str] = set()
    by_group: dict[int, tuple[bool, list[str]]] = {}  # what each group says, once
    for path, group in sorted(listing.case_twins(at_head).items()):
        known = by_group.get(id(group))
        if known is None:
            known = by_group[id(group)] = (any(not existed.get(p, True) for p in group),
                                           [p for p in group if p not in existed])
        brought_by_one, untouched = known
        for where in [path] if not existed[path] or brought_by_one or not untouched \
                else untouched:
            if where not in reported:
                reported.add(where)
                findings.append(_case_twin(where, group))
    return _untouched_never_block(findings, changes, listing, result)


def _unbuildable(root: Path, span: _Span, changes: list[git.Change], listing: Listing,
                 result: Comparison, all_files: bool,
                 twice_in_base: list[str]) -> list[Finding]:
    """Trees that git's reads and a checkout read differently, all FO010: a path under
    flags/ (or a .gitattributes over it) listed twice (the gate read one entry, a checkout
    may write the other; such a tree shows in the diff as the path added), a path with a
    part no checkout creates (`.git`, `..`: the checkout of the branch fails), and a top
    tree out of git's order (the listing of flags/ by pathspec comes back empty). The
    change's own paths are looked at; every path with --all-files, which judges the head."""
    at_head = listing.entries if all_files else [
        change.path for change in changes
        if change.after is not None and git.under_flags(change.path)]
    findings = [_listed_twice(path) for path in
                listing.listed_twice([*at_head, *listing.attribute_files()])]
    findings += [_listed_twice(path).as_warning(
        "in the base's tree: judged from the entry a checkout of the base keeps, the last")
        for path in twice_in_base]
    findings += [_no_checkout_creates(path) for path in at_head
                 if any(map(git.unbuildable_name, path.split("/")))]
    in_head = git.top_tree_problems(root, span.head) if span.head is not None and \
        not span.staged else []
    findings += [_top_tree(name, what) for name, what in in_head]
    findings = _untouched_never_block(findings, changes, listing, result)
    if span.base == git.EMPTY_TREE:
        return findings
    in_base = [_top_tree(name, what, "the base's") for name, what in  # its policy and
               git.top_tree_problems(root, span.base) if (name, what) not in in_head]  # flags/
    if _only_to_off(result):  # read by path too, what the base gives cannot be told: as
        return findings + [finding.as_warning(  # for a base file that cannot be read (FO212)
            "it does not block a change that only takes flags to off") for finding in in_base]
    return findings + in_base


def _only_to_off(result: Comparison) -> bool:
    """Does every changed flag file end at off (none deleted)? The one step judged safe from
    a base whose state cannot be told; a rollback judged from a misread base was a skip. A
    change of no flag file (one that writes the tree again with git) changes no flag."""
    heads = {loaded.document.path: loaded.flag for loaded in result.after.values()}
    return all(path in heads and RolloutState.of(heads[path]).is_off
               for path in result.changed)


def _listed_twice(path: str) -> Finding:
    return RULES["FO010"].at(path, START, f"{path}: its folder's git tree lists it twice (a "
                             "malformed tree, which git stores and sends without a word): a "
                             "checkout keeps one of the two entries, and which one the gate "
                             "read cannot be told; write the tree again (git rm --cached the "
                             "path, then add the file)")


def _no_checkout_creates(path: str) -> Finding:
    return RULES["FO010"].at(path, START, f"{path}: a part of the path is empty, `.`, `..`, "
                             "`.git` or a name Windows reads so (`git~1`), which git refuses "
                             "to check out: every checkout of the branch would fail; remove it")


def _top_tree(name: str, what: str, whose: str = "the") -> Finding:
    return RULES["FO010"].at(name, START, f"{name}: {whose} top git tree has it "
                             f"{what} (a tree made by hand): git reads such a tree by path "
                             "otherwise than a checkout writes it, so the gate would judge "
                             "other files than are built; write the tree with git itself")


def _folds_into_flags(path: str) -> Finding:
    return RULES["FO010"].at(path, START, f"{path}: a checkout that ignores case (macOS, "
                             "Windows) writes this file into flags/, where git and the gate "
                             "see none: a flag only those checkouts build; move it out of "
                             f"{path.partition('/')[0]}/ (or into flags/, to be judged)")


def _attributes_twin(path: str) -> Finding:
    return RULES["FO010"].at(path, START, f"{path}: a checkout that ignores case (macOS, "
                             f"Windows) reads this file as {ATTRIBUTES}, which git and the gate "
                             "do not: its attributes would convert flag files there only; "
                             f"name it {ATTRIBUTES}, to be judged, or remove it")


_TWINS_NAMED = 5
"""A case twin's finding names at most this many of its twins: a change of thousands of
paths that fold alike made each finding name all the others (400 MB of report)."""


def _case_twin(path: str, group: list[str]) -> Finding:
    """FO010 on `path`, naming a few of the others of its group (which holds it)."""
    named = ", ".join(islice((other for other in group if other != path), _TWINS_NAMED))
    if len(group) - 1 > _TWINS_NAMED:
        named += f" and {len(group) - 1 - _TWINS_NAMED} more"
    return RULES["FO010"].at(path, START, f"{path}: differs from {named} only in "
                             "case (or Unicode normalization), so a checkout that ignores case "
                             "(macOS, Windows) keeps one of them, with one's name and the "
                             "other's bytes, and builds another flag than git and the gate "
                             "see; keep one path")


# Judging.

def _judge_all(root: Path, reader: git.BlobReader, span: _Span, result: Comparison,
               base_side: _BaseSide, still_there: frozenset[str], now: int,
               removed: Callable[[], frozenset[str]], *,
               soak_as_warning: bool) -> list[Finding]:
    """Judges every flag on either side. A flag is gone only if no file at head carries its
    name (one that does not parse is reported, not deleted); a flag whose base file cannot be
    read may only go to off."""
    policy = result.policy
    landings = _landings(root, reader, span, result, now)
    released = released_before_removal(root, reader, span.base, result.before, result.after,
                                       result.policy, removed, now=now)
    findings: list[Finding] = []
    for name in sorted(result.before.keys() | result.after.keys() | base_side.unreadable.keys()):
        before, after = result.before.get(name), result.after.get(name)
        if after is None and name in still_there:
            continue
        if before is None and name in base_side.unreadable:
            findings += judge_unreadable_base(name, base_side.unreadable[name], after)
            continue
        verdict = Verdict(policy, now, landings.get(name), soak_as_warning,
                          released_before_removal=name in released,
                          merge_commits_required=policy.require_merge_commits)
        if after is None:  # gone: from every file of the name the base held, not the first
            for each in base_side.every.get(name, []):
                findings += judge(name, each, None, verdict)
            continue
        findings += judge(name, before, after, verdict)
    return findings


def _touched(changes: list[git.Change], listing: Listing) -> _Touched:
    """What the change touched; only the names it touched are looked up in the listing."""
    by_name: dict[str, list[str]] = {}
    for path in listing.flag_paths_named({stem(change.path) for change in changes}):
        by_name.setdefault(stem(path), []).append(path)
    paths = frozenset(change.path for change in changes)
    return _Touched(paths,
                    frozenset(change.path for change in changes if change.before is not None),
                    {name: tuple(found) for name, found in by_name.items()},
                    tuple(sorted(paths)))


def _is_pure_rollback(result: Comparison) -> bool:
    """Does every changed flag only lose people (or stay as it is, or go away)? A new flag,
    even at off, is not a rollback: it may clash with what is already there."""
    return not result.widens_a_duplicate and all(
        step in (Step.ROLLBACK, Step.NONE) for step in result.steps().values())


@dataclass(frozen=True, slots=True)
class _Touched:
    """What a change touched, to tell findings it caused from findings it found."""

    paths: frozenset[str]
    existed: frozenset[str] = frozenset()
    """Touched paths that were already there at the base."""
    by_name: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The flag paths at the head of the names the change touched, by name."""
    ordered: tuple[str, ...] = ()
    """`paths`, sorted: the paths below a folder follow `<folder>/` in this order."""

    def caused(self, finding: Finding) -> bool:
        """A finding is the change's if it is on a path the change touched (or a folder above
        one); a duplicate name is the change's only if it brought one of the files.

        A folder is looked up in `ordered` (bisect), not against every touched path: each
        finding of a change of 10,000 broken files compared itself with all 10,000 paths,
        32 s for the gate, and a push of 100,000 such files (3 MB) held it for most of an
        hour."""
        if finding.path not in self.paths and not self._below(f"{finding.path}/"):
            return False
        if finding.rule != "FO111" or finding.path not in self.existed:
            return True
        others = self.by_name.get(stem(finding.path), ())
        return any(other in self.paths for other in others if other != finding.path)

    def _below(self, folder: str) -> bool:
        at = bisect_left(self.ordered, folder)
        return at < len(self.ordered) and self.ordered[at].startswith(folder)


def _untouched_never_block(findings: list[Finding], changes: list[git.Change],
                           listing: Listing, result: Comparison) -> list[Finding]:
    """Findings the change did not cause are reported; they block forward steps, but never a
    rollback, which must pass even when the base branch is already broken."""
    if not any(finding.severity is Severity.ERROR for finding in findings) \
            or not _is_pure_rollback(result):  # (each flag's step: asked only when it counts)
        return findings
    touched = _touched(changes, listing)
    note = "not caused by this change; it does not block a rollback"
    return [finding.as_warning(note) if finding.severity is Severity.ERROR and
            not touched.caused(finding) else finding for finding in findings]


def _with_overrides(overrides: dict[str, str], findings: list[Finding],
                    result: Comparison) -> list[Finding]:
    """Each overridden flag's step findings, transitions and lifecycle rules alike, pass
    through its trailer; an override naming no flag on either side is left unreported."""
    kept = [finding for finding in findings if finding.flag not in overrides]
    for name, reason in sorted(overrides.items()):
        anchor = result.after.get(name) or result.before.get(name)
        mine = [finding for finding in findings if finding.flag == name]
        kept += mine if anchor is None else apply_override(name, mine, anchor, reason,
                                                           result.policy)
    return kept


def _trailer_ranges(span: _Span, request: RangeRequest) -> list[str]:
    """The commits whose messages' trailers count: the judged range's, and the request's own
    where it is judged squashed (none for the index: it has no message yet)."""
    return [commits for commits in (span.commits, request.trailers_from) if commits]


def _imports(root: Path, reader: git.BlobReader, judged: tuple[str, list[str]],
             result: Comparison, head_changed: dict[str, git.Entry],
             removed: Callable[[], frozenset[str]]) -> Imports | None:
    """The exact GitLab imports a `Flag-Import` trailer asks for (`validator.importers.gate`),
    None without a trailer or a new flag. `judged`: the base, and the commits whose trailers
    count."""
    base, ranges = judged
    if not ranges:
        return None
    vouching = _trailers_by_commit(root, ranges, IMPORT_TRAILER)
    source = import_source([value for _, value in vouching])
    added = _added_by(root, {commit for commit, value in vouching
                             if import_source([value]) is not None})
    new = {name: loaded.document.path for name, loaded in result.after.items()
           if name not in result.before and (entry := head_changed.get(loaded.document.path))
           is not None and entry.oid is not None
           and added.get(loaded.document.path) == entry.oid}
    if source is None or not new:
        return None
    whole = git_log.shallow_commits(root) is None
    here = [] if base == git.EMPTY_TREE else list(git.tree_entries(root, base))
    ever = {stem(path) for path in here if git.is_flag_path(path)}
    if whole:
        ever |= removed()
    files = {name: (path, _blob(reader, head_changed.get(path))) for name, path in new.items()}
    return Imports(source, exact_imports(files, ever), result.policy.allow_overrides, whole)


def _added_by(root: Path, commits: set[str]) -> dict[str, str | None]:
    """Each flag file these commits add, with the blob they add: a `Flag-Import` trailer
    vouches for the files its own commit brings, as they are at the head; a squashed or
    rebased import's commits stay in `base..head` of a branch used again, and their trailer
    let the next change's new flags in as imports."""
    added: dict[str, str | None] = {}
    for commit in sorted(commits):
        parent = git.commit_of(root, f"{commit}^1^{{commit}}") or git.EMPTY_TREE
        for change in git.diff_entries(root, parent, commit, git.FLAGS_DIR):
            if change.before is None and change.after is not None:
                added[change.path] = change.after.oid
    return added


def _blob(reader: git.BlobReader, entry: git.Entry | None) -> bytes | None:
    if entry is None or entry.oid is None or not entry.is_regular:
        return None
    return reader.read(entry.oid)


def _overrides(root: Path, ranges: list[str]) -> tuple[dict[str, str], list[Finding]]:
    """Each flag a `Flag-Override` trailer names, with its reason, where the trailer's commit
    holds every change of that flag's file the range makes (none comes after it, or beside
    it on a merged branch): the override vouches for the step the change lands. A change
    squashed or rebased onto the base keeps its own commits out of the base's history, so
    they stay in `base..head` of a branch used again, and their override passed the next
    change's step of that flag, whatever it was. Each trailer read as no override (no reason,
    two flags, a glob, a control character, one the flag changed after) is an `FO209`
    warning, never silence."""
    overrides: dict[str, str] = {}
    unread: list[Finding] = []
    for commits in ranges:
        tip = commits.partition("..")[2] or "HEAD"
        for commit, value in git_log.trailers_by_commit(root, commits, OVERRIDE_TRAILER):
            flag, _, reason = value.partition(":")
            flag, reason = flag.strip(), reason.strip()
            if not reason or not _FLAG_NAME.fullmatch(flag) \
                    or invisible_character(reason, free_text=True) is not None:
                unread.append(_unread_override(f"Flag-Override {value!r} overrides nothing: "
                                               "write one trailer per flag, Flag-Override: "
                                               "<flag>: <reason>"))
                continue
            later = git_log.changed_after(root, commit, tip, name_pathspec(flag))
            if later is not None:
                unread.append(_unread_override(
                    f"{flag}: Flag-Override ({reason}) of commit {commit[:12]} overrides "
                    f"nothing: {later[:12]} changed the flag after it (or beside it); give "
                    "that commit, or a later one, the trailer", flag))
                continue
            overrides.setdefault(flag, reason)
    return overrides, unread


_FLAG_NAME = re.compile(NAME_PATTERN)


def _unread_override(message: str, flag: str | None = None) -> Finding:
    return RULES["FO209"].at(git.FLAGS_DIR, START, message, flag=flag)


def _trailers_by_commit(root: Path, ranges: list[str], key: str) -> list[tuple[str, str]]:
    return [found for commits in ranges
            for found in git_log.trailers_by_commit(root, commits, key)]


def _landings(root: Path, reader: git.BlobReader, span: _Span, result: Comparison,
              now: int) -> dict[str, int | None]:
    """Trusted landing times of the base states of flags that step forward (see
    `validator.landings`), as the judge decides it: from what the base gives
    (`RolloutState.as_reached`); a step forward only by that, looked up by its label, was
    judged without its landing (FO205 in a whole clone). No other flag needs its history
    read."""
    before, after = result.before, result.after
    forward = {name: RolloutState.of(loaded.flag) for name, loaded in before.items()
               if name in after and classify(RolloutState.of(loaded.flag).as_reached(),
                                             RolloutState.of(after[name].flag),
                                             result.policy.bucketing) is Step.FORWARD}
    return landing_times(root, reader, span.base, forward, result.policy, now)


def worktree_conversions(root: Path, changes: list[git.Change], listing: Listing,
                         result: Comparison) -> list[Finding]:
    """`validate --base`'s conversion findings (FO011) on a working tree given as its changes
    against the base, its listing (`Listing.of_worktree`) and both sides of its changed flags
    (`result`, with the base's policy): the authoring commands ask, before a write, what the
    gate would say of the tree after it."""
    return _conversion_findings(root, _Span(git.EMPTY_TREE, None, False, None, result.label),
                                listing, changes, result)
