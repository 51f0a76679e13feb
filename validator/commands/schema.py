"""`flagops schema`: writes schema/flag.schema.json from the model, or checks it is current."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from validator.config_file import read_regular_file
from validator.model import flag_schema_text
from validator.output import atomic_write
from validator.reports.escape import escape

MAX_SCHEMA_BYTES = 1024 * 1024
"""The generated schema is a few KiB; --check reads no more than this of what is there."""


def run(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.root) / args.output
    expected = flag_schema_text()
    if args.check:
        if _current(target, escape(args.output)) != expected.encode("utf-8"):
            out.write(f"{escape(args.output)} is stale: run `flagops schema`\n")
            return 1
        return 0
    atomic_write(target, expected)
    out.write(f"wrote {escape(args.output)}\n")
    return 0


def _current(target: Path, shown: str) -> bytes:
    """What the checked file holds; nothing when it is absent. A FIFO, device or folder is
    refused before it is read (a FIFO would block), and no more than the limit is read."""
    if not target.exists():
        return b""
    return read_regular_file(target, shown, MAX_SCHEMA_BYTES,
                             what="the schema `flagops schema` writes")
