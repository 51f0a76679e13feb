"""`flagops remove`: deletes a flag's file when the deletion is legal (off, or released)."""

from __future__ import annotations

import argparse
from typing import TextIO

from validator.edit.command import finish, options_of
from validator.edit.session import remove


def run(args: argparse.Namespace, out: TextIO) -> int:
    options = options_of(args)
    return finish("remove", args, out, lambda: remove(args.name, options))
