"""One flag's page: what it is for, where it stands, and its rollout drawn from its history."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from survey_renderer.catalog import cells
from survey_renderer.catalog.chart import Point, draw
from survey_renderer.catalog.index import Link, links, summary_links
from validator.build import FlagState
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
    found = []
    for step in history:
        at = cells.moment(step.time)
        if at is None:
            continue
        reach = step.production
        found.append(Point(at, reach.kind if reach else "removed",
                           reach.percentage if reach else None, step.step,
                           f"{step.before} → {step.after}", step.after, step.time or ""))
    return found


def chart(summary: FlagSummary, as_of: int) -> Markup:
    return draw(points(summary.history), end=as_of, legal_at=cells.moment(summary.legal_at))


def changes(summary: FlagSummary) -> list[Change]:
    """Newest first, as people scan a log."""
    return [Change(cells.shown(cells.moment(s.time)), s.commit, s.merge_request, s.author,
                   s.before, s.after, s.step) for s in reversed(summary.history)]


def context(name: str, state: FlagState, as_of: int) -> dict[str, object]:
    summary = state.summary
    found: dict[str, object] = {"name": name, "state": state, "summary": summary}
    if summary is None:
        return found
    found.update(
        chart=chart(summary, as_of), changes=changes(summary),
        links=tuple[Link, ...](links(summary_links(state))),
        since=cells.shown(cells.moment(summary.since)),
        in_state=cells.in_state(summary, as_of), legal=cells.legal(summary, as_of),
        exposure={str(env): cells.exposure(reach) for env, reach in summary.exposure.items()},
        exposure_text={str(env): reach.text for env, reach in summary.exposure.items()},
        merge_request=cells.introducing_merge_request(summary))
    return found
