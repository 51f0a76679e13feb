"""A flag's rollout drawn as inline SVG: production exposure over time. Pure: points in, markup
out, no I/O and no external assets (the page's CSP allows none).

x is time, from the first landed change to the catalog's `as of`; y is who has the flag in
production: off 0, listed actors a small level of their own (drawn as diamonds), a
percentage its value, on 100. Each landed change is one `<g class="step">` with `data-time`
(ISO 8601) and `data-step` (forward, rollback, new, ...); a rollback also carries the class
`step-rollback` and a title that starts with "rollback". The time spent in each state (its
soak) is a shaded band with its duration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from markupsafe import Markup

from survey_renderer.catalog.markup import kept, text
from validator import moments
from validator.durations import minutes_text

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 44
ACTORS_LEVEL = 4.0
"""Listed actors only: a small level of its own, above off and below 5 %."""
MIN_SPAN = 3600
"""A chart of one moment still spans an hour, so its step is visible."""
LABELLED_BAND = 64
"""A soak band narrower than this (pixels) shows its duration only in its title."""


class Point(NamedTuple):
    """One landed change: when, who has the flag in production after it, and in what words.
    A named tuple: a catalog makes one per landed change, some 40,000 at 10,000 flags, and a
    frozen dataclass's `__init__` sets each field through `object.__setattr__`."""

    time: int
    kind: str
    """off, actors, percentage, on; "removed" when the flag file went away."""
    percentage: float | None
    step: str
    label: str
    """`from → to`, as `flagops history` says it."""
    state: str
    """The state after the change."""
    stamp: str = ""
    """`time` as ISO 8601, when the caller has it already (the merged config does: its times
    match `moments.ISO_PATTERN`, digits and `-T:+` only, so it goes into attributes as it is)."""

    @property
    def iso(self) -> str:
        return self.stamp or iso(self.time)


def level(kind: str, percentage: float | None) -> float:
    """The y value of an exposure, 0 to 100."""
    if kind == "on":
        return 100.0
    if kind == "percentage":
        return max(percentage or 0.0, ACTORS_LEVEL)
    return ACTORS_LEVEL if kind == "actors" else 0.0


@lru_cache(maxsize=4096)
def iso(moment: int) -> str:
    """Cached: ten thousand charts share the catalog's clock and, often, their days."""
    return moments.iso(moment)


def _day(moment: int) -> str:
    return day_of(iso(moment))


def day_of(stamp: str) -> str:
    """`2026-09-21T14:13:20+00:00` as `2026-09-21 14:13 UTC` (the stamps are UTC)."""
    return f"{stamp[:10]} {stamp[11:16]} UTC"


PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
AXIS_BASE = HEIGHT - BOTTOM + 18
"""Where the axis's two dates stand."""


def _y(value: float) -> float:
    """The y of a level, 0 to 100 (the same for every chart)."""
    return TOP + (100.0 - value) / 100.0 * PLOT_HEIGHT


@dataclass(frozen=True, slots=True)
class _Level:
    """What every point at one level writes alike, formatted once: a catalog's points sit on
    a few levels (off, listed, a few shares, on)."""

    top: float
    y: str
    height: str
    label_y: str
    diamond_y: str
    arrow_top: str
    arrow_tip: str

    @classmethod
    def of(cls, value: float) -> _Level:
        top = _y(value)
        return cls(top, f"{top:.1f}", f"{_y(0) - top:.1f}", f"{top - 6:.1f}",
                   f"{top - 5:.1f}", f"{top - 16:.1f}", f"{top - 8:.1f}")


_LEVELS: dict[tuple[str, float | None], _Level] = {}
_LASTED: dict[int, str] = {}
_STEP_TAGS: dict[tuple[str, str], tuple[str, str]] = {}


def _level_of(kind: str, percentage: float | None) -> _Level:
    return kept(_LEVELS, (kind, percentage), lambda: _Level.of(level(kind, percentage)))


def _lasted(minutes: int) -> str:
    """A duration's words, escaped (as all text is, though no duration holds a character
    HTML reads)."""
    return kept(_LASTED, minutes, lambda: text(minutes_text(minutes)))


def _step_tags(step: str, kind: str) -> tuple[str, str]:
    """A step's group up to its time, and from its time to its title, escaped once."""
    return kept(_STEP_TAGS, (step, kind), lambda: (
        f'<g class="step step-{text(step.replace(" ", "-"))} level-{text(kind)}" data-time="',
        f'" data-step="{text(step)}"><title>'))


_HEAD = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
         'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">'
         '<title id="chart-title">Production exposure over time</title>')


