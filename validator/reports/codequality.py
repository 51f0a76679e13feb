"""GitLab Code Quality JSON: the merge request widget compares it between pipelines.

GitLab reads only description, check_name, fingerprint, severity, location.path and
location.lines.begin (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format"),
so nothing else is written. Fingerprints come from `fingerprint.py`, stable across runs.
"""

from __future__ import annotations

import json
from typing import Any

from validator.findings import Finding, Severity
from validator.reports import Report
from validator.reports.fingerprint import fingerprinted

SEVERITIES: dict[Severity, str] = {Severity.ERROR: "major", Severity.WARNING: "minor"}
"""GitLab allows info, minor, major, critical and blocker; ours are two of them."""


def render(report: Report) -> str:
    issues = [_issue(finding, print_) for finding, print_ in fingerprinted(report.findings)]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": _one_line(finding.message),
        "check_name": finding.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {"path": finding.path, "lines": {"begin": max(finding.line, 1)}},
    }


def _one_line(message: str) -> str:
    """The Code Climate spec GitLab builds on wants single-line descriptions."""
    return " ".join(message.splitlines())
