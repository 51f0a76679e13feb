"""Every report format, fed hand-made findings and checked against its published format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from conftest import shared

from validator.arguments import FORMAT_NAMES
from validator.cli import main
from validator.findings import RULES, Finding, Severity
from validator.reports import FORMATS, Report, renderer, sort_key
from validator.reports.codequality import render as codequality
from validator.reports.escape import escape
from validator.reports.github import render as github
from validator.reports.json_report import render as json_report
from validator.reports.junit import render as junit
from validator.reports.sarif import render as sarif
from validator.reports.text import render as text

SARIF_SCHEMA = "sarif/sarif-schema-2.1.0.json"

AWKWARD_MESSAGE = "a: two\nlines, 100% <sure> & \"quoted\" 'too': naïve ✓ %0A stays"
WEIRD_PATH = "flags/we,ird:ü.yml"
A = Finding("flags/a.yml", 3, 5, Severity.ERROR, "FO101", AWKWARD_MESSAGE, "a")
A_WARNING = Finding("flags/a.yml", 7, 3, Severity.WARNING, "FO150", "a: 50%, of: time", "a")
A_SECOND = Finding("flags/a.yml", 9, 1, Severity.ERROR, "FO102", "a: stage: bad\r\nvalue", "a")
TWICE = "b: actor User:1 is listed twice"
B_FIRST = Finding("flags/b.yml", 4, 5, Severity.ERROR, "FO133", TWICE, "b")
B_AGAIN = Finding("flags/b.yml", 9, 5, Severity.ERROR, "FO133", TWICE, "b")
DELETED = Finding("flags/gone.yml", 1, 1, Severity.ERROR, "FO208", "gone: deleted live", "gone")
POLICY = Finding("pyproject.toml", 12, 1, Severity.ERROR, "FO301", "policy: bell \x07 here")
WEIRD = Finding(WEIRD_PATH, 2, 1, Severity.WARNING, "FO151", "we_ird: deprecated", "we_ird")
FINDINGS = (A, A_WARNING, A_SECOND, B_FIRST, B_AGAIN, DELETED, POLICY, WEIRD)
CHECKED = (
    ("flags/a.yml", "a"),
    ("flags/b.yml", "b"),
    ("flags/clean.yml", "clean"),
    (WEIRD_PATH, "we_ird"),
)
AWKWARD = Report(FINDINGS, CHECKED, notes=("judged against main",))
EMPTY = Report(())


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    """The OASIS schema from ../shared: skipped on a fresh clone, a failure in CI (`require`)."""
    schema = json.loads(shared(SARIF_SCHEMA).read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _errors(validator: jsonschema.Draft4Validator, document: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


# Every format ---------------------------------------------------------------------------------


def test_registry_offers_exactly_the_cli_formats() -> None:
    assert set(FORMATS) == set(FORMAT_NAMES)


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("report", [AWKWARD, EMPTY], ids=["awkward", "empty"])
def test_every_format_renders_text_that_ends_its_last_line(name: str, report: Report) -> None:
    rendered = renderer(name)(report)
    assert rendered == "" or rendered.endswith("\n")
    assert renderer(name)(report) == rendered  # deterministic


# SARIF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("report", [AWKWARD, EMPTY], ids=["awkward", "empty"])
def test_sarif_matches_the_schema(report: Report, sarif_validator: Any) -> None:
    document = json.loads(sarif(report))
    assert _errors(sarif_validator, document) == []
    assert document["version"] == "2.1.0"
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(document["runs"]) == 1


def test_the_schema_check_rejects_a_broken_sarif_document(sarif_validator: Any) -> None:
    document = json.loads(sarif(AWKWARD))
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert _errors(sarif_validator, document) != []


def test_sarif_lists_every_catalogued_rule_with_its_help() -> None:
    rules = json.loads(sarif(EMPTY))["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    for listed in rules:
        rule = RULES[listed["id"]]
        assert listed["name"] == rule.slug
        assert listed["shortDescription"]["text"] == rule.summary
        assert listed["fullDescription"]["text"] == listed["help"]["text"] == rule.help
        assert listed["defaultConfiguration"]["level"] == str(rule.severity)


def test_sarif_results_point_at_their_rule_and_place() -> None:
    run = json.loads(sarif(AWKWARD))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(FINDINGS)
    for finding, result in zip(sorted(FINDINGS, key=sort_key), results, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule
        assert result["level"] == str(finding.severity)
        assert result["message"]["text"] == escape(finding.message)
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert unquote(location["artifactLocation"]["uri"]) == finding.path
        assert location["region"] == {"startLine": finding.line, "startColumn": finding.column}


def test_sarif_and_codequality_share_fingerprints() -> None:
    results = json.loads(sarif(AWKWARD))["runs"][0]["results"]
    issues = json.loads(codequality(AWKWARD))
    assert [next(iter(r["partialFingerprints"].values())) for r in results] == [
        issue["fingerprint"] for issue in issues
    ]


# Code Quality ---------------------------------------------------------------------------------


def test_codequality_has_exactly_gitlabs_keys_and_types() -> None:
    issues = json.loads(codequality(AWKWARD))
    assert isinstance(issues, list)
    assert len(issues) == len(FINDINGS)
    for issue, finding in zip(issues, sorted(FINDINGS, key=sort_key), strict=True):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert set(issue["location"]) == {"path", "lines"}
        assert set(issue["location"]["lines"]) == {"begin"}
        assert issue["check_name"] == finding.rule
        assert issue["location"]["path"] == finding.path
        assert type(issue["location"]["lines"]["begin"]) is int
        assert issue["location"]["lines"]["begin"] == finding.line
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
        assert "\n" not in issue["description"] and "\r" not in issue["description"]
    assert [i["severity"] for i in issues].count("major") == AWKWARD.errors
    assert [i["severity"] for i in issues].count("minor") == AWKWARD.warnings


def test_codequality_of_nothing_is_an_empty_array() -> None:
    assert json.loads(codequality(EMPTY)) == []


def _fingerprints(*findings: Finding) -> dict[Finding, str]:
    issues = json.loads(codequality(Report(findings)))
    ordered = sorted(findings, key=sort_key)
    return {finding: issue["fingerprint"] for finding, issue in zip(ordered, issues, strict=True)}


def test_fingerprints_are_unique_and_the_same_every_run() -> None:
    first = [issue["fingerprint"] for issue in json.loads(codequality(AWKWARD))]
    assert len(set(first)) == len(first)
    assert [issue["fingerprint"] for issue in json.loads(codequality(AWKWARD))] == first


def test_a_fingerprint_survives_moved_lines_but_not_a_changed_message() -> None:
    before = _fingerprints(A, B_FIRST)
    moved = A._replace(line=A.line + 40, column=1)
    assert _fingerprints(moved, B_FIRST)[moved] == before[A]
    changed = A._replace(message="a: something else")
    assert _fingerprints(changed, B_FIRST)[changed] != before[A]
    assert _fingerprints(changed, B_FIRST)[B_FIRST] == before[B_FIRST]


def test_identical_findings_get_distinct_fingerprints_that_survive_moves() -> None:
    both = _fingerprints(B_FIRST, B_AGAIN)
    assert both[B_FIRST] != both[B_AGAIN]
    shifted = [f._replace(line=f.line + 3) for f in (B_FIRST, B_AGAIN)]
    assert list(_fingerprints(*shifted).values()) == list(both.values())


# JUnit ----------------------------------------------------------------------------------------


def _suite(report: Report) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(junit(report).encode("utf-8"))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    return root, suites[0]


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    cases = suite.findall("testcase")
    by_file = {case.get("file", ""): case for case in cases}
    assert len(by_file) == len(cases)
    return by_file


def test_junit_counts_add_up() -> None:
    root, suite = _suite(AWKWARD)
    cases = suite.findall("testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    for element in (root, suite):
        assert element.get("name") == "flagops"
        assert element.get("tests") == str(len(cases)) == "6"
        assert element.get("failures") == str(len(failed)) == "4"
        assert element.get("errors") == element.get("skipped") == "0"


def test_junit_has_one_case_per_checked_flag_and_per_other_path() -> None:
    cases = _cases(_suite(AWKWARD)[1])
    expected = {**dict(CHECKED), "flags/gone.yml": "gone", "pyproject.toml": "pyproject.toml"}
    assert {path: case.get("name") for path, case in cases.items()} == expected
    assert all(case.get("classname") == "flagops" for case in cases.values())
    assert list(cases["flags/clean.yml"]) == []


def test_junit_failure_carries_the_errors_and_system_out_the_warnings() -> None:
    case = _cases(_suite(AWKWARD)[1])["flags/a.yml"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == escape(A.message)
    assert f"flags/a.yml:3:5: FO101 {escape(A.message)}\n" in (failure.text or "")
    assert "flags/a.yml:9:1: FO102 a: stage: bad" in (failure.text or "")
    assert "FO150" not in (failure.text or "")
    assert case.findtext("system-out") == "flags/a.yml:7:3: FO150 a: 50%, of: time\n"


def test_junit_warnings_alone_do_not_fail_a_case() -> None:
    case = _cases(_suite(AWKWARD)[1])[WEIRD_PATH]
    assert case.find("failure") is None
    assert "FO151" in (case.findtext("system-out") or "")


def test_junit_escapes_characters_xml_cannot_hold() -> None:
    failure = _cases(_suite(AWKWARD)[1])["pyproject.toml"].find("failure")
    assert failure is not None
    assert failure.get("message") == "policy: bell \\x07 here"


def test_junit_of_nothing_is_an_empty_suite() -> None:
    root, suite = _suite(EMPTY)
    assert suite.findall("testcase") == []
    assert root.get("tests") == suite.get("tests") == "0"


# GitHub ---------------------------------------------------------------------------------------

_COMMAND = re.compile(r"::(error|warning) ([^:]*)::(.*)")
_ESCAPED = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}


def _unescape(text: str) -> str:
    return re.sub("%(25|0D|0A|3A|2C)", lambda match: _ESCAPED[match.group(0)], text)


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Reads a line back the way the runner does: split at `::`, `,` and the first `=`."""
    match = _COMMAND.fullmatch(line)
    assert match is not None, line
    pairs = (item.split("=", 1) for item in match.group(2).split(","))
    return match.group(1), {key: _unescape(value) for key, value in pairs}, _unescape(match[3])


