"""Fuzzing the output and configuration side (issue 10): report writers, the plan, the merged
config and the policy.

Reports with arbitrary paths (bytes that are not UTF-8 included) and messages hold no raw unsafe
character (`escape`'s notion), keep one finding per line in line formats, and parse as JSON or
XML; plans of generated steps render as escaped Markdown and parseable JSON; arbitrary merged
configs and pyproject.toml bytes end in a value or the one user error, nothing else.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fuzz import CHARS, MAYBE_FLAGS, PATHS, VALUES, VERDICTS, Target, loaded_flag, mutated

from validator.build import MergedConfig, parse_config
from validator.errors import UserError
from validator.findings import RULES, Finding, Severity
from validator.plan import plan, to_json, to_markdown
from validator.policy import Policy, PolicyError, policy_from_bytes
from validator.reports import FORMATS, Report, renderer
from validator.reports.escape import escape
from validator.transitions import Verdict, judge

# Reports ----------------------------------------------------------------------------------------

TEXTS = st.text(CHARS, max_size=40)
FINDINGS = st.builds(
    Finding, PATHS, st.integers(1, 10**9), st.integers(1, 10**6), st.sampled_from(list(Severity)),
    st.sampled_from(list(RULES)), TEXTS, st.none() | TEXTS,
)
REPORTS = st.builds(
    Report, st.lists(FINDINGS, max_size=6), st.lists(st.tuples(PATHS, TEXTS), max_size=3),
    st.lists(TEXTS, max_size=2),
)


def unsafe(text: str) -> list[str]:
    """Characters that `escape` would have replaced, other than the newlines between lines."""
    return [char for char in set(text) if char != "\n" and escape(char) != char]


def check_report(report: Report) -> None:
    for name in FORMATS:
        rendered = renderer(name)(report)
        assert unsafe(rendered) == [], (name, unsafe(rendered))
        rendered.encode("utf-8")  # no lone surrogate: the report can be written
        _FORMAT_CHECKS[name](rendered, report)


def _line_format(rendered: str, report: Report) -> None:
    assert rendered.count("\n") == len(report.findings)
    assert rendered == "" or rendered.endswith("\n")


def _json(rendered: str, report: Report) -> None:
    rows = json.loads(rendered)
    assert len(rows) == len(report.findings)
    exact = [f for f in report.findings if not unsafe_surrogates(f.path + f.message)]
    assert {(f.path, f.message) for f in exact} <= {(r["path"], r["message"]) for r in rows}


def unsafe_surrogates(text: str) -> bool:
    return re.search(r"[\ud800-\udfff]", text) is not None


def _codequality(rendered: str, report: Report) -> None:
    issues = json.loads(rendered)
    assert len(issues) == len(report.findings)
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def _sarif(rendered: str, report: Report) -> None:
    assert len(json.loads(rendered)["runs"][0]["results"]) == len(report.findings)


def _junit(rendered: str, report: Report) -> None:
    root = ET.fromstring(rendered.encode("utf-8"))
    failed = {f.path for f in report.findings if f.severity is Severity.ERROR}
    assert int(root.attrib["failures"]) == len(failed)


_FORMAT_CHECKS = {"text": _line_format, "github": _line_format, "json": _json,
                  "codequality": _codequality, "sarif": _sarif, "junit": _junit}

# Plans ------------------------------------------------------------------------------------------

_MARKUP = re.compile(r"\\.|([<>\[\]`@*|])")
"""A backslash escape, or a metacharacter that is not escaped (group 1)."""


_TRUSTED_MARKUP = ("**blocked**", "`git revert -m 1 <merge-sha>`")
"""Markup the plan writes itself, around the repository's text."""


def live_markup(line: str) -> list[str]:
    return [found[1] for found in _MARKUP.finditer(line) if found[1]]


def check_plan(case: tuple[bytes | None, bytes | None, Verdict, bool]) -> None:
    """A plan of any step renders as Markdown whose repository text is inert, and as JSON."""
    before_raw, after_raw, verdict, label_hostile = case
    before, _ = loaded_flag(before_raw) if before_raw else (None, [])
    after, _ = loaded_flag(after_raw) if after_raw else (None, [])
    findings = judge("demo", before, after, verdict)
    label = "a`<b>|[c](d)@e\x1b" if label_hostile else "main → HEAD"
    plans = plan({"demo": before} if before else {}, {"demo": after} if after else {},
                 findings, verdict.policy)
    markdown = to_markdown(plans, label)
    assert unsafe(markdown) == []
    for line in markdown.splitlines():
        _check_markdown_line(line)
    assert json.loads(to_json(plans, label))["compared"] == label


