"""The stage machine with plain values: no git, the clock passed in."""

from __future__ import annotations

from typing import Any

import pytest
from gitrepo import EPOCH, flag_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.check import LoadedFlag
from validator.engines import Bucketing
from validator.engines.bucketing import in_share
from validator.findings import Severity
from validator.gates import in_percentage
from validator.loader import load_document
from validator.model import STAGE_EXPOSURE, Environment, Exposure, Stage
from validator.parse import parse_flag
from validator.policy import DEFAULT_POLICY, Policy, SoakMinutes
from validator.rules import check_flag
from validator.transitions import (
    RolloutState,
    Step,
    Verdict,
    apply_override,
    classify,
    judge,
    next_step,
)

HOUR_AGO = EPOCH - 3600
TWO_DAYS_AGO = EPOCH - 2 * 24 * 3600


def loaded(stage: str = "off", **fields: Any) -> LoadedFlag:
    text = flag_yaml("demo", stage, **fields)
    document = load_document(text.encode(), "flags/demo.yml")
    flag, errors = parse_flag(document)
    assert flag is not None, errors
    return LoadedFlag(flag, document)


def rules_of(before: LoadedFlag | None, after: LoadedFlag | None, *,
             landed: int | None = TWO_DAYS_AGO,
             policy: Policy = DEFAULT_POLICY, override: str | None = None,
             staged: bool = False) -> list[str]:
    verdict = Verdict(policy, EPOCH, landed, staged)
    found = judge("demo", before, after, verdict)
    anchor = after or before
    if override is not None and anchor is not None:
        found = apply_override("demo", found, anchor, override, policy)
    return [f"{f.rule}:{f.severity}" for f in found]


BETA: dict[str, Any] = {"actors": ("Project:gitlab-org/gitlab",)}
OUTSIDE_50 = next(f"User:{n}" for n in range(2, 99) if not in_percentage("demo", f"User:{n}", 50))
INSIDE_50 = next(f"User:{n}" for n in range(2, 99) if in_percentage("demo", f"User:{n}", 50))

