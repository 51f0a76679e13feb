"""GitHub Actions: pull requests judge the merge into the base branch's current tip; pushes to
the default branch judge the push (`before` from the event's JSON); other pushes are refused.
Any other event that concerns a pull request (pull_request_target, a review, a comment, a
workflow run or check of one) runs on the base branch's tip: it judges the request named in the
event, or is refused, never passes on the base branch's own files.

Variables are GitHub's defaults: GITHUB_EVENT_NAME, GITHUB_BASE_REF (the pull request's base
branch), GITHUB_SHA (for a pull request, the merge commit GitHub made), GITHUB_REF (by its full
name: a tag named like the default branch is not it) and
GITHUB_EVENT_PATH (the event payload: `before`, `repository.default_branch`,
`pull_request.head.sha`). Findings are also
printed as workflow commands, which GitHub shows as annotations on the pull request's diff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from validator.ci.base import NO_COMMIT, Fetch, Job, NothingToJudge

EVENT_FILE: str | None = "GITHUB_EVENT_PATH"
REPORTS = (("junit", "junit.xml"), ("sarif", "flagops.sarif"))
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def job(environ: Mapping[str, str], event: Mapping[str, Any]) -> Job:
    name = environ.get("GITHUB_EVENT_NAME", "")
    head = environ.get("GITHUB_SHA") or "HEAD"
    if name == "pull_request":
        return _pull_request(environ, _request_head(event.get("pull_request")) or head)
    if name == "merge_group":
        return _merge_group(environ, event)
    if _about_a_pull_request(event):
        return _other_request_event(name, environ, event)
    concerned = _carrier_commit(event)
    if concerned is not None and concerned != environ.get("GITHUB_SHA"):
        raise NothingToJudge(f"the {name or 'unknown'} event concerns commit {concerned}, not "
                             "the one checked out, and names no pull request (GitHub lists "
                             "none for a fork's): nothing to judge")
    default = _default_branch(event)
    ref = environ.get("GITHUB_REF", "")  # the full name: a tag `main` is no branch `main`
    if default is None or ref != f"refs/heads/{default}":
        raise NothingToJudge(f"a {name or 'unknown'} event on {ref or 'an unknown ref'}, "
                             f"not a pull request or a push to the branch "
                             f"{default or '(the default branch)'}: no trusted state to judge "
                             "with")
    before = event.get("before") if name == "push" else None
    if isinstance(before, str) and before and before != NO_COMMIT:
        return Job("github", head, before, merged=False, files=REPORTS, annotations=True,
                   describe=f"a push to {default}: {before} → {head}")
    return Job("github", head, None, merged=False, files=REPORTS, annotations=True,
               describe=f"every flag file of this commit of {default} (there is no earlier "
                        "state: a new branch, or a run started by hand)")


def _pull_request(environ: Mapping[str, str], head: str) -> Job:
    target = environ.get("GITHUB_BASE_REF")
    if not target:
        raise NothingToJudge("a pull_request event without GITHUB_BASE_REF: no base to judge "
                             "against")
    ref = f"refs/remotes/origin/{target}"
    return Job("github", head, ref, merged=True, fetch=Fetch("origin", target, ref),
               files=REPORTS, annotations=True,
               describe=f"a pull request into {target}: the merge of {head} into its tip")


CARRIERS = ("workflow_run", "check_suite", "check_run")
"""Events that carry the pull requests they concern in a list (`workflow_run.pull_requests`):
they run on the base branch's tip with its own workflow file, a natural way to run a gate the
request cannot edit."""


def _about_a_pull_request(event: Mapping[str, Any]) -> bool:
    """Does the event concern a pull request (pull_request_target, a review, a comment on
    one, a workflow run, check suite or check run of one)? Such events run on the base
    branch's tip, so taken for a run started by hand there they checked the base branch's
    own files and passed, and the request's check was green whatever it changed. A workflow
    run of a pull request from a fork lists none (GitHub leaves the list empty there), but
    says what started it."""
    issue = event.get("issue")
    run = event.get("workflow_run")
    started_by = run.get("event") if isinstance(run, dict) else None
    return isinstance(event.get("pull_request"), dict) or (
        isinstance(issue, dict) and isinstance(issue.get("pull_request"), dict)) or \
        bool(_carried(event)) or (isinstance(started_by, str)
                                  and started_by.startswith("pull_request"))


def _carried(event: Mapping[str, Any]) -> list[Any]:
    """The pull requests a workflow run, check suite or check run lists (a check run's also
    under its suite)."""
    found: list[Any] = []
    for key in CARRIERS:
        carrier = event.get(key)
        if not isinstance(carrier, dict):
            continue
        suite = carrier.get("check_suite")
        for holder in (carrier, suite if isinstance(suite, dict) else {}):
            listed = holder.get("pull_requests")
            found += listed if isinstance(listed, list) else []
    return found


def _carrier_commit(event: Mapping[str, Any]) -> str | None:
    """The commit a workflow run, check suite or check run is about (`head_sha`), or a
    status or deployment (`sha`), whatever its list of pull requests says: a check of a
    fork's pull request lists none, and a run started by a comment, a status or a push
    elsewhere concerns another commit than the default branch's tip the job checks out."""
    carriers = [(event.get(key), "head_sha") for key in CARRIERS] + [
        (event.get("deployment"), "sha"), (event if "sha" in event else None, "sha")]
    for carrier, key in carriers:
        if carrier is not None:
            found = carrier.get(key) if isinstance(carrier, Mapping) else None
            return found if isinstance(found, str) else repr(found)
    return None


