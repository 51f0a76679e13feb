"""`validate --base/--head/--staged`: gathers both states from git, then lets the pure judge rule.

Work is proportional to the change: git names the changed flag files, one `cat-file --batch`
process reads both sides, and history is read only for flags that step forward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.check import LoadedFlag, check_documents
from validator.findings import Finding
from validator.history import landing_time
from validator.loader import Document, iter_flag_files, load_or_finding
from validator.parse import parse_flag
from validator.policy import Policy
from validator.reports import Report
from validator.transitions import RolloutState, Step, Verdict, classify, judge

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
OVERRIDE_TRAILER = "Flag-Override"


@dataclass(frozen=True, slots=True)
class Range:
    """What is compared: `head` None means the working tree, or the index when `staged`."""

    base: str
    head: str | None
    staged: bool
    commits: str | None
    label: str


def judge_range(root: Path, policy: Policy, *, base: str | None, head: str | None,
                staged: bool, commits: str | None = None, label: str | None = None,
                now: int | None = None) -> Report:
    span = _range(root, base, head, staged, commits, label)
    changed = git.changed_paths(root, span.base, span.head, staged=span.staged)
    if not changed:
        return Report([], [], [f"no flag changed between {span.label}"])
    with git.BlobReader(root) as reader:
        before = _load_side(reader, span.base, changed)
        after_docs = _read_head(root, reader, span, changed)
        checked = check_documents(after_docs, policy, other_paths=_head_tree(root, span))
        findings = list(checked.findings)
        findings += _judge_all(root, reader, span, policy, before, checked.flags,
                               now if now is not None else int(time.time()))
    files = [(f.path, f.flag) for f in checked.files]
    files += [(loaded.document.path, name) for name, loaded in before.items()
              if name not in checked.flags]
    return Report(findings, files, [f"judged {len(changed)} changed flag file(s), {span.label}"])


def _range(root: Path, base: str | None, head: str | None, staged: bool,
           commits: str | None, label: str | None) -> Range:
    if staged:
        base_id = _commit_or_empty(root, base or "HEAD")
        return Range(base_id, None, True, commits, label or f"{base or 'HEAD'} → the index")
    if base is None:
        from validator.errors import UserError

        raise UserError("--head needs --base")
    base_id = git.resolve(root, base)
    head_id = git.resolve(root, head) if head is not None else None
    default_commits = f"{base}..{head or 'HEAD'}"
    text = label or f"{base} → {head or 'the working tree'}"
    return Range(base_id, head_id, False, commits or default_commits, text)


def _commit_or_empty(root: Path, ref: str) -> str:
    """Before the first commit there is no HEAD: everything staged is new."""
    try:
        return git.resolve(root, ref)
    except git.GitError:
        if ref == "HEAD":
            return EMPTY_TREE
        raise


def _load_side(reader: git.BlobReader, rev: str, paths: list[str]) -> dict[str, LoadedFlag]:
    """The base side: files that do not parse there have no state to step from."""
    flags: dict[str, LoadedFlag] = {}
    for path in paths:
        raw = reader.read(f"{rev}:{path}")
        document = load_or_finding(raw, path) if raw is not None else None
        if isinstance(document, Document):
            flag, errors = parse_flag(document)
            if flag is not None and not errors:
                flags.setdefault(flag.name, LoadedFlag(flag, document))
    return flags


def _read_head(root: Path, reader: git.BlobReader, span: Range,
               paths: list[str]) -> list[Document | Finding]:
    loaded: list[Document | Finding] = []
    for path in paths:
        raw = _head_bytes(root, reader, span, path)
        if raw is not None:
            loaded.append(load_or_finding(raw, path))
    return loaded


def _head_bytes(root: Path, reader: git.BlobReader, span: Range, path: str) -> bytes | None:
    if span.staged:
        return reader.read(f":{path}")
    if span.head is not None:
        return reader.read(f"{span.head}:{path}")
    file = root / path
    return file.read_bytes() if file.is_file() else None


def _head_tree(root: Path, span: Range) -> list[str]:
    if span.staged:
        return git.index_paths(root)
    if span.head is not None:
        return git.tree_paths(root, span.head)
    return [p.relative_to(root).as_posix() for p in iter_flag_files(root)]


def _judge_all(root: Path, reader: git.BlobReader, span: Range, policy: Policy,
               before: dict[str, LoadedFlag], after: dict[str, LoadedFlag],
               now: int) -> list[Finding]:
    overrides = _overrides(root, span)
    landings = _landings(root, reader, span, before, after)
    findings: list[Finding] = []
    for name in sorted(before.keys() | after.keys()):
        verdict = Verdict(policy, now, landings.get(name), span.staged, overrides.get(name))
        findings += judge(name, before.get(name), after.get(name), verdict)
    return findings


def _overrides(root: Path, span: Range) -> dict[str, str]:
    if span.commits is None:
        return {}
    overrides: dict[str, str] = {}
    for value in git.trailers(root, span.commits, OVERRIDE_TRAILER):
        flag, _, reason = value.partition(":")
        if reason.strip():
            overrides[flag.strip()] = reason.strip()
    return overrides


def _landings(root: Path, reader: git.BlobReader, span: Range, before: dict[str, LoadedFlag],
              after: dict[str, LoadedFlag]) -> dict[str, int | None]:
    """Landing times of the base states of flags that step forward; one `git log` for all."""
    forward = {
        name: loaded for name, loaded in before.items()
        if name in after and classify(RolloutState.of(loaded.flag),
                                      RolloutState.of(after[name].flag)) is Step.FORWARD
    }
    if not forward:
        return {}
    shallow = git.is_shallow(root)
    paths = [loaded.document.path for loaded in forward.values()]
    commits = git.first_parent_history(root, span.base, paths)
    landings: dict[str, int | None] = {}
    for name, loaded in forward.items():
        path = loaded.document.path
        landings[name] = landing_time(commits, path, RolloutState.of(loaded.flag),
                                      lambda sha, p=path: _state_at(reader, sha, p),
                                      shallow=shallow)
    return landings


def _state_at(reader: git.BlobReader, sha: str, path: str) -> RolloutState | None:
    raw = reader.read(f"{sha}:{path}")
    document = load_or_finding(raw, path) if raw is not None else None
    if not isinstance(document, Document):
        return None
    flag, _ = parse_flag(document)
    return RolloutState.of(flag) if flag is not None else None
