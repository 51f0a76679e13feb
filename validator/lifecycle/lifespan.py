"""How old a flag is against its type's maximum lifespan. Pure: the clock is `now`.

GitLab's feature flag triage reports count in milestones from the flag's `milestone`, twelve to
a major version (13.7 + 6 is 14.1; 15.3 + 12 is 16.3), and list a flag as overdue once the
current milestone reaches that end. Where no current milestone is known, a milestone is a
month, counted from the commit that added the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from validator import moments
from validator.model import Flag
from validator.policy import Policy
from validator.transitions import RolloutState

MILESTONES_A_MAJOR = 12
_SECONDS_A_MONTH = 2_629_746  # 365.2425 / 12 days
_SECONDS_A_DAY = 86_400
_VERSION = re.compile(r"[\s\ufeff]*v?([0-9]{1,4})\.([0-9]{1,4})(?![0-9])")
"""As `stages.MILESTONE_PATTERN` bounds a milestone: the version file's text is the
repository's, and int() refuses more than 4,300 digits. After a byte order mark (an editor's
on Windows) and a tag's `v` too: read as no milestone, either left every flag's age untold."""


def milestone_index(text: str) -> int | None:
    """`17.10` or GitLab's VERSION text `17.10.0-pre` as a count of milestones; None for a
    text that does not start with one. A major has minors 0 to 12 at most (13.12 was GitLab's
    last 13): a larger minor counts as its major's last, so `13.9999` is no later than 14.0
    (added as it was read, it counted as 846.3 and the flag never went stale)."""
    found = _VERSION.match(text)
    if not found:
        return None
    return int(found[1]) * MILESTONES_A_MAJOR + min(int(found[2]), MILESTONES_A_MAJOR)


def leading_milestone(text: str) -> str | None:
    """The milestone GitLab's VERSION text starts with, as a flag file writes it
    (`17.10.0-pre` → `17.10`); None for a text that does not start with one."""
    found = _VERSION.match(text)
    return f"{found[1]}.{found[2]}" if found else None


def milestone_text(index: int) -> str:
    return f"{index // MILESTONES_A_MAJOR}.{index % MILESTONES_A_MAJOR}"


@dataclass(frozen=True, slots=True)
class Age:
    """A flag's age in the unit it was measured in, and its type's limit (None: no limit)."""

    lived: int
    limit: int | None
    unit: str
    """"milestones" (from the flag's milestone) or "months" (since its file was added)."""
    end: str | None = None
    """The end-of-life milestone, as the triage reports show it."""

    @property
    def overdue(self) -> bool:
        return self.limit is not None and self.lived >= self.limit

    def text(self) -> str:
        limit = f" of {self.limit}" if self.limit is not None else " (no limit)"
        end = f", end of life {self.end}" if self.end else ""
        return f"{self.lived}{limit} {self.unit}{end}"


def age(flag: Flag, policy: Policy, current: int | None, added_at: int | None,
        now: int) -> Age | None:
    """In milestones when the current milestone is known, else in months since `added_at`
    (None when neither is known)."""
    limit = policy.max_lifespan.get(flag.type)
    start = milestone_index(flag.milestone)
    if current is not None and start is not None:
        end = milestone_text(start + limit) if limit is not None else None
        return Age(max(current - start, 0), limit, "milestones", end)
    if added_at is None:
        return None
    return Age(max(now - added_at, 0) // _SECONDS_A_MONTH, limit, "months")


def milestone_ahead(flag: Flag, current: int | None) -> bool:
    """Is the flag's milestone later than the current one? Its lifespan counts from its
    milestone, so one not reached yet (`99.0`) keeps it young for as long as it says."""
    start = milestone_index(flag.milestone)
    return current is not None and start is not None and start > current


def rollout_overdue(flag: Flag, now: int) -> bool:
    """Has `intended_to_rollout_by` passed (by the UTC date of `now`)?"""
    by = flag.intended_to_rollout_by
    return by is not None and _date_of(now) > by


def released_key(state: RolloutState) -> bool:
    """The part of a state whose landing starts the max_released_days count: an actor listed
    or a description edited since does not restart it."""
    return state.default_enabled


def released_overdue(state: RolloutState, landed_at: int | None, policy: Policy,
                     now: int) -> bool:
    """Has the flag been enabled by default (since `landed_at`, when that landed) past
    max_released_days?"""
    days = policy.max_released_days
    return bool(days) and state.default_enabled and landed_at is not None \
        and now - landed_at >= days * _SECONDS_A_DAY


def _date_of(moment: int) -> date:
    return moments.day(moment)


def current_milestone(policy: Policy, version_text: str | None) -> int | None:
    """The policy's `current_milestone`, else the version file's text, else unknown."""
    if policy.current_milestone is not None:
        return milestone_index(policy.current_milestone)
    return milestone_index(version_text) if version_text else None