def _merge_group(environ: Mapping[str, str], event: Mapping[str, Any]) -> Job:
    """A merge queue entry: its commit (`head_sha`, checked out) is the request merged onto
    the entries ahead of it (`base_sha`: the branch's tip, or the entry ahead's commit), and
    that is what lands: it is judged from there, by the policy there, as a merge train's
    car is on the car ahead. The entries ahead are judged again from the target's tip: a
    queue that merges a group once its last entry passes (GitHub's "Only merge non-failing
    pull requests" unticked) lands them on this entry's check alone."""
    group = event.get("merge_group")
    head = group.get("head_sha") if isinstance(group, dict) else None
    base = group.get("base_sha") if isinstance(group, dict) else None
    if not (isinstance(head, str) and isinstance(base, str) and OBJECT_ID.fullmatch(head)
            and OBJECT_ID.fullmatch(base)) or head != environ.get("GITHUB_SHA"):
        raise NothingToJudge("a merge_group event without its commit (checked out) and the "
                             "commit it is queued on: nothing to judge")
    target = group.get("base_ref") if isinstance(group, dict) else None
    branch = target.removeprefix("refs/heads/") if isinstance(target, str) else ""
    if not (isinstance(target, str) and target.startswith("refs/heads/") and branch):
        raise NothingToJudge("a merge_group event without the branch it merges into "
                             "(merge_group.base_ref): the entries ahead cannot be judged")
    return Job("github", head, base, merged=False, files=REPORTS, annotations=True,
               describe=f"a merge queue entry: {base} → {head}",
               fetch=Fetch("origin", branch, QUEUE_TARGET), queued_on=QUEUE_TARGET)


QUEUE_TARGET = "refs/flagops/queue-target"
"""Where a merge queue's target branch is fetched to (never one of the clone's own refs)."""


def _other_request_event(name: str, environ: Mapping[str, str],
                         event: Mapping[str, Any]) -> Job:
    """A pull request event other than `pull_request` is judged as one when the event names
    the request's head and base (one request: a check suite of a commit two requests share
    names both, and which one this run is about cannot be told); GITHUB_SHA is the base
    branch's tip there, never the request, so without them nothing is judged."""
    request = event.get("pull_request")
    if not isinstance(request, dict):
        carried = _carried(event)
        request = carried[0] if len({_identity(each) for each in carried}) == 1 else None
    base = request.get("base") if isinstance(request, dict) else None
    target = environ.get("GITHUB_BASE_REF") or (
        base.get("ref") if isinstance(base, dict) else None)
    head = _request_head(request)
    if head is None or not isinstance(target, str) or not target:
        raise NothingToJudge(f"the {name or 'unknown'} event concerns a pull request but does "
                             "not name one head commit and base branch: nothing to judge (run "
                             "flagops ci github on pull_request events)")
    return _pull_request({**environ, "GITHUB_BASE_REF": target}, head)


def _identity(request: Any) -> str:
    """A carried request as it differs from another: its number, head and base."""
    return repr(request) if not isinstance(request, dict) else repr(
        (request.get("number"), request.get("head"), request.get("base")))


def _request_head(request: Any) -> str | None:
    """The pull request's own head commit. GITHUB_SHA is the merge commit GitHub made of it:
    judged as the head, that merge would count as the author's (FO213 with
    require_merge_commits), as GitLab's merged results pipelines would without their source
    commit."""
    head = request.get("head") if isinstance(request, dict) else None
    sha = head.get("sha") if isinstance(head, dict) else None
    return sha if isinstance(sha, str) and OBJECT_ID.fullmatch(sha) else None


def _default_branch(event: Mapping[str, Any]) -> str | None:
    repository = event.get("repository")
    found = repository.get("default_branch") if isinstance(repository, dict) else None
    return found if isinstance(found, str) and found else None
