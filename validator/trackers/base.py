"""What flagops asks of a tracker, whichever it is: an issue's state, a new issue, and one note
(or comment) recognised by a marker on an issue, merge request or pull request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, Protocol

from validator.errors import UserError

ThreadKind = Literal["issue", "merge_request"]
NoteMode = Literal["edit", "once"]
"""`edit`: replace an earlier note with the same marker (the plan); `once`: leave it (announce)."""


class IssueState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MISSING = "missing"
    """Not found; GitLab and GitHub also answer so for a private project the token cannot see."""
    FORBIDDEN = "forbidden"


GONE = (404, 410)
"""Answers to an issue's lookup that say it is not there: GitHub answers 410 Gone for an issue
deleted from a repository the token can read. Either is that link's finding (FO501); taken for
the tracker failing (FO505), it skipped every other link on the host."""


@dataclass(frozen=True, slots=True)
class Thread:
    """An issue, merge request or pull request: where notes go. `project` is `owner/repo` on
    GitHub, the full path (`group/sub/project`) on GitLab."""

    project: str
    number: int
    kind: ThreadKind = "issue"


@dataclass(frozen=True, slots=True)
class Issue:
    state: IssueState
    title: str = ""


@dataclass(frozen=True, slots=True)
class Opened:
    """The issue `create_issue` answers with: its web URL, and whether it was there already."""

    url: str
    found: bool = False
    """An open issue of the same title, opened by the token's own user, was among its newest
    (a run whose answer was lost, a timeout, opened it): that one is answered, and no other
    is opened."""


def not_the_api(service: str) -> str:
    """What a client library could not build objects from (not JSON, an object where a list
    belongs, null) says about the server."""
    return f"answered with something that is not {service}'s API (a proxy, another service?)"


def hidden(text: str, *secrets: str) -> str:
    """Server text with each secret taken out: a proxy's or a firewall's error page may echo
    the request's headers, token included, and the line goes to job logs and to report files
    (SARIF, JUnit, Code Quality), which no CI masks."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[token]")
    return text


class TrackerError(UserError):
    """The tracker cannot answer: no token, refused, unreachable, rate limited. One line, never
    the token; `tracker` names the server so a caller can say it once per tracker."""

    def __init__(self, tracker: str, message: str, *, unsure: bool = False,
                 this_request: bool = False) -> None:
        super().__init__(f"{tracker}: {message}")
        self.tracker = tracker
        self.unsure = unsure
        """The request may have been done all the same: no answer came (a timeout, a
        connection lost, an answer past its bounds), or the server failed (5xx) after it
        had the request."""
        self.this_request = this_request
        """The server answered this request with a refusal of its own (a 451 for a
        repository taken down, a 404 or 410), which says nothing of its others: a token
        refused, a rate limit, a 5xx (an outage: asked again per link, twenty links took
        two minutes), no answer at all or an answer that is not the API concern every
        request to that host (`one_requests`)."""


class MissingLibrary(UserError):
    """The client library of a tracker is not installed (the `trackers` extra)."""


class Tracker(Protocol):
    name: str
    """How messages name this server, e.g. `GitHub (https://api.github.com)`."""

    def issue(self, project: str, number: int) -> Issue: ...

    def create_issue(self, project: str, title: str, body: str) -> Opened:
        """Opens the issue, unless an open one of this exact title that the token's user
        opened is among its newest (`Opened.found`), so that a second run after an answer
        that never came opens no second issue."""
        ...

    def keep_note(self, thread: Thread, marker: str, body: str, mode: NoteMode) -> str:
        """Adds `body` unless a note holding `marker` exists; with mode `edit` that note is
        replaced instead. Returns `added`, `updated` or `present`."""
        ...


def issue_from(tracker: str, answer: Any, states: Mapping[str, IssueState]) -> Issue:
    """The issue an API's answer describes. The answer is the server's (a proxy's page, another
    API version): one without a state we know is the tracker failing, never an open issue,
    which would pass the link unchecked."""
    state = answer.get("state") if isinstance(answer, dict) else None
    if not isinstance(state, str) or state not in states:
        raise TrackerError(tracker, "answered with no issue state flagops knows "
                                    f"({' or '.join(states)})")
    title = answer.get("title")
    return Issue(states[state], title if isinstance(title, str) else "")


def url_from(tracker: str, answer: Any, key: str) -> str:
    """The web URL of an issue the API says it opened; without one, the issue exists but
    flagops cannot name it, and says so."""
    url = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(url, str) or not url:
        raise TrackerError(tracker, "opened the issue but answered no URL for it: find it on "
                                    "the tracker and set the flag's field by hand")
    return url


def one_requests(status: object) -> bool:
    """Is an answer of this status about its own request only (`TrackerError.this_request`):
    a 4xx but a refused token (401), a rate limit (403 on GitHub is one too: never this) or
    429."""
    return isinstance(status, int) and 400 <= status < 500 and status not in (401, 403, 429)
