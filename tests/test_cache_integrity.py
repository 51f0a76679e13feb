"""The cache keeps only what it was given: results filed under the context of the very policy
bytes they were judged by (a policy swapped between two reads cannot poison a later run), and
never a folder reached through a committed symlink or lying in the tracked tree (forged packs
committed to the repository are not trusted), with the pages job's guard refusing both.

Real files and real git repositories throughout; the race of finding 09 is made deterministic
by calling the two reads it raced between in that order, with the swap in between."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import EPOCH, Repo

import validator
from validator.cache import RACY_MARGIN_NS, Cache, Settings, context_digest
from validator.cache.code import FINE_MARGIN_NS, ran_as_digested, settling_margin
from validator.cache.packs import read_pack, write_pack
from validator.cache.settings import safe_folder
from validator.policy import DEFAULT_POLICY, PolicyError, load_policy, policy_of_read
from validator.pyproject_file import read_pyproject
from validator.tree import judge_tree, tree_policy

PROJECT = Path(__file__).resolve().parents[1]
BAD = "[tool.flagops]\nbogus = 1\n"
GOOD = "[tool.flagops]\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    made = Repo.create(tmp_path / "repo", tmp_path / "home")
    made.write_flag("a")
    return made


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """flagops as a user runs it: its own process, no CI, the cache named."""
    import sys

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("FLAGOPS_", "CI", "GIT_"))}
    return subprocess.run([sys.executable, "-m", "validator", "-C", str(root), *args],
                          capture_output=True, text=True, check=False, env=env, timeout=120)


# -- 09: one read of pyproject.toml decides both the context and the policy --------------------


def test_a_policy_swapped_after_the_context_was_read_is_not_the_one_judged(
        repo: Repo, tmp_path: Path) -> None:
    """The race, step by step: the cache's context is made while pyproject.toml holds a policy
    that does not load; a valid one is swapped in before the policy is loaded. The policy must
    be the one of the bytes the context was made of, so nothing is filed under that context,
    and a later cached run with the invalid policy still reports FO301."""
    folder = tmp_path / "cache"
    repo.write("pyproject.toml", BAD)
    cache = Cache.open(Settings(folder), repo.path, with_data=False)
    assert cache is not None
    repo.write("pyproject.toml", GOOD)  # the swap, between the two reads that raced
    with pytest.raises(PolicyError) as caught:
        judge_tree(repo.path, tree_policy(repo.path, cache), cache=cache)
    assert caught.value.finding.rule == "FO301"
    assert not list(folder.glob("*.json"))  # nothing filed under the invalid policy's context

    repo.write("pyproject.toml", BAD)
    cached = _cli(repo.path, "validate", "--cache-dir", str(folder))
    fresh = _cli(repo.path, "validate", "--no-cache")
    assert (cached.returncode, fresh.returncode) == (1, 1)
    assert "FO301" in cached.stderr and cached.stderr == fresh.stderr


def test_the_other_way_round_files_the_valid_policy_under_its_own_context(
        repo: Repo, tmp_path: Path) -> None:
    """Swapped the other way (valid, then invalid), the run judges by the valid bytes it read
    and files its results under their context; the invalid policy is still refused later."""
    folder = tmp_path / "cache"
    repo.write("pyproject.toml", GOOD)
    cache = Cache.open(Settings(folder), repo.path, with_data=False)
    assert cache is not None
    repo.write("pyproject.toml", BAD)
    judged = judge_tree(repo.path, tree_policy(repo.path, cache), cache=cache)
    assert not judged.findings
    assert list(folder.glob("*.summaries.json"))
    assert "FO301" in _cli(repo.path, "validate", "--cache-dir", str(folder)).stderr
    repo.write("pyproject.toml", GOOD)
    assert _cli(repo.path, "validate", "--cache-dir", str(folder)).returncode == 0


def test_a_warm_run_loads_its_lazy_policy_from_the_read_not_the_file(
        repo: Repo, tmp_path: Path) -> None:
    """With the context's pack there, the policy loads only when a file is parsed, which may
    be long after the context was made: it still comes from that read."""
    folder = tmp_path / "cache"
    repo.write("pyproject.toml", GOOD)
    first = Cache.open(Settings(folder), repo.path, with_data=False)
    assert first is not None
    judge_tree(repo.path, tree_policy(repo.path, first), cache=first)
    cache = Cache.open(Settings(folder), repo.path, with_data=False)
    assert cache is not None and cache.known_context()
    policy = tree_policy(repo.path, cache)
    assert callable(policy)  # lazy: not loaded yet
    repo.write("pyproject.toml", BAD)
    assert policy() == DEFAULT_POLICY  # the bytes read, not the invalid file now there


@pytest.mark.parametrize("kind", ["missing", "symlink", "folder", "too large"])
def test_one_read_gives_the_policy_and_a_context_of_its_own(tmp_path: Path, kind: str) -> None:
    """Every shape pyproject.toml can take is read once, and each is its own context; the
    policy of the read is load_policy's (defaults, or FO301 where the file cannot be it)."""
    if kind == "symlink":
        (tmp_path / "elsewhere.toml").write_text(GOOD, encoding="utf-8")
        (tmp_path / "pyproject.toml").symlink_to(tmp_path / "elsewhere.toml")
    elif kind == "folder":
        (tmp_path / "pyproject.toml").mkdir()
    elif kind == "too large":
        (tmp_path / "pyproject.toml").write_bytes(b"#" * (1024 * 1024 + 10))
    read = read_pyproject(tmp_path)
    digests = {read.digest(), read_pyproject(tmp_path / "none").digest()}
    assert len(digests) == (1 if kind == "missing" else 2)
    if kind == "missing":
        assert policy_of_read(read) == load_policy(tmp_path)
        return
    with pytest.raises(PolicyError) as caught:
        policy_of_read(read)
    assert caught.value.finding.rule == "FO301"


