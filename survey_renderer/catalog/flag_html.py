"""One flag's page as markup, written out in Python: at ten thousand pages a template engine's
per-expression work cost more than everything else the page needs. Every untrusted field (the
name, description, owners, expectations, authors, URLs) goes through `markup.text` exactly
once; tests/catalog_reference/flag.html is the template this must equal, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass

from survey_renderer.catalog import cells
from survey_renderer.catalog.chart import NO_CHART, svg_into
from survey_renderer.catalog.flag_page import points
from survey_renderer.catalog.index_html import out_links
from survey_renderer.catalog.markup import kept, page_end, page_start, shown, text
from validator.build import FlagState
from validator.flag_summary import FlagSummary, Lifespan, Reach
from validator.model import Environment

CAPTION = ('<figcaption class="quiet">Production exposure: off 0, listed actors a small level '
           '(◆), a percentage its value, on 100. A ● is a landed change, ▼ a rollback; shaded '
           'bands are the time spent in each state; the dashed line is when the next step is '
           'legal.</figcaption>\n')
CHANGES_HEAD = ('<thead><tr><th scope="col">Landed</th><th scope="col">Commit</th>'
                '<th scope="col">Merge request</th><th scope="col">Author</th>'
                '<th scope="col">Change</th><th scope="col">Step</th></tr></thead>\n')


@dataclass(frozen=True, slots=True)
class Shared:
    """What every flag page says alike: computed once per catalog, escaped once."""

    csp: str
    as_of: str
    """The catalog's clock as shown, escaped."""
    history_note: str | None
    """Escaped, or None for no note."""
    as_of_moment: int

    @classmethod
    def of(cls, csp: str, as_of: str, history_note: str | None, as_of_moment: int) -> Shared:
        return cls(csp, text(as_of), None if history_note is None else text(history_note),
                   as_of_moment)


def flag_page(name: str, state: FlagState, shared: Shared) -> str:
    """The whole page of one flag, as tests/catalog_reference/flag.html renders it. Its
    pieces go into one list, joined once: the page is about 7,000 characters, a few of them
    beyond ASCII, so each join of a part copied it widened to two bytes a character."""
    summary = state.summary
    name_text = text(name)
    parts = page_start(shared.csp, f"{name_text} · Flag catalog", "catalog.css")
    parts.append('<body class="flag-page">\n<header>\n  <nav><a id="back" href="index.html">'
                 'All flags</a> · <a href="../index.html">Site</a></nav>\n'
                 f'  <h1 id="flag-name">{name_text}</h1>\n')
    if summary is not None and summary.description:
        parts.append(f'  <p id="description">{text(summary.description)}</p>\n')
    if shared.history_note:
        parts.append(f'  <p class="note" id="history-note">{shared.history_note}</p>\n')
    parts.append("</header>\n<main>\n")
    if summary is None:
        parts.append(f"<p>Stage {shown(state.stage)}; the merged config has no summary of this "
                     "flag.</p>\n")
    else:
        _summary_sections(parts, state, summary, shared)
    parts += ("</main>\n</body>\n", page_end())
    return "".join(parts)


def _summary_sections(parts: list[str], state: FlagState, summary: FlagSummary,
                      shared: Shared) -> None:
    as_of = shared.as_of_moment
    parts.append('<section aria-labelledby="chart-heading">\n<h2 id="chart-heading">Rollout '
                 'in production</h2>\n<figure>\n')
    dated = points(summary.history)
    if dated:
        svg_into(parts, dated, as_of, cells.moment(summary.legal_at))
    else:
        parts.append(NO_CHART)
    parts += (f"\n{CAPTION}</figure>\n</section>\n", _facts(state, summary, shared))
    if summary.expectations is not None:
        expect = summary.expectations
        parts.append('<section aria-labelledby="expect-title">\n<h2 id="expect-title">'
                     'Expectations</h2>\n<dl class="facts" id="expectations">\n'
                     f"  <dt>Expected</dt><dd>{text(expect.expected)}</dd>\n"
                     f"  <dt>Risks</dt><dd>{text(expect.risks)}</dd>\n"
                     f"  <dt>Monitoring</dt><dd>{text(expect.monitoring)}</dd>\n"
                     "</dl>\n</section>\n")
    _changes(parts, summary)


