"""The rollout chart and the words of the catalog, from plain values: no git, no browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from survey_renderer.catalog import cells
from survey_renderer.catalog.chart import ACTORS_LEVEL, HEIGHT, Point, draw, iso, level
from validator.flag_summary import Reach
from validator.gates import stage_gates
from validator.lifecycle.lifespan import Age
from validator.lifecycle.summary import lifespan, reach_of
from validator.model import Environment, Percentage, Stage

SVG = "{http://www.w3.org/2000/svg}"
T0 = 1_790_000_000
HOUR = 3600


def points() -> list[Point]:
    return [Point(T0, "off", None, "new", "(no flag) → off", "off"),
            Point(T0 + HOUR, "actors", None, "forward", "off → beta (1 actor)", "beta"),
            Point(T0 + 5 * HOUR, "percentage", 25.0, "forward", "beta → 25%", "25%"),
            Point(T0 + 6 * HOUR, "actors", None, "rollback", "25% → beta <b>&", "beta")]


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # well-formed XML, or this raises


def test_one_step_per_change_with_its_time_and_kind() -> None:
    svg = parsed(draw(points(), end=T0 + 10 * HOUR))
    steps = svg.findall(f".//{SVG}g[@data-time]")
    steps = [g for g in steps if "step" in g.get("class", "").split()]
    assert [g.get("data-time") for g in steps] == [iso(p.time) for p in points()]
    assert [g.get("data-step") for g in steps] == ["new", "forward", "forward", "rollback"]
    rollback = [g for g in steps if "step-rollback" in g.get("class", "")]
    assert len(rollback) == 1
    title = rollback[0].find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("rollback: 25% → beta <b>&")  # text, escaped in the markup


def test_steps_are_drawn_left_to_right_at_their_levels() -> None:
    svg = parsed(draw(points(), end=T0 + 10 * HOUR))
    marks = [g.find(f"{SVG}circle") if g.find(f"{SVG}circle") is not None
             else g.find(f"{SVG}rect") for g in svg.iter(f"{SVG}g")
             if "step" in g.get("class", "").split()]
    xs = [float(m.get("cx") or float(m.get("x", 0)) + 5) for m in marks if m is not None]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert "level-actors" in svg.findall(f".//{SVG}g[@data-step='forward']")[0].get("class", "")


def test_levels() -> None:
    assert level("off", None) == 0 and level("on", None) == 100
    assert level("actors", None) == ACTORS_LEVEL
    assert level("percentage", 30) == 30 and level("percentage", 1) == ACTORS_LEVEL
    assert level("removed", None) == 0


def test_soak_bands_cover_each_state_until_the_next_change() -> None:
    svg = parsed(draw(points(), end=T0 + 10 * HOUR))
    bands = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "soak"]
    assert [(g.get("data-from"), g.get("data-until")) for g in bands] == [
        (iso(T0), iso(T0 + HOUR)), (iso(T0 + HOUR), iso(T0 + 5 * HOUR)),
        (iso(T0 + 5 * HOUR), iso(T0 + 6 * HOUR)), (iso(T0 + 6 * HOUR), iso(T0 + 10 * HOUR))]
    titles = [g.find(f"{SVG}title") for g in bands]
    assert [t.text for t in titles if t is not None][1] == "beta for 4 h"


def test_the_next_legal_step_is_marked_only_ahead() -> None:
    ahead = parsed(draw(points(), end=T0 + 7 * HOUR, legal_at=T0 + 9 * HOUR))
    assert [g.get("data-time") for g in ahead.iter(f"{SVG}g")
            if g.get("class") == "legal"] == [iso(T0 + 9 * HOUR)]
    behind = draw(points(), end=T0 + 7 * HOUR, legal_at=T0)
    assert 'class="legal"' not in behind


def test_no_history_no_chart_and_one_moment_still_draws() -> None:
    assert "No dated history" in draw([], end=T0)
    single = parsed(draw(points()[:1], end=T0))
    assert len([g for g in single.iter(f"{SVG}g") if g.get("data-step")]) == 1
    assert single.get("viewBox") == f"0 0 720 {HEIGHT}"


def test_hostile_labels_stay_text() -> None:
    evil = Point(T0, "on", None, "new\"><script>", "<script>alert(1)</script>", "&")
    markup = str(draw([evil], end=T0 + HOUR))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    parsed(markup)


@pytest.mark.parametrize(("stage", "kind", "actors", "share", "text"), [
    (Stage.OFF, "off", 0, None, "nobody"),
    (Stage.STAGING, "off", 0, None, "nobody"),
    (Stage.BETA, "actors", 2, None, "User:1, User:2"),
    (Stage.PERCENTAGE, "percentage", 2, 25.0, "User:1, User:2 plus 25% of actors"),
    (Stage.ENABLED, "on", 0, None, "everyone"),
])
def test_reach_in_production(stage: Stage, kind: str, actors: int, share: float | None,
                             text: str) -> None:
    gates = stage_gates(stage, ["User:2", "User:1"], Percentage(of="actors", value=25),
                        Environment.PRODUCTION)
    assert reach_of(gates) == Reach(kind=kind, actors=actors, percentage=share, text=text)


@pytest.mark.parametrize(("reach", "words"), [
    (Reach(kind="off", actors=0, percentage=None, text=""), "off"),
    (Reach(kind="actors", actors=3, percentage=None, text=""), "listed actors (3)"),
    (Reach(kind="percentage", actors=2, percentage=12.5, text=""), "12.5% + 2 listed"),
    (Reach(kind="percentage", actors=0, percentage=50, text=""), "50%"),
    (Reach(kind="percentage", actors=0, percentage=12.34545, text=""), "12.34545%"),
    (Reach(kind="percentage", actors=0, percentage=1e-05, text=""), "0.00001%"),
    (Reach(kind="on", actors=0, percentage=None, text=""), "on"),
])
def test_exposure_words_and_their_order(reach: Reach, words: str) -> None:
    assert cells.exposure(reach) == words
    ranks = [cells.exposure_rank(Reach(kind=k, actors=0, percentage=p, text=""))
             for k, p in (("off", None), ("actors", None), ("percentage", 1), ("on", None))]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize(("lived", "stale", "status"), [
    (Age(2, 6, "milestones"), [], "ok"),
    (Age(5, 6, "milestones"), [], "approaching"),
    (Age(6, 6, "milestones"), ["past its lifespan"], "overdue"),
    (Age(1, 6, "months"), ["past intended_to_rollout_by 2026-01-01"], "overdue"),
    (Age(40, None, "months"), [], "ok"),
    (None, [], "unknown"),
])
def test_lifespan_status(lived: Age | None, stale: list[str], status: str) -> None:
    found = lifespan(lived, stale)
    assert found.status == status and found.reasons == tuple(stale)
    assert found.age == (lived.lived if lived else None)


def test_time_words() -> None:
    assert cells.moment("2026-09-21T14:13:20+00:00") == T0
    assert cells.shown(T0) == "2026-09-21 14:13 UTC" and cells.shown(None) == "unknown"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", iso(T0))
