"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every catalogued rule is listed with its help, so a viewer explains a finding without our docs.
Results carry the same stable fingerprint as Code Quality (`partialFingerprints`), which code
scanning uses to match alerts across runs instead of hashing the lines itself. Messages are
escaped for the people who read them (`escape.py`); URIs carry the file name's exact bytes.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

from validator.findings import RULES, Finding, Rule
from validator.reports import Report
from validator.reports.escape import dumps, escape
from validator.reports.fingerprint import fingerprinted

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "flagops/v1"
SRCROOT = "%SRCROOT%"


def render(report: Report) -> str:
    document = {"$schema": SCHEMA, "version": "2.1.0", "runs": [_run(report)]}
    return dumps(document)


def _run(report: Report) -> dict[str, Any]:
    index = {rule_id: position for position, rule_id in enumerate(RULES)}
    results = [_result(f, print_, index) for f, print_ in fingerprinted(report.findings)]
    return {
        "tool": {"driver": _driver()},
        # Our columns count characters, not the UTF-16 units SARIF assumes by default.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }


def _driver() -> dict[str, Any]:
    return {
        "name": "flagops",
        "version": _version(),
        "rules": [_rule(rule) for rule in RULES.values()],
    }


def _version() -> str:
    """The installed version; a source checkout that was never installed still gets a report."""
    try:
        return version("flagops")
    except PackageNotFoundError:
        return "0+unknown"


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": str(rule.severity)},
    }


def _result(finding: Finding, fingerprint: str, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.rule}
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    result |= {
        "level": str(finding.severity),
        "message": {"text": escape(finding.message)},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    return result


def _location(finding: Finding) -> dict[str, Any]:
    region = {"startLine": max(finding.line, 1), "startColumn": max(finding.column, 1)}
    artifact = {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT}
    return {"physicalLocation": {"artifactLocation": artifact, "region": region}}


def artifact_uri(path: str) -> str:
    """The path's bytes, percent-encoded: a name that is not UTF-8 (lone surrogates from the
    file system) still names its file, `%FF` for the byte 0xff."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file system gives: show it escaped
        raw = escape(path).encode("utf-8")
    return quote(raw)
