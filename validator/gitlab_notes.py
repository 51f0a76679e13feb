"""Keeps one flagops plan note on a GitLab merge request: created once, then edited in place.

Standard library only (urllib), so the CI job needs nothing beyond flagops itself.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from validator.errors import UserError

MARKER = "<!-- flagops-plan -->"
_MAX_PAGES = 20
_TIMEOUT = 20


@dataclass(frozen=True, slots=True)
class MergeRequest:
    api_url: str
    project: str
    iid: str
    token: str

    def notes_url(self, note_id: int | None = None) -> str:
        project = urllib.parse.quote(self.project, safe="")
        base = f"{self.api_url.rstrip('/')}/projects/{project}/merge_requests/{self.iid}/notes"
        return base if note_id is None else f"{base}/{note_id}"


def publish_plan(target: MergeRequest, markdown: str) -> str:
    """Edits the earlier plan note if there is one, else adds one; says which it did."""
    body = f"{MARKER}\n{markdown}"
    existing = _find_note(target)
    if existing is None:
        _request(target, "POST", target.notes_url(), {"body": body})
        return "added the plan to the merge request"
    _request(target, "PUT", target.notes_url(existing), {"body": body})
    return "updated the plan on the merge request"


def _find_note(target: MergeRequest) -> int | None:
    page = "1"
    for _ in range(_MAX_PAGES):
        query = urllib.parse.urlencode({"per_page": 100, "page": page, "sort": "asc"})
        notes, next_page = _request(target, "GET", f"{target.notes_url()}?{query}")
        for note in notes:
            if isinstance(note, dict) and str(note.get("body", "")).startswith(MARKER):
                return int(note["id"])
        if not next_page:
            return None
        page = next_page
    return None


def _request(target: MergeRequest, method: str, url: str,
             payload: dict[str, str] | None = None) -> tuple[Any, str]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "PRIVATE-TOKEN": target.token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return json.loads(response.read() or b"null"), response.headers.get("X-Next-Page", "")
    except urllib.error.HTTPError as error:
        raise UserError(f"GitLab answered {error.code} to {method} {url}: {error.reason}") from None
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
        raise UserError(f"cannot reach GitLab at {url}: {error}") from None
