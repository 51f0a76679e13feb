"""Proof against the real engine: the flagd export, loaded by the real OpenFeature SDK and the
real flagd provider in file mode, answers exactly as our evaluator with `bucketing = "flagd"`
for 10,000 actors at every stage of the calendly_invite_link rollout. And the pure-Python
murmur3/CBOR that our evaluator uses equals the provider's own mmh3 and cbor2."""

from __future__ import annotations

import importlib.util
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require
from engine_stages import FLAG, ROLLOUT, STAGE_IDS, config_at

from survey_renderer.gate import evaluate
from validator.engines.bucketing import actor_bucket
from validator.engines.murmur import cbor_text_array, murmur3_32
from validator.export import export_text
from validator.model import Percentage, Stage

require(all(importlib.util.find_spec(name) for name in ("openfeature", "mmh3", "cbor2")),
        "needs openfeature-sdk and openfeature-provider-flagd: pip install -e '.[test]'")

from openfeature import api  # noqa: E402
from openfeature.contrib.provider.flagd import FlagdProvider  # noqa: E402
from openfeature.contrib.provider.flagd.config import ResolverType  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402

ACTORS = [f"User:{n}" for n in range(10_000)] + [
    "Project:gitlab-org/gitlab", "Group:gitlab-org/gitlab-com", "User:7", "Project:ü/日本"]


@pytest.fixture
def flagd_client(tmp_path: Path) -> Iterator[Any]:
    """A function: export text → an OpenFeature client backed by the flagd provider reading it."""
    def load(text: str) -> Any:
        path = tmp_path / "flags.json"  # the FILE resolver wants a name ending in .json
        path.write_text(text, encoding="utf-8")
        provider = FlagdProvider(resolver_type=ResolverType.FILE,
                                 offline_flag_source_path=str(path))
        api.set_provider_and_wait(provider)
        return api.get_client()

    yield load
    api.shutdown()


@pytest.mark.parametrize(("label", "stage", "share", "default"), ROLLOUT, ids=STAGE_IDS)
def test_flagd_provider_and_our_evaluator_agree_actor_for_actor(
        flagd_client: Any, label: str, stage: Stage, share: Percentage | None,
        default: bool) -> None:
    config = config_at(stage, share, default)
    client = flagd_client(export_text("flagd", config))
    gates = config.flags[FLAG].gates
    disagree = [actor for actor in ACTORS
                if client.get_boolean_value(FLAG, False, EvaluationContext(actor))
                != evaluate(FLAG, gates, actor, bucketing="flagd").enabled]
    assert disagree == [], f"{label}: {len(disagree)} actors differ, e.g. {disagree[:3]}"


def test_the_two_bucketings_differ_so_the_proof_can_fail(flagd_client: Any) -> None:
    """Flipper's crc32 would fail the proof above: at 50% thousands of actors land apart."""
    config = config_at(Stage.PERCENTAGE, Percentage(of="actors", value=50.0), False)
    client = flagd_client(export_text("flagd", config))
    gates = config.flags[FLAG].gates
    apart = sum(client.get_boolean_value(FLAG, False, EvaluationContext(actor))
                != evaluate(FLAG, gates, actor, bucketing="flipper").enabled
                for actor in ACTORS[:2_000])
    assert apart > 500


def test_an_off_flag_resolves_static_false_and_enabled_static(flagd_client: Any) -> None:
    """Whatever the caller's default: stage off is false for everyone, as the gate takes it."""
    from openfeature.flag_evaluation import Reason

    client = flagd_client(export_text("flagd", config_at(Stage.OFF, None, False)))
    details = client.get_boolean_details(FLAG, True, EvaluationContext("User:1"))
    assert (details.value, details.reason) == (False, Reason.STATIC)
    client = flagd_client(export_text("flagd", config_at(Stage.ENABLED, None, True)))
    assert client.get_boolean_details(FLAG, False, EvaluationContext("User:1")).reason \
        == Reason.STATIC


def test_a_hundred_percent_of_time_is_on_for_everyone_as_flipper_opens_it(
        flagd_client: Any) -> None:
    """Flipper opens a percentage-of-time gate where rand() in [0, 1) < value / 100: at 100 on
    every check, so GitLab gives the flag to everyone, actor or not. Every twin said off."""
    from openfeature.flag_evaluation import Reason

    config = config_at(Stage.PERCENTAGE, Percentage(of="time", value=100.0), False)
    gates = config.flags[FLAG].gates
    assert all(evaluate(FLAG, gates, actor).enabled for actor in [*ACTORS[:100], None])
    client = flagd_client(export_text("flagd", config))
    details = client.get_boolean_details(FLAG, False, EvaluationContext("User:123456"))
    assert (details.value, details.reason) == (True, Reason.STATIC)
    half = config_at(Stage.PERCENTAGE, Percentage(of="time", value=99.999), False)
    assert not evaluate(FLAG, half.flags[FLAG].gates, "User:1").enabled  # random: off


@pytest.mark.parametrize("bucketing", ["flipper", "flagd"])
def test_an_actor_that_is_not_text_is_in_no_share_as_flagd_answers(
        flagd_client: Any, bucketing: Any) -> None:
    """A lone surrogate (bytes that were not UTF-8, decoded with surrogateescape) has no
    bytes to hash: flagd answers its default variant, off. Our evaluator stopped with an
    internal error, and the provider then returned the caller's default."""
    actor = "User:\udcff"
    config = config_at(Stage.PERCENTAGE, Percentage(of="actors", value=100.0), False)
    assert not evaluate(FLAG, config.flags[FLAG].gates, actor, bucketing=bucketing).enabled
    client = flagd_client(export_text("flagd", config))
    assert client.get_boolean_value(FLAG, True, EvaluationContext(actor)) is False


def _texts(count: int) -> Iterator[str]:
    chooser = random.Random(16)
    alphabet = string.printable + "éü日本\U0001f600"
    for _ in range(count):
        yield "".join(chooser.choice(alphabet) for _ in range(chooser.randint(0, 90)))
    yield "x" * 300
    yield "y" * 70_000


def test_our_murmur3_and_cbor_equal_the_providers_own() -> None:
    import cbor2
    import mmh3

    for text in _texts(2_000):
        pair = (FLAG, text)
        assert cbor_text_array(pair) == cbor2.dumps(list(pair), canonical=True)
        assert murmur3_32(cbor_text_array(pair)) == mmh3.hash(cbor_text_array(pair),
                                                                signed=False)


def test_flagd_buckets_spread_evenly() -> None:
    inside = sum(actor_bucket(FLAG, f"User:{n}", "flagd") < 25_000 for n in range(20_000))
    assert 4_500 < inside < 5_500
