"""A warm run's changed files parsed in a forked child (validator/parse_beside.py): the verdict
is the one a run without the cache gives, this process never loads the model, and a child that
fails, dies, says something else or is not wanted changes nothing and is never left behind."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest
from gitrepo import flag_tree, flag_yaml

from validator import parse_beside
from validator.cache import Cache, Settings, code
from validator.check import FileSummary, TreeVerdict
from validator.findings import Finding
from validator.policy import DEFAULT_POLICY, Policy
from validator.tree import check_tree, judge_tree

FLAGS = 30


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return flag_tree(tmp_path / "repo", FLAGS)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[parse_beside.Beside]:
    """Every child started, for any size of tree and on any machine (the test trees are
    small, and a one-core machine would fork none)."""
    children: list[parse_beside.Beside] = []
    start = parse_beside.start

    def recorded(policy: Callable[[], Policy]) -> parse_beside.Beside | None:
        child = start(policy)
        children.extend([child] if child is not None else [])
        return child

    monkeypatch.setattr(parse_beside, "HITS_FROM", 0)
    monkeypatch.setattr(parse_beside, "_cores", lambda: 2)
    monkeypatch.setattr(parse_beside, "start", recorded)
    monkeypatch.setattr(code, "_ELSEWHERE", {})
    return children


def _open(folder: Path, root: Path) -> Cache:
    """The clock far ahead: every file is old enough for its status to be kept."""
    cache = Cache.open(Settings(folder), root, with_data=False, version="test",
                       clock=lambda: 2**62)
    assert cache is not None
    return cache


def _changed(root: Path) -> None:
    """Three files changed: one has a rule's finding, one is not YAML, one takes another's name
    (a cross-file finding)."""
    (root / "flags/flag_3.yml").write_text(flag_yaml("flag_3", "beta"), encoding="utf-8")
    (root / "flags/flag_7.yml").write_text("name: [unclosed\n", encoding="utf-8")
    (root / "flags/flag_9.yml").write_text(flag_yaml("flag_1"), encoding="utf-8")


class Loads:
    """A policy that counts its loads in this process (a child's loads are its own)."""

    def __init__(self) -> None:
        self.parent, self.here = os.getpid(), 0

    def __call__(self) -> Policy:
        if os.getpid() == self.parent:
            self.here += 1
        return DEFAULT_POLICY


def _judged(root: Path, folder: Path, policy: Callable[[], Policy]) -> list[Finding]:
    judged = judge_tree(root, policy, cache=_open(folder, root))
    assert not isinstance(judged, TreeVerdict)
    return judged.findings


def _gone(pid: int) -> bool:
    """Whether the child was reaped (a zombie still answers signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_changed_files_are_parsed_beside_and_the_findings_are_a_fresh_runs(
        root: Path, tmp_path: Path, started: list[parse_beside.Beside]) -> None:
    folder = tmp_path / "cache"
    _judged(root, folder, Loads())  # the first run: no verdict yet, every file parsed here
    assert started == []
    _changed(root)
    loads = Loads()
    found = _judged(root, folder, loads)
    assert found == check_tree(root, DEFAULT_POLICY, []).findings
    assert {finding.rule for finding in found} >= {"FO130", "FO111"}
    assert loads.here == 0  # every changed file was parsed by the child
    (child,) = started
    assert sorted(path for path, _ in child.take()) == \
        ["flags/flag_3.yml", "flags/flag_7.yml", "flags/flag_9.yml"]
    assert _gone(child.pid)
    assert code._ELSEWHERE["pydantic"] == {pydantic.__version__}
    again = judge_tree(root, loads, cache=_open(folder, root))  # stored: the verdict holds
    assert isinstance(again, TreeVerdict) and again.findings == found


def _failing_in_the_child(how: Callable[[], None]) -> Callable[[], Policy]:
    parent = os.getpid()

    def policy() -> Policy:
        if os.getpid() != parent:
            how()
        return DEFAULT_POLICY

    return policy


def _raise() -> None:
    raise RuntimeError("a child that fails")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("how", [_raise, _die], ids=["raises", "killed"])
def test_a_child_that_fails_or_dies_gives_nothing_and_the_files_are_parsed_here(
        root: Path, tmp_path: Path, started: list[parse_beside.Beside],
        how: Callable[[], None]) -> None:
    folder = tmp_path / "cache"
    _judged(root, folder, Loads())
    _changed(root)
    found = _judged(root, folder, _failing_in_the_child(how))
    assert found == check_tree(root, DEFAULT_POLICY, []).findings
    (child,) = started
    assert child.take() == {} and _gone(child.pid)
    assert code._ELSEWHERE == {}


def test_a_child_not_wanted_is_ended_and_reaped(root: Path, tmp_path: Path,
                                                started: list[parse_beside.Beside]) -> None:
    """Files touched but not changed: their statuses differ, so they are read (and a child
    starts), and then the whole run's verdict holds: nothing to parse."""
    folder = tmp_path / "cache"
    _judged(root, folder, Loads())
    judge_tree(root, Loads(), cache=_open(folder, root))  # the verdict is kept
    os.utime(root / "flags/flag_4.yml", ns=(10**18, 10**18))
    loads = Loads()
    judged = judge_tree(root, loads, cache=_open(folder, root))
    assert isinstance(judged, TreeVerdict)
    (child,) = started
    assert child.take() == {} and _gone(child.pid) and loads.here == 0


class Interrupted(Exception):
    """Stands for Ctrl-C (a KeyboardInterrupt would stop pytest itself)."""


def test_a_run_interrupted_while_taking_the_results_ends_with_that_interruption(
        root: Path, tmp_path: Path, started: list[parse_beside.Beside],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The child is reaped and its pipe closed, then the interruption comes: ending the child
    again must neither close a descriptor twice (by then maybe another file's) nor replace
    the interruption with an error of its own."""
    folder = tmp_path / "cache"
    _judged(root, folder, Loads())
    _changed(root)

    def interrupted(payload: bytes, files: object) -> parse_beside.Parsed:
        raise Interrupted

    monkeypatch.setattr(parse_beside, "_unpickled", interrupted)
    with pytest.raises(Interrupted):
        judge_tree(root, Loads(), cache=_open(folder, root))
    (child,) = started
    assert child.reaped and child.reading is None and child.sending is None
    assert _gone(child.pid)


def test_changed_files_that_do_not_fit_in_the_pipe_are_parsed_here(
        root: Path, tmp_path: Path, started: list[parse_beside.Beside],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Sending them would wait for the child to be done importing."""
    monkeypatch.setattr(parse_beside, "PIPE_HOLDS", 100)
    folder = tmp_path / "cache"
    _judged(root, folder, Loads())
    _changed(root)
    loads = Loads()
    assert _judged(root, folder, loads) == check_tree(root, DEFAULT_POLICY, []).findings
    (child,) = started
    assert child.files == () and _gone(child.pid) and loads.here == 1


def test_the_build_parses_here_as_it_loads_the_model_anyway(
        root: Path, tmp_path: Path, started: list[parse_beside.Beside]) -> None:
    folder = tmp_path / "cache"
    cache = Cache.open(Settings(folder), root, with_data=True, version="test",
                       clock=lambda: 2**62)
    judge_tree(root, Loads(), cache=cache, with_data=True)
    _changed(root)
    cache = Cache.open(Settings(folder), root, with_data=True, version="test",
                       clock=lambda: 2**62)
    judge_tree(root, Loads(), cache=cache, with_data=True)
    assert started == []


@pytest.mark.parametrize("payload", [
    b"",
    b"not a pickle",
    pickle.dumps(({}, [])),  # fewer summaries than files
    pickle.dumps(({}, ["a summary"])),
    pickle.dumps((["versions"], [FileSummary("flags/a.yml", "a", ())])),
], ids=["empty", "garbage", "short", "not-a-summary", "versions"])
def test_a_payload_not_exactly_as_sent_gives_nothing(payload: bytes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(code, "_ELSEWHERE", {})
    assert parse_beside._unpickled(payload, [("flags/a.yml", b"name: a\n")]) == {}
    assert code._ELSEWHERE == {}


def test_a_library_version_the_context_does_not_name_keeps_the_packs_unwritten(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that parsed with another pydantic than the context names (one upgraded while
    the run went on) is as this process importing it: no pack is written."""
    monkeypatch.setattr(code, "_ELSEWHERE", {})
    named = (f"pydantic-{pydantic.__version__}.dist-info",)
    assert code._libraries_match(named)
    code.note_library_versions({"pydantic": pydantic.__version__})
    assert code._libraries_match(named)
    code.note_library_versions({"pydantic": "0.0.1"})
    assert not code._libraries_match(named)


def test_the_command_never_loads_the_model_when_a_child_parsed(tmp_path: Path) -> None:
    """The real command, on a tree of HITS_FROM files and more: a run with two files changed
    reports what a run without the cache reports, and this process imported neither pydantic
    nor the model (on a machine of one core, where no child is forked, it did)."""
    from validator.fork_pool import cores

    repo = flag_tree(tmp_path / "repo", parse_beside.HITS_FROM + 20, teams=7)
    time.sleep(2.2)  # older than the racy margin (stat_keys.py): the runs keep their statuses
    script = ("import sys; from validator.cli import main; code = main(sys.argv[1:]); "
              "print(sorted(m for m in ('pydantic', 'validator.model') if m in sys.modules)); "
              "sys.exit(code)")
    cached = [sys.executable, "-c", script, "-C", str(repo), "validate", "--cache-dir",
              str(tmp_path / "c")]
    subprocess.run(cached, capture_output=True, check=True)
    subprocess.run(cached, capture_output=True, check=True)  # the verdict is kept
    (repo / "flags/team_3/flag_3.yml").write_text(flag_yaml("flag_3", "beta"), "utf-8")
    (repo / "flags/team_5/flag_12.yml").write_text(flag_yaml("flag_4"), "utf-8")
    done = subprocess.run(cached, capture_output=True, text=True, check=False)
    fresh = subprocess.run([*cached[:-2], "--no-cache"], capture_output=True, text=True,
                           check=False)
    *report, imported = done.stdout.splitlines()
    *fresh_report, fresh_imported = fresh.stdout.splitlines()
    assert (done.returncode, done.stderr, report) == (1, fresh.stderr, fresh_report)
    assert "FO130" in done.stdout and "FO111" in done.stdout
    assert imported == ("[]" if cores() >= 2 else "['pydantic', 'validator.model']")
    assert fresh_imported == "['pydantic', 'validator.model']"
