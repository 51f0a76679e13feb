"""`flagops validate` end to end: exit codes, output formats, subfolders, explicit paths."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

CliResult = tuple[int, str, str]
ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(
    r"(?P<path>[^:\s]+):(?P<line>[1-9]\d*):(?P<column>[1-9]\d*): (?:error|warning) FO\d{3} \S.*"
)


def flag(name: str, *, type_: str = "wip", stage: str = "off", extra: str = "") -> str:
    return (
        "# yaml-language-server: $schema=../schema/flag.schema.json\n"
        f"name: {name}\ntype: {type_}\ngroup: group::activation\nmilestone: '13.12'\n"
        f"stage: {stage}\ndefault_enabled: false\n{extra}"
    )


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(text if isinstance(text, bytes) else text.encode())
    (root / "flags").mkdir(exist_ok=True)
    return root


def findings(out: str) -> list[tuple[str, str]]:
    """(path, rule) of every output line; any line that is not a finding fails the test."""
    pairs = []
    for line in out.splitlines():
        match = LINE.fullmatch(line)
        assert match, line
        pairs.append((match["path"], line.split()[2]))
    return pairs


# Exit codes ---------------------------------------------------------------------------------


def test_exit_0_with_only_warnings(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    write(tmp_path, {"flags/old.yml": flag("old", type_="development"),
                     "flags/fine.yml": flag("fine")})
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert code == 0
    assert out == "flags/old.yml:3:7: warning FO151 old: type development is deprecated; " \
                  "use gitlab_com_derisk, wip or beta\n"
    assert "0 error(s), 1 warning(s) in 2 files" in err


def test_exit_0_and_silence_when_all_is_well(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/fine.yml": flag("fine")})
    assert run_cli("-C", str(tmp_path), "validate")[:2] == (0, "")
    assert run_cli("-C", str(tmp_path), "validate", "--format", "json")[:2] == (0, "[]\n")


def test_exit_1_with_errors(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    write(tmp_path, {"flags/bad.yml": flag("bad", stage="on")})
    code, out, _ = run_cli("-C", str(tmp_path), "validate")
    assert (code, findings(out)) == (1, [("flags/bad.yml", "FO102")])


@pytest.mark.parametrize(
    "args",
    [["validate", "--bogus"], ["validate", "--format", "yaml"], ["frobnicate"], [],
     ["validate", "--staged", "--format"]],
)
def test_exit_2_for_usage_errors(
    tmp_path: Path, run_cli: Callable[..., CliResult], args: list[str]
) -> None:
    code, out, err = run_cli("-C", str(write(tmp_path, {})), *args)
    assert (code, out) == (2, "")
    assert "usage: flagops" in err and "Traceback" not in err


def test_exit_2_from_a_real_process(
    tmp_path: Path, run_process: Callable[..., CliResult]
) -> None:
    code, _, err = run_process("-C", str(write(tmp_path, {})), "validate", "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err


def test_a_real_process_writes_its_report_before_it_exits(
    tmp_path: Path, run_process: Callable[..., CliResult]
) -> None:
    """The command exits without the interpreter's teardown (cli.console), so what its pipe's
    buffer still holds must be written first: a one-line report never fills that buffer."""
    write(tmp_path, {"flags/lonely.yml": flag("lonely", extra="owners: [nobody]\n")})
    code, out, err = run_process("-C", str(tmp_path), "validate")
    assert code == 1 and findings(out) == [("flags/lonely.yml", "FO102")]
    assert err.endswith("in 1 file\n")


def test_output_without_format_is_a_usage_error(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/fine.yml": flag("fine")})
    assert run_cli("-C", str(tmp_path), "validate", "--output", "x.json")[0] == 2


# Formats ------------------------------------------------------------------------------------


def test_json_rows_have_exactly_the_documented_keys(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/bad.yml": flag("bad", extra="descripton: x\n"),
                     "flags/old.yml": flag("old", type_="development")})
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "--format", "json")
    rows = json.loads(out)
    assert code == 1
    assert rows == [
        {"path": "flags/bad.yml", "line": 8, "column": 1, "severity": "error", "rule": "FO103",
         "message": "unknown key 'descripton'; did you mean 'description'?"},
        {"path": "flags/old.yml", "line": 3, "column": 7, "severity": "warning", "rule": "FO151",
         "message": "old: type development is deprecated; use gitlab_com_derisk, wip or beta"},
    ]
    assert all(list(row) == ["path", "line", "column", "severity", "rule", "message"]
               for row in rows)


def test_json_report_to_a_file_keeps_the_text_on_screen(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/bad.yml": flag("bad", stage="on")})
    target = tmp_path / "report.json"
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "--format", "json",
                           "--output", str(target))
    assert code == 1 and findings(out) == [("flags/bad.yml", "FO102")]
    assert [row["rule"] for row in json.loads(target.read_text(encoding="utf-8"))] == ["FO102"]


# The tree -----------------------------------------------------------------------------------


def test_flags_in_subfolders_are_checked(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/team_a/x.yml": flag("x"), "flags/team_b/deep/y.yml": flag("y"),
                     "flags/team_b/deep/z.yml": flag("z", stage="nowhere")})
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert (code, findings(out)) == (1, [("flags/team_b/deep/z.yml", "FO102")])
    assert "in 3 files" in err


def test_duplicate_names_across_subfolders(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/team_a/x.yml": flag("x"), "flags/team_b/x.yml": flag("x")})
    code, out, _ = run_cli("-C", str(tmp_path), "validate")
    assert code == 1
    assert out == "flags/team_b/x.yml:2:7: error FO111 x: also defined in flags/team_a/x.yml\n"
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "flags/team_a/x.yml")
    assert code == 1
    assert out == "flags/team_a/x.yml:2:7: error FO111 x: also defined in flags/team_b/x.yml\n"


def test_a_broken_file_hides_nothing(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    write(tmp_path, {"flags/a_broken.yml": "name: [\n", "flags/b_good.yml": flag("b_good"),
                     "flags/c_broken.yml": b"name: c_broken\ndescription: caf\xe9\n",
                     "flags/d_bad.yml": flag("d_bad", stage="on")})
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert code == 1 and "Traceback" not in err
    assert findings(out) == [("flags/a_broken.yml", "FO001"), ("flags/c_broken.yml", "FO005"),
                             ("flags/d_bad.yml", "FO102")]
    assert "3 error(s), 0 warning(s) in 4 files" in err


# Explicit paths -----------------------------------------------------------------------------


def test_explicit_paths_check_only_those_files(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/good.yml": flag("good"), "flags/bad.yml": flag("bad", stage="on"),
                     "flags/team/t.yml": flag("t", stage="on"), "other/o.yml": flag("o")})
    assert run_cli("-C", str(tmp_path), "validate", "flags/good.yml")[:2] == (0, "")
    assert run_cli("-C", str(tmp_path), "validate", "other/o.yml")[:2] == (0, "")
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "flags/team")
    assert (code, findings(out)) == (1, [("flags/team/t.yml", "FO102")])
    absolute = str(tmp_path / "flags" / "bad.yml")
    code, out, _ = run_cli("-C", str(tmp_path), "validate", absolute, "flags/good.yml")
    assert (code, findings(out)) == (1, [("flags/bad.yml", "FO102")])


def test_a_folder_given_is_judged_as_the_whole_run_judges_it(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    """A folder's flag files are the walk's under it: `.` took .gitlab-ci.yml for a flag,
    and `flags` passed a symlinked folder that the whole run refuses (FO009)."""
    write(tmp_path, {"flags/good.yml": flag("good"), ".gitlab-ci.yml": "stages: [test]\n"})
    assert run_cli("-C", str(tmp_path), "validate", ".")[:2] == (0, "")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "flags" / "linked").symlink_to(tmp_path / "elsewhere")
    whole = run_cli("-C", str(tmp_path), "validate")
    for given in (".", "flags"):
        code, out, _ = run_cli("-C", str(tmp_path), "validate", given)
        assert (code, findings(out)) == (1, [("flags/linked", "FO009")]) == (
            whole[0], findings(whole[1]))


@pytest.mark.parametrize("paths", [["flags/x.yml", "flags/x.yml"], ["flags", "./flags/x.yml"]])
def test_a_file_named_twice_is_checked_once(
    tmp_path: Path, run_cli: Callable[..., CliResult], paths: list[str]
) -> None:
    write(tmp_path, {"flags/x.yml": flag("x")})
    assert run_cli("-C", str(tmp_path), "validate", *paths)[:2] == (0, "")


def test_an_explicit_path_keeps_the_name_rule_of_its_file(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    write(tmp_path, {"flags/team/wrong.yml": flag("right")})
    code, out, _ = run_cli("-C", str(tmp_path), "validate", "flags/team/wrong.yml")
    assert (code, findings(out)) == (1, [("flags/team/wrong.yml", "FO110")])


# This repository ----------------------------------------------------------------------------


def test_this_repositorys_flags_pass(run_cli: Callable[..., CliResult]) -> None:
    assert sorted((ROOT / "flags").rglob("*.yml")), "the repository has flags"
    code, out, err = run_cli("-C", str(ROOT), "validate")
    assert (code, out, "Traceback" in err) == (0, "", False)


def test_this_repositorys_flags_pass_in_a_real_process(
    run_process: Callable[..., CliResult]
) -> None:
    code, out, err = run_process("-C", str(ROOT), "validate", "--format", "json")
    assert (code, json.loads(out)) == (0, []), err


def test_from_a_subfolder_the_root_is_found_and_paths_stay_relative_to_it(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"flags/team/good.yml": flag("good"), "flags/bad.yml": "name: [\n"})
    monkeypatch.chdir(tmp_path / "flags" / "team")
    code, out, _ = run_cli("validate")
    assert (code, [line.split(":")[0] for line in out.splitlines()]) == (1, ["flags/bad.yml"])
    assert run_cli("validate", "good.yml")[:2] == (0, "")


def test_no_flag_files_at_all_is_said(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    code, _, err = run_cli("-C", str(tmp_path), "validate")
    assert code == 0
    assert f"flagops: no flag files in {tmp_path.resolve() / 'flags'}" in err


def test_with_c_a_relative_output_lands_in_the_root(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "repo", {"flags/fine.yml": flag("fine")})
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli("-C", "repo", "validate", "--format", "json", "--output", "out.json")
    assert code == 0
    assert (tmp_path / "repo" / "out.json").read_text(encoding="utf-8") == "[]\n"


@pytest.mark.parametrize("args", [["--head", "HEAD"], ["--merged"]])
def test_head_or_merged_without_base_is_a_usage_error(
        tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]], args: list[str]) -> None:
    (tmp_path / "flags").mkdir()
    code, _, err = run_cli("-C", str(tmp_path), "validate", *args)
    assert code == 2 and "need --base" in err
