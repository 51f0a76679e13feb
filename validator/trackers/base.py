"""What flagops asks of a tracker, whichever it is: an issue's state, a new issue, and one note
(or comment) recognised by a marker on an issue, merge request or pull request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

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


class TrackerError(UserError):
    """The tracker cannot answer: no token, refused, unreachable, rate limited. One line, never
    the token; `tracker` names the server so a caller can say it once per tracker."""

    def __init__(self, tracker: str, message: str) -> None:
        super().__init__(f"{tracker}: {message}")
        self.tracker = tracker


class MissingLibrary(UserError):
    """The client library of a tracker is not installed (the `trackers` extra)."""


class Tracker(Protocol):
    name: str
    """How messages name this server, e.g. `GitHub (https://api.github.com)`."""

    def issue(self, project: str, number: int) -> Issue: ...

    def create_issue(self, project: str, title: str, body: str) -> str:
        """Opens the issue and returns its web URL."""
        ...

    def keep_note(self, thread: Thread, marker: str, body: str, mode: NoteMode) -> str:
        """Adds `body` unless a note holding `marker` exists; with mode `edit` that note is
        replaced instead. Returns `added`, `updated` or `present`."""
        ...
