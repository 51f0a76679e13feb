"""The merged config: effective gates per stage and environment, the file, `build` and `eval`."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from validator.build import (
    MergedConfig,
    build_config,
    config_schema_text,
    config_text,
    parse_config,
)
from validator.cli import main
from validator.config_file import SCHEMA_PATH
from validator.errors import UserError
from validator.gates import Gates, effective_gates
from validator.model import Environment, Flag, Stage

REPO = Path(__file__).resolve().parent.parent
ACTORS = ["User:9", "Project:gitlab-org/gitlab", "User:10"]
SORTED_ACTORS = ("Project:gitlab-org/gitlab", "User:10", "User:9")


def flag_data(name: str = "calendly_invite_link", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name, "type": "beta", "group": "group::activation", "milestone": "13.12",
        "rollout_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
        "expectations": {"expected": "bookings", "risks": "a broken link", "monitoring": "4xx"},
        "stage": "off", "default_enabled": False,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def make_flag(stage: str, **changes: Any) -> Flag:
    extra: dict[str, Any] = {"actors": ACTORS} if stage in ("beta", "percentage") else {}
    if stage == "percentage":
        extra["percentage"] = {"of": "actors", "value": 10}
    return Flag.model_validate(flag_data(stage=stage, **{**extra, **changes}))


def write_flag(root: Path, data: dict[str, Any]) -> None:
    """Block YAML whose values are JSON scalars and flow collections, all valid YAML 1.2."""
    text = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n"
                   for key, value in data.items())
    path = root / "flags" / f"{data['name']}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


P, S = Environment.PRODUCTION, Environment.STAGING


@pytest.mark.parametrize(("stage", "environment", "boolean", "actors", "share"), [
    ("off", S, False, (), None),
    ("off", P, False, (), None),
    ("staging", S, True, (), None),
    ("staging", P, False, (), None),
    ("beta", S, True, (), None),
    ("beta", P, False, SORTED_ACTORS, None),
    ("percentage", S, True, (), None),
    ("percentage", P, False, SORTED_ACTORS, 10),
    ("enabled", S, True, (), None),
    ("enabled", P, True, (), None),
])
def test_effective_gates(stage: str, environment: Environment, boolean: bool,
                         actors: tuple[str, ...], share: float | None) -> None:
    gates = effective_gates(make_flag(stage), environment)
    assert gates == Gates(boolean=boolean, actors=actors, percentage_of_actors=share,
                          percentage_of_time=None)


def test_percentage_of_time_warns_only_where_it_is_conditional() -> None:
    flag = make_flag("percentage", percentage={"of": "time", "value": 25})
    config, warnings = build_config([flag], P, schema_ref="x")
    gates = config.flags[flag.name].gates
    assert (gates.percentage_of_time, gates.percentage_of_actors) == (25, None)
    assert len(warnings) == 1 and "cannot be evaluated statically" in warnings[0]
    assert build_config([flag], S, schema_ref="x")[1] == []


def test_config_text_is_deterministic_and_sorted() -> None:
    flags = [make_flag("beta", name="zebra_flag"), make_flag("enabled", name="apple_flag")]
    first = config_text(build_config(flags, P, schema_ref="s.json")[0])
    second = config_text(build_config(flags[::-1], P, schema_ref="s.json")[0])
    assert first == second and first.endswith("}\n")
    data = json.loads(first)
    assert list(data) == ["$schema", "catalog", "environment", "flags"]
    assert list(data["flags"]) == ["apple_flag", "zebra_flag"]
    assert first == json.dumps(data, sort_keys=True, indent=2) + "\n"


def test_checked_in_schema_is_generated_from_the_model() -> None:
    current = (REPO / SCHEMA_PATH).read_text(encoding="utf-8")
    assert current == config_schema_text(), "stale: run `flagops build --write-schema`"


@pytest.mark.parametrize("stage", [stage.value for stage in Stage])
def test_built_config_matches_the_schema(stage: str) -> None:
    schema = json.loads((REPO / SCHEMA_PATH).read_text(encoding="utf-8"))
    config, _ = build_config([make_flag(stage)], P, schema_ref="s.json")
    data = json.loads(config_text(config))
    Draft202012Validator(schema).validate(data)
    data["flags"]["calendly_invite_link"]["gates"]["colour"] = "red"
    assert not Draft202012Validator(schema).is_valid(data)


@pytest.mark.parametrize(("text", "fragment"), [
    ("not json", "not a valid merged config"),
    ('{"$schema": "s", "environment": "moon", "flags": {}}', "environment"),
    ('{"$schema": "s", "environment": "staging", "flags": {"Bad Name": {}}}', "flags"),
])
def test_parse_config_rejects_bad_files(text: str, fragment: str) -> None:
    with pytest.raises(UserError, match=fragment):
        parse_config(text, "build/flags.json")


def test_parse_config_round_trips() -> None:
    config, _ = build_config([make_flag("percentage")], P, schema_ref="s.json")
    assert parse_config(config_text(config), "x") == config


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write_flag(tmp_path, flag_data(stage="beta", actors=["User:7", "Group:gitlab-org"]))
    write_flag(tmp_path, flag_data(name="other_flag", stage="enabled"))
    return tmp_path


@pytest.mark.parametrize(("environment", "boolean"), [("production", False), ("staging", True)])
def test_build_command_writes_the_config(tree: Path, environment: str, boolean: bool) -> None:
    code, out = run("-C", str(tree), "build", "--environment", environment)
    assert code == 0 and "wrote build/flags.json" in out
    config = MergedConfig.model_validate_json((tree / "build/flags.json").read_text())
    assert config.schema_ref == "../schema/flags-config.schema.json"
    assert config.environment == environment
    assert config.flags["calendly_invite_link"].gates.boolean is boolean
    assert config.flags["other_flag"].gates.boolean is True


def test_build_output_is_byte_identical_across_runs(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")  # the build's clock, fixed
    for history in ([], ["--history"]):
        run("-C", str(tree), "build", *history, "-o", "out/deep/flags.json")
        first = (tree / "out/deep/flags.json").read_bytes()
        run("-C", str(tree), "build", *history, "-o", "out/deep/flags.json")
        assert (tree / "out/deep/flags.json").read_bytes() == first
        assert json.loads(first)["$schema"] == "../../schema/flags-config.schema.json"
    assert json.loads(first)["catalog"] == {"as_of": "2026-09-21T14:13:20+00:00",
                                            "history": "none"}  # no git here


def test_build_refuses_an_invalid_tree(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_flag(tree, flag_data(name="broken_flag", stage="beta"))
    code, out = run("-C", str(tree), "build")
    assert code == 1
    assert "flags/broken_flag.yml:" in out and "FO130" in out
    assert "1 error(s)" in capsys.readouterr().err
    assert not (tree / "build").exists()


def test_build_warns_about_percentage_of_time(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_flag(tree, flag_data(name="timed_flag", stage="percentage", actors=["User:1"],
                               percentage={"of": "time", "value": 10}))
    assert run("-C", str(tree), "build")[0] == 0
    assert "timed_flag: 10% of time in production cannot be" in capsys.readouterr().err
    run("-C", str(tree), "build", "--environment", "staging")
    err = capsys.readouterr().err
    assert "cannot be evaluated statically" not in err  # staging: fully on, nothing to evaluate
    assert "warning FO150 timed_flag" in err  # the file's own warning is shown by every build


def test_write_schema(tmp_path: Path) -> None:
    assert run("-C", str(tmp_path), "build", "--write-schema")[0] == 0
    assert (tmp_path / SCHEMA_PATH).read_text(encoding="utf-8") == config_schema_text()


@pytest.mark.parametrize(("actor", "answer", "reason"), [
    ("User:7", "on", "listed actor"),
    ("User:8", "off", "off"),
    ("Group:gitlab-org", "on", "listed actor"),
])
def test_eval_command(tree: Path, actor: str, answer: str, reason: str) -> None:
    run("-C", str(tree), "build")
    plain = run("-C", str(tree), "eval", "calendly_invite_link", "--actor", actor)
    assert plain == (0, f"{answer}\n")
    code, out = run("-C", str(tree), "eval", "calendly_invite_link", "--actor", actor,
                    "--format", "json", "--environment", "production")
    assert code == 0
    assert json.loads(out) == {"flag": "calendly_invite_link", "actor": actor,
                               "environment": "production", "enabled": answer == "on",
                               "reason": reason}


def test_eval_fully_on_in_staging(tree: Path) -> None:
    run("-C", str(tree), "build", "--environment", "staging")
    code, out = run("-C", str(tree), "eval", "calendly_invite_link", "--actor", "User:8",
                    "--format", "json")
    assert code == 0 and json.loads(out)["reason"] == "fully on"


def test_eval_of_an_actor_that_is_not_text_is_a_usage_error(
        tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes that are not UTF-8 on the command line reach Python as a lone surrogate: hashing
    it into a bucket was an internal error (exit 3)."""
    run("-C", str(tree), "build")
    capsys.readouterr()
    actor = os.fsdecode(b"User:\xff")
    assert run("-C", str(tree), "eval", "calendly_invite_link", "--actor", actor) == (2, "")
    err = capsys.readouterr().err
    assert "not UTF-8 text" in err and err.count("\n") == 1


