"""The cache can never change a verdict: over random trees and random edits, a run through the
cache gives exactly the findings, files and flags of a run without it.

Edits change content, modes (executable bit, a symlink in a file's place), names, the policy
(pyproject.toml's bytes), the flagops version (the key's version part) and the cache itself
(truncated, garbage, entries swapped between keys or paths). Edits aimed at the stat rule keep a
file's size and put its mtime back: in place (the same inode; often within the racy window of
the run just before), and by a rename over it (a new inode). Every state is checked three times
through the cache (misses, the whole-run verdict, hits), each against a run without it; every
other state first by a whole run whose changed files a forked child parses (parse_beside.py).

The runs' clock is the filesystem's own (a probe file's mtime) with no margin: the strictest
setting under which the stat rule is still sound, so that files written a tick before a run
have their keys taken from their status, and later edits must be seen all the same.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

from gitrepo import flag_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from validator import parse_beside
from validator.cache import Cache, Settings
from validator.check import TreeVerdict
from validator.policy import load_policy
from validator.tree import check_tree, judge_tree

NAMES = ("alpha", "beta_one", "gamma", "delta_two")
FOLDERS = ("flags", "flags/team_a", "flags/team_b")
BROKEN = (
    "name: [unclosed\n",
    "name: alpha\nname: alpha\n",
    "- a list\n",
    "",
    "stage: off\nunknown_key: 1\n",
)
POLICIES = (
    None,
    b"[project]\nname = 'x'\n",
    b"[tool.flagops]\nallow_overrides = false\n",
    b"[tool.flagops]\npercentage_steps = [25, 100]\n",
)


@st.composite
def contents(draw: st.DrawFn) -> bytes:
    """A valid flag, one with rule findings, a broken file or bytes that are not UTF-8."""
    kind = draw(st.sampled_from(("valid", "rules", "broken", "bytes")))
    name = draw(st.sampled_from(NAMES))
    if kind == "valid":
        stage = draw(st.sampled_from(("off", "staging")))
        return flag_yaml(name, stage).encode()
    if kind == "rules":
        return draw(st.sampled_from((
            flag_yaml(name, "beta"),  # beta without actors
            flag_yaml(name, "percentage", percentage=("time", 10)),  # a warning
            flag_yaml(name, "enabled", default_enabled=True),
            flag_yaml(name + "X", "off"),  # not a valid name
        ))).encode()
    if kind == "broken":
        return draw(st.sampled_from(BROKEN)).encode()
    return draw(st.sampled_from((b"name: \xff\n", b"\xef\xbb\xbfname: a\n", b"a: \x00\n")))


paths = st.builds(lambda folder, name: f"{folder}/{name}.yml", st.sampled_from(FOLDERS),
                  st.sampled_from(NAMES))

existing = st.integers(0, 9)
"""An index into the tree's files as they are when the edit comes, so edits meet files."""

edits = st.one_of(
    st.tuples(st.just("write"), paths, contents()),
    st.tuples(st.just("write"), existing, contents()),
    st.tuples(st.just("chmod"), existing, st.booleans()),
    st.tuples(st.just("symlink"), existing, paths),
    st.tuples(st.just("rename"), existing, paths),
    st.tuples(st.just("delete"), existing, st.none()),
    st.tuples(st.just("policy"), st.sampled_from(POLICIES), st.none()),
    st.tuples(st.just("version"), st.sampled_from(("0.1.0", "0.2.0")), st.none()),
    st.tuples(st.just("corrupt"), st.sampled_from(("truncate", "garbage", "swap", "steal",
                                                   "empty-entries")), st.none()),
    st.tuples(st.just("mtime"), existing, st.binary(max_size=3)),
    st.tuples(st.just("mtime"), existing, st.binary(max_size=3)),
    st.tuples(st.just("replace"), existing, st.binary(max_size=3)),
)


@contextmanager
def _folders() -> Iterator[tuple[Path, Path]]:
    top = Path(mkdtemp(prefix="flagops-cache-prop-"))
    try:
        yield top / "repo", top / "cache"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _apply(root: Path, cache_dir: Path, edit: tuple[str, Any, Any], state: dict[str, str]) -> None:
    kind, first, second = edit
    if isinstance(first, int):
        files = sorted(p.relative_to(root).as_posix() for p in (root / "flags").rglob("*.yml"))
        if not files:
            return
        first = files[first % len(files)]
    if kind == "write":
        _write(root / first, second)
    elif kind == "mtime":  # an edit of the same size whose mtime is put back
        target = root / first
        if target.is_file() and not target.is_symlink():
            before = target.stat()
            target.write_bytes(_same_size_edit(target.read_bytes(), second))
            os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif kind == "replace":  # the same, written beside it and renamed over it: a new inode
        target = root / first
        if target.is_file() and not target.is_symlink():
            before = target.stat()
            beside = target.with_name(".beside")
            beside.write_bytes(_same_size_edit(target.read_bytes(), second))
            os.utime(beside, ns=(before.st_atime_ns, before.st_mtime_ns))
            os.chmod(beside, before.st_mode & 0o777)
            os.replace(beside, target)
    elif kind == "chmod" and (root / first).is_file():
        (root / first).chmod(0o755 if second else 0o644)
    elif kind == "symlink":
        _remove(root / first)
        (root / first).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(root / second, (root / first).parent), root / first)
    elif kind == "rename" and os.path.lexists(root / first) and first != second:
        _remove(root / second)
        (root / second).parent.mkdir(parents=True, exist_ok=True)
        os.rename(root / first, root / second)
    elif kind == "delete":
        _remove(root / first)
    elif kind == "policy":
        _remove(root / "pyproject.toml")
        if first is not None:
            (root / "pyproject.toml").write_bytes(first)
    elif kind == "version":
        state["version"] = first
    elif kind == "corrupt":
        _corrupt(cache_dir, first)


