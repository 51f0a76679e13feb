"""`flagops status`: one row per flag at a ref (HEAD: what has landed), what needs action first."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from validator import git
from validator.cache import Settings
from validator.errors import UserError
from validator.lifecycle.facts import known
from validator.lifecycle.lifespan import current_milestone
from validator.lifecycle.reads import policy_of, version_text
from validator.lifecycle.show import status_table, write_status_json
from validator.lifecycle.state_cache import StateStore
from validator.lifecycle.status import Facts, rows
from validator.model import Flag
from validator.policy import Policy

STORE_FROM = 100
"""Below this many named flags the states cache is not opened: their few blobs parse faster
than the packs of a 10,000-flag repository load."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    root, now = Path(args.root), int(time.time())  # the clock, read at the edge only
    shown = args.ref or "HEAD"
    ref = git.resolve(root, shown)
    # Code and the version file: the working tree's by default, as `refs` reads them; at a
    # --ref, that commit's, as the flags, their history and the policy are.
    tree = ref if args.ref is not None else None
    policy = policy_of(root, ref)  # the ref's rules, as the gate judges a step from it
    store = StateStore.open(Settings.from_args(args), root) \
        if not args.names or len(args.names) >= STORE_FROM else None
    found_at = known(root, ref, args.names, policy, store)
    missing = [name for name in args.names if name not in found_at.flags]
    if missing:
        raise UserError(f"no flag named {', '.join(missing)} at {shown}")
    flags = found_at.flags
    found = rows(flags, _with_references(root, policy, flags, found_at.facts, tree), policy,
                 current_milestone(policy, version_text(root, policy, tree)), now)
    if args.stale:
        found = [row for row in found if row.stale]
    if args.format == "json":
        write_status_json(found, out)
    else:
        out.write(status_table(found, now))
    return 0


def _with_references(root: Path, policy: Policy, flags: dict[str, Flag],
                     known: dict[str, Facts], tree: str | None) -> dict[str, Facts]:
    """Adds whether code (the working tree's, or `tree`'s) references each flag (one git grep
    for all of them)."""
    from validator.lifecycle.search import referenced_names

    used = referenced_names(root, policy, sorted(flags), tree=tree)
    return {name: replace(fact, referenced=name in used) for name, fact in known.items()}