@pytest.mark.parametrize(("setup", "argv", "message"), [
    ("build", ["eval", "no_such_flag", "--actor", "User:1"], "unknown flag 'no_such_flag'"),
    ("", ["eval", "calendly_invite_link", "--actor", "User:1"], "not found; run `flagops build`"),
    ("garbage", ["eval", "calendly_invite_link", "--actor", "User:1"], "not a valid merged"),
    ("build", ["eval", "calendly_invite_link", "--actor", "User:1", "--environment", "staging"],
     "built for production, not staging"),
])
def test_eval_user_errors(tree: Path, capsys: pytest.CaptureFixture[str], setup: str,
                          argv: list[str], message: str) -> None:
    if setup == "build":
        run("-C", str(tree), "build")
    elif setup == "garbage":
        (tree / "build").mkdir()
        (tree / "build/flags.json").write_text("{]")
    capsys.readouterr()
    assert run("-C", str(tree), *argv) == (1, "")
    err = capsys.readouterr().err
    assert err.startswith("flagops: error: ") and message in err and err.count("\n") == 1


def test_every_template_and_asset_is_packaged() -> None:
    """The package data globs cover every file the renderer loads at run time: an install
    that is not editable (CI's judge, the pages job) would otherwise lack a template."""
    import fnmatch
    import tomllib

    project = Path(__file__).parents[1]
    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    for package, globs in config["tool"]["setuptools"]["package-data"].items():
        folder = project / package
        wanted = [path.relative_to(folder).as_posix() for top in ("templates", "static")
                  for path in (folder / top).rglob("*") if path.is_file()
                  and "__pycache__" not in path.parts] if (folder / "templates").is_dir() else []
        missed = [path for path in wanted if not any(fnmatch.fnmatchcase(path, glob)
                                                     and path.count("/") == glob.count("/")
                                                     for glob in globs)]
        assert missed == [], f"{package}: not packaged: {missed}"