def test_github_lines_parse_back_to_the_findings() -> None:
    lines = github(AWKWARD).splitlines()
    assert len(lines) == len(FINDINGS)
    for line, finding in zip(lines, sorted(FINDINGS, key=sort_key), strict=True):
        command, properties, message = _parse_command(line)
        assert command == str(finding.severity)
        assert properties == {
            "file": finding.path,
            "line": str(finding.line),
            "col": str(finding.column),
            "title": finding.rule,
        }
        assert message == escape(finding.message, keep="\r\n")


def test_github_escapes_as_the_runner_expects() -> None:
    lines = github(Report((A, WEIRD))).splitlines()
    assert lines[0].endswith(
        "::a: two%0Alines, 100%25 <sure> & \"quoted\" 'too': naïve ✓ %250A stays"
    )
    assert lines[1].startswith("::warning file=flags/we%2Cird%3Aü.yml,line=2,col=1,title=FO151::")


def test_github_of_nothing_is_nothing() -> None:
    assert github(EMPTY) == ""


# text and json --------------------------------------------------------------------------------

_TEXT_LINE = re.compile(r"(.+?):(\d+):(\d+): (error|warning) (FO\d{3}) (.*)")
ONE_LINE = tuple(f for f in FINDINGS if "\n" not in f.message and "\r" not in f.message)


