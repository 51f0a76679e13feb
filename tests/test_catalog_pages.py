"""The catalog's pages written out in Python (flag_html.py, index_html.py, markup.py) equal,
byte for byte, what the Jinja templates they replace wrote (tests/catalog_oracle.py): for a
real built config with hostile text, without summaries, and for generated hostile fields."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from catalog_oracle import PACKAGE_TEMPLATES, reference_pages
from catalog_reference import chart_before
from catalog_repo import AS_OF, HOSTILE_NAME, CatalogRepo, make
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader
from markupsafe import escape
from pydantic import ValidationError

from survey_renderer.catalog import page_pool
from survey_renderer.catalog.chart import Point, draw
from survey_renderer.catalog.flag_html import Shared
from survey_renderer.catalog.markup import page, text
from survey_renderer.catalog.pages import CSP, render_catalog
from validator import moments
from validator.build import MergedConfig
from validator.cli import main
from validator.model import MERGE_REQUEST_PATTERN

HOSTILE = st.text(alphabet=st.sampled_from("<>&\"' aé→\u05e9{}%\\"), min_size=1, max_size=12)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> CatalogRepo:
    return make(tmp_path_factory.mktemp("catalog-pages"))


@pytest.fixture(scope="module")
def config(made: CatalogRepo) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(AS_OF))
        assert main(["-C", str(made.repo.path), "build", "--history"], out=io.StringIO()) == 0
    data: dict[str, Any] = json.loads(
        (made.repo.path / "build/flags.json").read_text(encoding="utf-8"))
    return data


def _same_pages(data: dict[str, Any]) -> None:
    merged = MergedConfig.model_validate(data)
    fast = render_catalog(merged)
    reference = reference_pages(merged)
    assert {path: fast[path] for path in reference} == reference


def test_the_pages_equal_the_templates_they_replace(config: dict[str, Any]) -> None:
    _same_pages(config)
    assert "&lt;script&gt;" in render_catalog(MergedConfig.model_validate(config))[
        f"flags/{HOSTILE_NAME}.html"]


def test_without_summaries_or_history_the_pages_equal_the_templates(
        config: dict[str, Any]) -> None:
    _same_pages({**config, "catalog": None,
                 "flags": {name: {**flag, "summary": None}
                           for name, flag in config["flags"].items()}})
    _same_pages({**config, "catalog": {**config["catalog"], "history": "partial"}})


def test_lifespan_and_links_in_every_shape_equal_the_templates(config: dict[str, Any]) -> None:
    """The optional parts of a page: no age, no maximum, an end of life, no links, no
    description, no expectations, no history, an introducing merge request as text."""
    changed = copy.deepcopy(config)
    flags = changed["flags"]
    demo = flags["demo"]["summary"]
    demo["lifespan"].update(age=None, end_of_life="17.0")
    demo.update(description=None, expectations=None, rollout_issue_url=None,
                cleanup_issue_url=None, introduced_by_url=None, owners=[])
    demo["history"][0]["merge_request"] = "group/project!12"
    released = flags["released"]["summary"]
    released["lifespan"].update(max_lifespan=None, unit=None)
    released["history"] = []
    _same_pages(changed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(description=HOSTILE, author=HOSTILE, merge_request=st.one_of(
           st.none(), st.from_regex(MERGE_REQUEST_PATTERN, fullmatch=True)), state=HOSTILE,
       next_step=HOSTILE, reason=HOSTILE, text_=HOSTILE, before=HOSTILE)
def test_hostile_fields_render_as_the_templates_did(
        config: dict[str, Any], description: str, author: str, merge_request: str | None,
        state: str, next_step: str, reason: str, text_: str, before: str) -> None:
    changed = copy.deepcopy(config)
    summary = changed["flags"]["demo"]["summary"]
    summary.update(description=description, state=state, next_step=next_step)
    summary["lifespan"]["reasons"] = [reason, reason]
    summary["exposure"]["production"]["text"] = text_
    summary["expectations"]["risks"] = description
    for step in summary["history"]:
        step.update(author=author, merge_request=merge_request)
        step["from"] = before
    try:
        MergedConfig.model_validate(changed)
    except ValidationError:
        assume(False)
    _same_pages(changed)


@given(HOSTILE)
def test_text_escapes_as_markupsafe_does(value: str) -> None:
    assert text(value) == str(escape(value))


def test_the_frame_is_page_html() -> None:
    """markup.page, cut from templates/page.html once, fills it as Jinja's autoescape does."""
    template = Environment(loader=FileSystemLoader(PACKAGE_TEMPLATES), autoescape=True,
                           keep_trailing_newline=True, trim_blocks=True,
                           lstrip_blocks=True).from_string(
        '{% extends "page.html" %}{% block title %}T &amp; {{ x }}{% endblock %}'
        "{% block stylesheet %}s.css{% endblock %}{% block body %}<body>\n</body>\n"
        "{% endblock %}")
    expected = template.render(csp=CSP, x="<b>")
    assert page(CSP, "T &amp; &lt;b&gt;", "s.css", "<body>\n</body>\n") == expected
    assert Path(PACKAGE_TEMPLATES / "page.html").is_file()


