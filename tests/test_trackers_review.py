"""The eighth review of the trackers: hostile servers (endless pages, answers that never end,
a next page on a sibling host) and hostile flag text (GitLab quick actions), against the real
HTTP stand-ins and client libraries of `test_trackers`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import test_trackers
from test_trackers import (
    PROJECT,
    Elsewhere,
    _off_then_staging,
    _review_env,
    flag_text,
    run,
    tree,
)
from test_trackers_text import sample
from tracker_stand_in import TOKEN, Fault, Forge, Raw, serve

from validator.policy import DEFAULT_POLICY
from validator.trackers.render import rollout_issue

forge = test_trackers.forge
"""Each test against GitHub's stand-in and GitLab's, with each CI's variables set."""


def _linked(kind: str, url: str, *, stage: str = "off") -> str:
    """A flag file whose rollout_issue_url is `url`."""
    return flag_text(kind, rollout=1, stage=stage).replace(
        f"rollout_issue_url: {test_trackers.issue_url(kind, 1)}", f"rollout_issue_url: {url}")


# an issue deleted: that link's finding, not the tracker failing ----------------------------

def test_a_deleted_issue_is_fo501_and_the_other_links_are_still_checked(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GitHub answers 410 Gone for an issue deleted from a repository the token can read. Taken
    # for the tracker failing, it was one FO505 and every other link on the host went
    # unchecked: here, a closed rollout issue of a flag not fully rolled out (FO504).
    project = PROJECT[forge.kind]
    forge.add_issue(project, 2, state="closed")
    forge.faults.append(Fault(410, body={"message": "This issue was deleted"}))
    root = tree(tmp_path, forge.kind, {
        "a_gone": flag_text(forge.kind, "a_gone", rollout=1),
        "b_early": flag_text(forge.kind, "b_early", rollout=2, stage="beta")})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO505" not in out, out + err
    assert "flags/a_gone.yml:7:20: error FO501" in out and "FO504" in out and code == 1, out


# answers the parser cannot hold --------------------------------------------------------------

def test_arrays_nested_past_the_parsers_depth_are_not_the_api(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # json.loads raises RecursionError, a RuntimeError: PyGithub's refusals of a redirect are
    # RuntimeErrors too, and the line blamed a redirect that never was.
    forge.faults.append(Fault(200, body=Raw([b"[" * 100_000])))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 0 and out.count("FO505") == 1, out + err
    assert "is not " in out and "redirect" not in out, out


@pytest.mark.parametrize("status", [401, 404])
def test_an_error_answer_nested_past_the_parsers_depth_is_one_warning(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int) -> None:
    # python-gitlab parses an error's body to word its exception: nested past the recursion
    # limit, that was a RecursionError through every caller, an internal error (exit 3) of a
    # rollback's --check-links and of the `ci gitlab` job (the eighth review).
    nested = [b"[" * 100_000, b"]" * 100_000]
    forge.faults.append(Fault(status, body=Raw(nested)))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "internal error" not in err and "Traceback" not in err, err
    assert code in (0, 1) and ("FO505" in out or "FO501" in out or "FO502" in out), out + err


@pytest.mark.parametrize("status", [451, 422])
def test_one_links_refusal_leaves_the_hosts_other_links_checked(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int) -> None:
    # Any refusal of one link (GitHub's 451 for a repository taken down) marked the whole host
    # unusable: a flag sorting first with such a link silenced a closed rollout issue's FO504
    # on every other flag (the eighth review). A 5xx is an outage, asked no more of the host.
    forge.add_issue(PROJECT[forge.kind], 2, state="closed")
    forge.faults.append(Fault(status))  # the first link
    root = tree(tmp_path, forge.kind, {
        "a_first": flag_text(forge.kind, "a_first", rollout=1),
        "b_real": flag_text(forge.kind, "b_real", rollout=2, stage="beta")})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 1 and "flags/b_real.yml:7:20: error FO504" in out, out + err
    assert "flags/a_first.yml:7:20: warning FO505 rollout_issue_url" in out, out


# GitLab quick actions in flag text ---------------------------------------------------------

@pytest.mark.parametrize("field", ["description", "expected", "risks", "monitoring"])
def test_flag_text_at_a_lines_start_is_no_gitlab_quick_action(field: str) -> None:
    # GitLab runs `/close`, `/move group/other`, `/confidential` … found at a line's start in
    # an issue's description when it is created: the flag file's text closed or moved the
    # rollout issue `flagops issue rollout --create` opened.
    flag = sample()
    assert flag.expectations is not None
    hostile = "/move group/elsewhere"
    flag = flag.model_copy(update={"description": hostile}) if field == "description" else \
        flag.model_copy(update={"expectations": flag.expectations.model_copy(
            update={field: hostile})})
    text = rollout_issue(flag, DEFAULT_POLICY)
    assert [line for line in text.splitlines() if line.startswith("/")] == []
    assert "\\/move group/elsewhere" in text.splitlines()


# answers without end ----------------------------------------------------------------------

def test_a_next_page_that_links_to_itself_ends_in_one_line(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Both libraries follow `Link: <…>; rel="next"` for as long as the server sends one:
    # a page that links to itself kept `announce` asking for ever (a known gap of
    # python-gitlab's iterators, and of PyGithub's).
    project = PROJECT[forge.kind]
    forge.add_issue(project, 1)
    repo, base, _ = _off_then_staging(forge, tmp_path)
    page = {"id": 5, "body": "a comment", "url": "", **forge.author("mallory", 13)}
    itself = {"Link": f'<{forge.base}/same/page?page=2>; rel="next"'}
    forge.faults += [Fault(200, body={"login": forge.login, "id": forge.user_id})]
    forge.faults += [Fault(200, itself, body=[page]) for _ in range(150)]  # type: ignore[arg-type]
    code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert code == 1 and "did not end after 100 requests" in err, err
    assert len(err.strip().splitlines()) == 1 and len(forge.requests) <= 102
    assert forge.all_notes() == []


@pytest.mark.parametrize("forge", ["github"], indirect=True)  # PyGithub's loop
def test_a_read_answered_not_ready_is_one_line_not_a_wait_without_end(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # PyGithub answers a GET's 202 Accepted by asking again 2 s later, without end (its
    # recursion limit ends it after half an hour).
    forge.add_issue(PROJECT["github"], 1, state="closed")
    forge.faults += [Fault(202, body={}) for _ in range(3)]
    root = tree(tmp_path, "github", {"demo": flag_text("github", rollout=1)})
    started = time.monotonic()
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert out.count("FO505") == 1 and "answered 202 (not ready yet)" in out, out + err
    assert code == 0 and time.monotonic() - started < 2 and len(forge.requests) == 1


def test_an_answer_too_large_is_not_read_to_its_end(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    megabyte = b" " * 2**20
    forge.faults.append(Fault(200, body=Raw([megabyte] * 20)))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert code == 0 and out.count("FO505") == 1, out + err
    assert "answered more than 8 MiB" in out, out


@pytest.mark.parametrize("trickled", [
    # The read timeout is per read of the socket: a byte every 0.1 s never trips it, and an
    # endless answer sent so was read for ever.
    Raw([b" "] * 40, pause=0.1),
    # Each header line in time for the per-read timeout, and never the blank line that ends
    # them: http.client reads up to 100 lines of 64 KiB, a byte at a time if need be.
    Raw([b"{}"], head=40, pause=0.1),
], ids=["body", "headers"])
def test_an_answer_that_trickles_ends_at_twice_the_timeout(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, trickled: Raw) -> None:
    monkeypatch.setenv("FLAGOPS_HTTP_TIMEOUT", "1")
    forge.faults.append(Fault(200, body=trickled))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    started = time.monotonic()
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "the answer took more than 2 s to arrive (twice FLAGOPS_HTTP_TIMEOUT)" in out, \
        out + err
    assert code == 0 and out.count("FO505") == 1 and time.monotonic() - started < 3.5


def test_headers_that_trickle_through_a_proxy_end_at_twice_the_timeout(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # requests opens a proxy's connections from a manager of its own, whose pools were not
    # timed. The stand-in serves as the proxy (it reads a request's absolute URL as its path).
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", forge.base)
    monkeypatch.setenv("FLAGOPS_HTTP_TIMEOUT", "1")
    forge.faults.append(Fault(200, body=Raw([b"{}"], head=40, pause=0.1)))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    started = time.monotonic()
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "the answer took more than 2 s to arrive" in out and code == 0, out + err
    assert time.monotonic() - started < 3.5 and forge.requests[0][1].startswith("http://")


def test_a_retried_answer_is_not_read_to_its_end(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before it retries a 429 or 5xx, urllib3 reads the answer's body to its end and drops it
    # (drain_conn): an endless one, or one trickled, held the retry for as long as it ran.
    forge.add_issue(PROJECT[forge.kind], 1, state="closed")
    forge.faults.append(Fault(503, body=Raw([b" "] * 40, pause=0.1)))  # type: ignore[arg-type]
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1, stage="beta")})
    started = time.monotonic()
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO504" in out and "FO505" not in out and code == 1, out + err
    assert time.monotonic() - started < 2 and len(forge.requests) == 2


# the token stays on the configured API's origin ------------------------------------------

def _sibling_proxy(forge: Forge, monkeypatch: pytest.MonkeyPatch, proxy: Elsewhere) -> None:
    """The API at localhost:PORT, and every other host through `proxy` on 127.0.0.1: PyGithub
    takes `x.localhost` for a subdomain of the API's host, which resolves nowhere here, so
    what reaches the proxy is what would have reached that host."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    port = forge.base.rsplit(":", 1)[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://localhost:{port}")
    monkeypatch.setenv("http_proxy", proxy.base)
    monkeypatch.setenv("no_proxy", f"localhost:{port}")


@pytest.mark.parametrize("forge", ["github"], indirect=True)
def test_a_comment_whose_own_url_is_on_a_subdomain_is_not_edited_there(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # PyGithub edits a comment at the `url` its listing answered: PATCH, with the token, to
    # any subdomain of the API's host.
    _review_env(forge, tmp_path, monkeypatch)
    forge.notes[(PROJECT["github"], "issue", 7)] = [{
        "id": 1, "body": "<!-- flagops-plan -->\nold plan", **forge.author(forge.login, 77),
        "url": f"http://x.localhost:9/repos/{PROJECT['github']}/issues/comments/1"}]
    repo, base, _ = _off_then_staging(forge, tmp_path)
    with serve(Elsewhere()) as proxy:
        _sibling_proxy(forge, monkeypatch, proxy)
        code, _, err = run(repo.path, "plan", "--base", base, "--comment", capsys=capsys)
    assert proxy.seen == [], proxy.seen
    assert code == 1 and "another host" in err and TOKEN not in err, err


@pytest.mark.parametrize("forge", ["github"], indirect=True)  # python-gitlab: keep_base_url
def test_a_next_page_on_a_subdomain_never_carries_the_token(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # PyGithub follows a next page to any subdomain of the API's host (`*.github.com`,
    # `*.githubusercontent.com` from api.github.com), on any port and over plain http, with
    # the Authorization header.
    project = PROJECT["github"]
    forge.add_issue(project, 1)
    repo, base, _ = _off_then_staging(forge, tmp_path)
    with serve(Elsewhere()) as proxy:
        _sibling_proxy(forge, monkeypatch, proxy)
        sibling = f'<http://x.localhost:9/repos/{project}/issues/1/comments?page=2>; rel="next"'
        page = {"id": 5, "body": "a comment", "url": "", **forge.author("mallory", 13)}
        forge.faults += [Fault(200, body={"login": forge.login}),
                         Fault(200, {"Link": sibling}, body=[page])]  # type: ignore[arg-type]
        code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert proxy.seen == [], proxy.seen
    assert code == 1 and "another host" in err and TOKEN not in err, err


# the URL an opened issue is answered with ----------------------------------------------------

@pytest.mark.parametrize("url", ["https://elsewhere.example/owner/flags/issues/2",
                                 "https://{host}/{project}/issues/2\nstage: enabled",
                                 "javascript:alert(1)", "https://{host}/{project}/pull/2",
                                 "https://[::1/{project}/issues/2"])
def test_an_opened_issues_url_must_be_an_issue_on_the_trackers_host(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    # The answer's html_url / web_url went into the flag file as it was: a link to another
    # site, or text with a line break, kept as the flag's rollout issue.
    host = "github.com" if forge.kind == "github" else "gitlab.com"
    url = url.format(host=host, project=PROJECT[forge.kind])
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    before = (root / "flags" / "demo.yml").read_bytes()
    key = "html_url" if forge.kind == "github" else "web_url"
    forge.faults.append(Fault(201, body={"number": 2, "iid": 2, "state": "open", key: url},
                              method="POST"))
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and f"which is no issue on {host}" in err, err
    assert len(err.strip().splitlines()) == 1 and "\x1b" not in err, err
    assert (root / "flags" / "demo.yml").read_bytes() == before


# a secondary rate limit is no permission ---------------------------------------------------

@pytest.mark.parametrize("forge", ["github"], indirect=True)  # GitLab limits with 429 only
@pytest.mark.parametrize("headers", [{"Retry-After": "60"}, {}], ids=["retry-after", "message"])
def test_a_secondary_rate_limit_stops_the_asking_in_one_warning(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        headers: dict[str, str]) -> None:
    # GitHub's secondary limits answer 403 with the primary count left as it was (a
    # Retry-After, or only the message): each link became FO502, "the token may not read it",
    # and every further link asked the limited server again.
    project = PROJECT["github"]
    for number in (1, 2):
        forge.add_issue(project, number)
    forge.faults.append(Fault(403, {"X-RateLimit-Remaining": "4000", **headers}, body={
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes."}))
    root = tree(tmp_path, "github", {name: flag_text("github", name, rollout=number)
                                     for number, name in enumerate(("a_one", "b_two"), 1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO502" not in out and out.count("FO505") == 1, out + err
    assert "rate limited (403, a secondary limit)" in out and code == 0, out
    assert ("retry after 60 s" in out) == bool(headers) and len(forge.requests) == 1


# a link names the issue flagops asks about --------------------------------------------------

@pytest.mark.parametrize("path", ["{owner}/../issues/1", "../../issues/1",
                                  "{owner}/%2e%2e/issues/1", "{owner}/r%2F..%2Fx/issues/1"])
def test_a_project_path_with_dot_segments_is_no_issue_link(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str) -> None:
    # `owner/..` was sent as it is, and resolved on the way: GitHub was asked for
    # /repos/issues/1, GitLab (`..`) for /api/v4/issues/1, an issue the URL does not show.
    owner = PROJECT[forge.kind].split("/")[0]
    host = "github.com" if forge.kind == "github" else "gitlab.com"
    path = path.format(owner=owner)
    url = f"https://{host}/{path}" if forge.kind == "github" else \
        f"https://{host}/{path.replace('/issues/', '/-/issues/')}"
    root = tree(tmp_path, forge.kind, {"demo": _linked(forge.kind, url)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "warning FO506" in out and code == 0 and forge.requests == [], out + err


# URLs urlsplit refuses -----------------------------------------------------------------------

UNREADABLE = ["https://github.com\uff03x/owner/flags/issues/1", "https://[::1/owner/flags/issues/1"]
"""URLs a flag file may hold (https, a host, no space) that urlsplit refuses with ValueError:
a host NFKC turns into one holding `#`, an IPv6 bracket never closed."""


@pytest.mark.parametrize("url", UNREADABLE)
def test_a_link_urlsplit_refuses_is_fo506_not_an_internal_error(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    root = tree(tmp_path, forge.kind, {"demo": _linked(forge.kind, url)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "internal error" not in err and code == 0, err
    assert "warning FO506" in out and forge.requests == [], out + err
    repo, base, _ = _off_then_staging(forge, tmp_path / "announce")
    repo.write("flags/demo.yml", _linked(forge.kind, url, stage="staging"))
    repo.commit("url", at=int(time.time()) - 60)
    code, _, err = run(repo.path, "announce", "--base", base, capsys=capsys)
    assert "internal error" not in err and code == 1, err
    assert "is not an issue on a known tracker" in err and len(err.strip().splitlines()) == 1


def test_a_tracker_urlsplit_refuses_is_one_line(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)},
                tracker=False)
    (root / "pyproject.toml").write_text('[tool.flagops]\ntracker = "https://[::1/group/flags"\n',
                                         encoding="utf-8")
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert "internal error" not in err and code == 1, err
    assert "is no URL a client can read" in err and forge.requests == [], err


@pytest.mark.parametrize("api", ["http://[::1/api", "http://127.0.0.1:abc/api",
                                 "http://127.0.0.1:99999/api", "ftp://127.0.0.1/api", "api"])
def test_an_api_url_no_client_can_use_is_one_warning(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, api: str) -> None:
    # PyGithub asserted the scheme, read None's attributes, and urlsplit raised on the port:
    # internal errors (exit 3) from a CI variable set wrong.
    variable = "GITHUB_API_URL" if forge.kind == "github" else "CI_API_V4_URL"
    monkeypatch.setenv(variable, api)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "internal error" not in err and code == 0, err
    assert out.count("FO505") == 1 and f"{variable}: {api} is not the http(s) URL of an API" \
        in out, out + err


# the token in the server's own words --------------------------------------------------------

@pytest.mark.parametrize("status", [400, 422])
def test_a_token_the_server_echoes_is_in_no_line_and_no_report(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int) -> None:
    # A proxy's or firewall's error page may echo the request's headers; its text went into
    # the FO505 line as it was, and so into report files (SARIF here), which no CI masks.
    echo = f"Bad request. Authorization: token {TOKEN}; PRIVATE-TOKEN: {TOKEN}"
    forge.faults.append(Fault(status, body={"message": echo}))
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1)})
    report = tmp_path / "report.sarif"
    code, out, err = run(root, "validate", "--check-links", "--format", "sarif", "--output",
                         str(report), capsys=capsys)
    shown = out + err + report.read_text(encoding="utf-8")
    assert code == 0 and "FO505" in shown and "[token]" in shown, shown
    assert TOKEN not in shown and TOKEN[:12] not in shown


def test_a_token_in_an_opened_issues_url_is_not_shown(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    key = "html_url" if forge.kind == "github" else "web_url"
    forge.faults.append(Fault(201, body={key: f"https://elsewhere.example/?t={TOKEN}"},
                              method="POST"))
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and "no issue on" in err and "[token]" in err, err
    assert TOKEN not in err


@pytest.mark.parametrize("url", ["{home}/{item}/2?t={token}", "{home}/{item}/2#{token}",
                                 "https://{token}@{host}/{project}/{item}/2/"])
def test_an_opened_issues_url_is_written_from_its_parts_without_the_token(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    # The answer's URL, on the tracker's host, was printed and written into the flag file as
    # it was: a token in its query, fragment or login went to the job log and into git.
    host = "github.com" if forge.kind == "github" else "gitlab.com"
    item = "issues" if forge.kind == "github" else "-/issues"
    project = PROJECT[forge.kind]
    url = url.format(home=f"https://{host}/{project}", host=host, project=project, item=item,
                     token=TOKEN)
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    key = "html_url" if forge.kind == "github" else "web_url"
    forge.faults.append(Fault(201, body={"number": 2, "iid": 2, "state": "open", key: url},
                              method="POST"))
    code, out, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    written = (root / "flags" / "demo.yml").read_text(encoding="utf-8")
    assert code == 0 and f"opened {test_trackers.issue_url(forge.kind, 2)}\n" in out, out + err
    assert f"rollout_issue_url: {test_trackers.issue_url(forge.kind, 2)}\n" in written
    assert TOKEN not in out + err + written


def test_an_opened_issue_of_another_project_on_the_host_is_refused(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    host = "github.com" if forge.kind == "github" else "gitlab.com"
    item = "issues" if forge.kind == "github" else "-/issues"
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=None)})
    before = (root / "flags" / "demo.yml").read_bytes()
    key = "html_url" if forge.kind == "github" else "web_url"
    forge.faults.append(Fault(201, body={
        "number": 9, "iid": 9, "state": "open",
        key: f"https://{host}/someone-else/unrelated/{item}/9"}, method="POST"))
    code, _, err = run(root, "issue", "rollout", "demo", "--create", capsys=capsys)
    assert code == 1 and f"which is no issue on {host} in {PROJECT[forge.kind]}" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert (root / "flags" / "demo.yml").read_bytes() == before


def test_a_netrc_entry_for_the_api_does_not_replace_the_token(
        forge: Forge, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # requests puts a ~/.netrc login for the host over a session's requests unless the
    # session sets its own auth (PyGithub's does; flagops' session, which both now use, must).
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-secret\n",
                     encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    forge.add_issue(PROJECT[forge.kind], 1, state="closed")
    root = tree(tmp_path, forge.kind, {"demo": flag_text(forge.kind, rollout=1, stage="beta")})
    code, out, err = run(root, "validate", "--check-links", capsys=capsys)
    assert "FO504" in out and "FO505" not in out and code == 1, out + err


def test_a_pygithub_that_keeps_its_connections_elsewhere_is_refused_not_trusted() -> None:
    # flagops holds PyGithub to the API's origin by the Requester's connection classes; a
    # PyGithub without them would send through its own, which follow a next page to any
    # subdomain with the token: refused in one line, never a silent fall back.
    from validator.trackers.base import MissingLibrary
    from validator.trackers.github import _send_through

    with pytest.raises(MissingLibrary, match="keeps its connections elsewhere"):
        _send_through(object(), type)
