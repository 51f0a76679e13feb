"""Where a merge train's car lands: the car ahead, whose state and policy it is judged on.
A train that merges each car (GitLab's merge method, or the semi-linear one after its rebase)
makes a commit whose first parent is the car ahead. A fast-forward train puts the request's
commits on top of it; that car ahead is found by which commits are the request's, not by how
many there are.

Counting fails both ways: a rebase drops a commit already upstream (the count then reaches
into the cars ahead, or past the tip) and a squash makes one commit of many (the count then
reaches below the car ahead, whose policy is then not the one judged with). A change's own
text (its patch id) is no better: a commit rebased onto a car that edited the lines around it
has other context lines. What a rebase keeps is each commit's author, author date, message
and the paths it changes. The request's own commits are those of its head the train does not
hold already (a request stacked on a car ahead, or one that merged it, holds the car's
commits); each of the train's commits, newest first along its first parents, is the
request's while it carries what one of them carries (each of them once: a commit that copies
a car's author, date and message does not make the car's commit the request's); the first
that is not is the car ahead. A request squashed into one commit keeps none of that: the
train's newest commit is taken for it where it changes some of the paths the request
changes and nothing else.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import NamedTuple

from validator.git import git, is_ancestor

_SIGNED = "--format=%H%x00%an%x00%ae%x00%ad%x00%B%x00%x00"
"""Each commit's id, then what a rebase keeps of it; the message ends in two NULs, which no
message holds."""


class Landing(NamedTuple):
    """What a train commit lands, as a range to judge."""

    ahead: str
    """The car ahead: the target's tip with the requests ahead of this one."""
    judged: str
    """The request's head (merged onto the car ahead), or the train commit."""
    merged: bool


def landing(root: Path, tip: str, head: str, lands: str) -> Landing | None:
    """Where the request (`head`, forked from the target's `tip`) lands in the train commit
    `lands`; None where no car ahead that descends from the tip is found. A merge whose
    first parent is a commit of the request is no train's merge of it (a request that merged
    the car ahead in, or the target): its first parents are walked as a rebase's are."""
    parents = git(root, "rev-list", "--parents", "-n", "1", lands).decode().split()
    if len(parents) == 3 and not is_ancestor(root, parents[1], head):
        found: Landing | None = Landing(parents[1], head, True) if parents[2] == head else \
            Landing(parents[1], lands, False)
    else:
        ahead = car_ahead(root, tip, head, lands)
        found = None if ahead is None else Landing(ahead, lands, False)
    return found if found is not None and is_ancestor(root, tip, found.ahead) else None


def car_ahead(root: Path, tip: str, head: str, lands: str) -> str | None:
    """The commit the request (`head`, forked from the target's `tip`) was rebased onto to
    make `lands`; None where `lands` does not hold the request's commits (or its squash) on
    top of a commit that descends from the tip."""
    own = Counter(_carried(root, "--no-merges", head, "--not", tip, lands).values())
    train = _carried(root, "--first-parent", lands, "--not", tip)
    chain = list(train)
    rebased = 0
    while rebased < len(chain) and own[train[chain[rebased]]] > 0:
        own[train[chain[rebased]]] -= 1
        rebased += 1
    if rebased == 0 and chain and _squashed(root, train[chain[0]][1], tip, head):
        rebased = 1
    ahead = _below(chain, rebased, tip)
    return ahead if rebased and is_ancestor(root, tip, ahead) else None


def _below(chain: list[str], rebased: int, tip: str) -> str:
    """The commit under the newest `rebased` of the chain (tip..lands, newest first, along
    first parents): the tip itself under the whole chain."""
    return chain[rebased] if rebased < len(chain) else tip


def _squashed(root: Path, changed: frozenset[bytes], tip: str, head: str) -> bool:
    """Is a commit that changes these paths the request squashed: some of the paths the
    request changes, and nothing else (a change the car ahead made already leaves its paths
    out)?"""
    fork = git(root, "merge-base", tip, head).decode().strip()
    return bool(changed) and changed <= _paths(root, fork, head)


def _carried(root: Path, *log: str) -> dict[str, tuple[bytes, frozenset[bytes]]]:
    """Each commit of the log, newest first → its author, author date and message, and the
    paths it changes (to its first parent)."""
    listed = git(root, "log", "--date=raw", _SIGNED, *log)
    found: dict[str, tuple[bytes, frozenset[bytes]]] = {}
    for record in listed.split(b"\0\0\n"):
        commit, _, kept = record.strip(b"\n").partition(b"\0")
        if commit:
            name = commit.decode()
            found[name] = (kept, _own_paths(root, name))
    return found


def _own_paths(root: Path, commit: str) -> frozenset[bytes]:
    """The paths a commit changes to its first parent (a root commit's: all of them)."""
    listed = git(root, "diff-tree", "--no-commit-id", "--name-only", "--no-renames", "-r",
                 "-z", "--root", "-m", "--first-parent", commit)
    return frozenset(path for path in listed.split(b"\0") if path)


def _paths(root: Path, start: str, end: str) -> frozenset[bytes]:
    listed = git(root, "diff", "--name-only", "--no-renames", "-z", start, end)
    return frozenset(path for path in listed.split(b"\0") if path)
