"""Report formats, chosen by name; each module renders a `Report` to text and knows no I/O.

Modules are imported only when their format is asked for, to keep the pre-commit path fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from validator.findings import Finding, Severity


class Report(NamedTuple):
    findings: Sequence[Finding]
    checked: Sequence[tuple[str, str]] = ()
    """(path, flag name) of every file that was judged, clean ones included."""
    notes: Sequence[str] = ()
    """Context lines for people, e.g. which base a transition was judged against."""

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    @property
    def paths(self) -> list[str]:
        """Every path judged or reported on, once: the files a summary counts and JUnit lists
        as test cases (a file checked at both sides of a change is still one file)."""
        return sorted({path for path, _ in self.checked} | {f.path for f in self.findings})


class Renderer(Protocol):
    def __call__(self, report: Report) -> str: ...


FORMATS: dict[str, str] = {
    "text": "validator.reports.text",
    "json": "validator.reports.json_report",
    "codequality": "validator.reports.codequality",
    "junit": "validator.reports.junit",
    "sarif": "validator.reports.sarif",
    "github": "validator.reports.github",
}


def renderer(name: str) -> Renderer:
    module = importlib.import_module(FORMATS[name])
    render: Renderer = module.render
    return render


def sort_key(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.path, finding.line, finding.column, finding.rule)
