"""The cache's defences, one at a time: where it lives, what it refuses to trust, and that
concurrent runs neither tear a pack nor change a verdict. No timings are asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import flag_yaml

from validator.cache import FORMAT, Cache, Settings, context_digest
from validator.policy import DEFAULT_POLICY
from validator.tree import check_tree


def _tree(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return _tree(tmp_path / "repo", {
        "flags/alpha.yml": flag_yaml("alpha", "beta"),  # FO130: beta without actors
        "flags/gamma.yml": flag_yaml("gamma"),
    })


def _findings(root: Path, cache: Cache | None) -> list[object]:
    return list(check_tree(root, DEFAULT_POLICY, [], cache=cache).findings)


def _open(folder: Path, root: Path, version: str | None = None) -> Cache:
    cache = Cache.open(Settings(folder), root, with_data=False, version=version)
    assert cache is not None
    return cache


def _pack(folder: Path) -> Path:
    [pack] = folder.glob("*.summaries.json")
    return pack


def test_settings_follow_option_environment_and_ci() -> None:
    home = {"HOME": "/home/u"}
    assert Settings.of(None, False, home).directory == Path("/home/u/.cache/flagops")
    assert Settings.of(None, False, {**home, "XDG_CACHE_HOME": "/x"}).directory == \
        Path("/x/flagops")
    assert Settings.of(None, False, {**home, "XDG_CACHE_HOME": "rel"}).directory == \
        Path("/home/u/.cache/flagops")  # a relative XDG_CACHE_HOME is invalid
    assert Settings.of(None, False, {**home, "CI": "true"}).directory is None
    assert Settings.of(None, False, {**home, "CI": "false"}).directory is not None
    assert Settings.of(None, False, {"CI": "1", "FLAGOPS_CACHE_DIR": "/c"}).directory == \
        Path("/c")
    assert Settings.of("/d", False, {"FLAGOPS_CACHE_DIR": "/c"}).directory == Path("/d")
    assert Settings.of("/d", True, {}).directory is None
    assert Settings.of("/d", False, {"FLAGOPS_NO_CACHE": "1"}).directory is None


def test_hits_give_the_findings_of_a_fresh_run(root: Path, tmp_path: Path) -> None:
    fresh = _findings(root, None)
    assert [f.rule for f in fresh] == ["FO130"]  # type: ignore[attr-defined]
    first, second = _open(tmp_path / "c", root), None
    assert _findings(root, first) == fresh and first.hits == 0
    second = _open(tmp_path / "c", root)
    assert _findings(root, second) == fresh and second.hits == 2


def test_a_symlink_or_a_shared_folder_is_not_used(root: Path, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert Cache.open(Settings(tmp_path / "link"), root, with_data=False) is None
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared").chmod(0o777)
    assert Cache.open(Settings(tmp_path / "shared"), root, with_data=False) is None
    assert Cache.open(Settings(None), root, with_data=False) is None


@pytest.mark.parametrize("damage", [b"", b"{", b"\xff\xfe", b"[]", b'{"format": 1}',
                                    b"[" * 100_000])
def test_a_corrupt_pack_is_ignored_and_rebuilt(root: Path, tmp_path: Path,
                                               damage: bytes) -> None:
    folder = tmp_path / "c"
    _findings(root, _open(folder, root))
    _pack(folder).write_bytes(damage)
    cache = _open(folder, root)
    assert _findings(root, cache) == _findings(root, None) and cache.hits == 0
    assert json.loads(_pack(folder).read_text())["format"] == FORMAT  # rebuilt


def test_an_entry_for_another_path_with_the_same_bytes_is_not_taken(tmp_path: Path) -> None:
    """team_a/alpha.yml and team_b/alpha.yml hold the same bytes; only one is a duplicate."""
    root = _tree(tmp_path / "repo", {"flags/team_a/alpha.yml": flag_yaml("alpha"),
                                     "flags/team_b/alpha.yml": flag_yaml("alpha")})
    folder = tmp_path / "c"
    _findings(root, _open(folder, root))
    pack = json.loads(_pack(folder).read_text())
    entries = pack["entries"]
    a, b = sorted(entries, key=lambda key: str(_fields(entries[key])[1]))
    entries[b] = entries[a]  # a's entry (its key, its path) filed under b's key
    _pack(folder).write_text(json.dumps(pack))
    cache = _open(folder, root)
    assert _findings(root, cache) == _findings(root, None) and cache.hits == 1
    entries[b] = "\t".join([b, *map(str, _fields(entries[a])[1:])])  # b's key, but a's path inside
    _pack(folder).write_text(json.dumps(pack))
    cache = _open(folder, root)
    assert _findings(root, cache) == _findings(root, None) and cache.hits == 1


def _fields(entry: str | list[object]) -> list[object]:
    """An entry's parts: a line of a flag without findings, or the list of any other."""
    return list(entry.split("\t")) if isinstance(entry, str) else entry


