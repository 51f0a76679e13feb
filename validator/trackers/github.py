"""GitHub (and GitHub Enterprise) through PyGithub: issues, and comments on issues and pull
requests (a pull request's conversation is its issue's comments)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlsplit

from validator.digits import whole_number
from validator.trackers.base import (
    GONE,
    Issue,
    IssueState,
    MissingLibrary,
    NoteMode,
    Opened,
    Thread,
    TrackerError,
    hidden,
    issue_from,
    not_the_api,
    one_requests,
    url_from,
)
from validator.trackers.http import (
    DEFAULT_PORTS,
    Settings,
    Unbounded,
    answer_lost,
    begin,
    reset_text,
    retry,
    server_failed,
    session,
    transport_message,
)

_STATES = {"open": IssueState.OPEN, "closed": IssueState.CLOSED}
NOT_THE_API = not_the_api("GitHub")


class GitHub:
    def __init__(self, api_url: str, token: str, settings: Settings) -> None:
        from github import Auth, Github

        _silence_library_log()
        self.name = f"GitHub ({api_url})"
        self._token = token
        # PyGithub takes whole seconds only (it asserts an int).
        self._settings = replace(settings, timeout=float(max(1, math.ceil(settings.timeout))))
        self._client = Github(base_url=api_url.rstrip("/"), auth=Auth.Token(token),
                              timeout=int(self._settings.timeout), retry=retry(settings),
                              seconds_between_requests=None, seconds_between_writes=None,
                              lazy=True, per_page=100)
        self._session = session(self._settings, api_url)
        _send_through(self._client.requester, _connection(self._session, api_url))

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

    def create_issue(self, project: str, title: str, body: str) -> Opened:
        with self._errors():
            repo = self._client.get_repo(project)
            me = self._login()  # None for an integration's token: anyone's issue could match
            # A login is what the API takes (PyGithub checks for str or NamedUser; its
            # annotation names the NamedUser only).
            newest = [] if me is None else repo.get_issues(
                state="open", creator=cast(Any, me), sort="created",
                direction="desc").get_page(0)
            for issue in map(_as_listed, newest):  # the server's filters checked again
                if isinstance(issue, dict) and issue.get("title") == title and \
                        issue.get("state") == "open" and _ours(issue, me) and \
                        "pull_request" not in issue:  # the list holds pull requests too
                    return Opened(url_from(self.name, issue, "html_url"), found=True)
            made = repo.create_issue(title=title, body=body)
            return Opened(url_from(self.name, made.raw_data, "html_url"))

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
        """One operation: its own budget of requests (`http.begin`), and every failure as one
        TrackerError; the library's own messages are not shown, since they print whole
        answers."""
        from github import BadAttributeException, GithubException

        begin(self._session)
        try:
            yield
        except GithubException as error:
            status = getattr(error, "status", None)
            raise TrackerError(self.name, _answer(error, self._token),
                               unsure=server_failed(status),
                               this_request=one_requests(status)) from None
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
            raise TrackerError(self.name, said, unsure=answer_lost(error)) from None


class NotReady(Unbounded):
    """A GET answered 202 Accepted: PyGithub asks again every 2 s, without end."""

    def __init__(self) -> None:
        super().__init__("answered 202 (not ready yet) to a read, which the API flagops "
                         "asks never does")


def _connection(made: Any, api_url: str) -> type:
    """PyGithub's connection on `made`, flagops' session (`http.session`): PyGithub's own
    follows a next page to any subdomain of the API's host (`*.github.com` and
    `*.githubusercontent.com` for api.github.com), on any port, over plain http too, with the
    token; and reads answers without end. Every connection PyGithub opens, to any host, is
    this one."""
    from github.Requester import HTTPSRequestsConnectionClass

    scheme = urlsplit(api_url).scheme

    class _OnOurSession(HTTPSRequestsConnectionClass):
        def __init__(self, host: str, port: int | None = None, *args: Any,
                     **kwargs: Any) -> None:
            super().__init__(host, port, *args, **kwargs)
            self.session.close()
            self.session = made
            self.protocol = scheme
            self.port = port or DEFAULT_PORTS[scheme]

        def getresponse(self) -> Any:
            answer = super().getresponse()
            if self.verb == "GET" and answer.status == 202:
                raise NotReady()
            return answer

    return _OnOurSession


_CONNECTION_CLASSES = ("_Requester__connectionClass", "_Requester__httpConnectionClass",
                       "_Requester__httpsConnectionClass")
"""Where a PyGithub Requester keeps the classes it opens connections with (the API's, and
another host's for an absolute next page): PyGithub's own seam for them,
`Requester.injectConnectionClasses`, is global to the process."""


def _send_through(requester: Any, connection: type) -> None:
    missing = [name for name in _CONNECTION_CLASSES if not hasattr(requester, name)]
    if missing:  # never fall back to PyGithub's connections: the token would go with them
        raise MissingLibrary("this PyGithub keeps its connections elsewhere: flagops cannot "
                             "hold it to the configured API; pip install 'PyGithub>=2.1,<3'")
    for name in _CONNECTION_CLASSES:
        setattr(requester, name, connection)


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
    """A 403 or 429 of a rate limit, not of a permission: the primary limit spent
    (`x-ratelimit-remaining: 0`), or a secondary one, whose answer leaves the primary's count
    as it was and says so with a `Retry-After` or only in its message. Taken for a permission,
    each link it answered became an FO502 error blaming the flag file."""
    if int(error.status) not in (403, 429):
        return False
    headers = _headers(error)
    message = error.data.get("message") if isinstance(error.data, dict) else None
    return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers or \
        "rate limit" in str(message or "").lower()


def _answer(error: Any, token: str) -> str:
    """One line for a refusal; the server's own text with the token taken out first."""
    status = int(error.status)
    if _rate_limited(error):
        headers = _headers(error)
        if headers.get("x-ratelimit-remaining") != "0":
            wait = whole_number(headers.get("retry-after", ""))
            return f"rate limited ({status}, a secondary limit)" + \
                (f"; retry after {wait} s" if wait is not None else "")
        return f"rate limit exhausted ({status}){reset_text(headers.get('x-ratelimit-reset'))}"
    if status == 401:
        return "401: the token was refused (GITHUB_TOKEN: expired or wrong)"
    if status == 403:
        return "403: the token may not do this (GITHUB_TOKEN needs issues: write, " \
            "pull-requests: write)"
    if status == 404:
        return "404: not found, or not visible to the token"
    data = error.data if isinstance(error.data, dict) else {}
    said = hidden(str(data.get("message", "")), token)[:200]  # taken out, then cut
    return f"answered {status}: {said}".rstrip(": ")
