"""How the catalog words a flag's facts: exposure, times, links. Shared by the index and the
flag pages so both say the same thing."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from validator import moments
from validator.digits import decimal_text
from validator.durations import minutes_text
from validator.flag_summary import FlagSummary, Reach


@lru_cache(maxsize=4096)
def moment(text: str | None) -> int | None:
    """An ISO 8601 time from the merged config as a Unix time (None stays None). Cached, as
    `shown` is: a catalog's histories repeat their times (a day's merges, the build's clock)."""
    return None if text is None else int(datetime.fromisoformat(text).timestamp())


shown = lru_cache(maxsize=4096)(moments.when)
"""moments.when, cached: a catalog's histories repeat their times."""


def page_file(name: str) -> str:
    """A flag's page in the catalog's folder: `<name>.html`, but `index_.html` for a flag named
    `index`, whose page would otherwise replace the catalog's own index. No flag name ends in
    `_`, so no other flag's page is named so (the folder's other files are not .html)."""
    return f"{name}_.html" if name == "index" else f"{name}.html"


def exposure(reach: Reach) -> str:
    """off, listed actors (N), N% (+M listed), on: the index's short form."""
    if reach.kind == "on":
        return "on"
    if reach.kind == "percentage":
        listed = f" + {reach.actors} listed" if reach.actors else ""
        return f"{decimal_text(reach.percentage or 0.0)}%{listed}"
    if reach.kind == "actors":
        return f"listed actors ({reach.actors})"
    return "off"


def exposure_rank(reach: Reach) -> float:
    """Sorts exposures as the chart draws them: off, listed, a share, on."""
    return {"off": -1.0, "actors": 0.0, "on": 101.0}.get(reach.kind, reach.percentage or 0.0)


def in_state(summary: FlagSummary, as_of: int) -> str:
    since = moment(summary.since)
    return "unknown" if since is None else minutes_text(max(as_of - since, 0) // 60)


def legal(summary: FlagSummary, as_of: int) -> str:
    at = moment(summary.legal_at)
    if at is None:
        return "unknown"
    return "now" if at <= as_of else shown(moments.minute_up(at))


def introducing_merge_request(summary: FlagSummary) -> str | None:
    """`group/project!N` of the change that added the flag, when GitLab's merge commit says."""
    added = next((step for step in summary.history if step.step == "new"), None)
    return added.merge_request if added else None
