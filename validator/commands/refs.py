"""`flagops refs`: where code uses each flag, and references to flags that have no file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from validator.edit.new_flag import name_problem
from validator.errors import UserError
from validator.files import flag_paths, stem
from validator.lifecycle.refs import Reference
from validator.lifecycle.search import find
from validator.policy import load_policy
from validator.reports.escape import dumps, escape


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    for name in args.names or ():
        problem = name_problem(name)  # a name is searched for in git's patterns: `x|.*`
        if problem is not None:
            raise UserError(escape(problem))
    # Named flags need no walk of flags/: only every flag's search lists unknown names.
    known = args.names or _every_flag(root)
    extra = [Path(path) for path in args.paths or []]
    for checkout in extra:
        if not checkout.is_dir():
            raise UserError(f"--path {checkout}: not a folder")
    names = args.names or None
    found = find(root, load_policy(root), names, known, extra)
    unknown = [] if names else sorted({ref.flag for ref in found} - set(known))
    out.write(_json(found, names or known, unknown) if args.format == "json"
              else _text(found, names or known, unknown))
    return 0


def _every_flag(root: Path) -> list[str]:
    return sorted({stem(path) for path in flag_paths(root)})


def _by_flag(found: list[Reference]) -> dict[str, list[Reference]]:
    """The references of each flag, in the order found: one pass, so that a report of tens of
    thousands of names is not names times references."""
    grouped: dict[str, list[Reference]] = {}
    for ref in found:
        grouped.setdefault(ref.flag, []).append(ref)
    return grouped


def _text(found: list[Reference], names: list[str], unknown: list[str]) -> str:
    grouped = _by_flag(found)
    lines: list[str] = []
    for name in names:
        mine = [ref.text() for ref in grouped.get(name, [])]
        shown = escape(name)  # a file's stem: the repository's text
        lines.append(f"{shown}: {len(mine)} reference(s)" if mine else f"{shown}: none")
        lines += [f"  {escape(text)}" for text in mine]
    for name in unknown:
        lines.append(f"{escape(name)}: no flag file, referenced at")
        lines += [f"  {escape(ref.text())}" for ref in grouped[name]]
    return "\n".join(lines) + "\n"


def _json(found: list[Reference], names: list[str], unknown: list[str]) -> str:
    grouped = _by_flag(found)

    def places(name: str) -> list[dict[str, object]]:
        return [{"path": ref.path, "line": ref.line, "column": ref.column}
                for ref in grouped.get(name, [])]

    return dumps({"flags": {name: places(name) for name in names},
                  "without_flag_file": {name: places(name) for name in unknown}})
