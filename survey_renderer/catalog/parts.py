"""The merged config's bytes cut into parts that render's workers validate each on their own:
validating the whole config before forking them took a quarter of a render's time at 10,000
flags with their histories, on one core, and the objects it made were copied page by page into
both workers as they touched them.

Only the layout `flagops build` writes is cut (`json.dumps(..., sort_keys=True, indent=2)`:
`flags` the last key of the top level, each flag's name on a line of its own, four spaces in);
anything else is read whole, as before. The cut is sound without trusting that layout: a raw
newline is never inside a JSON string, so a part starts outside any string and a comma before
one is a separator; each part is then validated in JSON mode as an object of flags (the same
validator `MergedConfig.flags` has), and the rest, `flags` emptied, as a `MergedConfig`. If
every piece is valid, the whole is too and says the same, as long as no name is in two parts:
`build` writes the names sorted, so each worker checks that its part's names rise and stay
below the name the next part starts with (`Parts.firsts`, which rise too). Whatever a piece
refuses, or where the names do not rise, the whole is read as before and gives the same
refusal (validator.config_file), so no message depends on the cut.

The cut looks at a few places in the bytes only: the top of the file, its end, and the first
line of a flag after each of a few even offsets; the parts' own lines are read by the
workers.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any, NamedTuple

FLAGS_START = b'\n  "flags": {'
"""Where `flags` opens at the top level, in the layout `build` writes."""
CONFIG_END = b"\n  }\n}"
"""How the layout ends: `flags` closed, then the top level."""
MEMBER = b'\n    "'
"""A line that opens a flag: its name, four spaces in."""
_BLANKS = b" \t\r\n"


class Parts(NamedTuple):
    """A config cut for its workers."""

    rest: bytes
    """The config with `flags` emptied: `{}`."""
    spans: list[tuple[int, int]]
    """Each part's flags, as `start, stop` in the config's bytes: members of an object."""
    firsts: list[str | None]
    """The name each part starts with, found at its first line (None for the first part):
    every name of a part is at least its own and below the next part's."""


def cut(raw: bytes, parts: int) -> Parts | None:
    """The config in at most `parts` parts of about as many bytes each, or None where the
    bytes do not have the layout `build` writes (they are then read whole)."""
    opened = raw.find(FLAGS_START)
    if opened < 0:
        return None
    opened += len(FLAGS_START)  # just after the `{`
    end = len(raw)
    while end and raw[end - 1] in _BLANKS:
        end -= 1
    closed = end - 3  # the `}` of `flags`
    if closed < opened or not raw.endswith(CONFIG_END, 0, end):
        return None
    rest = raw[:opened] + raw[closed:]
    if not _one_flags_member(rest):
        return None
    spans: list[tuple[int, int]] = []
    firsts: list[str | None] = [None]
    begin = opened
    for index in range(1, max(1, parts)):
        at = raw.find(MEMBER, max(begin + 1, opened + (closed - opened) * index // parts),
                      closed)
        if at < 0:
            break
        name = _name_at(raw, at)
        if raw[at - 1] != ord(",") or name is None or not _rises(firsts[-1], name):
            return None
        spans.append((begin, at - 1))  # the comma between the two parts left out
        firsts.append(name)
        begin = at
    spans.append((begin, closed))
    return Parts(rest, spans, firsts)


def _rises(before: str | None, name: str) -> bool:
    return before is None or before < name


def _name_at(raw: bytes, at: int) -> str | None:
    """The name on a flag's line, or None when it is escaped (its bytes are then not its
    name) or not UTF-8."""
    begin = at + len(MEMBER)
    end = raw.find(b'"', begin)
    name = raw[begin:end]
    if end < 0 or b"\\" in name:
        return None
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return None


def names_hold(names: list[str], first: str | None, after: str | None) -> bool:
    """A part's names, in their order, rise, start with `first` (the part's own, when it is
    not the first part) and stay below `after` (the next part's): then no two parts share a
    name. A part with a next one holds a name: the comma the cut left out between the two
    follows a member, and blanks alone before it (`{ ,`) are no JSON, though `{}` is."""
    if not names:
        return after is None
    if first is not None and names[0] != first:
        return False
    if after is not None and not names[-1] < after:
        return False
    return all(a < b for a, b in pairwise(names))


def _one_flags_member(rest: bytes) -> bool:
    """The rest is one JSON object with no key twice at its top level (a config read whole
    would take the last of two; here each would be found elsewhere), and its `flags` is the
    empty object the cut left. The rest is a few hundred bytes: the standard parser is
    enough, and it is only asked about what pydantic's accepts too."""
    pairs: list[list[tuple[str, Any]]] = []

    def kept(members: list[tuple[str, Any]]) -> dict[str, Any]:
        pairs.append(members)
        return dict(members)

    try:
        top = json.loads(rest, object_pairs_hook=kept)
    except (ValueError, RecursionError):
        return False
    keys = [key for key, _ in pairs[-1]] if pairs else []
    return (isinstance(top, dict) and len(keys) == len(set(keys))
            and top.get("flags") == {} and "flags" in keys)
