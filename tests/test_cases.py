"""Example-file tests: every case under tests/cases is found and run; adding a case is adding files.

- `cases/invalid/<case>/flags/**/*.yml` with `cases/invalid/<case>/expected.json`: the case folder
  is a repository root; `expected.json` lists every finding the run must give, no more and no
  fewer: `{"rule", "line", "column"}`, optionally `"severity"` (default error), `"path"` (default:
  the case's only flag file) and `"message"` (a part the message must contain).
- `cases/valid/<name>.yml`: no findings at all. A `# counterpart: FO123 ...` line names the rules
  the file is the passing counterpart of.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from validator.check import check_documents
from validator.files import MAX_BYTES
from validator.findings import RULES
from validator.loader import read_document
from validator.policy import DEFAULT_POLICY

CliResult = tuple[int, str, str]
CASES = Path(__file__).parent / "cases"
INVALID_CASES = sorted(path for path in (CASES / "invalid").iterdir() if path.is_dir())
VALID_FILES = sorted((CASES / "valid").glob("*.yml"))
FILE_RULES = sorted(rule for rule in RULES if re.fullmatch(r"FO[01]\d\d", rule))
# A rule checked by code rather than a case file: a test of this module, or a test file.
TESTED_IN_CODE = {"FO007": "test_unreadable_paths_are_findings_and_the_rest_is_still_checked",
                  "FO008": "test_a_yaml_file_in_flags_is_an_error_not_silence",
                  "FO009": "tests/test_gate_paths.py",
                  "FO010": "tests/test_gate_paths.py",
                  "FO011": "tests/test_gate_paths.py"}
TEXT_LINE = re.compile(
    r"(?P<path>[^\s:][^:\n]*):(?P<line>[1-9]\d*):(?P<column>[1-9]\d*): "
    r"(?P<severity>error|warning) (?P<rule>FO\d{3}) (?P<message>\S.*)"
)
COUNTERPART = re.compile(r"^# counterpart:(?P<rules>.*)$", re.MULTILINE)

# Cases whose expectation is right and the validator wrong; strict, so a fix shows up as XPASS.
KNOWN_BUGS: dict[str, str] = {}


@dataclass(frozen=True, order=True)
class Expected:
    path: str
    line: int
    column: int
    rule: str
    severity: str
    message: str = ""

    @property
    def key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.severity)


def flag_files(case: Path) -> list[str]:
    return sorted(path.relative_to(case).as_posix() for path in (case / "flags").rglob("*.yml"))


def expected_findings(case: Path) -> list[Expected]:
    """Reads expected.json strictly: an unknown key or rule is a broken case, not a pass."""
    files = flag_files(case)
    assert files, f"{case.name}: no flags/**/*.yml"
    rows: list[dict[str, Any]] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    expected = [_expected_row(row, files, case.name) for row in rows]
    assert expected or len(files) > 1, f"{case.name}: an invalid case expects findings"
    return sorted(expected)


def _expected_row(row: dict[str, Any], files: list[str], case: str) -> Expected:
    assert set(row) <= {"rule", "line", "column", "severity", "path", "message"}, (case, row)
    assert row["rule"] in RULES, (case, row)
    if "path" not in row:
        assert len(files) == 1, f"{case}: say which file each finding is in"
    path = row.get("path", files[0])
    assert path in files, (case, path)
    severity = row.get("severity", str(RULES[row["rule"]].severity))
    return Expected(path, row["line"], row["column"], row["rule"], severity,
                    row.get("message", ""))


def counterparts(path: Path) -> set[str]:
    match = COUNTERPART.search(path.read_text(encoding="utf-8"))
    return set(match.group("rules").split()) if match else set()


def _param(path: Path) -> Any:
    reason = KNOWN_BUGS.get(path.stem if path.is_file() else path.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem if path.is_file() else path.name, marks=marks)


def _text_findings(out: str) -> list[tuple[str, int, int, str, str]]:
    keys = []
    for line in out.splitlines():
        match = TEXT_LINE.fullmatch(line)
        assert match, f"not a `path:line:col: severity FOxxx message` line: {line!r}"
        keys.append((match["path"], int(match["line"]), int(match["column"]), match["rule"],
                     match["severity"]))
    return keys


# The invalid cases --------------------------------------------------------------------------


@pytest.mark.parametrize("case", [_param(case) for case in INVALID_CASES])
def test_invalid_case_gives_exactly_its_located_findings(
    case: Path, run_cli: Callable[..., CliResult]
) -> None:
    expected = expected_findings(case)
    code, out, err = run_cli("-C", str(case), "validate")
    assert "Traceback" not in err and "internal error" not in err, err
    assert sorted(_text_findings(out)) == [e.key for e in expected]
    assert code == (1 if any(e.severity == "error" for e in expected) else 0)

    json_code, json_out, _ = run_cli("-C", str(case), "validate", "--format", "json")
    rows = json.loads(json_out)
    got = sorted((r["path"], r["line"], r["column"], r["rule"], r["severity"]) for r in rows)
    assert got == [e.key for e in expected]
    assert json_code == code
    for item in expected:
        messages = [r["message"] for r in rows if (r["line"], r["rule"]) == (item.line, item.rule)]
        assert any(item.message in message for message in messages), (item, messages)


def test_the_corpus_holds_at_least_30_files_broken_before_any_rule_runs() -> None:
    """Broken means the file does not even parse into a Flag: YAML, encoding, types, keys."""
    parse_rules = {rule for rule in FILE_RULES if rule < "FO110"} | {"FO112", "FO160"}
    broken = [case.name for case in INVALID_CASES
              if any(e.rule in parse_rules for e in expected_findings(case))]
    assert len(broken) >= 30, broken


def test_ten_megabyte_file_is_refused_quickly_with_a_located_error(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (tmp_path / "flags").mkdir()
    line = b"# " + b"x" * 1021 + b"\n"
    (tmp_path / "flags" / "huge.yml").write_bytes(b"name: huge\n" + line * (10 * 1024))
    assert (tmp_path / "flags" / "huge.yml").stat().st_size > 10 * 1024 * 1024
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert (code, "Traceback" in err) == (1, False)
    assert out == f"flags/huge.yml:1:1: error FO004 file is larger than {MAX_BYTES // 1024} KiB\n"


def test_unreadable_paths_are_findings_and_the_rest_is_still_checked(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (tmp_path / "flags" / "folder.yml").mkdir(parents=True)
    shutil.copy(VALID_FILES[0], tmp_path / "flags")
    (tmp_path / "flags" / "broken.yml").write_text("name: [\n")
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert code == 1 and "Traceback" not in err
    assert [(path, rule) for path, _, _, rule, _ in _text_findings(out)] == [
        ("flags/broken.yml", "FO001"),
        ("flags/folder.yml", "FO009"),
    ]
    assert "flags/folder.yml is a folder" in out
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "flags/missing.yml")
    assert (code, out) == (1, "flags/missing.yml:1:1: error FO007 cannot read file: "
                              "No such file or directory\n")


def test_a_yaml_file_in_flags_is_an_error_not_silence(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (tmp_path / "flags" / "team").mkdir(parents=True)
    shutil.copy(VALID_FILES[0], tmp_path / "flags")
    (tmp_path / "flags" / "team" / "lost.yaml").write_text("name: lost\n")
    code, out, _ = run_cli("-C", str(tmp_path), "validate")
    assert (code, out) == (1, "flags/team/lost.yaml:1:1: error FO008 flags/team/lost.yaml is "
                              "not read: flag files end in .yml, so this flag would be missing "
                              "from the merged config; rename it: git mv flags/team/lost.yaml "
                              "flags/team/lost.yml\n")


def test_the_git_mv_for_a_yaml_file_quotes_its_paths_for_the_shell(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    # The file name comes with the change: `git mv flags/$(…).yaml …` ran its command when
    # pasted into a shell.
    name = "$(touch${IFS}mark)';x.yaml"
    (tmp_path / "flags").mkdir()
    (tmp_path / "flags" / name).write_text("name: lost\n")
    code, out, _ = run_cli("-C", str(tmp_path), "validate")
    command = out.partition("rename it: ")[2].rstrip("\n")
    assert code == 1 and command.startswith("git mv '"), out
    ran = subprocess.run(["bash", "-c", f"printf '%s\\n' {command.removeprefix('git mv ')}"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert ran.stdout.splitlines() == [f"flags/{name}", f"flags/{name[:-5]}.yml"]
    assert not (tmp_path / "mark").exists()


def test_whole_corpus_in_one_real_process_reports_every_file(
    tmp_path: Path, run_process: Callable[..., CliResult]
) -> None:
    """All cases side by side (flags/<case>/...): one broken file never hides another."""
    expected: list[tuple[str, int, int, str, str]] = []
    for case in INVALID_CASES:
        if case.name in KNOWN_BUGS:
            continue
        shutil.copytree(case / "flags", tmp_path / "flags" / case.name)
        expected += [(e.path.replace("flags/", f"flags/{case.name}/", 1), *e.key[1:])
                     for e in expected_findings(case)]
    for path in VALID_FILES:
        if path.stem not in KNOWN_BUGS:
            shutil.copy(path, tmp_path / "flags")
    code, out, err = run_process("-C", str(tmp_path), "validate")
    assert code == 1, err
    assert "Traceback" not in err
    assert sorted(_text_findings(out)) == sorted(expected)
    checked = len(list((tmp_path / "flags").rglob("*.yml")))
    errors = sum(1 for e in expected if e[4] == "error")
    summary = f"{errors} error(s), {len(expected) - errors} warning(s) in {checked} files"
    assert summary in err


# The valid files ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [_param(path) for path in VALID_FILES])
def test_valid_file_has_no_findings(path: Path) -> None:
    document = read_document(path, f"flags/{path.name}")
    checked = check_documents([document], DEFAULT_POLICY)
    assert checked.findings == []
    assert list(checked.flags) == [path.stem]


def test_valid_files_together_pass_the_command_line(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (tmp_path / "flags" / "team").mkdir(parents=True)
    for index, path in enumerate(p for p in VALID_FILES if p.stem not in KNOWN_BUGS):
        shutil.copy(path, tmp_path / "flags" / ("team" if index % 2 else "") / path.name)
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert (code, out) == (0, "")
    assert "0 error(s), 0 warning(s)" in err


# Coverage of the catalogue ------------------------------------------------------------------


def test_every_file_rule_has_a_failing_case_and_a_passing_counterpart() -> None:
    failing = {e.rule for case in INVALID_CASES if case.name not in KNOWN_BUGS
               for e in expected_findings(case)}
    passing = {rule for path in VALID_FILES if path.stem not in KNOWN_BUGS
               for rule in counterparts(path)}
    assert passing <= set(RULES)
    assert sorted(failing | TESTED_IN_CODE.keys()) == FILE_RULES
    assert sorted(passing) == FILE_RULES
    assert {test for test in TESTED_IN_CODE.values() if "/" not in test} <= set(globals())


@pytest.mark.parametrize("rule", sorted(r for r, test in TESTED_IN_CODE.items() if "/" in test))
def test_rules_tested_in_another_file_are_tested_there(rule: str) -> None:
    tests = Path(__file__).parents[1] / TESTED_IN_CODE[rule]
    assert tests.is_file(), f"{rule} is to be tested in {TESTED_IN_CODE[rule]}, which is missing"
    assert rule in tests.read_text(encoding="utf-8"), f"{TESTED_IN_CODE[rule]} never names {rule}"


def test_case_names_are_unique_flag_names_so_cases_can_share_a_tree() -> None:
    stems = [Path(file).stem for case in INVALID_CASES for file in flag_files(case)]
    stems += [path.stem for path in VALID_FILES]
    duplicated = {stem for stem in stems if stems.count(stem) > 1}
    assert duplicated == {"duplicate_name_across_folders"}
