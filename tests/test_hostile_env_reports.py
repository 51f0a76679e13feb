"""Hostile text in every report format: control characters, bidi controls and file names that are
not UTF-8 come out escaped, one finding per line, and every report is still written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from validator.findings import Finding, Severity
from validator.reports import FORMATS, Report, renderer
from validator.reports.escape import dumps, escape, line_start

HOSTILE = (
    "\x1b[2J\x1b]0;pwned\x07",  # clear the screen, set the window title
    "one\ntwo\r\nthree",  # a finding split over lines
    "\x9b31m C1 CSI \x85 NEL",  # 8-bit controls some terminals obey
    "abc\u202eevil\u2066\u2069\u200f",  # bidi controls reorder what a reviewer sees
    "tag \U000e0041 zero\u200bwidth \u2028 separator",  # hidden and line-breaking characters
    "\udcff\udcfe not UTF-8",  # a file name's raw bytes, as os.listdir gives them
)
FINDINGS = tuple(
    Finding(f"flags/{text}.yml", 2, 3, Severity.ERROR, "FO102", f"actor User:{text} reason {text}",
            f"flag{index}")
    for index, text in enumerate(HOSTILE)
)
REPORT = Report(FINDINGS, [(f.path, f.flag or "") for f in FINDINGS], notes=("note \x1b[2J",))


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"} and char != "\n"


def test_escape_shows_each_unsafe_character_as_repr_would() -> None:
    assert escape("a\x1b[2Jb\n\t\r") == "a\\x1b[2Jb\\n\\t\\r"
    assert escape("\x9b \u202e \U000e0041 \ufffe") == "\\x9b \\u202e \\U000e0041 \\ufffe"
    assert escape("flags/\udcff.yml") == "flags/\\xff.yml"  # the byte, not the surrogate
    assert escape("naïve ✓ 名前 🙂 a\u00a0b") == "naïve ✓ 名前 🙂 a\u00a0b"  # text stays text
    assert escape("a\nb", keep="\n") == "a\nb"


def test_no_text_a_runner_reads_as_a_command_passes_escape() -> None:
    """GitHub's runner takes `##[command]` anywhere in a log line (`##[stop-commands]` turned
    the job's own annotations off): every format a person reads, the plan's code spans too,
    writes its `[` escaped."""
    from validator.reports.markdown import code_span

    assert escape("got '##[stop-commands]zz'") == "got '##\\x5bstop-commands]zz'"
    assert "##[" not in escape("###[error]x\x1b##[warning]y")
    assert "##[" not in code_span("User:##[error]pwned")
    assert line_start("::stop-commands::pwned") == "\\x3a:stop-commands::pwned"
    assert line_start(" ::error::x") == " \\x3a:error::x" and line_start("a::b") == "a::b"
    assert escape("::x") == "::x"  # elsewhere (a `file=` property, JSON) the path is exact
    first = Finding("::stop-commands::pwned", 1, 1, Severity.WARNING, "FO303", "gate", None)
    lines = renderer("text")(Report((first,), [])).splitlines()
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert "file=%3A%3Astop-commands" in renderer("github")(Report((first,), []))
    hostile = Finding("flags/x.yml", 1, 1, Severity.ERROR, "FO102", "got '##[error]pwned'", "x")
    for name in ("text", "github", "junit", "sarif", "codequality"):
        assert "##[" not in renderer(name)(Report((hostile,), [("flags/x.yml", "x")])), name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_format_holds_a_raw_unsafe_character(name: str) -> None:
    rendered = renderer(name)(REPORT)
    assert [char for char in rendered if _unsafe(char)] == []
    rendered.encode("utf-8")  # no lone surrogate left: the report can be written


@pytest.mark.parametrize("name", ["text", "github"])
def test_line_formats_keep_one_finding_per_line(name: str) -> None:
    lines = renderer(name)(REPORT).splitlines()
    assert len(lines) == len(FINDINGS)
    assert "flags/\\xff\\xfe not UTF-8.yml" in "\n".join(lines)


def test_json_keeps_the_text_exact_except_bytes_json_cannot_carry() -> None:
    rows = json.loads(renderer("json")(REPORT))
    by_message = {row["message"] for row in rows}
    for finding in FINDINGS[:-1]:
        assert finding.message in by_message  # escaped in the file, exact once parsed
    assert "actor User:\\xff\\xfe not UTF-8 reason \\xff\\xfe not UTF-8" in by_message


@pytest.mark.parametrize("name", ["sarif", "codequality"])
def test_formats_shown_in_merge_requests_show_escapes(name: str) -> None:
    document = json.loads(renderer(name)(REPORT))
    text = json.dumps(document, ensure_ascii=False)
    assert [char for char in text if _unsafe(char)] == []
    assert "\\\\x1b[2J" in text  # the escape itself, JSON-encoded once more


def test_sarif_uri_carries_the_exact_bytes_of_a_non_utf8_name() -> None:
    document = json.loads(renderer("sarif")(REPORT))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in document["runs"][0]["results"]]
    assert "flags/%FF%FE%20not%20UTF-8.yml" in uris


def test_junit_parses_and_escapes_every_attribute_and_line() -> None:
    root = ET.fromstring(renderer("junit")(REPORT).encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(FINDINGS)
    for case in cases:
        failure = case.find("failure")
        assert failure is not None
        assert len((failure.text or "").splitlines()) == 1
        assert not any(_unsafe(char) for char in f"{case.get('file')}{failure.get('message')}")


def test_dumps_writes_unsafe_characters_as_json_escapes() -> None:
    assert dumps(["\x9b\u202e\U000e0041\x7f"]) == '[\n  "\\u009b\\u202e\\udb40\\udc41\\u007f"\n]\n'
    assert json.loads(dumps(["\u202e"])) == ["\u202e"]


# The command line, with real file names -------------------------------------------------------


def _flag_tree(root: Path, *names: bytes) -> None:
    """Flag files whose names are raw bytes, as a checkout or an attacker can make them."""
    folder = root / "flags"
    folder.mkdir()
    for name in names:
        with open(os.path.join(os.fsencode(folder), name + b".yml"), "wb") as stream:
            stream.write(b"name: x\nactors: ['User:\xe2\x80\xae1', 'User:\xe2\x80\xae1']\n")


def _flagops(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "validator", "-C", str(root), *args],
                          capture_output=True, env={**os.environ, **env}, timeout=120,
                          check=False)


def test_every_format_reports_hostile_file_names_escaped_in_files_and_on_screen(
    tmp_path: Path,
) -> None:
    _flag_tree(tmp_path, b"\xff", b"red\x1b[31m", b"two\nlines", b"bidi\xe2\x80\xae")
    files = {name: tmp_path / "out" / f"report.{name}" for name in sorted(FORMATS)}
    pairs = [part for name, file in files.items() for part in ("--format", name, "--output",
                                                                  str(file))]
    done = _flagops(tmp_path, "validate", *pairs)
    assert done.returncode == 1, done.stderr
    for name, file in files.items():
        written = file.read_bytes().decode("utf-8")
        assert [char for char in written if _unsafe(char)] == [], name
        assert ("%FF" if name == "sarif" else "\\xff") in written, name
        assert "\\x1b[31m" in written, name
    screen = done.stdout.decode("utf-8")
    assert "flags/\\xff.yml:1:1: error " in screen
    assert [char for char in screen + done.stderr.decode() if _unsafe(char)] == []
    assert all(re.match(r"flags/\S+:\d+:\d+: (error|warning) FO\d{3} ", line)
               for line in screen.splitlines())


def test_error_lines_escape_what_the_user_passed(tmp_path: Path) -> None:
    done = _flagops(tmp_path, "eval", "f", "--actor", "User:1", "--config", "\x1b[2Jx.json")
    assert done.returncode == 1
    assert done.stderr == b"flagops: error: \\x1b[2Jx.json not found; run `flagops build` first\n"


def test_usage_errors_escape_the_words_they_quote(tmp_path: Path) -> None:
    """argparse quotes stray words as they came (`unrecognized arguments: …`): an OSC 52
    clipboard write or a clear screen reached the terminal."""
    done = _flagops(tmp_path, "schema", "\x1b]52;c;aGk=\x07\x1b[2J")
    assert done.returncode == 2
    assert done.stderr.endswith(
        b"flagops: error: unrecognized arguments: \\x1b]52;c;aGk=\\x07\\x1b[2J\n"), \
        done.stderr
