"""How each command's time grows with the number of flags, as an SVG line chart (log-log).

`python bench/plot.py [bench/results.json] [-o docs/bench-scaling.svg]`. Written by hand, with
the standard library only: a chart of a few lines needs no plotting library.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 250, 30, 50
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#000000")
LABELS = {
    "validate": "validate, cold",
    "validate_warm": "validate, warm",
    "validate_warm10": "validate, warm, 10 changed",
    "base": "--base, 10 changed",
    "staged": "--staged, 1 flag",
    "staged_none": "--staged, no flag",
    "build": "build, cold",
    "build_warm": "build, warm",
    "render": "render",
    "check_jsonschema": "check-jsonschema (peer)",
}

Series = dict[str, list[tuple[int, float]]]


def series(results: Mapping[str, Mapping[str, object]]) -> Series:
    """Row → (flags, median seconds), for the rows measured at two sizes or more."""
    found: Series = {}
    for size, rows in sorted(results.items(), key=lambda item: int(item[0])):
        for row, cell in rows.items():
            if row in LABELS and isinstance(cell, dict) and "median_s" in cell:
                found.setdefault(row, []).append((int(size), float(cell["median_s"])))
    return {row: points for row, points in found.items() if len(points) > 1}


def svg(lines: Series, title: str) -> str:
    sizes = sorted({size for points in lines.values() for size, _ in points})
    times = [t for points in lines.values() for _, t in points]
    if not sizes or not times:
        return _document(title, ["<text x='70' y='60'>no data</text>"])
    x_range = (math.log10(sizes[0]), math.log10(sizes[-1]))
    y_range = (math.floor(math.log10(min(times))), math.ceil(math.log10(max(times))))

    def x(size: float) -> float:
        return LEFT + (math.log10(size) - x_range[0]) / ((x_range[1] - x_range[0]) or 1) * (
            WIDTH - LEFT - RIGHT)

    def y(seconds: float) -> float:
        span = (y_range[1] - y_range[0]) or 1
        return TOP + (1 - (math.log10(seconds) - y_range[0]) / span) * (HEIGHT - TOP - BOTTOM)

    parts = _axes(sizes, y_range, x, y)
    for index, (row, points) in enumerate(sorted(lines.items(), key=lambda item: item[0])):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x(s):.1f},{y(t):.1f}" for s, t in points)
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{path}'/>")
        parts += [f"<circle cx='{x(s):.1f}' cy='{y(t):.1f}' r='3' fill='{colour}'/>"
                  for s, t in points]
        legend_y = TOP + 18 * index
        parts.append(f"<rect x='{WIDTH - RIGHT + 20}' y='{legend_y - 9}' width='14' height='4' "
                     f"fill='{colour}'/>")
        parts.append(f"<text x='{WIDTH - RIGHT + 40}' y='{legend_y}'>"
                     f"{escape(LABELS[row])}</text>")
    return _document(title, parts)


def _axes(sizes: Sequence[int], y_range: tuple[int, int], x: object, y: object) -> list[str]:
    assert callable(x) and callable(y)
    parts = [f"<line x1='{LEFT}' y1='{HEIGHT - BOTTOM}' x2='{WIDTH - RIGHT}' "
             f"y2='{HEIGHT - BOTTOM}' stroke='#333'/>",
             f"<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{HEIGHT - BOTTOM}' stroke='#333'/>"]
    for size in sizes:
        parts.append(f"<text x='{x(size):.1f}' y='{HEIGHT - BOTTOM + 18}' "
                     f"text-anchor='middle'>{size:,}</text>")
    for power in range(y_range[0], y_range[1] + 1):
        seconds = 10.0 ** power
        parts.append(f"<line x1='{LEFT}' y1='{y(seconds):.1f}' x2='{WIDTH - RIGHT}' "
                     f"y2='{y(seconds):.1f}' stroke='#ddd'/>")
        parts.append(f"<text x='{LEFT - 8}' y='{y(seconds) + 4:.1f}' text-anchor='end'>"
                     f"{seconds:g} s</text>")
    parts.append(f"<text x='{(LEFT + WIDTH - RIGHT) / 2}' y='{HEIGHT - 12}' "
                 "text-anchor='middle'>flags in the repository (log)</text>")
    return parts


def _document(title: str, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
            f"viewBox='0 0 {WIDTH} {HEIGHT}' font-family='sans-serif' font-size='12'>\n"
            f"<rect width='100%' height='100%' fill='white'/>\n"
            f"<text x='{LEFT}' y='18' font-size='14'>{escape(title)}</text>\n{body}\n</svg>\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=HERE / "results.json")
    parser.add_argument("-o", "--output", type=Path,
                        default=HERE.parent / "docs" / "bench-scaling.svg")
    args = parser.parse_args(argv)
    document = json.loads(args.results.read_text(encoding="utf-8"))
    title = "median wall time per command (log-log), start-up included"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(svg(series(document["results"]), title), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