# -- 13: a cache folder reached through a committed symlink, or committed, is not trusted -------

FORGED = {"name": "a", "description": "d.", "type": "beta", "group": "group::activation",
          "milestone": "13.12", "stage": "enabled", "default_enabled": True,
          "rollout_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/330340",
          "cleanup_issue_url": "https://gitlab.com/gitlab-org/gitlab/-/issues/1",
          "expectations": {"expected": "x", "risks": "y", "monitoring": "z"}}


def _forge(repo: Repo, folder: Path) -> None:
    """Packs as an attacker writes them: every input of a key is public, so they are valid."""
    cache = Cache.open(Settings(folder), repo.path, with_data=True)
    assert cache is not None
    key = cache.key("flags/a.yml", (repo.path / "flags/a.yml").read_bytes())
    write_pack(folder / f"{cache.shard}.summaries.json", cache.context,
               {key: f"{key}\tflags/a.yml\ta\t1\t7"})
    write_pack(folder / f"{cache.shard}.data.json", cache.context, {key: [key, FORGED]})


def _built_stage(repo: Repo, *args: str) -> tuple[str, bool]:
    done = _cli(repo.path, "build", "--history", "--environment", "production",
                "--output", "build/flags.json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    flag = json.loads((repo.path / "build/flags.json").read_text(encoding="utf-8"))["flags"]["a"]
    return flag["stage"], flag["default_enabled"]


def _committed_symlink_cache(repo: Repo) -> Path:
    """`.cache -> cachedata` and forged packs in cachedata/flagops, committed, then checked
    out afresh as CI does; returns the folder the pages job names."""
    repo.commit("init", at=EPOCH - 100_000)
    (repo.path / "cachedata/flagops").mkdir(parents=True)
    (repo.path / ".cache").symlink_to("cachedata")
    _forge(repo, repo.path / "cachedata/flagops")
    repo.commit("add cache symlink and data", at=EPOCH - 90_000)
    shutil.rmtree(repo.path / "cachedata")  # a fresh checkout: only what was committed
    repo.git("checkout", "-q", "--", ".")
    return repo.path / ".cache" / "flagops"


def test_forged_packs_behind_a_committed_symlink_are_not_trusted(repo: Repo) -> None:
    named = _committed_symlink_cache(repo)
    assert named.resolve() == (repo.path / "cachedata/flagops").resolve()  # through the link
    assert list(named.glob("*.data.json"))  # the forged packs are there, committed
    assert not safe_folder(named, repo.path)
    assert _built_stage(repo, "--cache-dir", str(named)) == ("off", False)
    assert _built_stage(repo, "--no-cache") == ("off", False)


def test_a_committed_cache_folder_without_a_symlink_is_not_trusted(repo: Repo) -> None:
    """No symlink at all: the packs are simply committed where the cache is named."""
    repo.commit("init", at=EPOCH - 100_000)
    folder = repo.path / ".cache" / "flagops"
    _forge(repo, folder)
    repo.commit("add cache data", at=EPOCH - 90_000)
    assert not safe_folder(folder, repo.path)
    assert _built_stage(repo, "--cache-dir", str(folder)) == ("off", False)


def test_a_symlink_anywhere_below_the_root_or_in_a_relative_name_is_refused(
        repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Untracked symlinks too: a component below the root, or in a relative name as given."""
    (tmp_path / "real").mkdir()
    (repo.path / "link").symlink_to(tmp_path / "real")
    assert not safe_folder(repo.path / "link" / "deeper" / "flagops", repo.path)
    monkeypatch.chdir(repo.path)
    assert not safe_folder(Path("link/flagops"))
    assert safe_folder(Path("plain/flagops"), repo.path)  # untracked, no symlink: used


def test_a_cache_in_the_untracked_tree_or_outside_it_is_used(repo: Repo, tmp_path: Path) -> None:
    repo.commit("init", at=EPOCH - 100_000)
    assert safe_folder(repo.path / ".cache" / "flagops", repo.path)
    assert safe_folder(tmp_path / "elsewhere" / "flagops", repo.path)
    outside_git = tmp_path / "plain"
    outside_git.mkdir()
    assert safe_folder(outside_git / ".cache" / "flagops", outside_git)  # no repository


def _pages_guard() -> str:
    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(PROJECT / ".gitlab-ci.yml")["pages"]
    [guard] = [line for line in job["before_script"] if "ls-files" in line]
    return str(guard)


def _guard_passes(at: Path) -> bool:
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", _pages_guard()], cwd=at,
                          capture_output=True, text=True, check=False)
    return done.returncode == 0


def test_the_pages_guard_refuses_anything_of_the_cache_path_committed(
        repo: Repo, tmp_path: Path) -> None:
    """The job's own command, run as GitLab runs it, in real checkouts."""
    repo.commit("init", at=EPOCH - 100_000)
    assert _guard_passes(repo.path)
    (repo.path / ".cache" / "flagops").mkdir(parents=True)  # untracked, as the job makes it
    assert _guard_passes(repo.path)

    linked = Repo.create(tmp_path / "linked", tmp_path / "home")
    linked.write_flag("a")
    _committed_symlink_cache(linked)
    assert not _guard_passes(linked.path)

    committed = Repo.create(tmp_path / "committed", tmp_path / "home")
    committed.write("flags/a.yml", "x: 1\n")
    committed.write(".cache/flagops/pack.json", "{}\n")
    committed.commit("cache", at=EPOCH)
    assert not _guard_passes(committed.path)

    (tmp_path / "not a repository").mkdir()
    assert not _guard_passes(tmp_path / "not a repository")  # git cannot tell: refused


# -- the same class for the validator's code: digested from disk, used as imported -------------


def _package(tmp_path: Path) -> Path:
    """A validator package of two modules, settled: the filesystem's clock is past both."""
    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "model.py").write_text("RULE = 1\n", encoding="utf-8")
    (package / "sub" / "rules.py").write_text("X = 2\n", encoding="utf-8")
    return package


def _filesystem_after(folder: Path, newest: int) -> int:
    """The filesystem's clock once it is past `newest` (a tick at most): a write from then on
    gets another ctime."""
    probe = folder / ".probe"
    while True:
        probe.write_bytes(b"")
        if probe.stat().st_mtime_ns > newest:
            return probe.stat().st_mtime_ns


def _newest(package: Path) -> int:
    return max(path.lstat().st_ctime_ns for path in package.rglob("*.py"))


def _same_size_edit(path: Path) -> None:
    """An edit that keeps the size and puts the mtime back: only the ctime tells."""
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("1", "9"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_packs_are_written_only_while_the_digested_source_is_what_ran(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process started after the package settled: its context may be written under. A
    module edited after the digest (as a branch switch does while a lazily imported module
    is still to be read) stops every write under that context, the pack's old bytes kept."""
    package = _package(tmp_path)
    settled = _filesystem_after(tmp_path, _newest(package))
    monkeypatch.setattr(validator, "STARTED_NS", settled + RACY_MARGIN_NS)  # started later
    (tmp_path / "root").mkdir()
    context = context_digest(tmp_path / "root", package=package)
    assert ran_as_digested(context)
    pack = tmp_path / "pack.json"
    write_pack(pack, context, {"k": 1})
    assert read_pack(pack, context) == {"k": 1}

    _same_size_edit(package / "model.py")
    assert not ran_as_digested(context)
    write_pack(pack, context, {"k": 2})
    assert read_pack(pack, context) == {"k": 1}


def test_a_module_edited_after_the_process_started_is_never_trusted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Edited before the digest but after the first module was read: the digest holds the new
    bytes, an early import may have run the old ones, so nothing is written."""
    package = _package(tmp_path)
    monkeypatch.setattr(validator, "STARTED_NS", _filesystem_after(tmp_path, _newest(package)))
    _same_size_edit(package / "sub" / "rules.py")
    (tmp_path / "root").mkdir()
    context = context_digest(tmp_path / "root", package=package)
    assert not ran_as_digested(context, margin_ns=0)


def test_a_library_imported_at_another_version_than_named_stops_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic upgraded between the digest (which lists the installed versions) and its
    import on the first parse: the module that ran is not the one the context names."""
    import pydantic

    package = _package(tmp_path)
    monkeypatch.setattr(validator, "STARTED_NS", _filesystem_after(tmp_path, _newest(package)))
    (tmp_path / "root").mkdir()
    context = context_digest(tmp_path / "root", package=package)
    assert ran_as_digested(context, margin_ns=0)  # the real pydantic is the one listed
    monkeypatch.setattr(pydantic, "__version__", "0.0.1")
    assert not ran_as_digested(context, margin_ns=0)


def test_the_settling_margin_follows_the_grain_of_the_stamp() -> None:
    """Sub-second stamps are the kernel's coarse clock (a jiffy): 100 ms is margin; a stamp of
    whole seconds may be a filesystem that keeps no more, and gets the stat rule's 2 s."""
    assert settling_margin(1_790_000_000_123_456_789) == FINE_MARGIN_NS
    assert settling_margin(1_790_000_000_000_000_000) == RACY_MARGIN_NS
