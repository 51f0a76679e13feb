"""GitLab Code Quality JSON: the merge request widget compares it between pipelines.

GitLab reads only description, check_name, fingerprint, severity, location.path and
location.lines.begin (docs.gitlab.com/ci/testing/code_quality, "Code Quality report format"),
so nothing else is written. Fingerprints come from `fingerprint.py`, stable across runs. The
widget shows descriptions and paths to reviewers: they are escaped, one line each (`escape.py`).
"""

from __future__ import annotations

from typing import Any

from validator.findings import Finding, Severity
from validator.reports import Report
from validator.reports.escape import dumps, escape
from validator.reports.fingerprint import fingerprinted

SEVERITIES: dict[Severity, str] = {Severity.ERROR: "major", Severity.WARNING: "minor"}
"""GitLab allows info, minor, major, critical and blocker; ours are two of them."""


def render(report: Report) -> str:
    issues = [_issue(finding, print_) for finding, print_ in fingerprinted(report.findings)]
    return dumps(issues)


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "description": escape(finding.message),
        "check_name": finding.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        "location": {"path": escape(finding.path), "lines": {"begin": max(finding.line, 1)}},
    }

