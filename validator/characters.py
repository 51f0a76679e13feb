"""Characters a reviewer does not see, or that reorder what they see (FO104): what identifiers,
keys, actors and paths may not hold, and what free text may not hold. No pydantic here: the
hook's path checks (`validator.files`) read these on every commit."""

from __future__ import annotations

import re
import unicodedata

# Characters a reviewer does not see, or that reorder what they see (FO104), as code point
# ranges: controls (C0, DEL, C1), the format characters (category Cf, as of Unicode 15.1),
# the line and paragraph separators, and the rest of Unicode's Default_Ignorable_Code_Point
# (the combining grapheme joiner, the Hangul fillers, variation selectors, the Mongolian
# free variation selectors, the tag and variation-selector planes) with the blank-looking
# Braille pattern: each shows as nothing, or as a space, in review. Identifiers, keys, actors
# and paths may hold none of them.
INVISIBLE: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605),
    (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x206F), (0x2800, 0x2800), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD),
    (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
# The bidirectional controls (Bidi_Control), which reorder text as shown: free text may hold
# the other invisible characters (U+200D joins emoji) but none of these.
BIDI_CONTROLS: tuple[tuple[int, int], ...] = (
    (0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069),
)
# What free text may not hold (FO104): a bidi control, which reorders the text shown around it,
# or a control character other than the tab and the line feed (an escape sequence a terminal
# runs, a carriage return that writes over a line, a character a browser drops). Free text may
# hold the other invisible characters: U+200D joins emoji.
FREE_TEXT_REFUSED: tuple[tuple[int, int], ...] = (
    (0x0000, 0x0008), (0x000B, 0x001F), (0x007F, 0x009F), *BIDI_CONTROLS,
)
# Unicode gives controls no name; these are their formal aliases.
_CONTROL_NAMES = {0x00: "NULL", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED",
                  0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE"}


def char_class(ranges: tuple[tuple[int, int], ...], *, bmp_only: bool = False) -> str:
    """A regex character class of the ranges.

    BMP code points are written \\uXXXX, which Rust's regex (pydantic), Python's re
    (jsonschema) and ECMA-262 with or without the u flag (editors) all read alike. No escape
    for a code point beyond U+FFFF is read alike by all of them, so the JSON Schema takes
    `bmp_only` and the model's own check (Python) also refuses the rest (tag characters...).
    """
    parts = []
    for low, high in ranges:
        if bmp_only and low > 0xFFFF:
            continue
        parts.append(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}")
    return f"[{''.join(parts)}]"


def _escape(code: int) -> str:
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


_INVISIBLE = re.compile(char_class(INVISIBLE))
_BIDI = re.compile(char_class(BIDI_CONTROLS))
_FREE_TEXT_REFUSED = re.compile(char_class(FREE_TEXT_REFUSED))


def invisible_character(text: str, *, free_text: bool = False) -> str | None:
    """The first character of text that FO104 refuses, described, or None."""
    if text.isprintable() and (free_text or text.isascii()):
        # Most text: printable text holds no control and no format character, so nothing
        # free text refuses, and printable ASCII (space to `~`) nothing at all. C calls
        # instead of a regex search: ten thousand flags with their histories hold some
        # 80,000 strings to check.
        return None
    found = (_FREE_TEXT_REFUSED if free_text else _INVISIBLE).search(text)
    if found is None:
        return None
    character, code = found[0], ord(found[0])
    control = unicodedata.category(character) == "Cc"
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(
        code, "<control>" if control else "<unassigned>")
    if _BIDI.match(character):
        return f"U+{code:04X} {name}, which reorders the text shown around it"
    if control:
        return f"U+{code:04X} {name}, a control character"
    return f"U+{code:04X} {name}, which does not show in review"


def free_text_shown(text: str) -> str:
    """Text from elsewhere (a git author's name) made fit for free text: each character free
    text refuses becomes U+FFFD, so the merged config holds nothing a page or a terminal
    would run or reorder, and the reader sees that something was there."""
    if text.isprintable():
        return text
    return _FREE_TEXT_REFUSED.sub("\ufffd", text)


def without_invisible(text: str) -> str:
    """The text as a reviewer sees it (for matching a key that holds an invisible character)."""
    return _INVISIBLE.sub("", text)


def not_composed(text: str) -> str | None:
    """Where `text` is not in Unicode NFC, the character that makes it so, described (an
    accent typed apart from its letter: `User:andré` so shows as `User:andré` composed, yet
    every engine compares and hashes another text); else None."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return None
    composed = unicodedata.normalize("NFC", text) + "\0"
    first = next(index for index, (mine, theirs) in enumerate(zip(text, composed, strict=False))
                 if mine != theirs)
    mark = next((c for c in text[first:] if unicodedata.combining(c)), text[first])
    return f"U+{ord(mark):04X} {unicodedata.name(mark, '<unassigned>')}"
