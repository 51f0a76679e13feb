"""Both states of a change, read from git (for `validate --base/--staged` and `plan`), judged.

Work is proportional to the change: git names the changed flag files, one `cat-file --batch`
process reads both sides, and history is read only for flags that step forward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from validator import git
from validator.check import LoadedFlag, check_documents
from validator.errors import UserError
from validator.findings import Finding
from validator.history import landing_time
from validator.loader import Document, flag_paths, load_or_finding, not_read, stem
from validator.parse import parse_flag
from validator.policy import Policy
from validator.reports import Report
from validator.transitions import RolloutState, Step, Verdict, classify, judge

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
OVERRIDE_TRAILER = "Flag-Override"
_HORIZON_MARGIN = 3600  # committer clocks drift; read an hour more than the longest soak


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """What the user asked to compare, as refs; `head` None is the working tree (or index)."""

    base: str | None
    head: str | None = None
    staged: bool = False
    merged: bool = False
    all_files: bool = False


@dataclass(frozen=True, slots=True)
class _Span:
    base: str
    head: str | None
    staged: bool
    commits: str | None
    label: str


@dataclass(slots=True)
class Comparison:
    """Both states of every changed flag, and the findings; plans and reports read this."""

    label: str
    changed: list[str] = field(default_factory=list)
    before: dict[str, LoadedFlag] = field(default_factory=dict)
    after: dict[str, LoadedFlag] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)

    def report(self) -> Report:
        if not self.changed:
            return Report(self.findings, self.files, [f"no flag changed: {self.label}"])
        note = f"judged {len(self.changed)} changed flag file(s): {self.label}"
        return Report(self.findings, self.files, [note])


def judge_range(root: Path, policy: Policy, request: RangeRequest, *,
                now: int | None = None) -> Report:
    return compare(root, policy, request, now=now).report()


def compare(root: Path, policy: Policy, request: RangeRequest, *,
            now: int | None = None) -> Comparison:
    span = _span(root, request)
    touched = git.changed_paths(root, span.base, span.head, staged=span.staged)
    changed = [path for path in touched if git.is_flag_path(path)]
    result = Comparison(span.label, changed, findings=not_read(touched))
    if not changed and not request.all_files:
        return result
    tree = _head_tree(root, span)
    with git.BlobReader(root) as reader:
        result.before, base_unreadable = _load_side(reader, span.base, changed)
        targets = tree if request.all_files else changed
        checked = check_documents(_read_head(root, reader, span, targets), policy,
                                  other_paths=tree)
        changed_set = set(changed)
        result.after = {name: loaded for name, loaded in checked.flags.items()
                        if loaded.document.path in changed_set}
        result.findings += checked.findings
        still_there = {stem(path) for path in tree}
        result.findings += _judge_all(root, reader, span, policy, result,
                                      (base_unreadable, still_there),
                                      now if now is not None else int(time.time()))
    result.files = [(f.path, f.flag) for f in checked.files]
    result.files += [(loaded.document.path, name) for name, loaded in result.before.items()
                     if name not in checked.flags]
    return result


def _span(root: Path, request: RangeRequest) -> _Span:
    if request.staged:
        base = _commit_or_empty(root, request.base or "HEAD")
        return _Span(base, None, True, None, f"{request.base or 'HEAD'} → the index")
    if request.base is None:
        raise UserError("--head and --merged need --base")
    base = git.resolve(root, request.base)
    if request.merged:
        return _merged_span(root, request.base, base, request.head or "HEAD")
    head = git.resolve(root, request.head) if request.head is not None else None
    commits = f"{base}..{head or 'HEAD'}" if head is None or _is_commit(root, head) else None
    return _Span(base, head, False, commits,
                 f"{request.base} → {request.head or 'the working tree'}")


def _merged_span(root: Path, base_ref: str, base: str, head_ref: str) -> _Span:
    """Judges what the merge would produce, so two merge requests cannot together skip a step."""
    head = git.resolve(root, head_ref)
    tree = git.merge_tree(root, base, head)
    if tree is None:
        return _Span(base, head, False, f"{base}..{head}",
                     f"{base_ref} → {head_ref} ({head_ref} does not merge cleanly into "
                     f"{base_ref}; judged {head_ref} itself)")
    return _Span(base, tree, False, f"{base}..{head}",
                 f"{base_ref} → the merge of {head_ref} into {base_ref} (tree {tree[:12]})")


def _is_commit(root: Path, object_id: str) -> bool:
    return git.object_type(root, object_id) == "commit"


def _commit_or_empty(root: Path, ref: str) -> str:
    """Before the first commit there is no HEAD: everything staged is new."""
    try:
        return git.resolve(root, ref)
    except git.NotARepository:
        raise
    except git.GitError:
        if ref == "HEAD":
            return EMPTY_TREE
        raise


def _load_side(reader: git.BlobReader, rev: str,
               paths: list[str]) -> tuple[dict[str, LoadedFlag], set[str]]:
    """The base side, and the stems of files that do not parse there: those flags have no
    state to step from, so they are not judged as new either."""
    flags: dict[str, LoadedFlag] = {}
    unreadable: set[str] = set()
    for path in paths:
        raw = reader.read(f"{rev}:{path}")
        if raw is None:
            continue
        document = load_or_finding(raw, path)
        flag = parse_flag(document)[0] if isinstance(document, Document) else None
        if flag is None or not isinstance(document, Document):
            unreadable.add(stem(path))
        else:
            flags.setdefault(flag.name, LoadedFlag(flag, document))
    return flags, unreadable


def _read_head(root: Path, reader: git.BlobReader, span: _Span,
               paths: list[str]) -> list[Document | Finding]:
    loaded: list[Document | Finding] = []
    for path in paths:
        raw = _head_bytes(root, reader, span, path)
        if raw is not None:
            loaded.append(load_or_finding(raw, path))
    return loaded


def _head_bytes(root: Path, reader: git.BlobReader, span: _Span, path: str) -> bytes | None:
    if span.staged:
        return reader.read(f":{path}")
    if span.head is not None:
        return reader.read(f"{span.head}:{path}")
    file = root / path
    return file.read_bytes() if file.is_file() else None


def _head_tree(root: Path, span: _Span) -> list[str]:
    if span.staged:
        return git.index_paths(root)
    if span.head is not None:
        return git.tree_paths(root, span.head)
    return flag_paths(root)


def _judge_all(root: Path, reader: git.BlobReader, span: _Span, policy: Policy,
               result: Comparison, names: tuple[set[str], set[str]],
               now: int) -> list[Finding]:
    """Judges every flag on either side. A flag is gone only if no file at head carries its
    name (one that does not parse is reported, not deleted), and new only if its base file
    was absent, not unreadable: there is no state there to judge a step from or to."""
    overrides = _overrides(root, span)
    landings = _landings(root, reader, span, result, _horizon(policy, now))
    findings: list[Finding] = []
    base_unreadable, still_there = names
    for name in sorted(result.before.keys() | result.after.keys()):
        if (name not in result.after and name in still_there) or \
                (name not in result.before and name in base_unreadable):
            continue
        verdict = Verdict(policy, now, landings.get(name), span.staged, overrides.get(name))
        findings += judge(name, result.before.get(name), result.after.get(name), verdict)
    return findings


def _overrides(root: Path, span: _Span) -> dict[str, str]:
    if span.commits is None:
        return {}
    overrides: dict[str, str] = {}
    for value in git.trailers(root, span.commits, OVERRIDE_TRAILER):
        flag, _, reason = value.partition(":")
        if reason.strip():
            overrides[flag.strip()] = reason.strip()
    return overrides


def _horizon(policy: Policy, now: int) -> int:
    """How far back history matters: a state older than the longest soak has soaked."""
    longest: int = max(policy.soak_minutes.model_dump().values())
    return now - longest * 60 - _HORIZON_MARGIN


def _landings(root: Path, reader: git.BlobReader, span: _Span, result: Comparison,
              horizon: int) -> dict[str, int | None]:
    """Landing times of the base states of flags that step forward; one `git log` for all.

    In a shallow clone the whole history is read, so a missing past is noticed, not assumed.
    """
    before, after = result.before, result.after
    forward = {
        name: loaded for name, loaded in before.items()
        if name in after and classify(RolloutState.of(loaded.flag),
                                      RolloutState.of(after[name].flag)) is Step.FORWARD
    }
    if not forward:
        return {}
    shallow = git.is_shallow(root)
    window = None if shallow else horizon
    paths = [loaded.document.path for loaded in forward.values()]
    commits = git.first_parent_history(root, span.base, paths, since=window)
    landings: dict[str, int | None] = {}
    for name, loaded in forward.items():
        path = loaded.document.path
        landings[name] = landing_time(commits, path, RolloutState.of(loaded.flag),
                                      partial(_state_at, reader, path=path), shallow=shallow,
                                      horizon=window)
    return landings


def _state_at(reader: git.BlobReader, sha: str, *, path: str) -> RolloutState | None:
    raw = reader.read(f"{sha}:{path}")
    document = load_or_finding(raw, path) if raw is not None else None
    if not isinstance(document, Document):
        return None
    flag, _ = parse_flag(document)
    return RolloutState.of(flag) if flag is not None else None
