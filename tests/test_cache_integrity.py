"""The cache keeps only what it was given: results filed under the context of the very policy
bytes they were judged by (a policy swapped between two reads cannot poison a later run).

Real files and real git repositories throughout; the race of finding 09 is made deterministic
by calling the two reads it raced between in that order, with the swap in between."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo

from validator.cache import Cache, Settings
from validator.cache.inputs import read_pyproject
from validator.policy import DEFAULT_POLICY, PolicyError, load_policy, policy_of_read
from validator.tree import judge_tree, tree_policy

BAD = "[tool.flagops]\nbogus = 1\n"
GOOD = "[tool.flagops]\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    made = Repo.create(tmp_path / "repo", tmp_path / "home")
    made.write_flag("a")
    return made


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """flagops as a user runs it: its own process, no CI, the cache named."""
    import os
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
