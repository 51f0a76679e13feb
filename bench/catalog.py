"""The flag catalog at scale (issue 14): `python bench/catalog.py [--size 10000] [--runs 5]`.

On the benchmark's synthetic repository (bench/.cache, generated as bench/run.py does), it runs
`flagops build` once (timed: it now reads every flag's history) and then times `flagops render`,
which writes the survey page and the catalog (an index of every flag and a page per flag),
interpreter start-up included: "render" renders every page into a new folder (no kept
state, FLAGOPS_NO_CACHE), "render_warm" is a render with nothing changed since the last one
(it checks the folder and writes nothing), "render_floor" is bench/render_floor.py in the same
rounds as "render": the config read and validated as render reads it and the same files
written, drawing nothing. With Chromium on PATH it also opens the index page
and times, in the page itself, the load, a filter and a sort over every row: the page must
stay usable.
`bench/run.py --catalog` runs this too, for its largest size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import flagplan
import render_floor
import synth
import workspace
from measure import Sample, Summary, byte_compile, run_once

HERE = Path(__file__).resolve().parent
BROWSER_JS = """
const started = performance.now();
const box = document.getElementById('filter-action');
box.click(); document.body.offsetHeight;
const filtered = performance.now();
box.click(); document.body.offsetHeight;
const cleared = performance.now();
const sort = document.querySelector('thead button.sort[data-column="0"]');
sort.click(); document.body.offsetHeight;
const sorted1 = performance.now();
sort.click(); document.body.offsetHeight;
const sorted2 = performance.now();
const nav = performance.getEntriesByType('navigation')[0];
return {load_ms: nav.loadEventEnd - nav.startTime, filter_ms: filtered - started,
        unfilter_ms: cleared - filtered, sort_ms: sorted1 - cleared,
        resort_ms: sorted2 - sorted1,
        rows: document.querySelectorAll('#catalog tbody tr').length};
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = flagplan.plan_repo(args.size)
    repo, _ = workspace.repository(plan, args.cache, fresh=False)
    result = measure(repo, args.runs, browser=not args.no_browser)
    result["flags"] = args.size
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=HERE / ".cache")
    parser.add_argument("--out", type=Path, default=HERE / "catalog.json")
    parser.add_argument("--no-browser", action="store_true", help="skip the page timings")
    return parser


def measure(repo: Path, runs: int, *, browser: bool = True) -> dict[str, Any]:
    """Build once, render `runs` times (after a warm-up), then the page in Chromium."""
    flagops = Path(sys.executable).parent / "flagops"
    byte_compile(sys.executable)
    env = synth.git_env()
    built = run_once([str(flagops), "build", "--history"], repo, env)
    cold = {**env, "FLAGOPS_NO_CACHE": "1"}
    # Each cold render into a folder of its own, as in bench/run.py (its "render" row says
    # why): replacing one site after another measures the file system's inode reuse.
    # The floor (render_floor.py) writes the same files in the same rounds, drawing nothing.
    run_once([str(flagops), "render", "-o", "public-cold/0"], repo, cold)
    sizes = repo / ".git" / "bench-site-sizes.json"
    sizes.write_text(json.dumps(render_floor.site_sizes(repo / "public-cold/0")), "utf-8")
    renders, floors = [], []
    for run in range(1, runs + 1):
        renders.append(run_once([str(flagops), "render", "-o", f"public-cold/{run}"], repo, cold))
        floors.append(run_once([sys.executable, str(HERE / "render_floor.py"), "build/flags.json",
                                str(sizes), f"public-floor/{run}"], repo, cold))
    for folder in ("public-cold", "public-floor"):
        shutil.rmtree(repo / folder, ignore_errors=True)
    run_once([str(flagops), "render"], repo, env)
    warm = [run_once([str(flagops), "render"], repo, env) for _ in range(runs)]
    result: dict[str, Any] = {
        "build": _summary([built]), "render": _summary(renders),
        "render_floor": _summary(floors),
        "render_warm": _summary(warm),
        "config_mb": round((repo / "build/flags.json").stat().st_size / 2**20, 1),
        "site_files": sum(1 for _ in (repo / "public").rglob("*.html")),
        "index_mb": round((repo / "public/flags/index.html").stat().st_size / 2**20, 1),
    }
    if browser and shutil.which("chromium") and shutil.which("chromedriver"):
        result["page"] = _page(repo / "public", runs)
    return result


def _summary(samples: list[Sample]) -> dict[str, Any]:
    found = Summary.of(samples)
    return {"median_s": round(found.median_s, 3), "min_s": round(found.min_s, 3),
            "peak_rss_mb": round(found.peak_rss_mb)}


def _page(site: Path, runs: int) -> dict[str, float]:
    """Medians over `runs` fresh loads of the index page, timed by the page's own clock."""
    sys.path.insert(0, str(HERE.parent))
    from survey_renderer.browser import chromium, open_page, serve

    samples: list[dict[str, float]] = []
    with serve(site) as base, chromium() as driver:
        driver.set_window_size(1400, 900)
        for _ in range(runs):
            open_page(driver, f"{base}/flags/index.html")
            samples.append(driver.execute_script(BROWSER_JS))
    return {key: round(statistics.median(s[key] for s in samples), 1) for key in samples[0]}


if __name__ == "__main__":
    sys.exit(main())
