"""The working tree's flag files judged, through the cache when there is one.

Symlinks and other non-files under flags/ are findings, as their git modes are in range mode,
so both modes give one verdict. A file whose result is in the cache is not parsed; the
cross-file rules run on the summaries alike. A whole run (no paths given) whose every file has
the key it had in the last whole run, and whose other findings are the same, takes that run's
verdict: neither the summaries nor the cross-file rules are needed again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache as once
from pathlib import Path
from typing import TYPE_CHECKING

from validator.cache import Cache
from validator.check import Checked, FileSummary, TreeVerdict, check_summaries, unreadable
from validator.errors import UserError
from validator.files import (
    ATTRIBUTES,
    FLAG_LIKE,
    TRAILING,
    converted,
    not_read,
    not_regular,
    read_bytes,
    read_regular,
    walk_flags,
)
from validator.findings import Finding
from validator.pyproject_file import PYPROJECT, PyprojectRead, read_pyproject
from validator.reports import Report
from validator.reports.escape import escape

if TYPE_CHECKING:
    from validator.parse_beside import Beside
    from validator.policy import Policy

BATCH = 5000
"""Files whose bytes wait for the parser at once: bounds memory at 100,000 flags."""
VERDICT_READS = 1000
"""Past this many changed files a whole run's verdict is not looked for: it cannot be the
same, and their bytes would wait in memory for nothing."""

Known = dict[str, "tuple[str, bytes | None] | Finding"]
"""Per path, what a first pass found: its key (and its bytes when it read them), or a finding."""


@dataclass(frozen=True, slots=True)
class _Scan:
    """What one walk of flags/ gives: the files to check, and findings about the others."""

    targets: list[str]
    tree: list[str]
    extra: list[Finding]
    complete: bool


def check_tree(root: Path, policy: Policy | Callable[[], Policy], paths: list[str], *,
               cache: Cache | None = None, with_data: bool = False) -> Checked:
    """The working tree's flags (or those under `paths`); `with_data` keeps each flag's data
    for the build."""
    return _check(root, _scan(root, paths), policy, cache, with_data, {})


def judge_tree(root: Path, policy: Policy | Callable[[], Policy], *,
               cache: Cache | None, with_data: bool = False) -> Checked | TreeVerdict:
    """Every flag file's findings: the last whole run's verdict when nothing it was made of
    changed, else a check as `check_tree` makes it (with each flag's data if asked)."""
    scan = _scan(root, [])
    known: Known = {}
    beside: list[Beside] = []
    try:
        if cache is not None and cache.has_verdict():
            whole = _keys(root, scan.targets, cache, known,
                          _starter(policy, scan, beside, with_data))
            parts = _parts(scan, known) if whole else None
            paths = [*scan.targets, *(finding.path for finding in scan.extra)]
            verdict = cache.verdict(parts, paths) if parts is not None else None
            if verdict is not None:
                cache.save(_keys_of(known), complete=True, summaries=False)
                return verdict
            if beside and not (whole and beside[0].parse(_read_files(known))):
                beside.pop().close()
        return _check(root, scan, policy, cache, with_data, known, beside[0] if beside else None)
    finally:
        for child in beside:
            child.close()


def _scan(root: Path, paths: list[str]) -> _Scan:
    found, irregular = walk_flags(root, suffix=(*FLAG_LIKE, ATTRIBUTES, *TRAILING))  # one walk
    tree = [path for path in found if path.endswith(".yml")]
    if paths:
        chosen = [_relative(Path(p) if Path(p).is_absolute() else root / p, root)
                  for p in paths]
        targets, found_there = _expand(root, chosen, tree, irregular)
        return _Scan(targets, tree, found_there, False)
    extra: list[Finding] = not_read(found)
    extra += [not_regular(path, kind) for path, kind in irregular]
    extra += converted_on_checkout(root, [*tree, *_policy_file(root)],
                                   [*found, *_root_attributes(root)])
    return _Scan(tree, tree, extra, True)


def _check(root: Path, scan: _Scan, policy: Policy | Callable[[], Policy],
           cache: Cache | None, with_data: bool, known: Known,
           beside: Beside | None = None) -> Checked:
    parts: list[str] = []
    summaries = _summaries(root, scan.targets, policy, cache, with_data, known, parts, beside)
    summaries += [unreadable(finding) for finding in scan.extra]
    checked = check_summaries(summaries, other_paths=scan.tree)
    if cache is not None:
        cache.save({part[2:] for part in parts if part.startswith("k:")},
                   complete=scan.complete)
        if scan.complete:
            cache.keep_verdict([*parts, *map(_finding_part, scan.extra)],
                               TreeVerdict(checked.findings,
                                           [(file.path, file.flag) for file in checked.files]))
    return checked


def _starter(policy: Policy | Callable[[], Policy], scan: _Scan, beside: list[Beside],
             with_data: bool) -> Callable[[], None]:
    """What `_keys` calls when it finds the first file changed since the last run: then a
    child may start importing the model to parse the changed files (parse_beside.py), while
    this process, which has not loaded the model, looks for the rest and decodes the others.
    Not for the build (`with_data`), which loads the model here for every flag anyway."""
    def first_read() -> None:
        if with_data or not callable(policy):
            return
        from validator.parse_beside import start, worth_it

        if worth_it(len(scan.targets)):
            beside.extend(filter(None, [start(policy)]))

    return first_read


def _read_files(known: Known) -> list[tuple[str, bytes]]:
    """The files `_keys` read (their status had changed): the ones likely to be misses."""
    return [(path, item[1]) for path, item in known.items()
            if not isinstance(item, Finding) and item[1] is not None]


def _keys(root: Path, targets: list[str], cache: Cache, known: Known,
          first_read: Callable[[], None] = lambda: None) -> bool:
    """Each target's key (from its status, else its bytes) or finding, into `known`; False
    when more than VERDICT_READS files had to be read (then the verdict cannot hold).
    `first_read` is called before the first file has to be read."""
    prefix, reads, known_key = f"{root}/", 0, cache.known_key
    for target in targets:
        key = known_key(prefix + target, target)
        if key is not None:
            known[target] = (key, None)
            continue
        reads += 1
        if reads == 1:
            first_read()
        elif reads > VERDICT_READS:
            return False
        known[target] = _read_key(cache, prefix + target, target)
    return True


def _read_key(cache: Cache, full_path: str, path: str) -> tuple[str, bytes] | Finding:
    read = read_regular(full_path, path)
    if isinstance(read, Finding):
        return read
    raw, info = read
    key = cache.key(path, raw)
    cache.note(path, info, key)
    return key, raw


def _parts(scan: _Scan, known: Known) -> list[str]:
    """What a whole run's verdict is made of, in order (see `_summaries`)."""
    parts = [_finding_part(item) if isinstance(item, Finding) else f"k:{item[0]}"
             for item in (known[target] for target in scan.targets)]
    return [*parts, *map(_finding_part, scan.extra)]


def _keys_of(known: Known) -> set[str]:
    return {item[0] for item in known.values() if not isinstance(item, Finding)}


def _finding_part(finding: Finding) -> str:
    return "f:" + json.dumps([finding.path, finding.line, finding.column, finding.severity,
                              finding.rule, finding.message, finding.flag])


def _summaries(root: Path, targets: list[str], policy: Policy | Callable[[], Policy],
               cache: Cache | None, with_data: bool, known: Known,
               parts: list[str], beside: Beside | None = None) -> list[FileSummary]:
    """Each target's result in order: a cache hit, a finding, or parsed (in batches, on
    every core when there are many; see validator/parallel.py), or parsed already by a child
    (`beside`). `parts` gets what each result was made of: "k:" and the key of its bytes, or
    "f:" and the finding."""
    done: list[FileSummary | None] = []
    waiting: list[tuple[int, str, bytes, str]] = []

    def parse_waiting() -> None:
        early = beside.take() if beside is not None else {}
        parsed = iter(_parsed_here([(path, raw) for _, path, raw, _ in waiting
                                    if (path, raw) not in early], policy))
        for index, path, raw, key in waiting:
            summary = early[path, raw] if (path, raw) in early else next(parsed)
            if cache is not None:
                cache.put(key, summary)
            done[index] = summary if with_data else replace(summary, data=None)
        waiting.clear()

    prefix = f"{root}/"
    for target in targets:
        if cache is None:
            read = read_bytes(prefix + target, target)
            found: tuple[str, bytes | None, FileSummary | None] | Finding = \
                read if isinstance(read, Finding) else ("", read, None)
        else:
            found = _cached(cache, prefix + target, target, with_data, known.pop(target, None))
        if isinstance(found, Finding):
            parts.append(_finding_part(found))
            done.append(unreadable(found))
            continue
        key, raw, hit = found
        parts.append(f"k:{key}")
        done.append(hit)
        if hit is None:
            assert raw is not None  # a miss is always read
            waiting.append((len(done) - 1, target, raw, key))
            if len(waiting) >= BATCH:
                parse_waiting()
    if waiting:
        parse_waiting()
    return [summary for summary in done if summary is not None]


def _parsed_here(files: list[tuple[str, bytes]],
                 policy: Policy | Callable[[], Policy]) -> list[FileSummary]:
    if not files:
        return []
    from validator.parallel import parse_all

    return parse_all(files, policy_now(policy))


def _cached(cache: Cache, full_path: str, path: str, with_data: bool,
            first: tuple[str, bytes | None] | Finding | None
            ) -> tuple[str, bytes | None, FileSummary | None] | Finding:
    """A file's key, its bytes when they were read, and its stored result if there is one.

    The key comes from a first pass (`first`), else from the file's status when that proves
    the bytes unchanged (the cache's stat rule), else from the bytes; a stored result that
    cannot be used is a miss, and a miss needs the bytes.
    """
    if isinstance(first, Finding):
        return first
    key, raw = first if first is not None else (cache.known_key(full_path, path), None)
    if key is not None:
        hit = cache.get(key, path, with_data=with_data)
        if hit is not None or raw is not None:
            return key, raw, hit
    read = _read_key(cache, full_path, path)
    if isinstance(read, Finding):
        return read
    return read[0], read[1], cache.get(read[0], path, with_data=with_data)


def _policy_file(root: Path) -> list[str]:
    """The policy, where there is one: the build reads it, so its bytes must be the commit's."""
    return [PYPROJECT] if (root / PYPROJECT).is_file() else []


def _root_attributes(root: Path) -> list[str]:
    return [ATTRIBUTES] if (root / ATTRIBUTES).is_file() else []


def converted_on_checkout(root: Path, tree: list[str], found: list[str]) -> list[Finding]:
    """This checkout's flag files that git converted (.gitattributes): the bytes read here are
    not the bytes that were reviewed and judged. Outside git nothing was converted.

    `found` is every path walked (and the root's attributes file): git is asked, and
    imported, only when one of them is an attributes file.
    """
    if not any(path.endswith(ATTRIBUTES) for path in found):
        return []
    from validator.git import GitError, attribute_files, conversions

    if not attribute_files(found):
        return []
    try:
        converted_paths = conversions(root, tree)
    except GitError:
        return []
    return [converted(path, how) for path, how in sorted(converted_paths.items())]


def _expand(root: Path, chosen: list[str], tree: list[str],
            irregular: list[tuple[str, str]]) -> tuple[list[str], list[Finding]]:
    """The files given, and for a folder given the flag files the walk of flags/ found under
    it with its findings on what is no regular file there (a symlinked folder: FO009), as a
    whole run reports them. A folder's own *.yml files outside flags/ are no flags: `validate
    .` judged .gitlab-ci.yml as one, and `validate flags` passed a symlinked folder the whole
    run refuses."""
    expanded: list[str] = []
    extra: list[Finding] = []
    for target in chosen:
        if not (root / target).is_dir():
            expanded.append(target)
            continue
        below = "" if target == "." else target.rstrip("/") + "/"
        expanded.extend(path for path in tree if path.startswith(below))
        extra.extend(not_regular(path, kind) for path, kind in irregular
                     if path.startswith(below) and path not in expanded)
    if not expanded and not extra:
        raise UserError("no flag files found in the given paths")
    return list(dict.fromkeys(expanded)), extra


def _relative(path: Path, root: Path) -> str:
    """A path given (or found under a folder given) relative to the root. Its folders are
    resolved, its last name is not: a flag file that is a symlink is judged as what it is
    (FO009), as the walk and `build` judge it, not as the file it points to, which passed
    where build refused it; and a symlink loop is that finding, not an internal error. A
    path outside the root is refused: read as `root/<path>` it was "No such file or
    directory" for a file that is there, and no flag is judged outside its repository."""
    try:
        return (path.parent.resolve() / path.name).relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UserError(f"{escape(str(path))} is outside the repository "
                        f"({escape(str(root))}); give paths in it") from None
    except (OSError, RuntimeError):  # a loop in its folders
        return path.as_posix()


def tree_policy(root: Path, cache: Cache | None) -> Policy | Callable[[], Policy]:
    """The policy now, or, when this context's pack exists, only once a file is parsed.

    With a cache, the policy is made from the very read of pyproject.toml that the cache's
    context was made of (`Cache.pyproject`), never from the file read again: a file swapped
    in between would otherwise file this policy's results under another policy's context.
    A pack is written only after the policy of its context's bytes loaded: with one there,
    loading it again can only succeed, and a run where every file is a hit need not import
    the model at all.
    """
    if cache is None:
        return _load_policy(read_pyproject(root))
    read = cache.pyproject
    if not cache.known_context():
        return _load_policy(read)
    return once(lambda: _load_policy(read))


def _load_policy(read: PyprojectRead) -> Policy:
    from validator.policy import policy_of_read

    return policy_of_read(read)


def policy_now(policy: Policy | Callable[[], Policy]) -> Policy:
    return policy() if callable(policy) else policy


def report_of(checked: Checked | TreeVerdict, root: Path) -> Report:
    checked_files = checked.checked if isinstance(checked, TreeVerdict) else \
        [(file.path, file.flag) for file in checked.files]
    notes = [] if checked_files else [f"no flag files in {root.resolve() / 'flags'}"]
    return Report(checked.findings, checked_files, notes)
