"""Hostile environments, with real processes: closed or full stdout, an ASCII terminal, outputs
that are folders, devices, FIFOs or symlinks, configs that never end, a -C that is not a folder.

Each ends in exit 1 (or 2 for a wrong command line) and one clear line, never exit 3, a
traceback or a hang. What is about processes (descriptors, umask, FIFOs that could block) runs
as a real process, whose timeout turns a regression into a failure instead of a stuck run; the
rest runs in process, through `main`.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from conftest import CliResult

from validator.cli import main
from validator.config_file import MAX_CONFIG_BYTES

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 120


def _run(root: Path, *args: str, umask: int = -1, env: dict[str, str] | None = None,
         stdout: int | IO[str] = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """`flagops -C root ARGS` as a process started in `root`."""
    environment = {**os.environ, **(env or {})}
    environment.pop("FLAGOPS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "validator", "-C", str(root), *args],
                          stdout=stdout, stderr=subprocess.PIPE, text=True, env=environment,
                          timeout=TIMEOUT, check=False, cwd=root, umask=umask)


def _one_line(stderr: str, *parts: str) -> None:
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert all(part in stderr for part in parts), stderr


def _one_error_line(done: subprocess.CompletedProcess[str], *parts: str) -> None:
    _one_line(done.stderr, *parts)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """This repository's flags and policy, in a folder of their own."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "flags", root / "flags")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / ".git").mkdir()
    return root


@pytest.fixture
def built(repo: Path) -> Path:
    assert main(["-C", str(repo), "build"], out=io.StringIO()) == 0
    return repo


Cli = Callable[..., CliResult]


# Item 1: outputs and standard output ---------------------------------------------------------


@pytest.mark.parametrize("command", [["validate", "--format", "json", "--output"], ["build", "-o"],
                                     ["render", "-o"]])
@pytest.mark.parametrize("place", ["folder", "below a file", "unwritable"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(
    built: Path, run_cli: Cli, command: list[str], place: str
) -> None:
    (built / "a_file").write_text("keep me\n")
    target = {"folder": str(built / "flags"), "below a file": str(built / "a_file" / "x"),
              "unwritable": "/proc/flagops-test/x"}[place]
    if command[0] == "render" and place == "folder":
        target = str(built / "a_file")  # render writes into a folder: a file is its bad case
    code, _, err = run_cli("-C", str(built), *command, target)
    assert code == 1, err
    _one_line(err, "flagops: error: cannot write ")
    assert (built / "a_file").read_text() == "keep me\n"


@pytest.mark.parametrize("command", [["validate"], ["build"], ["render"]])
def test_closed_stdout_is_one_line_and_exit_1(built: Path, command: list[str]) -> None:
    closed = ["sh", "-c", 'exec "$0" -m validator "$@" >&-', sys.executable, "-C", str(built)]
    done = subprocess.run([*closed, *command], capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)
    assert done.returncode == 1
    _one_error_line(done, "standard output is closed")


@pytest.mark.parametrize("command", [["validate"], ["build"], ["render"],
                                     ["schema", "-o", "s.json"]])
def test_stdout_on_a_full_device_is_one_line_and_exit_1(built: Path, command: list[str]) -> None:
    (built / "flags" / "extra.yml").write_text("name: extra\n")  # something to report
    with open("/dev/full", "w") as full:
        done = _run(built, *command, stdout=full)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "flagops: error: cannot write to standard output: No space left on device")
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_an_ascii_terminal_gets_backslash_escapes(repo: Path) -> None:
    (repo / "flags" / "ü.yml").write_text("name: ü\n", encoding="utf-8")
    done = _run(repo, "validate", env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 1, done.stderr
    assert "flags/\\xfc.yml:1:1: error FO101 " in done.stdout


# Item 3: --config ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["eval", "calendly_invite_link", "--actor", "User:1"],
                                     ["render"]])
@pytest.mark.parametrize("kind", ["fifo", "device", "huge", "folder"])
def test_config_is_a_bounded_regular_file(built: Path, command: list[str], kind: str) -> None:
    config = built / "config.json"
    if kind == "fifo":
        os.mkfifo(config)  # nobody writes: reading it would block forever
    elif kind == "device":
        config.symlink_to("/dev/zero")  # never ends
    elif kind == "huge":
        with open(config, "wb") as stream:
            stream.truncate(MAX_CONFIG_BYTES + 1)  # sparse: no disk spent
    else:
        config.mkdir()
    done = _run(built, *command, "--config", str(config))  # a process: a FIFO could block
    assert done.returncode == 1, done.stderr
    expected = f"larger than {MAX_CONFIG_BYTES >> 20} MiB" if kind == "huge" \
        else "not a regular file"
    _one_error_line(done, f"flagops: error: {config}", expected)


# Item 4: what --output replaces ----------------------------------------------------------------


