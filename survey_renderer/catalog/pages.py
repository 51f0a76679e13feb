"""Every file of the catalog, keyed by its path relative to the site root: values in, text out.

All links are relative (`index.html`, `<name>.html`, `../index.html`), so the catalog works
from file:// and under any GitLab Pages project path. The pages load only their own stylesheet
and script, and the CSP allows nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from survey_renderer.catalog import cells
from survey_renderer.catalog.flag_html import Shared
from survey_renderer.catalog.index import flag_choices
from survey_renderer.catalog.page_pool import PageSink, draw
from validator.build import MergedConfig

FOLDER = "flags"
ASSETS = ("catalog.css", "catalog.js")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "base-uri 'none'; form-action 'none'")
HISTORY_NOTES = {
    "complete": None,
    "partial": "This was built from a shallow clone: the history shown is cut where the clone "
               "ends, and times before it are unknown.",
    "none": "This was built outside a git repository: no history, no times in state.",
    None: "The merged config has no flag summaries (flagops build without --history): "
          "stages only, no timelines, no times in state.",
}
_HERE = Path(__file__).parent


def page_path(name: str) -> str:
    return f"{FOLDER}/{cells.page_file(name)}"


def page_paths(config: MergedConfig) -> list[str]:
    """Every flag's page, as `render_catalog` gives them or gives them to its sink."""
    return list(map(page_path, config.flags))


def render_catalog(config: MergedConfig, *, now: int | None = None,
                   sink: PageSink | None = None) -> dict[str, str]:
    """The index, one page per flag and the two assets. Times are as of the config's own
    clock (`catalog.as_of`), else `now`, else the epoch: rendering never reads the clock.

    With a `sink`, each flag's page goes to it instead, `sink(page_path(name), text)`, from
    whichever process drew it (page_pool): render writes them where they are drawn."""
    every = shared_of(config, now)
    to_path = None if sink is None else by_path(sink)
    drawn = draw(config.flags, every, sink=to_path)
    pages = [] if sink is not None else zip(page_paths(config), drawn.pages, strict=True)
    return index_files(config, drawn.rows, flag_choices(config.flags), len(config.flags), now,
                       pages=pages)


def shared_of(config: MergedConfig, now: int | None = None) -> Shared:
    """What every flag page of the config says alike (its flags are not read)."""
    as_of, shown_as_of, note = _clock(config, now)
    return Shared.of(CSP, shown_as_of, note, as_of)


def _clock(config: MergedConfig, now: int | None) -> tuple[int, str, str | None]:
    """The catalog's clock as a moment and as shown, and its note on the history."""
    as_of = cells.moment(config.catalog.as_of) if config.catalog else now
    as_of = 0 if as_of is None else as_of
    shown_as_of = cells.shown(as_of) if config.catalog else "unknown"
    return as_of, shown_as_of, HISTORY_NOTES[config.catalog.history if config.catalog else None]


def index_files(config: MergedConfig, rows: str, choices: dict[str, list[str]], count: int,
                now: int | None = None, *,
                pages: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """The catalog's index, `pages` and the assets, from the flags' rows drawn already (the
    config's flags are not read)."""
    files = {INDEX: _index(config, Markup(rows), choices, count, now)}
    files.update(pages)
    files.update(assets())
    return files


INDEX = f"{FOLDER}/index.html"
_ROWS = Markup("\0rows\0")


def index_around(config: MergedConfig, choices: dict[str, list[str]], count: int,
                 now: int | None = None) -> tuple[str, str] | None:
    """The catalog's index before its rows and after them: render's workers drew the rows,
    in UTF-8 already, and the page is written in its three pieces, never joined as text
    (its 10,000 rows are 9 MB). None where the rows' mark (a NUL, which the template never
    writes) is found other than once: a filter's value held it."""
    text = _index(config, _ROWS, choices, count, now)
    before, found, after = text.partition(_ROWS)
    return (before, after) if found and _ROWS not in after else None


def _index(config: MergedConfig, rows: Markup, choices: dict[str, list[str]], count: int,
           now: int | None) -> str:
    _, shown_as_of, note = _clock(config, now)
    return _template("index.html").render(
        csp=CSP, environment=str(config.environment), as_of=shown_as_of, history_note=note,
        rows=rows, choices=choices, count=count)


def assets() -> dict[str, str]:
    """The catalog's stylesheet and script, by path."""
    return {f"{FOLDER}/{asset}": _asset(asset) for asset in ASSETS}


def by_path(sink: PageSink) -> PageSink:
    """The sink as page_pool calls it, by flag name, handing on the page's path."""
    return lambda name, text: sink(page_path(name), text)


def landing_page() -> str:
    """The site root when there is no survey page: a way to the catalog."""
    return _template("root.html").render(csp=CSP)



@cache
def _asset(name: str) -> str:
    return (_HERE.parent / "static" / name).read_text(encoding="utf-8")


@cache
def _template(name: str) -> Template:
    return _environment().get_template(f"catalog/{name}")


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(_HERE.parent / "templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)
