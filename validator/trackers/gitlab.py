"""GitLab (gitlab.com and self-managed) through python-gitlab: issues, and notes on issues and
merge requests.

Retries are the session's (`http`), not python-gitlab's `retry_transient_errors`: that one
retries ten times, read timeouts included, and sleeps whatever `Retry-After` says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from validator.trackers.base import (
    GONE,
    Issue,
    IssueState,
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
    Settings,
    answer_lost,
    begin,
    reset_text,
    server_failed,
    session,
    transport_message,
)

_STATES = {"opened": IssueState.OPEN, "closed": IssueState.CLOSED}
NOT_THE_API = not_the_api("GitLab")


class GitLab:
    def __init__(self, api_url: str, token: str, settings: Settings) -> None:
        import gitlab

        self.name = f"GitLab ({api_url})"
        self._token = token
        self._settings = settings
        self._headers: dict[str, str] = {}
        made = self._session = session(settings, api_url)
        made.hooks["response"].append(self._remember)
        # keep_base_url: a next page's link is read on our base URL, not where the server
        # says (python-gitlab would otherwise warn with the server's text, then go there).
        self._client = gitlab.Gitlab(api_url.rstrip("/").removesuffix("/api/v4"),
                                     private_token=token, timeout=settings.timeout,
                                     retry_transient_errors=False, session=made,
                                     keep_base_url=True)

    def _remember(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """The last answer's headers: python-gitlab's errors carry none, and a 403 or 429
        with `RateLimit-Remaining: 0` is a rate limit, not a permission."""
        self._headers = {str(key).lower(): str(value) for key, value in response.headers.items()}

    def issue(self, project: str, number: int) -> Issue:
        import gitlab

        with self._errors():
            try:
                found = self._project(project).issues.get(number)
            except gitlab.exceptions.GitlabGetError as error:
                if error.response_code in GONE or (error.response_code == 403 and
                                                   not self._rate_limited()):
                    return Issue(IssueState.MISSING if error.response_code in GONE else
                                 IssueState.FORBIDDEN)
                raise
            return issue_from(self.name, found.attributes, _STATES)

    def create_issue(self, project: str, title: str, body: str) -> Opened:
        with self._errors():
            issues, me = self._project(project).issues, self._user_id()
            for issue in issues.list(state="opened", author_id=me, order_by="created_at",
                                     sort="desc", per_page=100, get_all=False):
                found = issue.attributes  # the server's filters checked again
                if found.get("title") == title and found.get("state") == "opened" and \
                        _author_id(found) == me:
                    return Opened(url_from(self.name, found, "web_url"), found=True)
            made = issues.create({"title": title, "description": body})
            return Opened(url_from(self.name, made.attributes, "web_url"))

    def keep_note(self, thread: Thread, marker: str, body: str, mode: NoteMode) -> str:
        with self._errors():
            me = self._user_id()
            project = self._project(thread.project)
            parents = project.issues if thread.kind == "issue" else project.mergerequests
            parent = parents.get(thread.number, lazy=True)
            for note in parent.notes.list(iterator=True, sort="asc", order_by="created_at",
                                          per_page=100):
                if marker in str(note.body or "") and _author_id(note.attributes) == me:
                    if mode == "once":
                        return "present"
                    note.body = body
                    note.save()
                    return "updated"
            parent.notes.create({"body": body})
            return "added"

    def _user_id(self) -> int:
        """Whose notes are ours: anyone can write a marker into a note, and one of theirs taken
        for ours would be edited (or refused the edit, keeping no plan), or would silence an
        announcement. The token's own user (a project access token's bot user)."""
        self._client.auth()
        found = self._client.user.attributes.get("id") if self._client.user else None
        if not isinstance(found, int) or isinstance(found, bool):
            raise TrackerError(self.name, "answered with no user for the token (GET /user)")
        return found

    def _rate_limited(self) -> bool:
        return self._headers.get("ratelimit-remaining") == "0"

    def _project(self, path: str) -> Any:
        return self._client.projects.get(path, lazy=True)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """One operation: its own budget of requests (`http.begin`), and every failure as one
        TrackerError, worded by status, never with the request."""
        import gitlab

        begin(self._session)
        try:
            yield
        except gitlab.exceptions.GitlabError as error:
            if self._rate_limited():
                raise TrackerError(self.name, f"rate limit exhausted ({error.response_code})"
                                   f"{reset_text(self._headers.get('ratelimit-reset'))}") \
                    from None
            raise TrackerError(self.name, _answer(error, self._token),
                               unsure=server_failed(error.response_code),
                               this_request=one_requests(error.response_code)) \
                from None
        except (TypeError, KeyError, ValueError, AttributeError, RecursionError):
            # python-gitlab builds objects from whatever the server answered (an object where
            # a list belongs, null; an error body nested past Python's recursion limit, which
            # it parses to word its exception): the answer is not GitLab's API, and flagops
            # says so.
            raise TrackerError(self.name, NOT_THE_API) from None
        except Exception as error:
            said = transport_message(error, self._settings)
            if said is None:
                raise
            raise TrackerError(self.name, said, unsure=answer_lost(error)) from None


def _author_id(data: Any) -> int | None:
    author = data.get("author") if isinstance(data, dict) else None
    found = author.get("id") if isinstance(author, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _answer(error: Any, token: str) -> str:
    """One line for a refusal; the server's own text with the token taken out first."""
    status = error.response_code
    if status == 401:
        return "401: the token was refused (FLAGOPS_GITLAB_TOKEN or GITLAB_TOKEN: expired or " \
            "wrong)"
    if status == 403:
        return "403: the token may not do this (it needs the api scope and Reporter access, " \
            "Developer to write)"
    if status == 404:
        return "404: not found, or not visible to the token"
    if status is None:  # python-gitlab could not read the answer (not JSON, not an object)
        return NOT_THE_API
    return f"answered {status}: {hidden(str(error.error_message), token)[:200]}"
