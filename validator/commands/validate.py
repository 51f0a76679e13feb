"""`flagops validate`: the files of one state, and with --base/--staged the step between two."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from functools import cache as once
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator.cache import Cache, Settings
from validator.check import Checked, FileSummary, LoadedFlag, check_summaries, unreadable
from validator.errors import UserError
from validator.findings import Finding
from validator.git import ATTRIBUTES, GitError, attribute_files, conversions
from validator.loader import (
    converted,
    not_read,
    not_regular,
    read_bytes,
    walk_flags,
)
from validator.output import emit, pair_reports
from validator.reports import Report

if TYPE_CHECKING:
    from validator.policy import Policy



Linked = Callable[[], tuple[list["LoadedFlag"], "Policy"]]
"""The flags whose issues --check-links looks up, and the policy naming their trackers; read
only when asked."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    outputs = [str(root / output) for output in args.outputs or []]
    pairs = pair_reports(args.formats, outputs)
    if args.base or args.staged or args.head or args.merged:
        report, linked = _range_report(root, args)
    else:
        report, linked = _tree_report(root, args)
    if args.check_links:
        report = _with_links(report, *linked())
    emit(report, pairs, out)
    return 1 if report.errors else 0


def _range_report(root: Path, args: argparse.Namespace) -> tuple[Report, Linked]:
    """A change judged by the base's policy, not the checkout's; its changed flags linked."""
    from validator.compare import RangeRequest, compare

    request = RangeRequest(args.base, args.head, args.staged, args.merged, args.all_files)
    comparison = compare(root, request)
    changed = set(comparison.changed)
    flags = [loaded for loaded in comparison.after.values() if loaded.document.path in changed]
    return comparison.report(), lambda: (flags, comparison.policy)


def _tree_report(root: Path, args: argparse.Namespace) -> tuple[Report, Linked]:
    """Every file of the working tree (through the cache); every flag linked."""
    cache = Cache.open(cache_settings(args), root, with_data=False)
    policy = _policy(root, cache)
    checked = check_tree(root, policy, args.paths, cache=cache)

    def linked() -> tuple[list[LoadedFlag], Policy]:
        return _parsed(root, checked, _now(policy)), _now(policy)

    return report_of(checked, root), linked


def _parsed(root: Path, checked: Checked, policy: Policy) -> list[LoadedFlag]:
    """Every defined flag with its document, for --check-links (the URLs and where they are):
    the tree check keeps summaries only, so these files are read once more."""
    from validator.check import check_documents
    from validator.loader import read_document

    documents = [read_document(root / summary.path, summary.path)
                 for summary in checked.defined.values()]
    return list(check_documents(documents, policy).flags.values())


def _with_links(report: Report, flags: list[LoadedFlag], policy: Policy) -> Report:
    """The report plus what the trackers say of each flag's issues (imported only here, so
    the pre-commit path never loads a tracker's library)."""
    import os

    from validator.trackers.links import check_links

    found = check_links(flags, policy, os.environ)
    return replace(report, findings=[*report.findings, *found])


def _policy(root: Path, cache: Cache | None) -> Policy | Callable[[], Policy]:
    """The policy now, or, when this context's pack exists, only once a file is parsed.

    The pack's context holds pyproject.toml's bytes and the validator's source, and a pack is
    written only after the policy loaded: with one there, loading it again can only succeed,
    and a run where every file is a hit need not import the model at all.
    """
    if cache is None or not cache.summaries:
        return _load_policy(root)
    return once(lambda: _load_policy(root))


def _load_policy(root: Path) -> Policy:
    from validator.policy import load_policy

    return load_policy(root)


def cache_settings(args: argparse.Namespace) -> Settings:
    return Settings.of(getattr(args, "cache_dir", None), getattr(args, "no_cache", False))