def _facts(state: FlagState, summary: FlagSummary, shared: Shared) -> str:
    as_of = shared.as_of_moment
    staging = summary.exposure.get(Environment.STAGING)
    production = summary.exposure.get(Environment.PRODUCTION)
    owners = " ".join(map(text, summary.owners)) or "none"
    return (
        '<section aria-labelledby="now-title">\n<h2 id="now-title">Now <span class="quiet">'
        f'(as of {shared.as_of})</span></h2>\n<dl class="facts" id="facts">\n'
        f'  <dt>State</dt><dd id="state">{text(summary.state)}</dd>\n'
        f'  <dt>Staging</dt>{_exposure("staging", staging)}\n'
        f'  <dt>Production</dt>{_exposure("production", production)}\n'
        f'  <dt>default_enabled</dt><dd>{"yes" if state.default_enabled else "no"}</dd>\n'
        f"  <dt>Since</dt><dd>{text(cells.shown(cells.moment(summary.since)))} "
        f"({text(cells.in_state(summary, as_of))})</dd>\n"
        f'  <dt>Next step</dt><dd id="next-step">{text(summary.next_step)}, legal '
        f"{text(cells.legal(summary, as_of))}</dd>\n"
        f"  <dt>Lifespan</dt>{_lifespan(summary.lifespan)}\n"
        f"  <dt>Type</dt><dd>{shown(summary.type)}</dd>\n"
        f'  <dt>Group</dt><dd id="group">{text(summary.group)}</dd>\n'
        f"  <dt>Milestone</dt><dd>{text(summary.milestone)}</dd>\n"
        f'  <dt>Owners</dt><dd id="owners">{owners}</dd>\n'
        f'  <dt>Links</dt><dd id="links">{_links(summary)}</dd>\n'
        "</dl>\n</section>\n")


def _exposure(environment: str, reach: Reach | None) -> str:
    """The template looked both up by name: a missing environment was an error there too."""
    if reach is None:
        raise KeyError(environment)
    return (f'<dd id="exposure-{environment}" title="{text(reach.text)}">'
            f"{text(cells.exposure(reach))}</dd>")


def _lifespan(lifespan: Lifespan) -> str:
    status = text(lifespan.status)
    said = [f'<dd id="lifespan" class="lifespan-{status}">{status}']
    if lifespan.age is not None:
        said.append(f": {lifespan.age}")
        if lifespan.max_lifespan is not None:
            said.append(f" of {lifespan.max_lifespan}")
        said.append(f" {shown(lifespan.unit)}")
    if lifespan.end_of_life:
        said.append(f", end of life {text(lifespan.end_of_life)}")
    said += [f"; {text(reason)}" for reason in lifespan.reasons]
    said.append("</dd>")
    return "".join(said)


def _links(summary: FlagSummary) -> str:
    said = " · ".join(out_links(summary)) or "none"
    introduced = cells.introducing_merge_request(summary)
    if introduced and not summary.introduced_by_url:
        said += f' · introduced in <span class="mr">{text(introduced)}</span>'
    return said


_STEP_CELLS: dict[str, tuple[str, str]] = {}


def _step_cells(step: str) -> tuple[str, str]:
    """A change row's start and end, which say its step: a handful of steps, escaped once."""
    return _STEP_CELLS.get(step) or kept(_STEP_CELLS, step, lambda: (
        f'<tr class="change-{text(step.replace(" ", "-"))}"><td>',
        f"</td><td>{text(step)}</td></tr>\n"), most=64)


def _changes(parts: list[str], summary: FlagSummary) -> None:
    """The rows of flag_page.changes, newest first, written from the history itself."""
    parts.append('<section aria-labelledby="changes-title">\n<h2 id="changes-title">Changes'
                 f'</h2>\n<table id="changes">\n{CHANGES_HEAD}<tbody>\n')
    moment, when = cells.moment, cells.shown
    for change in reversed(summary.history):
        opening, closing = _step_cells(change.step)
        commit = change.commit
        parts.append(f'{opening}{text(when(moment(change.time)))}</td><td><code title='
                     f'"{text(commit)}">{text(commit[:12])}</code></td><td>'
                     f"{text(change.merge_request or '')}</td><td>{text(change.author)}</td>"
                     f"<td>{text(change.before)} → {text(change.after)}{closing}")
    if not summary.history:
        parts.append('<tr><td colspan="6">No history.</td></tr>\n')
    parts.append("</tbody>\n</table>\n</section>\n")
