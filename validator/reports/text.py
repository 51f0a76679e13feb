"""`path:line:col: severity RULE message`, one line per finding, as compilers print them;
file names and messages escaped (`escape.py`), so a finding is one line and never repaints."""

from __future__ import annotations

from validator.reports import Report, sort_key
from validator.reports.escape import escape, line_start


def render(report: Report) -> str:
    lines = [
        f"{line_start(f.path)}:{f.line}:{f.column}: {f.severity} {f.rule} {escape(f.message)}"
        for f in sorted(report.findings, key=sort_key)
    ]
    return "".join(f"{line}\n" for line in lines)


def summary(report: Report) -> str:
    files = len(report.paths)
    noun = "file" if files == 1 else "files"
    return f"flagops: {report.errors} error(s), {report.warnings} warning(s) in {files} {noun}"
