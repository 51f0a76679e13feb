"""GitLab CI: merge request pipelines judge the merge into the target's current tip; pipelines
of the default branch judge the push; other branches have no trusted state and are refused.

The variables are GitLab's predefined ones (CI_MERGE_REQUEST_TARGET_BRANCH_NAME,
CI_COMMIT_BEFORE_SHA, ...). A merge request pipeline that runs in a fork (CI_PROJECT_ID differs
from CI_MERGE_REQUEST_PROJECT_ID) fetches the target from the upstream project, never the fork.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from validator.ci.base import NO_COMMIT, Fetch, Job, NothingToJudge

EVENT_FILE: str | None = None
REPORTS = (("codequality", "gl-code-quality-report.json"), ("junit", "junit.xml"))
FORK_NOTE = ("this pipeline runs in the fork, with the fork's .gitlab-ci.yml; only a pipeline "
             "in the target project counts for the gate")


def job(environ: Mapping[str, str], event: Mapping[str, Any]) -> Job:
    head = environ.get("CI_COMMIT_SHA") or "HEAD"
    target = environ.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    if target:
        return _merge_request(environ, target, head)
    default = environ.get("CI_DEFAULT_BRANCH")
    if default and environ.get("CI_COMMIT_BRANCH") != default:
        raise NothingToJudge(f"neither a merge request nor a {default} pipeline: no trusted "
                             "state to judge with "
                             f"({environ.get('CI_COMMIT_REF_NAME') or 'this ref'})")
    before = environ.get("CI_COMMIT_BEFORE_SHA")
    if before and before != NO_COMMIT:
        return Job("gitlab", head, before, merged=False, files=REPORTS,
                   describe=f"a push to {default or 'the default branch'}: {before} → {head}")
    return Job("gitlab", head, None, merged=False, files=REPORTS,
               describe="every flag file of this commit (there is no earlier state: a first "
                        "pipeline, or one started by hand or on a schedule)")


def _merge_request(environ: Mapping[str, str], target: str, head: str) -> Job:
    notes: tuple[str, ...]
    remote, notes = "origin", ()
    upstream = environ.get("CI_MERGE_REQUEST_PROJECT_URL")
    if upstream and environ.get("CI_MERGE_REQUEST_PROJECT_ID", "") != \
            environ.get("CI_PROJECT_ID", ""):  # a pipeline in the fork: origin is the fork
        remote, notes = f"{upstream}.git", (FORK_NOTE,)
    ref = f"refs/remotes/origin/{target}"
    source = environ.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
    kind = environ.get("CI_MERGE_REQUEST_EVENT_TYPE")
    lands_on = None
    if source and kind in ("merged_result", "merge_train"):
        # A merged results pipeline checks out GitLab's own merge commit of the request; the
        # request's commits are its source, merged into the tip here as GitLab merged them.
        # A merge train's commit merges it into the car ahead (its first parent: the tip and
        # the requests ahead), and that is what lands: the merge into it is judged too.
        if kind == "merge_train" and environ.get("CI_COMMIT_SHA"):
            lands_on = environ["CI_COMMIT_SHA"]
        head = source
    return Job("gitlab", head, ref, merged=True, fetch=Fetch(remote, target, ref), notes=notes,
               comment=bool(environ.get("FLAGOPS_GITLAB_TOKEN")), files=REPORTS,
               lands_on=lands_on,
               describe=f"a merge request into {target}: the merge of {head} into its tip")
