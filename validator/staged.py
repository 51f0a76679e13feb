"""The pre-commit hook's shortcut: a commit that stages no flag file is answered from git's
list of staged paths alone, before the model, the parser and the policy are imported.

The hook runs on every commit (a deleted flag file is a change too), and most commits stage no
flag file; for them the whole judgement is the FO303 note on files outside flags/. Anything
the full judge could say more about (a flag file, pyproject.toml, a .gitattributes that could
convert flag files, a repository without HEAD, a root below the top of the work tree) takes
the full path instead. One thing the full judge says and this does not: HEAD's policy is not
read (that needs the model), so a broken one at HEAD, which CI refused with FO301 when it
landed, is reported by the next commit that stages a flag file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator import git
from validator.files import ATTRIBUTES, MAX_PYPROJECT_BYTES, VERSION_FILE
from validator.findings import RULES, START, Finding
from validator.reports import Report

if TYPE_CHECKING:
    import argparse

POLICY_FILE = "pyproject.toml"
HOOK_RANGE = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF")
"""What pre-commit names when it runs the hook outside a commit: at pre-push (what is pushed),
and for `pre-commit run --from-ref A --to-ref B`, as CI runs pre-commit."""


def hook_range(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The range pre-commit asks the hook to judge instead of HEAD → the index, which holds no
    change there: the hook passed a push of a jump to enabled, and an unreadable file, with
    "no flag changed"."""
    start, end = (environ.get(name, "") for name in HOOK_RANGE)
    return (start, end) if start and end else None


def is_documentation(path: str) -> bool:
    return path.endswith(".md") or path.startswith("docs/")


def outside_flags(paths: Sequence[str]) -> list[Finding]:
    """FO303 once per top-level folder of the changed files that may be code CI runs."""
    areas: dict[str, list[str]] = {}
    for path in paths:
        if not git.under_flags(path) and path != POLICY_FILE and not is_documentation(path):
            areas.setdefault(path.split("/")[0], []).append(path)
    findings: list[Finding] = []
    for _, found in sorted(areas.items()):
        more = f" and {len(found) - 1} more file(s) there" if len(found) > 1 else ""
        findings.append(RULES["FO303"].at(found[0], START, f"this change edits files outside "
                                          f"flags/: {found[0]}{more}; CI may run them, so "
                                          "they are the gate's owners' to review; the change "
                                          "is judged by the base's gate"))
    return findings


def without_flags(root: Path) -> Report | None:
    """The report of `validate --staged` when no staged change can concern a flag, else None
    (then the full judge runs, and HEAD's first-parent line, which it reads for soak times,
    is already being read: `git_log.read_line_ahead`)."""
    try:
        git.refuse_blocking_git_files(root)  # `diff --cached` waited on a FIFO there
        staged, attributes, prefix = git.together(
            root, ("diff", "--cached", "--name-only", "-z", "--no-renames", "--no-ext-diff",
                   "--ignore-submodules=none", "HEAD", "--"),
            ("ls-files", "-z", "--", ATTRIBUTES, f":(glob){git.FLAGS_DIR}/**/{ATTRIBUTES}"),
            ("rev-parse", "--show-prefix"))
    except git.GitError:  # no HEAD yet, not a repository: the judge says what is wrong
        return None
    paths = sorted(p.decode("utf-8", "surrogateescape") for p in staged.split(b"\0") if p)
    if attributes.strip(b"\0") or prefix.strip() \
            or any(git.under_flags(p) or git.folds_into_flags(p) or git.attributes_twin(p)
                   or p == POLICY_FILE for p in paths) or _stages_the_version_file(root, paths):
        _read_heads_line_ahead(root)
        return None  # (below the top of the work tree, the judge refuses to run)
    return Report(outside_flags(paths), [], ["no flag changed: HEAD → the index"])


def _stages_the_version_file(root: Path, paths: list[str]) -> bool:
    """Is a staged path the version file of HEAD's policy? The judge says what the change
    does to the current milestone (`FO302`). HEAD's policy is read only where a staged path
    could be it (not documentation, outside flags/), as raw TOML; where it cannot be read (too
    large, not TOML, not a table where one belongs), the default name is asked, and the judge
    reports that policy at the next change of a flag."""
    candidates = {path for path in paths if not is_documentation(path)}
    return bool(candidates) and _version_file_at_head(root) in candidates


def _version_file_at_head(root: Path) -> str:
    try:
        blob = f"HEAD:{POLICY_FILE}"
        if int(git.git(root, "cat-file", "-s", blob)) > MAX_PYPROJECT_BYTES:
            return VERSION_FILE
        text = git.git(root, "cat-file", "blob", blob).decode("utf-8")
        import tomllib  # (only here: most commits without a flag stage no such path)

        document = tomllib.loads(text)
    except (git.GitError, UnicodeDecodeError, ValueError, RecursionError):
        return VERSION_FILE
    tool = document.get("tool")
    table = tool.get("flagops") if isinstance(tool, dict) else None
    named = table.get("version_file") if isinstance(table, dict) else None
    return named if isinstance(named, str) else VERSION_FILE


def _read_heads_line_ahead(root: Path) -> None:
    """HEAD's commit id asked only here, where the judge runs: a fourth question beside the
    three above cost the commits that stage no flag file (most) about 5 ms."""
    from validator.git.log import read_line_ahead_of  # (its import too: not for most commits)

    read_line_ahead_of(root, "HEAD")


def shortcut(args: argparse.Namespace, out: TextIO) -> int | None:
    """`validate --staged` (and nothing that widens it) with no flag concerned: the report,
    emitted as the full command emits it; else None, and the command runs."""
    if not args.staged or args.base or args.head or args.merged or args.all_files or \
            hook_range(os.environ):
        return None
    report = without_flags(Path(args.root))
    if report is None:
        return None
    from validator.output import emit, pair_reports

    outputs = [str(Path(args.root) / output) for output in args.outputs or []]
    emit(report, pair_reports(args.formats, outputs), out)
    return 1 if report.errors else 0
