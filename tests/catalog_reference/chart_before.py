"""The chart as survey_renderer/catalog/chart.py drew it before it was made faster: the oracle
its output must equal (tests/test_catalog_pages.py).

A flag's rollout drawn as inline SVG: production exposure over time. Pure: points in, markup
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
from datetime import UTC, datetime

from markupsafe import Markup, escape

from survey_renderer.catalog.chart import Point
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


def level(kind: str, percentage: float | None) -> float:
    """The y value of an exposure, 0 to 100."""
    if kind == "on":
        return 100.0
    if kind == "percentage":
        return max(percentage or 0.0, ACTORS_LEVEL)
    return ACTORS_LEVEL if kind == "actors" else 0.0


def iso(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def _day(moment: int) -> str:
    return day_of(iso(moment))


def day_of(stamp: str) -> str:
    """`2026-09-21T14:13:20+00:00` as `2026-09-21 14:13 UTC` (the stamps are UTC)."""
    return f"{stamp[:10]} {stamp[11:16]} UTC"


@dataclass(frozen=True, slots=True)
class _Frame:
    start: int
    end: int

    def x(self, moment: int) -> float:
        span = max(self.end - self.start, 1)
        return LEFT + (moment - self.start) / span * (WIDTH - LEFT - RIGHT)

    @staticmethod
    def y(value: float) -> float:
        return TOP + (100.0 - value) / 100.0 * (HEIGHT - TOP - BOTTOM)


def draw(points: Sequence[Point], *, end: int, legal_at: int | None = None) -> Markup:
    """The chart of `points` (oldest first) up to `end` (the catalog's clock); an empty
    chart says there is no dated history."""
    if not points:
        return Markup('<p class="no-chart">No dated history to draw.</p>')
    start = points[0].time
    frame = _Frame(start, max(end, points[-1].time, legal_at or start, start + MIN_SPAN))
    parts = [_axes(frame), *_bands(points, frame), _line(points, frame)]
    if legal_at is not None and legal_at > points[-1].time:
        parts.append(_legal(legal_at, frame))
    parts += [_step(point, frame) for point in points]
    head = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">'
            '<title id="chart-title">Production exposure over time</title>')
    return Markup(head + "".join(parts) + "</svg>")


def _axes(frame: _Frame) -> str:
    lines = []
    for value in (0, 25, 50, 75, 100):
        y = frame.y(value)
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{value}%</text>')
    base = HEIGHT - BOTTOM + 18
    lines.append(f'<text class="axis" x="{LEFT}" y="{base}">{_day(frame.start)}</text>')
    lines.append(f'<text class="axis" x="{WIDTH - RIGHT}" y="{base}" text-anchor="end">'
                 f'{_day(frame.end)}</text>')
    return "".join(lines)


def _line(points: Sequence[Point], frame: _Frame) -> str:
    first = points[0]
    path = [f"M{frame.x(first.time):.1f},{_y(first, frame):.1f}"]
    path += [f"H{frame.x(point.time):.1f}V{_y(point, frame):.1f}" for point in points[1:]]
    path.append(f"H{frame.x(frame.end):.1f}")
    return f'<path class="exposure" d="{"".join(path)}"/>'


def _y(point: Point, frame: _Frame) -> float:
    return frame.y(level(point.kind, point.percentage))


def _bands(points: Sequence[Point], frame: _Frame) -> list[str]:
    """Each state's time, from its change to the next (the last one to the chart's end)."""
    bands = []
    last = iso(frame.end)
    for index, point in enumerate(points):
        following = points[index + 1] if index + 1 < len(points) else None
        until = following.time if following else frame.end
        x0, x1 = frame.x(point.time), frame.x(until)
        top = frame.y(level(point.kind, point.percentage))
        lasted = minutes_text(max(until - point.time, 0) // 60)
        title = escape(f"{point.state} for {lasted}")
        ended = following.iso if following else last
        bands.append(f'<g class="soak" data-from="{point.iso}" data-until="{ended}">'
                     f"<title>{title}</title><rect x=\"{x0:.1f}\" y=\"{top:.1f}\" "
                     f'width="{max(x1 - x0, 0):.1f}" height="{frame.y(0) - top:.1f}"/>')
        if x1 - x0 >= LABELLED_BAND:
            bands.append(f'<text class="soak-label" x="{(x0 + x1) / 2:.1f}" '
                         f'y="{top - 6:.1f}" text-anchor="middle">{escape(lasted)}</text>')
        bands.append("</g>")
    return bands


def _legal(moment: int, frame: _Frame) -> str:
    x = frame.x(moment)
    return (f'<g class="legal" data-time="{iso(moment)}"><title>next step legal from '
            f'{_day(moments.minute_up(moment))}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
            f'y2="{HEIGHT - BOTTOM}"/></g>')


def _step(point: Point, frame: _Frame) -> str:
    x, y = frame.x(point.time), frame.y(level(point.kind, point.percentage))
    title = escape(f"{point.step}: {point.label}, {day_of(point.iso)}")
    mark = (f'<rect class="mark" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
            f'transform="rotate(45 {x:.1f} {y:.1f})"/>' if point.kind == "actors"
            else f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="5"/>')
    if point.step == "rollback":
        mark += (f'<path class="rollback-arrow" d="M{x - 6:.1f},{y - 16:.1f}'
                 f'L{x + 6:.1f},{y - 16:.1f}L{x:.1f},{y - 8:.1f}Z"/>')
    step = escape(point.step)
    kind = escape(point.step.replace(" ", "-"))
    return (f'<g class="step step-{kind} level-{escape(point.kind)}" data-time="{point.iso}" '
            f'data-step="{step}"><title>{title}</title>{mark}</g>')
