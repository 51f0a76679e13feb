"""Which tracker an URL belongs to, and the client for it, from the host and the policy's maps.

API addresses and tokens follow each ecosystem's CI conventions: GitHub Actions sets
GITHUB_API_URL (and GITHUB_TOKEN), GitLab CI sets CI_API_V4_URL; the GitLab token is
FLAGOPS_GITLAB_TOKEN or GITLAB_TOKEN. Those variables apply to the host their CI runs on
(GITHUB_SERVER_URL, CI_SERVER_URL), and a token is then sent to no other host; when those are
unset, a token goes to github.com or gitlab.com only (or to the API its variable names).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from validator.digits import whole_number
from validator.errors import UserError
from validator.policy import Policy
from validator.trackers.base import MissingLibrary, Thread, ThreadKind, Tracker, TrackerError
from validator.trackers.http import Settings

Kind = Literal["github", "gitlab"]
_GITLAB_ITEM = re.compile(r"^/(?P<project>[^/].*?)/-/(?P<what>issues|work_items|merge_requests)"
                          r"/(?P<number>[0-9]+)/?$")
_GITHUB_ITEM = re.compile(r"^/(?P<project>[^/]+/[^/]+)/(?P<what>issues|pull)/(?P<number>[0-9]+)/?$")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
GITLAB_TOKENS = ("FLAGOPS_GITLAB_TOKEN", "GITLAB_TOKEN")
GITHUB_TOKENS = ("GITHUB_TOKEN",)


@dataclass(frozen=True, slots=True)
class Link:
    """An issue (or merge request, pull request) URL, understood."""

    host: str
    kind: Kind
    thread: Thread

    def web_url(self) -> str:
        """The issue's URL made from its parts alone, as each tracker spells it: none of the
        text it was read from (a query, a fragment, a login) is kept."""
        item = "-/issues" if self.kind == "gitlab" else "issues"
        if self.thread.kind == "merge_request":
            item = "-/merge_requests" if self.kind == "gitlab" else "pull"
        return f"https://{self.host}/{self.thread.project}/{item}/{self.thread.number}"


def kind_of(host: str, policy: Policy) -> Kind | None:
    host = host.lower()
    if host == "github.com" or host in policy.github_hosts:
        return "github"
    if host == "gitlab.com" or host in policy.gitlab_hosts:
        return "gitlab"
    return None


def link(url: str, policy: Policy) -> Link | None:
    """The issue an URL names, or None when it names none on a known tracker."""
    parts = _parts(url)
    host = (parts.hostname or "").lower() if parts else ""
    kind = kind_of(host, policy)
    found = (_GITHUB_ITEM if kind == "github" else _GITLAB_ITEM).match(parts.path) \
        if kind and parts else None
    number = whole_number(found["number"]) if found else None
    if kind is None or found is None or number is None or not _plain(found["project"]):
        return None  # a number of 5,000 digits is no issue (and int() refuses it)
    thread_kind: ThreadKind = "issue" if found["what"] in ("issues", "work_items") \
        else "merge_request"
    return Link(host, kind, Thread(found["project"], number, thread_kind))


def _parts(url: str) -> SplitResult | None:
    """The URL's parts; None for text urlsplit refuses, which a flag file's URL, a policy's
    tracker or a CI variable may hold (`https://[::1/…`, a host with a fullwidth number sign
    or solidus, which NFKC turns into `#` or `/`): it names no tracker, and the caller's line
    says so."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def host_of(url: str) -> str:
    """The URL's host, lowercased; "" when it has none, or is no URL (`_parts`)."""
    parts = _parts(url)
    return (parts.hostname or "").lower() if parts else ""


def _plain(project: str) -> bool:
    """A project path as both trackers spell one: names of letters, digits, `_`, `.` and `-`.
    `..` is sent as it is (`owner/..` asked GitHub for /repos/issues/1, GitLab's `..` its
    /api/v4/issues/1), and `%2e%2e` or `%2F` are decoded by a server: a link must name the
    issue flagops asks about."""
    return all(_NAME.fullmatch(name) and name not in (".", "..") for name in project.split("/"))


