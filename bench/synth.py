"""Writes a planned flag repository with `git fast-import`: N flags and their whole history.

Committer dates are a day apart, the newest two days in the past, so `flagops validate
--base/--staged` judges the repository's own steps clean and every soak time has passed. One
fast-import process takes seconds for 10,000 flags with eight versions each, where one
`git commit` per batch would take minutes.

Run on its own: `python bench/synth.py --flags 30 --steps 3 --batch 10 --out /tmp/repo`.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from flagplan import RepoPlan, plan_repo, versions

PROJECT = Path(__file__).resolve().parents[1]
SCHEMA = "schema/flag.schema.json"
DAY = 24 * 3600
IDENTITY = b"Bench Bot <bench@example.com>"


def git_env() -> dict[str, str]:
    """No inherited GIT_* (a hook's GIT_INDEX_FILE), no user or system config: reproducible."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> None:
    subprocess.run(
        ["git", *args], cwd=repo, env=git_env(), input=stdin, check=True, capture_output=True
    )


def write_repo(plan: RepoPlan, target: Path, *, end: int | None = None) -> None:
    """Creates the repository at target (which must not exist) and checks out main."""
    newest = end if end is not None else (int(time.time()) // DAY - 2) * DAY
    target.mkdir(parents=True)
    _git(target, "init", "-q", "-b", "main")
    process = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=target, env=git_env(), stdin=subprocess.PIPE
    )
    assert process.stdin is not None
    first = newest - (plan.commit_count - 1) * DAY
    for offset, chunk in enumerate(_stream(plan)):
        process.stdin.write(_commit_header(first + offset * DAY, chunk[0]) + chunk[1])
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError(f"git fast-import failed in {target}")
    _git(target, "reset", "-q", "--hard")
    _settle_index(target)


def _settle_index(repo: Path) -> None:
    """Makes the index newer than every file, as in a checkout that is not brand new.

    Files written in the same second as the index are "racily clean": git cannot trust their
    stat data and compares content on every `git diff` (80 ms at 10,000 files), a cost no user
    repository has. A refresh a second later records stat data git trusts.
    """
    time.sleep(1.1)
    _git(repo, "update-index", "-q", "--refresh")


def _stream(plan: RepoPlan) -> Iterator[tuple[str, bytes]]:
    """(message, file commands) per commit: setup, then round by round in shuffled batches."""
    schema = (PROJECT / SCHEMA).read_bytes()
    readme = b"# Synthetic flags for the flagops benchmark\n"
    yield "Set up the flags repository", _modify(SCHEMA, schema) + _modify("README.md", readme)
    texts = [list(versions(flag)) for flag in plan.flags]
    rng = random.Random(plan.seed + 1)
    for step in range(plan.steps):
        order = rng.sample(range(len(plan.flags)), len(plan.flags))
        for start in range(0, len(order), plan.batch):
            chosen = order[start : start + plan.batch]
            body = b"".join(_modify(plan.flags[i].path, texts[i][step].encode()) for i in chosen)
            yield f"Rollout round {step + 1}: {len(chosen)} flags", body


def _modify(path: str, data: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)


def _commit_header(stamp: int, message: str) -> bytes:
    text = message.encode() + b"\n"
    people = b"author %s %d +0000\ncommitter %s %d +0000\n" % (IDENTITY, stamp, IDENTITY, stamp)
    return b"commit refs/heads/main\n" + people + b"data %d\n%s" % (len(text), text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=8, help="versions of every flag")
    parser.add_argument("--batch", type=int, default=40, help="flags per commit")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True, help="a directory to create")
    args = parser.parse_args(argv)
    plan = plan_repo(args.flags, steps=args.steps, batch=args.batch, seed=args.seed)
    started = time.perf_counter()
    write_repo(plan, args.out)
    print(
        f"wrote {args.out}: {len(plan.flags)} flags, {plan.commit_count} commits "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
