"""The policy and the gate's own files in a change: the base's policy judges it, a changed
policy applies from the next change on, and files outside flags/ are the gate owners' review.
"""

from __future__ import annotations

from pathlib import Path

from validator import git
from validator.findings import RULES, START, Finding
from validator.git import log as git_log
from validator.landings import policy_at, policy_entry
from validator.lifecycle.milestones import milestone_findings
from validator.policy import DEFAULT_POLICY, PYPROJECT, Policy, PolicyError, load_policy
from validator.staged import outside_flags


def base_entry(root: Path, base: str, changes: list[git.Change]) -> git.Entry | None:
    """pyproject.toml at the base: from the diff when a file there changed, else from the
    base tree (where it may be a folder, which the diff shows as files below it)."""
    for change in changes:
        if change.path == PYPROJECT and change.before is not None:
            return change.before
    return policy_entry(root, base)


def gate_findings(reader: git.BlobReader, root: Path, base: str, changes: list[git.Change],
                  base_policy: Policy) -> tuple[Policy | None, list[Finding]]:
    """The head's policy (None where it cannot be read), and what to say of the change's
    files outside flags/: the policy, the version file, the gate's own files."""
    findings: list[Finding] = []
    head_policy: Policy | None = base_policy
    touched = [change for change in changes
               if change.path == PYPROJECT or change.path.startswith(_BELOW_POLICY)]
    if touched:
        head_policy, said = policy_change(reader, root, _policy_at_head(touched), base_policy)
        findings += said
    if head_policy is not None:
        findings += milestone_findings(root, reader, base, changes, base_policy, head_policy)
    return head_policy, findings + outside_flags([change.path for change in changes])


_BELOW_POLICY = f"{PYPROJECT}/"


def _policy_at_head(touched: list[git.Change]) -> git.Entry | None:
    """pyproject.toml at the head, from the changes of it and below it: a diff lists files,
    so a folder made there shows as files added below it (the file deleted, if there was
    one), and a folder is no policy, not the defaults."""
    if any(change.path != PYPROJECT and change.after is not None for change in touched):
        return git.Entry(PYPROJECT, git.FOLDER_MODE, None)
    return next((change.after for change in touched if change.path == PYPROJECT), None)


def policy_change(reader: git.BlobReader, root: Path, after: git.Entry | None,
                  base_policy: Policy) -> tuple[Policy | None, list[Finding]]:
    """The head's policy (None where it cannot be read: an error, as it would stop every
    later change), and what to say of it: a different one is a warning, as it applies from
    the next change on."""
    try:
        head_policy = DEFAULT_POLICY if after is None else policy_of(reader, root, after)
    except PolicyError as error:
        return None, [error.finding]
    if head_policy == base_policy:
        return head_policy, [RULES["FO303"].at(
            PYPROJECT, START, "this change edits pyproject.toml outside [tool.flagops] (how "
            "flagops is built and installed, where it is the project); it is judged by the "
            "base's gate")]
    changed = sorted(key for key in Policy.model_fields
                     if getattr(head_policy, key) != getattr(base_policy, key))
    return head_policy, [RULES["FO302"].at(
        PYPROJECT, START, f"[tool.flagops] changes {', '.join(changed)}; this change is judged "
        "by the base's policy, and the new one applies from the next change on")]


def policy_of(reader: git.BlobReader, root: Path, entry: git.Entry) -> Policy:
    if entry.oid is None and entry.is_regular:
        return load_policy(root)
    return policy_at(reader, entry, "the head")


def history_rewrites(root: Path, base: str, commits: str | None, policy: Policy,
                     merge_request: bool, *, fast_forward: bool = True) -> list[Finding]:
    """With merge commits required, only the server's merge commits start a soak, so a change
    may carry no merge commit of its author's where the base branch's first-parent line (the
    only line the soak clock reads) would hold it: fast-forwarded, its date would pass for the
    server's. A merge request carries none at all on its first-parent line (the server makes
    its merge); a pushed range may carry the server's merges, each on the first-parent line
    with the previous one (or the base) as its first parent. A merge off that line (inside a
    branch that a server's merge brought in: a merge queue's entry) is on no first-parent line
    the clock reads, and a change that lands as no fast-forward (a GitHub pull request: a
    merge commit, a squash or a rebase, which drops merges) puts none of its own there."""
    if not policy.require_merge_commits or commits is None or not fast_forward:
        return []
    merges = {merge[0]: merge[1:] for merge in git_log.merges_in(root, commits)}
    if not merges:
        return []
    line = git_log.first_parents_in(root, commits)
    allowed: set[str] = set()
    if not merge_request:
        previous = {base}
        for sha in reversed(line):
            parents = merges.get(sha)
            if parents is not None and parents[0] in previous:
                allowed.add(sha)
                previous.add(sha)
    return [RULES["FO213"].at(git.FLAGS_DIR, START, f"merge commit {sha[:12]} was made by "
                              "its author, not by the merge of a merge request; with "
                              "require_merge_commits its date would start a soak: rebase "
                              "instead of merging (git rebase <target> && git push "
                              "--force-with-lease)")
            for sha in reversed(line) if sha in merges and sha not in allowed]
