"""What a policy's `reference_patterns` may say. git grep finds the matches and Python tells
which flag each names (validator/lifecycle/refs.py), so a pattern must read alike in both,
and each match must name one flag, whole: held here to a small syntax, with rules on where
the placeholder stands. Pure."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{(?:name|camelName)\}")
_AFTER = r"(?![*+?]|\{[0-9])"
"""Not repeated again: `x{1}{1}` is two repetitions git reads and Python refuses."""
_COMMON_SYNTAX = re.compile(
    rf"""(?:[^\\\[\](){{}}*+?|^$]          # a character that stands for itself
         |\\[.\[\](){{}}*+?|^$\\/]         # an escaped special (not GNU's word edges)
         |\[\^?\]?[^\]\\\[]*\]          # a bracket of characters, no backslash or class
         |\((?!\?)|\)|\||\^|\$          # a group (not Python's `(?`), alternation, anchors
         |[*+?]{_AFTER}               # one repetition, not two in a row
         |\{{[0-9]{{1,3}}(?:,[0-9]{{0,3}})?\}}{_AFTER}   # a bound git compiles (≤ 255)
         |\{{(?:name|camelName)\}}{_AFTER})*""", re.VERBOSE)
"""The extended regular expressions git grep and Python's `re` read alike: where the two read
a pattern otherwise (`[[:space:]]`, `\\<`, `\\d`, a backslash in a bracket, `x{1}{1}`), a
match was dropped without a word, and the flag removed though code read it."""
_TOKEN = re.compile(r"\\.|\[\^?\]?[^\]]*\]|\{[0-9,]+\}|\{(?:name|camelName)\}|.")
_REPEAT = re.compile(r"[*+?]|\{[0-9,]+\}")
_OPTIONAL = re.compile(r"[*?]|\{0")
SYNTAX = ("characters, escaped punctuation (\\.), brackets without classes or backslashes "
          "([ab_]), groups, |, ^, $ and single repetitions (*, +, ?, {m,n} up to 255)")


def problem(pattern: str) -> str | None:
    """Why git grep and flagops cannot both read `pattern` as a reference, or None."""
    if len(PLACEHOLDER.findall(pattern)) != 1:
        return "must hold exactly one {name} or {camelName}, where the flag's name goes"
    if _COMMON_SYNTAX.fullmatch(pattern) is None:
        return f"uses syntax git grep -E and Python read otherwise; write it with {SYNTAX}"
    tokens = _TOKEN.findall(pattern)
    for check in (_shape_problem, _end_problem, _run_problem, _brackets_problem):
        found = check(tokens)
        if found is not None:
            return found
    try:
        re.compile(PLACEHOLDER.sub("x", pattern))
    except re.error as error:
        return f"not a regular expression: {error}"
    return None


def _shape_problem(tokens: list[str]) -> str | None:
    """The placeholder outside groups and top-level alternatives (a match without it, `isOn(`
    for `isOn\\((:{name})?`, named no flag), and no group repeated that holds a repetition
    or alternatives (`([a-z]+_?)*`: Python's matching backtracked for minutes on one line)."""
    opened: list[bool] = []  # for each open group: does it hold a repetition or a `|`?
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if PLACEHOLDER.fullmatch(token) and opened:
            return "{name} must stand outside parentheses: a match must name the flag"
        if token == "|" and not opened:
            return "must not offer alternatives at its top level (a|b): group them, (a|b)"
        if token == "(":
            opened.append(False)
        elif token == ")" and opened:
            busy = opened.pop()
            if busy and _REPEAT.fullmatch(following):
                return ("must not repeat a group that holds a repetition or alternatives "
                        "((a+)*, (a|b)+): matching it can take exponential time")
            if opened:
                opened[-1] = opened[-1] or busy
        elif opened and (token == "|" or _REPEAT.fullmatch(token)):
            opened[-1] = True
    return None


def _run_problem(tokens: list[str]) -> str | None:
    """No unbounded run of any character (`.*`, `.+`, `.{2,}`): each search scans the rest of
    the line from every place it could start, and a minified bundle's one long line took
    minutes; a bracket of what the run may not cross (`[^)]*`) ends where it should."""
    for token, following in zip(tokens, [*tokens[1:], ""], strict=True):
        if token == "." and (following in ("*", "+") or re.fullmatch(r"\{[0-9]+,\}", following)):
            return ("must not repeat . without a bound (.*): write what the run may not cross, "
                    "[^)]*, as a search from every start of a long line takes minutes")
    return None


def _brackets_problem(tokens: list[str]) -> str | None:
    return next((said for token in tokens if token.startswith("[")
                 for said in [_bracket_problem(token)] if said is not None), None)


def _bracket_problem(token: str) -> str | None:
    """A bracket git and Python read alike: a `-` only first, last, or between two letters or
    digits of one range (`[^%-a-z]` is an error to git and a range and two characters to
    Python)."""
    body = token[2:-1] if token.startswith("[^") else token[1:-1]
    index = 1 if body.startswith("]") else 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            low, high = body[index], body[index + 2]
            if not (low.isalnum() and high.isalnum() and low <= high):
                return f"the range {low}-{high} in {token} is not one of letters or digits"
            if body[index + 3:index + 4] == "-" and index + 4 < len(body):
                return f"a - right after a range in {token}: put it first or last"
            index += 3
        elif body[index] == "-" and 0 < index < len(body) - 1:
            return f"a - in the middle of {token}: put it first or last"
        else:
            index += 1
    return None


def _end_problem(tokens: list[str]) -> str | None:
    """What follows the placeholder ends the name, and is no option (`,?`): else `demo`
    matched the start of `demo_v2`."""
    at = next(index for index, token in enumerate(tokens) if PLACEHOLDER.fullmatch(token))
    camel = tokens[at] == "{camelName}"
    rest = tokens[at + 1:]
    if not rest or _ends(rest, camel):
        return None
    return ("after {name}, put what no name holds, and not as an option: a character (\\), "
            "\"), a bracket without letters, digits or _ ([,)]), one that excludes them "
            "([^a-z0-9_]), $, or a group of such alternatives: else a name matches the start "
            "of a longer one")


def _ends(rest: list[str], camel: bool) -> bool:
    first, following = rest[0], rest[1] if len(rest) > 1 else ""
    if _OPTIONAL.match(following):
        return False
    if first == "(":
        return _group_ends(rest, camel)
    return _terminator(first, camel)


def _group_ends(rest: list[str], camel: bool) -> bool:
    """`(,|\\))` or `( |$)`: a group whose every alternative starts with what ends a name."""
    depth, expecting = 1, True
    starts: list[str] = []
    for index, token in enumerate(rest[1:], start=1):
        if expecting and depth == 1 and token == "(":
            return False  # an alternative that opens a group: refused, not read into
        depth += {"(": 1, ")": -1}.get(token, 0)
        if depth == 0:
            following = rest[index + 1] if index + 1 < len(rest) else ""
            return bool(starts) and not _OPTIONAL.match(following) and all(
                _terminator(start, camel) for start in starts)
        if expecting and depth == 1:
            starts.append(token)
            expecting = False
        elif token == "|" and depth == 1:
            expecting = True
            if rest[index + 1:index + 2] in (["|"], [")"]):
                return False  # an empty alternative ends nothing
    return False


def _terminator(token: str, camel: bool) -> bool:
    """A token that matches no character of a name (or only the end of the line)."""
    letters = "A-Za-z0-9_"
    if token == "$":
        return True
    if token.startswith("["):  # what Python's bracket takes, by every character a name holds
        held = "abcdefghijklmnopqrstuvwxyz0123456789_" + ("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          if camel else "")
        try:
            bracket = re.compile(token)
        except re.error:
            return False
        return not any(bracket.fullmatch(char) for char in held)
    if token.startswith("\\"):
        return True  # an escaped special: punctuation
    return len(token) == 1 and re.fullmatch(f"[^{letters}.(|*+?{{}}^]", token) is not None