def test_a_symlink_to_a_device_is_written_through_and_stays(
    built: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(built)
    link = built / "build" / "flags.json"
    link.unlink()
    link.symlink_to("/dev/full")
    code, _, err = run_cli("build")
    assert code == 1
    _one_line(err, "cannot write build/flags.json: No space left on device")
    link.unlink()
    link.symlink_to("/dev/null")
    assert run_cli("build")[0] == 0
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_out_of_the_repository_is_refused(
    built: Path, tmp_path: Path, run_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(built)
    outside = tmp_path / "outside.json"
    outside.write_text("not yours\n")
    link = built / "build" / "flags.json"
    link.unlink()
    link.symlink_to(outside)
    code, _, err = run_cli("build")
    assert code == 1
    _one_line(err, "build/flags.json: a symbolic link leads outside the repository")
    assert outside.read_text() == "not yours\n" and link.is_symlink()
    (built / "public").symlink_to(tmp_path)  # a folder link too
    assert run_cli("render")[0] == 1
    assert not (tmp_path / "index.html").exists()


def test_a_symlink_into_the_git_folder_is_refused(built: Path) -> None:
    """CI writes its plan and reports at paths a merge request can fill with links: one into
    .git would have put the job's text in .git/config, or a hook a runner keeps."""
    from validator.errors import UserError
    from validator.output import atomic_write

    (built / ".git" / "hooks").mkdir(parents=True, exist_ok=True)
    config = built / ".git" / "config"
    config.write_text("[core]\n", encoding="utf-8")
    before = config.read_bytes()
    for name, target in (("flagops-plan.md", ".git/config"),
                         ("report.json", ".git/hooks/post-checkout")):
        link = built / name
        link.symlink_to(target)
        with pytest.raises(UserError, match="a symbolic link leads into the repository's git "
                                            "folder"):
            atomic_write(link, "# plan\n", root=built)
        assert link.is_symlink()
    assert config.read_bytes() == before
    assert not (built / ".git" / "hooks" / "post-checkout").exists()


def test_a_symlink_inside_the_repository_is_followed_and_kept(built: Path, run_cli: Cli) -> None:
    link = built / "build" / "flags.json"
    real = built / "build" / "real.json"
    link.rename(real)
    link.symlink_to("real.json")
    real.write_text("old\n")
    assert run_cli("-C", str(built), "build")[0] == 0
    assert link.is_symlink() and real.read_text().startswith("{")


def test_a_fifo_is_written_through_and_one_without_reader_is_refused(built: Path) -> None:
    fifo = built / "build" / "fifo.json"
    os.mkfifo(fifo)
    done = _run(built, "build", "-o", str(fifo))
    assert done.returncode == 1
    _one_error_line(done, "no process reads this FIFO")
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, open before the writer
    try:
        done = _run(built, "build", "-o", str(fifo))
        received = os.read(reader, 1 << 16)  # the config fits the pipe's buffer
    finally:
        os.close(reader)
    assert done.returncode == 0, done.stderr
    assert received.startswith(b"{") and received.endswith(b"}\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_new_files_follow_the_umask(repo: Path, umask: int) -> None:
    assert _run(repo, "build", umask=umask).returncode == 0
    assert _run(repo, "render", umask=umask).returncode == 0
    report = repo / "report.json"
    assert _run(repo, "validate", "--format", "json", "--output", str(report),
                umask=umask).returncode == 0
    for written in (repo / "build" / "flags.json", repo / "public" / "index.html", report):
        assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask, written


def test_a_replaced_file_keeps_its_mode(built: Path, run_cli: Cli) -> None:
    config = built / "build" / "flags.json"
    config.chmod(0o640)
    assert run_cli("-C", str(built), "build")[0] == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


# Item 5: -C and flags ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_dash_c_must_be_a_folder(tmp_path: Path, run_cli: Cli, kind: str) -> None:
    target = tmp_path / "nowhere"
    if kind == "file":
        target.write_text("")
    code, _, err = run_cli("-C", str(target), "validate")
    assert code == 2
    expected = "not a folder" if kind == "file" else "no such folder"
    _one_line(err, f"flagops: error: -C {target}: {expected}")


@pytest.mark.parametrize("command", [["validate"], ["build"], ["plan"]])
def test_flags_that_is_not_a_folder_is_a_located_error(
    tmp_path: Path, run_cli: Cli, command: list[str]
) -> None:
    (tmp_path / "flags").write_text("name: x\n")
    code, _, err = run_cli("-C", str(tmp_path), *command)
    assert code == 1
    _one_line(err)
    assert err.startswith("flags: error: not a folder")


@pytest.mark.parametrize("command", [
    ["validate", "LONG.yml"], ["validate", "LONG"], ["import", "gitlab", "LONG.yml", "--dry-run"],
    ["refs", "--path", "LONG"], ["render", "-o", "LONG"], ["init", "LONG"]])
def test_a_path_the_file_system_refuses_is_one_line_not_an_internal_error(
        built: Path, command: list[str]) -> None:
    """A name over 255 bytes: Path.exists() and is_dir() raise ENAMETOOLONG, which ended six
    commands in "internal error" (exit 3); any such answer of the file system about a path
    given is one line naming the path, exit 1."""
    long = "a" * 300
    done = _run(built, *[word.replace("LONG", long) for word in command])
    assert done.returncode == 1, done.stderr
    _one_error_line(done, "flagops: error: ", long, "File name too long")


def test_a_path_outside_the_repository_is_refused_by_name(built: Path, tmp_path: Path) -> None:
    """Read as `root/<path>`, a file outside was "No such file or directory", though it is
    there; no flag is judged outside its repository, whether named absolutely or by `..`."""
    outside = tmp_path / "elsewhere.yml"
    shutil.copy(built / "flags" / "calendly_invite_link.yml", outside)
    for given in (str(outside), f"../{outside.name}"):
        done = _run(built, "validate", given)
        assert done.returncode == 1, done.stderr
        _one_error_line(done, "is outside the repository", outside.name)