CASES = [
    # (before, after, expected findings)
    (("off", {}), ("staging", {}), []),
    (("staging", {}), ("beta", BETA), []),
    (("beta", BETA), ("percentage", {**BETA, "percentage": ("actors", 10)}), []),
    # Dropping the listed actors while adding a percentage both widens and narrows.
    (("beta", BETA), ("percentage", {"percentage": ("actors", 10)}), ["FO211:error"]),
    (("percentage", {"percentage": ("actors", 10)}), ("percentage", {"percentage": ("actors", 50)}),
     []),
    (("percentage", {"percentage": ("actors", 50)}),
     ("percentage", {"percentage": ("actors", 100)}), []),
    (("percentage", {"percentage": ("actors", 100)}), ("enabled", {}), []),
    (("enabled", {}), ("enabled", {"default_enabled": True, "cleanup": True}), []),
    (("off", {}), ("enabled", {}), ["FO201:error"]),
    (("off", {}), ("beta", BETA), ["FO201:error"]),
    (("beta", BETA), ("enabled", {}), ["FO201:error"]),
    # Project:gitlab-org/gitlab is bucketed by its Flipper id, unknown here: it may lose the flag.
    (("beta", BETA), ("percentage", {"percentage": ("actors", 50)}), ["FO211:error"]),
    (("beta", {"actors": (INSIDE_50,)}), ("percentage", {"percentage": ("actors", 50)}),
     ["FO202:error"]),
    (("percentage", {"percentage": ("actors", 10)}),
     ("percentage", {"percentage": ("actors", 100)}), ["FO202:error"]),
    (("percentage", {"percentage": ("actors", 10)}),
     ("percentage", {"percentage": ("actors", 25)}), []),
    (("percentage", {"percentage": ("actors", 50)}), ("enabled", {}), ["FO202:error"]),
    (("percentage", {"percentage": ("actors", 10)}), ("percentage", {"percentage": ("time", 10)}),
     ["FO203:error"]),
    (("percentage", {"percentage": ("actors", 100)}),
     ("enabled", {"default_enabled": True, "cleanup": True}), ["FO206:error"]),
    # Rollbacks are legal whatever they skip.
    (("enabled", {"default_enabled": True, "cleanup": True}), ("off", {}), []),
    (("percentage", {"percentage": ("actors", 50)}), ("percentage", {"percentage": ("actors", 10)}),
     []),
    (("beta", {"actors": ("User:1", "User:2")}), ("beta", {"actors": ("User:1",)}), []),
    (("enabled", {"default_enabled": True, "cleanup": True}), ("enabled", {}), []),
    # Adding actors is forward; a metadata-only edit is no step at all.
    (("beta", {"actors": ("User:1",)}), ("beta", {"actors": ("User:1", "User:2")}), []),
    (("beta", BETA), ("beta", {**BETA, "description": "Reworded."}), []),
    (("beta", {"actors": ("User:1",)}), ("beta", {"actors": ("User:2",)}), []),
    (("percentage", {"actors": ("User:1",), "percentage": ("actors", 50)}),
     ("percentage", {"actors": ("User:1", OUTSIDE_50), "percentage": ("actors", 10)}),
     ["FO211:error"]),
    # Listing an actor already inside the percentage's buckets gives nobody anything new.
    (("percentage", {"actors": ("User:1",), "percentage": ("actors", 50)}),
     ("percentage", {"actors": ("User:1", INSIDE_50), "percentage": ("actors", 10)}), []),
    # Lowering the stage while adding an actor is not a rollback (gate integrity, item 8).
    (("percentage", {"actors": ("User:1",), "percentage": ("actors", 10)}),
     ("beta", {"actors": ("User:1", OUTSIDE_50)}), ["FO211:error"]),
    (("enabled", {}), ("beta", {"actors": ("User:1", OUTSIDE_50)}), []),
    # New and deleted flags.
    (None, ("off", {}), []),
    (None, ("staging", {}), ["FO207:error"]),
    (None, ("enabled", {}), ["FO207:error"]),
    # Released from nowhere: only history can show it was released when it was removed.
    (None, ("enabled", {"default_enabled": True, "cleanup": True}), ["FO207:error"]),
    (("off", {}), None, []),
    (("enabled", {"default_enabled": True, "cleanup": True}), None, []),
    (("beta", BETA), None, ["FO208:error"]),
    (("enabled", {}), None, ["FO208:error"]),
    # A base that breaks the file rules (pushed round the gate) is judged by what it gives
    # (gate integrity, the seventh review): stage percentage without a percentage gives its
    # listed actors only, so it is beta, and had no next percentage to stop at.
    (("percentage", BETA), ("percentage", {**BETA, "percentage": ("actors", 100)}),
     ["FO202:error"]),
    (("percentage", BETA), ("enabled", {}), ["FO201:error"]),
    (("percentage", BETA), ("percentage", {**BETA, "percentage": ("actors", 10)}), []),
    (("percentage", {}), ("percentage", {"percentage": ("actors", 10)}), ["FO201:error"]),
    # Beta without actors gives nobody in production: it is staging.
    (("beta", {}), ("percentage", {"percentage": ("actors", 10)}), ["FO201:error"]),
    (("beta", {}), ("beta", BETA), []),
    # A percentage outside stage percentage gives nothing: a rollback from it is no switch
    # between actors and time.
    (("enabled", {"percentage": ("time", 10)}), ("percentage", {"percentage": ("actors", 50)}),
     []),
    (("beta", {**BETA, "percentage": ("time", 50)}),
     ("percentage", {**BETA, "percentage": ("actors", 10)}), []),
    # default_enabled below stage enabled (FO121) releases nothing: the release still needs
    # stage enabled at the base (the eighth review).
    (("percentage", {"percentage": ("actors", 100), "default_enabled": True, "cleanup": True}),
     ("enabled", {"default_enabled": True, "cleanup": True}), ["FO206:error"]),
    (("percentage", {"percentage": ("actors", 100), "default_enabled": True, "cleanup": True}),
     ("enabled", {}), []),
]


def _side(spec: tuple[str, dict[str, object]] | None) -> LoadedFlag | None:
    return None if spec is None else loaded(spec[0], **spec[1])


