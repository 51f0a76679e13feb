"""The benchmark's own correctness, at a tiny size: no timings are asserted, ever.

A benchmark on a repo that does not validate clean would time the error path, and one whose
history holds illegal steps would time findings nobody has; these tests keep both honest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

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
            "build", "build_warm", "render", "render_warm", "check_jsonschema"} <= {
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
