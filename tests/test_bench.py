"""The benchmark's own correctness, at a tiny size: no timings are asserted, ever.

A benchmark on a repo that does not validate clean would time the error path, and one whose
history holds illegal steps would time findings nobody has; these tests keep both honest.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
FLAGS, STEPS, BATCH = 30, 3, 10
COMMITS = 1 + STEPS * (FLAGS // BATCH)  # a setup commit, then 3 rounds of 3 batches


CliResult = tuple[int, str, str]


def git(repo: Path, *args: str) -> str:
    """Without inherited GIT_* variables: under a hook, GIT_INDEX_FILE would point elsewhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("bench") / "repo"
    subprocess.run(
        [sys.executable, str(BENCH / "synth.py"), "--flags", str(FLAGS), "--steps", str(STEPS),
         "--batch", str(BATCH), "--out", str(repo)],
        check=True, capture_output=True,
    )
    return repo


def test_history_has_one_commit_per_batch_and_every_flag_in_each_round(synthetic: Path) -> None:
    assert int(git(synthetic, "rev-list", "--count", "HEAD")) == COMMITS
    touched = Counter(git(synthetic, "log", "--format=", "--name-only", "--", "flags").split())
    assert len(touched) == FLAGS
    assert set(touched.values()) == {STEPS}
    assert git(synthetic, "status", "--porcelain") == ""


def test_generated_tree_validates_clean(synthetic: Path,
                                        run_cli: Callable[..., CliResult]) -> None:
    code, _, err = run_cli("-C", str(synthetic), "validate")
    assert code == 0, err
    assert f"0 error(s), 0 warning(s) in {FLAGS} files" in err


def test_every_commit_of_the_history_is_a_legal_step(synthetic: Path,
                                                     run_cli: Callable[..., CliResult]) -> None:
    """Round 1 adds flags at off; later rounds step forward, roll back or edit metadata."""
    commits = git(synthetic, "rev-list", "--reverse", "HEAD").split()
    for before, after in pairwise(commits):
        code, _, err = run_cli("-C", str(synthetic), "validate", "--base", before,
                               "--head", after)
        assert code == 0, f"{after}: {err}"


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--sizes", str(FLAGS), "--runs", "1",
         "--steps", str(STEPS), "--batch", str(BATCH), "--out", str(out),
         "--cache", str(tmp_path / "cache")],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["results"][str(FLAGS)]
    assert {"validate", "validate_warm", "validate_warm10", "base", "staged", "staged_none",
            "floor_staged", "floor_staged_none", "build", "build_warm", "render", "render_warm",
            "check_jsonschema"} <= {
        row for row, cell in rows.items() if isinstance(cell, dict)
    }
    # each cold render wrote a folder of its own; none is left in the cached repository
    assert not list((tmp_path / "cache").glob("*/public-cold"))
    assert out.with_suffix(".md").read_text().startswith("| measurement |")
    assert out.with_suffix(".svg").read_text().startswith("<svg")


def test_the_plot_draws_a_line_for_each_row_measured_at_two_sizes() -> None:
    sys.path.insert(0, str(BENCH))
    import plot

    cell = {"median_s": 0.5}
    results: dict[str, dict[str, object]] = {
        "1000": {"validate": cell, "base": cell}, "10000": {"validate": {"median_s": 3}},
        "100000": {"validate": {"median_s": 30}, "base": "not measured"}}
    lines = plot.series(results)
    assert lines == {"validate": [(1000, 0.5), (10000, 3.0), (100000, 30.0)]}
    drawn = plot.svg(lines, "t <&>")
    assert drawn.count("<polyline") == 1 and "t &lt;&amp;&gt;" in drawn


def test_the_hook_floor_validates_what_is_staged_and_nothing_else(synthetic: Path,
                                                                   tmp_path: Path) -> None:
    """bench/floor.py is a floor only if it does the reads and the validation: a staged flag
    file the model refuses fails it; with no flag file staged it reads none."""
    repo = tmp_path / "floor"
    git(tmp_path, "clone", "-q", str(synthetic), str(repo))
    flag = next(iter(sorted((repo / "flags").rglob("*.yml"))))

    def floor(mode: str) -> int:
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        return subprocess.run([sys.executable, str(BENCH / "floor.py"), mode], cwd=repo,
                              env=env, capture_output=True, check=False).returncode

    assert (floor("staged"), floor("none")) == (0, 0)
    flag.write_text(flag.read_text().replace("default_enabled: false", "default_enabled: 1"))
    git(repo, "add", "--", str(flag.relative_to(repo)))
    assert (floor("staged"), floor("none")) == (1, 0)
    git(repo, "rm", "-q", "--cached", "--", str(flag.relative_to(repo)))
    assert floor("staged") == 0  # a deleted file is read as missing, not as a flag


