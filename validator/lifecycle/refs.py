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
    r"Feature(\.|::)(enabled|disabled)\?",
    r"^[ \t]*&?\.(enabled|disabled)\?",
    r"^[ \t]*(enabled|disabled)\?",
    r"push_frontend_feature_flag",
    r"push_force_frontend_feature_flag",
    r"feature_flag_enabled\?",
)
"""GitLab's Ruby methods that read a flag named by their first argument: `Feature.enabled?`
(or `Feature::enabled?`), and the same call broken across lines as RuboCop's dot positions
write a chain (`::Feature` then `  .enabled?(:name`, or `::Feature.` then `  enabled?(:name`):
a line that starts with the method is taken as the call's second half (another receiver's
`enabled?(:name)` there blocks a removal, in review's sight; a missed one would not)."""

_MEMBER = r"(\??\.|\??\.?\[" + "[\"'])"
"""How JavaScript reads a member: `.x`, `?.x`, `["x"]`, `?.["x"]` (no backslash in the bracket:
git's expressions would read it as one, Python's not)."""

GITLAB_PATTERNS: tuple[str, ...] = (
    *(call + _SPACE + r"\(?" + _SPACE + _QUOTED + "{name}" for call in _CALLS),
    "glFeatures" + _MEMBER + "{camelName}",
    r"gon\??\.features" + _MEMBER + "{camelName}",
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
_NAME_FIRST = re.compile(_SPACE + r"\(?" + _SPACE + _QUOTED + f"(?P<name>{_ANY_NAME})")
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
    pattern = template.replace("{name}", re.escape(name)).replace("{camelName}",
                                                                  re.escape(camel(name)))
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
    """The flags each match names. A match references each flag asked about (`named`, whose
    own patterns git was given, `grep_patterns`; or `wanted`, after a search for any name)
    whose own pattern is found in it: found, not read for the first name a template finds
    (`get_flag_demo` of `(get|get_flag)_{name}` named `flag_demo`, and GitLab's
    `Feature.enabled?` read `demo_experiment` where a team's pattern found `demo`), and not
    matched whole (git's longest match of `isOn\\([^;]*"{name}"\\)` runs over two calls on
    one line, the second's flag only at its end). Searched by name, a match none of them is found
    in references every one: never none. Searched for any name, it also names the flag the
    templates' readers find in it (a camelCase name mapped back through the known names; an
    unknown one guessed in snake_case)."""
    known = list(known)
    by_camel = {camel(name): name for name in known}
    readers = _readers(templates)
    found_in = _Finder(templates, named or wanted or ())
    found: list[Reference] = []
    for hit in hits:
        if named:
            names = found_in.names(hit.text) or list(named)
        else:  # what the readers find needs no second look (most matches: one flag each)
            read = _name_in(hit.text, readers, by_camel)
            names = [*([read] if read else []), *found_in.names(hit.text, besides=read)]
        found += [Reference(name, hit.path, hit.line, hit.column) for name in names]
    return sorted(set(found), key=order)


class _Finder:
    """Which of some flags a match holds, by each one's own patterns: only the names the
    match could hold are tried (a name ends where an identifier does, so each identifier's
    tails of the names' lengths are looked up), each one's patterns compiled when first
    tried. Trying every flag's patterns on every match took a minute for `status` at 3,000
    flags, each used once."""

    def __init__(self, templates: Sequence[str], names: Iterable[str]) -> None:
        self._templates = templates
        self._by_form: dict[str, list[str]] = {}
        for name in names:
            for form in dict.fromkeys((name, camel(name))):
                self._by_form.setdefault(form, []).append(name)
        self._sizes = sorted({len(form) for form in self._by_form})
        self._patterns: dict[str, list[re.Pattern[str]]] = {}

    def names(self, text: str, *, besides: str | None = None) -> list[str]:
        tails = {word[-size:] for word in _WORD.findall(text) for size in self._sizes
                 if size <= len(word)}
        candidates = dict.fromkeys(name for tail in sorted(tails)
                                   for name in self._by_form.get(tail, ()) if name != besides)
        if len(text) > MOST_TRIED:
            return list(candidates)
        return [name for name in candidates if any(
            pattern.search(text) for pattern in self._compiled(name))]

    def _compiled(self, name: str) -> list[re.Pattern[str]]:
        if name not in self._patterns:
            self._patterns[name] = [re.compile(_one(template, name))
                                    for template in self._templates]
        return self._patterns[name]


_WORD = re.compile(r"[A-Za-z0-9_]+")
MOST_TRIED = 4096
r"""Characters of one match that each candidate's patterns are tried on. A pattern with a run
(`isOn\([^;]*"{name}"\)`, the README's example) matches as far as a minified line goes, and
Python's search of another flag's pattern over it tried the run from every start: a 1 MB line
took 53 s, growing with its square. A longer match references every flag whose name ends a
word in it: a removal it blocks is one review can read (or pass with Flag-Override), never a
reference missed, never a hang."""


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
    first that is not blank, a comment or in an `=begin`/`=end` block must start with the
    name, after a `(` where the call's line ended in `\\` (else the call reads a flag named
    otherwise, as by a variable, and is no reference, as on one line). The reference is where
    the call starts, as on one line."""
    found: list[Reference] = []
    for opener in openers:
        number, embedded = opener.line + 1, False
        while (line := lines.get((opener.path, number))) is not None and (
                embedded or _BLANK.fullmatch(line) or line.startswith("=begin")):
            embedded = (embedded or line.startswith("=begin")) and not line.startswith("=end")
            number += 1
        named = None if line is None else _NAME_FIRST.match(line)
        if named is not None:
            found.append(Reference(named["name"], opener.path, opener.line, opener.column))
    return sorted(set(found), key=order)


def order(reference: Reference) -> tuple[str, str, int, int]:
    """How references are listed: by flag, then where."""
    return reference.flag, reference.path, reference.line, reference.column
