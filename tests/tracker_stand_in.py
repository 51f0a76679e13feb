"""Stand-ins of GitHub's and GitLab's REST APIs on 127.0.0.1: just the endpoints PyGithub and
python-gitlab call for flagops (issues, issue/merge request notes, pull request comments),
with a token check, and a script of faults (a status with headers, or a slow answer) served
before the normal answers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "s3cret-token-value-0123456789"


@dataclass
class Fault:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: dict[str, Any] = field(default_factory=lambda: {"message": "fault"})
    done: bool = False
    """The request is done as usual, and its answer then waits `delay` seconds (an answer
    lost on the way: the client gave up, the server did it)."""
    method: str | None = None
    """Served to the first request of this method (`POST`: an issue opened, whatever is
    looked up first); None: to the next request."""


@dataclass
class Raw:
    """A body sent as it is, not as JSON: bytes no parser reads, or chunks written `pause`
    seconds apart under an announced `length` (an answer that trickles, or never ends); and
    `head` header lines written `pause` seconds apart before the others."""

    chunks: Iterable[bytes]
    length: int | None = None
    pause: float = 0.0
    head: int = 0


@dataclass
class Forge:
    """Issues by (project, number); notes by (project, kind, number). Both APIs share them."""

    kind: str
    base: str = ""
    issues: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    notes: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 100
    login: str = "flagops-bot"
    """The token's user: the author of every note the token adds."""
    user_id: int = 77
    filters_ignored: bool = False
    """The issue list answers every issue, whatever its state and author asked for."""

    def add_issue(self, project: str, number: int, state: str = "open",
                  title: str = "Rollout", author: str = "someone-else") -> None:
        self.issues[(project, number)] = {"state": state, "title": title, "author": author}

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any,
                                                                                dict[str, str]]:
        self.requests.append((method, path))
        fault = next((f for f in self.faults if f.method in (None, method)), None)
        if fault is not None:
            self.faults.remove(fault)
            if fault.done:
                answer = self._answer(method, path, headers, body)
                time.sleep(fault.delay)
                return answer
            time.sleep(fault.delay)
            if fault.status:
                return fault.status, fault.body, fault.headers
        return self._answer(method, path, headers, body)

    def _answer(self, method: str, path: str, headers: Any,
                body: bytes) -> tuple[int, Any, dict[str, str]]:
        if not self._authorised(headers):
            return 401, {"message": "Bad credentials" if self.kind == "github" else
                         "401 Unauthorized"}, {}
        data = json.loads(body) if body else {}
        route = _GITHUB if self.kind == "github" else _GITLAB
        for verb, pattern, name in route:
            found = re.fullmatch(pattern, urlsplit(path).path)
            if verb == method and found:
                handler: Callable[..., tuple[int, Any, dict[str, str]]] = getattr(self, name)
                if name == "list_issues":
                    return self.list_issues(unquote(found[1]), parse_qs(urlsplit(path).query))
                return handler(*[unquote(g) for g in found.groups()], data)
        return 404, {"message": "Not Found"}, {}

    def _authorised(self, headers: Any) -> bool:
        if self.kind == "github":
            return headers.get("Authorization") in (f"token {TOKEN}", f"Bearer {TOKEN}")
        return bool(headers.get("PRIVATE-TOKEN") == TOKEN)

    # Issues, both APIs.
    def get_issue(self, project: str, number: str, _: Any) -> tuple[int, Any, dict[str, str]]:
        issue = self.issues.get((project, int(number)))
        if issue is None:
            return 404, {"message": "Not Found" if self.kind == "github" else
                         "404 Not found"}, {}
        if issue["state"] == "forbidden":
            return 403, {"message": "Forbidden"}, {}
        return 200, self._issue_json(project, int(number)), {}

    def create_issue(self, project: str, data: Any) -> tuple[int, Any, dict[str, str]]:
        number = max([n for p, n in self.issues if p == project], default=0) + 1
        self.issues[(project, number)] = {"state": "open", "title": data["title"],
                                          "body": data.get("body", data.get("description")),
                                          "author": self.login}
        return 201, self._issue_json(project, number), {}

    def list_issues(self, project: str,
                    query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """A project's issues, newest first, by state and author as each API names them
        (GitHub: `state=open&creator=LOGIN`, GitLab: `state=opened&author_id=ID`)."""
        state = query.get("state", ["open"])[0].removesuffix("ed")
        if self.kind == "github":
            by = query.get("creator", [None])[0]
        else:
            by = self.login if query.get("author_id") == [str(self.user_id)] else \
                "nobody" if "author_id" in query else None
        numbers = sorted((n for p, n in self.issues if p == project), reverse=True)
        found = [self._issue_json(project, n) | self._by(self.issues[(project, n)])
                 for n in numbers if self.filters_ignored or (
                     self.issues[(project, n)]["state"].removesuffix("ed") == state
                     and by in (None, self.issues[(project, n)].get("author")))]
        return 200, found[:int(query.get("per_page", ["30"])[0])], {}

    def _issue_json(self, project: str, number: int) -> dict[str, Any]:
        issue = self.issues[(project, number)]
        if self.kind == "github":
            return {"number": number, "state": issue["state"], "title": issue["title"],
                    "url": f"{self.base}/repos/{project}/issues/{number}",
                    "html_url": f"https://github.com/{project}/issues/{number}"}
        state = "opened" if issue["state"] == "open" else issue["state"]
        return {"iid": number, "id": 5000 + number, "state": state, "title": issue["title"],
                "web_url": f"https://gitlab.com/{project}/-/issues/{number}"}

    def _by(self, issue: dict[str, Any]) -> dict[str, Any]:
        login = issue.get("author", "someone-else")
        return self.author(login, self.user_id if login == self.login else 1)

    def current_user(self, _: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, {"login": self.login, "username": self.login, "id": self.user_id}, {}

    def author(self, login: str, user_id: int) -> dict[str, Any]:
        """A note's author as each API shows it (GitHub: `user`, GitLab: `author`)."""
        key = "user" if self.kind == "github" else "author"
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {key: {"login": login, "username": login, "id": user_id, "type": kind}}

    # Notes and comments.
    def list_notes(self, project: str, kind: str, number: str,
                   _: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self.notes.get((project, _thread(kind), int(number)), []), {}

    def add_note(self, project: str, kind: str, number: str,
                 data: Any) -> tuple[int, Any, dict[str, str]]:
        self.next_id += 1
        note = {"id": self.next_id, "body": data["body"],
                "url": f"{self.base}/repos/{project}/issues/comments/{self.next_id}",
                **self.author(self.login, self.user_id)}
        self.notes.setdefault((project, _thread(kind), int(number)), []).append(note)
        return 201, note, {}

    def edit_note(self, *parts: Any) -> tuple[int, Any, dict[str, str]]:
        note_id, data = int(parts[-2]), parts[-1]
        for notes in self.notes.values():
            for note in notes:
                if note["id"] == note_id:
                    note["body"] = data["body"]
                    return 200, note, {}
        return 404, {"message": "Not Found"}, {}

    def all_notes(self) -> list[str]:
        return [note["body"] for notes in self.notes.values() for note in notes]


def _thread(kind: str) -> str:
    return "issue" if kind in ("issues", "") else "merge_request"


_GITHUB = (
    ("GET", r"/user", "current_user"),
    ("GET", r"/repos/([^/]+/[^/]+)/issues/(\d+)", "get_issue"),
    ("GET", r"/repos/([^/]+/[^/]+)/issues", "list_issues"),
    ("POST", r"/repos/([^/]+/[^/]+)/issues", "create_issue"),
    ("GET", r"/repos/([^/]+/[^/]+)/(issues)/(\d+)/comments", "list_notes"),
    ("POST", r"/repos/([^/]+/[^/]+)/(issues)/(\d+)/comments", "add_note"),
    ("PATCH", r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", "edit_note"),
)
_GITLAB = (
    ("GET", r"/api/v4/user", "current_user"),
    ("GET", r"/api/v4/projects/([^/]+)/issues/(\d+)", "get_issue"),
    ("GET", r"/api/v4/projects/([^/]+)/issues", "list_issues"),
    ("POST", r"/api/v4/projects/([^/]+)/issues", "create_issue"),
    ("GET", r"/api/v4/projects/([^/]+)/(issues|merge_requests)/(\d+)/notes", "list_notes"),
    ("POST", r"/api/v4/projects/([^/]+)/(issues|merge_requests)/(\d+)/notes", "add_note"),
    ("PUT", r"/api/v4/projects/([^/]+)/(?:issues|merge_requests)/\d+/notes/(\d+)", "edit_note"),
)


class Served(Protocol):
    """A stand-in API: answers each request, and learns the address it is served at."""

    base: str

    def handle(self, method: str, path: str, headers: Any,
               body: bytes) -> tuple[int, Any, dict[str, str]]: ...


ServedT = TypeVar("ServedT", bound=Served)


@contextmanager
def serve(forge: ServedT) -> Iterator[ServedT]:
    """Serves a stand-in on 127.0.0.1 (a free port, JSON answers) for the block's length."""
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, payload, extra = forge.handle(self.command, self.path, self.headers,
                                                  self.rfile.read(length))
            raw = payload if isinstance(payload, Raw) else Raw([json.dumps(payload).encode()])
            chunks = list(raw.chunks) if raw.length is None else raw.chunks
            length = raw.length if raw.length is not None else sum(map(len, chunks))
            try:
                self.send_response(status)
                for _ in range(raw.head):
                    self.flush_headers()
                    time.sleep(raw.pause)
                    self.send_header("X-Slow", "1")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(length))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(raw.pause)
            except OSError:  # the client gave up (a timeout test)
                pass

        do_GET = do_POST = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    forge.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
