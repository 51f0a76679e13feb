"""The benchmark's repositories: generated once per plan into bench/.cache, then put into the
measured state (10 flags one step further in the working tree, one of them staged) and back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import flagplan
import synth

HERE = Path(__file__).resolve().parent
CHANGED = 10
OUTPUTS = ("build", "public", "public-cold", "public-floor")
"""What build and render write (the cold render has a folder of its own)."""


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def repository(
    plan: flagplan.RepoPlan, cache: Path, *, fresh: bool
) -> tuple[Path, dict[str, object]]:
    """The repo for plan, generated if missing; the key includes the generator's and the schema's
    hashes, so a changed generator never reuses an old repo, and a partial one is never reused.
    """
    target = cache / _cache_key(plan)
    stats: dict[str, object] = {
        "flags": len(plan.flags),
        "commits": plan.commit_count,
        "versions_per_flag": plan.steps,
        "flags_per_commit": plan.batch,
    }
    if target.is_dir() and not fresh:
        _log(f"N={len(plan.flags):,}: reusing {target}")
        return target, {**stats, "cached": True, **_repacked(target)}
    for stale in cache.glob(f"n{len(plan.flags)}-*"):  # older generator versions, partial runs
        shutil.rmtree(stale, ignore_errors=True)
    partial = target.with_name(target.name + ".partial")
    _log(f"N={len(plan.flags):,}: generating {plan.commit_count} commits")
    started = time.perf_counter()
    synth.write_repo(plan, partial)
    partial.rename(target)
    seconds = round(time.perf_counter() - started, 2)
    _log(f"N={len(plan.flags):,}: generated in {seconds} s")
    return target, {**stats, "cached": False, "generation_s": seconds, **_repacked(target)}


REPACKED = "bench-repacked"
"""Marks a repository that `_repacked` has packed as `git gc` would."""


def _repacked(target: Path) -> dict[str, object]:
    """Packs the repository as every repository people work in is packed, once.

    git fast-import writes objects in the order it gets them, each commit among its trees and
    blobs, and git's own documentation (git-fast-import, "Packfile optimization") advises a
    repack after an import. `git gc` does it in every real repository: commits first. Unpacked
    so, a walk of the first-parent line reads pages from all over the pack; at 100,000 flags the
    trusted clock's `git log` took 0.5 to 2.8 s and 548 MB of resident pages, and 0.3 to 0.5 s and
    47 MB after the repack (11 minutes, once, on a busy machine).
    """
    marker = target / ".git" / REPACKED
    if marker.exists():
        return {"repacked": True}
    _log(f"{target.name}: git repack -a -d (once; the 100,000-flag repository takes minutes)")
    started = time.perf_counter()
    _git(target, "repack", "-a", "-d", "-q")
    marker.touch()
    return {"repacked": True, "repack_s": round(time.perf_counter() - started, 2)}


def _cache_key(plan: flagplan.RepoPlan) -> str:
    digest = hashlib.sha256((HERE / "synth.py").read_bytes())
    digest.update((HERE / "flagplan.py").read_bytes())
    digest.update((synth.PROJECT / synth.SCHEMA).read_bytes())
    return f"n{len(plan.flags)}-s{plan.steps}-b{plan.batch}-{digest.hexdigest()[:10]}"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=synth.git_env(), check=True, capture_output=True, text=True
    )
    return done.stdout


def prepare(repo: Path, plan: flagplan.RepoPlan) -> list[str]:
    """10 flags one legal step further in the working tree, the first of them staged.

    The flags are spread over the plan (every k-th flag that has a next step), so they sit in
    different team folders and landed at different depths of the history.
    """
    restore(repo)
    _ignore_outputs(repo)
    movable = [flag for flag in plan.flags if flagplan.next_step(flag) is not None]
    chosen = movable[:: max(1, len(movable) // CHANGED)][:CHANGED]
    for flag in chosen:
        (repo / flag.path).write_text(flagplan.next_step(flag) or "", encoding="utf-8")
    _git(repo, "add", "--", chosen[0].path)
    unstaged = _git(repo, "diff", "--name-only", "HEAD", "--", "flags").split()
    staged = _git(repo, "diff", "--cached", "--name-only", "HEAD", "--", "flags").split()
    if (len(unstaged), len(staged)) != (len(chosen), 1):
        raise RuntimeError(f"expected {len(chosen)} changed and 1 staged flag in {repo}")
    return [flag.path for flag in chosen]


def _ignore_outputs(repo: Path) -> None:
    """What `flagops init`'s .gitignore keeps out of git (the merged config, the site), kept
    out here through the clone's own exclude file: `refs` and the lifecycle rules search the
    untracked files that git does not ignore, and a team's repository ignores its outputs."""
    exclude = repo / ".git" / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    exclude.write_text("".join(f"/{name}/\n" for name in OUTPUTS), encoding="utf-8")


MANY_FILES = 1000
SETTLE_S = 300
"""How long after deleting many files a benchmark that creates many waits: this machine's ext4
(no journal) skips the inodes freed in the last one to five minutes, reading each to find out,
so the catalog's renders right after the render rows' folders went took 4.5 s (median) where
they took 1.6 s six minutes later (README, "Why the cold render writes a new folder")."""
_FREED_AT: list[float] = []


def restore(repo: Path) -> None:
    """Back to HEAD, without the outputs of build and render."""
    _git(repo, "reset", "-q", "--hard")
    for generated in OUTPUTS:
        if sum(len(files) for _, _, files in os.walk(repo / generated)) >= MANY_FILES:
            _FREED_AT[:] = [time.monotonic()]
        shutil.rmtree(repo / generated, ignore_errors=True)


def settle() -> None:
    """Waits out SETTLE_S since `restore` last deleted many files, if it did."""
    if _FREED_AT:
        left = SETTLE_S - (time.monotonic() - _FREED_AT[0])
        if left > 0:
            _log(f"waiting {left:.0f} s: inodes freed by the render rows are still recent")
            time.sleep(left)
