"""`flagops ci gitlab|github`: the CI job itself, shipped with the package rather than copied.

The host module decides from the CI variables what this pipeline judges (`validator/ci/`); this
command does the I/O: fetch the target branch, judge the range with the base's policy, print and
write the plan and the reports, keep the plan as a merge request note when a token allows it.
Which flagops runs is the pipeline's choice, never the change's: teams pin the package in their
CI file (CODEOWNERS guards it), and this repository installs the target branch's own copy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from validator import git
from validator.ci import Host, host
from validator.ci.base import PLAN_FILE, Job, NothingToJudge
from validator.errors import UserError
from validator.findings import Finding, Severity, errors
from validator.output import atomic_write, emit
from validator.policy import load_policy
from validator.reports import Report, renderer
from validator.reports.escape import escape
from validator.tree import check_tree, report_of


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    chosen = host(args.host)
    job = chosen.job(os.environ, _event(chosen, os.environ))
    for note in job.notes:
        _say(job, note)
    if job.fetch is not None:
        _fetch(root, job)
    if job.base is not None and not _is_commit(root, job.base):
        raise NothingToJudge(f"{job.base} is not a commit in this clone (a force push, or a "
                             "shallow clone: fetch the whole history)")
    if job.lands_on is not None and not _is_commit(root, job.lands_on):
        raise NothingToJudge(f"the merge train's commit {job.lands_on} is not a commit in this "
                             "clone: what lands cannot be judged")
    _say(job, f"judging {job.describe}")
    report = _judge(root, job, out, int(time.time())) if job.base is not None else \
        report_of(check_tree(root, load_policy(root), []), root)
    emit(report, [("text", None), *[(name, str(root / path)) for name, path in job.files]], out)
    if job.annotations:
        out.write(renderer("github")(report))
    return 1 if report.errors else 0


def _judge(root: Path, job: Job, out: TextIO, now: int) -> Report:
    """The range, compared once: its plan (terminal, flagops-plan.md, the merge request note,
    GitHub's job summary) and its report, every flag file at head checked too. Both
    judgements, the tip's and the merge train's, are as of the one clock `now`."""
    from validator.compare import RangeRequest, compare
    from validator.plan import plan, to_markdown

    assert job.base is not None
    github_pull_request = job.host == "github" and job.merged
    comparison = compare(root, RangeRequest(job.base, job.head, merged=job.merged,
                                            all_files=True, rebase_merge=job.host != "gitlab",
                                            fast_forward=not github_pull_request), now=now)
    markdown = to_markdown(plan(comparison.before, comparison.after, comparison.findings,
                                comparison.policy), comparison.label)
    out.write(markdown)
    atomic_write(root / PLAN_FILE, markdown, root=root)
    if job.comment:
        _comment(markdown)
    _step_summary(os.environ.get("GITHUB_STEP_SUMMARY"), markdown)
    report = comparison.report()
    if job.queued_on is not None:
        report = report._replace(findings=[*report.findings, *_entries_ahead(root, job, now)])
    if job.lands_on is None:
        return report
    return report._replace(findings=[*report.findings,
                                     *_where_it_lands(root, job, report, now)])


def _entries_ahead(root: Path, job: Job, now: int) -> list[Finding]:
    """The errors of each merge queue entry ahead of this one, judged again: each commit of
    the queue's first-parent line from the target's tip to `base` on its first parent, as it
    lands when the queue fast-forwards the target (a rebase method's entry is several
    commits, each one a landing). A queue that merges a group once its last entry passes
    would otherwise land an entry whose own check failed on this one's; where every entry
    must pass, this repeats their judgements. A `base` whose first-parent line does not start
    at the target's tip is no queue of that target: refused."""
    from validator.compare import RangeRequest, compare
    from validator.git import log as git_log

    assert job.queued_on is not None and job.base is not None
    tip, base = git.resolve(root, job.queued_on), git.resolve(root, job.base)
    ahead = git_log.first_parents_in(root, f"{tip}..{base}")
    starts_at_tip = git.commit_of(root, f"{ahead[-1]}^1") == tip if ahead else tip == base
    if not starts_at_tip:
        raise NothingToJudge(f"the merge queue's entries ahead ({base}) do not start at the "
                             f"tip of the branch it merges into ({tip}): it moved, and the "
                             "queue is built again")
    found: list[Finding] = []
    for commit in reversed(ahead):
        judged = compare(root, RangeRequest(f"{commit}^1", commit), now=now)
        found += [finding._replace(message=f"an entry ahead in the merge queue "
                                           f"({commit[:12]}): {finding.message}")
                  for finding in errors(judged.findings)]
    return found


def _comment(markdown: str) -> None:
    """The plan kept on the merge request, if the tracker takes it: the note is for people,
    the verdict and the reports are the gate's, so a tracker down or a token expired is a
    warning line and never holds up a merge request (a rollback in an incident least of all)."""
    from validator.trackers.review import publish_plan

    try:
        said = publish_plan(markdown, os.environ)
    except UserError as error:
        said = f"warning: the plan was not kept on the merge request: {escape(str(error))}"
    print(f"flagops: {said}", file=sys.stderr)


def _where_it_lands(root: Path, job: Job, report: Report, now: int) -> list[Finding]:
    """What the merge train's commit lands, judged as well: what is judged against the tip
    alone misses what the requests ahead bring (the same new flag in two folders). The car
    ahead is found by `git.rebased.landing`: the first parent of a train's merge, or below
    the request's commits in a fast-forward train. Either way the request is judged on the
    car ahead, by its policy (a freeze or `allow_overrides = false` it brings). A train
    commit that is the request itself needed no rebase: it holds whatever cars ahead it
    carries (a request stacked on one), so it is judged from the tip by its own policy as
    well as by the tip's. Only findings the tip's judgement has not made, or made as
    warnings only, are added, so neither judgement loosens the other: the tip's soak clock
    still holds (the cars ahead have not landed yet), and an error where the car ahead's
    rules put it stays one. The request's own commits' trailers count where it lands: a
    squash's message is the squash template's, and dropped the override its pipeline passed."""
    from validator.compare import RangeRequest, compare
    from validator.git.rebased import landing
    from validator.lifecycle.reads import policy_of

    assert job.lands_on is not None and job.base is not None
    lands = git.resolve(root, job.lands_on)  # a commit (run checked): no option, no range
    tip, head = git.resolve(root, job.base), git.resolve(root, job.head)
    if lands == head:
        _say(job, "the merge train's commit is the request itself: judged from the target's "
                  "tip by the policy it lands with too")
        landed = compare(root, RangeRequest(tip, head, all_files=True), now=now,
                         policy=policy_of(root, head))
        return _beyond(report.findings, landed.findings)
    found = landing(root, tip, head, lands)
    if found is None:
        raise UserError(f"the merge train's commit {job.lands_on} neither merges the request "
                        "into a car ahead nor holds its commits on one that descends from the "
                        f"target's tip {job.base}: what lands cannot be told, so nothing "
                        "passes")
    _say(job, f"judging it also where it lands: {job.lands_on}, on {found.ahead}, the "
              "target's tip with the merge train's requests ahead of it")
    request = RangeRequest(found.ahead, found.judged, merged=found.merged, all_files=True,
                           rebase_merge=False, trailers_from=f"{tip}..{head}")
    return _beyond(report.findings, compare(root, request, now=now).findings)


def _beyond(known: Sequence[Finding], more: Sequence[Finding]) -> list[Finding]:
    """The findings of `more` that `known` has not made at their severity: one with the same
    path, rule and flag that is a warning in `known` (an override the tip's policy allows)
    and an error in `more` (the car ahead's policy forbids it) is added, as an error."""
    erred: dict[tuple[str, str, str | None], bool] = {}
    for finding in known:
        key = (finding.path, finding.rule, finding.flag)
        erred[key] = erred.get(key, False) or finding.severity is Severity.ERROR
    return [finding for finding in more
            if (key := (finding.path, finding.rule, finding.flag)) not in erred
            or (finding.severity is Severity.ERROR and not erred[key])]


def _event(chosen: Host, environ: Mapping[str, str]) -> Mapping[str, Any]:
    """The event's JSON (GitHub: GITHUB_EVENT_PATH), or nothing for hosts without one."""
    name = chosen.EVENT_FILE
    path = environ.get(name) if name else None
    if not path:
        return {}
    from validator.config_file import event_object

    return event_object(Path(path), f"{name} ({path})")


def _fetch(root: Path, job: Job) -> None:
    assert job.fetch is not None
    try:
        git.fetch(root, job.fetch.remote, job.fetch.refspec)
    except git.GitError as error:
        raise NothingToJudge(f"cannot fetch {job.fetch.branch} from the target project: "
                             f"{error}") from None


def _is_commit(root: Path, ref: str) -> bool:
    try:
        return git.object_type(root, f"{ref}^{{commit}}") == "commit"
    except (git.NotARepository, git.RepositoryRefused):
        raise
    except git.GitError:
        return False


def _step_summary(path: str | None, markdown: str) -> None:
    """GitHub Actions shows what a step appends to this file on the run's summary page."""
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(markdown + "\n")
    except OSError as error:
        raise UserError(f"cannot write GITHUB_STEP_SUMMARY ({path}): "
                        f"{error.strerror or error}") from None


def _say(job: Job, text: str) -> None:
    print(f"flagops ci {job.host}: {escape(text)}", file=sys.stderr)