SAME_SIZE = ((b"stage: off\n", b"stage: 0ff\n"), (b"false", b"fals3"), (b"name: ", b"nam3: "),
             (b"stage: beta", b"stage: Beta"), (b"[unclosed", b"unclosed]"))


def _same_size_edit(data: bytes, salt: bytes) -> bytes:
    """Bytes of the same length that say something else: a size and mtime key misses it."""
    start = len(salt) % len(SAME_SIZE)
    for before, after in SAME_SIZE[start:] + SAME_SIZE[:start]:
        if before in data:
            return data.replace(before, after, 1)
    return data[:-1] + (b"X" if data[-1:] != b"X" else b"Y") if data else data


def _write(target: Path, data: bytes) -> None:
    _remove(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _remove(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()


def _corrupt(cache_dir: Path, how: str) -> None:
    import json

    for pack in cache_dir.glob("*.json"):
        data = pack.read_bytes()
        if how == "truncate":
            pack.write_bytes(data[: len(data) // 2])
        elif how == "garbage":
            pack.write_bytes(os.urandom(64))
        else:
            try:
                document = json.loads(data)
            except ValueError:  # already broken by an earlier edit (UnicodeDecodeError too)
                continue
            entries = document["entries"]
            keys = sorted(entries)
            if how == "swap" and len(keys) > 1:  # each entry under another file's key
                values = [entries[key] for key in keys]
                document["entries"] = dict(zip(keys, values[1:] + values[:1], strict=True))
            elif how == "steal" and keys:  # one file's entry copied under every key
                document["entries"] = {key: entries[keys[0]] for key in keys}
            elif how == "empty-entries":
                document["entries"] = {key: [] for key in keys}
            pack.write_text(json.dumps(document), encoding="utf-8")


def _verdict(root: Path, cache: Cache | None) -> tuple[Any, ...]:
    policy = load_policy(root)
    checked = check_tree(root, policy, [], cache=cache, with_data=True)
    return checked.findings, checked.files, list(checked.flag_values())


def _judged(root: Path, cache: Cache) -> tuple[Any, ...]:
    """The whole run's verdict, or a check whose changed files a child parsed (the policy
    loaded only when asked, as the command loads it: parse_beside.py)."""
    judged = judge_tree(root, lambda: load_policy(root), cache=cache)
    if isinstance(judged, TreeVerdict):
        return judged.findings, judged.checked, True
    return judged.findings, [(file.path, file.flag) for file in judged.files], False


def _filesystem_clock(probe: Path) -> int:
    """Now as the filesystem stamps files: what a write at this moment would carry."""
    probe.write_bytes(b"")
    return probe.stat().st_mtime_ns


def _open(cache_dir: Path, root: Path, *, with_data: bool, version: str) -> Cache:
    probe = cache_dir.parent / "probe"
    cache = Cache.open(Settings(cache_dir), root, with_data=with_data, version=version,
                       clock=lambda: _filesystem_clock(probe), margin_ns=0)
    assert cache is not None
    return cache


USED = {"status": 0, "verdict": 0, "beside": 0}
"""How often the shortcuts were taken over all examples: a test that never took them would
prove nothing about them."""


@contextmanager
def _beside_for_any_tree() -> Iterator[None]:
    """Changed files parsed by a child whatever the tree's size (and the machine's cores), each
    child that gave summaries counted."""
    saved = parse_beside.HITS_FROM, parse_beside._cores, parse_beside._unpickled

    def counted(payload: bytes, files: Any) -> Any:
        parsed = saved[2](payload, files)
        USED["beside"] += bool(parsed)
        return parsed

    parse_beside.HITS_FROM, parse_beside._cores, parse_beside._unpickled = 0, lambda: 2, counted
    try:
        yield
    finally:
        parse_beside.HITS_FROM, parse_beside._cores, parse_beside._unpickled = saved


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.dictionaries(paths, contents(), max_size=5), st.lists(edits, max_size=8))
def test_a_cached_run_finds_exactly_what_a_fresh_run_finds(
        tree: dict[str, bytes], changes: list[tuple[str, Any, Any]]) -> None:
    stats = USED
    with _folders() as (root, cache_dir), _beside_for_any_tree():
        root.mkdir()
        (root / "flags").mkdir()
        for path, data in tree.items():
            _write(root / path, data)
        state = {"version": "0.1.0"}
        for step, edit in enumerate([("none", None, None), *changes]):
            _apply(root, cache_dir, edit, state)
            fresh = _verdict(root, None)
            if step % 2:  # first a whole run: the changed files parsed by a child
                assert _judged(root, _open(cache_dir, root, with_data=False,
                                           version=state["version"]))[:2] == \
                    (fresh[0], [(file.path, file.flag) for file in fresh[1]])
            for run in range(3):  # misses, the whole run's verdict, hits
                cache = _open(cache_dir, root, with_data=step % 2 == 0,
                              version=state["version"])
                if run == 1:
                    assert _judged(root, cache)[:2] == \
                        (fresh[0], [(file.path, file.flag) for file in fresh[1]])
                else:
                    assert _verdict(root, cache) == fresh
            stats["status"] += cache.stats.hits
            stats["verdict"] += _judged(root, _open(cache_dir, root, with_data=False,
                                                    version=state["version"]))[2]


def test_the_shortcuts_were_taken() -> None:
    """Runs after the property test (pytest keeps a module's order): both shortcuts, and the
    child parsing a whole run's changed files, were exercised, many times, by the examples
    above."""
    if USED["status"] == 0:
        test_a_cached_run_finds_exactly_what_a_fresh_run_finds()
    assert USED["status"] > 100 and USED["verdict"] > 100 and USED["beside"] > 50
