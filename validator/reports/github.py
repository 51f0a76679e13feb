"""GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message` lines that
the runner turns into annotations on the pull request's changed lines.

The runner splits a command at `::` and its properties at `,` and `=`, and reads `%XX`
escapes back; so data escapes `%`, CR and LF, and properties also `:` and `,` (as
actions/toolkit's escapeData and escapeProperty do). `%` goes first so no escape is escaped twice.
Before that, untrusted text is escaped like every report's (`escape.py`), CR and LF excepted
(their `%0D`/`%0A` keep the log line whole and the annotation multi-line): the runner prints
these lines in the job log, where a raw ESC would repaint it.
"""

from __future__ import annotations

from validator.findings import Finding, Severity
from validator.reports import Report, sort_key
from validator.reports.escape import escape

COMMANDS: dict[Severity, str] = {Severity.ERROR: "error", Severity.WARNING: "warning"}

_DATA_ESCAPES = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES = (*_DATA_ESCAPES, (":", "%3A"), (",", "%2C"))


def render(report: Report) -> str:
    return "".join(f"{_command(f)}\n" for f in sorted(report.findings, key=sort_key))


def _command(finding: Finding) -> str:
    properties = {
        "file": finding.path,
        "line": str(finding.line),
        "col": str(finding.column),
        "title": finding.rule,
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS[finding.severity]} {joined}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    return _escape(escape(text, keep="\r\n"), _DATA_ESCAPES)


def escape_property(text: str) -> str:
    return _escape(escape(text, keep="\r\n"), _PROPERTY_ESCAPES)


def _escape(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for raw, escaped in escapes:
        text = text.replace(raw, escaped)
    return text
