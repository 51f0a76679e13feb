"""`flagops render`: the merged config in, the static survey site out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from survey_renderer.site import DEFAULT_INVITE_URL, render_site
from validator.commands.build import read_config
from validator.output import atomic_write
from validator.policy import load_policy
from validator.reports.escape import escape


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    config = read_config(root / args.config, args.config)
    hosts = load_policy(root).invite_link_hosts
    files = render_site(config, invite_url=args.invite_url or DEFAULT_INVITE_URL,
                        allowed_hosts=hosts)
    write_site(files, root / args.output, root=root)
    out.write(f"wrote {len(files)} files to {escape(args.output)} ({config.environment})\n")
    return 0


def write_site(files: dict[str, str], target: Path, *, root: Path | None = None) -> None:
    """Each file atomically; `root` is the repository, which no symlink may lead out of."""
    for relative, text in sorted(files.items()):
        atomic_write(target / relative, text, root=root)