def draw(points: Sequence[Point], *, end: int, legal_at: int | None = None) -> Markup:
    """The chart of `points` (oldest first) up to `end` (the catalog's clock); an empty
    chart says there is no dated history."""
    if not points:
        return Markup(NO_CHART)
    parts: list[str] = []
    svg_into(parts, points, end, legal_at)
    return Markup("".join(parts))


NO_CHART = '<p class="no-chart">No dated history to draw.</p>'


def svg_into(parts: list[str], points: Sequence[Point], end: int,
             legal_at: int | None) -> None:
    """The markup of a chart of at least one point, as `draw` gives it, appended to `parts`
    (a flag page joins its text once). One pass over the points writes each one's band, its
    piece of the line and its step, the next point looked up for where its band ends: drawn
    through a frame object, a call per coordinate, the chart took half of a flag page's time
    at ten thousand pages, and lists of the xs and times built first, then zipped, a sixth of
    what is left."""
    start = points[0].time
    last = points[-1].time
    finish = max(end, last, legal_at or start, start + MIN_SPAN)
    span = max(finish - start, 1)
    parts += (_HEAD, _GRID, _AXIS_START, _day(start), _AXIS_END, _day(finish), "</text>")
    path: list[str] = []
    steps: list[str] = []
    levels, lasting, tags = _LEVELS, _LASTED, _STEP_TAGS
    for index, (moment, kind, percentage, step, label, state, stamp) in enumerate(points):
        # A point's band lasts until the next point, the last one's until the chart's end.
        after = points[index + 1] if index + 1 < len(points) else None
        until = finish if after is None else after.time
        till = iso(finish) if after is None else after.stamp or iso(until)
        stamp = stamp or iso(moment)
        x0 = LEFT + (moment - start) / span * PLOT_WIDTH
        x1 = LEFT + (until - start) / span * PLOT_WIDTH
        at = levels.get((kind, percentage)) or _level_of(kind, percentage)
        minutes = max(until - moment, 0) // 60
        lasted = lasting.get(minutes) or _lasted(minutes)
        x = f"{x0:.1f}"
        parts.append(f'<g class="soak" data-from="{stamp}" data-until="{till}"><title>'
                     f'{text(state)} for {lasted}</title><rect x="{x}" y="{at.y}" '
                     f'width="{max(x1 - x0, 0):.1f}" height="{at.height}"/>')
        parts.append(f'<text class="soak-label" x="{(x0 + x1) / 2:.1f}" y="{at.label_y}" '
                     f'text-anchor="middle">{lasted}</text></g>' if x1 - x0 >= LABELLED_BAND
                     else "</g>")
        path.append(f"H{x}V{at.y}" if path else f"M{x},{at.y}")
        opening, titled = tags.get((step, kind)) or _step_tags(step, kind)
        steps.append(f"{opening}{stamp}{titled}{text(step)}: {text(label)}, {stamp[:10]} "
                     f"{stamp[11:16]} UTC</title>{_mark(kind, step, x0, x, at)}</g>")
    parts.append('<path class="exposure" d="')
    parts += path
    parts.append(f'H{x1:.1f}"/>')
    if legal_at is not None and legal_at > last:
        parts.append(_legal(legal_at, LEFT + (legal_at - start) / span * PLOT_WIDTH))
    parts += steps
    parts.append("</svg>")


def _grid() -> str:
    """The five horizontal lines and their labels: the same on every chart."""
    lines = []
    for value in (0, 25, 50, 75, 100):
        y = _y(value)
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{value}%</text>')
    return "".join(lines)


_GRID = _grid()
_AXIS_START = f'<text class="axis" x="{LEFT}" y="{AXIS_BASE}">'
_AXIS_END = f'</text><text class="axis" x="{WIDTH - RIGHT}" y="{AXIS_BASE}" text-anchor="end">'


def _legal(moment: int, x: float) -> str:
    return (f'<g class="legal" data-time="{iso(moment)}"><title>next step legal from '
            f'{_day(moments.minute_up(moment))}</title><line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}"/></g>')


def _mark(kind: str, step: str, x: float, x_text: str, at: _Level) -> str:
    """A step's mark: a diamond for listed actors, else a circle; ▼ over a rollback."""
    if kind == "actors":
        mark = (f'<rect class="mark" x="{x - 5:.1f}" y="{at.diamond_y}" width="10" '
                f'height="10" transform="rotate(45 {x_text} {at.y})"/>')
    else:
        mark = f'<circle class="mark" cx="{x_text}" cy="{at.y}" r="5"/>'
    if step == "rollback":
        mark += (f'<path class="rollback-arrow" d="M{x - 6:.1f},{at.arrow_top}'
                 f'L{x + 6:.1f},{at.arrow_top}L{x_text},{at.arrow_tip}Z"/>')
    return mark
