"""`flagops validate`: the files of one state, and with --base/--staged the step between two."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from validator.check import Checked, LoadedFlag, check_documents
from validator.errors import UserError
from validator.findings import Finding
from validator.git import ATTRIBUTES, GitError, attribute_files, conversions
from validator.loader import (
    Document,
    converted,
    not_read,
    not_regular,
    read_document,
    walk_flags,
)
from validator.output import emit, pair_reports
from validator.policy import Policy, load_policy
from validator.reports import Report


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    outputs = [str(root / output) for output in args.outputs or []]
    pairs = pair_reports(args.formats, outputs)
    if args.base or args.staged or args.head or args.merged:
        from validator.compare import RangeRequest, compare

        request = RangeRequest(args.base, args.head, args.staged, args.merged, args.all_files)
        comparison = compare(root, request)  # judged by the base's policy, not the checkout's
        report = comparison.report()
        changed = set(comparison.changed)
        flags = [loaded for loaded in comparison.after.values()
                 if loaded.document.path in changed]
        policy = comparison.policy
    else:
        policy = load_policy(root)
        checked = check_tree(root, policy, args.paths)
        report, flags = report_of(checked, root), list(checked.flags.values())
    if args.check_links:
        report = _with_links(report, flags, policy)
    emit(report, pairs, out)
    return 1 if report.errors else 0


def _with_links(report: Report, flags: list[LoadedFlag], policy: Policy) -> Report:
    """The report plus what the trackers say of each flag's issues (imported only here, so
    the pre-commit path never loads a tracker's library)."""
    import os

    from validator.trackers.links import check_links

    found = check_links(flags, policy, os.environ)
    return replace(report, findings=[*report.findings, *found])


def check_tree(root: Path, policy: Policy, paths: list[str]) -> Checked:
    """The working tree's flags; symlinks and other non-files under flags/ are findings, as
    their git modes are in range mode, so both modes give one verdict."""
    found, irregular = walk_flags(root, suffix=(".yml", ".yaml", ATTRIBUTES))  # one walk
    tree = [path for path in found if path.endswith(".yml")]
    chosen = [_relative(Path(p) if Path(p).is_absolute() else root / p, root) for p in paths]
    targets = _expand(root, chosen) if paths else tree
    loaded: list[Document | Finding] = [read_document(root / target, target)
                                        for target in targets]
    if not paths:
        loaded += not_read(found)
        loaded += [not_regular(path, kind) for path, kind in irregular]
        attributes = attribute_files([*found, *_root_attributes(root)])
        loaded += converted_on_checkout(root, tree, attributes)
    return check_documents(loaded, policy, other_paths=tree)


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
