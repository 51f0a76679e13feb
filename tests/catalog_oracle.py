"""The catalog's pages as the Jinja templates wrote them before the pages were written out in
Python (tests/catalog_reference/): the oracle the fast renderer must equal, byte for byte.

The templates extend the package's own page.html, so a change to the frame shows here too."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from survey_renderer.catalog import cells
from survey_renderer.catalog.flag_page import changes, chart
from survey_renderer.catalog.index import Link, choices, index_rows, links, summary_links
from survey_renderer.catalog.pages import CSP, FOLDER, HISTORY_NOTES, page_path
from validator.build import FlagState, MergedConfig

HERE = Path(__file__).parent
PACKAGE_TEMPLATES = HERE.parent / "survey_renderer" / "templates"


def reference_pages(config: MergedConfig, *, now: int | None = None) -> dict[str, str]:
    """The index and every flag page as the reference templates render them."""
    as_of = cells.moment(config.catalog.as_of) if config.catalog else now
    as_of = 0 if as_of is None else as_of
    shared = {"csp": CSP, "environment": str(config.environment),
              "as_of": cells.shown(as_of) if config.catalog else "unknown",
              "history_note": HISTORY_NOTES[config.catalog.history if config.catalog else None]}
    templates = _environment()
    rows = index_rows(config, as_of)
    files = {f"{FOLDER}/index.html": templates.get_template("index.html").render(
        shared, rows=rows, choices=choices(rows), count=len(rows))}
    flag = templates.get_template("flag.html")
    for name, state in config.flags.items():
        files[page_path(name)] = flag.render(shared, **_context(name, state, as_of))
    return files


def _context(name: str, state: FlagState, as_of: int) -> dict[str, object]:
    """What flag.html was given (survey_renderer/catalog/flag_page.py, before)."""
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


def _environment() -> Environment:
    loader = ChoiceLoader([FileSystemLoader(HERE / "catalog_reference"),
                           FileSystemLoader(PACKAGE_TEMPLATES)])
    return Environment(loader=loader, autoescape=True, undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
