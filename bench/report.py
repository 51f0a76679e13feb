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
    Row("validate", "`flagops validate`: every flag (full tree)"),
    Row("base", "`flagops validate --base HEAD`: 10 flags changed"),
    Row("staged", "`flagops validate --staged`: 1 staged file (pre-commit hook)"),
    Row("build", "`flagops build` (merged config)"),
    Row("render", "`flagops render` (static site)"),
    Row("status", "`flagops status`: every flag, landing times from history"),
    Row("refs", "`flagops refs NAME`: one flag's code references (git grep)"),
    Row("check_jsonschema", "peer: `check-jsonschema --schemafile` on every flag (schema only)"),
)
FLAGOPS_ROWS = ("validate", "base", "staged", "build", "render")
STAGED_LIMIT_S = 0.3
BASE_LIMIT_S = 0.5  # "well under 1 s"
BASE_GROWTH = 1.5  # "about the same" at 10x the flags
RSS_LIMIT_MB = 300.0


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
    return [_full_vs_peer(results), _base_flat(results), _staged_fast(results), _memory(results),
            _refs_fast(results)]


def _summary(results: Results, size: int, row: str) -> Summary | None:
    cell = results.get(size, {}).get(row)
    return cell if isinstance(cell, Summary) else None


def _full_vs_peer(results: Results) -> Verdict:
    target = "full validation of 10,000 flags faster than check-jsonschema"
    ours = _summary(results, 10_000, "validate")
    peer = _summary(results, 10_000, "check_jsonschema")
    if ours is None or peer is None:
        return Verdict(target, None, "needs both rows at N=10,000")
    detail = (
        f"{ours.median_s:.2f} s vs {peer.median_s:.2f} s "
        f"({ours.median_s / peer.median_s:.2f}x the peer's time)"
    )
    return Verdict(target, ours.median_s < peer.median_s, detail)


def _base_flat(results: Results) -> Verdict:
    target = (
        f"--base with 10 changes: N=10,000 within {BASE_GROWTH}x of N=1,000 "
        f"and under {BASE_LIMIT_S} s"
    )
    small, large = _summary(results, 1_000, "base"), _summary(results, 10_000, "base")
    if small is None or large is None:
        return Verdict(target, None, "needs the row at N=1,000 and N=10,000")
    growth = large.median_s / small.median_s
    detail = f"{small.median_s:.3f} s → {large.median_s:.3f} s ({growth:.2f}x)"
    return Verdict(target, growth <= BASE_GROWTH and large.median_s < BASE_LIMIT_S, detail)


def _staged_fast(results: Results) -> Verdict:
    target = f"--staged under {STAGED_LIMIT_S} s wall at every size"
    found = {size: _summary(results, size, "staged") for size in sorted(results)}
    measured = {size: cell for size, cell in found.items() if cell is not None}
    if not measured:
        return Verdict(target, None, "not measured")
    detail = ", ".join(f"N={size:,}: {cell.median_s:.3f} s" for size, cell in measured.items())
    return Verdict(target, all(c.median_s < STAGED_LIMIT_S for c in measured.values()), detail)


REFS_LIMIT_S = 0.5


def _refs_fast(results: Results) -> Verdict:
    target = f"refs for one flag under {REFS_LIMIT_S} s at N=10,000"
    cell = _summary(results, 10_000, "refs")
    if cell is None:
        return Verdict(target, None, "needs the row at N=10,000")
    return Verdict(target, cell.median_s < REFS_LIMIT_S, f"{cell.median_s:.3f} s")


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
