"""Fuzzing the input side (issue 10): the loader, the model, the rules and the transition check.

Arbitrary bytes, near-valid flag documents mutated at random, arbitrary file names and pairs of
generated flags: every outcome is a document or findings with positions (line and column from
1, a catalogued rule), never an exception. The suite runs a bounded number of examples per
target; `python bench/fuzz.py` runs the same `TARGETS` with many more (see README, Fuzzing).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.check import LoadedFlag, check_documents
from validator.document import Document
from validator.events import MAX_DEPTH
from validator.files import MAX_BYTES, path_problem
from validator.findings import RULES, Finding, Severity
from validator.loader import load_or_finding
from validator.model import FlagType, Stage
from validator.policy import Policy, SoakMinutes
from validator.transitions import Verdict, apply_override, judge, judge_unreadable_base


@dataclass(frozen=True, slots=True)
class Target:
    """One fuzz target: what to generate, the property every example must keep, and how many
    examples the bounded run in the test suite takes."""

    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    suite_examples: int


# Strategies: characters, names, scalars, documents ----------------------------------------------

SPECIAL = ":-?[]{},#&*!|>'\"%@`\\\n\t ~.+_0123456789eExXoO"
"""YAML's indicators, quotes, escapes, whitespace and what numbers are made of."""
CHARS = st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=()))
"""Every code point, surrogates included (they become bytes that are not UTF-8)."""
PATHS = st.one_of(
    st.builds(lambda stem: f"flags/{stem}.yml", st.text(CHARS, max_size=12)),
    st.binary(max_size=16).map(os.fsdecode),  # a name that is not UTF-8, as os.listdir gives it
    st.text(CHARS, max_size=24),
)
WORDS = ("off", "staging", "beta", "percentage", "enabled", "true", "false", "null", "~", "yes",
         "0x1F", "0o17", "1e999", "-.inf", ".nan", "13.12", "2024-02-30", "User:1", "@alice",
         "group::a", "https://gitlab.com/x", "http://x", "https://u:p@h/", "actors", "time",
         "\u202e", "\u200b", "\\ud83d", "&a", "*a", "!!str", "<<", "? x", "- x", "{a: 1}", "[1,")
FIELDS = ("name", "description", "type", "group", "milestone", "feature_issue_url",
          "introduced_by_url", "rollout_issue_url", "log_state_changes", "intended_to_rollout_by",
          "owners", "stakeholders", "expectations", "stage", "actors", "percentage",
          "default_enabled", "cleanup_issue_url")
VALID: dict[str, Any] = {
    "name": "demo", "description": "Shows the link.", "type": "beta", "group": "group::a",
    "milestone": "13.12", "rollout_issue_url": "https://gitlab.com/g/p/-/issues/1",
    "expectations": {"expected": "More.", "risks": "Less.", "monitoring": "Errors."},
    "stage": "percentage", "actors": ["User:1", "Project:g/p"],
    "percentage": {"of": "actors", "value": 10}, "default_enabled": False,
}

SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(WORDS), st.text(CHARS, max_size=16), st.integers(), st.floats(),
    st.booleans(), st.none(),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(CHARS, max_size=8)), inner,
                      max_size=4),
    max_leaves=12,
)


@st.composite
def flag_data(draw: st.DrawFn) -> dict[str, Any]:
    """A valid flag with some fields dropped, replaced by anything, or joined by unknown keys."""
    data = dict(VALID)
    for key in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        if draw(st.booleans()):
            data[key] = draw(VALUES)
        else:
            data.pop(key, None)
    data.update(draw(st.dictionaries(st.text(CHARS, max_size=8), VALUES, max_size=2)))
    return data


def _quoted(draw: st.DrawFn, text: str) -> str:
    style = draw(st.sampled_from(("plain", "single", "double", "double-escaped")))
    if style == "plain":
        return text
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return '"' + "".join(f"\\U{ord(c):08X}" for c in text) + '"'


