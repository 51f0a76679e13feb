"""Durations in words people read at a glance: '9 min', '1 h 30 min', '22 h', '1 d 2 h'.

Pure. At most two units, the largest first; a day or more drops the minutes. A wait rounds up
(`round_up=True`), so that nobody comes back a few minutes too early and is refused again.
"""

from __future__ import annotations

_HOUR = 60
_DAY = 24 * _HOUR


def minutes_text(minutes: int, *, round_up: bool = False) -> str:
    """`minutes` (0 or more) as text; negative values are shown as their size."""
    minutes = abs(minutes)
    if minutes < _HOUR:
        return f"{minutes} min"
    if minutes < _DAY:
        hours, rest = divmod(minutes, _HOUR)
        return _two(hours, "h", rest, "min")
    days, rest = divmod(minutes, _DAY)
    hours, left = divmod(rest, _HOUR)
    if round_up and left:
        hours += 1
        if hours == 24:
            days, hours = days + 1, 0
    return _two(days, "d", hours, "h")


def _two(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big} {big_unit} {small} {small_unit}" if small else f"{big} {big_unit}"
