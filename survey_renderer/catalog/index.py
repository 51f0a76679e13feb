"""The catalog's index: one table row per flag, all rendered here so that the page shows the
whole table without JavaScript; catalog.js only hides rows and reorders them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from survey_renderer.catalog import cells
from validator.build import FlagState, MergedConfig
from validator.model import Environment

ENVIRONMENTS = tuple(Environment)
"""Staging, production: iterating the enum itself, per row, cost more than the row's text."""


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    sort: str | None = None
    """The sort key where the text does not sort right (times, exposures)."""


@dataclass(frozen=True, slots=True)
class IndexRow:
    name: str
    type: str
    group: str
    stage: str
    owners: str
    staging: Cell
    production: Cell
    default_enabled: str
    in_state: Cell
    next_step: str
    legal: Cell
    lifespan: str
    needs_action: bool
    links: tuple[Link, ...]
    merge_request: str | None
    """`group/project!N` from the history, shown as text where no introduced_by_url links it."""

    @property
    def page(self) -> str:
        """The file name of the flag's page, which the row links to."""
        return cells.page_file(self.name)


def index_rows(config: MergedConfig, as_of: int) -> list[IndexRow]:
    return [row(name, state, as_of) for name, state in sorted(config.flags.items())]


def row(name: str, state: FlagState, as_of: int) -> IndexRow:
    summary = state.summary
    if summary is None:  # a config built without summaries: what the gates say, no more
        unknown = Cell("unknown", "")
        return IndexRow(name, "", "", str(state.stage), "", unknown, unknown,
                        _yes(state.default_enabled), unknown, "unknown", unknown, "unknown",
                        False, (), None)
    staging, production = (summary.exposure[env] for env in ENVIRONMENTS)
    since = cells.moment(summary.since)
    legal_at = cells.moment(summary.legal_at)
    return IndexRow(
        name, str(summary.type), summary.group, str(state.stage), " ".join(summary.owners),
        Cell(cells.exposure(staging), f"{cells.exposure_rank(staging):08.3f}"),
        Cell(cells.exposure(production), f"{cells.exposure_rank(production):08.3f}"),
        _yes(state.default_enabled),
        Cell(cells.in_state(summary, as_of), "" if since is None else f"{as_of - since:012d}"),
        summary.next_step,
        Cell(cells.legal(summary, as_of), "" if legal_at is None else f"{legal_at:012d}"),
        summary.lifespan.status, summary.needs_action, links(summary_links(state)),
        None if summary.introduced_by_url else cells.introducing_merge_request(summary))


LINK_FIELDS = (("rollout", "rollout_issue_url"), ("cleanup", "cleanup_issue_url"),
               ("merge request", "introduced_by_url"))
"""The links a flag's row and page show, by label and summary field, in this order."""


def summary_links(state: FlagState) -> list[tuple[str, str | None]]:
    summary = state.summary
    if summary is None:
        return []
    return [(label, getattr(summary, field)) for label, field in LINK_FIELDS]


def links(found: list[tuple[str, str | None]]) -> tuple[Link, ...]:
    return tuple(Link(label, url) for label, url in found if url)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def flag_choices(flags: Mapping[str, FlagState]) -> dict[str, list[str]]:
    """`choices` of the flags' rows, from the flags themselves (render draws no row object)."""
    return choices_of(choice_sets(flags))


ChoiceSets = tuple[set[str], set[str], set[str]]
"""The groups, types and stages present, unsorted: a part of the flags' share of `choices`."""


def choice_sets(flags: Mapping[str, FlagState]) -> ChoiceSets:
    """The values the flags give each filter: render's workers each find their part's."""
    summaries = [state.summary for state in flags.values()]
    return ({s.group for s in summaries if s is not None and s.group},
            {str(s.type) for s in summaries if s is not None and str(s.type)},
            {str(state.stage) for state in flags.values()})


def choices_of(*parts: ChoiceSets) -> dict[str, list[str]]:
    """`choices` of the flags whose parts these are."""
    return {key: sorted(set().union(*(part[index] for part in parts)))
            for index, key in enumerate(("group", "type", "stage"))}


def choices(rows: list[IndexRow]) -> dict[str, list[str]]:
    """The values each filter offers: the groups, types and stages present."""
    return {"group": sorted({r.group for r in rows if r.group}),
            "type": sorted({r.type for r in rows if r.type}),
            "stage": sorted({r.stage for r in rows})}