@pytest.mark.parametrize(("before", "after", "expected"), CASES)
def test_transition_rules(before: tuple[str, dict[str, object]] | None,
                          after: tuple[str, dict[str, object]] | None,
                          expected: list[str]) -> None:
    assert rules_of(_side(before), _side(after)) == expected


def test_soak_time_blocks_a_forward_step_that_comes_too_soon() -> None:
    before, after = loaded("off"), loaded("staging")
    tight = Policy(soak_minutes=SoakMinutes(staging=30))
    assert rules_of(before, after, landed=EPOCH - 29 * 60, policy=tight) == ["FO204:error"]
    assert rules_of(before, after, landed=EPOCH - 30 * 60, policy=tight) == []


def test_default_enabled_waits_a_day_at_enabled() -> None:
    before = loaded("enabled")
    after = loaded("enabled", default_enabled=True, cleanup=True)
    assert rules_of(before, after, landed=EPOCH - 23 * 3600) == ["FO204:error"]
    assert rules_of(before, after, landed=EPOCH - 24 * 3600) == []


def test_missing_history_is_an_error_and_never_a_guess() -> None:
    assert rules_of(loaded("off"), loaded("staging"), landed=None,
                    policy=Policy(soak_minutes=SoakMinutes(staging=1))) == ["FO205:error"]


def test_soak_findings_are_warnings_in_the_pre_commit_hook() -> None:
    found = rules_of(loaded("staging"), loaded("beta", **BETA), landed=EPOCH, staged=True)
    assert found == ["FO204:warning"]


def test_rollback_needs_no_history() -> None:
    assert rules_of(loaded("beta", **BETA), loaded("off"), landed=None) == []


def test_override_turns_errors_into_warnings_quoting_the_reason() -> None:
    verdict = Verdict(DEFAULT_POLICY, EPOCH, HOUR_AGO, False)
    findings = apply_override("demo", judge("demo", loaded("off"), loaded("enabled"), verdict),
                              loaded("enabled"), "incident 42 needs it on", DEFAULT_POLICY)
    assert [f.severity for f in findings] == [Severity.WARNING]
    assert "incident 42 needs it on" in findings[0].message


def test_override_refused_when_the_policy_turns_overrides_off() -> None:
    strict = Policy(allow_overrides=False)
    found = rules_of(loaded("off"), loaded("enabled"), policy=strict, override="please")
    assert found == ["FO201:error", "FO210:warning"]


def test_override_without_errors_is_reported_as_unused() -> None:
    assert rules_of(loaded("off"), loaded("staging"), override="x") == ["FO209:warning"]


def test_policy_may_let_a_type_skip_stages() -> None:
    lenient = Policy(may_skip={"ops": ("staging", "beta", "percentage")})
    assert rules_of(loaded("off", flag_type="ops"), loaded("enabled", flag_type="ops"),
                    policy=lenient) == []
    assert rules_of(loaded("off"), loaded("enabled"), policy=lenient) == ["FO201:error"]


def test_messages_say_what_changed_and_what_is_legal() -> None:
    verdict = Verdict(DEFAULT_POLICY, EPOCH, HOUR_AGO)
    [finding] = judge("calendly_invite_link", loaded("beta", **BETA), loaded("enabled"), verdict)
    assert "calendly_invite_link: beta (1 actor) → enabled skips percentage" in finding.message
    assert "the next legal step is beta → percentage 10% of actors" in finding.message
    assert (finding.line, finding.column) == (12, 8)


def test_no_state_is_on_in_production_while_off_in_staging() -> None:
    for stage, exposure in STAGE_EXPOSURE.items():
        if exposure[Environment.PRODUCTION] is not Exposure.OFF:
            assert exposure[Environment.STAGING] is Exposure.ON, stage
    assert set(STAGE_EXPOSURE) == set(Stage)


# Property tests on the pure judge: generated states, every legal forward step's reverse passes.
_percent = st.sampled_from([10.0, 50.0, 100.0])
_actors = st.lists(st.sampled_from(["User:1", "User:2", "Group:a/b", "Project:a/c"]),
                   min_size=1, max_size=3, unique=True)


