"""`flagops history NAME`: the flag's rollout timeline on the first-parent line of a ref."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TextIO

from validator import git
from validator.errors import UserError
from validator.landings import name_pathspec, state_at
from validator.lifecycle.reads import clock_of, details, flag_commits
from validator.lifecycle.show import history_json, history_text
from validator.lifecycle.timeline import timeline
from validator.loader import stem


def run(args: argparse.Namespace, out: TextIO) -> int:
    root, name = Path(args.root), args.name
    ref = git.resolve(root, args.ref)
    commits = flag_commits(root, ref, [name_pathspec(name)])
    if not commits:
        raise UserError(f"no flag file named {name}.yml in the first-parent history of "
                        f"{args.ref}")
    with git.BlobReader(root) as reader:
        events = timeline(commits, name, partial(state_at, reader), stem, clock_of(root, ref),
                          details(root, (c.sha for c in commits)), every=args.all)
    out.write(history_json(events) if args.format == "json" else history_text(events))
    return 0
