"""What an authoring command prints: a one-line summary, the unified diff with --diff, the
ChatOps equivalent and next steps; or, refused, the validator's findings with what to do.
With --json, one JSON object on standard output either way. Text from the repository is
escaped (`reports.escape`), so no file content can repaint a terminal.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from validator.edit.judge import Soak, clock_text
from validator.errors import UserError
from validator.findings import Finding
from validator.reports import Report, renderer
from validator.reports.escape import dumps, escape


@dataclass(frozen=True, slots=True)
class Outcome:
    command: str
    flag: str
    path: str
    summary: str
    written: bool
    old: bytes | None = None
    new: bytes | None = None
    before: str | None = None
    after: str | None = None
    chatops: tuple[str, ...] = ()
    revert: str | None = None
    next_steps: tuple[str, ...] = ()
    warnings: tuple[Finding, ...] = ()
    show_file: bool = False
    """`new --dry-run`: the file is printed instead of written."""


class Refusal(UserError):
    """The command made no change: the validator's findings, or one message, and what to do."""

    def __init__(self, command: str, flag: str, message: str | None = None, *,
                 findings: Sequence[Finding] = (), soak: Soak | None = None, now: int = 0,
                 hints: Sequence[str] = ()) -> None:
        super().__init__(message or (findings[0].message if findings else "refused"))
        self.command, self.flag, self.message = command, flag, message
        self.findings, self.soak, self.now, self.hints = tuple(findings), soak, now, tuple(hints)


def show(outcome: Outcome, out: TextIO, *, as_json: bool, with_diff: bool) -> None:
    if as_json:
        out.write(dumps(_record(outcome)))
        return
    _warn(outcome.warnings)
    out.write(f"{escape(outcome.summary)}\n")
    if outcome.show_file and outcome.new is not None:
        out.write(_escaped_lines(outcome.new.decode("utf-8").splitlines(keepends=True)))
    if with_diff:
        out.write(unified_diff(outcome.path, outcome.old, outcome.new))
    if outcome.chatops:
        out.write("ChatOps equivalent:\n")
        out.write("".join(f"  {escape(command)}\n" for command in outcome.chatops))
    elif outcome.command in ("promote", "rollback"):
        out.write("ChatOps equivalent: none (no Flipper gate changes; default_enabled is part "
                  "of the definition)\n")
    if outcome.revert:
        out.write(f"Or revert the commit that made the last change: {outcome.revert}\n")
    if outcome.next_steps:
        out.write("Next steps:\n")
        out.write("".join(f"  - {escape(step)}\n" for step in outcome.next_steps))


def refuse(refusal: Refusal, out: TextIO, *, as_json: bool) -> int:
    if as_json:
        out.write(dumps(_refusal_record(refusal)))
        return 1
    if refusal.findings:
        sys.stderr.write(renderer("text")(Report(refusal.findings)))
    if refusal.message:
        print(f"flagops: error: {escape(refusal.message)}", file=sys.stderr)
    if refusal.soak is not None:
        print(f"flagops: {escape(refusal.soak.line(refusal.flag, refusal.now))}",
              file=sys.stderr)
    for hint in refusal.hints:
        print(f"flagops: hint: {escape(hint)}", file=sys.stderr)
    return 1


def unified_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    """`git diff`'s shape: a/ and b/ paths, /dev/null for a created or deleted file."""
    before = old.decode("utf-8").splitlines(keepends=True) if old is not None else []
    after = new.decode("utf-8").splitlines(keepends=True) if new is not None else []
    lines = difflib.unified_diff(before, after, f"a/{path}" if old is not None else "/dev/null",
                                 f"b/{path}" if new is not None else "/dev/null")
    return _escaped_lines(list(lines))


def _escaped_lines(lines: Sequence[str]) -> str:
    shown = []
    for line in lines:
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        shown.append(escape(body, keep="\t") + ("\n" if ending else
                                                 "\n\\ No newline at end of file\n"))
    return "".join(shown)


def _warn(findings: Sequence[Finding]) -> None:
    if findings:
        sys.stderr.write(renderer("text")(Report(findings)))


def _findings(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [{"path": f.path, "line": f.line, "column": f.column, "severity": str(f.severity),
             "rule": f.rule, "message": f.message} for f in findings]


def _record(outcome: Outcome) -> dict[str, Any]:
    return {
        "command": outcome.command,
        "flag": outcome.flag,
        "path": outcome.path,
        "written": outcome.written,
        "before": outcome.before,
        "after": outcome.after,
        "summary": outcome.summary,
        "diff": unified_diff(outcome.path, outcome.old, outcome.new),
        "chatops": list(outcome.chatops),
        "revert": outcome.revert,
        "next_steps": list(outcome.next_steps),
        "findings": _findings(outcome.warnings),
    }


def _refusal_record(refusal: Refusal) -> dict[str, Any]:
    soak = refusal.soak
    first = refusal.findings[0].message if refusal.findings else None
    return {
        "command": refusal.command,
        "flag": refusal.flag,
        "written": False,
        "error": refusal.message or first,
        "findings": _findings(refusal.findings),
        "soak": None if soak is None else {
            "state": soak.state, "live_minutes": soak.live,
            "wait_minutes": soak.wait(refusal.now), "legal_at": soak.legal_at,
            "legal_at_text": clock_text(soak.legal_at, refusal.now),
        },
        "hints": list(refusal.hints),
    }
