"""A worker of a fork pool that dies (the out-of-memory killer, a signal, a crash in a C
extension) fails the command with one line and exit 1, in every pool flagops starts: cold
validation, the history walk of `status`, the catalog's pages. multiprocessing's own Pool
waited forever for the task the dead worker held; each run here has a time limit."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import EPOCH, Repo

from validator.cli import main
from validator.fork_pool import DIED, fork_pool

KILL_A_WORKER = """
import os, signal, sys
import {module} as pooled

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

pooled.{threshold} = 0
pooled.cores = lambda: 2
pooled.{work} = die
sys.argv = ["flagops", "-C", sys.argv[1], *sys.argv[2:]]
from validator.cli import console
console()
"""
POOLS = {
    "validate": ("validator.parallel", "PARALLEL_FROM", "_parse", ["validate", "--no-cache"]),
    "status": ("validator.lifecycle.states", "PARALLEL_FROM", "_at_index",
               ["status", "--no-cache"]),
    "render": ("survey_renderer.catalog.page_pool", "PARALLEL_FROM", "_render",
               ["render", "--no-cache"]),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    made = Repo.create(tmp_path_factory.mktemp("pool") / "repo",
                       tmp_path_factory.mktemp("home"))
    for index in range(3):
        made.write_flag(f"flag_{index}")
    made.commit("Add three flags", at=EPOCH - 86_400)
    made.write_flag("flag_0", "staging")
    made.commit("flag_0 to staging", at=EPOCH - 3_600)
    assert main(["-C", str(made.path), "build", "--no-cache"], out=io.StringIO()) == 0
    return made


@pytest.mark.parametrize("command", sorted(POOLS))
def test_a_worker_that_dies_fails_the_command_with_one_line(repo: Repo, command: str) -> None:
    module, threshold, work, arguments = POOLS[command]
    script = KILL_A_WORKER.format(module=module, threshold=threshold, work=work)
    done = subprocess.run([sys.executable, "-c", script, str(repo.path), *arguments],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "FLAGOPS_NO_CACHE": "1"})
    assert (done.returncode, done.stderr) == (1, f"flagops: error: {DIED}\n")
    assert not [path for path in repo.path.iterdir() if path.name.startswith(".public")]


def _square(value: int) -> int:
    return value * value


def test_the_pool_gives_results_in_order_and_starts_each_worker_with_its_initializer() -> None:
    with fork_pool(2, _remember, (7,)) as pool:
        assert list(pool.map(_square, range(20), chunksize=3)) == [v * v for v in range(20)]
        assert set(pool.map(_remembered, range(4))) == {7}


_REMEMBERED: list[int] = []


def _remember(value: int) -> None:
    _REMEMBERED[:] = [value]


def _remembered(_: int) -> int:
    return _REMEMBERED[0]


def test_an_error_in_the_parent_ends_the_pool_without_waiting_for_its_queue(
        tmp_path: Path) -> None:
    """Leaving the `with` on an error cancels what no worker has started."""
    marks = tmp_path / "marks"
    marks.mkdir()
    with pytest.raises(KeyError), fork_pool(2) as pool:
        for index in range(200):
            pool.submit(_mark, marks / str(index))
        raise KeyError("the parent failed")
    assert len(list(marks.iterdir())) < 200


def _mark(path: Path) -> None:
    import time

    time.sleep(0.01)
    path.touch()