def check_tree(root: Path, policy: Policy | Callable[[], Policy], paths: list[str], *,
               cache: Cache | None = None,
               with_data: bool = False) -> Checked:
    """The working tree's flags; symlinks and other non-files under flags/ are findings, as
    their git modes are in range mode, so both modes give one verdict.

    A file whose result is in `cache` is not parsed; the cross-file rules run on the
    summaries alike. `with_data` keeps each flag's data for the build.
    """
    found, irregular = walk_flags(root, suffix=(".yml", ".yaml", ATTRIBUTES))  # one walk
    tree = [path for path in found if path.endswith(".yml")]
    chosen = [_relative(Path(p) if Path(p).is_absolute() else root / p, root) for p in paths]
    targets = _expand(root, chosen) if paths else tree
    used: set[str] = set()
    summaries = _summaries(root, targets, policy, cache, with_data, used)
    if not paths:
        extra: list[Finding] = not_read(found)
        extra += [not_regular(path, kind) for path, kind in irregular]
        attributes = attribute_files([*found, *_root_attributes(root)])
        extra += converted_on_checkout(root, tree, attributes)
        summaries += [unreadable(finding) for finding in extra]
    if cache is not None:
        cache.save(used, complete=not paths)
    return check_summaries(summaries, other_paths=tree)


BATCH = 5000
"""Files whose bytes wait for the parser at once: bounds memory at 100,000 flags."""


def _summaries(root: Path, targets: list[str], policy: Policy | Callable[[], Policy],
               cache: Cache | None, with_data: bool, used: set[str]) -> list[FileSummary]:
    """Each target's result in order: a cache hit, a finding, or parsed (in batches, on
    every core when there are many; see validator/parallel.py)."""
    from validator.parallel import parse_all

    done: list[FileSummary | None] = []
    waiting: list[tuple[int, str, bytes, str]] = []

    def parse_waiting() -> None:
        parsed = parse_all([(path, raw) for _, path, raw, _ in waiting], _now(policy))
        for (index, _, _, key), summary in zip(waiting, parsed, strict=True):
            if cache is not None:
                cache.put(key, summary)
            done[index] = summary if with_data else replace(summary, data=None)
        waiting.clear()

    prefix = f"{root}/"
    for target in targets:
        raw = read_bytes(prefix + target, target)
        if isinstance(raw, Finding):
            done.append(unreadable(raw))
            continue
        key = cache.key(target, raw) if cache is not None else ""
        hit = None
        if cache is not None:
            used.add(key)
            hit = cache.get(key, target, with_data=with_data)
        done.append(hit)
        if hit is None:
            waiting.append((len(done) - 1, target, raw, key))
            if len(waiting) >= BATCH:
                parse_waiting()
    if waiting:
        parse_waiting()
    return [summary for summary in done if summary is not None]


def _now(policy: Policy | Callable[[], Policy]) -> Policy:
    return policy() if callable(policy) else policy


def _root_attributes(root: Path) -> list[str]:
    return [ATTRIBUTES] if (root / ATTRIBUTES).is_file() else []


def converted_on_checkout(root: Path, tree: list[str], attributes: list[str]) -> list[Finding]:
    """This checkout's flag files that git converted (.gitattributes): the bytes read here are
    not the bytes that were reviewed and judged. Outside git nothing was converted."""
    if not attributes:
        return []
    try:
        found = conversions(root, tree)
    except GitError:
        return []
    return [converted(path, how) for path, how in sorted(found.items())]


def _expand(root: Path, chosen: list[str]) -> list[str]:
    expanded: list[str] = []
    for target in chosen:
        if (root / target).is_dir():
            expanded.extend(_relative(p, root) for p in sorted((root / target).rglob("*.yml")))
        else:
            expanded.append(target)
    if not expanded:
        raise UserError("no flag files found in the given paths")
    return list(dict.fromkeys(expanded))


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def report_of(checked: Checked, root: Path) -> Report:
    checked_files = [(file.path, file.flag) for file in checked.files]
    notes = [] if checked_files else [f"no flag files in {root.resolve() / 'flags'}"]
    return Report(checked.findings, checked_files, notes)
