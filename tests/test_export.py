"""Exports hold to the real formats: every flagd export validates against flagd's published JSON
Schema (../shared/flagd-schemas, registered locally, no network), our own model refuses what that
schema refuses, and the Flipper export has Flipper's V1 shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import shared
from engine_stages import FLAG, ROLLOUT, config_at
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from validator.build import MergedConfig
from validator.export import (
    ExportError,
    export_document,
    export_text,
    unmatched_actors_warning,
)
from validator.export.flagd import check as check_flagd
from validator.model import Environment, Percentage, Stage

ALL_CONFIGS = [
    pytest.param(config_at(stage, share, default, environment), id=f"{label}-{environment}")
    for label, stage, share, default in ROLLOUT for environment in Environment
]


@pytest.fixture(scope="module")
def flagd_schema() -> Draft7Validator:
    """flags.json with targeting.json beside it in a local registry, no network. Each is
    registered under its $id; targeting.json also as `./targeting.json`, the relative `$ref`
    flags.json uses: in draft-07 a root `$ref` hides its sibling `$id`, so that ref stays
    relative."""
    folder = shared("flagd-schemas")
    resources = {name: Resource.from_contents(json.loads((folder / name).read_text()))
                 for name in ("flags.json", "targeting.json")}
    registry: Registry[Any] = Registry().with_resources(
        [(str(resource.contents["$id"]), resource) for resource in resources.values()]
        + [("./targeting.json", resources["targeting.json"])])
    return Draft7Validator(resources["flags.json"].contents, registry=registry)


@pytest.mark.parametrize("config", ALL_CONFIGS)
def test_every_flagd_export_validates_against_flagds_schema(
        flagd_schema: Draft7Validator, config: MergedConfig) -> None:
    document = export_document("flagd", config)
    assert list(flagd_schema.iter_errors(document)) == []


def test_the_repositorys_own_flags_export_valid(flagd_schema: Draft7Validator,
                                                 run_cli: Any, tmp_path: Path) -> None:
    code, out, err = run_cli("export", "--format", "flagd", "-o", str(tmp_path / "f.json"))
    assert code == 0, err
    assert "as flagd" in out
    document = json.loads((tmp_path / "f.json").read_text())
    assert list(flagd_schema.iter_errors(document)) == []
    assert FLAG in document["flags"]


def test_a_flipper_export_says_which_actors_no_flipper_id_matches(
        run_cli: Any, tmp_path: Path) -> None:
    """Flipper's actor gate holds Flipper ids (Project:278964): the repository's own flag
    lists its project and group by path, which the export writes as they are and Flipper
    matches to nobody. The export says so, naming them; ids, and flagd, which takes the
    targeting key as written, need no word."""
    code, out, err = run_cli("export", "--format", "flipper", "-o", str(tmp_path / "f.json"))
    assert code == 0 and "as flipper" in out
    assert ("flagops: warning: flipper matches an actor by its Flipper id (Kind:<numeric id>, "
            "Project:278964): 2 actor(s) written otherwise get nothing from this export: "
            "Group:gitlab-org/gitlab-com (calendly_invite_link), Project:gitlab-org/gitlab "
            "(calendly_invite_link); write them by id") in err
    by_id = config_at(Stage.BETA, None, False, actors=("User:7", "Project:278964"))
    assert unmatched_actors_warning("flipper", by_id) is None
    assert unmatched_actors_warning("flagd", config_at(Stage.BETA, None, False)) is None
    assert "User:07 (" in (unmatched_actors_warning(
        "flipper", config_at(Stage.BETA, None, False, actors=("User:07",))) or "")


def _mutations() -> list[tuple[str, Any]]:
    """Documents our model must refuse; flagd's schema refuses each of them too."""
    def flag(doc: dict[str, Any]) -> dict[str, Any]:
        return doc["flags"][FLAG]  # type: ignore[no-any-return]

    return [
        ("null metadata", lambda d: flag(d)["metadata"].update(owner=None)),
        ("nested metadata", lambda d: flag(d)["metadata"].update(expectations={"a": "b"})),
        ("list metadata", lambda d: d["metadata"].update(owners=["@alice"])),
        ("unknown state", lambda d: flag(d).update(state="ON")),
        ("string variant", lambda d: flag(d)["variants"].update(on="yes")),
        ("no variants", lambda d: flag(d).update(variants={})),
        ("no state", lambda d: flag(d).pop("state")),
        ("negative weight", lambda d: flag(d)["targeting"]["if"][2]["fractional"][0]
         .__setitem__(1, -1)),
        ("float weight", lambda d: flag(d)["targeting"]["if"][2]["fractional"][0]
         .__setitem__(1, 12.5)),
    ]