@st.composite
def states(draw: st.DrawFn) -> LoadedFlag:
    stage = draw(st.sampled_from(list(Stage)))
    fields: dict[str, object] = {}
    if stage in (Stage.BETA, Stage.PERCENTAGE):
        fields["actors"] = tuple(draw(_actors))
    if stage is Stage.PERCENTAGE:
        fields["percentage"] = ("actors", draw(_percent))
    if stage is Stage.ENABLED and draw(st.booleans()):
        fields.update(default_enabled=True, cleanup=True)
    return loaded(str(stage), **fields)


@settings(max_examples=300, deadline=None)
@given(states(), states())
def test_the_reverse_of_any_legal_forward_step_is_legal(a: LoadedFlag, b: LoadedFlag) -> None:
    forward = classify(RolloutState.of(a.flag), RolloutState.of(b.flag), "flipper")
    if forward is Step.FORWARD and rules_of(a, b) == []:
        # Landed just now, history unknown: a revert is legal at once all the same.
        assert rules_of(b, a, landed=EPOCH) == []
        assert rules_of(b, a, landed=None) == []


@st.composite
def any_states(draw: st.DrawFn) -> LoadedFlag:
    """Every shape of rollout state a flag file parses to, those that break the file rules
    too: any stage with or without actors and a percentage, default_enabled anywhere."""
    stage = draw(st.sampled_from(list(Stage)))
    fields: dict[str, object] = {
        "actors": tuple(draw(st.lists(st.sampled_from(["User:1", "Group:a/b"]), max_size=2,
                                      unique=True)))}
    if draw(st.booleans()):
        fields["percentage"] = (draw(st.sampled_from(["actors", "time"])), draw(_percent))
    if draw(st.booleans()):
        fields.update(default_enabled=True, cleanup=True)
    return loaded(str(stage), **fields)


def _loaded_as(state: RolloutState) -> LoadedFlag:
    percentage = None if state.percentage is None else \
        (state.percentage.of, state.percentage.value)
    return loaded(str(state.stage), actors=tuple(sorted(state.actors)), percentage=percentage,
                  default_enabled=state.default_enabled, cleanup=state.default_enabled)


@settings(max_examples=300, deadline=None)
@given(any_states(), any_states())
def test_a_base_is_judged_by_what_it_gives_not_by_its_label(a: LoadedFlag,
                                                            b: LoadedFlag) -> None:
    """The state the judge steps from opens the same gates as the base's file in every
    environment; it is the file's own unless the file breaks a rule of what a stage holds
    (FO121, FO130, FO131, FO132); and a step from any base is judged as the step from what it
    gives."""
    labelled = RolloutState.of(a.flag)
    reached = labelled.as_reached()
    assert all(reached.gates(env) == labelled.gates(env) for env in Environment)
    assert reached.as_reached() == reached
    broken = {f.rule for f in check_flag(a.flag, a.document, DEFAULT_POLICY)} & {
        "FO121", "FO130", "FO131", "FO132"}
    assert (reached == labelled) is not bool(broken)
    assert rules_of(a, b) == rules_of(_loaded_as(reached), b)


@settings(max_examples=300, deadline=None)
@given(states())
def test_the_named_next_step_is_legal(a: LoadedFlag) -> None:
    text = next_step(RolloutState.of(a.flag), DEFAULT_POLICY)
    assert "→" in text or "removing" in text


def test_a_released_flag_comes_back_only_where_history_shows_its_release() -> None:
    released = loaded("enabled", default_enabled=True, cleanup=True)
    verdict = Verdict(DEFAULT_POLICY, EPOCH, released_before_removal=True)
    assert judge("demo", None, released, verdict) == []
    refused = judge("demo", None, released, Verdict(DEFAULT_POLICY, EPOCH))
    assert [f.rule for f in refused] == ["FO207"] and "history" in refused[0].message


def test_changing_the_type_in_the_same_step_buys_no_skip() -> None:
    """`ops` may skip beta here; a `wip` flag that becomes `ops` while it steps is judged as
    the `wip` flag it was at the base (gate integrity, item 6)."""
    policy = Policy(may_skip={"ops": (Stage.BETA,)})
    staging = loaded("staging", flag_type="wip")
    jump = loaded("percentage", flag_type="ops", percentage=("actors", 10))
    assert rules_of(staging, jump, policy=policy) == ["FO142:error", "FO201:error"]
    assert rules_of(loaded("staging", flag_type="ops"), jump, policy=policy) == []


