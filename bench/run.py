"""The flagops benchmark (issue 6): `python bench/run.py [--sizes 1000 10000] [--runs 5]`.

For each size it generates (or reuses from bench/.cache) a synthetic flag repository with a
rollout history, changes 10 flags by one legal step in the working tree and stages one of them,
then times the real console scripts as a user runs them, interpreter start-up included.
Standard library only, so the numbers carry no harness of ours beyond fork and wait.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import flagplan
import plot
import report
import synth
import workspace
from measure import CommandFailed, Sample, Summary, byte_compile, capture, run_once, top_imports

HERE = Path(__file__).resolve().parent
Commands = dict[str, list[str]]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    byte_compile(_interpreter(_tool("flagops")))
    info = report.machine()
    results: dict[int, dict[str, report.Cell]] = {}
    repositories: dict[str, dict[str, object]] = {}
    imports: dict[str, object] = {}
    for size in sorted(set(args.sizes)):
        plan = flagplan.plan_repo(size, steps=args.steps, batch=args.batch)
        repo, repositories[str(size)] = workspace.repository(plan, args.cache, fresh=args.fresh)
        results[size] = _measure_size(repo, plan, args.runs)
        if size == max(args.sizes):
            imports = _importtime(repo, plan)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    found = report.verdicts(results)
    _print(results, info, found, imports)
    _write(args, results, info, found, imports, repositories)
    failed = [c for r in results.values() for c in r.values() if str(c).startswith("failed")]
    if args.catalog:  # issue 14: the catalog at the largest size, in bench/catalog.py
        import catalog

        workspace.settle()
        catalog.main(["--size", str(max(args.sizes)), "--runs", str(args.runs),
                      "--cache", str(args.cache)])
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000],
                        help="flags per repository; above 10,000 only the scale rows run")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results.json",
        help="JSON results; the Markdown table goes beside it (.md)",
    )
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--fresh", action="store_true", help="regenerate cached repositories")
    parser.add_argument("--steps", type=int, default=8, help="versions of every flag")
    parser.add_argument("--batch", type=int, default=40, help="flags per commit")
    parser.add_argument("--catalog", action="store_true",
                        help="also time the flag catalog (bench/catalog.py) at the largest size")
    return parser


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _tool(name: str) -> Path | None:
    """The console script beside this interpreter (the venv), else the one on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def _commands(repo: Path, plan: flagplan.RepoPlan) -> tuple[Commands, dict[str, report.Cell]]:
    """Row id → argv in run order (render reads what build wrote), and rows that cannot run."""
    flagops, peer = _tool("flagops"), _tool("check-jsonschema")
    if flagops is None:
        raise SystemExit("bench: the flagops console script is not installed (pip install -e .)")
    state = repo / ".git" / "bench"
    cache, snapshot, changed = state / "cache-warm", state / "cache-at-head", state / "cache-10"
    commands: Commands = {
        "validate": [str(flagops), "validate", "--no-cache"],
        "validate_warm": [str(flagops), "validate", "--cache-dir", str(cache)],
        # The cache as a run at HEAD left it, put back before each run (and nothing else: the
        # last run's recent entries would make the 10 changed files hits): 10 files changed.
        "validate_warm10": ["sh", "-c", 'rm -f "$2"/*.json && cp "$1"/*.json "$2"/ && exec "$3" '
                            'validate --cache-dir "$2"', "sh", str(snapshot), str(changed),
                            str(flagops)],
        "base": [str(flagops), "validate", "--base", "HEAD"],
        "staged": [str(flagops), "validate", "--staged"],
        # An index as HEAD has it: the hook runs on every commit, most stage no flag file.
        "staged_none": ["env", f"GIT_INDEX_FILE={state / 'index-at-head'}", str(flagops),
                        "validate", "--staged"],
        # What any hook on these libraries does in the same two states (bench/floor.py).
        "floor_staged": [_interpreter(flagops), str(HERE / "floor.py"), "staged"],
        "floor_staged_none": ["env", f"GIT_INDEX_FILE={state / 'index-at-head'}",
                              _interpreter(flagops), str(HERE / "floor.py"), "none"],
        # The workspace holds the hook rows' 10 changed files, which build refuses to ship:
        # --allow-dirty (its `git status`, about 30 ms at 10,000 flags, is then not asked).
        "build": [str(flagops), "build", "--no-cache", "--allow-dirty"],
        "build_warm": [str(flagops), "build", "--cache-dir", str(cache), "--allow-dirty"],
        # A new folder each run, as a CI job's fresh checkout has: replacing the last run's
        # site would delete its 10,003 files first, and this machine's ext4 (no journal)
        # then scans every inode freed in the last minutes on each create (`perf`: about half
        # of such a run in the kernel's recently_deleted()). Removed after the rows.
        "render": ["sh", "-c", 'exec "$1" render --no-cache -o "public-cold/$(date +%s%N)"',
                   "sh", str(flagops)],
        "render_warm": [str(flagops), "render", "--cache-dir", str(cache)],
        # Cold: no states kept from an earlier run; warm: the states of the warm-up's run.
        "status": [str(flagops), "status", "--format", "json", "--no-cache"],
        "status_warm": [str(flagops), "status", "--format", "json", "--cache-dir", str(cache)],
        "refs": [str(flagops), "refs", plan.flags[len(plan.flags) // 2].name],
    }
    if len(plan.flags) > 10_000:
        commands = {row: argv for row, argv in commands.items() if row in report.SCALE_ROWS}
        return commands, {row.id: "not measured above 10,000 flags" for row in report.ROWS
                          if row.id not in commands}
    if peer is None:
        return commands, {"check_jsonschema": "not available: check-jsonschema not installed"}
    files = sorted(p.relative_to(repo).as_posix() for p in (repo / "flags").rglob("*.yml"))
    commands["check_jsonschema"] = _peer(peer, repo, files)
    return commands, {}


def _peer(tool: Path, repo: Path, files: list[str]) -> list[str]:
    """All files in one invocation; xargs batches only past the OS argument limit."""
    argv = [str(tool), "--schemafile", synth.SCHEMA]
    if sum(len(arg) + 1 for arg in files) < os.sysconf("SC_ARG_MAX") // 2:  # env counts too
        return [*argv, *files]
    listing = repo / ".git" / "bench-files"
    listing.write_bytes(b"\0".join(name.encode() for name in files))
    return ["xargs", "-0", "-a", str(listing), *argv]


def _measure_size(repo: Path, plan: flagplan.RepoPlan, runs: int) -> dict[str, report.Cell]:
    """One warm-up run of every command, then `runs` rounds of every command once each.

    Rounds rather than one command's runs in a row: on a shared machine a burst of load from
    elsewhere then lands on every row alike instead of on whichever command ran during it.
    """
    _state_at_head(repo)
    workspace.prepare(repo, plan)
    try:
        commands, cells = _commands(repo, plan)
        ready = _warm_up(commands, repo, cells)
        samples = _rounds(ready, repo, runs, cells)
    finally:
        workspace.restore(repo)
    cells.update({row: Summary.of(taken) for row, taken in samples.items()})
    for row in report.ROWS:
        _log(f"N={len(plan.flags):,} {row.id}: {_shown(cells[row.id])}")
    return {row.id: cells[row.id] for row in report.ROWS}


def _state_at_head(repo: Path) -> None:
    """What the warm rows start from, made at HEAD before the 10 changes: a cache filled by a
    run there, and a copy of the index (for `--staged` with no flag file staged)."""
    state = repo / ".git" / "bench"
    shutil.rmtree(state, ignore_errors=True)
    for folder in ("cache-warm", "cache-at-head", "cache-10"):
        (state / folder).mkdir(parents=True, mode=0o700)
    workspace.restore(repo)
    flagops = _tool("flagops")
    run_once([str(flagops), "validate", "--cache-dir", str(state / "cache-at-head")], repo,
             synth.git_env())
    shutil.copyfile(repo / ".git" / "index", state / "index-at-head")


def _warm_up(commands: Commands, repo: Path, cells: dict[str, report.Cell]) -> Commands:
    """The commands that run; build and render may not exist yet: a gap in the table, no stop."""
    ready: Commands = {}
    for row, argv in commands.items():
        if row == "render" and "build" not in ready:
            cells[row] = "not available: needs `flagops build`"
            continue
        failure = _attempt(row, argv, repo)
        if failure is None:
            ready[row] = argv
        else:
            cells[row] = failure
    return ready


def _attempt(row: str, argv: list[str], repo: Path) -> str | None:
    try:
        run_once(argv, repo, synth.git_env())
    except CommandFailed as error:
        _log(f"{row} failed: {error}\n{error.stderr[-2000:]}")
        return f"{'not available' if row in ('build', 'render') else 'failed'}: {error}"
    return None


def _rounds(
    ready: Commands, repo: Path, runs: int, cells: dict[str, report.Cell]
) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {row: [] for row in ready}
    for _ in range(runs):
        for row, argv in ready.items():
            try:
                samples[row].append(run_once(argv, repo, synth.git_env()))
            except CommandFailed as error:
                cells[row] = f"failed: {error}"
    return {row: taken for row, taken in samples.items() if row not in cells}


def _shown(cell: report.Cell) -> str:
    if isinstance(cell, str):
        return cell
    return f"median {cell.median_s:.3f} s, min {cell.min_s:.3f} s, {cell.peak_rss_mb:.0f} MB"


def _importtime(repo: Path, plan: flagplan.RepoPlan) -> dict[str, object]:
    """Where the pre-commit path's start-up goes: `python -X importtime`, top-level imports."""
    workspace.prepare(repo, plan)
    argv = [
        _interpreter(_tool("flagops")),
        "-X",
        "importtime",
        "-m",
        "validator",
        "validate",
        "--staged",
    ]
    shown = "python " + " ".join(argv[1:])
    try:
        top = top_imports(capture(argv, repo, synth.git_env()))
    except CommandFailed as error:
        return {"command": shown, "size": len(plan.flags), "error": str(error)}
    finally:
        workspace.restore(repo)
    return {
        "command": shown,
        "size": len(plan.flags),
        "top_cumulative": [asdict(item) for item in top],
    }


def _interpreter(script: Path | None) -> str:
    """The interpreter a console script runs under (its shebang), to time the same one."""
    if script is not None:
        first = script.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        if first.startswith("#!") and " " not in first[2:].strip():
            return first[2:].strip()
    return sys.executable


def _print(
    results: report.Results,
    info: dict[str, object],
    found: list[report.Verdict],
    imports: dict[str, object],
) -> None:
    print(report.table(results))
    print(f"Machine: {report.machine_line(info)}")
    for verdict in found:
        print(verdict.line())
    note = report.importtime_note(imports)
    if note:
        print(f"\n{note}")


def _write(
    args: argparse.Namespace,
    results: report.Results,
    info: dict[str, object],
    found: list[report.Verdict],
    imports: dict[str, object],
    repositories: dict[str, dict[str, object]],
) -> None:
    document = {
        "machine": info,
        "settings": {
            "runs": args.runs,
            "warmup_runs": 1,
            "order": "round-robin",
            "sizes": sorted(set(args.sizes)),
            "changed_flags": workspace.CHANGED,
            "staged_flags": 1,
        },
        "repositories": repositories,
        "results": report.to_json(results),
        "targets": [asdict(verdict) for verdict in found],
        "importtime": imports,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    markdown = report.markdown(results, info, found, args.runs, imports)
    args.out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    chart = plot.svg(plot.series(report.to_json(results)), "median wall time per command (log-log)")
    args.out.with_suffix(".svg").write_text(chart, encoding="utf-8")
    _log(f"wrote {args.out} and its .md and .svg")


if __name__ == "__main__":
    sys.exit(main())
