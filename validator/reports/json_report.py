"""The findings as a JSON list with the keys path, line, column, severity, rule, message.

For programs: the text is exact, with unsafe characters as JSON escapes (`escape.dumps`).
"""

from __future__ import annotations

from validator.reports import Report, sort_key
from validator.reports.escape import dumps


def render(report: Report) -> str:
    rows = [
        {
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "severity": str(f.severity),
            "rule": f.rule,
            "message": f.message,
        }
        for f in sorted(report.findings, key=sort_key)
    ]
    return dumps(rows)
