"""`flagops ci <host>`: what one pipeline judges, from the CI service's variables alone.

Each host module maps the environment (and, for GitHub, the event's JSON) to a `Job`: pure,
so every branch of the decision is tested without git. The command (`commands/ci.py`) then
fetches, judges and writes the reports: the I/O at the edge.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from validator.ci.base import Job

HOSTS: dict[str, str] = {
    "gitlab": "validator.ci.gitlab",
    "github": "validator.ci.github",
}


class Host(Protocol):
    EVENT_FILE: str | None
    """The variable that names the event's JSON file, for hosts that have one."""

    def job(self, environ: Mapping[str, str], event: Mapping[str, Any]) -> Job: ...


def host(name: str) -> Host:
    module: Host = importlib.import_module(HOSTS[name])
    return module