def test_text_lines_read_back_to_the_findings() -> None:
    rows = [_TEXT_LINE.fullmatch(line) for line in text(Report(ONE_LINE)).splitlines()]
    read = [Finding(m[1], int(m[2]), int(m[3]), Severity(m[4]), m[5], m[6]) for m in rows if m]
    expected = [f._replace(message=escape(f.message), flag=None) for f in ONE_LINE]
    assert read == sorted(expected, key=sort_key)


def test_json_rows_have_exactly_the_documented_keys_and_read_back() -> None:
    rows = json.loads(json_report(AWKWARD))
    keys = {"path", "line", "column", "severity", "rule", "message"}
    assert all(set(row) == keys for row in rows)
    read = [
        Finding(r["path"], r["line"], r["column"], Severity(r["severity"]), r["rule"], r["message"])
        for r in rows
    ]
    assert read == [f._replace(flag=None) for f in sorted(FINDINGS, key=sort_key)]


# The command line -----------------------------------------------------------------------------


def test_validate_writes_several_reports_and_still_prints_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sarif_validator: Any
) -> None:
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / "bad.yml").write_text("name: Bad Name\nstage: nowhere\n")
    sarif_file, junit_file = tmp_path / "out" / "flags.sarif", tmp_path / "junit.xml"
    code = main(
        [
            "-C",
            str(tmp_path),
            "validate",
            "--format",
            "sarif",
            "--output",
            str(sarif_file),
            "--format",
            "junit",
            "--output",
            str(junit_file),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert re.search(r"^flags/bad\.yml:2:\d+: error FO102 ", captured.out, re.MULTILINE)
    assert "error(s)" in captured.err
    document = json.loads(sarif_file.read_text(encoding="utf-8"))
    assert _errors(sarif_validator, document) == []
    assert {r["ruleId"] for r in document["runs"][0]["results"]} >= {"FO101", "FO102"}
    suite = ET.parse(junit_file).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == suite.get("failures") == "1"
    assert [case.get("file") for case in suite.iter("testcase")] == ["flags/bad.yml"]


def test_fingerprint_ignores_numbers_that_move_with_the_clock() -> None:
    from validator.findings import Finding, Severity
    from validator.reports.fingerprint import fingerprinted

    def soak(minutes: int) -> Finding:
        return Finding("flags/demo.yml", 12, 8, Severity.ERROR, "FO204",
                       f"demo: beta → percentage after {minutes} min; wait {15 - minutes} more",
                       "demo")

    [(_, early)] = fingerprinted([soak(3)])
    [(_, later)] = fingerprinted([soak(9)])
    assert early == later
