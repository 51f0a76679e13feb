"""The policy: defaults in code, `[tool.flagops]` overrides, and located errors for mistakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from validator.errors import UserError
from validator.findings import Finding, Position
from validator.model import FlagType, Stage
from validator.policy import DEFAULT_POLICY, Policy, PolicyError, load_policy, policy_from_table

CliResult = tuple[int, str, str]
ROOT = Path(__file__).resolve().parents[1]
PROJECT = '[project]\nname = "demo"\nversion = "1"\n\n'  # 4 lines before the policy table


def _root(tmp_path: Path, policy: str, project: str = PROJECT) -> Path:
    (tmp_path / "pyproject.toml").write_text(project + policy, encoding="utf-8")
    return tmp_path


def _error(tmp_path: Path, policy: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load_policy(_root(tmp_path, policy))
    return caught.value


def test_defaults() -> None:
    assert Policy() == DEFAULT_POLICY
    assert DEFAULT_POLICY.percentage_steps == (10, 50, 100)
    assert DEFAULT_POLICY.allow_overrides is True
    assert DEFAULT_POLICY.may_skip == {}
    assert DEFAULT_POLICY.soak_minutes.default_enabled == 24 * 60


def test_no_pyproject_no_table_or_an_empty_table_means_the_defaults(tmp_path: Path) -> None:
    assert load_policy(tmp_path) == DEFAULT_POLICY
    assert load_policy(_root(tmp_path, "[tool.ruff]\nline-length = 100\n")) == DEFAULT_POLICY
    assert load_policy(_root(tmp_path, "[tool.flagops]\n")) == DEFAULT_POLICY


def test_this_repository_runs_on_the_defaults() -> None:
    assert load_policy(ROOT) == DEFAULT_POLICY


def test_tool_flagops_overrides_only_what_it_names(tmp_path: Path) -> None:
    policy = load_policy(_root(tmp_path, (
        "[tool.flagops]\n"
        "percentage_steps = [5, 25, 50, 100]\n"
        "allow_overrides = false\n"
        "may_skip = {ops = ['beta', 'percentage']}\n"
        "\n"
        "[tool.flagops.soak_minutes]\n"
        "beta = 60\n"
    )))
    assert policy.percentage_steps == (5, 25, 50, 100)
    assert policy.allow_overrides is False
    assert policy.may_skip == {FlagType.OPS: (Stage.BETA, Stage.PERCENTAGE)}
    assert policy.soak_minutes.beta == 60
    assert policy.soak_minutes.percentage == DEFAULT_POLICY.soak_minutes.percentage
    assert policy.invite_link_hosts == DEFAULT_POLICY.invite_link_hosts


@pytest.mark.parametrize(
    ("policy", "key", "position"),
    [
        ("[tool.flagops]\nbogus = 1\n", "'bogus'", Position(6, 1)),
        ("[tool.flagops]\npercentage_steps = [10, 50, 100]\n  bogus = 1\n", "'bogus'",
         Position(7, 3)),
        ("[tool.flagops]\n# bogus = 0\nsoak_minutes.bogus = 1\n", "'soak_minutes.bogus'",
         Position(7, 1)),
    ],
)
def test_an_unknown_policy_key_is_an_error_at_its_line(
    tmp_path: Path, policy: str, key: str, position: Position
) -> None:
    error = _error(tmp_path, policy)
    assert isinstance(error, UserError)
    finding = error.finding
    assert (finding.path, finding.rule, finding.severity) == ("pyproject.toml", "FO301", "error")
    assert (finding.line, finding.column) == (position.line, position.column)
    assert finding.message == f"[tool.flagops] unknown policy key {key}"


@pytest.mark.parametrize(
    "steps",
    ["[10, 50]", "[50, 10, 100]", "[10, 10, 100]", "[0, 50, 100]", "[10, 50, 100, 150]", "[]",
     "[-5, 100]", "'10, 50, 100'"],
)
def test_bad_percentage_steps(tmp_path: Path, steps: str) -> None:
    policy = f"[tool.flagops]\nallow_overrides = true\npercentage_steps = {steps}\n"
    error = _error(tmp_path, policy)
    assert (error.finding.line, error.finding.column) == (7, 1)
    assert "percentage_steps" in error.finding.message


@pytest.mark.parametrize(
    "table",
    [{"soak_minutes": {"beta": -1}}, {"may_skip": {"nope": ["beta"]}},
     {"may_skip": {"ops": ["later"]}}, {"percentage_steps": [10, 50, 100], "x": 1}],
)
def test_policy_from_table_refuses_bad_values(table: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        policy_from_table(table)


def test_broken_toml_is_a_policy_error(tmp_path: Path) -> None:
    error = _error(tmp_path, "[tool.flagops\n")
    assert (error.finding.rule, error.finding.path) == ("FO301", "pyproject.toml")


@pytest.mark.parametrize(
    "policy", ["allow_overrides = 'no'\n", "percentage_steps = ['10', '100']\n"]
)
def test_values_of_the_wrong_toml_type_are_errors(tmp_path: Path, policy: str) -> None:
    _error(tmp_path, "[tool.flagops]\n" + policy)


def test_an_error_in_a_policy_subtable_is_located(tmp_path: Path) -> None:
    error = _error(tmp_path, "[tool.flagops.soak_minutes]\nbeta = -1\n")
    assert (error.finding.line, error.finding.column) == (6, 1)


def test_a_policy_error_stops_validate_with_exit_1(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (_root(tmp_path, "[tool.flagops]\nbogus = 1\n") / "flags").mkdir()
    code, out, err = run_cli("-C", str(tmp_path), "validate")
    assert (code, out) == (1, "")
    assert "unknown policy key 'bogus'" in err and "Traceback" not in err


def test_a_policy_error_is_printed_with_its_location(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (_root(tmp_path, "[tool.flagops]\nbogus = 1\n") / "flags").mkdir()
    assert "pyproject.toml:6:1" in run_cli("-C", str(tmp_path), "validate")[2]


@pytest.mark.parametrize(("text", "where", "says"), [
    ("tool = 5\n", Position(1, 1), "tool must be a table, not int"),
    ("[tool]\nflagops = [1]\n", Position(2, 1), "tool.flagops must be a table, not list"),
    ("a = " + "[" * 5000 + "\n", Position(1, 1), "nested too deeply"),
    ('[tool.flagops]\nx = "abc', Position(2, 9), "Unterminated string"),
])
def test_malformed_pyproject_is_one_located_error(tmp_path: Path, text: str, where: Position,
                                                  says: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path)
    finding = caught.value.finding
    assert (finding.line, finding.column) == (where.line, where.column)
    assert says in finding.message


def test_a_toml_error_at_the_end_of_the_document_points_there(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.flagops]\npercentage_steps = [10,",
                                             encoding="utf-8")
    finding = _error_text(tmp_path)
    assert (finding.line, finding.column) != (1, 1)


def _error_text(tmp_path: Path) -> Finding:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path)
    return caught.value.finding


def test_a_pyproject_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.toml").write_text("[tool.flagops]\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").symlink_to(tmp_path / "elsewhere.toml")
    assert "not a regular file" in _error_text(tmp_path).message


@pytest.mark.parametrize(("start", "end", "key"), [
    ('"2020-01-01T00:00:00Z"', '"9999-12-31T23:00:00-12:00"', "end"),
    ("9999-12-31T23:00:00-12:00", "9999-12-31T23:30:00-12:00", "start"),
    ('"0001-01-01T00:00:00+14:00"', '"2020-01-01T00:00:00Z"', "start"),
])
def test_a_freeze_window_beyond_the_years_of_utc_is_refused(tmp_path: Path, start: str,
                                                            end: str, key: str) -> None:
    """The gate prints a window's end in UTC: an offset that carries it past year 9999 (or
    before year 1) crashed every forward step checked in the window (OverflowError)."""
    error = _error(tmp_path, f'[[tool.flagops.freeze]]\nstart = {start}\nend = {end}\n'
                   'reason = "until further notice"\n')
    assert error.finding.rule == "FO301"
    assert f"freeze.0.{key}" in error.finding.message
    assert "between years 1 and 9999 in UTC" in error.finding.message


@pytest.mark.parametrize(("raw", "where"), [
    (b'[tool.flagops]\ninvite_link_hosts = ["cal\xffendly.com"]\n', Position(2, 26)),
    (b"# caf\xe9 \xc3\xa9\n[tool.flagops]\n", Position(1, 6)),
    (b"[tool.flagops]\n# \xc3\xa9\xe9\n", Position(2, 4)),
])
def test_a_byte_that_is_not_utf8_is_refused_where_it_stands(tmp_path: Path, raw: bytes,
                                                             where: Position) -> None:
    """TOML is UTF-8: read with replacement characters, a host or a key would be one nobody
    wrote, and every other reader of the file (pip, tomllib.load) refuses it."""
    (tmp_path / "pyproject.toml").write_bytes(raw)
    finding = _error_text(tmp_path)
    assert (finding.rule, finding.line, finding.column) == ("FO301", where.line, where.column)
    assert "invalid UTF-8 byte 0x" in finding.message


def test_an_integer_longer_than_python_converts_is_a_located_policy_error(
        tmp_path: Path) -> None:
    """tomllib's int() of more than 4,300 digits raises a plain ValueError: an internal
    error (exit 3) on every change, a rollback under that base's policy too."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.flagops]\nx = {'9' * 4301}\n",
                                             encoding="utf-8")
    finding = _error_text(tmp_path)
    assert (finding.rule, finding.line, finding.column) == ("FO301", 2, 5)
    assert finding.message == "invalid TOML: an integer of more than 4,300 digits"