def project_of(policy: Policy) -> tuple[str, Kind, str]:
    """(host, kind, project) of the policy's `tracker`, where new issues go."""
    if not policy.tracker:
        raise UserError("no tracker: set `tracker` in [tool.flagops] to the project new issues "
                        "go to, e.g. https://gitlab.com/gitlab-org/gitlab")
    parts = _parts(policy.tracker)
    if parts is None:
        raise UserError(f"tracker {policy.tracker} is no URL a client can read")
    host = (parts.hostname or "").lower()
    kind = kind_of(host, policy)
    if kind is None:
        raise UserError(f"tracker {policy.tracker}: {host} is neither GitHub nor GitLab; list "
                        "it in github_hosts or gitlab_hosts")
    return host, kind, parts.path.strip("/").removesuffix(".git")


def tracker(host: str, kind: Kind, environ: Mapping[str, str]) -> Tracker:
    """The client for `host`; raises TrackerError without a token, MissingLibrary without the
    client library."""
    settings = Settings.from_env(environ)
    if kind == "github":
        api = _api(environ, host, "GITHUB_API_URL", "GITHUB_SERVER_URL",
                   "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3")
        token = _token(environ, GITHUB_TOKENS, f"GitHub ({api})", host, "GITHUB_SERVER_URL",
                       "github.com", "GITHUB_API_URL")
        _require("github", "PyGithub")
        from validator.trackers.github import GitHub

        return GitHub(api, token, settings)
    api = _api(environ, host, "CI_API_V4_URL", "CI_SERVER_URL", f"https://{host}/api/v4")
    token = _token(environ, GITLAB_TOKENS, f"GitLab ({api})", host, "CI_SERVER_URL",
                   "gitlab.com", "CI_API_V4_URL")
    _require("gitlab", "python-gitlab")
    from validator.trackers.gitlab import GitLab

    return GitLab(api, token, settings)


def _api(environ: Mapping[str, str], host: str, variable: str, server: str, default: str) -> str:
    given, where = environ.get(variable), environ.get(server)
    if given and (not where or host_of(where) == host):
        return _readable(given, variable)
    return default


def _readable(api: str, variable: str) -> str:
    """The API URL a CI variable gives, when it is one: http(s), a host, a port that is a
    number. Neither library says otherwise in a line (PyGithub asserts the scheme, and
    urlsplit raises on a port of `abc` or 99999)."""
    parts = _parts(api)
    try:
        fine = parts is not None and parts.scheme in ("http", "https") and \
            bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:
        fine = False
    if not fine:
        raise TrackerError(variable, f"{api} is not the http(s) URL of an API")
    return api


def _token(environ: Mapping[str, str], names: tuple[str, ...], name: str, host: str,
           server: str, public: str, api: str) -> str:
    """The token for host. Under a CI that names its server, the CI's token is that server's
    and goes to no other host: a flag file may link an issue anywhere, and a self-hosted
    instance's token sent to gitlab.com (or GitHub Enterprise's to github.com) is a
    credential handed to another party, which could only refuse it anyway. Where none is
    named, the token goes to the public host (or to the API `api` names, which its user set),
    never to a host only the policy lists: a branch under review may list its own host there
    and link an issue on it, and `validate --check-links` of its working tree sent the token
    there; a self-hosted instance is named by `server`."""
    where = environ.get(server)
    home = host_of(where) if where else None
    for variable in names:
        if environ.get(variable):
            if home is not None and home != host:
                raise TrackerError(name, f"no token for {host}: {variable} is {home}'s "
                                   f"({server}), and is sent to no other host")
            if home is None and host != public and not environ.get(api):
                raise TrackerError(name, f"no token for {host}: {variable} goes to {public} "
                                   f"only, unless {server} names the host it is for")
            return environ[variable]
    raise TrackerError(name, f"no token: set {' or '.join(names)}")


def tokens(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every token a tracker may be given, to take out of server text (`base.hidden`)."""
    return tuple(environ.get(name, "") for name in (*GITHUB_TOKENS, *GITLAB_TOKENS))


def _require(module: str, package: str) -> None:
    """The client library, imported here so that its absence is one line, not a traceback."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingLibrary(f"{package} is not installed: pip install 'flagops[trackers]'") \
            from None