def _scalar(draw: st.DrawFn, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return repr(value)
    return _quoted(draw, str(value))


def _flow(draw: st.DrawFn, value: Any) -> str:
    if isinstance(value, dict):
        items = ", ".join(f"{_quoted(draw, str(k))}: {_flow(draw, v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(draw, item) for item in value) + "]"
    return _scalar(draw, value)


def _block(draw: st.DrawFn, value: Any, indent: int) -> list[str]:
    """Block style for collections, with flow style chosen at random for any nested one."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            head = f"{pad}{_quoted(draw, str(key))}:"
            lines += _nested(draw, head, item, indent)
        return lines or [pad + "{}"]
    if isinstance(value, list):
        lines = []
        for item in value:
            lines += _nested(draw, f"{pad}-", item, indent)
        return lines or [pad + "[]"]
    return [pad + _scalar(draw, value)]


def _nested(draw: st.DrawFn, head: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, dict | list) and item and not draw(st.booleans()):
        return [head, *_block(draw, item, indent + 2)]
    if isinstance(item, dict | list):
        return [f"{head} {_flow(draw, item)}"]
    return [f"{head} {_scalar(draw, item)}"]


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """Up to three edits: characters inserted, a slice deleted or doubled, lines re-indented."""
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        edit = draw(st.sampled_from(("insert", "delete", "double", "indent")))
        if edit == "insert":
            text = text[:at] + draw(st.text(CHARS, min_size=1, max_size=6)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "double":
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at] + draw(st.sampled_from(("  ", "\t", "\n", "\n  ", "- "))) + text[at:]
    return text


@st.composite
def yaml_documents(draw: st.DrawFn) -> bytes:
    data = draw(flag_data())
    text = "\n".join(_block(draw, data, 0)) if draw(st.booleans()) else _flow(draw, data)
    prefix = draw(st.sampled_from(("", "---\n", "%YAML 1.2\n---\n", "# c\n", "\ufeff")))
    text = draw(mutated(prefix + text + draw(st.sampled_from(("\n", "", "\n...\n")))))
    return text.encode("utf-8", "surrogatepass")


# Properties -------------------------------------------------------------------------------------


def assert_located(findings: list[Finding], path: str | None = None) -> None:
    for finding in findings:
        assert isinstance(finding, Finding), finding
        assert finding.rule in RULES, finding
        assert finding.line >= 1 and finding.column >= 1, finding
        # An error may become a warning (an override, soak times with --staged); never back.
        assert finding.severity in (RULES[finding.rule].severity, Severity.WARNING), finding
        assert path is None or finding.path == path, finding


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def check_load(raw: bytes) -> None:
    check_file(raw, "flags/demo.yml")


def check_file(raw: bytes, path: str) -> None:
    """Bytes to a document or one located finding; the document goes on through the model and
    the rules, which also give located findings only."""
    result = load_or_finding(raw, path)
    if isinstance(result, Finding):
        assert_located([result], path)
        assert len(raw) <= MAX_BYTES or result.rule == "FO004", result  # the size cap
        return
    assert isinstance(result, Document) and isinstance(result.data, dict)
    assert len(raw) <= MAX_BYTES and _depth(result.data) <= MAX_DEPTH
    assert all(p.line >= 1 and p.column >= 1 for p in (*result.keys.values(),
                                                        *result.values.values()))
    checked = check_documents([result], Policy())
    assert_located(checked.findings, path)


def check_named(case: tuple[bytes, str]) -> None:
    """Any file name: its findings carry exactly that name, and a control character in it is
    FO010 before anything is read."""
    raw, path = case
    check_file(raw, path)
    problem = path_problem(path)
    assert problem is None or (problem.rule == "FO010" and problem.path == path)


def check_capped(extra: int) -> None:
    """Files around the size cap: over it is FO004, whatever the bytes, and nothing is parsed."""
    raw = b"name: demo\ndescription: " + b"x" * (MAX_BYTES - 24 + extra)
    result = load_or_finding(raw, "flags/demo.yml")
    assert (isinstance(result, Finding) and result.rule == "FO004") == (len(raw) > MAX_BYTES)


# Transitions: pairs of generated flags ----------------------------------------------------------

ACTORS = ("User:1", "User:2", "Project:g/p", "Group:g", "User:`x`|[y](z)", "User:@all",
          "User:<b>x</b>", "Namespace:\u00e9", "User:1")  # last one: listed twice


@st.composite
def flag_files(draw: st.DrawFn) -> bytes:
    """A flag file at any rollout state, legal or not, as the repository would hold it."""
    stage = draw(st.sampled_from(list(Stage)))
    lines = ["name: demo", f"type: {draw(st.sampled_from(list(FlagType)))}", "group: group::a",
             "milestone: '13.12'", f"stage: {stage}",
             f"default_enabled: {str(draw(st.booleans())).lower()}"]
    if draw(st.booleans()):
        lines.append("rollout_issue_url: https://gitlab.com/g/p/-/issues/1")
    if draw(st.booleans()):
        lines.append("expectations: {expected: More., risks: Less., monitoring: Errors.}")
    if draw(st.booleans()):
        lines.append("cleanup_issue_url: https://gitlab.com/g/p/-/issues/2")
    actors = draw(st.lists(st.sampled_from(ACTORS), max_size=4))
    if actors:
        lines.append("actors: [" + ", ".join(f"'{actor}'" for actor in actors) + "]")
    if draw(st.booleans()):
        value = draw(st.sampled_from((0.001, 5, 10, 25, 50, 99.999, 100)) | st.floats(0, 150))
        lines.append(f"percentage: {{of: {draw(st.sampled_from(('actors', 'time')))}, "
                     f"value: {value!r}}}")
    return ("\n".join(lines) + "\n").encode()


POLICIES = st.builds(
    Policy,
    percentage_steps=st.lists(st.floats(0.001, 99.999), max_size=3, unique=True)
    .map(lambda steps: (*sorted(steps), 100.0)),
    soak_minutes=st.builds(SoakMinutes, **{key: st.integers(0, 3000)
                                           for key in SoakMinutes.model_fields}),
    may_skip=st.dictionaries(st.sampled_from(list(FlagType)),
                             st.lists(st.sampled_from(list(Stage)), max_size=3).map(tuple)),
    allow_overrides=st.booleans(),
    require_merge_commits=st.booleans(),
)
NOW = 1_790_000_000
VERDICTS = st.builds(
    Verdict, POLICIES, st.just(NOW), st.none() | st.integers(NOW - 10**7, NOW + 10**6),
    st.booleans(), st.booleans(), st.booleans(),
)


def loaded_flag(raw: bytes) -> tuple[LoadedFlag | None, list[Finding]]:
    """The flag, if the file holds a valid one, and the file's own findings."""
    checked = check_documents([load_or_finding(raw, "flags/demo.yml")], Policy())
    return checked.flags.get("demo"), checked.findings


def check_transition(case: tuple[bytes | None, bytes | None, Verdict, bool]) -> None:
    """Any step between two states, under any policy, clock and override: located findings."""
    before_raw, after_raw, verdict, base_unreadable = case
    before, before_findings = loaded_flag(before_raw) if before_raw else (None, [])
    after, after_findings = loaded_flag(after_raw) if after_raw else (None, [])
    assert_located([*before_findings, *after_findings])
    judged = judge("demo", before, after, verdict)
    assert_located(judged)
    anchor = after or before
    if anchor is not None:  # an override trailer's reason is text from a commit message
        assert_located(apply_override("demo", judged, anchor, "in\x1b[2Jcident\n",
                                      verdict.policy))
    if base_unreadable:
        assert_located(judge_unreadable_base("demo", "flags/demo.yml", after))


MAYBE_FLAGS = st.none() | flag_files()
TRANSITIONS = st.tuples(MAYBE_FLAGS, MAYBE_FLAGS, VERDICTS, st.booleans())

TARGETS: dict[str, Target] = {
    "loader-bytes": Target(st.binary(max_size=600), check_load, 400),
    "loader-yaml": Target(yaml_documents(), check_load, 200),
    "loader-names": Target(st.tuples(yaml_documents() | st.binary(max_size=64), PATHS),
                           check_named, 100),
    "loader-cap": Target(st.integers(-4, 4), check_capped, 9),
    "transitions": Target(TRANSITIONS, check_transition, 150),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_outcome_is_located_findings_or_success(name: str) -> None:
    target = TARGETS[name]
    # Derandomized: the suite runs the same examples every time, so it never flakes; the
    # long run (bench/fuzz.py --seed N) explores.
    run = settings(max_examples=target.suite_examples, deadline=None, database=None,
                   derandomize=True)(given(target.strategy)(target.check))
    run()


@pytest.mark.parametrize("escape", ["\\U00110000", "\\UFFFFFFFF"])
def test_an_escape_beyond_unicode_is_a_finding(escape: str) -> None:
    """Found by bench/fuzz.py: ruamel's pure-Python parser raised on it (exit 3)."""
    check_load(f'name: demo\ndescription: "{escape}"\n'.encode())
    found = load_or_finding(f'name: demo\ndescription: "{escape}"\n'.encode(), "flags/d.yml")
    assert isinstance(found, Finding) and found.rule == "FO001"
    assert (found.line, found.column) == (2, 15)