POINT = st.builds(
    Point, time=st.integers(1_600_000_000, 1_700_000_000),
    kind=st.sampled_from(["off", "actors", "percentage", "on", "removed"]),
    percentage=st.one_of(st.none(), st.floats(0, 100)),
    step=st.sampled_from(["new", "forward", "rollback", "mixed", "removed",
                          "no rollout change"]),
    label=HOSTILE, state=HOSTILE,
    # A stamp is the merged config's own text of the time, which matches moments.ISO_PATTERN
    # (digits and -T:+), or none: the chart writes it as it is.
    stamp=st.one_of(st.just(""), st.integers(0, 2_000_000_000).map(moments.iso)))


@settings(max_examples=200, deadline=None)
@given(points=st.lists(POINT, max_size=8), end=st.integers(1_600_000_000, 1_800_000_000),
       legal_at=st.one_of(st.none(), st.integers(1_600_000_000, 1_800_000_000)))
def test_the_chart_draws_what_it_drew_before(points: list[Point], end: int,
                                             legal_at: int | None) -> None:
    ordered = sorted(points, key=lambda point: point.time)
    assert draw(ordered, end=end, legal_at=legal_at) == chart_before.draw(
        ordered, end=end, legal_at=legal_at)


def test_the_pool_renders_the_same_pages_in_the_same_order(
        config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked workers render the pages and the index's rows: the catalog is the same as from
    one process, also for flags not in the order of their names."""
    merged = MergedConfig.model_validate(config)
    alone = render_catalog(merged)
    monkeypatch.setattr(page_pool, "cores", lambda: 2)
    shared = Shared.of(CSP, "now", None, AS_OF)
    reordered = dict(reversed(merged.flags.items()))
    for flags in (merged.flags, reordered):
        pooled = page_pool.draw(flags, shared, parallel_from=1)
        assert pooled == page_pool.draw(flags, shared, parallel_from=10**9)
        assert len(pooled.pages) == len(flags) and pooled.rows.count("<tr ") == len(flags)
    monkeypatch.setattr(page_pool, "PARALLEL_FROM", 1)
    assert list(render_catalog(merged).items()) == list(alone.items())


def test_a_flag_named_index_does_not_replace_the_catalogs_index(
        config: dict[str, Any]) -> None:
    """Page names come from flag names, and the index is `index.html` beside them: the flag
    named `index` gets `index_.html` (no flag name ends in `_`), and the index links there."""
    data = copy.deepcopy(config)
    first = sorted(data["flags"])[0]
    data["flags"]["index"] = data["flags"].pop(first)
    files = render_catalog(MergedConfig.model_validate(data))
    assert '<table id="catalog"' in files["flags/index.html"]
    assert '<h1 id="flag-name">index</h1>' in files["flags/index_.html"]
    assert 'href="index_.html">index</a>' in files["flags/index.html"]
    assert len([path for path in files if path.endswith(".html")]) == len(data["flags"]) + 1
    _same_pages(data)


MARKERS = ('<b title="x">\'&amp;', '2026-01-01"12:00:00+00:00')
"""Hostile text, and a time `datetime.fromisoformat` reads (it takes any one separator)."""


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every string in the config's JSON, dict keys and list indexes."""
    if isinstance(value, str):
        return [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    return [leaf for key, item in items for leaf in _string_leaves(item, (*path, key))]


def _set(data: Any, path: tuple[Any, ...], value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def test_hostile_text_in_any_string_is_refused_or_shown_escaped(
        config: dict[str, Any]) -> None:
    """Every string of the merged config, one at a time (times, commits, states, authors,
    URLs and the rest: not only the fields a flag file holds), set to each marker: the model
    refuses the config (render says so in one line: tests/test_render_parts.py), or every
    page holds the marker only escaped. A time that is not as `build` writes it once went
    raw into the chart's attributes, or ended render with an internal error."""
    leaves = [path for path in _string_leaves(config) if path[0] != "$schema"]
    assert len(leaves) > 100 and any(path[-1] == "time" for path in leaves)
    for path in leaves:
        for marker in MARKERS:
            changed = copy.deepcopy(config)
            _set(changed, path, marker)
            try:
                merged = MergedConfig.model_validate(changed)
            except ValidationError:
                continue
            for name, page_text in render_catalog(merged).items():
                assert marker not in page_text, (path, marker, name)


def test_the_charts_legal_marker_shows_the_minute_the_step_is_legal_from() -> None:
    """As the index and the page's facts show it (rounded up), the exact time kept in
    data-time: the marker said 12:15 where the step is legal at 12:15:30."""
    from validator import moments

    legal = 1_800_000_030
    svg = str(draw([Point(legal - 3600, "percentage", 10.0, "forward", "a → b", "b")],
                   end=legal - 60, legal_at=legal))
    assert f"legal from {moments.minute_text(moments.minute_up(legal))}" in svg
    assert f'data-time="{moments.iso(legal)}"' in svg
