"""Seconds since 1970 as the dates people and JSON read, for any moment git can hold.

git keeps a commit's date as a number that may lie far past the year 9999, and a tracker's
rate-limit header is just digits; Python's datetime stops at year 9999. Such a moment must not
crash a command that only shows it: it is shown at the nearest date datetime holds, and a
text for people says it lies beyond. Verdicts never read these texts: they compare the
numbers themselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST = int(datetime(1, 1, 1, tzinfo=UTC).timestamp())
LATEST = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def utc(moment: int) -> datetime:
    """The moment as a UTC datetime, held within the years 1 to 9999."""
    return datetime.fromtimestamp(min(max(moment, EARLIEST), LATEST), UTC)


def iso(moment: int) -> str:
    """ISO 8601 (RFC 3339), as the merged config and the JSON outputs carry times: always in
    ISO_FORM (a whole second, years 1 to 9999), which ISO_PATTERN matches."""
    return utc(moment).isoformat()


ISO_FORM = "YYYY-MM-DDTHH:MM:SS+00:00"
"""How `iso` writes a time, in the words a refusal shows people."""


_YEAR = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = ("(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
              "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))")
ISO_PATTERN = (f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
               "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\\+00:00$")
"""Exactly the texts `iso` writes: real calendar days (29 February in leap years only) of the
years 1 to 9999. The merged config's times are held to it, so every reader can parse them
(`datetime.fromisoformat` took `2026-01-01"12:00:00` and refused `2026-02-30T...` with an
error no reader expected) and a page may write them into an attribute as they are. Only
ASCII digits (`[0-9]`: `\\d` is any Unicode digit in Rust's regex and Python's), and no
lookaround, so pydantic, Python's `re` and a JSON Schema validator read it alike."""


def day(moment: int) -> date:
    return utc(moment).date()


def minute_up(moment: int) -> int:
    """The moment rounded up to its minute: a step legal at 21:50:30 is shown legal at 21:51,
    as `promote` refuses it at 21:50. Every "legal at" people read goes through it."""
    return -(-moment // 60) * 60


def when(moment: int | None) -> str:
    """UTC, to the minute; "unknown" where the history is not in this clone."""
    return "unknown" if moment is None else minute_text(moment)


def minute_text(moment: int, *, with_day: bool = True) -> str:
    """`2026-11-29 14:32 UTC` (`14:32 UTC` without the day); `after 9999-12-31 23:59 UTC` for
    a moment datetime cannot hold. From isoformat, which keeps four digits of every year."""
    shown = utc(moment).isoformat()
    text = f"{shown[:10]} {shown[11:16]} UTC" if with_day else f"{shown[11:16]} UTC"
    if moment > LATEST:
        return f"after {text}"
    return f"before {text}" if moment < EARLIEST else text
