"""One flag's page, the parts drawn from its history: the chart's points and the changes' rows
(flag_html.py writes the page around them)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from survey_renderer.catalog import cells
from survey_renderer.catalog.chart import Point, draw
from validator.flag_summary import FlagSummary, Landed


@dataclass(frozen=True, slots=True)
class Change:
    time: str
    commit: str
    merge_request: str | None
    author: str
    before: str
    after: str
    step: str


def points(history: tuple[Landed, ...]) -> list[Point]:
    """The dated changes, as the chart draws them (undated ones, beyond a shallow cut, are
    listed in the table only)."""
    moment = cells.moment
    found = []
    for step in history:
        stamp = step.time
        at = moment(stamp)
        if at is None:
            continue
        reach = step.production
        found.append(Point(at, "removed", None, step.step, f"{step.before} → {step.after}",
                           step.after, stamp or "") if reach is None else
                     Point(at, reach.kind, reach.percentage, step.step,
                           f"{step.before} → {step.after}", step.after, stamp or ""))
    return found


def chart(summary: FlagSummary, as_of: int) -> Markup:
    return draw(points(summary.history), end=as_of, legal_at=cells.moment(summary.legal_at))


def changes(summary: FlagSummary) -> list[Change]:
    """Newest first, as people scan a log."""
    return [Change(cells.shown(cells.moment(s.time)), s.commit, s.merge_request, s.author,
                   s.before, s.after, s.step) for s in reversed(summary.history)]
