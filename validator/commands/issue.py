"""`flagops issue rollout|cleanup NAME [--create]`: the flag's rollout or cleanup issue as
Markdown; with --create it is opened on the policy's tracker and its URL written into the flag
file (`rollout_issue_url` / `cleanup_issue_url`) with a round-trip edit."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator.edit.session import Located, locate
from validator.errors import UserError
from validator.policy import Policy, load_policy
from validator.reports.escape import escape
from validator.trackers import render

if TYPE_CHECKING:
    from validator.trackers.base import Opened

FIELDS = {"rollout": "rollout_issue_url", "cleanup": "cleanup_issue_url"}


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    here = locate(root, args.name, "issue")
    policy = load_policy(root)
    title, body = _issue(args.kind, root, here, policy)
    if not args.create:
        out.write(f"# {title}\n\n{body}")
        return 0
    field = FIELDS[args.kind]
    existing = getattr(here.flag, field)
    if existing:
        raise UserError(f"{args.name} has a {args.kind} issue already ({field}: {existing}); "
                        "clear the field to open another")
    opened = _open(policy, title, body, field)
    from validator.edit.issue_url import write_url

    write_url(root, here, field, opened.url, policy)
    url = escape(opened.url)  # made by _open from the issue's parts, the token taken out
    said = (f"found {url}, open and of this title, opened by this token (an earlier run whose "
            "answer was lost?): opened no other" if opened.found else f"opened {url}")
    out.write(f"{said}\nwrote {field} into {escape(here.path)}\n")
    return 0


def _issue(kind: str, root: Path, here: Located, policy: Policy) -> tuple[str, str]:
    if kind == "rollout":
        return render.rollout_title(here.flag.name), render.rollout_issue(here.flag, policy)
    from validator.lifecycle.search import find

    found = find(root, policy, [here.flag.name], [here.flag.name], [])
    return render.cleanup_title(here.flag.name), \
        render.cleanup_issue(here.flag, [ref.text() for ref in found])


def _open(policy: Policy, title: str, body: str, field: str) -> Opened:
    """Opens the issue, or finds the one an earlier run opened (`Opened.found`); its URL is
    read from the server's answer, which must name an issue of the project it was opened in:
    any other (`https://elsewhere/…`, another project on the host, a line break and a YAML
    key) is refused, naming the issue to find by hand. The URL written and shown is made
    from the issue's parts, never the server's string: a query or a fragment of it may hold
    the token, which would go to the job log and be committed with the flag file. Where the
    answer was lost, the issue may be open all the same, and the line says that a second run
    finds it."""
    from validator.trackers.base import TrackerError, hidden
    from validator.trackers.choose import link, project_of, tokens, tracker

    host, kind, project = project_of(policy)
    try:
        opened = tracker(host, kind, os.environ).create_issue(project, title, body)
    except TrackerError as error:
        if not error.unsure:
            raise
        raise UserError(f"{error}; the issue may have been opened all the same: run this "
                        "again, and it takes an open issue of this title opened by this token "
                        "rather than open another") from None
    found = link(opened.url, policy)
    if found is None or found.host != host or found.thread.kind != "issue" or \
            found.thread.project.lower() != project.lower():
        said = repr(hidden(opened.url, *tokens(os.environ))[:300])
        raise UserError(f"the tracker opened the issue but answered {said} as its URL, which "
                        f"is no issue on {host} in {project}: find it there and set {field} "
                        "by hand")
    return replace(opened, url=hidden(found.web_url(), *tokens(os.environ)))
