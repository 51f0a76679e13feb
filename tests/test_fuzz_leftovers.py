"""Issue 10's leftovers, found while fuzzing the edges: `schema --check` on a FIFO, hostile
repository text in `flagops plan`'s Markdown, and the screenshot script without a browser.

Real processes with timeouts: a FIFO that is read (or written) would block, and a timeout turns
that regression into a failure instead of a stuck run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from gitrepo import Repo

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 60


def _flagops(root: Path, *args: str, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    environment = {**(env or os.environ)}
    environment.pop("FLAGOPS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "validator", "-C", str(root), *args],
                          capture_output=True, text=True, env=environment, cwd=REPO,
                          timeout=TIMEOUT, check=False)


def _one_line(done: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert done.returncode == 1, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert all(part in done.stderr for part in parts), done.stderr


# schema --check and -o on a FIFO ----------------------------------------------------------------


def test_schema_check_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "schema.json")  # nobody writes: reading it would block forever
    done = _flagops(tmp_path, "schema", "--check", "-o", "schema.json")
    _one_line(done, "schema.json is a FIFO", "not a regular file")


def test_schema_output_to_a_fifo_without_reader_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "schema.json")
    done = _flagops(tmp_path, "schema", "-o", "schema.json")
    _one_line(done, "no process reads this FIFO")


def test_schema_check_reads_a_folder_as_an_error_and_a_missing_file_as_stale(
        tmp_path: Path) -> None:
    (tmp_path / "folder.json").mkdir()
    _one_line(_flagops(tmp_path, "schema", "--check", "-o", "folder.json"), "is a folder")
    done = _flagops(tmp_path, "schema", "--check", "-o", "missing.json")
    assert (done.returncode, done.stdout) == (1, "missing.json is stale: run `flagops schema`\n")


def test_schema_check_reads_no_more_than_its_limit(tmp_path: Path) -> None:
    with (tmp_path / "big.json").open("wb") as stream:
        stream.truncate(64 * 1024 * 1024)  # sparse: 64 MiB that cost no disk
    _one_line(_flagops(tmp_path, "schema", "--check", "-o", "big.json"), "is larger than 1 MiB")


# flagops plan with hostile repository text ------------------------------------------------------

HOSTILE_ACTORS = ("User:<img/src=x>", "User:@all", "User:`x`|[y](https://evil.example)",
                  "Group:*a*_b_~~c~~#1!2&lt;$x")


def _plan_repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write_flag("demo", "staging")
    repo.commit("add demo", at=int(time.time()) - 86400)
    # The first actor twice: FO133 quotes it in a finding message, which the plan lists too.
    repo.write_flag("demo", "beta", actors=(*HOSTILE_ACTORS, HOSTILE_ACTORS[0]))
    return repo


def _plan(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "validator", "plan", "--base", "HEAD", *args],
                          cwd=repo.path, capture_output=True, text=True, env=repo.env,
                          timeout=TIMEOUT, check=False)


def _live(text: str) -> list[str]:
    """Markdown and HTML metacharacters not escaped by a backslash."""
    return [found[1] for found in re.finditer(r"\\.|([<>\[\]`@*_~|&!#$])", text) if found[1]]


def test_plan_markdown_shows_hostile_actors_as_literal_text(tmp_path: Path) -> None:
    done = _plan(_plan_repo(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if line.startswith("| after")]
    # Three cells, no more, and the URL in the last actor shown as code, where it links
    # nothing: the one pair of backticks is flagops's own.
    assert len(rows) == 1 and _live(rows[0]) == ["|", "|", "|", "`", "`", "|"], rows
    assert "(`https://evil.example`)" in rows[0]
    assert "User:\\<img/src=x\\>" in rows[0] and "User:\\@all" in rows[0]
    assert "\\_b\\_\\~\\~c\\~\\~\\#1\\!2\\&lt;\\$x" in rows[0]
    finding = next(line for line in lines if "FO133" in line)
    assert _live(finding.removeprefix("- ")) == [], finding
    commands = [line for line in lines if "--user=`x`" in line]
    # A fence longer than any run of backticks inside: no actor can close it.
    assert commands and all(re.fullmatch(r"- ``(?:[^`]|`(?!`))*``", line)
                            for line in commands), commands


def test_plan_json_keeps_hostile_text_exact(tmp_path: Path) -> None:
    repo = _plan_repo(tmp_path)
    repo.write_flag("demo", "beta", actors=("User:a\u0378b",))  # unassigned: unsafe to show
    done = _plan(repo, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "\u0378" not in done.stdout and "\\u0378" in done.stdout
    [flag] = json.loads(done.stdout)["flags"]
    assert flag["after"]["production"] == "User:a\u0378b"


# The screenshot script without Chromium ---------------------------------------------------------


def test_screenshot_without_a_browser_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": ""}  # neither chromium nor chromedriver can be found
    done = subprocess.run([sys.executable, "-m", "survey_renderer.screenshot", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=TIMEOUT,
                          check=False)
    assert done.returncode == 1, done
    assert done.stderr == ("screenshot: error: chromium and chromedriver not on PATH: "
                           "apt-get install chromium chromium-driver\n")
    assert list(tmp_path.iterdir()) == []
