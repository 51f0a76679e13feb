"""JUnit XML: one test case per flag file, so CI test tabs (GitLab's `artifacts:reports:junit`)
list every flag as passed or failed, clean ones included.

Error findings become the case's `<failure>`; warnings go to `<system-out>` because they do not
fail the job. Findings for a path that was not judged as a flag file (a deleted flag, the
policy) get a case of their own, so nothing that fails the job is missing from the tab.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from validator.findings import Finding, Severity
from validator.reports import Report, sort_key
from validator.reports.escape import escape

SUITE = "flagops"


@dataclass(frozen=True, slots=True)
class _Case:
    path: str
    name: str
    findings: Sequence[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]


def render(report: Report) -> str:
    cases = _cases(report)
    failures = sum(1 for case in cases if case.errors)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    for case in cases:
        _add_case(suite, case)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _cases(report: Report) -> list[_Case]:
    """One case per checked file and one per other path that has findings, in path order."""
    by_path: defaultdict[str, list[Finding]] = defaultdict(list)
    for finding in sorted(report.findings, key=sort_key):
        by_path[finding.path].append(finding)
    names = dict(report.checked)
    for path, findings in by_path.items():
        names.setdefault(path, next((f.flag for f in findings if f.flag), path))
    return [_Case(path, names[path], by_path.get(path, ())) for path in sorted(names)]


def _add_case(suite: ET.Element, case: _Case) -> None:
    attributes = {"classname": SUITE, "name": _safe(case.name), "file": _safe(case.path)}
    element = ET.SubElement(suite, "testcase", attributes)
    if case.errors:
        first = case.errors[0]
        failure = ET.SubElement(
            element, "failure", {"message": _safe(first.message), "type": first.rule}
        )
        failure.text = _lines(case.errors)
    if case.warnings:
        ET.SubElement(element, "system-out").text = _lines(case.warnings)


def _lines(findings: Sequence[Finding]) -> str:
    return "".join(f"{_safe(f.path)}:{f.line}:{f.column}: {f.rule} {_safe(f.message)}\n"
                   for f in findings)


def _safe(text: str) -> str:
    """Escaped like every report (`escape.py`): one line per finding, and nothing XML 1.0
    cannot carry (C0 controls, surrogates, U+FFFE/U+FFFF are all escaped)."""
    return escape(text)