@pytest.mark.parametrize(("label", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_our_model_refuses_what_flagds_schema_refuses(
        flagd_schema: Draft7Validator, label: str, mutate: Any) -> None:
    config = config_at(Stage.PERCENTAGE, Percentage(of="actors", value=10.0), False)
    document = copy.deepcopy(export_document("flagd", config))
    mutate(document)
    assert list(flagd_schema.iter_errors(document)), f"{label}: the schema accepts it"
    with pytest.raises(ExportError, match="does not fit flagd's format"):
        check_flagd(document)


def test_flagd_percentage_is_fractional_over_100000_buckets() -> None:
    config = config_at(Stage.PERCENTAGE, Percentage(of="actors", value=12.345), False)
    flag = export_document("flagd", config)["flags"][FLAG]
    listed, on, share = flag["targeting"]["if"]
    assert listed == {"in": [{"var": "targetingKey"}, sorted(listed["in"][1])]}
    assert (on, share) == ("on", {"fractional": [["on", 12345], ["off", 87655]]})
    assert (flag["state"], flag["defaultVariant"]) == ("ENABLED", "off")


def test_flagd_off_is_static_off_and_enabled_is_static_on() -> None:
    """Stage off is false for everyone, as the gate takes it: exported DISABLED, it gave each
    caller its own default (true for some), so a step back from staging opened the flag to
    them (the fifth review)."""
    off = export_document("flagd", config_at(Stage.OFF, None, False))["flags"][FLAG]
    assert (off["state"], off["defaultVariant"], "targeting" in off) == ("ENABLED", "off", False)
    on = export_document("flagd", config_at(Stage.ENABLED, None, True))["flags"][FLAG]
    assert (on["state"], on["defaultVariant"], "targeting" in on) == ("ENABLED", "on", False)
    assert on["metadata"] == {"stage": "enabled", "default_enabled": True}


@pytest.mark.parametrize(("label", "stage", "share", "expected"), [
    ("beta", Stage.BETA, None, {"boolean": None, "percentage_of_actors": None}),
    ("12.345%", Stage.PERCENTAGE, Percentage(of="actors", value=12.345),
     {"boolean": None, "percentage_of_actors": "12.345"}),
    ("50% time", Stage.PERCENTAGE, Percentage(of="time", value=50.0),
     {"percentage_of_time": "50", "percentage_of_actors": None}),
    ("enabled", Stage.ENABLED, None, {"boolean": "true", "actors": []}),
])
def test_flipper_export_has_flippers_v1_shape(label: str, stage: Stage,
                                              share: Percentage | None,
                                              expected: dict[str, Any]) -> None:
    document = json.loads(export_text("flipper", config_at(stage, share, False)))
    assert document["version"] == 1
    feature = document["features"][FLAG]
    assert set(feature) == {"boolean", "groups", "actors", "percentage_of_actors",
                            "percentage_of_time", "expression"}
    assert (feature["groups"], feature["expression"]) == ([], None)
    assert {key: feature[key] for key in expected} == expected


def test_export_is_deterministic() -> None:
    config = config_at(Stage.BETA, None, False)
    assert export_text("flagd", config) == export_text("flagd", config)
    assert export_text("flagd", config).endswith("}\n")


def _actor_in_bucket(wanted: int) -> str:
    """A `User:N` whose Flipper bucket for FLAG is `wanted`."""
    from validator.gates import bucket

    return next(f"User:{n}" for n in range(10_000_000) if bucket(FLAG, f"User:{n}") == wanted)


@pytest.mark.parametrize(("value", "edge"), [
    (0.0004, 0), (12.3454, 12345), (99.9994, 99999), (0.0015, 1), (33.3335, 33333)])
def test_flipper_export_lets_in_exactly_whom_the_flag_file_does(value: float, edge: int) -> None:
    # Flipper reads the stored text back as a float (Typecast.to_percentage, no rounding) and
    # lets an actor in when crc32 % 100000 < percentage * 1000, as `flagops eval` does: a
    # percentage rounded to three decimals in the export moved the actor on the edge.
    from validator.gates import in_percentage

    actor = _actor_in_bucket(edge)
    document = json.loads(export_text("flipper", config_at(
        Stage.PERCENTAGE, Percentage(of="actors", value=value), False, actors=())))
    stored = document["features"][FLAG]["percentage_of_actors"]
    assert in_percentage(FLAG, actor, float(stored)) == in_percentage(FLAG, actor, value)
    assert float(stored) == value and "e" not in stored.lower()
