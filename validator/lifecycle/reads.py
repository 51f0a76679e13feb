"""The git reads of the lifecycle commands, all through `validator.git.git` (the one runner).

Batched like the gate's: one `git log` for the history of every flag asked about, one for the
authors and messages of the commits that are shown, one `cat-file --batch` for the states.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from validator import git
from validator.history import Clock
from validator.landings import branch_clock


@dataclass(frozen=True, slots=True)
class Details:
    """Who made a commit and what it says (a merge commit names its merge request)."""

    author: str
    message: str


def clock_of(root: Path, ref: str) -> Clock:
    """Trusted landing times of ref's first-parent line (no horizon: lifecycles are long)."""
    return branch_clock(root, ref)[0]


def flag_commits(root: Path, ref: str, pathspecs: Sequence[str]) -> list[git.Commit]:
    """First-parent commits of ref that touched those flag files, newest first."""
    return git.first_parent_history(root, ref, pathspecs)


def details(root: Path, shas: Iterable[str]) -> dict[str, Details]:
    """Author and message of each commit, read in one `git log --no-walk --stdin`."""
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return {}
    raw = git.git(root, "log", "--no-walk=unsorted", "--stdin", "--format=%H%x00%an%x00%B%x00",
                  stdin="".join(f"{sha}\n" for sha in wanted).encode("ascii"))
    fields = raw.decode("utf-8", "replace").split("\0")
    found: dict[str, Details] = {}
    for index in range(0, len(fields) - 2, 3):
        found[fields[index].strip()] = Details(fields[index + 1], fields[index + 2].strip())
    return found
