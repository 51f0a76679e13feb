"""`validate --check-links`: each flag's rollout and cleanup issue, looked up on its tracker and
judged against the flag, as located findings (FO501-FO506).

A tracker that cannot be asked (no token, refused, unreachable, no client library) is one
FO505 warning, at the first link that needed it; its other links are skipped, never passed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from validator.check import LoadedFlag
from validator.errors import UserError
from validator.findings import RULES, Finding, Position, Severity
from validator.model import Stage
from validator.policy import Policy
from validator.trackers.base import Issue, IssueState, Tracker, TrackerError
from validator.trackers.choose import Kind, Link, link, tracker

FIELDS = ("rollout_issue_url", "cleanup_issue_url")
Connect = Callable[[str, Kind, Mapping[str, str]], Tracker]


@dataclass(slots=True)
class _Trackers:
    """One client per host, or the reason there is none (said once)."""

    environ: Mapping[str, str]
    connect: Connect
    clients: dict[str, Tracker | str] = field(default_factory=dict)
    said: set[str] = field(default_factory=set)

    def get(self, found: Link) -> Tracker | str:
        if found.host not in self.clients:
            try:
                self.clients[found.host] = self.connect(found.host, found.kind, self.environ)
            except UserError as error:
                self.clients[found.host] = str(error)
        return self.clients[found.host]

    def first_time(self, host: str) -> bool:
        new = host not in self.said
        self.said.add(host)
        return new


def check_links(flags: Sequence[LoadedFlag], policy: Policy, environ: Mapping[str, str], *,
                rolled_back: Collection[str] = (), connect: Connect = tracker) -> list[Finding]:
    """Each flag's issues judged; for the flags in `rolled_back` (a change that takes the flag
    from someone and gives it to no one), as warnings: an issue closed, deleted or out of reach
    never holds up a rollback, in an incident least of all."""
    trackers = _Trackers(environ, connect)
    findings: list[Finding] = []
    for loaded in flags:
        for name in FIELDS:
            url = getattr(loaded.flag, name)
            if url:
                found = _check(loaded, name, url, policy, trackers)
                findings += [_as_rollback(finding) for finding in found] \
                    if loaded.flag.name in rolled_back else found
    return findings


def _as_rollback(finding: Finding) -> Finding:
    if finding.severity is Severity.WARNING:
        return finding
    return finding.as_warning("not held against a rollback")


def _check(loaded: LoadedFlag, name: str, url: str, policy: Policy,
           trackers: _Trackers) -> list[Finding]:
    where = loaded.document.value_position((name,))
    path, flag = loaded.document.path, loaded.flag.name
    found = link(url, policy)
    if found is None or found.thread.kind != "issue":
        return [RULES["FO506"].at(path, where, f"{name} {url} is not an issue on a known "
                                  "tracker", flag=flag)]
    client = trackers.get(found)
    if isinstance(client, str):
        return _unavailable(trackers, found.host, path, where, flag, client)
    try:
        issue = client.issue(found.thread.project, found.thread.number)
    except UserError as error:
        if isinstance(error, TrackerError) and error.this_request:
            # this link's own answer (a 451, a 500 on one project): every other link on the
            # host is still asked; one hostile link silenced a closed rollout issue's FO504
            return [RULES["FO505"].at(path, where, f"{name} {url} not checked: {error}",
                                      flag=flag)]
        trackers.clients[found.host] = str(error)
        return _unavailable(trackers, found.host, path, where, flag, str(error))
    return _judge(issue, loaded, name, url, path, where)


def _unavailable(trackers: _Trackers, host: str, path: str, where: Position, flag: str,
                 why: str) -> list[Finding]:
    if not trackers.first_time(host):
        return []
    return [RULES["FO505"].at(path, where, f"links on {host} not checked: {why}", flag=flag)]


def _judge(issue: Issue, loaded: LoadedFlag, name: str, url: str, path: str,
           where: Position) -> list[Finding]:
    what = "rollout issue" if name == "rollout_issue_url" else "cleanup issue"
    flag = loaded.flag
    rule, message = None, ""
    if issue.state is IssueState.MISSING:
        rule, message = "FO501", f"{what} {url} does not exist (or the token cannot see it)"
    elif issue.state is IssueState.FORBIDDEN:
        rule, message = "FO502", f"{what} {url}: the token may not read it"
    elif issue.state is IssueState.CLOSED and what == "cleanup issue":
        rule, message = "FO503", f"cleanup issue {url} is closed, but {flag.name} still exists"
    elif issue.state is IssueState.CLOSED and flag.stage not in (Stage.ENABLED, Stage.OFF):
        rule, message = "FO504", (f"rollout issue {url} is closed, but {flag.name} is at "
                                  f"{flag.stage}, not fully rolled out")
    if rule is None:
        return []
    return [RULES[rule].at(path, where, message, flag=flag.name)]