A = "flags/alpha.yml"


@pytest.mark.parametrize("entry", [
    ["K", "flags/alpha.yml", "alpha", [12, 1], [[A, 12, 1, "error", "FO999", "made up", None]]],
    ["K", "flags/alpha.yml", "alpha", [12, 1], [[A, 0, 1, "error", "FO130", "m", None]]],
    ["K", "flags/alpha.yml", "alpha", [12, 1], [[A, 1, 1, "fatal", "FO130", "m", None]]],
    ["K", "flags/alpha.yml", "alpha", [12, 1], [["flags/gamma.yml", 1, 1, "error", "FO130",
                                                 "m", None]]],
    ["K", "flags/alpha.yml", "alpha", [12, 1], [[A, 1, 1, "error", "FO130", "m", None, 1]]],
    ["K", "flags/alpha.yml", "alpha", [True, 1], []],
    ["K", "flags/alpha.yml", 7, None, []],
    ["K", "flags/alpha.yml", "alpha", None, [[1, 1]]],
    ["K", "flags/alpha.yml", "alpha"],
    "K\tflags/alpha.yml\talpha\t012\t1",  # as a line: a leading zero
    "K\tflags/alpha.yml\talpha\t\u0661\t1",  # a digit, but not an ASCII one
    "K\tflags/alpha.yml\talpha\t+1\t1",
    "K\tflags/alpha.yml\talpha\t1",
    "K\tflags/gamma.yml\talpha\t1\t1",
])
def test_an_entry_of_the_wrong_shape_is_a_miss(root: Path, tmp_path: Path,
                                               entry: list[object] | str) -> None:
    """alpha has a finding, so its entry is a list; as a line it would say "no findings"."""
    folder = tmp_path / "c"
    _findings(root, _open(folder, root))
    pack = json.loads(_pack(folder).read_text())
    [key] = [k for k, e in pack["entries"].items() if _fields(e)[1] == "flags/alpha.yml"]
    pack["entries"][key] = entry.replace("K", key, 1) if isinstance(entry, str) else \
        [key if part == "K" else part for part in entry]
    _pack(folder).write_text(json.dumps(pack))
    cache = _open(folder, root)
    assert _findings(root, cache) == _findings(root, None) and cache.hits == 1


