"""The index's table rows as markup, written out in Python: ten thousand rows of thirteen
cells were most of the index's time in the template engine. Each untrusted field goes through
`markup.text` once; tests/catalog_reference/index.html is the template this must equal."""

from __future__ import annotations

from survey_renderer.catalog.index import Cell, IndexRow
from survey_renderer.catalog.markup import text


def rows_markup(rows: list[IndexRow]) -> str:
    """Every row, each ending in a newline, as the template's loop wrote them."""
    return "".join(map(_row, rows))


def _row(row: IndexRow) -> str:
    name, group, kind, stage = text(row.name), text(row.group), text(row.type), text(row.stage)
    lifespan = text(row.lifespan)
    action = ' <span class="action">needs action</span>' if row.needs_action else ""
    return (
        f'<tr role="row" data-name="{name}" data-group="{group}" data-type="{kind}" '
        f'data-stage="{stage}" data-action="{1 if row.needs_action else 0}">\n'
        f'<th scope="row"><a class="flag-link" href="{text(row.page)}">{name}</a></th>\n'
        f"<td>{kind}</td>\n<td>{group}</td>\n<td>{text(row.owners)}</td>\n<td>{stage}</td>\n"
        f"{_sorted(row.staging)}{_sorted(row.production)}"
        f"<td>{text(row.default_enabled)}</td>\n{_sorted(row.in_state)}"
        f"<td>{text(row.next_step)}</td>\n{_sorted(row.legal)}"
        f'<td class="lifespan-{lifespan}">{lifespan}{action}</td>\n'
        f"<td>{_links(row)}</td>\n</tr>\n")


def _sorted(cell: Cell) -> str:
    return f'<td data-sort="{text(str(cell.sort))}">{text(cell.text)}</td>\n'


def _links(row: IndexRow) -> str:
    said = " · ".join(f'<a class="out" data-link="{text(link.label)}" href="{text(link.url)}" '
                      f'rel="noopener noreferrer">{text(link.label)}</a>' for link in row.links)
    if row.merge_request:
        said += f'{" · " if row.links else ""}<span class="mr">{text(row.merge_request)}</span>'
    return said
