"""`flagops validate`: the files of one state, and with --base/--staged the step between two."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator.check import Checked, LoadedFlag
from validator.output import emit, pair_reports
from validator.reports import Report
from validator.staged import hook_range

if TYPE_CHECKING:
    from validator.policy import Policy


Linked = Callable[[], tuple[list["LoadedFlag"], "Policy", set[str]]]
"""The flags whose issues --check-links looks up, the policy naming their trackers, and the
flags the change rolls back (a rollback is not held up by its issue); read only when asked."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    outputs = [str(root / output) for output in args.outputs or []]
    pairs = pair_reports(args.formats, outputs)
    if args.base is not None or args.staged or args.head is not None or args.merged:
        report, linked = _range_report(root, args)
    else:
        report, linked = _tree_report(root, args)
    if args.check_links:
        report = _with_links(report, *linked())
    emit(report, pairs, out)
    return 1 if report.errors else 0


def _range_report(root: Path, args: argparse.Namespace) -> tuple[Report, Linked]:
    """A change judged by the base's policy, not the checkout's; its changed flags linked.
    The base's first-parent line, which soak times are judged against, is read while the
    judge's modules load (the hook's shortcut started HEAD's already)."""
    from validator.git.log import drop_line_ahead, read_line_ahead_of

    pushed = hook_range(os.environ) if args.staged and args.base is None and args.head is None \
        else None
    if pushed is not None:  # the hook outside a commit: what pre-commit names is judged
        args.base, args.head, args.staged = *pushed, False
        target = _pushed_to(root, os.environ)
        if target is not None:  # as CI will: merged into the remote's default branch
            args.base, args.merged = target, True
    if args.base is not None:
        read_line_ahead_of(root, args.base)
    from validator.compare import RangeRequest, compare

    request = RangeRequest(args.base, args.head, args.staged, args.merged, args.all_files,
                           author_date=os.environ.get("GIT_AUTHOR_DATE"),
                           soak_as_warning=pushed is not None and _at_pre_push(os.environ),
                           fast_forward=args.fast_forward)
    try:
        comparison = compare(root, request, now=int(time.time()))
    finally:
        drop_line_ahead()  # what the hook's shortcut read ahead serves this run only
    changed = set(comparison.changed)
    flags = [loaded for loaded in comparison.after.values() if loaded.document.path in changed]
    return comparison.report(), lambda: (flags, comparison.policy,
                                         comparison.rolled_back())


def _at_pre_push(environ: Mapping[str, str]) -> bool:
    """At `pre-push` (pre-commit names the remote) the range is not landing yet: its soak
    findings are warnings, CI enforces them. `pre-commit run --from-ref --to-ref` names no
    remote: that is how CI runs the hook, and there the soak holds."""
    return bool(environ.get("PRE_COMMIT_REMOTE_NAME"))


def _pushed_to(root: Path, environ: Mapping[str, str]) -> str | None:
    """At pre-push, the remote's default branch as this clone last fetched it
    (`refs/remotes/<remote>/HEAD`), where it is known: a push is judged merged into it, as CI
    judges a merge request, so the target's own steps that a merge of it brought into the
    branch are not taken for the branch's. None elsewhere, or where it is not known."""
    from validator import git

    remote = environ.get("PRE_COMMIT_REMOTE_NAME", "")
    if not remote or remote.startswith("-") or any(c in remote for c in " ~^:?*[\\\n"):
        return None
    try:
        return git.resolve(root, f"refs/remotes/{remote}/HEAD")
    except git.GitError:
        return None


def _tree_report(root: Path, args: argparse.Namespace) -> tuple[Report, Linked]:
    """Every file of the working tree (through the cache); every flag linked.

    Without paths or --check-links (which needs the flags themselves) the whole run's verdict
    may come from the cache: see validator/tree.py. (The cache loads here only: a range, the
    hook's path, never reads it.)
    """
    from validator.cache import Cache, Settings
    from validator.tree import check_tree, judge_tree, policy_now, report_of, tree_policy

    cache = Cache.open(Settings.from_args(args), root, with_data=False)
    policy = tree_policy(root, cache)
    judged = check_tree(root, policy, args.paths, cache=cache) \
        if args.paths or args.check_links else judge_tree(root, policy, cache=cache)

    def linked() -> tuple[list[LoadedFlag], Policy, set[str]]:
        checked = judged if isinstance(judged, Checked) else \
            check_tree(root, policy, [], cache=cache)
        return _parsed(root, checked, policy_now(policy)), policy_now(policy), set()

    return report_of(judged, root), linked


def _parsed(root: Path, checked: Checked, policy: Policy) -> list[LoadedFlag]:
    """Every defined flag with its document, for --check-links (the URLs and where they are):
    the tree check keeps summaries only, so these files are read once more."""
    from validator.check import check_documents
    from validator.loader import read_document

    documents = [read_document(root / summary.path, summary.path)
                 for summary in checked.defined.values()]
    return list(check_documents(documents, policy).flags.values())


def _with_links(report: Report, flags: list[LoadedFlag], policy: Policy,
                rolled_back: set[str]) -> Report:
    """The report plus what the trackers say of each flag's issues (imported only here, so
    the pre-commit path never loads a tracker's library)."""
    import os

    from validator.trackers.links import check_links

    found = check_links(flags, policy, os.environ, rolled_back=rolled_back)
    return report._replace(findings=[*report.findings, *found])


