"""schema/flag.schema.json: generated from the model, checked in, and in agreement with it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from validator.document import LoadError
from validator.loader import load_document
from validator.model import (
    STAGE_EXPOSURE,
    STAGE_ORDER,
    TYPE_RULES,
    Environment,
    Exposure,
    Flag,
    FlagType,
    Stage,
    flag_schema_text,
)

CliResult = tuple[int, str, str]
ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "schema" / "flag.schema.json"
CASES = Path(__file__).parent / "cases"

# Fixtures on which the two disagree today; strict, so a fix shows up as XPASS.
DISAGREEMENTS: dict[str, str] = {}


def _mapping_fixtures() -> list[Any]:
    """Every fixture that loads as a YAML mapping (the ones a schema can judge)."""
    params = []
    for path in sorted(CASES.rglob("*.yml")):
        try:
            data = load_document(path.read_bytes(), path.name).data
        except LoadError:
            continue
        name = path.relative_to(CASES).as_posix()
        reason = DISAGREEMENTS.get(path.stem)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(data, id=name, marks=marks))
    return params


MAPPING_FIXTURES = _mapping_fixtures()


@pytest.fixture(scope="module")
def schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _model_accepts(data: Any) -> bool:
    try:
        Flag.model_validate(data)
    except ValidationError:
        return False
    return True


# The checked-in file ------------------------------------------------------------------------


def test_checked_in_schema_is_what_the_model_generates() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == flag_schema_text()


def test_schema_check_passes_on_this_repository(run_cli: Callable[..., CliResult]) -> None:
    assert run_cli("-C", str(ROOT), "schema", "--check")[0] == 0


@pytest.mark.parametrize(
    "content",
    ["{}\n", flag_schema_text().replace('"FlagType"', '"Kind"'), None],
    ids=["other", "renamed", "missing"],
)
def test_schema_check_fails_on_a_stale_or_missing_file(
    tmp_path: Path, run_cli: Callable[..., CliResult], content: str | None
) -> None:
    if content is not None:
        (tmp_path / "schema").mkdir()
        (tmp_path / "schema" / "flag.schema.json").write_text(content, encoding="utf-8")
    code, out, _ = run_cli("-C", str(tmp_path), "schema", "--check")
    assert (code, out) == (1, "schema/flag.schema.json is stale: run `flagops schema`\n")


def test_schema_command_writes_the_file_that_check_then_accepts(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    assert run_cli("-C", str(tmp_path), "schema")[:2] == (0, "wrote schema/flag.schema.json\n")
    assert (tmp_path / "schema" / "flag.schema.json").read_text(encoding="utf-8") == (
        flag_schema_text()
    )
    assert run_cli("-C", str(tmp_path), "schema", "--check")[0] == 0


def test_schema_names_the_draft_forbids_unknown_keys_and_checks_dates() -> None:
    schema = json.loads(flag_schema_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(Flag.model_fields)
    assert set(schema["required"]) == {
        "name", "type", "group", "milestone", "stage", "default_enabled"
    }
    assert '"format": "date"' in flag_schema_text()


# Agreement with the model -------------------------------------------------------------------


@pytest.mark.parametrize("data", MAPPING_FIXTURES)
def test_jsonschema_and_the_model_agree_on_every_fixture(
    data: Any, schema_validator: Draft202012Validator
) -> None:
    assert schema_validator.is_valid(data) == _model_accepts(data)


def test_the_agreement_test_sees_both_outcomes() -> None:
    outcomes = [_model_accepts(param.values[0]) for param in MAPPING_FIXTURES]
    assert outcomes.count(True) >= 20 and outcomes.count(False) >= 20


@pytest.mark.parametrize(
    "value",
    ["2024-02-29", "2024-02-30", "2023-02-29", "20240229", "2024-2-9", "2024-W09-4",
     "\uff12\uff10\uff12\uff14-02-29", "2024-02-29T00:00:00"],
)
def test_dates_agree(value: str, schema_validator: Draft202012Validator) -> None:
    data = {"name": "a", "type": "wip", "group": "group::a", "milestone": "1.0", "stage": "off",
            "default_enabled": False, "intended_to_rollout_by": value}
    assert schema_validator.is_valid(data) == _model_accepts(data)


# The facts in the model ---------------------------------------------------------------------


def test_stage_order_and_exposure_table() -> None:
    assert [str(stage) for stage in STAGE_ORDER] == ["off", "staging", "beta", "percentage",
                                                      "enabled"]
    assert [stage.rank for stage in Stage] == [0, 1, 2, 3, 4]
    assert STAGE_EXPOSURE[Stage.OFF][Environment.PRODUCTION] is Exposure.OFF
    assert STAGE_EXPOSURE[Stage.STAGING] == {Environment.STAGING: Exposure.ON,
                                             Environment.PRODUCTION: Exposure.OFF}
    assert STAGE_EXPOSURE[Stage.BETA][Environment.PRODUCTION] is Exposure.ACTORS
    assert STAGE_EXPOSURE[Stage.PERCENTAGE][Environment.PRODUCTION] is (
        Exposure.ACTORS_AND_PERCENTAGE
    )
    assert set(STAGE_EXPOSURE[Stage.ENABLED].values()) == {Exposure.ON}
    assert all(STAGE_EXPOSURE[stage][Environment.STAGING] is Exposure.ON
               for stage in STAGE_ORDER[1:])


def test_gitlab_type_table() -> None:
    assert set(TYPE_RULES) == set(FlagType)
    default_enable = {str(t) for t, rules in TYPE_RULES.items() if rules.may_default_enable}
    assert default_enable == {"beta", "ops", "development"}
    rollout_issue = {str(t) for t, rules in TYPE_RULES.items() if rules.needs_rollout_issue}
    assert rollout_issue == {"gitlab_com_derisk", "beta", "ops", "experiment"}
    assert [str(t) for t, rules in TYPE_RULES.items() if rules.deprecated] == ["development"]