@pytest.mark.parametrize(("text", "where"), [
    ('[[tool.flagops.freeze]]\nstart = 2025-12-20T00:00:00Z\nend = 2026-01-02T00:00:00Z\n'
     'reason = "a"\n[[tool.flagops.freeze]]\nstart = 2025-12-20T00:00:00Z\n'
     'end = 2026-01-02T00:00:00\nreason = "b"\n', Position(7, 1)),
    ('[[tool.flagops.freeze]]\nstart = 2025-12-20T00:00:00Z\nend = 2026-01-02T00:00:00Z\n'
     'reason = "a"\nenvironment = ["production"]\n', Position(5, 1)),
    ("[ tool . flagops . soak_minutes ]\nbeta = -1\n", Position(2, 1)),
    ('[tool."flagops".soak_minutes]\nbeta = -1\n', Position(2, 1)),
    ("[tool]\nflagops.soak_minutes.bogus = 1\n", Position(2, 1)),
    ("tool.flagops.soak_minutes.beta = -1\n", Position(1, 1)),
    ("[tool.flagops]\nx = 1\n[tool.flagops.soak_minutes]\n  beta = -1\n", Position(4, 3)),
    ("[tool.flagops.soak_minutes]\nstaging = 1\n[tool.flagops]\nstale_in_months = 1\n",
     Position(4, 1)),
])
def test_a_policy_error_is_located_however_the_tables_are_spelled(
        tmp_path: Path, text: str, where: Position) -> None:
    """An array of tables (the n-th is index n), spaces or quotes in a header, and dotted
    keys under [tool] or at the top: the finding pointed at 1:1."""
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    finding = _error_text(tmp_path)
    assert (finding.rule, finding.line, finding.column) == ("FO301", where.line, where.column)
