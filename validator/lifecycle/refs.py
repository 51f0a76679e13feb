"""Where code uses a flag: patterns and what their matches mean. Pure: hits in, references out.

The default patterns are GitLab's ways of reading a flag (Ruby checks, the frontend's
`push_frontend_feature_flag`, `glFeatures` with the name in camel case) plus this repository's
own consumer of the merged config (the survey renderer's `FLAG_NAME`). Each is an extended
regular expression (as `git grep -E` reads it, and Python too) with `{name}` or `{camelName}`
where the flag goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from validator.git.grep import GrepHit

GITLAB_PATTERNS: tuple[str, ...] = (
    r"Feature\.enabled\?\(:{name}",
    r"Feature\.disabled\?\(:{name}",
    r"push_frontend_feature_flag\(:{name}",
    r"push_force_frontend_feature_flag\(:{name}",
    r"feature_flag_enabled\?\(:{name}",
    r"glFeatures\.{camelName}",
    r"""FLAG_NAME = ["']{name}["']""",
)
_ANY_NAME = "[a-z][a-z0-9_]*"
_ANY_CAMEL = "[a-z][a-zA-Z0-9]*"
_BOUNDARY = "([^a-zA-Z0-9_]|$)"


def camel(name: str) -> str:
    """GitLab's `name.camelize(:lower)`: `my_flag_v2` is `myFlagV2`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def grep_patterns(templates: Sequence[str], names: Sequence[str] | None) -> list[str]:
    """Extended regular expressions for git grep: any flag name (None), or just these."""
    if names is None:
        return [t.replace("{name}", _ANY_NAME).replace("{camelName}", _ANY_CAMEL)
                for t in templates]
    found = []
    for template in templates:
        for name in names:
            found.append(_one(template, name))
    return found


def _one(template: str, name: str) -> str:
    """The name itself; where it ends the pattern, it must end the identifier too."""
    pattern = template.replace("{name}", re.escape(name)).replace("{camelName}", camel(name))
    ends = template.endswith("{name}") or template.endswith("{camelName}")
    return pattern + _BOUNDARY if ends else pattern


@dataclass(frozen=True, slots=True)
class Reference:
    flag: str
    path: str
    line: int
    column: int

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def _readers(templates: Sequence[str]) -> list[re.Pattern[str]]:
    return [re.compile(t.replace("{name}", f"(?P<name>{_ANY_NAME})")
                       .replace("{camelName}", f"(?P<camel>{_ANY_CAMEL})")) for t in templates]


def references(hits: Iterable[GrepHit], templates: Sequence[str],
               known: Iterable[str]) -> list[Reference]:
    """The flag each match names (a camelCase name is mapped back through the known names;
    an unknown one is guessed in snake_case)."""
    by_camel = {camel(name): name for name in known}
    readers = _readers(templates)
    found: list[Reference] = []
    for hit in hits:
        name = _name_in(hit.text, readers, by_camel)
        if name is not None:
            found.append(Reference(name, hit.path, hit.line, hit.column))
    return sorted(set(found), key=lambda r: (r.flag, r.path, r.line, r.column))


def _name_in(text: str, readers: Sequence[re.Pattern[str]],
             by_camel: Mapping[str, str]) -> str | None:
    for reader in readers:
        found = reader.match(text)
        if found is None:
            continue
        if found.groupdict().get("name"):
            return found["name"]
        value = found["camel"]
        return by_camel.get(value) or re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", value).lower()
    return None
