"""The one shape every CI host's decision takes: what to fetch, which range to judge, where the
reports go. Values only."""

from __future__ import annotations

from dataclasses import dataclass

from validator.errors import UsageError

NO_COMMIT = "0" * 40
"""What GitLab and GitHub give as the commit before a push that created the branch."""
PLAN_FILE = "flagops-plan.md"


class NothingToJudge(UsageError):
    """The pipeline has no trusted state to judge the change with: refused, exit 2."""


@dataclass(frozen=True, slots=True)
class Fetch:
    """`git fetch <remote> +refs/heads/<branch>:<ref>`: the target branch, from its project."""

    remote: str
    branch: str
    ref: str

    @property
    def refspec(self) -> str:
        return f"+refs/heads/{self.branch}:{self.ref}"


@dataclass(frozen=True, slots=True)
class Job:
    """One pipeline's judgement. `base` None: there is no earlier state, so every flag file of
    the checkout is checked (a first pipeline, one started by hand)."""

    host: str
    head: str
    base: str | None
    merged: bool
    describe: str
    fetch: Fetch | None = None
    notes: tuple[str, ...] = ()
    comment: bool = False
    files: tuple[tuple[str, str], ...] = ()
    """(report format, file) pairs, beside the text report on the terminal."""
    annotations: bool = False
    """Also print the findings as GitHub workflow commands (annotations on the diff)."""
    lands_on: str | None = None
    """The commit that lands when that is not the merge into the target's tip: a merge train's
    commit, whose first parent holds the cars ahead; the request is judged merged into that
    parent too."""
    queued_on: str | None = None
    """A merge queue entry's target branch as fetched (`fetch.ref`): the entries ahead, from its
    tip to `base`, are judged again, since a queue may merge a group once its last entry
    passes."""
