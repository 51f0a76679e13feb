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
    """ISO 8601 (RFC 3339), as the merged config and the JSON outputs carry times."""
    return utc(moment).isoformat()


def day(moment: int) -> date:
    return utc(moment).date()


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
