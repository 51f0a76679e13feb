"""`flagops history NAME`: the flag's rollout timeline on the first-parent line of a ref."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TextIO

from validator import git
from validator.edit.new_flag import name_problem
from validator.errors import UserError
from validator.files import stem
from validator.landings import name_pathspec, state_at
from validator.lifecycle.facts import paths_of
from validator.lifecycle.reads import clock_of, details, flag_commits, named_history, policy_of
from validator.lifecycle.show import history_json, history_text
from validator.lifecycle.timeline import timeline


def run(args: argparse.Namespace, out: TextIO) -> int:
    root, name = Path(args.root), args.name
    problem = name_problem(name)
    if problem:  # `*`, `../x`: globbed, it would be other flags' history, printed as this one's
        raise UserError(f"no flag file named {name}.yml in the first-parent history of "
                        f"{args.ref}: {problem}")
    ref = git.resolve(root, args.ref)
    policy = policy_of(root, ref)
    clock = clock_of(root, ref, policy)
    here = paths_of(git.tree_entries(root, ref).values(), [name])
    # A flag still at ref is followed by literal paths (fast); a removed one by its name.
    commits = named_history(root, ref, here, clock) if here else \
        flag_commits(root, ref, [name_pathspec(name)])
    if not commits:
        raise UserError(f"no flag file named {name}.yml in the first-parent history of "
                        f"{args.ref}")
    with git.BlobReader(root) as reader:
        events = timeline(commits, name, partial(state_at, reader), stem, clock,
                          details(root, (c.sha for c in commits)), every=args.all,
                          bucketing=policy.bucketing)
    out.write(history_json(events) if args.format == "json" else history_text(events))
    return 0