def test_changing_the_type_in_the_same_step_lifts_no_cap() -> None:
    """A `wip` flag goes no further than staging, and an `experiment` is never default
    enabled: made `beta` in the very change that steps past that, each is judged as the type
    it was at the base; the new type counts from the next change on, and rollbacks pass."""
    wip = loaded("staging", flag_type="wip")
    beta = loaded("beta", flag_type="beta", **BETA)
    found = judge("demo", wip, beta, Verdict(DEFAULT_POLICY, EPOCH, TWO_DAYS_AGO))
    assert [f.rule for f in found] == ["FO142"]
    assert found[0].message == ("demo: staging → beta (1 actor): wip flags go no further "
                                "than staging (its type at the base; the change to beta "
                                "applies from the next change on)")
    assert rules_of(loaded("staging", flag_type="beta"), beta) == []
    assert rules_of(beta, loaded("staging", flag_type="wip")) == []  # a rollback
    experiment = loaded("enabled", flag_type="experiment")
    released = loaded("enabled", flag_type="beta", default_enabled=True, cleanup=True)
    assert rules_of(experiment, released) == ["FO120:error"]
    assert rules_of(loaded("enabled", flag_type="beta"), released) == []


def test_a_base_dated_in_the_future_says_so() -> None:
    findings = judge("demo", loaded("staging"), loaded("beta", **BETA),
                     Verdict(DEFAULT_POLICY, EPOCH, EPOCH + 1440 * 60))
    assert [f.rule for f in findings] == ["FO204"]
    assert "dated 1 d in the future" in findings[0].message and "-1" not in findings[0].message


def _path_actor_inside(share: float, bucketing: Bucketing) -> str:
    """A path-form actor whose written text the rule buckets inside `share` percent."""
    return next(f"Project:group/p{n}" for n in range(999)
                if in_share("demo", f"Project:group/p{n}", share, bucketing))


@pytest.mark.parametrize(("actor", "bucketing", "step"), [
    (INSIDE_50, "flipper", Step.NONE),  # User:<id> is its Flipper id: its bucket is known
    (next(f"User:0{n}" for n in range(2, 99) if in_percentage("demo", f"User:0{n}", 50)),
     "flipper", Step.FORWARD),  # its Flipper id is User:<n>, bucketed elsewhere
    (_path_actor_inside(50, "flipper"), "flipper", Step.FORWARD),  # by an id unknown here
    (_path_actor_inside(50, "flagd"), "flagd", Step.NONE),  # flagd: the targeting key as written
])
def test_listing_an_actor_gives_nothing_only_where_its_bucket_is_known(
        actor: str, bucketing: Bucketing, step: Step) -> None:
    """GitLab's Flipper buckets Project:gitlab-org/gitlab by its numeric Flipper id: whether
    the percentage already reaches it cannot be known from the text, so listing it may give it
    the flag, and it is a forward step (with its soak and freeze windows)."""
    share = {"actors": ("User:1",), "percentage": ("actors", 50)}
    before = loaded("percentage", **share)
    after = loaded("percentage", **{**share, "actors": ("User:1", actor)})
    assert classify(RolloutState.of(before.flag), RolloutState.of(after.flag), bucketing) == step


TIME_100 = {"actors": ("User:1",), "percentage": ("time", 100)}


@pytest.mark.parametrize(("before", "after", "step"), [
    (loaded("percentage", **{**TIME_100, "percentage": ("time", 50)}),
     loaded("percentage", **TIME_100), Step.FORWARD),
    (loaded("percentage", **TIME_100), loaded("enabled"), Step.NONE),  # everyone already
    (loaded("enabled"), loaded("percentage", **TIME_100), Step.NONE),
    (loaded("percentage", **TIME_100), loaded("beta", actors=("User:1",)), Step.ROLLBACK),
])
def test_a_hundred_percent_of_time_reaches_everyone(
        before: LoadedFlag, after: LoadedFlag, step: Step) -> None:
    """Flipper opens a percentage of time at 100 on every check: by what each actor gets, it
    is the boolean gate, and the steps around it are read so."""
    assert classify(RolloutState.of(before.flag), RolloutState.of(after.flag), "flipper") == step
