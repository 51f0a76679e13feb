"""Runs the reference search, per checkout: one `git grep` for all the flags asked about, one
for calls whose flag is on a later line and, if there are any, one that reads the lines after
them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from validator import git
from validator.git import grep as git_grep
from validator.lifecycle.refs import (
    FOLLOWING,
    GITLAB_OPENERS,
    GITLAB_PATTERNS,
    Reference,
    continued,
    grep_patterns,
    order,
    references,
)
from validator.policy import Policy

_SEARCH_ALL_FROM = 20
"""From this many names on, one pattern for any name beats one pattern per name."""


def templates(policy: Policy) -> tuple[str, ...]:
    return (*GITLAB_PATTERNS, *policy.reference_patterns)


def find(root: Path, policy: Policy, names: Sequence[str] | None,
         known: Sequence[str], extra: Sequence[Path] = (), *, tree: str | None = None,
         cached: bool = False) -> list[Reference]:
    """References to `names` (None: to any flag name, known or not) in root's work tree (or
    its `tree`, or its index), flag files excepted, and in each extra checkout (paths shown
    under it)."""
    chosen = templates(policy)
    asked = None if names is None or len(names) >= _SEARCH_ALL_FROM else names
    patterns = grep_patterns(chosen, asked)
    found: list[Reference] = []
    for checkout in (root, *extra):
        exclude = (git.FLAGS_DIR,) if checkout == root else ()
        side = tree if checkout == root else None
        index = cached and checkout == root
        hits, openers = git_grep.grep_each(checkout, [patterns, GITLAB_OPENERS],
                                           exclude=exclude, tree=side, cached=index)
        lines = git_grep.following(checkout, GITLAB_OPENERS, sorted({hit.path for hit in openers}),
                                   FOLLOWING, tree=side, cached=index) if openers else {}
        prefix = "" if checkout == root else f"{checkout}/"
        here = {*references(hits, chosen, known, asked, names), *continued(openers, lines)}
        found += [Reference(r.flag, prefix + r.path, r.line, r.column)
                  for r in sorted(here, key=order)]
    wanted = None if names is None else set(names)
    return [ref for ref in found if wanted is None or ref.flag in wanted]


def referenced_names(root: Path, policy: Policy, names: Sequence[str], *,
                     tree: str | None = None) -> set[str]:
    """Which of these flags code in root's work tree (or its `tree`) references at all."""
    return {ref.flag for ref in find(root, policy, names, names, tree=tree)}
