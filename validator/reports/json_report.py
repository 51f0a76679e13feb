"""The findings as a JSON list with the keys path, line, column, severity, rule, message."""

from __future__ import annotations

import json

from validator.reports import Report, sort_key


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
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
