"""The index's table rows as markup, written out in Python: ten thousand rows of thirteen
cells were most of the index's time in the template engine. Each untrusted field goes through
`markup.text` once; tests/catalog_reference/index.html is the template this must equal.

A row is written from the flag's state itself, not from an `index.IndexRow`: the row's
objects (a row, five cells, its links) cost about as much as its text at ten thousand flags.
`index.row` stays the row's meaning, the oracle's input, and the tests hold the two equal."""

from __future__ import annotations

from survey_renderer.catalog import cells
from survey_renderer.catalog.index import LINK_FIELDS
from survey_renderer.catalog.markup import kept, text
from validator.build import FlagState
from validator.flag_summary import FlagSummary, Reach
from validator.model import Environment

STAGING, PRODUCTION = Environment.STAGING, Environment.PRODUCTION
_UNKNOWN = '<td data-sort="">unknown</td>\n'
_EXPOSURES: dict[tuple[str, int, float | None], str] = {}
_ACTION = ' <span class="action">needs action</span>'


def row_markup(name: str, state: FlagState, as_of: int) -> str:
    """The flag's row, ending in a newline, as the template's loop wrote `index.row`'s."""
    summary = state.summary
    name_text, stage = text(name), text(str(state.stage))
    enabled = "yes" if state.default_enabled else "no"
    if summary is None:  # a config built without summaries: what the gates say, no more
        return (f'<tr role="row" data-name="{name_text}" data-group="" data-type="" '
                f'data-stage="{stage}" data-action="0">\n<th scope="row"><a class="flag-link" '
                f'href="{text(cells.page_file(name))}">{name_text}</a></th>\n<td></td>\n'
                f"<td></td>\n<td></td>\n<td>{stage}</td>\n{_UNKNOWN}{_UNKNOWN}<td>{enabled}"
                f"</td>\n{_UNKNOWN}<td>unknown</td>\n{_UNKNOWN}"
                '<td class="lifespan-unknown">unknown</td>\n<td></td>\n</tr>\n')
    exposure = summary.exposure
    group, kind = text(summary.group), text(str(summary.type))
    lifespan = text(summary.lifespan.status)
    action = summary.needs_action
    return (
        f'<tr role="row" data-name="{name_text}" data-group="{group}" data-type="{kind}" '
        f'data-stage="{stage}" data-action="{1 if action else 0}">\n'
        f'<th scope="row"><a class="flag-link" href="{text(cells.page_file(name))}">'
        f"{name_text}</a></th>\n<td>{kind}</td>\n<td>{group}</td>\n"
        f'<td>{text(" ".join(summary.owners))}</td>\n<td>{stage}</td>\n'
        f"{_exposure(exposure[STAGING])}{_exposure(exposure[PRODUCTION])}"
        f"<td>{enabled}</td>\n{_times(summary, as_of)}"
        f'<td class="lifespan-{lifespan}">{lifespan}'
        f'{_ACTION if action else ""}</td>\n'
        f"<td>{_links(summary)}</td>\n</tr>\n")


def _exposure(reach: Reach) -> str:
    """An exposure's cell, by its level: a catalog's exposures are a handful."""
    return kept(_EXPOSURES, (reach.kind, reach.actors, reach.percentage), lambda: (
        f'<td data-sort="{text(f"{cells.exposure_rank(reach):08.3f}")}">'
        f"{text(cells.exposure(reach))}</td>\n"))


def _times(summary: FlagSummary, as_of: int) -> str:
    """The cells from "in state" to "legal": each time's words and its sort key."""
    since = cells.moment(summary.since)
    legal_at = cells.moment(summary.legal_at)
    since_key = "" if since is None else f"{as_of - since:012d}"
    legal_key = "" if legal_at is None else f"{legal_at:012d}"
    return (f'<td data-sort="{text(since_key)}">{text(cells.in_state(summary, as_of))}</td>\n'
            f"<td>{text(summary.next_step)}</td>\n"
            f'<td data-sort="{text(legal_key)}">{text(cells.legal(summary, as_of))}</td>\n')


def out_links(summary: FlagSummary) -> list[str]:
    """The links the summary has (index.LINK_FIELDS), as anchors: the row and the flag's page
    show them alike."""
    return [f'<a class="out" data-link="{label}" href="{text(url)}" '
            f'rel="noopener noreferrer">{label}</a>'
            for label, field in LINK_FIELDS if (url := getattr(summary, field))]


def _links(summary: FlagSummary) -> str:
    found = out_links(summary)
    said = " · ".join(found)
    if not summary.introduced_by_url:
        merge_request = cells.introducing_merge_request(summary)
        if merge_request:
            said += f'{" · " if found else ""}<span class="mr">{text(merge_request)}</span>'
    return said
