"""README sections generated from the code's single sources, so the two cannot drift.

`python -m validator.docs` rewrites them in place; a test fails when README.md is stale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from validator.findings import RULES
from validator.model import STAGE_EXPOSURE, Environment
from validator.policy import DEFAULT_POLICY, Policy, SoakMinutes


def rules_table() -> str:
    rows = ["| rule | name | severity | what it means |", "|---|---|---|---|"]
    rows += [f"| `{rule.id}` | {rule.slug} | {rule.severity} | {rule.summary} {rule.help} |"
             for rule in RULES.values()]
    return "\n".join(rows)


def stages_table() -> str:
    rows = ["| stage | staging | production |", "|---|---|---|"]
    rows += [f"| `{stage}` | {where[Environment.STAGING]} | {where[Environment.PRODUCTION]} |"
             for stage, where in STAGE_EXPOSURE.items()]
    return "\n".join(rows)


def policy_table() -> str:
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in Policy.model_fields.items():
        if name == "soak_minutes":
            continue
        default = json.dumps(_plain(getattr(DEFAULT_POLICY, name)))
        rows.append(f"| `{name}` | `{default}` | {field.description or ''} |")
    for name, field in SoakMinutes.model_fields.items():
        default = getattr(DEFAULT_POLICY.soak_minutes, name)
        rows.append(f"| `soak_minutes.{name}` | `{default}` | {field.description or ''} |")
    return "\n".join(rows)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def commands_table() -> str:
    """Every subcommand with its one-line summary, as `flagops --help` lists them."""
    from validator.arguments import command_summaries

    rows = ["| command | what it does | arguments |", "|---|---|---|"]
    rows += [f"| `flagops {name}` | {summary} | {' '.join(f'`{a}`' for a in arguments)} |"
             for name, summary, arguments in command_summaries()]
    return "\n".join(rows)


def rollout_issue_sample() -> str:
    """`flagops issue rollout calendly_invite_link` for this repository, as the README shows it."""
    import io

    from validator.cli import main

    out = io.StringIO()
    root = Path(__file__).resolve().parents[1]
    main(["-C", str(root), "issue", "rollout", "calendly_invite_link"], out=out)
    return f"```markdown\n{out.getvalue()}```"


BENCH_RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results.md"


def bench_table() -> str | None:
    """The last benchmark's table, targets and machine, as bench/run.py wrote them; None where
    there is no bench/ (an installed package), which leaves the README's copy alone."""
    if not BENCH_RESULTS.is_file():
        return None
    return BENCH_RESULTS.read_text(encoding="utf-8").rstrip("\n")


SECTIONS: dict[str, Callable[[], str | None]] = {
    "rules": rules_table, "stages": stages_table, "policy": policy_table,
    "commands": commands_table, "bench": bench_table, "rollout-issue": rollout_issue_sample}


def regenerate(text: str) -> str:
    for name, build in SECTIONS.items():
        body = build()
        if body is not None:
            text = _replace_section(text, name, body)
    return text


def _replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    return pattern.sub(lambda match: f"{match[1]}{body}\n{match[2]}", text)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m validator.docs",
                                     description="Regenerates the README's generated tables.")
    parser.add_argument("readme", nargs="?", default="README.md", type=Path)
    readme: Path = parser.parse_args(argv).readme
    try:
        old = readme.read_text(encoding="utf-8")
    except OSError as error:
        parser.exit(1, f"{parser.prog}: {readme}: {error.strerror}\n")
    new = regenerate(old)
    if new != old:
        readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
