"""The files of a new flags repository (`flagops init`): templates shipped as package data, plus
the two that are generated from their one source (the policy's keys from `Policy`, the schema
from the model), so a scaffold never disagrees with the flagops that wrote it. Pure: values in,
{relative path: text} out.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Literal

from validator.model import flag_schema_text
from validator.policy import DEFAULT_POLICY, Policy, SoakMinutes

Host = Literal["gitlab", "github"]
HOOK_REPO = "https://gitlab.com/flagops/flagops"
"""Where flagops is published as a pre-commit hook repository (tags v<version>)."""
BRANCH = "main"
EXAMPLE_FLAG = "flags/example_flag.yml"

_CI_FILE: dict[Host, tuple[str, str]] = {
    "gitlab": (".gitlab-ci.yml", "gitlab-ci.yml"),
    "github": (".github/workflows/flagops.yml", "github-workflow.yml"),
}
_HOST_NAMES: dict[Host, str] = {"gitlab": "GitLab CI", "github": "GitHub Actions"}
_REQUESTS: dict[Host, str] = {"gitlab": "merge request", "github": "pull request"}


def scaffold(host: Host, version: str, hook_repo: str = HOOK_REPO,
             hook_rev: str | None = None) -> dict[str, str]:
    """Every file `flagops init` writes, for one CI host and the flagops `version` to pin
    (the hook at its tag `v<version>`, unless `hook_rev` names another revision)."""
    values = {"version": version, "hook_repo": yaml_scalar(hook_repo),
              "hook_rev": yaml_scalar(hook_rev or f"v{version}"),
              "branch": BRANCH, "host": _HOST_NAMES[host], "host_command": host,
              "request": _REQUESTS[host]}
    ci_path, ci_template = _CI_FILE[host]
    return {
        EXAMPLE_FLAG: _template("example_flag.yml", values),
        "pyproject.toml": policy_toml(),
        "schema/flag.schema.json": flag_schema_text(),
        ".pre-commit-config.yaml": _template("pre-commit-config.yaml", values),
        ci_path: _template(ci_template, values),
        "CODEOWNERS": _template(f"CODEOWNERS.{host}", values),
        "README.md": _template("README.md", values),
        ".gitignore": _template("gitignore", values),
    }


def yaml_scalar(text: str) -> str:
    """text as a YAML value that reads back as exactly text: plain when it is a URL or a path
    as people write them, else double-quoted (a JSON string is one). `--hook-repo` is pasted
    into .pre-commit-config.yaml, where `[mirror`, `&a` or `x: y` would make another file."""
    if _PLAIN.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)


_PLAIN = re.compile(r"[A-Za-z0-9._~/][A-Za-z0-9._~/:@%+=?-]*")
"""What reads back as itself in any YAML context (no space, `#`, `,`, brackets or quotes,
no indicator first)."""


def policy_toml() -> str:
    """An empty [tool.flagops] with every key commented at its default, from `Policy`."""
    lines = ["# The flagops policy for this repository's flags. Every key is optional: the",
             "# commented values are flagops's defaults. A change here is judged by the policy",
             "# before it (FO302) and applies once it has merged.", "[tool.flagops]"]
    for name, field in Policy.model_fields.items():
        default = getattr(DEFAULT_POLICY, name)
        if name == "soak_minutes":
            continue
        lines += _comment(field.description)
        lines.append(f"# {name} = {_toml(default)}" if default is not None else
                     f"# ({name} has no default: unset)")
    lines += ["", "# Minutes a state must have been live before the next forward step.",
              "# [tool.flagops.soak_minutes]"]
    for name, field in SoakMinutes.model_fields.items():
        lines += [*_comment(field.description),
                  f"# {name} = {_toml(getattr(DEFAULT_POLICY.soak_minutes, name))}"]
    return "\n".join(lines) + "\n"


def _comment(text: str | None) -> list[str]:
    return [f"# {line}" for line in _wrap(text or "")]


def _wrap(text: str, width: int = 96) -> list[str]:
    lines, line = [], ""
    for word in text.replace("`", "").split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _toml(value: object) -> str:
    """A default as TOML: numbers, booleans, strings, arrays and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{key} = {_toml(item)}" for key, item in value.items())
        return "{" + (f" {inner} " if inner else "") + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _template(name: str, values: dict[str, str]) -> str:
    text = (files(__package__) / "templates" / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"__{key}__", value)  # a plain YAML scalar, so templates parse
    return text
