"""Where code uses a flag: patterns and what their matches mean. Pure: hits in, references out.

The default patterns are GitLab's ways of reading a flag (Ruby checks, the frontend's
`push_frontend_feature_flag`, `glFeatures` with the name in camel case) plus this repository's
own consumer of the merged config (the survey renderer's `FLAG_NAME`); a Ruby call whose flag
is on a later line is found through `GITLAB_OPENERS` and `continued`. Each is an extended
regular expression (as `git grep -E` reads it, and Python too) with `{name}` or `{camelName}`
where the flag goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from validator.git.grep import GrepHit

_ANY_NAME = "[a-z][a-z0-9_]*"
_ANY_CAMEL = "[a-z][a-zA-Z0-9]*"
_BOUNDARY = "([^a-zA-Z0-9_]|$)"
_SPACE = "[ \t\r\f\v]*"
"""Ruby's blanks, as the characters themselves: git's extended expressions read `\\t` in a
bracket as a backslash and a `t`, Python's as a tab. A CRLF file's lines end in `\\r`."""
_QUOTED = "(:[\"']?|[\"'])"
"""How Ruby names a flag: `:name`, `:"name"`, `:'name'`, `"name"` or `'name'`."""
_CALLS: tuple[str, ...] = (
    r"Feature\.enabled\?",
    r"Feature\.disabled\?",
    r"push_frontend_feature_flag",
    r"push_force_frontend_feature_flag",
    r"feature_flag_enabled\?",
)
"""GitLab's Ruby methods that read a flag named by their first argument."""

GITLAB_PATTERNS: tuple[str, ...] = (
    *(call + _SPACE + r"\(?" + _SPACE + _QUOTED + "{name}" for call in _CALLS),
    r"glFeatures\??\.{camelName}",
    r"""FLAG_NAME = ["']{name}["']""",
)
"""A call and its flag on one line, with or without parentheses and blanks between:
`Feature.enabled?(:name`, `::Feature.enabled? :name`, `Feature.enabled?( "name"`."""

GITLAB_OPENERS: tuple[str, ...] = tuple(
    call + _SPACE + r"\(?" + _SPACE + r"\\?" + _SPACE + "(#.*)?$" for call in _CALLS)
"""A call whose flag is on a later line (`Feature.enabled?(` then `  :name, project)`, as
GitLab's line length makes its code write it): git grep matches one line at a time, so the
lines after each such call are read by a second search (`continued`)."""

FOLLOWING = 10
"""How many lines after such a call are read for its flag."""
_BLANK = re.compile(_SPACE + "(#.*)?")
"""A line between a call and its flag that holds nothing, or a comment."""
_NAME_FIRST = re.compile(_SPACE + _QUOTED + f"(?P<name>{_ANY_NAME})")
"""The line that names the call's flag: it starts with the name."""


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


def references(hits: Iterable[GrepHit], templates: Sequence[str], known: Iterable[str],
               named: Sequence[str] | None = None,
               wanted: Sequence[str] | None = None) -> list[Reference]:
    """The flags each match names. Searched by name (`named`: git was given each template
    made for each of them, `grep_patterns`), a match references each whose own pattern
    matches the whole of it, or, should none (git and Python reading a pattern otherwise),
    every one of them: never none. Read for the first name a template finds in it, `get_flag_demo`
    of `(get|get_flag)_{name}` named `flag_demo`, and GitLab's `Feature.enabled?` read
    `demo_experiment` where a team's pattern found `demo`: both removals passed. Searched for
    any name, a match names the flag the templates' readers find in it (a camelCase name
    mapped back through the known names; an unknown one guessed in snake_case), and each of
    `wanted` whose own pattern matches the whole of it."""
    known = list(known)
    by_camel = {camel(name): name for name in known}
    readers = _readers(templates)
    whole = {name: [re.compile(_one(template, name)) for template in templates]
             for name in (named or wanted or ())}
    found: list[Reference] = []
    for hit in hits:
        text = hit.text
        if named:
            names = [name for name in named if _whole(whole[name], text)] or list(named)
        else:
            read = _name_in(text, readers, by_camel)
            names = [*([read] if read else []),
                     *(name for name in wanted or () if (name in text or camel(name) in text)
                       and _whole(whole[name], text))]
        found += [Reference(name, hit.path, hit.line, hit.column) for name in names]
    return sorted(set(found), key=order)


def _whole(patterns: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in patterns)


def _name_in(text: str, readers: Sequence[re.Pattern[str]],
             by_camel: Mapping[str, str]) -> str | None:
    for reader in readers:
        found = reader.match(text)
        groups = {} if found is None else found.groupdict()
        if groups.get("name"):
            return str(groups["name"])
        value = groups.get("camel")
        if value:
            return by_camel.get(value) or re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", value).lower()
    return None


def continued(openers: Iterable[GrepHit],
              lines: Mapping[tuple[str, int], str]) -> list[Reference]:
    """The flag each call in `openers` reads, from the lines after it (by path and line): the
    first that is not blank or a comment must start with the name (else the call reads a
    flag named otherwise, as by a variable, and is no reference, as on one line). The
    reference is where the call starts, as on one line."""
    found: list[Reference] = []
    for opener in openers:
        number = opener.line + 1
        while (line := lines.get((opener.path, number))) is not None and _BLANK.fullmatch(line):
            number += 1
        named = None if line is None else _NAME_FIRST.match(line)
        if named is not None:
            found.append(Reference(named["name"], opener.path, opener.line, opener.column))
    return sorted(set(found), key=order)


def order(reference: Reference) -> tuple[str, str, int, int]:
    """How references are listed: by flag, then where."""
    return reference.flag, reference.path, reference.line, reference.column
