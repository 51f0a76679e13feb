"""Freeze windows: a forward step checked while one lasts is refused. Pure: `now` is given.

Only forward steps are judged (a rollback always passes), and only in the window's
environments: a step that widens the flag in staging alone passes a production freeze.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from validator.engines import Bucketing
from validator.model import Environment
from validator.policy import FreezeWindow
from validator.transitions import RolloutState, reaches_more


def active(windows: Sequence[FreezeWindow], now: int) -> list[FreezeWindow]:
    moment = datetime.fromtimestamp(now, UTC)
    return [window for window in windows if window.start <= moment < window.end]


def widened_in(before: RolloutState, after: RolloutState,
               bucketing: Bucketing) -> set[Environment]:
    """The environments where someone gains the flag (default_enabled reaches them all)."""
    if after.default_enabled and not before.default_enabled:
        return set(Environment)
    return {env for env in Environment
            if reaches_more(before.name, before.gates(env), after.gates(env), bucketing)}


def blocking(before: RolloutState, after: RolloutState, windows: Sequence[FreezeWindow],
             now: int, bucketing: Bucketing) -> FreezeWindow | None:
    """The first active window that this change widens the flag in, if any: whoever gains the
    flag there, in a forward step or in a mixed one (which an override may let through its own
    rule, never through a freeze); a pure rollback widens nothing and always passes."""
    touched = widened_in(before, after, bucketing)
    return next((window for window in active(windows, now)
                 if touched & set(window.environments)), None)
