"""Whole numbers written by others (environment variables, HTTP headers, URLs, API answers).

`str.isdigit()` is true of `²` and of Arabic-Indic digits, which `int()` refuses, and `int()`
refuses any text of more than 4,300 digits: a check with `isdigit()` before `int()` turned such
text into an internal error. No id, count or timestamp flagops reads has more than 18 digits.
"""

from __future__ import annotations

MAX_DIGITS = 18
"""Below 2**63: any id GitHub or GitLab gives, any count, any Unix time in seconds."""


def whole_number(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as a whole number when it is 1 to `max_digits` ASCII digits, else None. A
    caller that shows any number (a moment past year 9999 as "after 9999") may allow more,
    up to int()'s 4,300."""
    if 0 < len(text) <= min(max_digits, 4300) and text.isascii() and text.isdigit():
        return int(text)
    return None


def decimal_text(value: float) -> str:
    """A percentage (any float) as plain decimal text that reads back as exactly that value:
    "50", "12.5", "12.34545", "0.00001", never an exponent. `{:g}` keeps six significant
    digits, so a command or a plan written with it would name another percentage than the
    flag file's; Flipper's export, GitLab's sync, chatops commands and messages use this."""
    from decimal import Decimal  # (git's module needs whole_number only, on every commit)

    text = format(Decimal(repr(float(value))), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
