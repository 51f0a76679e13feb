"""Flipper's evaluation of one flag for one actor, as GitLab runs it.

static/gate.js is the browser twin of `bucket` and `evaluate`; the page tests hold the two to the
same answers. Percentage of time is random per check, so a static evaluator treats it as off,
but at 100, where it opens on every check, as on (`Gates.everyone`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from validator.engines import Bucketing
from validator.engines.bucketing import in_share
from validator.gates import BUCKETS, SCALE, Gates, bucket, in_percentage

__all__ = ["BUCKETS", "SCALE", "Decision", "Reason", "bucket", "evaluate", "in_percentage",
           "static_decision"]


class Reason(StrEnum):
    FULLY_ON = "fully on"
    LISTED = "listed actor"
    PERCENTAGE = "percentage bucket"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Decision:
    enabled: bool
    reason: Reason


def evaluate(flag_name: str, gates: Gates, actor: str | None, *,
             bucketing: Bucketing = "flipper") -> Decision:
    """Is the flag on for this actor (None: no actor known)? Gates are tried as Flipper does;
    `bucketing` says whose percentage rule decides (validator/engines/bucketing.py)."""
    if gates.everyone:
        return Decision(True, Reason.FULLY_ON)
    if actor is None:
        return Decision(False, Reason.OFF)
    if actor in gates.actors:
        return Decision(True, Reason.LISTED)
    share = gates.percentage_of_actors
    if share is not None and in_share(flag_name, actor, share, bucketing):
        return Decision(True, Reason.PERCENTAGE)
    return Decision(False, Reason.OFF)


def static_decision(gates: Gates, actor_kind: str) -> bool | None:
    """The answer for every actor of this kind (e.g. "User") and for none, or None if it varies."""
    if gates.everyone:
        return True
    listed = any(actor.startswith(f"{actor_kind}:") for actor in gates.actors)
    if listed or gates.percentage_of_actors:
        return None
    return False