def test_the_hook_rows_quote_their_floor() -> None:
    sys.path.insert(0, str(BENCH))
    import report
    from measure import Summary

    def cell(seconds: float) -> Summary:
        return Summary(median_s=seconds, min_s=seconds, cpu_median_s=seconds,
                       peak_rss_mb=30.0, runs_s=(seconds,))

    results = {10_000: {"staged": cell(0.5), "floor_staged": cell(0.4)}}
    found = {verdict.target: verdict for verdict in report.verdicts(results)}
    staged = next(v for target, v in found.items() if "one flag file" in target)
    assert staged.met is False
    assert staged.detail == ("0.500 s; its floor (`bench/floor.py`) 0.400 s, so flagops's own "
                             "part is 0.100 s")
    assert "floor_staged" not in report.FLAGOPS_ROWS


def test_the_render_floor_writes_what_render_wrote_and_refuses_what_render_refuses(
        synthetic: Path, tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    """bench/render_floor.py is a floor only if it reads and validates the config as render
    does and writes every file render wrote, at its size (drawing nothing)."""
    sys.path.insert(0, str(BENCH))
    import render_floor

    repo = tmp_path / "repo"
    git(tmp_path, "clone", "-q", str(synthetic), str(repo))
    assert run_cli("-C", str(repo), "build", "--history")[0] == 0
    assert run_cli("-C", str(repo), "render", "--no-cache", "-o", "site")[0] == 0
    written = render_floor.site_sizes(repo / "site")
    sizes = tmp_path / "sizes.json"
    sizes.write_text(json.dumps(written), encoding="utf-8")

    def floor(out: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(BENCH / "render_floor.py"), "build/flags.json",
                               str(sizes), out], cwd=repo, capture_output=True, text=True,
                              check=False)

    assert floor("floor").returncode == 0
    assert render_floor.site_sizes(repo / "floor") == written
    pages = [path for path in written if path.startswith("flags/") and path.endswith(".html")]
    assert len(pages) == FLAGS + 1  # every flag's page and the catalog's index
    config = repo / "build" / "flags.json"
    assert _floor_in_parts(render_floor, config, sizes, repo / "floor-parts") == 0
    assert render_floor.site_sizes(repo / "floor-parts") == written
    config.write_text(config.read_text().replace('"stage": "off"', '"stage": "offf"', 1))
    refused = floor("floor-2")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert "not a valid merged config" in refused.stderr
    assert not (repo / "floor-2").exists()
    assert _floor_in_parts(render_floor, config, sizes, repo / "floor-parts-2") == 1
    assert not (repo / "floor-parts-2").exists()


def _floor_in_parts(render_floor: Any, config: Path, sizes: Path, out: Path) -> int:
    """The floor as render runs on a config of 10,000 flags: its workers validate the parts
    and write their pages (here below the usual threshold, in this process: its garbage
    collection is turned back on after)."""
    from survey_renderer.catalog.page_pool import cut_for_workers

    if cut_for_workers(config.read_bytes(), parallel_from=0) is None:
        pytest.skip("render validates in parts only with two cores and fork")
    try:
        return int(render_floor.main(config, sizes, out, parallel_from=0))
    finally:
        gc.enable()


def test_the_catalog_benchmark_times_the_render_beside_its_floor(tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "catalog.py"), "--size", str(FLAGS), "--runs", "1",
         "--no-browser", "--cache", str(tmp_path / "cache"), "--out", str(out)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    measured = json.loads(out.read_text())
    assert {"build", "render", "render_floor", "render_warm"} <= set(measured)
    assert measured["site_files"] == FLAGS + 3  # the flag pages, the index, the survey, the root
    assert not list((tmp_path / "cache").glob("*/public-*"))


def test_the_catalog_after_the_rows_waits_for_their_freed_inodes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run.py --catalog` times many new files after `restore` deleted the render rows' many
    files: it waits until their inodes are no longer recent (workspace.SETTLE_S); a restore
    that deleted few files asks for no wait."""
    sys.path.insert(0, str(BENCH))
    import workspace

    slept: list[float] = []
    monkeypatch.setattr(workspace, "_FREED_AT", [])
    monkeypatch.setattr("workspace.time.sleep", slept.append)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "public").mkdir()
    for index in range(workspace.MANY_FILES - 1):
        (repo / "public" / f"{index}.html").write_bytes(b"")
    workspace.restore(repo)
    workspace.settle()
    assert slept == [] and not (repo / "public").exists()
    (repo / "public-cold" / "1").mkdir(parents=True)
    for index in range(workspace.MANY_FILES):
        (repo / "public-cold" / "1" / f"{index}.html").write_bytes(b"")
    workspace.restore(repo)
    workspace.settle()
    assert len(slept) == 1 and workspace.SETTLE_S - 60 < slept[0] <= workspace.SETTLE_S
