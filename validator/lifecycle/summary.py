"""One flag's summary for the merged config. Pure: the flag, its timeline, the facts git gave
and the clock (`now`) in, a `FlagSummary` out.

Nothing is worked out twice: the row is `status.row_of` (state, next step, when it is legal),
the age is `lifespan.age`, the gates are `build.stage_gates` and the words `plan.reach`, so the
catalog says what `flagops status` and `flagops history` say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from validator.flag_summary import FlagSummary, Landed, Level, Lifespan, Reach
from validator.gates import Gates
from validator.lifecycle.lifespan import Age, age
from validator.lifecycle.show import iso
from validator.lifecycle.status import Facts, row_of
from validator.lifecycle.timeline import Event
from validator.model import Environment, Flag
from validator.plan import reach
from validator.policy import Policy
from validator.transitions import RolloutState

APPROACHING_WITHIN = 1
"""A flag in the last milestone (or month) of its lifespan is approaching its end."""


@dataclass(frozen=True, slots=True)
class Step:
    """A timeline row and who had the flag in production after it (None: removed)."""

    event: Event
    after: RolloutState | None


def reach_of(found: Gates) -> Reach:
    """Gates as a chart reads them: everyone, a share (plus listed actors), listed, nobody."""
    share = found.percentage_of_actors if found.percentage_of_actors is not None \
        else found.percentage_of_time
    kind = "on" if found.everyone else "percentage" if share is not None \
        else "actors" if found.actors else "off"
    return Reach(kind=kind, actors=len(found.actors), percentage=share, text=reach(found))


def level_of(found: Gates) -> Level:
    """The level alone: a history row need not repeat every listed actor."""
    reach = reach_of(found)
    return Level(kind=reach.kind, actors=reach.actors, percentage=reach.percentage)


def landed(step: Step) -> Landed:
    event = step.event
    production = None if step.after is None else level_of(step.after.gates(Environment.PRODUCTION))
    return Landed(time=iso(event.time), commit=event.commit, author=event.author,
                  merge_request=event.merge_request, before=event.before, after=event.after,
                  step=event.step, production=production)


def lifespan(lived: Age | None, stale: Sequence[str]) -> Lifespan:
    """Overdue when `status` calls the flag stale; approaching in its last unit of life."""
    if stale:
        status = "overdue"
    elif lived is None:
        status = "unknown"
    elif lived.limit is not None and lived.lived >= lived.limit - APPROACHING_WITHIN:
        status = "approaching"
    else:
        status = "ok"
    return Lifespan(max_lifespan=lived.limit if lived else None,
                    age=lived.lived if lived else None, unit=lived.unit if lived else None,
                    end_of_life=lived.end if lived else None, status=status,
                    reasons=tuple(stale))


def summary(flag: Flag, steps: Sequence[Step], facts: Facts, policy: Policy,
            current: int | None, now: int) -> FlagSummary:
    """Everything the catalog shows about one flag, as of `now`."""
    row = row_of(flag, facts, policy, current, now)
    state = RolloutState.of(flag).as_reached()  # what it gives: its next step is from there
    lived = age(flag, policy, current, facts.added_at, now)
    return FlagSummary(
        type=flag.type, group=flag.group, milestone=flag.milestone,
        description=flag.description, owners=tuple(flag.owners or ()),
        expectations=flag.expectations, rollout_issue_url=flag.rollout_issue_url,
        cleanup_issue_url=flag.cleanup_issue_url, introduced_by_url=flag.introduced_by_url,
        feature_issue_url=flag.feature_issue_url, state=row.state,
        exposure={env: reach_of(state.gates(env)) for env in Environment},
        since=iso(row.since), next_step=row.next_step, legal_at=iso(row.legal_at),
        needs_action=row.action <= 1, lifespan=lifespan(lived, row.stale),
        history=tuple(landed(step) for step in steps))