def test_an_edit_that_keeps_size_and_mtime_is_seen(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    _findings(root, _open(folder, root))
    target = root / "flags" / "gamma.yml"
    before = target.stat()
    target.write_bytes(target.read_bytes().replace(b"stage: off", b"stage: 0ff"))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    cached = _findings(root, _open(folder, root))
    assert cached == _findings(root, None) and len(cached) == 2


def test_policy_schema_and_version_are_in_the_context(root: Path) -> None:
    first = context_digest(root)
    assert context_digest(root, version="0.1.0") != context_digest(root, version="0.2.0")
    (root / "pyproject.toml").write_text("[tool.flagops]\nallow_overrides = false\n")
    second = context_digest(root)
    (root / "schema").mkdir()
    (root / "schema" / "flags-config.schema.json").write_text("{}")
    assert len({first, second, context_digest(root)}) == 3


def test_a_changed_context_never_reads_the_old_pack(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    _findings(root, _open(folder, root, version="1"))
    cache = _open(folder, root, version="2")
    assert cache.summaries == {} and _findings(root, cache) == _findings(root, None)


def test_concurrent_runs_agree_and_leave_whole_packs(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    for index in range(30):
        (root / "flags" / f"f{index}.yml").write_text(flag_yaml(f"f{index}", "beta"))
    env = {**os.environ, "FLAGOPS_CACHE_DIR": str(folder)}
    argv = [sys.executable, "-m", "validator", "-C", str(root), "validate", "--format", "json"]
    fresh = subprocess.run([*argv, "--no-cache"], capture_output=True, text=True, env=env)
    for _ in range(3):
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
                for _ in range(4)]
        outputs = [run.communicate()[0] for run in runs]
        assert outputs == [fresh.stdout] * 4
        (root / "flags" / "f0.yml").write_text(flag_yaml("f0", "off"))  # a miss next round
        fresh = subprocess.run([*argv, "--no-cache"], capture_output=True, text=True, env=env)
    assert json.loads(_pack(folder).read_text())["format"] == FORMAT
    assert not list(folder.glob(".tmp-*"))  # no temporary file left behind


def test_the_build_output_is_kept_only_under_its_own_key(root: Path, tmp_path: Path) -> None:
    from validator.cli import main

    (root / "flags" / "alpha.yml").write_text(flag_yaml("alpha"))
    folder = str(tmp_path / "c")
    assert main(["-C", str(root), "build", "--no-cache", "-o", "fresh.json"]) == 0
    assert main(["-C", str(root), "build", "--cache-dir", folder, "-o", "a.json"]) == 0
    assert main(["-C", str(root), "build", "--cache-dir", folder, "-o", "a.json"]) == 0
    assert (root / "a.json").read_bytes() == (root / "fresh.json").read_bytes()
    [pack] = Path(folder).glob("*.build.json")
    stored = json.loads(pack.read_text())
    [key] = stored["entries"]
    stored["entries"] = {key: ["another key", ["{}", [], 0]]}
    pack.write_text(json.dumps(stored))
    assert main(["-C", str(root), "build", "--cache-dir", folder, "-o", "a.json"]) == 0
    assert (root / "a.json").read_bytes() == (root / "fresh.json").read_bytes()


def test_the_gate_never_reads_the_cache_even_a_forged_one(tmp_path: Path) -> None:
    """A forged entry with a correct key fools a tree run whose cache it is in (the cache
    folder is trusted like the checkout); the gate reads no cache, so its verdict stands."""
    from gitrepo import EPOCH, Repo

    from validator.cache import file_key

    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    repo.write("flags/alpha.yml", flag_yaml("alpha"))
    repo.commit("alpha", at=EPOCH - 86_400)
    repo.write("flags/alpha.yml", flag_yaml("alpha", "beta"))  # FO130, and a step to judge
    repo.git("add", "-A")
    folder = tmp_path / "c"
    cache = _open(folder, repo.path)
    _findings(repo.path, cache)
    pack = json.loads(_pack(folder).read_text())
    raw = (repo.path / "flags" / "alpha.yml").read_bytes()
    key = file_key(cache.context, "flags/alpha.yml", raw)
    pack["entries"][key] = [key, "flags/alpha.yml", "alpha", [2, 7], []]  # "no findings"
    _pack(folder).write_text(json.dumps(pack))
    assert _findings(repo.path, _open(folder, repo.path)) == []  # the tree run is fooled

    def judged(*args: str, cache: bool = True) -> str:
        env = {**repo.env, "FLAGOPS_CACHE_DIR": str(folder)} if cache else \
            {**repo.env, "FLAGOPS_NO_CACHE": "1"}
        done = subprocess.run([sys.executable, "-m", "validator", "-C", str(repo.path),
                               "validate", *args, "--format", "json"], capture_output=True,
                              text=True, env=env, check=False)
        return done.stdout

    for args in (("--staged",), ("--base", "HEAD")):
        assert "FO130" in judged(*args)
        assert judged(*args) == judged(*args, cache=False)


def _filesystem_now(folder: Path) -> int:
    """Now as this filesystem stamps a write."""
    probe = folder / ".probe"
    probe.write_bytes(b"")
    return probe.stat().st_mtime_ns


def _after_every_write(root: Path) -> int:
    """Waits until the filesystem's clock is past every flag file's ctime (a tick at most),
    and returns that time: a run started then may take their keys from their status."""
    newest = max(path.lstat().st_ctime_ns for path in (root / "flags").rglob("*"))
    now = _filesystem_now(root.parent)
    while now <= newest:
        now = _filesystem_now(root.parent)
    return now


def _open_at(folder: Path, root: Path, now: int) -> Cache:
    cache = Cache.open(Settings(folder), root, with_data=False, clock=lambda: now, margin_ns=0)
    assert cache is not None
    return cache


def test_a_settled_file_is_not_read_again_and_a_racy_one_is(root: Path, tmp_path: Path) -> None:
    """A file whose ctime is not older than the run's start may yet change within the same
    tick; its key is not kept by status, so the next run reads it."""
    folder = tmp_path / "c"
    racy = (root / "flags" / "alpha.yml").lstat().st_ctime_ns
    first = _open_at(folder, root, racy)
    _findings(root, first)
    assert "flags/alpha.yml" not in first.stats.kept
    second = _open_at(folder, root, _after_every_write(root))
    assert _findings(root, second) == _findings(root, None) and second.stats.hits == 0
    third = _open_at(folder, root, _after_every_write(root))
    assert _findings(root, third) == _findings(root, None) and third.stats.hits == 2


@pytest.mark.parametrize("edit", ["in place", "renamed over", "chmod", "touched back"])
def test_a_change_that_keeps_size_and_mtime_is_seen_by_status(root: Path, tmp_path: Path,
                                                             edit: str) -> None:
    """After a run that kept both files' keys by status, an edit of the same size with its
    mtime put back (in place: the ctime moves; renamed over: another inode), a chmod, or an
    mtime put back alone, is read again, and the findings are a fresh run's."""
    folder = tmp_path / "c"
    _findings(root, _open_at(folder, root, _after_every_write(root)))
    target = root / "flags" / "gamma.yml"
    before = target.stat()
    edited = target.read_bytes().replace(b"stage: off", b"stage: 0ff")
    if edit == "in place":
        target.write_bytes(edited)
    elif edit == "renamed over":
        (root / "flags" / ".new").write_bytes(edited)
        os.replace(root / "flags" / ".new", target)
    elif edit == "chmod":
        target.chmod(0o755)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    cache = _open_at(folder, root, _after_every_write(root))
    assert _findings(root, cache) == _findings(root, None)
    assert cache.stats.hits == 1  # alpha only: gamma was read


def test_a_whole_run_with_nothing_changed_takes_the_verdict(root: Path, tmp_path: Path) -> None:
    from validator.check import TreeVerdict
    from validator.tree import judge_tree

    folder = tmp_path / "c"
    fresh = check_tree(root, DEFAULT_POLICY, [])
    assert isinstance(judge_tree(root, DEFAULT_POLICY, cache=_open(folder, root)), type(fresh))
    again = judge_tree(root, DEFAULT_POLICY, cache=_open(folder, root))
    assert isinstance(again, TreeVerdict)
    assert (again.findings, again.checked) == \
        (fresh.findings, [(file.path, file.flag) for file in fresh.files])
    (root / "flags" / "delta.yaml").write_text(flag_yaml("delta"))  # FO008: not read
    changed = judge_tree(root, DEFAULT_POLICY, cache=_open(folder, root))
    assert not isinstance(changed, TreeVerdict)
    assert changed.findings == check_tree(root, DEFAULT_POLICY, []).findings
    assert "FO008" in {finding.rule for finding in changed.findings}


def test_a_run_that_parses_nothing_imports_neither_parser_nor_model(root: Path,
                                                                   tmp_path: Path) -> None:
    argv = ["-C", str(root), "validate", "--cache-dir", str(tmp_path / "c")]
    script = ("import sys; from validator.cli import PLUGIN_LOADER, main; main(sys.argv[1:]); "
              "print([m for m in sys.modules if m.startswith(('ruamel', 'pydantic', "
              "'validator.model', 'validator.loader', 'multiprocessing')) "
              "and m != PLUGIN_LOADER])  # (a placeholder, not pydantic's: validator.cli)")
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                              text=True, check=False)
    assert done.stdout.splitlines()[-1] == "[]"
