"""A stand-in for GitLab's features API on 127.0.0.1 that keeps state as GitLab (Flipper) does:
GET/POST/DELETE /api/v4/features, and the project, group and user look-ups that turn paths and
usernames into the Flipper ids GitLab lists (Project:278964)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from werkzeug import Request, Response

PROJECTS = {"gitlab-org/gitlab": 278964, "gitlab-org/gitlab-runner": 250833}
GROUPS = {"gitlab-org/gitlab-com": 6543, "gitlab-org": 9970, "9970": 60}
USERS = {"alice": 42, "bob": 43, "43": 50}
"""GitLab's usernames and paths may be all digits: user 50 is "43", group 60 is "9970"."""


@dataclass
class Feature:
    boolean: bool = False
    actors: set[str] = field(default_factory=set)
    percentages: dict[str, float] = field(default_factory=dict)

    def listed(self, name: str) -> dict[str, Any]:
        gates: list[dict[str, Any]] = [{"key": "boolean", "value": self.boolean}]
        if self.actors:
            gates.append({"key": "actors", "value": sorted(self.actors)})
        gates += [{"key": key, "value": value} for key, value in sorted(self.percentages.items())]
        on = self.boolean or bool(self.actors) or bool(self.percentages)
        state = "on" if self.boolean else "conditional" if on else "off"
        return {"name": name, "state": state, "gates": gates, "definition": None}


@dataclass
class GitLabFeatures:
    features: dict[str, Feature] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    failing_write: int | None = None
    """The write (1 for the first) answered 500 without being set, as a GitLab that fails."""
    failing_lookup: str | None = None
    """A project, group or user look-up whose path holds this text is answered 500."""

    def state(self) -> dict[str, Any]:
        """The server's features as GET /features shows them, by name."""
        return {name: feature.listed(name)["gates"] for name, feature in self.features.items()}

    def __call__(self, request: Request) -> Response:
        # GitLab's router squeezes `//` (python-gitlab posts to /features//NAME) and a final /
        path = re.sub("/+", "/", request.path).removeprefix("/api/v4").rstrip("/")
        if path == "/features" and request.method == "GET":
            return _json([f.listed(n) for n, f in sorted(self.features.items())])
        found = re.fullmatch(r"/features/([^/]+)", path)
        if found and request.method in ("POST", "DELETE"):
            self.writes.append(f"{request.method} {found[1]}")
            if len(self.writes) == self.failing_write:
                return _json({"message": "500 Internal Server Error"}, 500)
            if request.method == "DELETE":
                self.features.pop(found[1], None)
                return Response(status=204)
            return self._set(found[1], request)
        if self.failing_lookup is not None and self.failing_lookup in path:
            return _json({"message": "500 Internal Server Error"}, 500)
        return _lookup(path, request)

    def _set(self, name: str, request: Request) -> Response:
        params = {**request.args, **(request.get_json(silent=True) or request.form or {})}
        feature = self.features.setdefault(name, Feature())
        value, actor = params["value"], _actor(params)
        if actor is None and str(value).lower() in ("true", "false"):
            if str(value).lower() == "true":
                feature.boolean = True
            else:  # Flipper's disable: every gate cleared
                self.features[name] = feature = Feature()
        elif actor is not None:
            if actor == "":
                return _json({"message": "404 Not Found"}, 404)
            (feature.actors.add if str(value).lower() == "true" else feature.actors.discard)(actor)
        else:
            key = str(params.get("key") or "percentage_of_time")
            if float(value) == 0:
                feature.percentages.pop(key, None)
            else:
                feature.percentages[key] = float(value)
        return _json(feature.listed(name), 201)


def _actor(params: dict[str, Any]) -> str | None:
    """The Flipper id of the actor the request names; "" when it names one that does not exist."""
    for parameter, table, kind in (("user", USERS, "User"), ("group", GROUPS, "Group"),
                                   ("project", PROJECTS, "Project")):
        if params.get(parameter):
            number = table.get(str(params[parameter]))
            return f"{kind}:{number}" if number is not None else ""
    return None


def _lookup(path: str, request: Request) -> Response:
    if path == "/users" and "username" in request.args:
        number = USERS.get(request.args["username"])
        return _json([] if number is None else [{"id": number,
                                                  "username": request.args["username"]}])
    for prefix, table, attribute in (("/projects/", PROJECTS, "path_with_namespace"),
                                     ("/groups/", GROUPS, "full_path"),
                                     ("/users/", USERS, "username")):
        if path.startswith(prefix):
            ref = path.removeprefix(prefix)
            by_id = {str(number): key for key, number in table.items()}
            # GitLab reads digits as an id only (its INTEGER_ID_REGEX), never as a path
            key = by_id.get(ref, "") if ref.isdigit() else ref
            if key in table:
                return _json({"id": table[key], attribute: key})
    return _json({"message": "404 Not Found"}, 404)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


Served = TypeVar("Served")


def mounted(httpserver: Any, state: Served) -> Served:
    """`state` (a handler of werkzeug requests) answering every /api/v4/ request."""
    httpserver.expect_request(re.compile(r"^/api/v4/.*")).respond_with_handler(state)
    return state


def admin_client(httpserver: Any) -> Any:
    """python-gitlab's client of the stand-in, with an administrator's token."""
    import gitlab

    return gitlab.Gitlab(httpserver.url_for("/").rstrip("/"), private_token="admin-token")
