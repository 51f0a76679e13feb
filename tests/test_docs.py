"""Generated README sections and the commands it promises stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from validator.docs import regenerate
from validator.findings import RULES

PROJECT = Path(__file__).resolve().parents[1]
README = (PROJECT / "README.md").read_text(encoding="utf-8")


def test_generated_sections_are_current() -> None:
    assert regenerate(README) == README, "README is stale: run `python -m validator.docs`"


def test_every_rule_is_documented() -> None:
    for rule_id in RULES:
        assert f"| `{rule_id}` |" in README


def test_readme_opens_with_the_install_and_the_test_command() -> None:
    """The README opens with the contributor's two commands, then a new team's two
    (tests/test_first_hour.py checks those)."""
    block = re.search(r"\*\*A contributor to flagops itself\*\*.*?```sh\n(.*?)\n```", README, re.S)
    assert block is not None
    install, test = block[1].splitlines()
    assert install == "pip install -e '.[test]' && flagops validate"
    assert test == "pytest"
    ci = (PROJECT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci, ".ci/run must run the README's test command verbatim"
