"""Results to a Markdown table, target verdicts, a machine line and JSON. Pure: values in, text out.

A cell is either numbers or a reason (`not available: ...`), so a command that does not exist yet
leaves a visible gap instead of stopping the benchmark.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from measure import Summary

Cell = Summary | str
"""A measurement, or why there is none."""

Results = Mapping[int, Mapping[str, Cell]]
"""size → row id → cell."""


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    label: str


ROWS = (
    Row("validate", "`flagops validate --no-cache`: every flag, cold"),
    Row("validate_warm", "`flagops validate`: every flag, cache warm, nothing changed"),
    Row("validate_warm10", "`flagops validate`: every flag, cache warm, 10 files changed"),
    Row("base", "`flagops validate --base HEAD`: 10 flags changed"),
    Row("staged", "`flagops validate --staged`: 1 staged file (pre-commit hook)"),
    Row("staged_none", "`flagops validate --staged`: no flag file staged"),
    Row("floor_staged", "floor: imports and reads any hook on these libraries makes, one "
        "staged flag file (`bench/floor.py`)"),
    Row("floor_staged_none", "floor: the interpreter and the hook's three git questions, no "
        "flag file staged"),
    Row("build", "`flagops build --no-cache` (merged config), cold"),
    Row("build_warm", "`flagops build`: cache warm"),
    Row("render", "`flagops render --no-cache` (static site and catalog), cold"),
    Row("render_warm", "`flagops render`: nothing changed since the last render"),
    Row("status", "`flagops status`: every flag, landing times from history (no cache)"),
    Row("status_warm", "`flagops status`: history states cached by blob id"),
    Row("refs", "`flagops refs NAME`: one flag's code references (git grep)"),
    Row("check_jsonschema", "peer: `check-jsonschema --schemafile` on every flag (schema only)"),
)
FLAGOPS_ROWS = tuple(row.id for row in ROWS
                     if row.id != "check_jsonschema" and not row.id.startswith("floor_"))
"""Every flagops command measured: the memory target is for each of them."""
SCALE_ROWS = ("validate", "validate_warm", "validate_warm10", "base", "staged", "staged_none",
              "floor_staged", "floor_staged_none")
"""The rows measured above 10,000 flags (the issue's scale targets); the others stay gaps."""
PEER_RATIO = 0.25
WARM_LIMIT_S, WARM10_LIMIT_S = 0.3, 0.4
BUILD_RENDER_LIMIT_S = 1.0
RENDER_LIMIT_S = 2.0  # issue 14: the catalog of 10,000 flags
STAGED_LIMIT_S, STAGED_NONE_LIMIT_S = 0.15, 0.08
REFS_LIMIT_S = 0.5
FLAT_GROWTH = 1.5  # "stay flat": the largest size within this factor of the smallest
RSS_LIMIT_MB = 120.0


def table(results: Results) -> str:
    sizes = sorted(results)
    header = ["measurement"]
    for size in sizes:
        header += [f"N={size:,} wall s, median (min)", f"N={size:,} peak RSS MB"]
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (2 * len(sizes)) + "|"]
    for row in ROWS:
        cells = [row.label]
        for size in sizes:
            cells += _cells(results[size].get(row.id, "not measured"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cells(cell: Cell) -> list[str]:
    if isinstance(cell, str):
        return [cell, "-"]
    return [f"{cell.median_s:.3f} ({cell.min_s:.3f})", f"{cell.peak_rss_mb:.0f}"]


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    met: bool | None
    """None: not evaluated (a size or a row is missing)."""
    detail: str

    def line(self) -> str:
        mark = {True: "PASS", False: "MISS", None: "SKIP"}[self.met]
        return f"{mark}  {self.target}: {self.detail}"


def verdicts(results: Results) -> list[Verdict]:
    warm = "full validation of 10,000 flags, cache warm"
    staged = "--staged, {} staged: under {} s at 10,000 flags"
    return [_full_vs_peer(results),
            _under(results, "validate_warm", WARM_LIMIT_S,
                   f"{warm}, nothing changed: under {WARM_LIMIT_S} s"),
            _under(results, "validate_warm10", WARM10_LIMIT_S,
                   f"{warm}, 10 files changed: under {WARM10_LIMIT_S} s"),
            _build_render(results),
            _under(results, "render", RENDER_LIMIT_S,
                   f"render of 10,000 flags (site and catalog), cold: under {RENDER_LIMIT_S} s"),
            _under(results, "staged", STAGED_LIMIT_S,
                   staged.format("one flag file", STAGED_LIMIT_S), floor="floor_staged"),
            _under(results, "staged_none", STAGED_NONE_LIMIT_S,
                   staged.format("no flag file", STAGED_NONE_LIMIT_S),
                   floor="floor_staged_none"),
            _flat(results, "base"), _flat(results, "staged"), _memory(results),
            _under(results, "refs", REFS_LIMIT_S,
                   f"refs for one flag under {REFS_LIMIT_S} s at N=10,000")]


def _under(results: Results, row: str, limit: float, target: str,
           floor: str | None = None) -> Verdict:
    """Is the row's median at N=10,000 under `limit` seconds? With `floor`, the detail also
    gives that row's median: how much of the time is the libraries' and git's own."""
    cell = _summary(results, 10_000, row)
    if cell is None:
        return Verdict(target, None, "needs the row at N=10,000")
    detail = f"{cell.median_s:.3f} s"
    least = _summary(results, 10_000, floor) if floor is not None else None
    if least is not None:
        detail += (f"; its floor (`bench/floor.py`) {least.median_s:.3f} s, so flagops's own "
                   f"part is {cell.median_s - least.median_s:.3f} s")
    return Verdict(target, cell.median_s < limit, detail)


def _summary(results: Results, size: int, row: str) -> Summary | None:
    cell = results.get(size, {}).get(row)
    return cell if isinstance(cell, Summary) else None


def _full_vs_peer(results: Results) -> Verdict:
    target = f"full validation of 10,000 flags, cold: at most {PEER_RATIO}x check-jsonschema"
    ours = _summary(results, 10_000, "validate")
    peer = _summary(results, 10_000, "check_jsonschema")
    if ours is None or peer is None:
        return Verdict(target, None, "needs both rows at N=10,000")
    ratio = ours.median_s / peer.median_s
    detail = f"{ours.median_s:.2f} s vs {peer.median_s:.2f} s ({ratio:.2f}x the peer's time)"
    return Verdict(target, ratio <= PEER_RATIO, detail)


def _build_render(results: Results) -> Verdict:
    target = f"build + render of 10,000 flags, cache warm: under {BUILD_RENDER_LIMIT_S} s"
    build = _summary(results, 10_000, "build_warm")
    render = _summary(results, 10_000, "render_warm")
    if build is None or render is None:
        return Verdict(target, None, "needs both rows at N=10,000")
    total = build.median_s + render.median_s
    detail = f"{build.median_s:.3f} s + {render.median_s:.3f} s = {total:.3f} s"
    return Verdict(target, total < BUILD_RENDER_LIMIT_S, detail)


def _flat(results: Results, row: str) -> Verdict:
    sizes = [size for size in sorted(results) if _summary(results, size, row) is not None]
    target = f"{row} stays flat: the largest size within {FLAT_GROWTH}x of the smallest"
    if len(sizes) < 2:
        return Verdict(target, None, "needs two sizes")
    small, large = _summary(results, sizes[0], row), _summary(results, sizes[-1], row)
    assert small is not None and large is not None
    growth = large.median_s / small.median_s
    detail = (f"N={sizes[0]:,}: {small.median_s:.3f} s → N={sizes[-1]:,}: "
              f"{large.median_s:.3f} s ({growth:.2f}x)")
    return Verdict(target, growth <= FLAT_GROWTH, detail)



def _memory(results: Results) -> Verdict:
    target = f"peak RSS of every flagops command under {RSS_LIMIT_MB:.0f} MB at N=10,000"
    cells = {row: _summary(results, 10_000, row) for row in FLAGOPS_ROWS}
    measured = {row: cell for row, cell in cells.items() if cell is not None}
    if not measured:
        return Verdict(target, None, "needs N=10,000")
    worst = max(measured, key=lambda row: measured[row].peak_rss_mb)
    detail = f"highest {measured[worst].peak_rss_mb:.0f} MB ({worst})"
    missing = sorted(set(FLAGOPS_ROWS) - set(measured))
    if missing:
        detail += f"; not measured: {', '.join(missing)}"
    return Verdict(target, measured[worst].peak_rss_mb < RSS_LIMIT_MB, detail)


def machine() -> dict[str, object]:
    """What the numbers depend on; the load average shows whether the machine was shared."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(_mem_total_kb() / 1024 / 1024, 1),
        "python": platform.python_version(),
        "git": _git_version(),
        "os": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(info: Mapping[str, object]) -> str:
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM; "
        f"Python {info['python']}; {info['git']}; {info['os']}; {info['date']}"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _mem_total_kb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _git_version() -> str:
    done = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "git (unknown version)"


def to_json(results: Results) -> dict[str, dict[str, object]]:
    return {
        str(size): {
            row: cell if isinstance(cell, str) else asdict(cell) for row, cell in rows.items()
        }
        for size, rows in results.items()
    }


def importtime_note(imports: Mapping[str, object]) -> str:
    """One line on the pre-commit path's imports; kept out of the table on purpose."""
    top = imports.get("top_cumulative")
    if not isinstance(top, list):
        return f"Import times not measured: {imports.get('error', 'no size run')}"
    listed = ", ".join(f"{item['module']} {item['cumulative_ms']:.0f} ms" for item in top)
    return (
        f"Note: `{imports['command']}` at N={imports['size']:,}, "
        f"top-level imports by cumulative time: {listed}."
    )


def markdown(
    results: Results,
    info: Mapping[str, object],
    found: Sequence[Verdict],
    runs: int,
    imports: Mapping[str, object],
) -> str:
    """The file pasted into the README: the table, how it was measured, machine, verdicts."""
    checks = "\n".join(f"- {verdict.line()}" for verdict in found)
    return (
        f"{table(results)}\n"
        f"Wall time: median of {runs} runs (round-robin over the rows, after one warm-up run "
        "each), min in brackets. Peak RSS: the highest of the runs, the command's own process "
        "tree.\n\n"
        f"Machine: {machine_line(info)}; load average {info['load_average_at_start']} at the "
        f"start, {info.get('load_average_at_end', '?')} at the end.\n\n"
        f"Targets:\n{checks}\n\n{importtime_note(imports)}\n"
    )
