"""Writes are all or nothing: a command killed (SIGKILL) at any point leaves the flag file
with its old bytes or its new ones, never a mix; a refused command writes nothing; a replaced
file keeps its mode. Real processes, real signals; the assertions are on bytes, not times.
"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT
from gitrepo import Repo, flag_yaml, git_env

from validator.edit.write import PAUSE_VARIABLE

NAME = "demo"
PATH = f"flags/{NAME}.yml"
START = int(time.time()) - 30 * 86400


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write(PATH, flag_yaml(NAME, "staging"))
    repo.commit("demo at staging", at=START)
    return repo


def _start(repo: Repo, *args: str, pause: float | None = None) -> subprocess.Popen[bytes]:
    env = {**git_env(repo.path.parent / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop(PAUSE_VARIABLE, None)
    if pause is not None:
        env[PAUSE_VARIABLE] = str(pause)
    return subprocess.Popen([sys.executable, "-m", "validator", "-C", str(repo.path), *args],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _temporaries(repo: Repo) -> list[Path]:
    return sorted((repo.path / "flags").glob(f".{NAME}.yml.*.tmp"))


def _new_bytes(repo: Repo, old: bytes) -> bytes:
    """What the promote writes, by running it once to the end."""
    assert _start(repo, "promote", NAME, "--actor", "User:1").wait(timeout=60) == 0
    new = (repo.path / PATH).read_bytes()
    assert new != old
    (repo.path / PATH).write_bytes(old)
    return new


def test_killed_between_the_synced_temporary_and_the_rename_the_old_file_stays(
        repo: Repo) -> None:
    old = (repo.path / PATH).read_bytes()
    new = _new_bytes(repo, old)
    process = _start(repo, "promote", NAME, "--actor", "User:1", pause=60)
    deadline = time.monotonic() + 60
    while not any(t.stat().st_size == len(new) for t in _temporaries(repo)):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert (repo.path / PATH).read_bytes() == old
    assert [t.read_bytes() for t in _temporaries(repo)] == [new]  # complete, and not a .yml
    assert _start(repo, "validate").wait(timeout=60) == 0  # the leftover is not read as a flag


def test_killed_at_random_points_the_file_holds_the_old_or_the_new_bytes(repo: Repo) -> None:
    old = (repo.path / PATH).read_bytes()
    new = _new_bytes(repo, old)
    began = time.monotonic()
    assert _start(repo, "promote", NAME, "--actor", "User:1", pause=0.2).wait(timeout=60) == 0
    duration = time.monotonic() - began
    chance = random.Random(11)
    for _ in range(5):
        (repo.path / PATH).write_bytes(old)
        process = _start(repo, "promote", NAME, "--actor", "User:1", pause=0.2)
        time.sleep(chance.uniform(0, duration * 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert (repo.path / PATH).read_bytes() in (old, new)


def test_a_refused_step_writes_nothing_and_leaves_no_temporary(repo: Repo) -> None:
    old = (repo.path / PATH).read_bytes()
    process = _start(repo, "promote", NAME)  # staging → beta needs an actor (FO130)
    assert process.wait(timeout=60) == 1
    assert (repo.path / PATH).read_bytes() == old
    assert _temporaries(repo) == []


def test_the_replaced_file_keeps_its_mode_and_its_crlf_line_endings(repo: Repo) -> None:
    crlf = flag_yaml(NAME, "staging").replace("\n", "\r\n").encode()
    (repo.path / PATH).write_bytes(crlf)
    repo.commit("crlf", at=START + 60)
    os.chmod(repo.path / PATH, 0o640)
    assert _start(repo, "promote", NAME, "--actor", "User:1").wait(timeout=60) == 0
    written = (repo.path / PATH).read_bytes()
    assert stat.S_IMODE(os.stat(repo.path / PATH).st_mode) == 0o640
    assert written.count(b"\n") == written.count(b"\r\n")
    assert written.replace(b"stage: beta\r\nactors:\r\n  - User:1", b"stage: staging") == crlf


def test_two_commands_editing_one_file_at_once_never_both_write(repo: Repo) -> None:
    """Each found the bytes it started from just before its rename, and both said they wrote
    while one write was lost (the eighth review). The last check and the rename are made
    holding the folder's lock: one writes, the other finds the file changed and writes
    nothing. The pause holds both between their reads and their checks."""
    repo.write(PATH, flag_yaml(NAME, "percentage", actors=("User:1",),
                               percentage=("actors", 10)))
    repo.commit("10%", at=START + 60)
    to_beta = _start(repo, "rollback", NAME, "--to", "beta", pause=1)
    to_staging = _start(repo, "rollback", NAME, "--to", "staging", pause=1)
    codes = sorted((to_beta.wait(timeout=60), to_staging.wait(timeout=60)))
    assert codes == [0, 1]
    stage = [line for line in (repo.path / PATH).read_text().splitlines()
             if line.startswith("stage:")]
    assert stage in (["stage: beta"], ["stage: staging"])


def test_an_edit_goes_on_where_the_folder_takes_no_lock_and_never_waits_forever(
        repo: Repo, run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """NFS takes no flock on a descriptor open only to read (EBADF): every edit was refused.
    A lock another command holds (a stopped one) is a refusal after LOCK_WAIT_S, not a hang."""
    import errno
    import fcntl

    from validator.edit import write

    def refused(descriptor: int, operation: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    with monkeypatch.context() as patched:
        patched.setattr(fcntl, "flock", refused)
        code, _, err = run_cli("-C", str(repo.path), "rollback", NAME)
        assert code == 0, err
    repo.git("checkout", "-q", "--", PATH)
    monkeypatch.setattr(write, "LOCK_WAIT_S", 0.2)
    held = os.open(repo.path / "flags", os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = run_cli("-C", str(repo.path), "rollback", NAME)
    finally:
        os.close(held)
    assert code == 1 and "lock for over 0 s" in err, err
    assert b"stage: staging" in (repo.path / PATH).read_bytes()
