"""The one base error for what users get wrong; the CLI prints it as one line and exits 1."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in input or invocation: printed without a traceback."""


class UsageError(UserError):
    """The command line itself is wrong: exit code 2, like argparse's own errors."""
