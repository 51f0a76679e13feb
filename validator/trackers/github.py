"""GitHub (and GitHub Enterprise) through PyGithub: issues, and comments on issues and pull
requests (a pull request's conversation is its issue's comments)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from validator.trackers.base import (
    GONE,
    Issue,
    IssueState,
    NoteMode,
    Thread,
    TrackerError,
    issue_from,
    not_the_api,
    url_from,
)
from validator.trackers.http import Settings, reset_text, retry, transport_message

_STATES = {"open": IssueState.OPEN, "closed": IssueState.CLOSED}
NOT_THE_API = not_the_api("GitHub")


class GitHub:
    def __init__(self, api_url: str, token: str, settings: Settings) -> None:
        from github import Auth, Github

        _silence_library_log()
        self.name = f"GitHub ({api_url})"
        # PyGithub takes whole seconds only (it asserts an int).
        self._settings = replace(settings, timeout=float(max(1, math.ceil(settings.timeout))))
        self._client = Github(base_url=api_url.rstrip("/"), auth=Auth.Token(token),
                              timeout=int(self._settings.timeout), retry=retry(settings),
                              seconds_between_requests=None, seconds_between_writes=None,
                              lazy=True)

    def issue(self, project: str, number: int) -> Issue:
        from github import GithubException

        with self._errors():
            try:
                found = self._client.get_repo(project).get_issue(number)
                return issue_from(self.name, found.raw_data, _STATES)
            except GithubException as error:
                if error.status in GONE or (error.status == 403 and not _rate_limited(error)):
                    return Issue(IssueState.MISSING if error.status in GONE else
                                 IssueState.FORBIDDEN)
                raise

    def create_issue(self, project: str, title: str, body: str) -> str:
        with self._errors():
            made = self._client.get_repo(project).create_issue(title=title, body=body)
            return url_from(self.name, made.raw_data, "html_url")

    def keep_note(self, thread: Thread, marker: str, body: str, mode: NoteMode) -> str:
        with self._errors():
            me = self._login()
            issue = self._client.get_repo(thread.project).get_issue(thread.number)
            for comment in issue.get_comments():
                if marker in (comment.body or "") and _ours(_as_listed(comment), me):
                    if mode == "once":
                        return "present"
                    comment.edit(body)
                    return "updated"
            issue.create_comment(body)
            return "added"

    def _login(self) -> str | None:
        """Whose comments are ours: anyone can write a marker into a comment, and one of theirs
        taken for ours would be edited (then edited back to a forged plan), or silence an
        announcement. The token's user; None for an integration's token (GitHub Actions'
        own, an app's), which may not ask (GET /user answers 403) and comments as a bot."""
        from github import GithubException

        try:
            login = self._client.get_user().raw_data.get("login")
        except GithubException as error:
            if error.status not in (403, 404):
                raise
            return None
        return login if isinstance(login, str) and login else None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Every failure as one TrackerError; the library's own messages are not shown, since
        they print whole answers."""
        from github import BadAttributeException, GithubException

        try:
            yield
        except GithubException as error:
            raise TrackerError(self.name, _answer(error)) from None
        except (TypeError, KeyError, ValueError, AttributeError, BadAttributeException,
                RecursionError):
            # PyGithub builds objects from whatever the server answered (a list of numbers,
            # a body that is no text, arrays nested past the parser's depth: RecursionError,
            # which is a RuntimeError and must not read as a redirect): the answer is not
            # GitHub's API, and flagops says so.
            raise TrackerError(self.name, NOT_THE_API) from None
        except (RuntimeError, AssertionError):
            # PyGithub's own refusals of where the server sends it: a redirect to another
            # scheme or host, a Location without a scheme (RuntimeError), a next page on
            # another port or domain (assert).
            raise TrackerError(self.name, "the server sent the request somewhere the client "
                                          "does not follow (a redirect or a next page)") from None
        except Exception as error:
            said = transport_message(error, self._settings)
            if said is None:
                raise
            raise TrackerError(self.name, said) from None


def _as_listed(item: Any) -> Any:
    """An object's data as the list answered it: `raw_data` of a lazy client fetches each
    comment once more (from its `url`) before answering."""
    from github.GithubObject import GithubObject

    return GithubObject.raw_data.fget(item)  # type: ignore[attr-defined]


def _ours(data: Any, me: str | None) -> bool:
    """A comment by the token's user, or, for an integration's token (`me` None), by a bot:
    github-actions[bot] or an app's; no person's account is of type Bot."""
    user = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user, dict):
        return False
    if me is not None:
        return user.get("login") == me
    return user.get("type") == "Bot"


def _silence_library_log() -> None:
    """PyGithub logs at INFO to stderr from its import on, with the server's text in it (a
    redirect's Location, raw: an ESC would repaint the job log). flagops says what went wrong
    itself, in one escaped line; the library's log says nothing."""
    import logging

    log = logging.getLogger("github")  # its children (github.Requester…) inherit the level
    log.setLevel(logging.CRITICAL + 1)
    log.propagate = False


def _headers(error: Any) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in (error.headers or {}).items()}


def _rate_limited(error: Any) -> bool:
    return int(error.status) in (403, 429) and _headers(error).get("x-ratelimit-remaining") == "0"


def _answer(error: Any) -> str:
    status = int(error.status)
    if _rate_limited(error):
        reset = reset_text(_headers(error).get("x-ratelimit-reset"))
        return f"rate limit exhausted ({status}){reset}"
    if status == 401:
        return "401: the token was refused (GITHUB_TOKEN: expired or wrong)"
    if status == 403:
        return "403: the token may not do this (GITHUB_TOKEN needs issues: write, " \
            "pull-requests: write)"
    if status == 404:
        return "404: not found, or not visible to the token"
    data = error.data if isinstance(error.data, dict) else {}
    return f"answered {status}: {str(data.get('message', ''))[:200]}".rstrip(": ")
