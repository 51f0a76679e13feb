"""`flagops schema`: writes schema/flag.schema.json from the model, or checks it is current."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from validator.model import Flag
from validator.output import atomic_write


def flag_schema_text() -> str:
    return json.dumps(Flag.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.root) / args.output
    expected = flag_schema_text()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != expected:
            out.write(f"{args.output} is stale: run `flagops schema`\n")
            return 1
        return 0
    atomic_write(target, expected)
    out.write(f"wrote {args.output}\n")
    return 0
