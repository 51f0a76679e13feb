"""FlagopsProvider through the real openfeature-sdk client: OpenFeature's reasons and errors, a
rebuilt config picked up without a restart; and the policy's `bucketing` in `flagops eval`."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require
from engine_stages import ACTORS, FLAG

from validator.build import FlagState, MergedConfig, config_text
from validator.engines.bucketing import in_share
from validator.gates import stage_gates
from validator.model import Environment, Percentage, Stage

require(importlib.util.find_spec("openfeature") is not None,
        "needs openfeature-sdk: pip install -e '.[openfeature,test]'")

from openfeature import api  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.exception import ErrorCode  # noqa: E402
from openfeature.flag_evaluation import Reason  # noqa: E402

from validator.openfeature_provider import FlagopsProvider  # noqa: E402

PRODUCTION = Environment.PRODUCTION
TEN = Percentage(of="actors", value=10.0)


def _state(stage: Stage, share: Percentage | None = None) -> FlagState:
    return FlagState(stage=stage, default_enabled=False,
                     gates=stage_gates(stage, ACTORS, share, PRODUCTION))


def _write(path: Path, **flags: FlagState) -> None:
    """As `flagops build` does: a new file renamed over the old one."""
    config = MergedConfig(schema_ref="", environment=PRODUCTION, flags=flags)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(config_text(config), encoding="utf-8")
    os.replace(temporary, path)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    path = tmp_path / "flags.json"
    _write(path, **{FLAG: _state(Stage.PERCENTAGE, TEN), "released": _state(Stage.ENABLED),
                    "dormant": _state(Stage.OFF), "staged": _state(Stage.STAGING)})
    api.set_provider_and_wait(FlagopsProvider(path))
    yield api.get_client(), path
    api.shutdown()


def _details(client: Any, flag: str, actor: str | None, default: bool = False) -> Any:
    return client.get_boolean_details(flag, default, EvaluationContext(actor))


def _actor(inside: bool) -> str:
    return next(f"User:{n}" for n in range(10_000)
                if in_share(FLAG, f"User:{n}", 10.0) is inside)


@pytest.mark.parametrize(("flag", "actor", "value", "reason", "variant"), [
    (FLAG, "Project:gitlab-org/gitlab", True, Reason.TARGETING_MATCH, "on"),
    (FLAG, _actor(inside=True), True, Reason.SPLIT, "on"),
    (FLAG, _actor(inside=False), False, Reason.SPLIT, "off"),
    (FLAG, None, False, Reason.DEFAULT, "off"),
    ("released", "User:1", True, Reason.STATIC, "on"),
    ("staged", "User:1", False, Reason.STATIC, "off"),
    ("dormant", "User:1", False, Reason.STATIC, "off"),
])
def test_resolution_details(client: Any, flag: str, actor: str | None, value: bool,
                            reason: Reason, variant: str | None) -> None:
    details = _details(client[0], flag, actor)
    assert (details.value, details.reason, details.variant, details.error_code) \
        == (value, reason, variant, None)


def test_unknown_flag_is_flag_not_found(client: Any) -> None:
    details = _details(client[0], "no_such_flag", "User:1", default=True)
    assert (details.value, details.error_code, details.reason) \
        == (True, ErrorCode.FLAG_NOT_FOUND, Reason.ERROR)


def test_a_non_boolean_read_is_a_type_mismatch(client: Any) -> None:
    details = client[0].get_string_details(FLAG, "x", EvaluationContext("User:1"))
    assert (details.value, details.error_code) == ("x", ErrorCode.TYPE_MISMATCH)


def test_metadata_carries_stage(client: Any) -> None:
    metadata = _details(client[0], FLAG, "User:1").flag_metadata
    assert metadata == {"stage": "percentage", "default_enabled": False}


def test_a_rebuilt_config_is_picked_up_without_a_restart(client: Any) -> None:
    reader, path = client
    outside = _actor(inside=False)
    assert _details(reader, FLAG, outside).value is False
    _write(path, **{FLAG: _state(Stage.ENABLED)})
    details = _details(reader, FLAG, outside)
    assert (details.value, details.reason) == (True, Reason.STATIC)
    assert _details(reader, "released", "User:1").error_code == ErrorCode.FLAG_NOT_FOUND


def test_a_config_written_in_place_with_its_size_and_mtime_kept_is_picked_up(
        client: Any) -> None:
    """`cp -p` (or `rsync -t`) of a build of the same size over the deployed one keeps the
    inode, the size and, set back, the mtime: only the change time tells them apart."""
    reader, path = client
    outside = _actor(inside=False)
    assert _details(reader, FLAG, outside).value is False
    before = path.stat()
    wider = path.read_bytes().replace(b'"percentage_of_actors": 10.0',
                                      b'"percentage_of_actors": 99.0')
    assert len(wider) == before.st_size and wider != path.read_bytes()
    with open(path, "r+b") as stream:  # in place: the inode stays
        stream.write(wider)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    assert _details(reader, FLAG, outside).value is True


def test_flagops_eval_uses_the_policys_bucketing(tmp_path: Path, run_cli: Any) -> None:
    (tmp_path / "flags").mkdir()
    config = MergedConfig(schema_ref="", environment=PRODUCTION,
                          flags={FLAG: _state(Stage.PERCENTAGE, Percentage(of="actors",
                                                                           value=50.0))})
    (tmp_path / "build").mkdir()
    (tmp_path / "build/flags.json").write_text(config_text(config))
    actor = next(f"User:{n}" for n in range(1_000)
                 if in_share(FLAG, f"User:{n}", 50.0, "flagd")
                 and not in_share(FLAG, f"User:{n}", 50.0, "flipper"))
    answers = []
    for bucketing in ("flipper", "flagd"):
        (tmp_path / "pyproject.toml").write_text(f'[tool.flagops]\nbucketing = "{bucketing}"\n')
        code, out, err = run_cli("-C", str(tmp_path), "eval", FLAG, "--actor", actor)
        assert code == 0, err
        answers.append(out)
    assert answers == ["off\n", "on\n"]


def test_a_flag_at_stage_off_is_false_whatever_the_callers_default(client: Any) -> None:
    """Stage off is false for everyone, as the gate takes it: resolved DISABLED it gave each
    caller its own default, so a caller whose default is true had the flag on at `off`, and
    the step back from staging (a rollback to the gate) opened it (the fifth review)."""
    details = _details(client[0], "dormant", "User:1", default=True)
    assert (details.value, details.variant) == (False, "off")


@pytest.mark.parametrize("key", [42, 3.5, b"User:1"], ids=["int", "float", "bytes"])
@pytest.mark.parametrize("flag", [FLAG, "released", "staged"])
def test_a_targeting_key_that_is_not_text_is_no_actor(client: Any, key: Any,
                                                      flag: str) -> None:
    """A user id passed as a number: bucketing it raised an AttributeError, and the provider
    answered the caller's default (true here) where flagd answers false."""
    details = client[0].get_boolean_details(flag, True, EvaluationContext(key))
    expected = _details(client[0], flag, None, default=True)
    assert (details.value, details.reason, details.error_code) \
        == (expected.value, expected.reason, None)
    assert details.value is (flag == "released")