_URL_CODE = re.compile(r"`(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^`\s|\\]*`"
                       r"|`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+`")
"""An URL or address in repository text, shown as code (markdown_text), where it links
nothing: the backticks are flagops's, and the span holds no backtick, `|` or newline."""


def _check_markdown_line(line: str) -> None:
    """Table rows have their three columns; text lines no live markup of their own. Code spans
    (commands, the flag's name) are checked by their fences instead."""
    line = _URL_CODE.sub("", line)
    if line.startswith("|"):
        assert live_markup(line) == ["|"] * 4, line
    elif line.startswith(("- `", "### `")):
        fence = re.match(r"(?:- |### )(`+)", line)
        assert fence is not None and line.count(fence[1]) >= 2, line
    else:
        text = line.removeprefix("- [ ] ")
        for ours in _TRUSTED_MARKUP:
            text = text.replace(ours, "")
        assert live_markup(text) == [], line


# Merged configs and policies --------------------------------------------------------------------

GATES = st.fixed_dictionaries({
    "boolean": st.booleans() | VALUES, "actors": st.lists(st.sampled_from(("User:1", "x")))
    | VALUES, "percentage_of_actors": st.none() | st.floats() | VALUES,
    "percentage_of_time": st.none() | st.floats(-1, 101),
})
STATES = st.fixed_dictionaries({"stage": st.sampled_from(("off", "beta", "on")) | VALUES,
                                "default_enabled": st.booleans() | VALUES, "gates": GATES})
CONFIGS = st.fixed_dictionaries({
    "$schema": st.text(CHARS, max_size=8) | VALUES,
    "environment": st.sampled_from(("staging", "production", "prod")) | VALUES,
    "flags": st.dictionaries(st.sampled_from(("demo", "Demo", "a_b")) | TEXTS, STATES,
                             max_size=3) | VALUES,
}, optional={"extra": VALUES})


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    text = json.dumps(draw(CONFIGS), ensure_ascii=draw(st.booleans()), allow_nan=True)
    return str(draw(mutated(text)))


def check_config(text: str) -> None:
    try:
        assert isinstance(parse_config(text, "build/flags.json"), MergedConfig)
    except UserError as error:
        assert type(error) is UserError and str(error)


def _toml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else \
        str(value).lower()


POLICY_KEYS = ("percentage_steps", "may_skip", "allow_overrides", "require_merge_commits",
               "invite_link_hosts", "soak_minutes", "bogus")


@st.composite
def pyproject_bytes(draw: st.DrawFn) -> bytes:
    """A pyproject.toml whose [tool.flagops] holds documented and other keys, then mutated."""
    lines = ["[project]", 'name = "x"', draw(st.sampled_from(("[tool.flagops]", "[tool]")))]
    for key in draw(st.lists(st.sampled_from(POLICY_KEYS), max_size=4)):
        value = draw(st.sampled_from(([10, 50, 100], [5], True, "x", 3, {"beta": 1}))
                     | st.lists(st.floats(allow_nan=False) | st.integers(), max_size=3))
        lines.append(f"{key} = {_toml_value(value)}")
    if draw(st.booleans()):
        lines += ["[tool.flagops.soak_minutes]", f"beta = {draw(st.integers(-5, 99))}"]
    text = draw(mutated("\n".join(lines) + "\n"))
    return text.encode("utf-8", "surrogatepass")


def check_policy(raw: bytes) -> None:
    try:
        assert isinstance(policy_from_bytes(raw), Policy)
    except PolicyError as error:
        finding = error.finding
        assert finding.rule == "FO301" and finding.line >= 1 and finding.column >= 1, finding


TARGETS: dict[str, Target] = {
    "reports": Target(REPORTS, check_report, 150),
    "plan": Target(st.tuples(MAYBE_FLAGS, MAYBE_FLAGS, VERDICTS, st.booleans()), check_plan,
                   100),
    "config": Target(config_texts() | st.text(CHARS, max_size=80), check_config, 150),
    "policy": Target(pyproject_bytes() | st.binary(max_size=200), check_policy, 150),
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_output_is_escaped_and_every_input_a_value_or_user_error(name: str) -> None:
    target = TARGETS[name]
    # Derandomized: the suite runs the same examples every time, so it never flakes; the
    # long run (bench/fuzz.py --seed N) explores.
    run = settings(max_examples=target.suite_examples, deadline=None, database=None,
                   derandomize=True)(given(target.strategy)(target.check))
    run()
